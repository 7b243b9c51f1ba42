"""show_result.py --method arena-hard-v2 as a user runs it, on the synthetic v2.0 benchmark of tests/synth_v2.py.

Every expected number is computed here from the files, with plain loops: the
labels are read with a table written out by hand below, incomplete rows are
dropped, strong verdicts weighted, and the style-controlled fit is redone
with scikit-learn on features computed here from the answers' metadata.
"""
from __future__ import annotations

import json
import math
import re
import shutil
import statistics
from pathlib import Path

import numpy as np
import pytest

from tests import synth_v2
from tests.helpers import read_v2_csv, run_script, show_v2

HARD, CREATIVE = "hard_prompt", "creative_writing"
O3, GEMINI = synth_v2.BASELINES[HARD], synth_v2.BASELINES[CREATIVE]
JUDGE, JUDGE_2 = synth_v2.JUDGES

# The model's share of a game and whether the verdict is strong. Game 1 shows the baseline as A,
# game 2 the model as A; "A<B" is another spelling of "B>A".
GAME_1 = {"B>>A": (1.0, True), "A<<B": (1.0, True), "B>A": (1.0, False), "A<B": (1.0, False),
          "A=B": (0.5, False), "B=A": (0.5, False),
          "A>B": (0.0, False), "B<A": (0.0, False), "A>>B": (0.0, True), "B<<A": (0.0, True)}
GAME_2 = {"A>>B": (1.0, True), "B<<A": (1.0, True), "A>B": (1.0, False), "B<A": (1.0, False),
          "A=B": (0.5, False), "B=A": (0.5, False),
          "B>A": (0.0, False), "A<B": (0.0, False), "B>>A": (0.0, True), "A<<B": (0.0, True)}


@pytest.fixture(scope="session")
def data(v2data) -> Path:
    """The synthetic v2.0 benchmark's data directory (tests/ranking/conftest.py); copied before any change."""
    return v2data


def bench(data: Path) -> Path:
    return data / synth_v2.BENCH


# ---------------------------------------------------------------- the expected numbers, by hand


def judgment_rows(data: Path, judges=(JUDGE,)) -> list[dict]:
    """Every judgment row, with its question's subcategory added."""
    questions = {}
    for line in (bench(data) / "question.jsonl").read_text().splitlines():
        q = json.loads(line)
        questions[q["uid"]] = q
    rows = []
    for judge in judges:
        for path in sorted((bench(data) / "model_judgment" / judge).glob("*.jsonl")):
            for line in path.read_text().splitlines():
                row = json.loads(line)
                uid = row.get("uid", row.get("question_id"))
                row["_uid"] = uid
                row["_category"] = row.get("category") or questions[uid]["category"]
                row["_subcategory"] = questions[uid]["subcategory"]
                rows.append(row)
    return rows


def game_outcomes(row: dict) -> list[tuple[float, bool] | None]:
    """Each game's (share, strong), or None for a null game or one without an accepted label."""
    out = []
    for table, game in zip((GAME_1, GAME_2), row["games"]):
        out.append(table.get(game["score"]) if game is not None else None)
    return out


def in_category(row: dict, category: str) -> bool:
    return category in (row["_category"], row["_subcategory"])


def units_by_model(rows, category: str, weight: int = 3, whole_rows: bool = True) -> dict[str, list[float]]:
    """model -> its outcome units in ``category``, a strong verdict written ``weight`` times.

    ``whole_rows=False`` is the wrong reading this tool must not do: keeping the
    good game of a row whose other game is missing.
    """
    units: dict[str, list[float]] = {}
    for row in rows:
        if not in_category(row, category):
            continue
        games = game_outcomes(row)
        if whole_rows and None in games:
            continue
        for outcome in games:
            if outcome is not None:
                share, strong = outcome
                units.setdefault(row["model"], []).extend([share] * (weight if strong else 1))
    return units


def dropped_rows(rows, category: str) -> int:
    return sum(1 for row in rows if in_category(row, category) and None in game_outcomes(row))


def win_rates(units: dict[str, list[float]]) -> dict[str, float]:
    return {model: 100 * sum(u) / len(u) for model, u in units.items()}


