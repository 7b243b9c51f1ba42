"""gen_answer.py against the scripted server: retries, permanent failures, secrets, locks, resume.

Every test runs gen_answer.py as a user would, in its own process, against a
real HTTP server on 127.0.0.1 whose replies the test scripts exactly.
"""
from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import (ROOT, SENTINEL, RefusedEndpoint, configure_answering, gen_answer, make_questions,
                           one_line_error, read_jsonl, run_script, stored_answers)
from tests.scripted_server import Answer, Drop, Malformed, ScriptedServer, Status, Trickle

def gaps(requests) -> list[float]:
    return [b.time - a.time for a, b in zip(requests, requests[1:])]


def test_answers_every_question_in_order_with_usage_and_a_rerun_sends_nothing(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], models=("model-a", "org/model-b"))
    first = gen_answer(args)
    assert first.returncode == 0, first.stderr
    for model in ("model-a", "org/model-b"):
        records = stored_answers(tmp_path, model.replace("/", "%2F"))
        assert [r["uid"] for r in records] == [q["uid"] for q in make_questions(6)]
        for r in records:
            assert r["model"] == model
            assert r["messages"][1]["content"]["answer"].startswith("Scripted answer to: Question number")
            assert r["usage"]["completion_tokens"] > 0 and r["usage"]["prompt_tokens"] > 0
            assert r["metadata"]["token_len"] > 0
    sent = scripted_server.chat_requests()
    assert len(sent) == 12
    assert {r.body["model"] for r in sent} == {"model-a-served", "org/model-b-served"}

    second = gen_answer(args)
    assert second.returncode == 0, second.stderr
    assert len(scripted_server.chat_requests()) == 12, "a rerun must not ask again"
    assert "0 new answers, 6 already there" in second.stdout


def test_429_waits_for_retry_after_then_succeeds(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], parallel=1, questions=make_questions(1))
    scripted_server.script.extend([Status(429, retry_after=1.5), Status(429, retry_after=1.5)])
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    sent = scripted_server.chat_requests()
    assert len(sent) == 3 and len(stored_answers(tmp_path)) == 1
    assert all(g >= 1.45 for g in gaps(sent)), gaps(sent)


def test_5xx_are_retried_with_growing_backoff(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], parallel=1, questions=make_questions(1))
    scripted_server.script.extend([Status(500), Status(503), Status(502)])
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    waits = gaps(scripted_server.chat_requests())
    assert len(waits) == 3
    # exponential backoff with jitter: the SDK waits 0.5 * 2^n s less up to 25 %, so each wait is at least
    # 0.375, 0.75, 1.5 s (a busy machine only adds to a wait: these hold under any load), and the first is
    # short (a constant backoff long enough for the third would fail this)
    assert all(w >= least for w, least in zip(waits, (0.375, 0.75, 1.5))), waits
    assert waits[0] < 1.5, waits


def test_timeouts_and_dropped_connections_are_retried(tmp_path, scripted_server):
    # 2 s is far longer than a reply takes on a busy machine, and far shorter than the slow reply's 30 s
    args = configure_answering(tmp_path, [scripted_server], parallel=1, timeout=2.0, questions=make_questions(1))
    scripted_server.script.extend([Answer(delay=30.0), Drop(), Drop()])
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    assert len(scripted_server.chat_requests()) == 4
    assert len(stored_answers(tmp_path)) == 1


@pytest.mark.parametrize("said", [  # llama.cpp's and vLLM's words, Anthropic's, Gemini's (each a 400)
    "This model's maximum context length is 4096 tokens. However, you requested 8248 tokens (4152 in the messages, "
    "4096 in the completion). Please reduce the length of the messages or completion.",
    "input length and `max_tokens` exceed context limit: 4152 + 4096 > 4096 tokens, decrease input length",
    "The input token count (8248) exceeds the maximum number of tokens allowed (4096 tokens)."])
