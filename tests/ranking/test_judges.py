"""Pooled judges: each judge's own scores, score shifts, Cohen's kappa and self-preference flags.

Two scripted judges rate the same two models on four questions. judge-one is
fair; gpt-4.1 always prefers the answer shown first (position A): in game 1
that is the baseline's, in game 2 the model's. Their judgment files are
written here, and every expected number is worked out by hand in comments.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import BASE, G1, G2, games, read_csv, run_script, show, write_bench
from utils.ranking.judges import name_family

FAIR, BIASED = "judge-one", "gpt-4.1"
# From the model's side (W win, S strong win, T tie, L loss, X strong loss), games 1 and 2 of each question
FAIR_VERDICTS = {"alpha": [("W", "W"), ("T", "W"), ("L", "L"), ("S", "W")],
                 "claude-3-haiku": [("L", "T"), ("L", "L"), ("W", "L"), ("T", "T")]}
# position A wins every game: "A>B" in game 1 is the baseline's win, in game 2 the model's
BIASED_VERDICTS = {m: [("L", "W")] * 4 for m in FAIR_VERDICTS}
assert all(G1[g1] == "A>B" and G2[g2] == "A>B" for g1, g2 in BIASED_VERDICTS["alpha"])

# Scores (strong verdicts x3, a tie half):
#   judge-one, alpha: won 2 + 1.5 + 0 + 4 = 7.5 of 2 + 2 + 2 + 4 = 10 battles -> 75 %
#   judge-one, claude-3-haiku: won 0.5 + 0 + 1 + 1 = 2.5 of 8 -> 31.25 %
#   gpt-4.1, each model: 4 of 8 -> 50 %
#   pooled, alpha: (7.5 + 4) / (10 + 8) = 63.888...; claude-3-haiku: (2.5 + 4) / 16 = 40.625
SCORES = {FAIR: {"alpha": 75.0, "claude-3-haiku": 31.25}, BIASED: {"alpha": 50.0, "claude-3-haiku": 50.0}}
POOLED = {"alpha": 100 * 11.5 / 18, "claude-3-haiku": 100 * 6.5 / 16}

# Kappa over the 16 games both judged, each verdict un-swapped to game 1's terms (0 baseline>>, 1 baseline>,
# 2 tie, 3 model>, 4 model>>), games in the order alpha q0 g1, q0 g2, ..., claude-3-haiku q3 g2:
#   judge-one: 3 3 2 3 1 1 4 3 | 1 2 1 1 3 1 2 2      (six 1s, four 2s, five 3s, one 4)
#   gpt-4.1:   1 3 1 3 1 3 1 3 | 1 3 1 3 1 3 1 3      (eight 1s, eight 3s)
#   alike in games 2, 4, 5, 8, 9 and 11: p_o = 6/16; p_e = (6*8 + 5*8) / 256 = 88/256
#   kappa = (96/256 - 88/256) / (168/256) = 8/168 = 1/21
# On the direction (baseline better / tie / model better): judge-one says baseline 6 times, tie 4, model 6;
#   gpt-4.1 baseline 8, model 8; alike in the same 6 games: p_o = 6/16 = p_e = (6*8 + 6*8) / 256: kappa = 0
KAPPA_LABELS, KAPPA_DIRECTION = 1 / 21, 0.0


@pytest.fixture(scope="module")
def bench(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("judges")
    for judge, verdicts in ((FAIR, FAIR_VERDICTS), (BIASED, BIASED_VERDICTS)):
        write_bench(root, {m: games(*v) for m, v in verdicts.items()}, 4, judge=judge)
    # judge-one's entry cannot be loaded here (its key variable is not set), but its family still counts
    (root / "api.yaml").write_text(
        f"{FAIR}:\n  model_name: some-judge\n  api_type: anthropic\n  family: Anthropic\n  endpoints:\n"
        "    - api_base: http://127.0.0.1:9/v1\n      api_key: ${ARENA_TEST_UNSET_KEY}\n"
        f"{BIASED}:\n  model_name: gpt-4.1\n  endpoints:\n    - api_base: http://127.0.0.1:9/v1\n      api_key: k\n")
    return root


def judges_file(root: Path) -> dict:
    return json.loads((root / "data" / "arena-hard-v0.1" / "results" / f"{FAIR}+{BIASED}" / "judges.json").read_text())


def test_each_judge_alone_its_shift_and_the_kappa_of_the_two(bench, tmp_path):
    out = show(bench, "--judge-names", FAIR, BIASED, "--endpoint-file", bench / "api.yaml", "--csv",
               tmp_path / "t.csv", "--num-rounds", "20").stdout
    table = read_csv(tmp_path / "t.csv")
    for model, pooled in POOLED.items():
        assert float(table[model]["score"]) == pytest.approx(pooled, abs=0.01)
    doc = judges_file(bench)
    assert doc["judges"] == [FAIR, BIASED]
    models = doc["tables"][0]["models"]
    for judge, scores in SCORES.items():
        for model, score in scores.items():
            assert models[model]["scores"][judge] == pytest.approx(score, abs=0.01)
            assert models[model]["shifts"][judge] == pytest.approx(score - POOLED[model], abs=0.01)
    [kappa] = doc["kappa"]
    assert (kappa["judge_a"], kappa["judge_b"], kappa["games"]) == (FAIR, BIASED, 16)
    assert kappa["labels"] == pytest.approx(KAPPA_LABELS) and kappa["direction"] == pytest.approx(KAPPA_DIRECTION)
    # what the terminal shows: alpha's row (pooled 63.9; judge-one 75.0, +11.1; gpt-4.1 50.0, -13.9) and the kappa
    section = out.split("##### judges:")[1]
    row = next(line for line in section.splitlines() if line.startswith("alpha "))
    assert "63.9" in row and "75.0 (+11.1)" in row and "50.0 (-13.9)" in row
    assert f"kappa {FAIR} vs {BIASED}: 0.048 on the five verdicts, 0.000 on the direction" in out


def test_a_judge_and_a_model_of_one_family_are_flagged(bench):
    out = show(bench, "--judge-names", FAIR, BIASED, "--endpoint-file", bench / "api.yaml", "--num-rounds", "5").stdout
    # judge-one is anthropic by its api_config entry, claude-3-haiku by its name; gpt-4.1 and the baseline
    # gpt-4-0314 are both openai by their names; alpha has no family
    assert f"SELF-PREFERENCE? judge {FAIR} and claude-3-haiku are both anthropic (family from api_config and name)" \
        in out
    assert f"SELF-PREFERENCE? judge {BIASED} and {BASE} (the baseline) are both openai (family from name)" in out
    flags = {(f["judge"], f["model"]) for f in judges_file(bench)["self_preference"]}
    assert flags == {(FAIR, "claude-3-haiku"), (BIASED, BASE)}
    # without the api_config entry, judge-one's name says nothing: no flag for it
    bare = show(bench, "--judge-names", FAIR, BIASED, "--endpoint-file", bench / "missing.yaml", check=False)
    assert bare.returncode == 2 and "missing.yaml: --endpoint-file: file not found" in bare.stderr
    out = show(bench, "--judge-names", FAIR, BIASED, "--num-rounds", "5").stdout  # config/api_config.yaml: none here
    assert f"judge {FAIR} and" not in out and f"judge {BIASED} and {BASE} (the baseline)" in out


@pytest.mark.parametrize("name, family", [
    ("gpt-4o-mini", "openai"), ("o3-mini-2025-01-31", "openai"), ("o1", "openai"),
    ("claude-3-5-sonnet-20241022", "anthropic"), ("gemini-2.0-flash-001", "google"),
    ("meta-llama/Meta-Llama-3-70B-Instruct", "meta"), ("Qwen/Qwen2.5-72B", "qwen"), ("deepseek-r1", "deepseek"),
    ("mistral-large", "mistral"), ("omni-model", None), ("o1x", None), ("smollm2-baseline", None)])
def test_families_from_names(name, family):
    assert name_family(name) == family


def test_the_judges_of_a_judge_config_are_pooled_like_judge_names(bench):
    config = bench / "judge.yaml"
    config.write_text(f"bench_name: arena-hard-v0.1\njudge_model: [{FAIR}, {BIASED}]\nbaseline_model: {BASE}\n"
                      "model_list: [alpha, claude-3-haiku]\n")
    by_flag = show(bench, "--judge-names", FAIR, BIASED, "--num-rounds", "10").stdout
    by_config = show(bench, "--setting-file", config, "--num-rounds", "10").stdout
    # the same tables; only the first line differs, which says where the method came from
    assert by_config.split("\n", 1)[1] == by_flag.split("\n", 1)[1]
    assert by_config.startswith(f"method arena-hard-v0.1 (from bench_name arena-hard-v0.1 of {config};")
    single = show(bench, "--setting-file", config, "--judge-name", FAIR, "--num-rounds", "10")
    assert "##### judges:" not in single.stdout  # --judge-name given: that judge alone


def test_benchmark_quality_prints_the_judges_beside_the_bootstrap_file(bench):
    show(bench, "--judge-names", FAIR, BIASED, "--num-rounds", "20")
    boot = bench / "data" / "arena-hard-v0.1" / "results" / f"{FAIR}+{BIASED}" / "bootstrapping_results.jsonl"
    result = run_script("-m utils.benchmark_quality", boot, "--json", bench / "q.json")
    assert result.returncode == 0, result.stderr
    assert f"kappa {FAIR} vs {BIASED}: 0.0476 on the five verdicts, 0.0000 on the direction, over 16 games" \
        in result.stdout
    alpha = next(line.split() for line in result.stdout.splitlines() if line.startswith("alpha "))
    assert alpha[1:] == ["+11.11", "-13.89"]
    assert json.loads((bench / "q.json").read_text())["judges"]["kappa"][0]["games"] == 16
    # a single judge's bootstrap file has no judges file beside it, and prints none
    show(bench, "--judge-name", FAIR, "--num-rounds", "5")
    single = run_script("-m utils.benchmark_quality", boot.parent.parent / FAIR / boot.name)
    assert single.returncode == 0 and "kappa" not in single.stdout
