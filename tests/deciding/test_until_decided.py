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

from tests.deciding.scripted_bench import A, B, N, PRICE, ROUND, SEED, decisions_dir, show_compare
from tests.helpers import (JUDGED_BENCH, JUDGING_JUDGE as JUDGE, gen_judgment, one_line_error, read_jsonl,
                           stored_judgments, write_jsonl)
from utils.ranking.sequential import random_order, until_decided


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
    state_file, = decisions_dir(tmp_path).iterdir()
    state = json.loads(state_file.read_text())
    assert state["seed"] == SEED and state["order"] == "random" and len(state["rounds"]) == judged // ROUND

    # show_result --compare: the same interval as the last round printed, beside the bootstrap
    shown = show_compare(tmp_path, A, B)
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
    full = show_compare(tmp_path, B, A)
    assert f"{B} - {A}: -50.00 points of the per-question score, interval -50.00 to -50.00 after the first {N} " \
           f"of {N} questions" in full.stdout
    assert "the exact difference" in full.stdout


def test_the_same_command_again_resumes_from_the_stored_judgments_and_another_seed_is_refused(
        tmp_path, scripted_server, bench):
    command = [*bench, "--until-decided", A, B, "--round-size", ROUND, "--seed", SEED]
    first = gen_judgment(command)
    asked = len(scripted_server.chat_requests())
    again = gen_judgment(command)
    assert again.returncode == 10 and len(scripted_server.chat_requests()) == asked, "nothing is paid twice"
    assert [x for x in again.stdout.splitlines() if x.startswith("round ")] == \
        [x for x in first.stdout.splitlines() if x.startswith("round ")]
    other = gen_judgment([*bench, "--until-decided", A, B, "--seed", SEED + 1])
    assert other.returncode == 2 and len(scripted_server.chat_requests()) == asked
    line = one_line_error(other)
    assert f"{A}+vs+{B}.json: seed: this decision was started with seed {SEED!r}, not {SEED + 1!r}" in line


def test_max_cost_stops_with_status_3_and_json_says_so(tmp_path, scripted_server, bench):
    api = tmp_path / "api.yaml"
    api.write_text(api.read_text().replace("  max_retries: 1\n", "  max_retries: 1\n" + PRICE))
    proc = gen_judgment([*bench, "--until-decided", A, B, "--round-size", ROUND, "--seed", SEED,
                         "--max-cost", "0.1", "--json"])
    assert proc.returncode == 3, proc.stdout + proc.stderr
    summary = json.loads(proc.stdout)  # with --json, stdout holds the JSON alone
    assert summary["decision"] == "undecided" and summary["reason"] == "--max-cost reached"
    assert summary["exit_status"] == 3 and summary["seed"] == SEED and summary["scope"] == "benchmark"
    # round 1 (20 games, $0.056) is looked at; round 2 is cut by the cap
    assert [r["judged"] for r in summary["rounds"]] == [ROUND]
    assert summary["rounds"][0]["cost_usd"] == pytest.approx(20 * 0.0028)
    games = sum(g is not None for model in (A, B) for r in stored_judgments(tmp_path, model) for g in r["games"])
    requests = len(scripted_server.chat_requests())
    assert games == requests, "every game paid for is stored"
    assert 0.1 <= requests * 0.0028 <= 0.1 + 0.0028
    assert "undecided: --max-cost reached; exit status 3" in proc.stderr


@pytest.mark.parametrize("flags, fragment", [
    (["--until-decided", A, B, "--batch"], "--until-decided: cannot be combined with --batch"),
    (["--until-decided", A, B, "--model", A], "--until-decided: cannot be combined with --model"),
    (["--until-decided", A, B, "--drift-check", "3"], "--until-decided: cannot be combined with --drift-check"),
    (["--until-decided", A, B, "--order", "informative", "--scope", "general"], "--order: --order informative needs"),
    (["--until-decided", A, A], "--until-decided: name two different models"),
    (["--until-decided", A, B, "--level", "120"], "--level: must be a percentage"),
    (["--model", A, "--seed", "3"], "--seed: only with --until-decided A B"),
    (["--json"], "--json: only with --dry-run or --until-decided"),
])
def test_flags_that_make_no_sense_together_are_one_line_and_exit_2_before_any_request(
        tmp_path, scripted_server, bench, flags, fragment):
    proc = gen_judgment([*bench, *flags])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert fragment in one_line_error(proc)
    assert scripted_server.chat_requests() == []
    assert not (tmp_path / "data" / JUDGED_BENCH / "decisions").exists()


@pytest.mark.parametrize("flags", [["--order", "informative"], ["--scope", "general"]])
def test_show_result_recomputes_the_last_round_of_any_order_and_scope(tmp_path, scripted_server, bench, flags):
    proc = gen_judgment([*bench, "--until-decided", A, B, "--round-size", ROUND, "--seed", SEED, *flags])
    assert proc.returncode in (10, 13), proc.stdout + proc.stderr
    last = [x for x in proc.stdout.splitlines() if x.startswith("round ")][-1]
    judged = int(re.match(r"round \d+: (\d+)/", last).group(1))
    assert len(scripted_server.chat_requests()) == judged * 4
    shown = show_compare(tmp_path, A, B)
    line = next(x for x in shown.stdout.splitlines() if x.startswith(f"{A} - {B}: +50.00 points of the per-question"))
    assert f"after the first {judged} of {N} questions" in line
    assert re.search(r"interval ([-+][\d.]+) to ([-+][\d.]+)", line).groups() == \
        re.search(r"interval \(.*?\) ([-+][\d.]+) to ([-+][\d.]+)", last).groups()


def test_a_question_judging_leaves_uncounted_stops_the_run_instead_of_paying_for_every_round(
        tmp_path, scripted_server, bench):
    """A stored judgment against another baseline is 'already there' for judging but counts for no decision:
    the judged start of the order could never grow past it."""
    first = gen_judgment([*bench, "--until-decided", A, B, "--round-size", ROUND, "--seed", SEED])
    assert first.returncode == 10
    for state_file in decisions_dir(tmp_path).iterdir():
        state_file.unlink()
    path = tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGE / f"{A}.jsonl"
    records = read_jsonl(path)
    third = f"q{random_order(N, SEED)[2]:02d}"
    for record in records:
        if record["uid"] == third:
            record["baseline"] = "an-old-baseline"
    write_jsonl(path, records)
    asked = len(scripted_server.chat_requests())
    again = gen_judgment([*bench, "--until-decided", A, B, "--round-size", ROUND, "--seed", SEED])
    assert again.returncode == 1, again.stdout + again.stderr
    assert len(scripted_server.chat_requests()) == asked, "the first round was stored: nothing more is paid"
    assert f"question {third}" in again.stdout and "no judgment this decision can count" in again.stdout
    assert "exit status 13" not in again.stdout