# ---------------------------------------------------------------- plain scores


def test_plain_scores_are_the_weighted_win_rates_of_the_judgment_files(data, tmp_path):
    out = show_v2(data, "--csv", tmp_path / "t.csv")
    table = read_v2_csv(tmp_path / "t.csv")
    rows = judgment_rows(data)
    for category, baseline in ((HARD, O3), (CREATIVE, GEMINI)):
        expected = win_rates(units_by_model(rows, category))
        assert len(expected) == len(synth_v2.MODELS)
        for model, rate in expected.items():
            assert float(table[category, model]["score"]) == pytest.approx(rate, abs=1e-3), (category, model)
        base = table[category, baseline]
        assert float(base["score"]) == 50.0
        assert re.search(rf"^{re.escape(baseline)} +\| score:  50\.0  \| 90% CI: +- +\|", out.stdout, re.M)
        footer = next(line for line in out.stdout.splitlines() if line.startswith("--") and category in line)
        assert f"{dropped_rows(rows, category)} rows dropped" in footer
    # the categories come in the question file's order, each headed by its baseline and its questions
    headings = re.findall(r"^##### category: (\S+) \| baseline: (\S+) \| (\d+) questions", out.stdout, re.M)
    assert headings == [(HARD, O3, "500"), (CREATIVE, GEMINI, "250")]


def test_the_baselines_row_has_bounds_of_50_and_its_coverage_as_in_v01(data, tmp_path):
    show_v2(data, "--csv", tmp_path / "t.csv")
    table = read_v2_csv(tmp_path / "t.csv")
    rows = judgment_rows(data)
    for category, baseline in ((HARD, O3), (CREATIVE, GEMINI)):
        base = table[category, baseline]
        assert [base[k] for k in ("score", "lower", "upper")] == ["50.0", "50.0", "50.0"]
        assert [base[k] for k in ("rating", "rating_lower", "rating_upper")] == ["1000.0", "1000.0", "1000.0"]
        # the baseline is in every counted game: its questions are those with a row whose two games both count
        counted = {r["_uid"] for r in rows if in_category(r, category) and None not in game_outcomes(r)}
        assert int(base["covered_questions"]) == len(counted) > 0
        assert int(base["questions"]) == {HARD: 500, CREATIVE: 250}[category]


def test_the_method_follows_the_benchmark_unless_one_is_given(data, tmp_path):
    explicit = show_v2(data, "--csv", tmp_path / "explicit.csv")  # --method arena-hard-v2
    assert not explicit.stdout.startswith("method ")

    def run(*args):
        return run_script("show_result.py", "--data-dir", data, *args, cwd=data.parent)
    by_bench = run("--bench-name", synth_v2.BENCH, "--csv", tmp_path / "bench.csv")
    assert by_bench.returncode == 0, by_bench.stderr
    assert by_bench.stdout.splitlines()[0] == \
        f"method arena-hard-v2 (from --bench-name {synth_v2.BENCH}; --method to change)"
    assert by_bench.stdout.count("method arena-hard-v2") == 1
    assert (tmp_path / "bench.csv").read_bytes() == (tmp_path / "explicit.csv").read_bytes()
    config = tmp_path / "judge.yaml"  # names no baseline: v2.0's own per category
    config.write_text(f"bench_name: {synth_v2.BENCH}\njudge_model: {JUDGE}\nmodel_list: [strong-model]\n")
    by_config = run("--setting-file", config, "--csv", tmp_path / "config.csv")
    assert by_config.returncode == 0, by_config.stderr
    assert by_config.stdout.splitlines()[0] == \
        f"method arena-hard-v2 (from bench_name {synth_v2.BENCH} of {config}; --method to change)"
    assert (tmp_path / "config.csv").read_bytes() == (tmp_path / "explicit.csv").read_bytes()
    forced = run("--bench-name", synth_v2.BENCH, "--judge-name", JUDGE, "--method", "arena-hard-v0.1")  # it wins
    assert forced.returncode == 2 and "'gpt-4-0314' is not in any battle" in forced.stderr


