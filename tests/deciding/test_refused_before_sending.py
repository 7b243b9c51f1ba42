"""What --until-decided refuses before the first request: answers it could not judge, and settings it cannot use.

A question whose answer is never judged (answer_checks: skip, or an answer
made for another question) could never be scored, so a run that started
would judge round after round without its interval moving, and pay for the
whole benchmark to end undecided. It must be refused like a missing answer:
one line, exit status 2, nothing sent and no state file.
"""
from __future__ import annotations

import pytest

from tests.deciding.scripted_bench import A, B, ROUND, SEED, decisions_dir
from tests.helpers import (JUDGED_BENCH, JUDGING_BASE as BASE, JUDGING_JUDGE, gen_judgment, one_line_error, read_jsonl,
                           revise_answer, write_jsonl)
from utils.ranking.sequential import random_order


def edit_answer(tmp_path, model: str, uid: str, text: str | None = None, prompt: str | None = None) -> None:
    """Give ``model``'s answer to ``uid`` another text, or another stored question (prompt)."""
    path = tmp_path / "data" / JUDGED_BENCH / "model_answer" / f"{model}.jsonl"
    records = read_jsonl(path)
    for record in records:
        if record["uid"] == uid:
            if text is not None:
                record["messages"][1]["content"]["answer"] = text
            if prompt is not None:
                record["messages"][0]["content"] = prompt
    write_jsonl(path, records)


# the sixth question of seed 7's order: in round 2, after a round that would have been paid for
LATE = f"q{random_order(40, SEED)[5]:02d}"


@pytest.mark.parametrize("config, model, edit, fragment", [
    ("answer_checks: {empty: skip}\n", A, {"text": ""}, "empty"),
    ("answer_checks: {truncated: judge, refusal: skip}\n", B, {"text": "I'm sorry, but I can't help with that."},
     "refusal"),
    ("answer_checks: {reasoning: skip}\n", A, {"text": "<think>hmm</think> fine"}, "reasoning"),
])
def test_an_answer_the_checks_skip_is_refused_before_any_request(tmp_path, scripted_server, bench, config, model,
                                                                   edit, fragment):
    judge_file = tmp_path / "judge.yaml"
    judge_file.write_text(judge_file.read_text().replace("model_list:", config + "model_list:"))
    edit_answer(tmp_path, model, LATE, **edit)
    proc = gen_judgment([*bench, "--until-decided", A, B, "--round-size", ROUND, "--seed", SEED])
    line = one_line_error(proc)
    assert f"{model}'s answer to question {LATE}" in line and f"{fragment}: skip" in line, line
    assert f"set {fragment}: judge" in line
    assert scripted_server.chat_requests() == [], "nothing is paid for a decision that cannot be reached"
    assert not decisions_dir(tmp_path).exists()


@pytest.mark.parametrize("model", [B, BASE])
def test_an_answer_made_for_another_question_is_refused_before_any_request(tmp_path, scripted_server, bench, model):
    edit_answer(tmp_path, model, LATE, prompt="Some other question?")
    proc = gen_judgment([*bench, "--until-decided", A, B, "--round-size", ROUND, "--seed", SEED])
    line = one_line_error(proc)
    assert f"{model}'s answer to question {LATE}" in line and "made for another question" in line, line
    assert scripted_server.chat_requests() == []
    assert not decisions_dir(tmp_path).exists()


@pytest.mark.parametrize("more", [[], ["--dry-run"], ["--order", "informative"]])
def test_a_negative_seed_is_one_line_and_exit_2(tmp_path, scripted_server, bench, more):
    proc = gen_judgment([*bench, "--until-decided", A, B, "--seed", "-1", *more])
    assert "--seed: must be a whole number of at least 0, got -1" in one_line_error(proc)
    assert scripted_server.chat_requests() == []


def test_stale_fail_refuses_a_stale_judgment_anywhere_in_the_order_before_round_1_pays(tmp_path, scripted_server,
                                                                                       bench):
    # LATE's judgment is stored, then its answer is edited: stale, and only round 2 would have reached it
    assert gen_judgment([*bench, "--model", A]).returncode == 0
    path = tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGING_JUDGE / f"{A}.jsonl"
    write_jsonl(path, [r for r in read_jsonl(path) if r["uid"] == LATE])
    revise_answer(tmp_path, A, LATE, "a new answer", "new-id")
    asked = len(scripted_server.chat_requests())
    proc = gen_judgment([*bench, "--until-decided", A, B, "--round-size", ROUND, "--seed", SEED, "--stale", "fail"])
    assert "stale" in one_line_error(proc) and "--stale" in one_line_error(proc)
    assert len(scripted_server.chat_requests()) == asked, "no round is paid for before the refusal"
    assert not decisions_dir(tmp_path).exists()
