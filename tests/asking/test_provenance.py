"""What answers and judgments record of how they were made, and judgments that go stale when that changes.

Every test runs the scripts as a user would against the scripted server
(tests/scripted_server.py), then edits the files the way a user's next
checkpoint, rerun or prompt change would.
"""
from __future__ import annotations

import collections
import hashlib
import json
import re

from tests.helpers import (JUDGED_BENCH, JUDGING_BASE as BASE, JUDGING_JUDGE as JUDGE, configure_answering,
                           gen_answer, gen_judgment, kill_9_after, lay_out_judging, make_questions, one_line_error,
                           read_jsonl, revise_answer, run_script, stored_answers, stored_judgments, write_jsonl)
from tests.scripted_server import Answer
from utils.asking.judge_prompts import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, prompt_hash
from utils.plumbing.config import load_judge_settings


def judgments_path(tmp_path, model, judge=JUDGE):
    return tmp_path / "data" / JUDGED_BENCH / "model_judgment" / judge / f"{model}.jsonl"


def question_number(req) -> int:
    return int(re.search(r"Question (\d+)\?", req.last_user_text).group(1))


# ---------------------------------------------------------------- what is recorded


def test_an_answer_records_its_settings_how_it_stopped_and_the_model_that_served_it(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(2),
                               extra="  system_prompt: Be brief.\n")
    scripted_server.rules = [(lambda r: "number 0" in r.last_user_text,
                              Answer("cut off in the mid", finish_reason="length", model="model-a-2024-06")),
                             (lambda r: True, Answer("A whole answer.", model="model-a-2024-06"))]
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    first, second = stored_answers(tmp_path)
    # configure_answering: entry model-a, model_name model-a-served; the step's temperature 0.0 and max_tokens 32
    assert first["generation"]["entry"] == "model-a" and first["generation"]["model_name"] == "model-a-served"
    assert (first["generation"]["temperature"], first["generation"]["max_tokens"]) == (0.0, 32)
    assert {r.body["max_tokens"] for r in scripted_server.chat_requests()} == {32}
    assert (first["generation"]["finish_reason"], second["generation"]["finish_reason"]) == ("length", "stop")
    assert first["generation"]["served_model"] == "model-a-2024-06"
    assert first["generation"]["system_prompt_hash"] == second["generation"]["system_prompt_hash"]
    assert len(first["generation"]["system_prompt_hash"]) == 16 and "Be brief" not in json.dumps(first)


def test_a_judgment_records_the_answers_it_compared_the_prompt_and_the_judge(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]", model="judge-1-0613", system_fingerprint="fp_9"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    assert gen_judgment(args).returncode == 0
    settings, _ = load_judge_settings(tmp_path / "judge.yaml", DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE)
    for r in stored_judgments(tmp_path, "m-one"):
        # lay_out_judging names each answer "<model>-<question id>"
        assert r["provenance"]["ans_id"] == f"m-one-{r['uid']}"
        assert r["provenance"]["baseline_ans_id"] == f"{BASE}-{r['uid']}"
        assert r["provenance"]["prompt_hash"] == prompt_hash(settings.prompt, False)
        assert r["provenance"]["judge"] == {"entry": JUDGE, "model_name": f"{JUDGE}-served", "temperature": 0.0,
                                            "max_tokens": 100}
        assert [(g["served_model"], g["system_fingerprint"]) for g in r["games"]] == [("judge-1-0613", "fp_9")] * 2
        assert "rejudged" not in r


# ---------------------------------------------------------------- stale judgments


def test_a_changed_answer_is_judged_again_and_its_new_judgment_replaces_the_old(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server)
    assert gen_judgment(args).returncode == 0
    assert len(scripted_server.chat_requests()) == 16  # 2 models x 4 questions x 2 games
    other = stored_judgments(tmp_path, "m-two")
    revise_answer(tmp_path, "m-one", "q2", "m-one answers q2, revised", "m-one-q2-v2")
    scripted_server.requests.clear()

    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    sent = scripted_server.chat_requests()
    assert len(sent) == 2 and all("revised" in r.last_user_text for r in sent)  # that question's two games only
    assert "m-one: 1 stale judgment(s), judged again: the model's answer text changed: 1 (question q2)" in proc.stdout
    records = stored_judgments(tmp_path, "m-one")
    assert [r["uid"] for r in records] == ["q0", "q1", "q2", "q3"]  # the new judgment only, in question order
    q2 = records[2]
    assert q2["provenance"]["ans_id"] == "m-one-q2-v2" and q2["rejudged"] == 1
    assert all("revised" in g["user_prompt"] for g in q2["games"])
    assert stored_judgments(tmp_path, "m-two") == other

    scripted_server.requests.clear()
    assert gen_judgment(args).returncode == 0 and not scripted_server.chat_requests()


