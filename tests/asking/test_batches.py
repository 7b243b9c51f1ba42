"""Batch mode (--batch, batch: true) against the scripted server's OpenAI and Anthropic batch endpoints.

Each test runs gen_answer.py or gen_judgment.py as a user would. The server
answers every line of a batch the way it would answer the same request sent
directly (its rules), so a test can compare the two; it counts the batches
created and the direct chat requests, which is what a user pays for.
ARENA_TEST_BATCH_POLL_SECONDS makes the runs look at their batches every
0.05 s instead of every 10 to 60 s; ARENA_TEST_BATCH_MAX_REQUESTS lowers the
provider's request limit per batch (both read by utils/asking for tests only).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from tests.helpers import (JUDGED_BENCH, JUDGING_BASE, JUDGING_JUDGE as JUDGE, ROOT, SENTINEL, configure_answering,
                           lay_out_judging, make_questions, read_jsonl, revise_answer, run_script, stored_answers,
                           stored_judgments, write_jsonl)
from tests.scripted_server import Answer, Canceled, Expired, ScriptedServer, Status
from utils.asking.judge_prompts import FINISH_REQUEST

FAST = {"ARENA_TEST_BATCH_POLL_SECONDS": "0.05", "ARENA_TEST_KEY": SENTINEL}
RUNNING = 4  # the exit status of a --no-wait run whose batches still run


def gen(script: str, args, *flags, env=None):
    return run_script(script, *args, *flags, env={**FAST, **(env or {})}, timeout=120)


def state_file(path):
    return path.with_name(path.name + ".batches.json")


def answer_file(tmp_path, model="model-a"):
    return tmp_path / f"data/faults/model_answer/{model}.jsonl"


def judgment_file(tmp_path, model="m-one"):
    return tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGE / f"{model}.jsonl"


def uid_of(text: str) -> str:
    """The question id in a request of make_questions' questions ("Question number 3: ..." -> q0003)."""
    return f"q{int(text.split('Question number ')[1].split(':')[0]):04d}"


# ---------------------------------------------------------------- answers


@pytest.mark.parametrize("api_type", ["openai", "anthropic", "azure"])
def test_answers_come_from_batches_with_the_bodies_direct_requests_send(tmp_path, scripted_server, api_type):
    questions = [*make_questions(3), {"uid": "multi", "category": "test",
                                      "turns": [{"content": "First turn?"}, {"content": "Second turn?"}]}]
    extra = {"openai": "  reasoning_effort: high\n  system_prompt: Be brief.\n",
             "azure": "  system_prompt: Be brief.\n",
             "anthropic": "  system_prompt: Be brief.\n  thinking: {budget_tokens: 1024}\n  max_tokens: 2048\n",
             }[api_type]
    direct_server = ScriptedServer().start()
    try:
        for server, root, flags in ((direct_server, tmp_path / "direct", ()),
                                    (scripted_server, tmp_path, ("--batch",))):
            root.mkdir(exist_ok=True)
            args = configure_answering(root, [server], questions=questions, api_type=api_type, extra=extra)
            if api_type == "azure":  # the resource URL, without /v1, and an api_version
                api = (root / "api.yaml").read_text().replace(server.url, server.root_url)
                (root / "api.yaml").write_text(api.replace("      api_key:", "      api_version: '2024-10-21'\n"
                                                                           "      api_key:"))
            proc = gen("gen_answer.py", args, *flags)
            assert proc.returncode == 0, proc.stdout + proc.stderr
        direct = {r.body["messages"][-1]["content"]: r.body for r in direct_server.chat_requests()}
    finally:
        direct_server.stop()

    assert scripted_server.chat_requests() == [], "batch mode sends no direct chat request"
    # the second turn needs the first turn's reply: a follow-up batch holds it alone
    assert [len(b.lines) for b in scripted_server.batches] == [4, 1]
    lines = [line for batch in scripted_server.batches for _, line, _ in batch.lines]
    assert {line.body["messages"][-1]["content"]: line.body for line in lines} == direct
    if api_type != "anthropic":
        endpoint = "/chat/completions" if api_type == "azure" else "/v1/chat/completions"
        assert {b.endpoint for b in scripted_server.batches} == {endpoint}
        assert all(line.body["model"] == "model-a-served" for line in lines)  # Azure: the deployment
    batched = {r["uid"]: r for r in stored_answers(tmp_path)}
    alone = {r["uid"]: r for r in read_jsonl(tmp_path / "direct/data/faults/model_answer/model-a.jsonl")}
    assert list(batched) == [q["uid"] for q in questions]
    for uid, record in batched.items():
        assert record["batch"] is True and "batch" not in alone[uid]
        assert record["messages"] == alone[uid]["messages"]
        assert record["metadata"] == alone[uid]["metadata"] and record["usage"] == alone[uid]["usage"]
    assert not state_file(answer_file(tmp_path)).exists(), "the state file goes once everything is stored"


