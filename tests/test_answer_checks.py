"""Answers checked before they are judged, and judgments checked for what they judged.

The checks themselves on hand-made texts; mismatched answers on the shipped
Arena-Hard v0.1 questions and gpt-4-0314 answers; the counts end to end with
answers made by the scripted server; the real published files whose
questions and answers were paired wrongly (tests/fixtures/real-judgments).
"""
from __future__ import annotations

import json
import shutil

import pytest

from tests.helpers import (JUDGED_BENCH, JUDGING_JUDGE as JUDGE, ROOT, configure_answering, gen_answer, gen_judgment,
                           lay_out_judging, make_questions, one_line_error, read_csv, read_jsonl, run_script,
                           stored_answers, stored_judgments, write_jsonl)
from tests.report.test_html_report import data_block
from tests.scripted_server import Answer as Reply
from utils.vocabulary.answer_checks import (answer_issues, judged_prompt_mismatch, off_question, shown_answers,
                                 wrongly_paired)
from utils.asking.judge_checks import plan_counts
from utils.asking.judge_prompts import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, prompt_fields, render_game
from utils.asking.judging import plan
from utils.plumbing.config import JudgePrompt, load_judge_settings
from utils.vocabulary.records import Answer, Question, read_answers, read_questions

V01 = ROOT / "data" / "arena-hard-v0.1"
BASE = "gpt-4-0314"


def answer(*turns, prompts=(), finish_reason=None) -> Answer:
    return Answer(uid="q", model="m", turns=list(turns), prompts=list(prompts),
                  generation={"finish_reason": finish_reason} if finish_reason else None)


QUESTION = Question(uid="q", turns=("Write a haiku about rain.",))


# ---------------------------------------------------------------- the checks on their own


@pytest.mark.parametrize("text", [
    "I'm sorry, but I can't help with that.",
    "I’m sorry, but I cannot provide instructions for that.",  # a curly apostrophe
    "I'm sorry, but I'm unable to write that.\n\nHowever, here is a poem about something else: ...",  # later on
    "  Sorry, I can't do that.",
    "I cannot assist with this request.",
    "I'm unable to help with that.",
    "I can’t fulfill that request.",
    "As an AI language model, I cannot help with that.",
])
def test_refusals_are_recognised(text):
    assert answer_issues(answer(text), QUESTION) == ["refusal"]


@pytest.mark.parametrize("text", [
    "Rain on the tin roof / ... I can't help but smile at it.",  # "can't help" inside a real answer
    "I can't stress enough how calm rain is. Here is the haiku: ...",
    "Sorry for the wait! Here is your haiku: ...",
    "Here is why I cannot recommend that library: it is unmaintained.",
    "As an AI language model, I cannot browse the internet, but here is what I know: ...",  # a disclaimer
    "I'm sorry, but I can't draw here. However, I can describe the flowchart: 1. Start ...",  # a limit, then help
])
def test_answers_that_only_mention_a_limit_are_not_refusals(text):
    assert answer_issues(answer(text), QUESTION) == []


def test_truncated_empty_reasoning_and_mismatched_answers():
    assert answer_issues(answer("Rain falls", finish_reason="length"), QUESTION) == ["truncated"]
    assert answer_issues(answer("Rain falls", finish_reason="max_tokens"), QUESTION) == ["truncated"]  # Anthropic
    assert answer_issues(answer("Rain falls", finish_reason="stop"), QUESTION) == []
    assert answer_issues(answer("   \n"), QUESTION) == ["empty"]
    assert answer_issues(answer("A haiku.", "  "), Question("q", ("one", "two"))) == ["empty"]  # its second turn
    assert answer_issues(answer("<think>rain... 5-7-5</think>Soft rain"), QUESTION) == ["reasoning"]
    assert answer_issues(answer("Soft rain </think>"), QUESTION) == ["reasoning"]
    # the stored prompt is compared with the question's after whitespace is normalised
    assert answer_issues(answer("Soft rain", prompts=["Write a haiku\n about   rain. "]), QUESTION) == []
    assert answer_issues(answer("Soft rain", prompts=["Write a limerick about rain."]), QUESTION) == ["mismatched"]
    assert answer_issues(answer("Soft rain"), QUESTION) == []  # no stored prompt (2024 layout): nothing to compare


@pytest.mark.parametrize("template", [DEFAULT_TEMPLATE[0],
                                      "Q:{QUESTION}|{ANSWER_A}|{ANSWER_B}",
                                      "<|User Prompt|>\n{question_1}\n\n<|A|>\n{answer_1}\n<|/A|>\n\n<|B|>\n{answer_2}"])