def digest(*turns: str) -> str:
    """An answer's content key as docs/design.md#provenance states it, computed here apart from the code."""
    return hashlib.sha256("\x1e".join(turns).encode("utf-8")).hexdigest()[:16]


def test_a_judgment_records_the_digest_of_each_text_its_judge_was_shown(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), judge_lines=(
        "reference: true\nref_model: ref-m\n"
        'prompt_template: "{QUESTION}|{REF_ANSWER}|{ANSWER_A}|{ANSWER_B}"\n'))
    write_jsonl(tmp_path / "data" / JUDGED_BENCH / "model_answer" / "ref-m.jsonl", [
        {"uid": f"q{i}", "ans_id": f"ref-{i}", "model": "ref-m",
         "messages": [{"role": "user", "content": f"Question {i}?"},
                      {"role": "assistant", "content": {"answer": f"reference {i}", "reasoning": "not shown"}}]}
        for i in range(4)])
    assert gen_judgment(args).returncode == 0
    for r in stored_judgments(tmp_path, "m-one"):
        shown = r["games"][0]["user_prompt"]
        assert shown == f"{question_number_of(r)}|reference {r['uid'][1:]}|{BASE} answers {r['uid']}|m-one answers {r['uid']}"
        assert r["provenance"]["answer_digest"] == digest(f"m-one answers {r['uid']}")
        assert r["provenance"]["baseline_digest"] == digest(f"{BASE} answers {r['uid']}")
        assert r["provenance"]["reference_digest"] == digest(f"reference {r['uid'][1:]}")  # its reasoning is not shown


def question_number_of(record) -> str:
    return f"Question {record['uid'][1:]}?"


def show_result(tmp_path, *args):
    return run_script("show_result.py", "--data-dir", tmp_path / "data", "--bench-name", JUDGED_BENCH,
                      "--judge-name", JUDGE, "--baseline", BASE, "--num-rounds", 20, *args)


def check_answers(tmp_path):
    return run_script("-m utils.check_answers", "--bench-name", JUDGED_BENCH, "--data-dir", tmp_path / "data")


def test_an_answer_edited_under_the_same_ans_id_is_stale_everywhere_and_only_its_games_are_asked_again(
        tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server)
    assert gen_judgment(args).returncode == 0
    revise_answer(tmp_path, "m-one", "q2", "m-one answers q2, edited by hand", "m-one-q2")  # the same ans_id
    scripted_server.requests.clear()

    shown = show_result(tmp_path, "--csv", tmp_path / "t.csv")
    assert shown.returncode == 0, shown.stderr
    flagged = [line for line in shown.stdout.splitlines() if "stale" in line]
    assert flagged and all(line.lstrip().startswith("m-one") for line in flagged), shown.stdout
    assert "the model's answer text changed: 1" in shown.stderr
    checked = check_answers(tmp_path)
    assert checked.returncode == 1, checked.stdout
    assert "m-one | 4 | 1 |" in checked.stdout and "m-two | 4 | 0 |" in checked.stdout
    assert "stale: question q2" in checked.stdout

    plan = json.loads(gen_judgment([*args, "--dry-run", "--json"]).stdout)
    assert [(i["model"], i["stale"], i["requests"]) for i in plan["items"]] == [("m-one", 1, 2), ("m-two", 0, 0)]
    kept = gen_judgment([*args, "--stale", "keep"])
    assert kept.returncode == 0 and not scripted_server.chat_requests()
    assert ("warning: judge-1 / m-one: 1 stale judgment(s), kept as they are (--stale keep): the model's answer "
            "text changed: 1 (question q2)") in kept.stdout

    proc = gen_judgment(args)  # --stale rejudge, the default
    assert proc.returncode == 0, proc.stderr
    sent = scripted_server.chat_requests()
    assert len(sent) == 2 and all("edited by hand" in r.last_user_text for r in sent)  # q2's two games only
    assert "m-one: 1 stale judgment(s), judged again: the model's answer text changed: 1 (question q2)" in proc.stdout
    q2 = next(r for r in stored_judgments(tmp_path, "m-one") if r["uid"] == "q2")
    assert q2["rejudged"] == 1 and q2["provenance"]["answer_digest"] == digest("m-one answers q2, edited by hand")
    assert check_answers(tmp_path).returncode == 0
    assert "stale" not in show_result(tmp_path).stdout

    # the same text under a new ans_id (a rerun that gave the same answer) is not stale: nothing is asked
    revise_answer(tmp_path, "m-two", "q1", "m-two answers q1", "m-two-q1-again")
    scripted_server.requests.clear()
    again = gen_judgment(args)
    assert again.returncode == 0 and not scripted_server.chat_requests()
    assert "stale" not in again.stdout
    assert check_answers(tmp_path).returncode == 0 and "stale" not in show_result(tmp_path).stdout


