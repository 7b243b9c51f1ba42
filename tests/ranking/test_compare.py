"""show_result.py --compare A B and --pairs PATH as a user runs them, v0.1 and v2.

The numbers of every pair are checked against the table the same run wrote
with --csv: the difference is the difference of the two scores, a pair is
significant exactly when its interval excludes 0, and a model compared with
the baseline gets its own interval less 50 (the baseline is 50 in every
round).
"""
from __future__ import annotations

import csv
import random
from itertools import combinations
from pathlib import Path

import pytest

from tests.helpers import games, one_line_error, read_csv, read_v2_csv, show, show_v2, write_bench
from utils.ranking.tables import PAIRS_COLUMNS

BASE = "gpt-4-0314"


def verdicts(seed: int, n: int, p_win: float) -> list:
    """n questions of two games each, from the model's side: W(in), S(trong win), T(ie), L(oss), X (strong loss)."""
    rng = random.Random(seed)
    weights = [p_win * 0.2, p_win * 0.8, 0.2, (1 - p_win) * 0.6, (1 - p_win) * 0.2]
    return [tuple(rng.choices("SWTLX", weights)[0] for _ in range(2)) for _ in range(n)]


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("compare")
    alpha = verdicts(1, 60, 0.7)
    write_bench(root, {"alpha": games(*alpha), "alpha-twin": games(*alpha), "delta": games(*verdicts(4, 60, 0.68)),
                       "gamma": games(*verdicts(3, 60, 0.25))}, 60)
    return root


