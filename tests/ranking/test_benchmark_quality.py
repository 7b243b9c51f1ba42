"""Benchmark quality: separability, agreement with a reference, pair-rank Brier score, rank correlations.

The small cases are worked out by hand in the comments; the expected values are
written as the arithmetic of that hand count. The last tests run show_result.py
on extracts of the real judgments and of a synthetic benchmark in ../shared (tests/fixtures) and check the
command on its output.
"""
from __future__ import annotations

import json
import random
from statistics import NormalDist

import pytest
from scipy import stats

from tests.helpers import read_jsonl, results_file, run_script, unpack, write_jsonl
from utils.ranking.bootstrap_file import read_bootstrap, read_reference
from utils.ranking.quality import (agreement_with_confidence, evaluate, kendall, overlap, pair_rank_brier, prob_ranks_below,
                                   separability, separated, spearman, strict_agreement)

KEYS = {"n_models", "n_pairs", "separability", "agreement_with_confidence", "strict_agreement", "brier", "spearman",
        "kendall"}

# ---------------------------------------------------------------- the overlap rule and separability


def test_overlap_rule_touching_intervals_are_apart_and_a_point_inside_overlaps():
    assert not overlap((10, 20), (20, 30))  # 20 < 20 fails: touching is not overlapping
    assert overlap((25, 25), (20, 30))  # the baseline's zero-width interval inside another one
    assert overlap((20, 30), (25, 25))
    assert not overlap((31, 31), (20, 30))
    assert not overlap((50, 50), (50, 50))  # the rule as stated: two points never overlap, even equal ones


def test_separability_four_models_by_hand():
    intervals = {"a": (10, 20), "b": (20, 30), "c": (25, 25), "d": (5, 15)}
    # c is the baseline, its point exact. a-b touch: apart; a-c apart; a-d overlap (10 < 15 and 5 < 20);
    # b-c: c's point lies inside b: overlap; b-d apart (20 < 15 fails); c-d apart
    share, pairs = separability(intervals, exact={"c"})
    assert pairs == 4 * 3 // 2
    assert share == 4 / 6


def test_zero_width_intervals_separate_no_pair_but_the_baselines_exact_50():
    # an always-A judge: every model at 50 in every bootstrap round, the baseline too
    assert separability({"a": (50, 50), "b": (50, 50), "base": (50, 50)}, exact={"base"}) == (0.0, 3)
    # a model that wins every game: a point at 100, which tells it from nothing, not even the baseline
    assert separability({"sweeper": (100, 100), "base": (50, 50)}, exact={"base"}) == (0.0, 1)
    # a measured interval above the baseline's exact 50, and two points apart from each other
    assert separability({"m": (60, 70), "base": (50, 50)}, exact={"base"}) == (1.0, 1)
    assert separability({"m": (60, 70), "base": (50, 50)}) == (0.0, 1)  # nothing said exact: a point like any


def test_separability_with_fewer_than_two_models_is_undefined_not_a_crash():
    assert separability({}) == (None, 0)
    assert separability({"only": (1, 2)}) == (None, 0)


# ---------------------------------------------------------------- agreement with a reference

# reference: a > b > c > d; it separates a-b (35 < 35 fails), a-c, a-d, b-d, but not b-c nor c-d
REFERENCE = {"a": (40, 35, 45), "b": (30, 25, 35), "c": (20, 10, 28), "d": (10, 0, 12)}
# ours: a-b overlap, c is confidently above a (the wrong way), d confidently last
OURS = {"a": (50, 45, 55), "b": (40, 30, 46), "c": (60, 56, 64), "d": (10, 5, 15)}


def test_agreement_with_confidence_by_hand():
    score, pairs = agreement_with_confidence(OURS, REFERENCE)
    assert pairs == 4  # a-b, a-c, a-d, b-d
    # a-b: ours overlap -> 0.5; a-c: ours apart, opposite order -> 0; a-d and b-d: apart, same order -> 1 each
    assert score == (0.5 + 0 + 1 + 1) / 4


def test_agreement_with_confidence_without_confident_reference_pairs_is_undefined():
    wide = {m: (p, 0, 100) for m, (p, _, _) in REFERENCE.items()}
    assert agreement_with_confidence(OURS, wide) == (None, 0)