def with_template(tmp_path, server, models=("m-one", "m-two")):
    return lay_out_judging(tmp_path, server, models=models, judge_lines=(
        'prompt_template: "Q: {QUESTION}\\n\\nFirst: {ANSWER_A}\\n\\nSecond: {ANSWER_B}"\n'))


def test_a_changed_judge_template_makes_every_judgment_stale(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    assert gen_judgment(lay_out_judging(tmp_path, scripted_server)).returncode == 0
    before = {m: stored_judgments(tmp_path, m) for m in ("m-one", "m-two")}
    args = with_template(tmp_path, scripted_server)
    scripted_server.requests.clear()

    # the dry run says so per file, and counts their games among the requests (none with --stale keep)
    for flags, requests in (((), 8), (("--stale", "keep"), 0)):
        plan = json.loads(gen_judgment([*args, "--dry-run", "--json", *flags]).stdout)
        assert [(i["model"], i["stale"], i["mismatched"], i["requests"]) for i in plan["items"]] == \
            [("m-one", 4, 0, requests), ("m-two", 4, 0, requests)]
    assert not scripted_server.requests

    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    assert len(scripted_server.chat_requests()) == 16
    assert all(r.last_user_text.startswith("Q: ") for r in scripted_server.chat_requests())
    for model in ("m-one", "m-two"):
        assert f"{model}: 4 stale judgment(s), judged again: the judge prompt changed: 4" in proc.stdout
        records = stored_judgments(tmp_path, model)
        assert len(records) == 4 and all(r["rejudged"] == 1 for r in records)
        assert {r["provenance"]["prompt_hash"] for r in records}.isdisjoint(
            {r["provenance"]["prompt_hash"] for r in before[model]})


def test_stale_keep_reuses_them_with_a_warning_and_stale_fail_stops_before_any_request(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    assert gen_judgment(lay_out_judging(tmp_path, scripted_server)).returncode == 0
    files = {m: judgments_path(tmp_path, m).read_bytes() for m in ("m-one", "m-two")}
    args = with_template(tmp_path, scripted_server)
    scripted_server.requests.clear()

    failed = gen_judgment([*args, "--stale", "fail"])
    line = one_line_error(failed)
    assert "8 stored judgment(s) are stale" in line and "--stale" in line and str(judgments_path(tmp_path, "m-one")) in line
    assert "m-one: 4 stale judgment(s), not judged: the run stops (--stale fail): the judge prompt changed: 4" \
        in failed.stdout
    assert not scripted_server.chat_requests()
    assert {m: judgments_path(tmp_path, m).read_bytes() for m in files} == files

    kept = gen_judgment([*args, "--stale", "keep"])
    assert kept.returncode == 0, kept.stderr
    assert "warning: judge-1 / m-one: 4 stale judgment(s), kept as they are (--stale keep)" in kept.stdout
    assert "0 new judgments, 4 already there" in kept.stdout
    assert not scripted_server.chat_requests()
    assert {m: judgments_path(tmp_path, m).read_bytes() for m in files} == files


def test_judgments_without_provenance_are_kept_and_said_once(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server)
    assert gen_judgment(args).returncode == 0
    for model in ("m-one", "m-two"):  # as files written before provenance was kept
        write_jsonl(judgments_path(tmp_path, model),
                    [{k: v for k, v in r.items() if k != "provenance"} for r in stored_judgments(tmp_path, model)])
    revise_answer(tmp_path, "m-one", "q2", "m-one answers q2, revised", "m-one-q2-v2")
    scripted_server.requests.clear()
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    assert not scripted_server.chat_requests()  # unknown is not stale
    assert proc.stdout.count("record no provenance") == 1
    assert "8 stored judgment(s) record no provenance" in proc.stdout and "stale judgment" not in proc.stdout


def test_a_rejudged_judgment_survives_kill_9_and_the_stale_one_is_dropped(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    assert gen_judgment(args).returncode == 0
    revise_answer(tmp_path, "m-one", "q1", "m-one answers q1, revised", "m-one-q1-v2")
    revise_answer(tmp_path, "m-one", "q3", "m-one answers q3, revised", "m-one-q3-v2")
    # q1's games come back at once, q3's not before the run is killed
    scripted_server.rules = [(lambda r: question_number(r) == 3, Answer("[[B>A]]", delay=60)),
                             (lambda r: True, Answer("[[B>A]] again"))]
    path = judgments_path(tmp_path, "m-one")
    kill_9_after("gen_judgment.py", args, path, lines=5, timeout=60)
    lines = read_jsonl(path)
    assert [r["uid"] for r in lines] == ["q0", "q1", "q2", "q3", "q1"]  # the stale q1 and, appended, the new one

    scripted_server.rules = [(lambda r: True, Answer("[[B>>A]]"))]
    scripted_server.requests.clear()
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    assert sorted(question_number(r) for r in scripted_server.chat_requests()) == [3, 3]  # q1 was paid for: kept
    records = {r["uid"]: r for r in stored_judgments(tmp_path, "m-one")}
    assert len(stored_judgments(tmp_path, "m-one")) == 4
    assert records["q1"]["games"][0]["judgment"] == "[[B>A]] again" and records["q1"]["rejudged"] == 1
    assert records["q3"]["games"][0]["score"] == "B>>A" and records["q3"]["provenance"]["ans_id"] == "m-one-q3-v2"


# ---------------------------------------------------------------- drift


def test_drift_check_reports_the_share_of_labels_a_judge_now_gives_differently(tmp_path, scripted_server):
    seen = collections.Counter()
    flipped = {0, 1}  # questions whose verdict the judge changes when asked again

    def answer_again(req) -> bool:
        seen[req.last_user_text] += 1
        return seen[req.last_user_text] > 1 and question_number(req) in flipped

    scripted_server.rules = [(answer_again, Answer("[[B>A]]", model="judge-1-v2")),
                             (lambda r: seen[r.last_user_text] > 1, Answer("[[A>B]]", model="judge-1-v2")),
                             (lambda r: True, Answer("[[A>B]]", model="judge-1-v1"))]
    args = lay_out_judging(tmp_path, scripted_server)
    assert gen_judgment(args).returncode == 0
    files = {m: judgments_path(tmp_path, m).read_bytes() for m in ("m-one", "m-two")}
    scripted_server.requests.clear()

    proc = gen_judgment([*args, "--drift-check", 5])
    assert proc.returncode == 0, proc.stderr
    asked = scripted_server.chat_requests()
    assert len(asked) == 5
    changed = sum(question_number(r) in flipped for r in asked)  # every stored label was A>B
    assert (f"drift check ({JUDGE}): 5 of 16 stored games asked again: {changed} of 5 labels changed "
            f"({100 * changed / 5:.1f}%)") in proc.stdout
    assert "served model: stored judge-1-v1; now judge-1-v2" in proc.stdout
    assert {m: judgments_path(tmp_path, m).read_bytes() for m in files} == files  # nothing stored

    scripted_server.requests.clear()
    assert gen_judgment([*args, "--drift-check", 5]).returncode == 0
    assert sorted(r.last_user_text for r in scripted_server.chat_requests()) == \
        sorted(r.last_user_text for r in asked)  # a fixed sample


def test_drift_check_reads_a_file_a_killed_run_left_and_refuses_flags_it_would_ignore(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    assert gen_judgment(args).returncode == 0
    with open(judgments_path(tmp_path, "m-one"), "a") as f:
        f.write('{"uid": "q1", "games": [')  # the unfinished last line of a killed run
    scripted_server.requests.clear()
    proc = gen_judgment([*args, "--drift-check", 2])
    assert proc.returncode == 0, proc.stderr
    assert len(scripted_server.chat_requests()) == 2

    for flags in (["--max-cost", "5"], ["--batch"], ["--dry-run"]):
        error = one_line_error(gen_judgment([*args, "--drift-check", 2, *flags]))
        assert "--drift-check" in error and flags[0] in error
    assert len(scripted_server.chat_requests()) == 2