def test_weight_one_counts_strong_verdicts_once(data, tmp_path):
    show_v2(data, "--weight", "1", "--category", CREATIVE, "--csv", tmp_path / "t.csv")
    table = read_v2_csv(tmp_path / "t.csv")
    for model, rate in win_rates(units_by_model(judgment_rows(data), CREATIVE, weight=1)).items():
        assert float(table[CREATIVE, model]["score"]) == pytest.approx(rate, abs=1e-3)


def test_a_row_with_one_null_game_is_dropped_whole(data, tmp_path):
    rows = judgment_rows(data)
    half_null = [r for r in rows if in_category(r, HARD) and sum(g is None for g in r["games"]) == 1]
    assert half_null, "the synthetic data should hold rows with one null game"
    show_v2(data, "--category", HARD, "--csv", tmp_path / "t.csv")
    table = read_v2_csv(tmp_path / "t.csv")
    right = win_rates(units_by_model(rows, HARD))
    wrong = win_rates(units_by_model(rows, HARD, whole_rows=False))
    for model in right:
        assert float(table[HARD, model]["score"]) == pytest.approx(right[model], abs=1e-3)
    assert max(abs(right[m] - wrong[m]) for m in right) > 0.05  # the test can tell the two readings apart


def test_the_default_interval_is_90_percent_and_reproducible(data, tmp_path):
    runs = {name: tmp_path / f"{name}.csv" for name in ("default", "90", "95", "seed7")}
    show_v2(data, "--csv", runs["default"])
    show_v2(data, "--csv", runs["90"], "--confidence", "90")
    show_v2(data, "--csv", runs["95"], "--confidence", "95")
    show_v2(data, "--csv", runs["seed7"], "--seed", "7")
    assert runs["default"].read_bytes() == runs["90"].read_bytes()  # same inputs and seed: the same file
    t90, t95, t7 = read_v2_csv(runs["90"]), read_v2_csv(runs["95"]), read_v2_csv(runs["seed7"])
    rows = judgment_rows(data)
    for category in (HARD, CREATIVE):
        for model, units in units_by_model(rows, category).items():
            r90, r95 = t90[category, model], t95[category, model]
            lo90, hi90, lo95, hi95 = (float(r90["lower"]), float(r90["upper"]),
                                      float(r95["lower"]), float(r95["upper"]))
            assert lo95 <= lo90 < hi90 <= hi95 and hi95 - lo95 > hi90 - lo90
            # a 90% interval of a mean: about 2 * 1.645 standard errors (loose: 100 rounds are noisy)
            normal = 2 * 1.645 * 100 * statistics.pstdev(units) / math.sqrt(len(units))
            assert hi90 - lo90 == pytest.approx(normal, rel=0.3), (category, model)
            assert t7[category, model]["score"] == r90["score"] and t7[category, model]["lower"] != r90["lower"]


def test_resampling_questions_keeps_the_points_and_says_so(data, tmp_path):
    by_unit = show_v2(data, "--category", CREATIVE, "--csv", tmp_path / "u.csv")
    by_question = show_v2(data, "--category", CREATIVE, "--bootstrap-unit", "question", "--csv", tmp_path / "q.csv")
    units, questions = read_v2_csv(tmp_path / "u.csv"), read_v2_csv(tmp_path / "q.csv")
    for key, row in units.items():
        assert questions[key]["score"] == row["score"]
    assert any(questions[k]["lower"] != units[k]["lower"] for k in units if k[1] != GEMINI)
    assert "resampling of each model's own questions" in by_question.stdout
    assert "resampling of each model's own outcome units" in by_unit.stdout


def test_two_categories_give_two_tables_and_a_subcategory_its_questions(data, tmp_path):
    out = show_v2(data, "--category", HARD, CREATIVE, "--csv", tmp_path / "two.csv")
    assert out.stdout.count("##### category:") == 2
    coding = show_v2(data, "--category", "coding", "--csv", tmp_path / "coding.csv")
    assert "##### category: coding | baseline: o3-mini-2025-01-31 | 250 questions #####" in coding.stdout
    two, sub = read_v2_csv(tmp_path / "two.csv"), read_v2_csv(tmp_path / "coding.csv")
    rows = judgment_rows(data)
    for category, table in ((HARD, two), (CREATIVE, two), ("coding", sub)):
        for model, rate in win_rates(units_by_model(rows, category)).items():
            assert float(table[category, model]["score"]) == pytest.approx(rate, abs=1e-3), (category, model)
    assert {c for c, _ in sub} == {"coding"}