def test_strict_agreement_and_rank_correlations_by_hand():
    ours = {m: v[0] for m, v in OURS.items()}
    ref = {m: v[0] for m, v in REFERENCE.items()}
    share, pairs = strict_agreement(ours, ref)
    # same order: a-b, a-d, b-d, c-d; reversed: a-c, b-c
    assert (share, pairs) == (4 / 6, 6)
    names = sorted(ours)
    x, y = [ours[m] for m in names], [ref[m] for m in names]
    # ranks ours a3 b2 c4 d1, reference a4 b3 c2 d1: d = 1, 1, -2, 0; sum of d^2 = 6
    assert spearman(x, y) == 1 - 6 * 6 / (4 * (4 ** 2 - 1))
    # 4 concordant, 2 discordant pairs, no ties
    assert kendall(x, y) == (4 - 2) / 6


def test_rank_correlations_with_ties_and_constant_input():
    # ours ties a and b; ranks ours a1.5 b1.5 c3, reference a1 b2 c3
    # Pearson of the ranks: means 2; deviations (-.5, -.5, 1) and (-1, 0, 1): 1.5 / sqrt(1.5 * 2)
    assert spearman([1, 1, 2], [1, 2, 3]) == 1.5 / (1.5 * 2) ** 0.5
    # tau-b: concordant a-c, b-c = 2; discordant 0; ties in x 1, in y 0; 2 / sqrt((3 - 1) * 3)
    assert kendall([1, 1, 2], [1, 2, 3]) == 2 / (2 * 3) ** 0.5
    assert spearman([5, 5, 5], [1, 2, 3]) is None
    assert kendall([5, 5, 5], [1, 2, 3]) is None


def test_rank_correlations_agree_with_scipy_on_random_inputs_with_ties():
    rng = random.Random(7)
    for _ in range(30):
        n = rng.randint(3, 12)
        x = [rng.randint(0, 5) for _ in range(n)]
        y = [rng.randint(0, 5) for _ in range(n)]
        if len(set(x)) < 2 or len(set(y)) < 2:
            continue
        assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
        assert kendall(x, y) == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)


# ---------------------------------------------------------------- the pair-rank Brier score


def test_probability_of_ranking_below_uses_the_normal_cdf():
    # variances 0.5 + 0.5 give a spread of 1; A sits 1.959964 above B, so P(A below B) = Phi(-1.96) = 0.025
    assert prob_ranks_below(0.0, 0.5, -1.959963984540054, 0.5) == pytest.approx(0.025, abs=1e-12)
    assert prob_ranks_below(3.0, 2.0, 3.0, 1.0) == 0.5
    # no spread at all (two baselines' zero-width bootstraps): certain, either way
    assert prob_ranks_below(10.0, 0.0, 20.0, 0.0) == 1.0
    assert prob_ranks_below(20.0, 0.0, 10.0, 0.0) == 0.0


def test_pair_rank_brier_by_hand_with_a_reference_tie():
    ours = {"x": (10.0, 0.0), "y": (20.0, 0.0), "z": (20.0, 0.0), "w": (30.0, 0.0)}
    ref = {"x": 1, "y": 3, "z": 2, "w": 2}  # z and w tie in the reference
    brier, pairs = pair_rank_brier(ours, ref)
    assert pairs == 6
    # both orientations of every pair, 12 terms:
    # x-y, x-z, x-w: P(x below) = 1, reference agrees: 0 each way (6 terms of 0)
    # y-z: equal means and no spread, P = 0.5 each way; the reference orders them: 0.25 each way
    # y-w: P(y below w) = 1 but the reference puts y above w: 1 each way
    # z-w: P(z below w) = 1, target 0 (tie): 1; P(w below z) = 0, target 0: 0
    assert brier == (6 * 0 + 2 * 0.25 + 2 * 1 + 1 + 0) / 12


def test_pair_rank_brier_with_spread():
    spread = 0.5  # each variance; the two sum to 1
    p = NormalDist().cdf(-1.0)  # A one point above B
    brier, pairs = pair_rank_brier({"A": (1.0, spread), "B": (0.0, spread)}, {"A": 5, "B": 4})
    # reference: A above B, so the target of "A below B" is 0 and of "B below A" is 1
    assert pairs == 1
    assert brier == pytest.approx(((p - 0) ** 2 + ((1 - p) - 1) ** 2) / 2, rel=1e-12)


# ---------------------------------------------------------------- files and the command


def boot_row(model, score, lower, upper, results):
    return {"model": model, "score": score, "lower": lower, "upper": upper, "results": results}


