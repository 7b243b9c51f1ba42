"""The decision's state file: one per pair of models, found whichever way round they are named, and trusted
only when it is what a run of this tool wrote.

The guarantee holds for one decision, whose order and settings were fixed
before its first verdict. A second decision on the same pair with another
seed is a second look at the same models, which the state file exists to
refuse; naming the models the other way round must not make it a new file.
A hand-edited file (an order the seed does not draw, values of the wrong
type, another pair's models) is refused as bad input: one line naming the
file and the key, exit status 2, nothing sent.
"""
from __future__ import annotations

import json
import re

import pytest

from tests.deciding.scripted_bench import (A, B, ROUND, SEED, decisions_dir, lay_out, script_judge,
                                           show_compare)
from tests.helpers import JUDGED_BENCH, JUDGING_BASE as BASE, gen_judgment, one_line_error, read_jsonl, write_jsonl

DECIDE = ["--until-decided", A, B, "--round-size", ROUND, "--seed", SEED]


def rounds_of(proc) -> list[str]:
    return [line for line in proc.stdout.splitlines() if line.startswith("round ")]


def interval(line: str) -> tuple[float, float]:
    lo, hi = re.search(r"interval \(this benchmark\) ([-+][\d.]+) to ([-+][\d.]+)", line).groups()
    return float(lo), float(hi)


def test_the_models_named_the_other_way_round_resume_the_same_decision(tmp_path, scripted_server, bench):
    first = gen_judgment([*bench, *DECIDE])
    assert first.returncode == 10
    asked = len(scripted_server.chat_requests())
    swapped = gen_judgment([*bench, "--until-decided", B, A, "--round-size", ROUND, "--seed", SEED])
    assert swapped.returncode == 11, swapped.stdout + swapped.stderr  # B better, B being m-one here
    assert len(scripted_server.chat_requests()) == asked, "the same decision: nothing is paid again"
    mine, theirs = rounds_of(first), rounds_of(swapped)
    assert len(mine) == len(theirs) and f"{B} - {A} -50.00 points" in theirs[-1] and theirs[-1].endswith(
        f": {A} better; cost unknown (a judge without a price)")
    lo, hi = interval(mine[-1])
    assert interval(theirs[-1]) == (-hi, -lo)
    refused = gen_judgment([*bench, "--until-decided", B, A, "--round-size", ROUND, "--seed", SEED + 1])
    assert "seed: this decision was started with seed 7, not 8" in one_line_error(refused)
    assert len(scripted_server.chat_requests()) == asked
    assert len(list(decisions_dir(tmp_path).iterdir())) == 1
    for a, b in ((A, B), (B, A)):
        shown = show_compare(tmp_path, a, b)
        assert shown.returncode == 0, shown.stderr
        assert f"{a} - {b}: {'+' if a == A else '-'}50.00 points of the per-question score" in shown.stdout


def test_the_judges_named_in_another_order_find_the_same_decision(tmp_path, scripted_server):
    judges = ("judge-1", "judge-2")
    args = lay_out(tmp_path, scripted_server, judges=judges)
    script_judge(scripted_server)
    assert gen_judgment([*args, *DECIDE]).returncode == 10
    asked = len(scripted_server.chat_requests())
    config = tmp_path / "judge.yaml"
    config.write_text(config.read_text().replace("[judge-1, judge-2]", "[judge-2, judge-1]"))
    again = gen_judgment([*args, "--until-decided", B, A, "--round-size", ROUND, "--seed", SEED + 1])
    assert "seed: this decision was started with seed 7, not 8" in one_line_error(again)
    assert len(scripted_server.chat_requests()) == asked
    shown = show_compare(tmp_path, B, A, "judge-2", "judge-1")
    assert f"{B} - {A}: -50.00 points of the per-question score" in shown.stdout, shown.stdout + shown.stderr


def test_names_that_contain_the_separator_do_not_share_a_decision(tmp_path, scripted_server):
    models = ("m__vs__n", "o", "m", "n__vs__o")
    args = lay_out(tmp_path, scripted_server, n=8, models=models)
    script_judge(scripted_server, strong="o")
    first = gen_judgment([*args, "--until-decided", "m__vs__n", "o", "--round-size", 4, "--seed", 3])
    second = gen_judgment([*args, "--until-decided", "m", "n__vs__o", "--round-size", 4, "--seed", 5])
    assert first.returncode == 11 and second.returncode in (10, 11, 12), second.stdout + second.stderr
    assert len(list(decisions_dir(tmp_path).iterdir())) == 2