def read_pairs(path: Path) -> tuple[list[str], list[dict]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return reader.fieldnames, list(reader)


def check_pairs_against_table(pairs: list[dict], table: dict[str, dict], decimals: int = 2) -> None:
    order = list(table)  # the CSV lists the models in table order
    assert [(p["model_a"], p["model_b"]) for p in pairs] == list(combinations(order, 2))
    for p in pairs:
        expected = float(table[p["model_a"]]["score"]) - float(table[p["model_b"]]["score"])
        assert float(p["diff"]) == pytest.approx(expected, abs=2 * 10 ** -decimals)
        lower, upper = float(p["lower"]), float(p["upper"])
        assert lower <= upper and 0.0 <= float(p["share_a_better"]) <= 1.0
        assert p["significant"] == ("true" if lower > 0 or upper < 0 else "false") and p["no_claim_reason"] == ""


def test_pairs_csv_holds_every_pair_with_the_tables_differences(bench, tmp_path):
    # 201 rounds: the interval bounds fall on single rounds, so the table's bounds (on ratings) and the
    # difference's (on win rates) are read off the same rounds
    out = show(bench, "--pairs", tmp_path / "pairs.csv", "--csv", tmp_path / "table.csv", "--num-rounds", "201")
    assert f"wrote {tmp_path / 'pairs.csv'}" in out.stdout
    columns, pairs = read_pairs(tmp_path / "pairs.csv")
    assert columns == ["model_a", "model_b", "diff", "lower", "upper", "share_a_better", "significant",
                       "no_claim_reason"]
    assert tuple(columns) == PAIRS_COLUMNS
    table = read_csv(tmp_path / "table.csv")
    check_pairs_against_table(pairs, table)
    assert len(pairs) == 10  # five models, the baseline among them
    for p in pairs:  # against the baseline: the model's own interval, less 50
        if BASE in (p["model_a"], p["model_b"]):
            model = p["model_b"] if p["model_a"] == BASE else p["model_a"]
            sign = 1 if p["model_a"] == model else -1
            bounds = sorted(sign * (float(table[model][k]) - 50) for k in ("lower", "upper"))
            assert [float(p["lower"]), float(p["upper"])] == pytest.approx(bounds, abs=0.011)
    twins = next(p for p in pairs if {p["model_a"], p["model_b"]} == {"alpha", "alpha-twin"})
    assert float(twins["diff"]) == 0 and twins["significant"] == "false"


def test_compare_prints_the_difference_its_interval_and_what_it_means(bench, tmp_path):
    out = show(bench, "--compare", "gamma", "alpha", "--pairs", tmp_path / "pairs.csv", "--num-rounds", "150",
               "--bootstrap-unit", "question").stdout
    _, pairs = read_pairs(tmp_path / "pairs.csv")
    pair = next(p for p in pairs if (p["model_a"], p["model_b"]) == ("alpha", "gamma"))
    # asked the other way round: the same numbers with the sign turned, and the share of rounds gamma is ahead
    diff, lower, upper = -float(pair["diff"]), -float(pair["upper"]), -float(pair["lower"])
    assert "##### gamma vs alpha: paired bootstrap, 95% interval #####" in out
    assert f"gamma - alpha: {diff:+.2f} points, 95% interval {lower:+.2f} to {upper:+.2f}; gamma ahead in " \
           f"{1 - float(pair['share_a_better']):.1%} of 150 paired rounds" in out
    assert "significant: alpha is better (the interval excludes 0)" in out

    twins = show(bench, "--compare", "alpha", "alpha-twin", "--num-rounds", "80", "--bootstrap-unit", "question").stdout
    assert "alpha - alpha-twin: +0.00 points, 95% interval +0.00 to +0.00; alpha ahead in 0.0% of 80 paired rounds" \
        in twins
    assert ("not significant (the interval contains 0); indistinguishable: the difference and its whole interval "
            "are within 0.5 points of 0") in twins

    close = show(bench, "--compare", "alpha", "delta", "--num-rounds", "100").stdout
    line = next(x for x in close.splitlines() if x.startswith("not significant"))
    assert "questions would separate them at this difference" in line and "this table has 60" in line
    # the default resamples single battles, whose intervals are usually too narrow: the comparison says so
    assert "note: resampling single battles treats the two games of a question as unrelated" in close
    assert "note:" not in out and "note:" not in twins  # those resampled whole questions


@pytest.mark.parametrize("flags", [["--style-control"], ["--style-control", "--bootstrap-unit", "question"],
                                   ["--bootstrap-unit", "question", "--resampling", "poisson"]])
def test_pairs_follow_the_table_in_every_mode(bench, tmp_path, flags):
    show(bench, *flags, "--pairs", tmp_path / "pairs.csv", "--csv", tmp_path / "table.csv", "--num-rounds", "80")
    check_pairs_against_table(read_pairs(tmp_path / "pairs.csv")[1], read_csv(tmp_path / "table.csv"))


def test_too_few_rounds_for_a_claim_leave_significant_empty_with_the_reason_as_the_terminal_does(bench, tmp_path):
    # alpha vs gamma is significant with 150 rounds (above); 20 are too few for any claim at 95 %
    out = show(bench, "--compare", "gamma", "alpha", "--pairs", tmp_path / "pairs.csv", "--num-rounds", "20",
               "--bootstrap-unit", "question").stdout
    assert "no significance claim: 20 paired rounds, at least 80 needed" in out and "significant:" not in out
    _, pairs = read_pairs(tmp_path / "pairs.csv")
    assert len(pairs) == 10
    for p in pairs:
        assert p["significant"] == "" and p["no_claim_reason"] == "20 paired rounds, at least 80 needed", p
        assert p["lower"] and p["upper"]  # the numbers are there; only the claim is not


def test_compare_needs_two_models_that_have_verdicts(bench):
    assert "--compare: model 'nobody' has no counted verdict here (known: " in \
        one_line_error(show(bench, "--compare", "alpha", "nobody", check=False))
    assert "(did you mean 'alpha'?)" in one_line_error(show(bench, "--compare", "alpah", "beta", check=False))
    assert "--compare: name two different models" in one_line_error(show(bench, "--compare", "alpha", "alpha",
                                                                          check=False))


def test_v2_compares_within_each_category(v2data, tmp_path):
    out = show_v2(v2data, "--compare", "even-model", "verbose-model", "--pairs", tmp_path / "pairs.csv",
                  "--csv", tmp_path / "table.csv", "--num-rounds", "100").stdout
    for category in ("hard_prompt", "creative_writing"):
        assert f"##### even-model vs verbose-model: paired bootstrap, 90% interval | category {category} #####" in out
    columns, pairs = read_pairs(tmp_path / "pairs.csv")
    assert columns == ["category", *PAIRS_COLUMNS]
    table = read_v2_csv(tmp_path / "table.csv")
    for category in ("hard_prompt", "creative_writing"):
        mine = [p for p in pairs if p["category"] == category]
        check_pairs_against_table(mine, {m: row for (c, m), row in table.items() if c == category}, decimals=4)


def test_v2_style_control_compares_too(v2data, tmp_path):
    show_v2(v2data, "--style-control", "--category", "hard_prompt", "--pairs", tmp_path / "pairs.csv",
            "--csv", tmp_path / "table.csv", "--num-rounds", "40")
    table = read_v2_csv(tmp_path / "table.csv")
    check_pairs_against_table(read_pairs(tmp_path / "pairs.csv")[1], {m: row for (_, m), row in table.items()},
                              decimals=4)