def test_levels_other_than_95_come_from_the_bootstrap_percentiles(tmp_path):
    boot = write_jsonl(tmp_path / "boot.jsonl", [boot_row("a", 5, 0, 10, list(range(0, 11))),
                                                 boot_row("b", 14, 9, 19, list(range(9, 20)))])
    entries = read_bootstrap(boot)
    # at 95 % the stored intervals [0, 10] and [9, 19] overlap
    assert evaluate(entries).separability == 0 / 1
    # at 80 %: 10th-90th percentiles of 0..10 are [1, 9], of 9..19 [10, 18]: apart
    assert evaluate(entries, level=80).separability == 1 / 1


def test_a_bootstrap_file_marks_its_baseline_exact_and_other_points_separate_nothing(tmp_path):
    boot = write_jsonl(tmp_path / "boot.jsonl", [boot_row("m", 65, 60, 70, list(range(60, 71))),
                                                 boot_row("flat", 80, 80, 80, [80] * 11),
                                                 {**boot_row("base", 50, 50, 50, [50] * 11), "baseline": True}])
    # m-base apart (the baseline's 50 is exact); flat, a point, is apart from neither
    assert evaluate(read_bootstrap(boot)).separability == 1 / 3
    proc = run_script("-m utils.benchmark_quality", boot)
    assert proc.returncode == 0 and "33.3%" in proc.stdout, proc.stderr


def test_original_per_round_layout_is_read(tmp_path):
    path = write_jsonl(tmp_path / "bootstrapping_results.jsonl",
                       [{"a": 1000, "b": 900}, {"a": 1010, "b": 905}, {"a": 1020, "b": 910}])
    entries = {e.model: e for e in read_bootstrap(path)}
    assert (entries["a"].point, entries["b"].point) == (1010, 905)  # medians of the rounds
    # 2.5-97.5 percentiles, linear: a [1000 + 0.05 * 10, 1020 - 0.05 * 10], b [900 + 0.05 * 5, 910 - 0.05 * 5]
    assert (entries["a"].lower, entries["a"].upper) == pytest.approx((1000.5, 1019.5))
    assert (entries["b"].lower, entries["b"].upper) == pytest.approx((900.25, 909.75))


def test_reference_files_of_each_shape(tmp_path):
    original = tmp_path / "arena_hard_leaderboard_20240601.csv"  # the original tool's --output columns
    original.write_text("model,score,rating_q025,rating_q975,CI,avg_tokens,date\n"
                        "m1,60.5,58.0,63.0,\"(-2.50, +2.50)\",500,2024-06-01\n")
    [e] = read_reference(original)
    assert (e.model, e.point, e.lower, e.upper) == ("m1", 60.5, 58.0, 63.0)
    exact = tmp_path / "exact.csv"
    exact.write_text("model,rating\nm1,1200\nm2,1100\n")
    assert [(e.point, e.lower, e.upper) for e in read_reference(exact)] == [(1200, 1200, 1200), (1100, 1100, 1100)]


def test_reference_with_samples_is_read_at_the_chosen_level(tmp_path):
    ours = read_bootstrap(write_jsonl(tmp_path / "ours.jsonl", [boot_row("a", 5, 0, 10, list(range(0, 11))),
                                                                boot_row("b", 14, 9, 19, list(range(9, 20)))]))
    ref_path = write_jsonl(tmp_path / "ref.jsonl", [boot_row("a", 2, 0, 4, [0, 1, 2, 3, 4]),
                                                    boot_row("b", 4, 1, 7, [1, 2, 3, 5, 7])])
    reference = read_reference(ref_path)
    # at 95 % the reference's [0, 4] and [1, 7] overlap: no pair to score
    assert evaluate(ours, reference).n_reference_confident_pairs == 0
    # at 20 % (40th-60th percentiles): a [1.6, 2.4], b [2.6, 3.8] apart; ours [4, 6] and [13, 15] apart, same order
    q = evaluate(ours, reference, level=20)
    assert (q.n_reference_confident_pairs, q.agreement_with_confidence) == (1, 1 / 1)
    assert not q.reference_intervals_as_given


def hand_case_files(tmp_path):
    """OURS and REFERENCE above as files; our names carry an org prefix the mapping removes."""
    rows = [boot_row(f"org/{m}", p, lo, hi, [lo, p, hi]) for m, (p, lo, hi) in OURS.items()]
    boot = write_jsonl(tmp_path / "boot.jsonl", rows + [boot_row("only-ours", 1, 0, 2, [0, 1, 2])])
    ref = tmp_path / "reference.csv"
    ref.write_text("model,rating,lower,upper\n" + "".join(f"{m},{p},{lo},{hi}\n" for m, (p, lo, hi) in
                                                          REFERENCE.items()))
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({f"org/{m}": m for m in OURS}))
    return boot, ref, mapping


