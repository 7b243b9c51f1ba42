"""Is A better than B? How often the head-to-head comparison of show_result --compare is right.

    python bench/compare_sim.py [--replicates 300] [--questions 500] [--rounds 200] [--unit question] [--seed 0]

Draws benchmarks from the generative model of bench/coverage_sim.py (itself
that of ../shared/tools/synth_bench.py, vectorised) with known strengths:
two pairs of models of equal true strength, and one pair whose true win
rates against the baseline differ by 3 points. Each replicate is ranked as
show_result ranks it (utils.ranking.methods.v01.compute_leaderboard) and the
pairs are compared as --compare compares them (utils.ranking.comparison).
It reports:

* for the equal pairs, how often the paired interval of the difference
  contains 0 (at 95 %, the target is 92-98 %);
* for the 3-point pair, how often the comparison calls the difference
  significant (its interval excludes 0), against how often the two models'
  own intervals do not overlap (the rule of separability). The paired
  interval keeps what the two scores share, so it should say "significant"
  more often than the intervals separate;
* how often the 3-point pair's interval contains the true difference.

The truth is the limit of the plain fit (see coverage_sim.py); with no
length effect it is exact, a normal tail area per verdict. Equal true
strengths have a true difference of exactly 0.
"""
from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for path in (ROOT, ROOT / "bench"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from coverage_sim import Generator  # noqa: E402
from utils.ranking.comparison import compare_board  # noqa: E402
from utils.ranking.methods.v01 import compute_leaderboard  # noqa: E402
from utils.ranking.settings import RunSettings  # noqa: E402
from utils.ranking.quality import overlap  # noqa: E402

EQUAL_PAIRS = (("m1", "m2"), ("m3", "m4"))
APART = ("m6", "m5")  # m6 is 3 points better than m5
TRUE_DIFFERENCE = 3.0


def true_win_rate(strength: float) -> float:
    """The plain fit's limit (%) for a model of ``strength`` against the baseline, without a length effect."""
    return float(Generator(2, 0, length_beta=0.0, strength=[0.0, strength], verbosity=[0.0, 0.0])
                 .exact_win_rates(samples=4)[1])


def strength_for(win_rate: float) -> float:
    """The strength whose true win rate is ``win_rate`` (%), by bisection (the win rate grows with the strength)."""
    lo, hi = -4.0, 4.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if true_win_rate(mid) < win_rate else (lo, mid)
    return (lo + hi) / 2


def generator(seed: int) -> tuple[Generator, np.ndarray]:
    """The simulated benchmark's model (baseline m0, then m1..m6) and the true win rates of m0..m6, in %."""
    base5 = 0.3
    m6 = strength_for(true_win_rate(base5) + TRUE_DIFFERENCE)
    strength = np.array([0.0, 0.0, 0.0, -0.8, -0.8, base5, m6])
    gen = Generator(len(strength), seed, length_beta=0.0, strength=strength, verbosity=np.zeros(len(strength)))
    return gen, np.array([true_win_rate(s) for s in strength])


@dataclass
class Outcome:
    replicates: int
    equal_contains_zero: float  # share of equal-pair comparisons whose interval contains 0
    equal_comparisons: int
    significant: float  # share of replicates in which the 3-point pair is called significant
    apart_intervals: float  # ... in which its two intervals do not overlap
    covers_truth: float  # ... in which its interval contains the true difference
    mean_diff: float  # mean of its estimated difference
    true_diff: float


def simulate(replicates: int, questions: int, rounds: int, unit: str = "question", seed: int = 0,
             confidence: float = 95.0) -> Outcome:
    """Rank ``replicates`` simulated benchmarks of ``questions`` questions and compare the pairs in each."""
    gen, truth = generator(seed)
    rng = np.random.default_rng(seed + 1)
    equal_hits, significant, apart, covers, diffs = [], [], [], [], []
    true_diff = truth[6] - truth[5]
    for rep in range(replicates):
        battles = gen.battles(questions, rng)
        board = compute_leaderboard(battles, RunSettings(baseline="m0", rounds=rounds, seed=rep, bootstrap_unit=unit,
                                                         confidence=confidence))
        *equal, far = compare_board(board, [*EQUAL_PAIRS, APART], estimate_needed=False)
        equal_hits += [c.lower <= 0 <= c.upper for c in equal]
        significant.append(far.significant)
        a, b = board.row(APART[0]), board.row(APART[1])
        apart.append(not overlap((a.lower, a.upper), (b.lower, b.upper)))
        covers.append(far.lower <= true_diff <= far.upper)
        diffs.append(far.diff)
    return Outcome(replicates, float(np.mean(equal_hits)), len(equal_hits), float(np.mean(significant)),
                   float(np.mean(apart)), float(np.mean(covers)), float(np.mean(diffs)), float(true_diff))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicates", type=int, default=300)
    ap.add_argument("--questions", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=200)
    ap.add_argument("--unit", choices=("question", "battle"), default="question", help="the bootstrap unit")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    started = time.perf_counter()
    out = simulate(a.replicates, a.questions, a.rounds, a.unit, a.seed)
    n = out.equal_comparisons
    se = np.sqrt(out.equal_contains_zero * (1 - out.equal_contains_zero) / n)
    print(f"{a.replicates} replicates x {a.questions} questions, {a.rounds} rounds, {a.unit} unit "
          f"({time.perf_counter() - started:.0f} s)")
    target = "ok" if 0.92 <= out.equal_contains_zero <= 0.98 else "MISSED"
    print(f"equal true strength: the 95 % interval of the difference contains 0 in "
          f"{100 * out.equal_contains_zero:.1f} % (+-{100 * se:.1f}) of {n} comparisons (target 92-98 %: {target})")
    print(f"true difference {out.true_diff:.2f} points (mean estimate {out.mean_diff:.2f}):")
    print(f"  head-to-head says significant          in {100 * out.significant:5.1f} % of replicates")
    print(f"  the two intervals do not overlap        in {100 * out.apart_intervals:5.1f} % of replicates")
    print(f"  the interval contains the true difference in {100 * out.covers_truth:5.1f} % of replicates")


if __name__ == "__main__":
    main()