def test_a_batch_reports_its_progress_from_the_providers_counts(tmp_path, scripted_server):
    scripted_server.batch_polls = 3
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(8))
    proc = gen("gen_answer.py", args, "--batch")
    assert proc.returncode == 0, proc.stderr
    # looks 1 to 3 find it in progress with 8 * k / 4 done (the server's counts), look 4 finds it ended
    for done in (2, 4, 6):
        assert f"model-a: batch batch_1: in_progress, {done}/8 done, 0 failed\n" in proc.stderr
    assert "model-a: batch batch_1: completed, 8/8 done, 0 failed\n" in proc.stderr


def test_a_run_is_split_into_one_batch_per_provider_limit(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(10))
    proc = gen("gen_answer.py", args, "--batch", env={"ARENA_TEST_BATCH_MAX_REQUESTS": "4"})
    assert proc.returncode == 0, proc.stderr
    assert [len(b.lines) for b in scripted_server.batches] == [4, 4, 2]  # ceil(10 / 4) batches
    ids = [cid for b in scripted_server.batches for cid, _, _ in b.lines]
    assert len(ids) == len(set(ids)) == 10
    assert len(stored_answers(tmp_path)) == 10 and scripted_server.chat_requests() == []


def test_batch_true_in_the_entry_batches_that_model_alone(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], models=("model-a", "model-b"),
                               questions=make_questions(2))
    api = (tmp_path / "api.yaml").read_text()
    (tmp_path / "api.yaml").write_text(api.replace("model-b:\n", "model-b:\n  batch: true\n"))
    proc = gen("gen_answer.py", args)
    assert proc.returncode == 0, proc.stderr
    assert {line.body["model"] for line in scripted_server.batch_lines} == {"model-b-served"}
    assert {r.body["model"] for r in scripted_server.chat_requests()} == {"model-a-served"}
    assert all(r["batch"] for r in stored_answers(tmp_path, "model-b"))
    assert not any("batch" in r for r in stored_answers(tmp_path, "model-a"))


# ---------------------------------------------------------------- failed and expired lines


def first_batch_line_of(uid: str):
    """A rule's test: true for the first batch line that asks question ``uid``, false for everything else."""
    seen = []

    def test(req) -> bool:
        if seen or req.batch is None or not req.last_user_text.startswith("Question number"):
            return False
        if uid_of(req.last_user_text) != uid:
            return False
        seen.append(req.batch)
        return True
    return test