def test_cli_prints_the_table_and_writes_the_json_keys(tmp_path):
    boot, ref, mapping = hand_case_files(tmp_path)
    out = tmp_path / "quality.json"
    proc = run_script("-m utils.benchmark_quality", boot, "--reference", ref, "--mapping", mapping, "--json", out,
                      timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(out.read_text())
    assert KEYS <= set(got)
    assert (got["n_models"], got["n_pairs"]) == (5, 5 * 4 // 2)
    assert got["n_models_in_both"] == 4 and got["n_pairs_in_both"] == 6
    assert got["not_in_reference"] == ["only-ours"]
    assert got["agreement_with_confidence"] == (0.5 + 0 + 1 + 1) / 4
    assert got["strict_agreement"] == 4 / 6
    assert got["spearman"] == 1 - 6 * 6 / (4 * (4 ** 2 - 1))
    assert got["kendall"] == (4 - 2) / 6
    # Brier by hand. Our bootstrap samples are [lower, score, upper], so each model's mean and (n - 1) variance:
    # a 50, 25; b 116/3, ((30 - 116/3)^2 + (40 - 116/3)^2 + (46 - 116/3)^2) / 2 = 196/3; c 60, 16; d 10, 25.
    # The reference orders a > b > c > d, so a pair's error is P(the higher one ranks below the lower)^2 in both
    # orientations, with P = Phi((mean_low - mean_high) / sqrt(var_high + var_low)); the score is the mean over
    # the 6 pairs: (0.1165^2 + 0.9408^2 + 0 + 0.9910^2 + 0.0013^2 + 0) / 6 = 0.3135.
    phi = NormalDist().cdf
    terms = [phi((116 / 3 - 50) / (25 + 196 / 3) ** 0.5),  # a-b: 0.1165
             phi((60 - 50) / (25 + 16) ** 0.5),  # a-c: 0.9408, we put c confidently above a
             phi((10 - 50) / (25 + 25) ** 0.5),  # a-d: 8e-9
             phi((60 - 116 / 3) / (196 / 3 + 16) ** 0.5),  # b-c: 0.9910, again the wrong way
             phi((10 - 116 / 3) / (196 / 3 + 25) ** 0.5),  # b-d: 0.0013
             phi((10 - 60) / (16 + 25) ** 0.5)]  # c-d: 3e-15
    assert got["brier"] == pytest.approx(sum(t * t for t in terms) / 6, rel=1e-9)
    assert got["brier"] == pytest.approx(0.3135, abs=1e-4)
    assert "separability" in proc.stdout and "4 models in both, 6 pairs" in proc.stdout
    assert "only-ours" in proc.stdout


def test_cli_without_a_reference_and_with_a_single_model(tmp_path):
    boot = write_jsonl(tmp_path / "boot.jsonl", [boot_row("gpt-4-0314", 50, 50, 50, [50.0] * 5)])
    out = tmp_path / "q.json"
    proc = run_script("-m utils.benchmark_quality", boot, "--json", out, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(out.read_text())
    assert got["n_models"] == 1 and got["n_pairs"] == 0
    assert all(got[k] is None for k in KEYS - {"n_models", "n_pairs"})
    assert "n/a" in proc.stdout
    assert proc.stdout.splitlines()[-1] == f"wrote {out}"


@pytest.mark.parametrize("lines, where", [
    (['{"model": "a", "score": 1, "lower": 0, "upper": 2, "results": [1]}', '{"model": "b", "score": '], ":2"),
    (['{"model": "a", "score": 1, "lower": 0, "upper": 2, "results": [1]}',
      '{"model": "b", "score": 1, "lower": 0, "upper": 2}'], ":2: results"),
    (['{"model": "a", "score": "high", "lower": 0, "upper": 2, "results": [1]}'], ":1: score"),
    (['{"model": "a", "score": 1, "lower": 3, "upper": 2, "results": [1]}'], ":1: lower"),
])
def test_cli_bad_bootstrap_file_exits_2_naming_file_and_line(tmp_path, lines, where):
    boot = write_jsonl(tmp_path / "boot.jsonl", lines)
    out = tmp_path / "q.json"
    proc = run_script("-m utils.benchmark_quality", boot, "--json", out, timeout=60)
    assert proc.returncode == 2
    assert f"boot.jsonl{where}" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert not out.exists()


def test_cli_bad_reference_csv_exits_2_naming_file_line_and_column(tmp_path):
    boot, ref, _ = hand_case_files(tmp_path)
    ref.write_text("model,rating,lower,upper\na,40,35,45\nb,thirty,25,35\n")
    proc = run_script("-m utils.benchmark_quality", boot, "--reference", ref, timeout=60)
    assert proc.returncode == 2
    assert "reference.csv:3: rating:" in proc.stderr
    ref.write_text("name,elo\na,40\n")
    proc = run_script("-m utils.benchmark_quality", boot, "--reference", ref, timeout=60)
    assert proc.returncode == 2 and "reference.csv:1: model:" in proc.stderr


# ---------------------------------------------------------------- real data


def test_real_bootstrap_file_from_show_result(real_judgments, tmp_path):
    data = real_judgments / "data"  # the four real judgment files, each under its judge
    judges = sorted(p.name for p in (data / "arena-hard-v0.1/model_judgment").iterdir())
    proc = run_script("show_result.py", "--data-dir", data, "--judge-names", *judges, timeout=300)
    assert proc.returncode == 0, proc.stderr
    boot = results_file(data, "bootstrapping_results.jsonl", judges=judges)
    rows = read_jsonl(boot)
    assert len(rows) == len(judges) + 1  # every judged model and the baseline

    out = tmp_path / "quality.json"
    # the leaderboard against itself: every order agrees, so the reference metrics are at their best
    proc = run_script("-m utils.benchmark_quality", boot, "--reference", boot, "--json", out, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(out.read_text())
    n = len(rows)
    assert (got["n_models"], got["n_pairs"]) == (n, n * (n - 1) // 2)
    assert [r["model"] for r in rows if r.get("baseline")] == ["gpt-4-0314"]
    apart = sum(separated((a["lower"], a["upper"]), (b["lower"], b["upper"]), "baseline" in a, "baseline" in b)
                for i, a in enumerate(rows) for b in rows[i + 1:])
    assert got["separability"] == apart / got["n_pairs"]
    assert 0 < apart < got["n_pairs"]  # the baseline is apart from the weak models, two wide ones overlap
    assert got["n_reference_confident_pairs"] == sum(not overlap((a["lower"], a["upper"]), (b["lower"], b["upper"]))
                                                     for i, a in enumerate(rows) for b in rows[i + 1:])
    assert got["agreement_with_confidence"] == 1.0
    assert got["strict_agreement"] == 1.0 and got["spearman"] == 1.0 and got["kendall"] == 1.0
    assert 0 < got["brier"] < 0.25  # better than a coin, not certain: the intervals are wide


def test_synthetic_benchmark_agrees_with_its_true_strengths(tmp_path):
    """A benchmark drawn from known strengths, ranked by show_result.py, scored against the truth."""
    bench = unpack("synth20seed0", tmp_path) / "data/arena-hard-v0.1"  # 20 models, 500 questions, truth.json
    proc = run_script("show_result.py", "--data-dir", tmp_path / "data", "--num-rounds", 50, timeout=300)
    assert proc.returncode == 0, proc.stderr
    truth = json.loads((bench / "truth.json").read_text())["strength"]
    ref = tmp_path / "truth.csv"  # exact ratings, no intervals: every distinct pair is a confident one
    ref.write_text("model,rating\n" + "".join(f"true-{m},{s}\n" for m, s in truth.items()))
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({m: f"true-{m}" for m in truth}))
    out = tmp_path / "q.json"
    proc = run_script("-m utils.benchmark_quality", results_file(tmp_path / "data", "bootstrapping_results.jsonl"), "--reference", ref,
                      "--mapping", mapping, "--json", out, timeout=60)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(out.read_text())
    assert got["n_models_in_both"] == 20 and got["n_reference_confident_pairs"] == 20 * 19 // 2
    # margins below what this benchmark gives (0.99, 0.95, 0.97, 0.96, 0.025: the true strengths leave out the
    # length effect the judge also rewards) so bootstrap changes don't break it; a shuffled ranking would sit
    # near 0, 0, 0.5, 0.5 and 0.25
    assert got["spearman"] > 0.95 and got["kendall"] > 0.85 and got["strict_agreement"] > 0.9
    assert got["agreement_with_confidence"] > 0.85
    assert got["brier"] < 0.08  # a know-nothing forecast (P = 0.5 everywhere) scores 0.25