def test_the_two_answers_a_judge_saw_are_found_in_the_two_games_prompts(template):
    prompt = JudgePrompt("base", "", (template,), ())
    baseline = Answer("q", "base", ["Soft rain on the roof, a quiet drum all night long, the gutters singing."])
    model = Answer("q", "m", ["Soft clouds: grey wool, then water, the garden drinks deep."])
    games = [render_game(prompt, prompt_fields(QUESTION, *order, None), False)[-1]["content"]
             for order in ((baseline, model), (model, baseline))]
    first, second = shown_answers(*games)
    # both texts start with "Soft " and end with a full stop: text they share at their ends may be cut
    assert first in baseline.text and len(baseline.text) - len(first) <= len("Soft .")
    assert second in model.text and len(model.text) - len(second) <= len("Soft .")
    assert "clouds" not in first and "roof" not in second
    assert judged_prompt_mismatch(games, QUESTION) is False
    assert judged_prompt_mismatch(games, Question("q", ("Write a limerick.",))) is True
    assert judged_prompt_mismatch(["", ""], QUESTION) is None


def test_shipped_answers_fit_their_own_questions_and_shuffled_ones_do_not():
    questions = read_questions(V01 / "question.jsonl")
    texts = {uid: a.text for uid, a in read_answers(V01 / "model_answer" / f"{BASE}.jsonl").items()}
    off = off_question(texts, questions)
    assert len(texts) == 500 and len(off) <= 0.1 * 500 and not wrongly_paired(len(off), 500)
    uids = [q.uid for q in questions]
    shifted = {uid: texts[uids[(i + 1) % len(uids)]] for i, uid in enumerate(uids)}  # each the next one's
    assert wrongly_paired(len(off_question(shifted, questions)), 500)


# ---------------------------------------------------------------- mismatched answers are never judged


def shuffled_bench(tmp_path, server, shuffled: int = 50) -> tuple[list, set[str]]:
    """v0.1's questions and gpt-4-0314's answers, and a model whose answers are gpt-4-0314's with the prompts of
    ``shuffled`` of them moved one place along (so each of those holds another question's prompt)."""
    data = tmp_path / "data"
    bench = data / "arena-hard-v0.1"
    bench.mkdir(parents=True)
    shutil.copyfile(V01 / "question.jsonl", bench / "question.jsonl")
    (bench / "model_answer").mkdir()
    shutil.copyfile(V01 / "model_answer" / f"{BASE}.jsonl", bench / "model_answer" / f"{BASE}.jsonl")
    records = read_jsonl(V01 / "model_answer" / f"{BASE}.jsonl")
    moved = records[100:100 + shuffled]
    prompts = [r["messages"][0]["content"] for r in moved]
    for r, prompt in zip(moved, prompts[1:] + prompts[:1]):
        r["messages"][0]["content"] = prompt
    for r in records:
        r.update(model="shuffled", ans_id=r["ans_id"] + "-s")
        r["messages"][1]["content"]["answer"] += " (a copy)"
    write_jsonl(bench / "model_answer" / "shuffled.jsonl", records)
    (tmp_path / "api.yaml").write_text(f"{JUDGE}:\n  model_name: {JUDGE}\n  parallel: 64\n  max_retries: 0\n"
                                       f"  endpoints:\n    - api_base: {server.url}\n      api_key: k\n")
    (tmp_path / "judge.yaml").write_text(f"bench_name: arena-hard-v0.1\njudge_model: {JUDGE}\n"
                                         f"baseline_model: {BASE}\nmodel_list: [shuffled]\n")
    args = ["--setting-file", tmp_path / "judge.yaml", "--endpoint-file", tmp_path / "api.yaml", "--data-dir", data]
    return args, {r["uid"] for r in moved}