def test_two_judges_are_pooled(data, tmp_path):
    out = show_v2(data, "--judge-names", JUDGE, JUDGE_2, "--category", CREATIVE, "--csv", tmp_path / "t.csv")
    table = read_v2_csv(tmp_path / "t.csv")
    both = units_by_model(judgment_rows(data, (JUDGE, JUDGE_2)), CREATIVE)
    one = units_by_model(judgment_rows(data, (JUDGE,)), CREATIVE)
    for model, rate in win_rates(both).items():
        assert float(table[CREATIVE, model]["score"]) == pytest.approx(rate, abs=1e-3)
        assert int(table[CREATIVE, model]["battles"]) == len(both[model]) > len(one[model])
    assert f"{sum(map(len, both.values()))} units | judge {JUDGE}, {JUDGE_2}" in out.stdout


def test_the_2024_layout_gives_the_same_numbers(data, tmp_path):
    old = tmp_path / "data"
    shutil.copytree(data, old)
    for path in (bench(old) / "model_judgment").glob("*/*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        path.write_text("".join(json.dumps({"question_id": r["uid"], "model": r["model"], "judge": r["judge"],
                                            "games": r["games"]}) + "\n" for r in rows))
    show_v2(data, "--csv", tmp_path / "new.csv")
    show_v2(old, "--csv", tmp_path / "old.csv")
    new_rows, old_rows = read_v2_csv(tmp_path / "new.csv"), read_v2_csv(tmp_path / "old.csv")
    assert {k: r["score"] for k, r in new_rows.items()} == {k: r["score"] for k, r in old_rows.items()}


# ---------------------------------------------------------------- baselines