@pytest.mark.parametrize("api_type, failures", [
    ("openai", {"q0001": Status(500, message="server fell over"), "q0002": Expired()}),
    ("anthropic", {"q0001": Status(529, message="overloaded"), "q0002": Expired(), "q0003": Canceled()}),
])
def test_failed_and_expired_lines_are_listed_and_sent_again_in_a_follow_up_batch(tmp_path, scripted_server,
                                                                                 api_type, failures):
    scripted_server.rules = [(first_batch_line_of(uid), action) for uid, action in failures.items()]
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(5), api_type=api_type)
    proc = gen("gen_answer.py", args, "--batch")
    assert proc.returncode == 0, proc.stdout + proc.stderr

    first_batch, follow_up = scripted_server.batches
    assert len(first_batch.lines) == 5
    failed_ids = {cid for cid, line, _ in first_batch.lines if uid_of(line.last_user_text) in failures}
    assert {cid for cid, _, _ in follow_up.lines} == failed_ids, "the same requests, with the same ids, once more"
    assert scripted_server.chat_requests() == []
    assert [r["uid"] for r in stored_answers(tmp_path)] == [f"q{i:04d}" for i in range(5)]
    assert all(r["batch"] for r in stored_answers(tmp_path))
    assert f"batch {first_batch.id}: {len(failures)} request(s) failed or expired:" in proc.stderr
    for uid in failures:
        assert f"  question {uid}: " in proc.stderr and "sent again in a follow-up batch" in proc.stderr


def test_with_fallback_direct_failed_lines_are_asked_directly_at_full_price(tmp_path, scripted_server):
    scripted_server.rules = [(first_batch_line_of("q0000"), Status(503)), (first_batch_line_of("q0003"), Expired())]
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(4))
    proc = gen("gen_answer.py", args, "--batch", "--batch-fallback", "direct")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(scripted_server.batches) == 1
    assert sorted(uid_of(r.last_user_text) for r in scripted_server.chat_requests()) == ["q0000", "q0003"]
    records = {r["uid"]: r for r in stored_answers(tmp_path)}
    assert [uid for uid, r in records.items() if not r.get("batch")] == ["q0000", "q0003"]
    assert "sent again directly" in proc.stderr


def test_a_line_that_would_fail_again_is_reported_not_resent_and_a_rerun_retries_it(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: "number 1:" in r.last_user_text, Status(400, message="bad request"))]
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(3))
    proc = gen("gen_answer.py", args, "--batch")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert len(scripted_server.batches) == 1
    assert "model-a / q0001: HTTP 400: bad request" in proc.stdout
    assert [r["uid"] for r in stored_answers(tmp_path)] == ["q0000", "q0002"]
    assert not state_file(answer_file(tmp_path)).exists(), "the ended batch holds nothing more for anyone"

    scripted_server.rules = []
    again = gen("gen_answer.py", args, "--batch")
    assert again.returncode == 0, again.stdout + again.stderr
    assert [len(b.lines) for b in scripted_server.batches] == [3, 1]
    assert [r["uid"] for r in stored_answers(tmp_path)] == ["q0000", "q0001", "q0002"]
    assert not state_file(answer_file(tmp_path)).exists()


def test_an_empty_reply_from_a_batch_is_not_read_again_the_rerun_asks_anew(tmp_path, scripted_server):
    scripted_server.rules = [(first_batch_line_of("q0001"), Answer(""))]
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(3))
    proc = gen("gen_answer.py", args, "--batch")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "q0001: empty answer" in proc.stdout
    assert [r["uid"] for r in stored_answers(tmp_path)] == ["q0000", "q0002"]

    again = gen("gen_answer.py", args, "--batch")  # the first batch's empty result is used up: q0001 goes anew
    assert again.returncode == 0, again.stdout + again.stderr
    assert [len(b.lines) for b in scripted_server.batches] == [3, 1]
    assert [r["uid"] for r in stored_answers(tmp_path)] == ["q0000", "q0001", "q0002"]
    assert not state_file(answer_file(tmp_path)).exists()

