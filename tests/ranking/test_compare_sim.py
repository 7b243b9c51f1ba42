"""The head-to-head comparison on simulated benchmarks of known strengths (bench/compare_sim.py, called directly).

Equal true strengths: the paired 95 % interval of the difference must contain 0
in 92-98 % of the comparisons. A true difference of 3 points on 500 questions:
the comparison must call it significant more often than the two models' own
intervals fail to overlap, since the paired interval keeps what the two scores
share. Whole questions are resampled (--bootstrap-unit question): single-battle
resampling makes every interval too narrow (bench/coverage_sim.py). 200
bootstrap rounds per replicate are enough for 2.5th and 97.5th percentiles;
300 seeded replicates keep the run around half a minute.
"""
from __future__ import annotations

import pytest

from tests.helpers import bench_script


@pytest.mark.slow
def test_paired_intervals_hold_zero_for_equal_models_and_find_a_3_point_difference_more_often():
    out = bench_script("compare_sim").simulate(replicates=300, questions=500, rounds=200, unit="question", seed=0)
    print(f"equal strengths: 0 inside the interval in {out.equal_contains_zero:.1%} of {out.equal_comparisons}; "
          f"3 points apart: significant in {out.significant:.1%}, intervals apart in {out.apart_intervals:.1%}, "
          f"true difference inside in {out.covers_truth:.1%} of {out.replicates} replicates")
    assert out.true_diff == pytest.approx(3.0, abs=1e-6)
    assert 0.92 <= out.equal_contains_zero <= 0.98
    assert out.significant > out.apart_intervals
    assert 0.90 <= out.covers_truth <= 0.99