def test_fifty_answers_with_another_questions_prompt_are_reported_and_none_is_judged(tmp_path, scripted_server):
    args, moved = shuffled_bench(tmp_path, scripted_server)
    settings, _ = load_judge_settings(tmp_path / "judge.yaml", DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE)
    questions = read_questions(tmp_path / "data/arena-hard-v0.1/question.jsonl")
    answers = {m: read_answers(tmp_path / f"data/arena-hard-v0.1/model_answer/{m}.jsonl") for m in (BASE, "shuffled")}
    jobs = plan(settings, questions, answers, tmp_path / "data")
    for job in jobs:
        job.store.close()
    (job,) = jobs
    assert plan_counts(job) == {"stale": 0, "mismatched": 50}
    assert len(job.todo) == 450 and not moved & {p.uid for p in job.todo}
    (item,) = json.loads(gen_judgment([*args, "--dry-run", "--json"]).stdout)["items"]
    assert (item["mismatched"], item["stale"], item["requests"]) == (50, 0, 900)  # the 450 others' two games

    refused = gen_judgment(args)
    line = one_line_error(refused)
    answers_file = tmp_path / "data/arena-hard-v0.1/model_answer/shuffled.jsonl"
    first = next(q.uid for q in questions if q.uid in moved)  # the first in question order, at its line of the file
    at = [r["uid"] for r in read_jsonl(answers_file)].index(first) + 1
    assert f"{answers_file}:{at}: messages: 50 answer(s) of shuffled were made for another question" in line
    assert f"(question {first};" in line
    assert "--allow-mismatch" in line
    assert not scripted_server.chat_requests()
    assert "mismatched answers of shuffled are never judged" in refused.stdout

    scripted_server.rules = [(lambda r: True, Reply("[[A=B]]"))]
    allowed = gen_judgment([*args, "--allow-mismatch"])
    assert allowed.returncode == 0, allowed.stderr
    judged = {r["uid"] for r in read_jsonl(tmp_path / f"data/arena-hard-v0.1/model_judgment/{JUDGE}/shuffled.jsonl")}
    assert len(judged) == 450 and not judged & moved
    assert len(scripted_server.chat_requests()) == 900
    assert "of 500 answers of shuffled: 50 mismatched" in allowed.stdout


# ---------------------------------------------------------------- the counts, end to end


def test_truncated_empty_refused_and_reasoning_answers_are_counted_and_skipped_as_configured(tmp_path,
                                                                                              scripted_server):
    questions = make_questions(6)
    answering = tmp_path / "answering"
    answering.mkdir()
    scripted_server.rules = [
        (lambda r: "number 0" in r.last_user_text, Reply("Half an ans", finish_reason="length")),  # truncated
        (lambda r: "number 1" in r.last_user_text, Reply("I'm sorry, but I can't help with that.")),  # refusal
        (lambda r: "number 2" in r.last_user_text, Reply("It is 4. <think>should I say more?</think>")),  # reasoning
        (lambda r: "number 3" in r.last_user_text, Reply("I can't stress enough: it is 4.")),  # none of them
        (lambda r: True, Reply("A plain answer."))]  # questions 4 and 5; 5 is emptied below
    assert gen_answer(configure_answering(answering, [scripted_server], models=("model-a",), questions=questions,
                                          extra="  reasoning_policy: keep\n")).returncode == 0
    made = stored_answers(answering)
    made[5]["messages"][1]["content"]["answer"] = ""  # as another tool might have stored it
    args = lay_out_judging(tmp_path, scripted_server, questions=questions, models=("model-a",), judge_lines=(
        "answer_checks:\n  truncated: skip\n  refusal: skip\n"))
    write_jsonl(tmp_path / "data" / JUDGED_BENCH / "model_answer" / "model-a.jsonl", made)
    scripted_server.rules = [(lambda r: True, Reply("[[A>B]]"))]
    scripted_server.requests.clear()

    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    # by hand: 1 truncated (q0), 1 refusal (q1), 1 reasoning (q2), 1 empty (q5); truncated and refused are skipped
    assert "of 6 answers of model-a: 1 truncated, 1 empty, 1 refusal, 1 reasoning" in proc.stdout
    assert "not judged (answer_checks: skip): 1 truncated, 1 refusal" in proc.stdout
    assert [r["uid"] for r in stored_judgments(tmp_path, "model-a")] == ["q0002", "q0003", "q0004", "q0005"]
    assert len(scripted_server.chat_requests()) == 8
    diag = json.loads((tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGE / "diagnostics.json").read_text())
    assert {k: diag["models"]["model-a"][k] for k in ("truncated", "empty", "refusal", "reasoning", "mismatched")} == \
        {"truncated": 1, "empty": 1, "refusal": 1, "reasoning": 1, "mismatched": 0}
    assert "model-a | 4 | 0.0% | 0.0% |" in proc.stdout and "| 1 / 1 / 1 / 1 / 0" in proc.stdout

    checked = run_script("-m utils.check_answers", "--bench-name", JUDGED_BENCH, "--data-dir", tmp_path / "data",
                         "--model", "model-a")
    assert checked.returncode == 0, checked.stderr  # nothing that makes numbers wrong: no mismatch, nothing stale
    assert "model-a | 6 | 1 | 1 | 1 | 1 | 0 |" in checked.stdout

    html = tmp_path / "report.html"
    shown = run_script("show_result.py", "--data-dir", tmp_path / "data", "--bench-name", JUDGED_BENCH, "--judge-name",
                       JUDGE, "--baseline", "base-m", "--num-rounds", 10, "--html", html)
    assert shown.returncode == 0, shown.stderr
    data = data_block(html.read_text())
    for check in ("truncated", "empty", "refusal", "reasoning", "mismatched"):
        assert check in data["diagnostic_columns"]
    assert data["diagnostics"][0]["values"]["refusal"] == 1