def test_long_model_names_make_a_state_file_name_within_the_limit(tmp_path, scripted_server):
    long = [("x" * 125) + f"-checkpoint-{i}" for i in range(3)]
    args = lay_out(tmp_path, scripted_server, n=8, models=long)
    script_judge(scripted_server, strong=long[0])
    for other, seed in ((long[1], 3), (long[2], 5)):  # two pairs whose names differ only at the end
        proc = gen_judgment([*args, "--until-decided", long[0], other, "--round-size", 4, "--seed", seed])
        assert proc.returncode == 10, proc.stdout + proc.stderr
    names = [p.name for p in decisions_dir(tmp_path).iterdir()]
    assert len(names) == 2 and all(len(name.encode()) <= 230 for name in names), names
    shown = show_compare(tmp_path, long[2], long[0])
    assert f"{long[2]} - {long[0]}: -50.00 points of the per-question score" in shown.stdout, shown.stderr


def _edit(key, value):
    return lambda doc: doc.__setitem__(key, value(doc) if callable(value) else value)


def _drop(key):
    return lambda doc: doc.pop(key)


EDITS = [
    ("weights", _edit("weights", [1, 2]), "weights"),
    ("seed as text", _edit("seed", "7"), "seed"),
    ("rounds garbage", _edit("rounds", "xx"), "rounds"),
    ("a round without its bounds", _edit("rounds", lambda d: [{"judged": 5}]), "rounds"),
    ("margin as text", _edit("margin", "1"), "margin"),
    ("two questions swapped", _edit("order_ids", lambda d: d["order_ids"][1::-1] + d["order_ids"][2:]),
     "order_ids"),
    ("an unjudged question moved first", _edit("order_ids", lambda d: d["order_ids"][-1:] + d["order_ids"][:-1]),
     "order_ids"),
    ("order_ids missing", _drop("order_ids"), "order_ids"),
    ("another model", _edit("models", [A, "m-three"]), "models"),
    ("another judge", _edit("judges", ["judge-9"]), "judges"),
    ("not an object", lambda doc: None, None),
]


@pytest.mark.parametrize("label, edit, key", EDITS, ids=[e[0] for e in EDITS])
def test_a_hand_edited_state_file_is_one_line_naming_the_file_and_key(tmp_path, scripted_server, bench, label, edit,
                                                                      key):
    assert gen_judgment([*bench, *DECIDE]).returncode == 10
    state_file, = decisions_dir(tmp_path).iterdir()
    doc = json.loads(state_file.read_text())
    edit(doc)
    state_file.write_text(json.dumps(doc if key else [1, 2]))
    asked = len(scripted_server.chat_requests())
    for proc in (gen_judgment([*bench, *DECIDE]), show_compare(tmp_path, A, B)):
        line = one_line_error(proc)
        assert line.startswith(f"error: {state_file}: {key + ': ' if key else ''}"), line
        for internal in ("argument", "object", "NoneType", "()", "Error", "'str'", "('", "indices"):
            assert internal not in line, line
    assert len(scripted_server.chat_requests()) == asked


def test_a_directory_where_the_state_file_goes_is_one_line(tmp_path, scripted_server, bench):
    assert gen_judgment([*bench, *DECIDE]).returncode == 10
    state_file, = decisions_dir(tmp_path).iterdir()
    state_file.unlink()
    state_file.mkdir()
    line = one_line_error(gen_judgment([*bench, *DECIDE]))
    assert line.startswith(f"error: {state_file}: ") and "not a file" in line, line


def test_show_result_after_the_questions_changed_does_not_show_the_old_interval_as_anytime_valid(
        tmp_path, scripted_server, bench):
    assert gen_judgment([*bench, *DECIDE]).returncode == 10
    bench_dir = tmp_path / "data" / JUDGED_BENCH
    questions = read_jsonl(bench_dir / "question.jsonl")
    write_jsonl(bench_dir / "question.jsonl", [*questions, {"uid": "q99", "category": "general",
                                                             "prompt": "Question 99?"}])
    for model in (BASE, A, B):
        path = bench_dir / "model_answer" / f"{model}.jsonl"
        write_jsonl(path, [*read_jsonl(path), {
            "uid": "q99", "ans_id": f"{model}-q99", "model": model, "tstamp": 0,
            "messages": [{"role": "user", "content": "Question 99?"},
                         {"role": "assistant", "content": {"answer": f"{model} answers q99"}}]}])
    shown = show_compare(tmp_path, A, B)
    assert shown.returncode == 0, shown.stderr
    assert "points of the per-question score, interval" not in shown.stdout
    assert "the benchmark's questions changed since this decision started (40 then, 41 now)" in shown.stdout