# ---------------------------------------------------------------- judgments


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_judging_with_batch_stores_every_verdict_and_makes_no_direct_call(tmp_path, scripted_server, api_type):
    scripted_server.rules = [(lambda r: True, Answer("The second one. [[B>A]]"))]
    args = lay_out_judging(tmp_path, scripted_server, api_type=api_type)
    # an earlier run stored q2's game 1 only: its game 2 is played, and the record completed
    done = {"user_prompt": "p", "judgment": "[[A>B]]", "score": "A>B", "usage": {}, "attempts": 1}
    write_jsonl(judgment_file(tmp_path), [{"uid": "q2", "category": "general", "judge": JUDGE, "model": "m-one",
                                           "baseline": "base-m", "games": [done, None]}])
    proc = gen("gen_judgment.py", args, "--batch")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert scripted_server.chat_requests() == []
    assert sorted(len(b.lines) for b in scripted_server.batches) == [7, 8]  # one batch per judgment file
    for model in ("m-one", "m-two"):
        records = stored_judgments(tmp_path, model)
        assert [r["uid"] for r in records] == ["q0", "q1", "q2", "q3"]
        for r in records:
            for g, game in enumerate(r["games"]):
                if model == "m-one" and r["uid"] == "q2" and g == 0:
                    assert game == done
                    continue
                assert game["score"] == "B>A" and game["batch"] is True and game["usage"]["completion_tokens"] > 0
    assert "1 judgment(s) completed" in proc.stdout
    assert not state_file(judgment_file(tmp_path)).exists()


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_judging_makes_one_batch_per_provider_limit_chunk(tmp_path, scripted_server, api_type):
    scripted_server.rules = [(lambda r: True, Answer("[[A=B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, api_type=api_type)
    proc = gen("gen_judgment.py", args, "--batch", env={"ARENA_TEST_BATCH_MAX_REQUESTS": "3"})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # each judgment file's 8 games (4 questions x 2) in chunks of at most 3
    assert sorted(len(b.lines) for b in scripted_server.batches) == [2, 2, 3, 3, 3, 3]
    assert scripted_server.chat_requests() == []
    assert all(len(stored_judgments(tmp_path, m)) == 4 for m in ("m-one", "m-two"))


def second_game_of(model: str, uid: str):
    """A rule's test: true for game 2 of ``model``'s judgment of ``uid`` (the model's answer shown first)."""
    def test(req) -> bool:
        text = req.last_user_text or ""
        mine, base = f"{model} answers {uid}", f"{JUDGING_BASE} answers {uid}"
        return mine in text and base in text and text.index(mine) < text.index(base)
    return test


def test_a_game_that_failed_in_a_batch_is_all_the_rerun_and_its_estimate_ask_for(tmp_path, scripted_server):
    scripted_server.rules = [(second_game_of("m-one", "q1"), Status(400, message="bad request")),
                             (lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    api = tmp_path / "api.yaml"
    api.write_text(api.read_text().replace("  endpoints:", "  price: {input: 1, output: 1}\n  endpoints:"))
    first = gen("gen_judgment.py", args, "--batch")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "1 stored with one game missing" in first.stdout
    assert not state_file(judgment_file(tmp_path)).exists(), "the batch holds nothing still wanted"

    estimate = gen("gen_judgment.py", args, "--dry-run", "--json")
    assert estimate.returncode == 0 and json.loads(estimate.stdout)["requests"] == 1
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    capped = gen("gen_judgment.py", args, "--max-cost", "5")  # no earlier batch stands in a capped run's way
    assert capped.returncode == 0, capped.stdout + capped.stderr
    assert len(scripted_server.chat_requests()) == 1
    assert all(None not in r["games"] for r in stored_judgments(tmp_path, "m-one"))


def test_a_reply_without_a_label_is_asked_to_finish_in_a_follow_up_batch(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: FINISH_REQUEST in r.last_user_text, Answer("So: [[A=B]]")),
                             (lambda r: True, Answer("Both answers have merits."))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    proc = gen("gen_judgment.py", args, "--batch")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first, follow_up = scripted_server.batches
    assert len(first.lines) == 8 and len(follow_up.lines) == 8
    for _, line, _ in follow_up.lines:
        messages = line.body["messages"]
        assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
        assert messages[2]["content"] == "Both answers have merits." and messages[3]["content"] == FINISH_REQUEST
    for r in stored_judgments(tmp_path, "m-one"):
        for game in r["games"]:
            assert game["score"] == "A=B" and game["attempts"] == 2 and game["batch"] is True
            assert game["judgment"] == "Both answers have merits.\n\nSo: [[A=B]]"
    assert scripted_server.chat_requests() == []


# ---------------------------------------------------------------- never paying twice


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_a_run_killed_while_polling_is_resumed_by_the_rerun_without_a_new_batch(tmp_path, scripted_server, api_type):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    scripted_server.batches_held = True
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), api_type=api_type)
    proc = subprocess.Popen([sys.executable, str(ROOT / "gen_judgment.py"), *map(str, args), "--batch"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                            env={**os.environ, **FAST})
    polled = scripted_server.wait_for(lambda s: any(r.method == "GET" and "/batches/" in r.path for r in s.requests))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert polled and len(scripted_server.batches) == 1, "the batch was submitted and polled before the kill"
    state = json.loads(state_file(judgment_file(tmp_path)).read_text())
    assert [b["id"] for b in state["batches"]] == [scripted_server.batches[0].id]
    assert SENTINEL not in state_file(judgment_file(tmp_path)).read_text() and "api_key" not in json.dumps(state)

    scripted_server.batches_held = False
    again = gen("gen_judgment.py", args, "--batch")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(scripted_server.batches) == 1, "the rerun collected the batch instead of paying again"
    assert scripted_server.chat_requests() == []
    assert all(g["score"] == "A>B" for r in stored_judgments(tmp_path, "m-one") for g in r["games"])
    assert "collecting them rather than asking again" in again.stderr
    assert not state_file(judgment_file(tmp_path)).exists()

    seen = len(scripted_server.requests)
    third = gen("gen_judgment.py", args, "--batch")
    assert third.returncode == 0 and len(scripted_server.requests) == seen, "stored results are not fetched again"


def test_a_trial_on_the_first_questions_keeps_the_paid_batch_results_of_the_others(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[B>A]]"))]
    scripted_server.batches_held = True
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    assert gen("gen_judgment.py", args, "--batch", "--no-wait").returncode == RUNNING
    scripted_server.batches_held = False
    trial = gen("gen_judgment.py", args, "--first", "1")  # collects the batch, stores only q0
    assert trial.returncode == 0, trial.stdout + trial.stderr
    assert [r["uid"] for r in stored_judgments(tmp_path, "m-one")] == ["q0"]
    assert state_file(judgment_file(tmp_path)).exists(), "the batch still holds q1..q3, paid for"
    full = gen("gen_judgment.py", args)
    assert full.returncode == 0, full.stdout + full.stderr
    assert len(stored_judgments(tmp_path, "m-one")) == 4
    assert len(scripted_server.batches) == 1 and scripted_server.chat_requests() == [], "nothing paid twice"
    assert not state_file(judgment_file(tmp_path)).exists()


def test_no_wait_submits_and_stops_and_a_later_run_collects(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[B>A]]"))]
    scripted_server.batches_held = True
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    api = tmp_path / "api.yaml"  # a password in the URL must not reach the state file either
    api.write_text(api.read_text().replace("http://127.0.0.1", "http://user:pw-in-the-url@127.0.0.1"))
    first = gen("gen_judgment.py", args, "--batch", "--no-wait")
    assert first.returncode == RUNNING, first.stdout + first.stderr
    assert "run the same command again later" in first.stdout
    assert "pw-in-the-url" not in state_file(judgment_file(tmp_path)).read_text() + first.stdout + first.stderr
    assert "4 waiting for a provider batch" in first.stdout
    assert "0 failed, 4 waiting in a batch" in first.stderr
    assert not judgment_file(tmp_path).exists() or stored_judgments(tmp_path, "m-one") == []
    assert len(scripted_server.batches) == 1

    estimate = gen("gen_judgment.py", args, "--dry-run", "--json")  # what waits in a batch is paid already
    assert estimate.returncode == 0, estimate.stderr
    assert json.loads(estimate.stdout)["requests"] == 0
    assert any("8 request(s) are in provider batches" in note for note in json.loads(estimate.stdout)["notes"])

    second = gen("gen_judgment.py", args, "--batch", "--no-wait")  # still running: reported, not submitted again
    assert second.returncode == RUNNING, second.stdout + second.stderr
    assert len(scripted_server.batches) == 1

    scripted_server.batches_held = False
    third = gen("gen_judgment.py", args)  # without --batch: the state file alone says where the requests are
    assert third.returncode == 0, third.stdout + third.stderr
    assert len(scripted_server.batches) == 1 and scripted_server.chat_requests() == []
    records = stored_judgments(tmp_path, "m-one")
    assert len(records) == 4 and all(g["score"] == "B>A" and g["batch"] for r in records for g in r["games"])
    assert not state_file(judgment_file(tmp_path)).exists()


def test_no_wait_while_re_judging_keeps_the_running_batch_listed(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    assert gen("gen_judgment.py", args).returncode == 0
    revise_answer(tmp_path, "m-one", "q2", "m-one answers q2, revised", "m-one-q2-v2")
    scripted_server.batches_held = True
    first = gen("gen_judgment.py", args, "--batch", "--no-wait")  # q2's old judgment is still in the file
    assert first.returncode == RUNNING, first.stdout + first.stderr
    assert state_file(judgment_file(tmp_path)).exists(), "the batch runs: the file listing it must stay"

    scripted_server.batches_held = False
    second = gen("gen_judgment.py", args, "--batch")
    assert second.returncode == 0, second.stdout + second.stderr
    assert len(scripted_server.batches) == 1, "the running batch is collected, not submitted and paid again"
    assert not state_file(judgment_file(tmp_path)).exists()


def test_a_damaged_state_file_stops_the_run_before_any_request(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(2))
    state_file(answer_file(tmp_path)).parent.mkdir(parents=True, exist_ok=True)
    state_file(answer_file(tmp_path)).write_text("{not json")
    proc = gen("gen_answer.py", args, "--batch")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "model-a.jsonl.batches.json" in proc.stderr and "delete it to give up their results" in proc.stderr
    assert scripted_server.requests == [] and scripted_server.batches == []


def test_a_batch_that_cannot_be_looked_at_for_a_while_is_looked_at_again(tmp_path, scripted_server):
    scripted_server.batch_looks_failing = 3  # fewer than the looks in a row that give a batch up
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(3), max_retries=0)
    proc = gen("gen_answer.py", args, "--batch")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr.count("scripted: batches unavailable; looking again later") == 3
    assert len(stored_answers(tmp_path)) == 3 and len(scripted_server.batches) == 1


def test_a_damaged_result_line_or_a_page_that_is_not_a_batch_costs_nothing_else(tmp_path, scripted_server):
    scripted_server.result_file_damage = b"<html>this is not json {{{\n"
    scripted_server.batch_looks_html = 2
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(3))
    proc = gen("gen_answer.py", args, "--batch")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and "the reply is not a batch" in proc.stderr
    assert "1 line(s) of the results of batch batch_1 could not be read" in proc.stderr  # downloaded again first
    assert [r["uid"] for r in stored_answers(tmp_path)] == ["q0000", "q0001", "q0002"]
    assert len(scripted_server.batches) == 1


def test_a_batch_whose_creation_reply_was_lost_is_found_not_created_twice(tmp_path, scripted_server):
    scripted_server.batch_replies_lost = 1
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(3))
    proc = gen("gen_answer.py", args, "--batch")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(scripted_server.batches) == 1, "a second batch would be paid for and never collected"
    assert [r["uid"] for r in stored_answers(tmp_path)] == ["q0000", "q0001", "q0002"]


def test_a_batch_given_up_on_stays_listed_and_the_rerun_collects_it(tmp_path, scripted_server):
    scripted_server.batch_looks_failing = 1000
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(3), max_retries=0)
    proc = gen("gen_answer.py", args, "--batch")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "3 answer(s): request in batch batch_1, which could not be followed" in proc.stdout
    assert "run again to resume it" in proc.stdout
    assert stored_answers(tmp_path) == [] and state_file(answer_file(tmp_path)).exists()

    scripted_server.batch_looks_failing = 0
    again = gen("gen_answer.py", args, "--batch")
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(scripted_server.batches) == 1, "its requests were not submitted again"
    assert len(stored_answers(tmp_path)) == 3 and not state_file(answer_file(tmp_path)).exists()


def test_structured_verdicts_fall_back_to_the_next_format_in_a_follow_up_batch(tmp_path, scripted_server):
    verdict = json.dumps({"reasoning": "B is right", "verdict": "B>A"})
    scripted_server.rules = [
        (lambda r: r.body.get("response_format", {}).get("type") == "json_schema",
         Status(400, message="response_format json_schema is not supported")),
        (lambda r: True, Answer(verdict))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), judge_lines="structured_verdicts: true\n")
    proc = gen("gen_judgment.py", args, "--batch")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first, follow_up = scripted_server.batches
    assert {line.body["response_format"]["type"] for _, line, _ in first.lines} == {"json_schema"}
    assert {line.body["response_format"]["type"] for _, line, _ in follow_up.lines} == {"json_object"}
    assert len(first.lines) == len(follow_up.lines) == 8 and scripted_server.chat_requests() == []
    assert all(g["score"] == "B>A" and g["batch"] for r in stored_judgments(tmp_path, "m-one") for g in r["games"])