def test_a_prompt_too_long_for_the_models_context_is_reported_with_what_to_change(tmp_path, scripted_server, said):
    # asking again unchanged would fail the same way
    scripted_server.rules = [(lambda r: True, Status(400, message=said))]
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(2))
    proc = gen_answer(args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    reasons = [line for line in proc.stdout.splitlines() if "/ q000" in line]
    assert len(reasons) == 2 and all("4096 tokens" in line for line in reasons), proc.stdout
    assert all("max_tokens" in line and "--n-ctx" in line for line in reasons), proc.stdout
    assert len(scripted_server.chat_requests()) == 2, "a 400 is not retried"
    # the summary does not tell to run again as it is
    assert "2 answer(s) failed (a request failed for good); asked again unchanged they fail again" in proc.stdout
    assert "run again to retry them" not in proc.stdout


def test_permanent_failures_are_reported_not_stored_and_fail_the_run(tmp_path, scripted_server):
    questions = make_questions(5)
    questions[1]["prompt"] = "ALWAYS-500 please"
    questions[3]["prompt"] = "MALFORMED please"
    scripted_server.rules = [(lambda r: "ALWAYS-500" in r.last_user_text, Status(500, message="server on fire")),
                             (lambda r: "MALFORMED" in r.last_user_text, Malformed())]
    args = configure_answering(tmp_path, [scripted_server], max_retries=2, questions=questions)
    proc = gen_answer(args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    stored = [r["uid"] for r in stored_answers(tmp_path)]
    assert stored == ["q0000", "q0002", "q0004"]
    # the summary names model, question and error
    assert "2 answer(s) failed" in proc.stdout
    assert "model-a / q0001: HTTP 500: server on fire" in proc.stdout
    assert "model-a / q0003: malformed response" in proc.stdout
    assert "Traceback" not in proc.stderr
    tries = [r for r in scripted_server.chat_requests() if "ALWAYS-500" in r.last_user_text]
    assert len(tries) == 3, "max_retries 2 means three attempts, then stop"

    # once the endpoint recovers, a rerun asks only for what failed
    scripted_server.rules = []
    before = len(scripted_server.chat_requests())
    again = gen_answer(args)
    assert again.returncode == 0, again.stderr
    assert len(scripted_server.chat_requests()) - before == 2
    assert [r["uid"] for r in stored_answers(tmp_path)] == [q["uid"] for q in questions]


def test_the_api_key_reaches_the_server_and_nothing_else(tmp_path, scripted_server):
    questions = make_questions(3)
    questions[0]["prompt"] = "ECHO-KEY"
    # a hostile or careless server that puts the caller's key into its error message
    scripted_server.rules = [(lambda r: "ECHO-KEY" in r.last_user_text,
                              Status(401, message=f"Incorrect API key provided: {SENTINEL}"))]
    args = configure_answering(tmp_path, [scripted_server], questions=questions)
    proc = gen_answer(args)
    assert proc.returncode == 1
    assert all(r.headers.get("authorization") == f"Bearer {SENTINEL}" for r in scripted_server.chat_requests())
    assert "Incorrect API key provided: ***" in proc.stdout
    assert SENTINEL not in proc.stdout and SENTINEL not in proc.stderr
    written = [p for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert written and not any(SENTINEL.encode() in p.read_bytes() for p in written)


def test_a_second_run_on_the_same_files_is_refused_at_once(tmp_path, scripted_server):
    # the first run's replies wait until the second run has been refused, however slowly it starts
    scripted_server.held = True
    args = configure_answering(tmp_path, [scripted_server], parallel=1, timeout=120.0, questions=make_questions(4))
    cmd = [sys.executable, str(ROOT / "gen_answer.py"), *map(str, args)]
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                             env={**os.environ, "ARENA_TEST_KEY": SENTINEL})
    try:
        assert scripted_server.wait_for(lambda s: s.chat_requests()), "the first run sent no request"
        # the second run asks for the same output file under another served name, so its requests would show
        (tmp_path / "api2.yaml").write_text((tmp_path / "api.yaml").read_text().replace("model-a-served", "second-run"))
        second = gen_answer([str(a).replace("api.yaml", "api2.yaml") for a in args])
        assert second.returncode == 2
        assert "another run is writing this file" in second.stderr and "model-a.jsonl" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
    finally:
        scripted_server.held = False
    assert first.wait(60) == 0
    assert not [r for r in scripted_server.chat_requests() if r.body["model"] == "second-run"]
    assert [r["uid"] for r in stored_answers(tmp_path)] == [q["uid"] for q in make_questions(4)]


def test_an_unfinished_last_line_is_reported_dropped_and_redone(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(4))
    assert gen_answer(args).returncode == 0
    path = tmp_path / "data/faults/model_answer/model-a.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    kept_ids = [r["ans_id"] for r in read_jsonl(path)][:2]
    path.write_bytes(b"".join(lines[:2]) + lines[2][: len(lines[2]) // 2])  # as a kill mid-write leaves it
    before = len(scripted_server.chat_requests())
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    assert "dropping an unfinished last line" in proc.stderr
    assert len(scripted_server.chat_requests()) - before == 2
    records = read_jsonl(path)
    assert [r["uid"] for r in records] == [q["uid"] for q in make_questions(4)]
    assert [r["ans_id"] for r in records[:2]] == kept_ids


def test_multi_turn_questions_are_answered_turn_by_turn(tmp_path, scripted_server):
    questions = [{"question_id": "mt1", "category": "c", "cluster": "k",
                  "turns": [{"content": "First, name a colour."}, {"content": "Now name another."}]}]
    args = configure_answering(tmp_path, [scripted_server], questions=questions)
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    first, second = scripted_server.chat_requests()
    assert [m["role"] for m in second.body["messages"]] == ["user", "assistant", "user"]
    assert second.body["messages"][1]["content"] == "Scripted answer to: First, name a colour."
    record = stored_answers(tmp_path)[0]
    assert [m["role"] for m in record["messages"]] == ["user", "assistant", "user", "assistant"]
    assert record["messages"][3]["content"]["answer"] == "Scripted answer to: Now name another."
    assert record["usage"]["completion_tokens"] == sum(
        len(f"Scripted answer to: {t}".split()) for t in ("First, name a colour.", "Now name another."))


@pytest.mark.parametrize("parallel", [
    3,
    # parallel 40 is split over three SDK clients (16 connections at most each, utils/asking/clients.py):
    # all 40 slots must still be in flight at once, not queued inside httpx
    40,
])
def test_parallel_bounds_and_fills_the_requests_in_flight(tmp_path, scripted_server, parallel):
    # the server lets replies go only in waves of ``parallel``: a client that keeps fewer in flight leaves a wave
    # short (it goes after the server's wave_timeout, and shows in ``waves``), however slow the machine. Each
    # request also waits 0.2 s before it joins its wave: a request beyond ``parallel`` sent with the others
    # arrives meanwhile and raises max_in_flight above ``parallel`` (a correct client passes at any speed)
    scripted_server.wave = parallel
    scripted_server.latency = 0.2
    count = 4 * parallel
    args = configure_answering(tmp_path, [scripted_server], parallel=parallel, questions=make_questions(count))
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    assert scripted_server.waves == [parallel] * 4, "each wave of replies found all the slots in flight"
    assert scripted_server.max_in_flight == parallel
    assert len(stored_answers(tmp_path)) == count == len(scripted_server.chat_requests())


def test_several_endpoints_take_turns(tmp_path):
    servers = [ScriptedServer().start(), ScriptedServer().start()]
    try:
        args = configure_answering(tmp_path, servers, parallel=2, questions=make_questions(12))
        proc = gen_answer(args)
        assert proc.returncode == 0, proc.stderr
        assert [len(s.chat_requests()) for s in servers] == [6, 6]
    finally:
        for s in servers:
            s.stop()


def test_anthropic_models_get_the_system_prompt_and_usage(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], api_type="anthropic", questions=make_questions(2),
                     extra="  system_prompt: Be brief.\n  temperature: 0.3\n")
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    sent = scripted_server.chat_requests()
    assert {r.path for r in sent} == {"/v1/messages"}
    assert all(r.body["system"] == "Be brief." and r.body["temperature"] == 0.3 for r in sent)
    # the SDK sends the key as x-api-key or as a bearer token, depending on its version
    assert all(SENTINEL in (r.headers.get("x-api-key", ""), r.headers.get("authorization", "")[7:]) for r in sent)
    usage = stored_answers(tmp_path)[0]["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0


# ---------------------------------------------------------------- dead endpoints, slow bodies, long waits, keys


@pytest.mark.parametrize("dead", [1, 2])
def test_endpoints_that_refuse_connections_are_given_up_and_the_rest_is_not_sent(tmp_path, dead):
    endpoints = [RefusedEndpoint.make() for _ in range(dead)]
    args = configure_answering(tmp_path, endpoints, parallel=1, max_retries=2, questions=make_questions(30))
    start = time.monotonic()
    proc = gen_answer(args)
    elapsed = time.monotonic() - start
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert stored_answers(tmp_path) == []
    # endpoints take turns, one request at a time: each endpoint is given up after its third refused request
    sent = 3 * dead
    assert "30 answer(s) failed" in proc.stdout
    lines = [line for line in proc.stdout.splitlines() if re.match(r"  model-a / q\d+: ", line)]
    assert len(lines) == sent and all("connection failed after 3 attempts: ConnectError" in x for x in lines), lines
    given_up = "; ".join(f"model-a at {e.url} refused connections (3 in a row)" for e in endpoints)
    assert f"  {30 - sent} answer(s): request not sent: {given_up}" in proc.stdout
    # the requests not sent are said once on stderr, not once each
    assert proc.stderr.count("not sent") == 1, proc.stderr
    # three attempts take 0.5 + 1 s of backoff (less up to 25 %) at least: the 30 questions asked in turn
    # would take over 30 s; a handful of them, plus start-up, well under that
    assert elapsed < 3 * dead * 1.5 + 15, elapsed


def test_a_dead_endpoint_is_dropped_and_the_live_one_answers_the_rest(tmp_path, scripted_server):
    dead = RefusedEndpoint.make()
    args = configure_answering(tmp_path, [scripted_server, dead], parallel=1, max_retries=1,
                               questions=make_questions(12))
    proc = gen_answer(args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # one request at a time, the endpoints in turn: q0001, q0003 and q0005 go to the dead one, which is
    # then dropped (its third failure in a row; the live one's answers in between do not count for it)
    failed = ["q0001", "q0003", "q0005"]
    assert [r["uid"] for r in stored_answers(tmp_path)] == [
        q["uid"] for q in make_questions(12) if q["uid"] not in failed]
    assert len(scripted_server.chat_requests()) == 9
    assert "3 answer(s) failed" in proc.stdout and "not sent" not in proc.stdout


def test_the_timeout_bounds_each_whole_attempt_even_while_the_body_trickles_in(tmp_path, scripted_server):
    # the first reply's body (about 350 bytes) comes a byte every 0.05 s: some 17 s in all, far beyond the
    # 2 s an attempt may take; the second attempt gets an ordinary reply
    args = configure_answering(tmp_path, [scripted_server], parallel=1, timeout=2.0, max_retries=1,
                               questions=make_questions(1))
    scripted_server.script.extend([Trickle(interval=0.05)])
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(stored_answers(tmp_path)) == 1
    first, second = scripted_server.chat_requests()
    assert first.body_bytes_sent < first.body_bytes, "the slow body was not cut off"
    # the first attempt ran its whole 2 s, then the SDK waited its first backoff (0.375 to 0.5 s)
    assert 1.9 < second.time - first.time < 4.5, second.time - first.time


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_a_retry_after_longer_than_we_wait_fails_at_once_saying_when_to_come_back(tmp_path, scripted_server,
                                                                                   api_type):
    scripted_server.rules = [(lambda r: True, Status(429, retry_after=3600, message="quota used up"))]
    args = configure_answering(tmp_path, [scripted_server], parallel=2, max_retries=3, questions=make_questions(6),
                     api_type=api_type)
    before = time.time()
    proc = gen_answer(args)
    after = time.time()
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # the two requests in flight got the 429 and were not retried; the other four were not sent
    assert len(scripted_server.chat_requests()) == 2
    said = (re.escape("the server asked to wait 3600 s before retrying (Retry-After); not waiting that long: "
                      "run again after ") + r"(?:\d{4}-\d\d-\d\d )?(\d\d:\d\d) \(local time\)")
    # the time to come back is an hour after a reply, rounded up to the minute (with its date if not today)
    minutes = range(math.ceil((before + 3600) / 60), math.ceil((after + 3600) / 60) + 1)
    expected = {time.strftime("%H:%M", time.localtime(60 * m)) for m in minutes}
    in_summary = re.findall(said, proc.stdout)
    assert len(in_summary) == 1 and in_summary[0] in expected, proc.stdout
    assert re.search(r"  6 answer\(s\): request to model-a at \S+: " + said, proc.stdout), proc.stdout
    # and said once on stderr, as the first of them failed, not once each
    assert len(re.findall(said, proc.stderr)) == 1, proc.stderr


NEWLINE_KEY = "sk-newline-4b1d2c-do-not-leak"
OTHER_SECRET = "tok-other-9e2c7a-do-not-leak"


@pytest.mark.parametrize("key_in", ["environment", "config"])
def test_keys_are_read_stripped_and_no_secret_is_shown_or_stored(tmp_path, scripted_server, key_in):
    questions = make_questions(3)
    questions[0]["prompt"] = "ECHO-OTHER"
    # a server whose error message carries a secret of the environment that is not this endpoint's key
    scripted_server.rules = [(lambda r: "ECHO-OTHER" in r.last_user_text,
                              Status(401, message=f"token {OTHER_SECRET} is not valid here"))]
    args = configure_answering(tmp_path, [scripted_server], questions=questions)
    if key_in == "config":
        api = tmp_path / "api.yaml"
        api.write_text(api.read_text().replace("${ARENA_TEST_KEY}", f'"{NEWLINE_KEY}\\n"'))
    # OPENAI_LOG=debug: the SDK logs every request and response on stderr, which must not leak either
    env = {"ARENA_TEST_KEY": f"{NEWLINE_KEY}\n", "OTHER_SERVICE_TOKEN": OTHER_SECRET, "OPENAI_LOG": "debug"}
    proc = run_script("gen_answer.py", *args, env=env, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert {r.headers.get("authorization") for r in scripted_server.chat_requests()} == {f"Bearer {NEWLINE_KEY}"}
    assert [r["uid"] for r in stored_answers(tmp_path)] == ["q0001", "q0002"]
    assert "model-a / q0000: HTTP 401: token *** is not valid here" in proc.stdout
    written = [p.read_text() for p in (tmp_path / "data").rglob("*") if p.is_file()]
    for text in (proc.stdout, proc.stderr, *written):
        assert NEWLINE_KEY not in text and OTHER_SECRET not in text


def test_an_input_error_does_not_show_a_secret_it_quotes(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server])
    api = tmp_path / "api.yaml"
    api.write_text(api.read_text().replace("api_type: openai", "api_type: ${OTHER_SERVICE_TOKEN}"))
    proc = run_script("gen_answer.py", *args, env={"ARENA_TEST_KEY": SENTINEL, "OTHER_SERVICE_TOKEN": OTHER_SECRET})
    assert proc.returncode == 2
    assert "api.yaml:3: model-a.api_type: expected one of openai, azure, anthropic, got '***'" in proc.stderr
    assert OTHER_SECRET not in proc.stderr + proc.stdout


INNER_NEWLINE_KEY = "sk-inner-7a1f3e\nd9c2b5-do-not-leak"


@pytest.mark.parametrize("key_in", ["environment", "config", "default variable"])
def test_a_key_with_a_line_break_inside_is_refused_in_one_line_that_shows_no_part_of_it(tmp_path, scripted_server,
                                                                                        key_in):
    args = configure_answering(tmp_path, [scripted_server])
    api = tmp_path / "api.yaml"
    env = {"ARENA_TEST_KEY": INNER_NEWLINE_KEY}
    if key_in == "config":
        api.write_text(api.read_text().replace("${ARENA_TEST_KEY}", json.dumps(INNER_NEWLINE_KEY)))
    elif key_in == "default variable":  # no api_key: the provider's variable holds it
        api.write_text(api.read_text().replace("      api_key: ${ARENA_TEST_KEY}\n", ""))
        env = {"OPENAI_API_KEY": INNER_NEWLINE_KEY}
    proc = run_script("gen_answer.py", *args, env=env, timeout=60)
    line = one_line_error(proc)
    assert "api.yaml:" in line and "model-a.endpoints.0" in line and "control character" in line, line
    if key_in == "default variable":
        assert "OPENAI_API_KEY" in line
    for part in INNER_NEWLINE_KEY.split("\n"):
        assert part not in proc.stdout + proc.stderr
    assert scripted_server.requests == []


def test_a_reply_that_echoes_a_key_is_stored_and_shown_with_the_key_masked(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer(f"Your key is {SENTINEL}, keep it safe.",
                                                     reasoning_content=f"They sent {SENTINEL} in the header"))]
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(2))
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for record in stored_answers(tmp_path):
        assert record["messages"][1]["content"] == {"answer": "Your key is ***, keep it safe.",
                                                    "reasoning": "They sent *** in the header"}
        assert record["repaired"] == {"secrets_masked": 2}
    written = [p.read_text() for p in (tmp_path / "data").rglob("*") if p.is_file()]
    assert not any(SENTINEL in text for text in [proc.stdout, proc.stderr, *written])


# ---------------------------------------------------------------- progress in a log


def test_progress_written_to_a_pipe_is_plain_lines_per_model(tmp_path, scripted_server):
    questions = make_questions(25)
    questions[7]["prompt"] = "REFUSE this one"
    scripted_server.rules = [(lambda r: "REFUSE" in r.last_user_text, Status(400, message="refused"))]
    args = configure_answering(tmp_path, [scripted_server], models=("model-a", "org/model-b"), parallel=2,
                               questions=questions)
    proc = gen_answer(args)  # stderr is a pipe, as in CI or with 2> run.log
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "\r" not in proc.stderr and "\x1b" not in proc.stderr, "terminal control characters in a log"
    for model in ("model-a", "org/model-b"):
        lines = [line for line in proc.stderr.splitlines() if line.startswith(f"{model}: ")]
        assert lines[0] == f"{model}: asking for 25 answers"
        assert re.fullmatch(rf"{model}: finished 25/25 answers in \d\d:\d\d, 1 failed", lines[-1]), lines[-1]
        # between them, one line per tenth of the work passed: 25 answers pass 9 tenths before the last
        steps = [re.fullmatch(rf"{model}: (\d+)/25 answers \((\d+)%\), [\d.]+/s, ([01]) failed, \d\d:\d\d left", line)
                 for line in lines[1:-1]]
        assert all(steps), lines
        done = [int(m.group(1)) for m in steps]
        assert done == [3, 5, 8, 10, 13, 15, 18, 20, 23], done  # the first count past each tenth: ceil(25 k / 10)
        assert [int(m.group(2)) for m in steps] == [100 * n // 25 for n in done]
    assert proc.stderr.count("failed: model model-a, question q0007: HTTP 400: refused") == 1


def test_a_stopped_run_stores_the_answers_in_flight_and_a_rerun_asks_only_the_rest(tmp_path, scripted_server):
    # the replies the stop waits for are paid: they must reach the file, not die with the writer at the end
    scripted_server.rules = [(lambda r: True, Answer("an answer", usage={"prompt_tokens": 10, "completion_tokens": 5,
                                                                         "total_tokens": 15}))]
    scripted_server.held = True  # every reply waits until the test lets it go
    args = configure_answering(tmp_path, [scripted_server], parallel=4)
    proc = subprocess.Popen([sys.executable, str(ROOT / "gen_answer.py"), *map(str, args)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "ARENA_TEST_KEY": SENTINEL})
    try:
        assert scripted_server.wait_for(lambda s: len(s.chat_requests()) == 4, 60)
        proc.send_signal(signal.SIGTERM)
        for line in proc.stderr:  # the run says it is stopping before the replies are let go
            if "stopping:" in line:
                break
        scripted_server.held = False
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, out + err
    assert len(stored_answers(tmp_path)) == 4, "each reply that arrived is stored"
    assert len(scripted_server.chat_requests()) == 4, "nothing more is sent once stopping"

    questions = len(read_jsonl(tmp_path / "data/faults/question.jsonl"))
    again = gen_answer(args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(scripted_server.chat_requests()) == questions, "the rerun asks only for the answers not stored"
