"""gen_judgment.py --until-decided and show_result.py --compare on its judgments, against the scripted server.

The judge's verdicts are scripted per model, so every question's paired
difference is known before the run: m-one wins both games of every question
strongly (score 100), m-two ties both (score 50), a difference of 50 points
on each question. The round the run must stop at is then the sequence's on
those differences along the order the seed draws (utils.ranking.sequential,
checked formula by formula in tests/ranking/test_sequential.py).
"""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from tests.helpers import (JUDGED_BENCH, JUDGING_BASE as BASE, JUDGING_JUDGE as JUDGE, gen_judgment, lay_out_judging,
                           one_line_error, read_jsonl, run_script, stored_judgments)
from tests.scripted_server import Answer
from utils.ranking.sequential import random_order, until_decided

N, ROUND, SEED = 40, 5, 7
A, B = "m-one", "m-two"


def which_game(req) -> int:
    """1 when the baseline's answer is shown first (assistant A), else 2."""
    text = next(m["content"] for m in req.body["messages"] if m["role"] == "user")
    return 1 if text.index(f"{BASE} answers") < text.index("m-") else 2


def judged_model(req) -> str:
    text = next(m["content"] for m in req.body["messages"] if m["role"] == "user")
    return A if f"{A} answers" in text else B


def script_judge(server, prices: bool = False) -> None:
    """m-one: a strong win in both games; m-two: a tie in both."""
    usage = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}
    server.rules = [
        (lambda r: judged_model(r) == A and which_game(r) == 1, Answer("[[B>>A]]", usage=usage)),
        (lambda r: judged_model(r) == A, Answer("[[A>>B]]", usage=usage)),
        (lambda r: True, Answer("[[A=B]]", usage=usage))]


@pytest.fixture
def bench(tmp_path, scripted_server):
    questions = [{"uid": f"q{i:02d}", "category": "general", "prompt": f"Question {i}?"} for i in range(N)]
    args = lay_out_judging(tmp_path, scripted_server, questions=questions, models=(A, B))
    script_judge(scripted_server)
    return args


def expected_stop() -> tuple[int, float, float]:
    """(questions judged, lower, upper) where the sequence on the scripted differences stops."""
    rounds = until_decided(np.full(N, 50.0), N, ROUND)
    return rounds.questions, rounds.lower[rounds.stopped], rounds.upper[rounds.stopped]


def interval_printed(line: str) -> tuple[float, float]:
    lo, hi = re.search(r"interval \(this benchmark\) ([-+][\d.]+) to ([-+][\d.]+)", line).groups()
    return float(lo), float(hi)


def test_the_run_stops_at_the_round_the_sequence_says_and_stores_exactly_those_judgments(
        tmp_path, scripted_server, bench):
    proc = gen_judgment([*bench, "--until-decided", A, B, "--round-size", ROUND, "--seed", SEED])
    judged, lower, upper = expected_stop()
    assert judged < N, "the scripted differences must decide before the end, or the test shows nothing"
    assert proc.returncode == 10, proc.stdout + proc.stderr
    rounds = [line for line in proc.stdout.splitlines() if line.startswith("round ")]
    assert len(rounds) == judged // ROUND
    assert rounds[-1].startswith(f"round {judged // ROUND}: {judged}/{N} questions, {A} - {B} +50.00 points")
    assert interval_printed(rounds[-1]) == pytest.approx((lower, upper), abs=0.006)
    assert all(line.endswith(": undecided; cost unknown (a judge without a price)") for line in rounds[:-1])
    assert f"stopped after {judged} of {N} questions: {A} better (the interval lies above 0); exit status 10" \
        in proc.stdout
    first = {f"q{i:02d}" for i in random_order(N, SEED)[:judged]}
    for model in (A, B):
        assert {r["uid"] for r in stored_judgments(tmp_path, model)} == first
    assert len(scripted_server.chat_requests()) == judged * 2 * 2
    state = json.loads((tmp_path / "data" / JUDGED_BENCH / "decisions" / JUDGE / f"{A}__vs__{B}.json").read_text())
    assert state["seed"] == SEED and state["order"] == "random" and len(state["rounds"]) == judged // ROUND

    # show_result --compare: the same interval as the last round printed, beside the bootstrap
    shown = run_script("show_result.py", "--bench-name", JUDGED_BENCH, "--judge-name", JUDGE, "--baseline", BASE,
                       "--data-dir", tmp_path / "data", "--compare", A, B)
    assert shown.returncode == 0, shown.stderr
    line = next(x for x in shown.stdout.splitlines() if x.startswith(f"{A} - {B}: +50.00 points of the per-question"))
    assert f"after the first {judged} of {N} questions" in line
    assert re.search(r"interval ([-+][\d.]+) to ([-+][\d.]+)", line).groups() == \
        re.search(r"interval \(this benchmark\) ([-+][\d.]+) to ([-+][\d.]+)", rounds[-1]).groups()
    assert "paired bootstrap" in shown.stdout and "however often it is looked at" in shown.stdout

    # a normal run of both models judges only the rest
    rest = gen_judgment([*bench, "--model", A, B])
    assert rest.returncode == 0, rest.stderr
    assert len(scripted_server.chat_requests()) == N * 2 * 2
    assert f"{JUDGE} / {A}: {N - judged} new judgments, {judged} already there" in rest.stdout
    full = run_script("show_result.py", "--bench-name", JUDGED_BENCH, "--judge-name", JUDGE, "--baseline", BASE,
                      "--data-dir", tmp_path / "data", "--compare", B, A)
    assert f"{B} - {A}: -50.00 points of the per-question score, interval -50.00 to -50.00 after the first {N} " \
           f"of {N} questions" in full.stdout
    assert "the exact difference" in full.stdout