def test_requests_are_split_by_count_and_by_size():
    from utils.asking.providers.batches import chunks
    # sizes 5, 5, 5, 12, 3, 30 with at most 2 requests and 12 bytes a batch:
    # [5, 5] (2 requests), [5] (5 + 12 > 12), [12], [3]; 30 fits in no batch and is left out
    assert chunks([5, 5, 5, 12, 3, 30], max_requests=2, max_bytes=12) == [[0, 1], [2], [3], [4]]
    assert chunks([], max_requests=2, max_bytes=12) == []


# ---------------------------------------------------------------- endpoints that do not speak batches


def test_an_endpoint_that_answers_batch_calls_with_chat_replies_is_given_up_on_not_polled_for_a_day(tmp_path,
                                                                                                     scripted_server):
    scripted_server.chat_everywhere = True  # e.g. api_base points at a proxy that answers anything with a chat
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(2), max_retries=0)
    proc = gen("gen_answer.py", args, "--batch")  # before: polled "batch chatcmpl-scripted: None" for a day
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "2 answer(s): request could not be submitted: creating the batch: the reply is not a batch (status None)" \
        in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_a_request_answered_twice_in_a_result_file_keeps_its_first_answer_and_says_so(tmp_path, scripted_server,
                                                                                      api_type):
    scripted_server.rules = [(lambda r: True, Answer("The second one. [[B>A]]"))]
    scripted_server.result_duplicate = Answer("Changed my mind. [[A>>B]]")
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), api_type=api_type)
    proc = gen("gen_judgment.py", args, "--batch")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    scores = [g["score"] for r in stored_judgments(tmp_path, "m-one") for g in r["games"]]
    assert scores == ["B>A"] * 8, "the first answer of each request counts"
    batch = scripted_server.batches[0].id
    assert f"batch {batch}: 1 request(s) answered more than once in its results: the first answer kept" in proc.stderr