def test_an_unknown_answer_check_or_policy_is_refused_before_any_request(tmp_path, scripted_server):
    # lay_out_judging writes 8 lines before the judge_lines: answer_checks is on line 9, its first key on 10
    for lines, where, why in (("answer_checks:\n  truncated: drop\n", "10: answer_checks.truncated",
                               "expected one of judge, skip, got 'drop'"),
                              ("answer_checks:\n  mismatched: judge\n", "10: answer_checks.mismatched",
                               "mismatched answers (made for another question) are never judged"),
                              ("answer_checks:\n  truncatd: skip\n", "10: answer_checks.truncatd", "unknown key"),
                              ("answer_checks: skip\n", "9: answer_checks", "answer_checks must be a mapping")):
        args = lay_out_judging(tmp_path, scripted_server, judge_lines=lines)
        line = one_line_error(gen_judgment(args))
        assert f"judge.yaml:{where}: {why}" in line
    assert not scripted_server.chat_requests()


# ---------------------------------------------------------------- stale judgments in the table


def test_show_result_counts_stale_judgments_per_model_and_flags_them(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Reply("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server)
    assert gen_judgment(args).returncode == 0
    path = tmp_path / "data" / JUDGED_BENCH / "model_answer" / "m-two.jsonl"
    records = read_jsonl(path)
    for r in records[:3]:  # a new checkpoint's answers, not judged yet
        r["ans_id"] += "-v2"
        r["messages"][1]["content"]["answer"] += ", said anew"
    write_jsonl(path, records)
    html, table = tmp_path / "report.html", tmp_path / "table.csv"
    shown = run_script("show_result.py", "--data-dir", tmp_path / "data", "--bench-name", JUDGED_BENCH, "--judge-name",
                       JUDGE, "--baseline", "base-m", "--num-rounds", 10, "--csv", table, "--html", html)
    assert shown.returncode == 0, shown.stderr
    assert "warning: judge-1 / m-two: 3 of 4 judgments are stale (the model's answer text changed: 3" in shown.stderr
    assert "judge-1 / m-one" not in shown.stderr
    row = next(line for line in shown.stdout.splitlines() if line.startswith("m-two "))
    assert "[stale: 3]" in row
    rows = read_csv(table)
    assert "stale: 3" in rows["m-two"]["flags"] and "stale" not in rows["m-one"]["flags"]
    flags = {r["model"]: r["flags"] for r in data_block(html.read_text())["boards"][0]["rows"]}
    assert "stale: 3" in flags["m-two"] and not any("stale" in f for f in flags["m-one"])

    checked = run_script("-m utils.check_answers", "--bench-name", JUDGED_BENCH, "--data-dir", tmp_path / "data")
    assert checked.returncode == 1
    assert "m-two | 4 | 3 | 0 | 4 | 0 |" in checked.stdout


# ---------------------------------------------------------------- the real files that were paired wrongly


def test_the_published_files_judged_on_wrong_pairings_are_found(real_judgments):
    # Athene's published score of 2.0: every answer the judge was shown answers another question; llama3_8b's
    # prompts ask other questions than the ids they are filed under (in 8 of 9 records, read by hand)
    checked = run_script("-m utils.check_answers", "--bench-name", "arena-hard-v0.1", "--data-dir",
                         real_judgments / "data", "--model", "Nexusflow__Athene-V2-Chat", "--model", "llama3_8b",
                         "--model", "Pythia-12B-DPO-UltraFeedback")
    assert checked.returncode == 1, checked.stderr
    lines = {line.split(" | ")[0].strip(): line for line in checked.stdout.splitlines() if " | " in line}
    assert lines["Nexusflow__Athene-V2-Chat"].endswith("| 0 | 108 of 108 PAIRED WITH THE WRONG QUESTIONS")
    assert "| 9 | 0 | 9 | 9 | 8 |" in lines["llama3_8b"]
    assert "PAIRED" not in checked.stdout.split("gpt-4-1106-preview")[1].split("\n")[1]  # Pythia's row: fine

    shown = run_script("show_result.py", "--judge-name", "gpt-4o-batch", cwd=real_judgments)
    assert shown.returncode == 0, shown.stderr
    assert "8 of 9 judgments that kept their prompt were judged on a prompt that does not hold" in shown.stderr
    assert "[judged prompt mismatch: 8]" in next(line for line in shown.stdout.splitlines()
                                                  if line.startswith("llama3_8b "))