@pytest.fixture(scope="module")
def other_baseline(data, tmp_path_factory) -> Path:
    """A copy whose creative_writing judgments were made against another baseline, gemini-x."""
    root = tmp_path_factory.mktemp("other") / "data"
    shutil.copytree(data, root)
    answers = bench(root) / "model_answer"
    lines = (answers / f"{GEMINI}.jsonl").read_text().splitlines()
    (answers / "gemini-x.jsonl").write_text("".join(
        json.dumps({**json.loads(line), "model": "gemini-x"}) + "\n" for line in lines))
    for path in (bench(root) / "model_judgment").glob("*/*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        for r in rows:
            if r["baseline"] == GEMINI:
                r["baseline"] = "gemini-x"
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return root


def test_a_category_baseline_is_honoured(other_baseline, tmp_path):
    out = show_v2(other_baseline, "--baseline", f"{CREATIVE}=gemini-x", "--csv", tmp_path / "t.csv")
    assert f"##### category: {CREATIVE} | baseline: gemini-x | 250 questions #####" in out.stdout
    assert f"##### category: {HARD} | baseline: {O3} | 500 questions #####" in out.stdout
    table = read_v2_csv(tmp_path / "t.csv")
    assert float(table[CREATIVE, "gemini-x"]["score"]) == 50.0 and (CREATIVE, GEMINI) not in table
    for model, rate in win_rates(units_by_model(judgment_rows(other_baseline), CREATIVE)).items():
        assert float(table[CREATIVE, model]["score"]) == pytest.approx(rate, abs=1e-3)


def test_a_plain_baseline_sets_every_category(other_baseline):
    out = show_v2(other_baseline, "--baseline", "gemini-x")
    assert f"##### category: {CREATIVE} | baseline: gemini-x" in out.stdout and f"category: {HARD}" not in out.stdout
    assert f"NOT SCORED {HARD}: 500 questions (baseline gemini-x): not judged: no judgment of its questions " \
           f"against gemini-x by {JUDGE}" in out.stdout


def test_rows_judged_against_another_baseline_are_not_counted_and_named(other_baseline):
    out = show_v2(other_baseline)  # v2.0's own baseline for creative_writing is gemini-2.0-flash-001
    assert "##### category: hard_prompt" in out.stdout and "##### category: creative_writing" not in out.stdout
    assert f"NOT SCORED {CREATIVE}: 250 questions (baseline {GEMINI}): not judged" in out.stdout
    file = bench(other_baseline) / "model_judgment" / JUDGE / "strong-model.jsonl"
    warning = next(line for line in out.stderr.splitlines() if str(file) in line)
    assert "250 rows" in warning and "gemini-x" in warning
    failed = show_v2(other_baseline, "--category", CREATIVE, check=False)  # asked for by name: an error
    assert failed.returncode == 2 and "no counted judgments in category 'creative_writing'" in failed.stderr


def test_baselines_come_from_a_judge_config(other_baseline, tmp_path):
    config = tmp_path / "judge.yaml"
    config.write_text(f"bench_name: {synth_v2.BENCH}\njudge_model: {JUDGE}\nbaseline_model: {O3}\n"
                      f"model_list: [strong-model]\ncategories:\n  {CREATIVE}:\n    baseline_model: gemini-x\n")
    out = show_v2(other_baseline, "--setting-file", config)
    assert f"##### category: {CREATIVE} | baseline: gemini-x" in out.stdout
    assert f"##### category: {HARD} | baseline: {O3}" in out.stdout


# ---------------------------------------------------------------- categories that cannot be scored


def without_creative_verdicts(data: Path, root: Path, gemini_answers: bool, rows: str) -> Path:
    """A copy of the benchmark under ``root`` whose creative_writing questions have no counted verdict:
    ``gemini_answers`` keeps or removes that baseline's answer file; ``rows`` is "none" (no judgment rows of the
    category, as when judging only hard prompts) or "null" (rows whose first game was never played)."""
    copy = root / "data"
    shutil.copytree(data, copy)
    if not gemini_answers:
        (bench(copy) / "model_answer" / f"{GEMINI}.jsonl").unlink()
    for path in (bench(copy) / "model_judgment").glob("*/*.jsonl"):
        kept = []
        for row in map(json.loads, path.read_text().splitlines()):
            if row["category"] == CREATIVE:
                if rows == "none":
                    continue
                row["games"][0] = None
            kept.append(row)
        path.write_text("".join(json.dumps(r) + "\n" for r in kept))
    return copy


def show_from_repo(data: Path, *args):
    """show_result.py run from the repository, as a user does: config/ holds the v2.0 settings files."""
    return run_script("show_result.py", "--bench-name", synth_v2.BENCH, "--data-dir", data, *args)


JUDGED = "--model even-model strong-model verbose-model weak-model"  # the models the judgment files judge


@pytest.mark.parametrize("gemini_answers, rows, reason, why, commands", [
    (False, "none", "no baseline answers",
     f"its baseline {GEMINI} has no answers to them: the benchmark does not publish its answers (there is no "
     "{answers}/" + f"{GEMINI}.jsonl)",
     ["python gen_answer.py --setting-file config/gen_answer_arena-hard-v2.0.yaml --data-dir {data} "
      f"--model {GEMINI}", "python gen_judgment.py --setting-file config/arena-hard-v2.0.yaml --data-dir {data} "
      f"--judge {JUDGE} {JUDGED}"]),
    (True, "none", "not judged", f"no judgment of its questions against {GEMINI} by {JUDGE}",
     ["python gen_judgment.py --setting-file config/arena-hard-v2.0.yaml --data-dir {data} "
      f"--judge {JUDGE} {JUDGED}"]),
    (True, "null", "no verdicts", "none of its 1000 judgment rows has an accepted label in both games (a new run "
     "plays the games never played; for texts without a label: a small judge often writes a verdict only when "
     "asked for JSON: structured_verdicts: true in the judge settings (docs/judges.md); a judge with its own way of "
     "writing one needs regex_patterns)",
     ["python gen_judgment.py --setting-file config/arena-hard-v2.0.yaml --data-dir {data} "
      f"--judge {JUDGE} {JUDGED}"]),
])
def test_a_category_that_cannot_be_scored_is_listed_with_why_and_the_commands_that_fix_it(
        data, tmp_path, gemini_answers, rows, reason, why, commands):
    copy = without_creative_verdicts(data, tmp_path, gemini_answers, rows)
    why = why.format(answers=bench(copy) / "model_answer")
    commands = [c.format(data=copy) for c in commands]
    out = show_from_repo(copy, "--csv", tmp_path / "t.csv")
    assert out.returncode == 0, out.stderr
    assert "##### category: hard_prompt" in out.stdout and "##### category: creative_writing" not in out.stdout
    lines = out.stdout.splitlines()
    at = lines.index(f"NOT SCORED {CREATIVE}: 250 questions (baseline {GEMINI}): {reason}: {why}. To score it, run:")
    assert lines[at + 1:at + 1 + len(commands)] == [f"  {c}" for c in commands]
    table = read_v2_csv(tmp_path / "t.csv")
    missing = table[CREATIVE, ""]
    assert (missing["questions"], missing["covered_questions"], missing["score"], missing["baseline"]) == \
        ("250", "0", "", GEMINI)
    assert missing["missing_reason"] == f"{reason}: {why}; to score it, run: " + " ; then: ".join(commands)
    assert {row["missing_reason"] for key, row in table.items() if key[0] == HARD} == {""}
    # asked for by name, it is an error with the same why and fix
    asked = show_from_repo(copy, "--category", HARD, CREATIVE)
    assert asked.returncode == 2 and asked.stdout == ""
    assert asked.stderr.strip().splitlines() == [
        f"error: --category: no counted judgments in category '{CREATIVE}': {missing['missing_reason']}"]


# ---------------------------------------------------------------- style control


def answer_metadata(data: Path, model: str) -> dict[str, tuple[float, ...]]:
    """uid -> (tokens, headers, lists, bold), each count dict summed."""
    out = {}
    for line in (bench(data) / "model_answer" / f"{model}.jsonl").read_text().splitlines():
        a = json.loads(line)
        m = a["metadata"]
        out[a["uid"]] = (m["token_len"], sum(m["header_count"].values()), sum(m["list_count"].values()),
                         sum(m["bold_count"].values()))
    return out


def v2_features(mine, base) -> list[float]:
    """length, header, list and bold features of one unit, as v2.0 defines them."""
    feats = [(mine[0] - base[0]) / (mine[0] + base[0])]
    for k in (1, 2, 3):
        dm, db = mine[k] / (mine[0] + 1), base[k] / (base[0] + 1)
        feats.append((dm - db) / (dm + db + 1))
    return feats


def sklearn_style_fit(data: Path, category: str, baseline: str, columns: list[int]):
    """Win rates (%) and feature coefficients of v2's unpenalised style fit, done by scikit-learn."""
    from sklearn.linear_model import LogisticRegression

    meta = {}
    units = []  # (model, features, share), one per counted unit
    for row in judgment_rows(data):
        games = game_outcomes(row)
        if not in_category(row, category) or None in games:
            continue
        for model in (row["model"], baseline):
            if model not in meta:
                meta[model] = answer_metadata(data, model)
        feats = v2_features(meta[row["model"]][row["_uid"]], meta[baseline][row["_uid"]])
        for share, strong in games:
            units.extend([(row["model"], [feats[c] for c in columns], share)] * (3 if strong else 1))
    models = sorted({u[0] for u in units})
    # standardised over the units with the sample standard deviation
    centre = [statistics.mean(u[1][j] for u in units) for j in range(len(columns))]
    spread = [statistics.stdev(u[1][j] for u in units) for j in range(len(columns))]
    X, y, w = [], [], []
    for model, feats, share in units:
        x = [1.0 if model == m else 0.0 for m in models] + [(f - c) / s for f, c, s in zip(feats, centre, spread)]
        for label, weight in ((1, share), (0, 1 - share)):
            if weight > 0:
                X.append(x)
                y.append(label)
                w.append(weight)
    fit = LogisticRegression(C=np.inf, fit_intercept=False, tol=1e-12, max_iter=10000)  # C=inf: no penalty
    fit.fit(np.array(X), np.array(y), sample_weight=np.array(w))
    beta = fit.coef_[0]
    rates = {m: 100 / (1 + math.exp(-beta[i])) for i, m in enumerate(models)}
    return rates, list(beta[len(models):])


def printed_coefficients(stdout: str) -> list[dict[str, float]]:
    return [{k: float(v) for k, v in re.findall(r"'(\w+)': ([-\d.]+)", line)}
            for line in stdout.splitlines() if line.startswith("Style Coefficients")]


STYLE_MODES = {"--style-control": ["length", "header_density", "list_density", "bold_density"],
               "--length-control-only": ["length"],
               "--markdown-control-only": ["header_density", "list_density", "bold_density"]}
ALL_FEATURES = STYLE_MODES["--style-control"]


@pytest.mark.parametrize("flag", list(STYLE_MODES))
def test_style_control_is_the_converged_unpenalised_fit(data, tmp_path, flag):
    names = STYLE_MODES[flag]
    categories = [HARD, CREATIVE] if flag == "--style-control" else [CREATIVE]  # two -c crashed the original
    out = show_v2(data, flag, "--category", *categories, "--csv", tmp_path / "t.csv")
    table = read_v2_csv(tmp_path / "t.csv")
    for category, printed in zip(categories, printed_coefficients(out.stdout)):
        baseline = synth_v2.BASELINES[category]
        rates, coefs = sklearn_style_fit(data, category, baseline, [ALL_FEATURES.index(n) for n in names])
        assert list(printed) == names
        assert list(printed.values()) == pytest.approx(coefs, abs=1.5e-3)
        for model, rate in rates.items():  # by name: each number sits on its model's row
            assert float(table[category, model]["score"]) == pytest.approx(rate, abs=1e-3), (category, model)
        assert float(table[category, baseline]["score"]) == 50.0
    assert "converged" in out.stdout and "50 float32 L-BFGS" in out.stdout


def test_style_control_without_metadata_names_the_file_the_question_and_the_fix(data, tmp_path):
    broken = tmp_path / "data"
    shutil.copytree(data, broken)
    path = bench(broken) / "model_answer" / "weak-model.jsonl"
    answers = [json.loads(line) for line in path.read_text().splitlines()]
    answers[-1]["metadata"] = {"token_len": 10}  # counts missing
    path.write_text("".join(json.dumps(a) + "\n" for a in answers))
    out = show_v2(broken, "--style-control", check=False)
    assert out.returncode == 2 and out.stdout == ""
    message = out.stderr.strip()
    assert len(message.splitlines()) == 1 and str(path) in message and answers[-1]["uid"] in message
    assert "python -m utils.add_markdown_info --dir" in message


# ---------------------------------------------------------------- errors and other outputs


def test_an_unknown_category_is_one_clear_error(data):
    out = show_v2(data, "--category", "poetry", check=False)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines() == [
        "error: --category: unknown category 'poetry' (categories here: hard_prompt, math, coding, creative_writing)"]


@pytest.mark.parametrize("flag", ["--load-battles", "--load-bootstrap", "--first-game-only", "--output", "--show-elo"])
def test_flags_of_v01_battles_are_refused(data, flag):
    out = show_v2(data, flag, check=False)
    assert out.returncode == 2 and out.stderr.startswith(f"error: {flag}: has no meaning with --method arena-hard-v2")
    assert not list(data.rglob("arena_hard_battles.jsonl")) and not list(data.rglob("bootstrapping_results.jsonl"))


def test_the_html_report_shows_a_table_per_category(data, tmp_path):
    show_v2(data, "--html", tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    report = json.loads(block)
    assert [b["title"] for b in report["boards"]] == [
        f"Category {HARD} (baseline {O3}, 500 questions)", f"Category {CREATIVE} (baseline {GEMINI}, 250 questions)"]
    creative = next(q for q in report["questions"] if q["category"] == CREATIVE)
    assert creative["baseline"] == GEMINI and len(report["questions"]) == 750
