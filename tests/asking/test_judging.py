"""gen_judgment.py: labels, prompts, the two swapped games, re-asking, structured verdicts, diagnostics.

Label extraction and prompt rendering are checked against real recorded
judgments; the protocol is checked end to end against the scripted server.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest

from tests.helpers import (ROOT, JUDGED_BENCH, JUDGING_BASE as BASE, JUDGING_JUDGE as JUDGE, RefusedEndpoint,
                           bound_by_permissions, gen_judgment,
                           lay_out_judging, one_line_error, read_jsonl, run_script, stored_judgments,
                           write_jsonl)
from tests.scripted_server import Answer, Status
from utils.asking.diagnostics import diagnostics
from utils.asking.judge_prompts import (DEFAULT_SYSTEM_PROMPT, FINISH_REQUEST, RESPONSE_FORMATS, STRUCTURED_REQUEST,
                                        extract_label)
from utils.vocabulary.verdicts import DEFAULT_LABEL_PATTERN

PATTERNS = (DEFAULT_LABEL_PATTERN,)


# ---------------------------------------------------------------- labels


def test_labels_of_every_real_judge_text_are_extracted_as_recorded(real_judgments):
    files = sorted(real_judgments.glob("data/arena-hard-v0.1/model_judgment/*/*.jsonl"))
    games = [g for path in files for rec in read_jsonl(path) for g in rec["games"]]
    assert len(games) == 2 * 136
    got = [extract_label(g["judgment"], PATTERNS)[0] for g in games]
    assert got == [g["score"] for g in games]
    assert sum(label is None for label in got) == 2


@pytest.mark.parametrize("text, label, distinct", [
    ("A is better. [[A>B]]", "A>B", 1),
    ("My verdict: [[B>>A]]\n\nFinal: [[B>>A]]", "B>>A", 1),  # repeated, not contradictory
    ("First [[A>B]], on reflection [[B>A]].", None, 2),  # two different labels: missing
    ("I cannot decide between them.", None, 0),  # nothing yet: ask again
    ('{"reasoning": "B cites [[A>B]] wrongly", "verdict": "B>A"}', "B>A", 1),  # JSON verdict decides
    ('{"reasoning": "unsure", "verdict": "maybe"}', None, 0),
])
def test_label_extraction(text, label, distinct):
    assert extract_label(text, PATTERNS) == (label, distinct)


def test_the_default_prompts_ask_for_exactly_the_labels_that_are_read():
    # the prompts are text files (utils/asking/prompts/), the vocabulary is utils/vocabulary/verdicts.py: an edit of either
    # alone would have judges answer with labels the reader drops, or never offer one it counts
    asked = ["A>>B", "A>B", "A=B", "B>A", "B>>A"]  # written out here, in the prompts' order
    assert re.findall(DEFAULT_LABEL_PATTERN, DEFAULT_SYSTEM_PROMPT) == asked
    assert re.findall(DEFAULT_LABEL_PATTERN, FINISH_REQUEST) == asked
    assert re.findall(r'"([AB<>=]+)"', STRUCTURED_REQUEST) == asked
    assert [extract_label(f"[[{label}]]", PATTERNS) for label in asked] == [(label, 1) for label in asked]
    for response_format in RESPONSE_FORMATS:
        schema = response_format.get("schema") or response_format["json_schema"]["schema"]
        assert schema["properties"]["verdict"]["enum"] == asked


def test_patterns_are_tried_in_order():
    patterns = (r"\[\[([AB<>=]+)\]\]", r"verdict is ([AB<>=]+)")
    assert extract_label("the verdict is A>B", patterns) == ("A>B", 1)
    assert extract_label("[[B>A]] and the verdict is A>B", patterns) == ("B>A", 1)


def test_diagnostics_by_hand():
    recs = [{"games": [{"score": "A>B"}, {"score": "B>A"}]},  # baseline wins both: consistent
            {"games": [{"score": "A>B"}, {"score": "A>B"}]},  # first position wins both: inconsistent
            {"games": [{"score": "A=B"}, {"score": None}]}]
    d = diagnostics(recs)
    assert d["games"] == 6 and d["missing_labels"] == 1 and d["missing_share"] == 1 / 6
    assert d["tie_rate"] == 1 / 5
    assert d["position_consistency"] == 1 / 2
    assert d["first_position_share"] == 3 / 4


def test_diagnostics_leave_out_a_game_that_was_not_played():
    d = diagnostics([{"games": [{"score": "A>B"}, None]}, {"games": [{"score": "A>B"}, {"score": "B>A"}]}])
    assert (d["judgments"], d["games"], d["missing_labels"]) == (2, 3, 0)
    assert d["position_consistency"] == 1.0  # only the second judgment has both games


# ---------------------------------------------------------------- end to end on the scripted server


def which_game(req) -> int:
    """1 when the baseline's answer is shown first (assistant A), else 2."""
    text = next(m["content"] for m in req.body["messages"] if m["role"] == "user")
    return 1 if text.index(f"{BASE} answers") < text.index("m-") else 2


def test_two_swapped_games_per_question_stored_with_prompt_text_label_and_usage(tmp_path, scripted_server):
    # the model wins game 1 as B and game 2 as A: a consistent judge
    scripted_server.rules = [(lambda r: which_game(r) == 1, Answer("B is better. [[B>A]]")),
                             (lambda r: True, Answer("A is better. [[A>>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server)
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    for model in ("m-one", "m-two"):
        recs = stored_judgments(tmp_path, model)
        assert [r["uid"] for r in recs] == ["q0", "q1", "q2", "q3"]
        for r in recs:
            assert r["judge"] == JUDGE and r["model"] == model and r["baseline"] == BASE
            g1, g2 = r["games"]
            assert g1["user_prompt"].index(f"{BASE} answers") < g1["user_prompt"].index(f"{model} answers")
            assert g2["user_prompt"].index(f"{model} answers") < g2["user_prompt"].index(f"{BASE} answers")
            assert (g1["score"], g2["score"]) == ("B>A", "A>>B")
            assert g1["judgment"] == "B is better. [[B>A]]" and g1["usage"]["completion_tokens"] > 0
    assert len(scripted_server.chat_requests()) == 16
    for model in ("m-one", "m-two"):  # progress in a log (stderr is a pipe): plain lines per judge and model
        assert f"{JUDGE} / {model}: asking for 4 judgments\n" in proc.stderr
        assert re.search(rf"{JUDGE} / {model}: finished 4/4 judgments in \d\d:\d\d, 0 failed\n", proc.stderr)
    system = scripted_server.chat_requests()[0].body["messages"][0]
    assert system["role"] == "system" and "[[A>>B]]" in system["content"]
    diag = json.loads((tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGE / "diagnostics.json").read_text())
    assert diag["models"]["m-one"]["position_consistency"] == 1.0
    assert diag["models"]["m-one"]["first_position_share"] == 0.5

    again = gen_judgment(args)
    assert again.returncode == 0 and len(scripted_server.chat_requests()) == 16, "a rerun must not ask again"
    assert "0 new judgments, 4 already there" in again.stdout


def test_a_judge_that_always_prefers_position_a_nets_out_even(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("The first one. [[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    assert re.search(r"m-one \| 4 \| 0\.0% \| 0\.0% \| 0\.0% \| 100\.0%", proc.stdout), proc.stdout
    shown = run_script("show_result.py", "--data-dir", tmp_path / "data", "--bench-name", JUDGED_BENCH, "--judge-name",
                       JUDGE, "--baseline", BASE, "--num-rounds", 20)
    assert shown.returncode == 0, shown.stderr
    row = next(line for line in shown.stdout.splitlines() if line.startswith("m-one"))
    assert "score:  50.0" in row, row


def test_a_judge_without_a_label_is_asked_to_finish(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: FINISH_REQUEST in r.last_user_text, Answer("So: [[A=B]]")),
                             (lambda r: True, Answer("Both answers have merits and flaws."))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), questions=[
        {"uid": "q0", "category": "general", "prompt": "Question 0?"}])
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    g1, g2 = stored_judgments(tmp_path, "m-one")[0]["games"]
    assert g1["score"] == g2["score"] == "A=B" and g1["attempts"] == 2
    assert g1["judgment"] == "Both answers have merits and flaws.\n\nSo: [[A=B]]"
    follow_up = [r for r in scripted_server.chat_requests() if FINISH_REQUEST in r.last_user_text][0]
    roles = [m["role"] for m in follow_up.body["messages"]]
    assert roles == ["system", "user", "assistant", "user"]
    assert follow_up.body["messages"][2]["content"] == "Both answers have merits and flaws."


def test_a_label_still_missing_after_the_last_attempt_is_null_and_counted(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: which_game(r) == 2, Answer("[[B>A]] no wait, [[A>B]]")),
                             (lambda r: True, Answer("I refuse to choose."))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), attempts=3)
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    recs = stored_judgments(tmp_path, "m-one")
    assert all(r["games"][0]["score"] is None and r["games"][0]["attempts"] == 3 for r in recs)
    assert all(r["games"][1]["score"] is None and r["games"][1]["attempts"] == 1 for r in recs)  # contradiction
    assert "8 game(s) without a label" in proc.stdout
    assert "m-one | 4 | 100.0% | n/a | n/a | n/a" in proc.stdout
    # a small local judge rarely labels without JSON: the run says what to change, and so does show_result
    advice = "structured_verdicts: true in the judge settings"
    warned = [line for line in proc.stdout.splitlines() if "warning:" in line and "no label" in line]
    assert len(warned) == 1 and "100% of the 8 games" in warned[0] and advice in warned[0], proc.stdout
    shown = run_script("show_result.py", "--bench-name", JUDGED_BENCH, "--judge-name", JUDGE, "--baseline", BASE,
                       "--data-dir", tmp_path / "data")
    assert shown.returncode == 2 and advice in one_line_error(shown), shown.stderr


def test_a_judge_asked_for_json_already_is_not_told_to_turn_structured_verdicts_on(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer(json.dumps({"reasoning": "both are fine"})))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), judge_lines="structured_verdicts: true\n",
                           attempts=1)
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    warned = [line for line in proc.stdout.splitlines() if "warning:" in line and "no label" in line]
    assert len(warned) == 1 and "structured_verdicts is on already" in warned[0], proc.stdout
    assert "structured_verdicts: true in the judge settings" not in proc.stdout


def test_structured_verdicts_fall_back_from_json_schema_to_json_object_to_the_regex(tmp_path, scripted_server):
    verdict = json.dumps({"reasoning": "B covers the question", "verdict": "B>A"})
    scripted_server.rules = [
        (lambda r: (r.body.get("response_format") or {}).get("type") == "json_schema", Status(400, message="no")),
        (lambda r: (r.body.get("response_format") or {}).get("type") == "json_object", Answer(verdict)),
    ]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), judge_lines="structured_verdicts: true\n",
                   parallel=1)
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    assert all(g["score"] == "B>A" for r in stored_judgments(tmp_path, "m-one") for g in r["games"])
    sent = [(r.body.get("response_format") or {}).get("type") for r in scripted_server.chat_requests()]
    assert sent[:2] == ["json_schema", "json_object"]
    assert sent[2:] == ["json_object"] * 7, "a confirmed refusal is not asked again"
    schema = scripted_server.chat_requests()[1].body["response_format"]["schema"]
    assert schema["properties"]["verdict"]["enum"] == ["A>>B", "A>B", "A=B", "B>A", "B>>A"]

    # an endpoint that refuses both is judged by the regex
    scripted_server.rules = [(lambda r: "response_format" in r.body, Status(422, message="unsupported")),
                             (lambda r: True, Answer("plain text [[A>B]]"))]
    proc = gen_judgment(lay_out_judging(tmp_path, scripted_server, models=("m-two",), parallel=1,
                                judge_lines="structured_verdicts: true\n"))
    assert proc.returncode == 0, proc.stderr
    assert [g["score"] for r in stored_judgments(tmp_path, "m-two") for g in r["games"]] == ["A>B"] * 8


def test_a_refusal_sent_as_a_500_is_recognised_without_retrying(tmp_path, scripted_server):
    """llama-cpp-python answers an unknown response_format type with a 500 naming the field."""
    verdict = json.dumps({"reasoning": "A is right", "verdict": "A>>B"})
    scripted_server.rules = [
        (lambda r: (r.body.get("response_format") or {}).get("type") == "json_schema",
         Status(500, message="1 validation error: ('body', 'response_format', 'type'): Input should be 'text' "
                             "or 'json_object'")),
        (lambda r: (r.body.get("response_format") or {}).get("type") == "json_object", Answer(verdict)),
    ]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), judge_lines="structured_verdicts: true\n",
                   parallel=1)
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    sent = [(r.body.get("response_format") or {}).get("type") for r in scripted_server.chat_requests()]
    assert sent == ["json_schema"] + ["json_object"] * 8, "the refusal is taken at once, not retried"
    assert all(g["score"] == "A>>B" for r in stored_judgments(tmp_path, "m-one") for g in r["games"])


def test_a_server_error_while_trying_a_format_is_retried_as_usual(tmp_path, scripted_server):
    verdict = json.dumps({"reasoning": "fine", "verdict": "A=B"})
    scripted_server.script.extend([Status(503, message="busy")])  # the very first request only
    scripted_server.rules = [(lambda r: True, Answer(verdict))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), judge_lines="structured_verdicts: true\n",
                   parallel=1, questions=[{"uid": "q0", "category": "general", "prompt": "Question 0?"}])
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    sent = [(r.body.get("response_format") or {}).get("type") for r in scripted_server.chat_requests()]
    assert sent == ["json_schema", "json_schema", "json_schema"], "a 503 is no refusal: same format again"


def test_a_category_brings_its_own_baseline_and_prompt(tmp_path, scripted_server):
    questions = [{"uid": "q0", "category": "general", "prompt": "Plain question?"},
                 {"uid": "q1", "category": "creative", "prompt": "Write a poem."}]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one", "poet-base"), questions=questions, judge_lines=(
        "categories:\n  creative:\n    baseline_model: poet-base\n    system_prompt: Judge poems.\n"
        "    prompt_template: [\"POEM {QUESTION} / {ANSWER_A} / {ANSWER_B}\"]\n"))
    scripted_server.rules = [(lambda r: True, Answer("[[A=B]]"))]
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    creative = [r for r in scripted_server.chat_requests() if "Write a poem." in r.last_user_text]
    assert {r.body["messages"][0]["content"] for r in creative} == {"Judge poems."}
    assert {r.last_user_text for r in creative} >= {"POEM Write a poem. / poet-base answers q1 / m-one answers q1"}
    rec = {r["uid"]: r for r in stored_judgments(tmp_path, "m-one")}
    assert rec["q0"]["baseline"] == BASE and rec["q1"]["baseline"] == "poet-base"


def test_missing_answers_give_one_warning_line_per_model(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, missing={"m-one": {"q1", "q2"}, BASE: {"q3"}})
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    proc = gen_judgment(args)
    assert proc.returncode == 5, proc.stderr  # q3 waits for its baseline's answer
    assert proc.stdout.count("question(s) skipped") == 3
    assert "2 question(s) skipped: no answer of m-one" in proc.stdout
    assert proc.stdout.count(f"1 question(s) skipped: no answer of their baseline {BASE}") == 2
    assert f"1 question(s) of category general wait for answers of their baseline {BASE}" in proc.stdout
    assert f"gen_answer.py --setting-file ANSWER_SETTINGS.yaml --endpoint-file {tmp_path / 'api.yaml'}" in proc.stdout
    assert [r["uid"] for r in stored_judgments(tmp_path, "m-one")] == ["q0"]


def test_questions_left_waiting_for_a_baseline_end_with_exit_status_5_after_failures(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, missing={BASE: {"q3"}})
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    proc = gen_judgment(args)
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "\nexit status 5: 2 judgment(s) wait for their baseline's answers (see above)\n" in proc.stdout
    assert len(stored_judgments(tmp_path, "m-one")) == 3  # everything else is judged
    # a request failing for good (status 1) outranks questions waiting
    (tmp_path / "data" / JUDGED_BENCH / "model_judgment").rename(tmp_path / "first-run")
    scripted_server.rules.insert(0, (lambda r: "m-two answers q0" in r.last_user_text, Status(400, message="no")))
    again = gen_judgment(args)
    assert again.returncode == 1, again.stdout + again.stderr
    assert "exit status 5" not in again.stdout and "wait for answers of their baseline" in again.stdout
    # the baseline's answer made, nothing waits: 0
    write_jsonl(tmp_path / "data" / JUDGED_BENCH / "model_answer" / f"{BASE}.jsonl", [
        {"uid": f"q{i}", "ans_id": f"{BASE}-q{i}", "model": BASE, "tstamp": 0,
         "messages": [{"role": "user", "content": f"Question {i}?"},
                      {"role": "assistant", "content": {"answer": f"{BASE} answers q{i}"}}]} for i in range(4)])
    scripted_server.rules.pop(0)
    done = gen_judgment(args)
    assert done.returncode == 0, done.stdout + done.stderr


def test_model_flags_replace_the_model_list(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one", "m-two"))
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    proc = gen_judgment([*args, "--model", "m-two"])
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGE).glob("*.jsonl")) == [
        "m-two.jsonl"]
    assert len(scripted_server.chat_requests()) == 8


def test_model_flag_takes_a_list(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one", "m-two"))
    (tmp_path / "judge.yaml").write_text((tmp_path / "judge.yaml").read_text().replace("  - m-two\n", ""))
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    proc = gen_judgment([*args, "--model", "m-one", "m-two"])
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGE).glob("*.jsonl")) == [
        "m-one.jsonl", "m-two.jsonl"]


def test_a_trial_judges_only_the_first_questions_and_cannot_be_a_decision(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    proc = gen_judgment([*args, "--first", "1"])
    assert proc.returncode == 0, proc.stderr
    assert [r["uid"] for r in stored_judgments(tmp_path, "m-one")] == ["q0"]
    assert len(scripted_server.chat_requests()) == 2
    line = one_line_error(gen_judgment([*args, "--first", "1", "--until-decided", "m-one", BASE]))
    assert "--first" in line and "--until-decided" in line


def judged_by(tmp_path) -> dict[str, list[str]]:
    """judge -> the judgment files written under it."""
    root = tmp_path / "data" / JUDGED_BENCH / "model_judgment"
    return {d.name: sorted(p.name for p in d.glob("*.jsonl")) for d in sorted(root.iterdir())} if root.exists() else {}


@pytest.mark.parametrize("flags", [["--judge", "judge-2"], ["--judge", "judge-1", "judge-2"],
                                   ["--judge", "judge-1", "--judge", "judge-2"]])
def test_judge_flag_replaces_the_settings_judge_model(tmp_path, scripted_server, flags):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), judges=("judge-1", "judge-2"))
    settings = tmp_path / "judge.yaml"
    settings.write_text(settings.read_text().replace("judge_model: [judge-1, judge-2]", "judge_model: judge-1"))
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    proc = gen_judgment([*args, *flags])
    assert proc.returncode == 0, proc.stderr
    chosen = [f for f in flags if f != "--judge"]
    assert judged_by(tmp_path) == {judge: ["m-one.jsonl"] for judge in chosen}
    assert {r.body["model"] for r in scripted_server.chat_requests()} == {f"{j}-served" for j in chosen}


@pytest.mark.parametrize("flags, fragment", [(["--judge", "nobody"], "'nobody' is not defined in"),
                                             (["--judge", "judge-1", "judge-1"], "given twice"),
                                             (["--judge", ""], "non-empty")])
def test_a_bad_judge_flag_is_one_line_exit_2_before_any_request(tmp_path, scripted_server, flags, fragment):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    proc = gen_judgment([*args, *flags])
    line = one_line_error(proc)
    assert "--judge" in line and fragment in line
    assert not scripted_server.chat_requests() and judged_by(tmp_path) == {}


def test_a_model_without_any_answers_stops_before_any_request_with_the_command_that_makes_them(
        tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    proc = gen_judgment([*args, "--model", "m-one", "--model", "ghost"])
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert str(tmp_path / "data" / JUDGED_BENCH / "model_answer" / "ghost.jsonl") in proc.stderr
    assert f"--data-dir {tmp_path / 'data'} --model ghost" in proc.stderr
    assert not scripted_server.chat_requests()
    assert not (tmp_path / "data" / JUDGED_BENCH / "model_judgment").exists()
    # in a trial, the command makes the trial's answers, not the whole benchmark's
    trial = one_line_error(gen_judgment([*args, "--model", "ghost", "--first", "2"]))
    assert f"--data-dir {tmp_path / 'data'} --first 2 --model ghost" in trial, trial


def test_a_model_that_is_the_baseline_of_some_categories_is_judged_on_the_others(tmp_path, scripted_server):
    questions = [{"uid": "q0", "category": "general", "prompt": "Plain question?"},
                 {"uid": "q1", "category": "creative", "prompt": "Write a poem."}]
    args = lay_out_judging(tmp_path, scripted_server, models=("poet-base",), questions=questions,
                   judge_lines="categories:\n  creative:\n    baseline_model: poet-base\n")
    scripted_server.rules = [(lambda r: True, Answer("[[A=B]]"))]
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    assert [(r["uid"], r["baseline"]) for r in stored_judgments(tmp_path, "poet-base")] == [("q0", BASE)]
    assert "1 question(s) not judged: poet-base is their baseline" in proc.stdout
    assert len(scripted_server.chat_requests()) == 2


def test_several_judges_write_their_own_directories(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), judges=("judge-1", "judge-2"))
    scripted_server.rules = [(lambda r: r.body["model"] == "judge-2-served", Answer("[[B>A]]")),
                             (lambda r: True, Answer("[[A>B]]"))]
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stderr
    assert {g["score"] for r in stored_judgments(tmp_path, "m-one", "judge-1") for g in r["games"]} == {"A>B"}
    assert {g["score"] for r in stored_judgments(tmp_path, "m-one", "judge-2") for g in r["games"]} == {"B>A"}


def test_failed_judge_requests_are_reported_and_not_stored(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: "m-one answers q2" in r.last_user_text, Status(500, message="judge down")),
                             (lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    proc = gen_judgment(args)
    assert proc.returncode == 1
    assert f"{JUDGE} / m-one / q2: HTTP 500: judge down" in proc.stdout
    assert [r["uid"] for r in stored_judgments(tmp_path, "m-one")] == ["q0", "q1", "q3"]


def test_a_judge_that_refuses_connections_is_given_up_and_reported_once(tmp_path):
    dead = RefusedEndpoint.make()
    questions = [{"uid": f"q{i}", "category": "general", "prompt": f"Question {i}?"} for i in range(20)]
    args = lay_out_judging(tmp_path, dead, questions=questions, models=("m-one",), parallel=1)
    proc = gen_judgment(args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    # one game at a time, both games of a question in turn: q0's two games and q1's first are refused (three
    # in a row), then the judge is given up; q1 fails with its own refusal, q2 .. q19 are not sent
    assert "20 judgment(s) failed" in proc.stdout
    assert f"  18 judgment(s): request not sent: {JUDGE} at {dead.url} refused connections (3 in a row)" in proc.stdout
    assert re.search(rf"{JUDGE} / m-one / q0: connection failed after 2 attempts: ConnectError", proc.stdout)
    assert re.search(rf"{JUDGE} / m-one / q1: connection failed after 2 attempts: ConnectError", proc.stdout)
    assert proc.stderr.count("not sent") == 1, proc.stderr
    stored = tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGE / "m-one.jsonl"
    assert not stored.exists() or not stored.read_text()


def assert_stopped_before_any_request(proc, server, expect: tuple[str, ...]) -> None:
    """The run ended with exit 2 and one error line holding every fragment of ``expect``, having sent nothing."""
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for fragment in expect:
        assert fragment in proc.stderr, (fragment, proc.stderr)
    assert not server.chat_requests()


@pytest.mark.parametrize("lines, expect", [
    ("prompt_template: [\"{QUESTION} {ANSWER_C}\"]\n", ("judge.yaml:9", "prompt_template.0", "{ANSWER_C}")),
    ("regex_pattern: '[[('\n", ("judge.yaml:9", "regex_pattern", "regular expression")),
    ("regex_pattern: 'no group'\n", ("judge.yaml:9", "regex_pattern", "capturing group")),
    ("prompt_template: \"{ref_answer_1}\"\n", ("judge.yaml:9", "reference")),
    ("structured_verdicts: maybe\n", ("judge.yaml:9", "structured_verdicts", "true or false")),
    ("categories:\n  c1:\n    baseline: x\n", ("judge.yaml:11", "categories.c1.baseline", "unknown key")),
])
def test_bad_judge_settings_are_one_clear_line(tmp_path, scripted_server, lines, expect):
    proc = gen_judgment(lay_out_judging(tmp_path, scripted_server, judge_lines=lines))
    assert_stopped_before_any_request(proc, scripted_server, expect)
    assert not (tmp_path / "data" / JUDGED_BENCH / "model_judgment").exists()


def test_a_template_asking_for_a_turn_a_question_lacks_stops_before_any_request(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, judge_lines=(
        "prompt_template: \"{question_1} then {question_2}: {answer_1} or {answer_2}?\"\n"))
    assert_stopped_before_any_request(gen_judgment(args), scripted_server,
                                      ("judge.yaml", "prompt_template", "{question_2}", "question q0"))


def test_original_config_shape_renders_the_recorded_prompts_exactly(real_judgments, tmp_path, scripted_server):
    """From the real questions and answers, both games' prompts equal those a real run recorded."""
    real = real_judgments / "data" / "arena-hard-v0.1"
    recorded = read_jsonl(real / "model_judgment/gpt-4-1106-preview/Pythia-12B-DPO-UltraFeedback.jsonl")
    wanted = {r["question_id"] for r in recorded}
    data = tmp_path / "data" / "arena-hard-v0.1"
    write_jsonl(data / "question.jsonl", [q for q in read_jsonl(real / "question.jsonl") if q["uid"] in wanted])
    for name in ("gpt-4-0314", "Pythia-12B-DPO-UltraFeedback"):
        write_jsonl(data / "model_answer" / f"{name}.jsonl",
                    [a for a in read_jsonl(real / "model_answer" / f"{name}.jsonl") if a["question_id"] in wanted])
    (tmp_path / "api.yaml").write_text(f"gpt-4-1106-preview:\n  model_name: gpt-4-1106-preview\n  parallel: 8\n"
                                       f"  endpoints:\n    - api_base: {scripted_server.url}\n      api_key: k\n")
    # the original judge_config.yaml's shape: name, flags, a system prompt and a list of templates
    template = ("<|User Prompt|>\\n{question_1}\\n\\n<|The Start of Assistant A's Answer|>\\n{answer_1}\\n"
                "<|The End of Assistant A's Answer|>\\n\\n<|The Start of Assistant B's Answer|>\\n{answer_2}\\n"
                "<|The End of Assistant B's Answer|>")
    (tmp_path / "judge.yaml").write_text(
        "name: judgment config file for Arena Hard\nbench_name: arena-hard-v0.1\njudge_model: gpt-4-1106-preview\n"
        "reference: False\nref_model: null\nbaseline: True\nbaseline_model: gpt-4-0314\npairwise: True\n"
        "temperature: 0\nmax_tokens: 4096\nregex_pattern: \\[\\[([AB<>=]+)\\]\\]\nnumber_of_judgment_attempts: 2\n"
        "system_prompt: \"Compare the two answers and end with a label such as [[A>B]].\"\n"
        f"prompt_template: [\"{template}\"]\nmodel_list:\n  - Pythia-12B-DPO-UltraFeedback\n")
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    proc = gen_judgment(["--setting-file", tmp_path / "judge.yaml", "--endpoint-file", tmp_path / "api.yaml",
                         "--data-dir", tmp_path / "data"])
    assert proc.returncode == 0, proc.stderr
    ours = {r["uid"]: r for r in read_jsonl(data / "model_judgment/gpt-4-1106-preview/Pythia-12B-DPO-UltraFeedback.jsonl")}
    assert len(ours) == len(recorded) == 12
    for rec in recorded:
        mine = ours[rec["question_id"]]
        for g in (0, 1):
            assert mine["games"][g]["user_prompt"] == rec["games"][g]["user_prompt"], (rec["question_id"], g)
    sent = {r.last_user_text for r in scripted_server.chat_requests()}
    assert sent == {g["user_prompt"] for rec in recorded for g in rec["games"]}


# ---------------------------------------------------------------- a game that fails for good


def game_of(req, uid: str) -> int | None:
    """Which game of ``uid``'s pairing a request plays, or None when it is about another question."""
    text = next(m["content"] for m in req.body["messages"] if m["role"] == "user")
    return which_game(req) if f"answers {uid}" in text else None


def test_a_game_that_fails_for_good_keeps_the_other_and_the_rerun_plays_only_the_missing_one(
        tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: game_of(r, "q1") == 2, Status(500, message="judge down")),
                             (lambda r: True, Answer("A is better. [[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    proc = gen_judgment(args)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert f"{JUDGE} / m-one / q1: game 2: HTTP 500: judge down" in proc.stdout
    recs = {r["uid"]: r for r in stored_judgments(tmp_path, "m-one")}
    assert sorted(recs) == ["q0", "q1", "q2", "q3"]
    game1, game2 = recs["q1"]["games"]
    assert game1["score"] == "A>B" and game1["user_prompt"].index(BASE) < game1["user_prompt"].index("m-one")
    assert game2 is None, "the game that failed is marked as not played"
    paid = len(scripted_server.chat_requests())
    assert paid == 4 * 2 + 1  # 4 questions x 2 games, and game 2 of q1 sent once more (max_retries: 1)

    scripted_server.rules = [(lambda r: True, Answer("B is better. [[B>A]]"))]
    again = gen_judgment(args)
    assert again.returncode == 0, again.stdout + again.stderr
    sent = scripted_server.chat_requests()[paid:]
    assert len(sent) == 1 and game_of(sent[0], "q1") == 2, "only the missing game is asked for"
    lines = stored_judgments(tmp_path, "m-one")
    assert [r["uid"] for r in lines] == ["q0", "q1", "q2", "q3"], "one line per question, in question order"
    q1 = lines[1]
    assert q1["games"][0] == game1, "the game paid for in the first run is kept as it was"
    assert q1["games"][1]["score"] == "B>A"
    assert q1["games"][1]["user_prompt"].index("m-one") < q1["games"][1]["user_prompt"].index(BASE)
    assert "1 judgment(s) completed" in again.stdout

    third = gen_judgment(args)
    assert third.returncode == 0 and len(scripted_server.chat_requests()) == paid + 1


def _start_judging(args, env=None):
    return subprocess.Popen([sys.executable, str(ROOT / "gen_judgment.py"), *map(str, args)], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})


def _read_until(proc, words: str) -> list[str]:
    """stderr lines up to the first holding ``words`` (a line the run prints: no waiting on time)."""
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if words in line:
            return lines
    raise AssertionError("the run ended without saying " + repr(words) + ":\n" + "".join(lines))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_run_stopped_while_game_2_is_in_flight_keeps_game_1_and_the_rerun_plays_only_game_2(
        tmp_path, scripted_server, sig):
    # parallel 1: game 2 of q0 reaches the server only once game 1's reply is in the run's hands (its slot freed)
    scripted_server.rules = [(lambda r: game_of(r, "q0") == 2, Answer("[[B>A]]", delay=60)),
                             (lambda r: True, Answer("A is better. [[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), parallel=1)
    proc = _start_judging(args)
    try:
        assert scripted_server.wait_for(lambda s: any(game_of(r, "q0") == 2 for r in s.chat_requests()), 60)
        proc.send_signal(sig)
        _read_until(proc, "stopping:")
        proc.send_signal(sig)  # a second signal: game 2 is given up
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == (130 if sig == signal.SIGINT else 128 + sig), out + err
    assert err.rstrip().splitlines()[-1] == "interrupted: completed work is saved; run again to resume", err
    assert "Traceback" not in err, err
    stored = stored_judgments(tmp_path, "m-one")
    assert [r["uid"] for r in stored] == ["q0"], "the pairing with a paid game is written before the run exits"
    game1, game2 = stored[0]["games"]
    assert game1["score"] == "A>B" and game2 is None
    paid = len(scripted_server.chat_requests())
    assert paid == 2

    scripted_server.rules = [(lambda r: True, Answer("B is better. [[B>A]]"))]
    again = gen_judgment(args)
    assert again.returncode == 0, again.stdout + again.stderr
    sent = scripted_server.chat_requests()[paid:]
    assert len(sent) == 1 + 3 * 2 and not any(game_of(r, "q0") == 1 for r in sent), "game 1 is not paid twice"
    q0 = stored_judgments(tmp_path, "m-one")[0]
    assert q0["games"][0] == game1 and q0["games"][1]["score"] == "B>A"


def test_a_stopped_run_stores_the_replies_in_flight_and_sends_nothing_more(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    scripted_server.held = True  # every reply waits until the test lets it go
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), parallel=4)  # 4 questions: 8 games
    proc = _start_judging(args)
    try:
        assert scripted_server.wait_for(lambda s: len(s.chat_requests()) == 4, 60)
        proc.send_signal(signal.SIGTERM)
        said = _read_until(proc, "stopping:")
        assert "4 request(s) in flight" in said[-1], said
        scripted_server.held = False
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, out + err
    assert err.rstrip().splitlines()[-1] == "interrupted: completed work is saved; run again to resume", err
    stored = stored_judgments(tmp_path, "m-one")
    assert sum(g is not None for r in stored for g in r["games"]) == 4, "each reply that arrived is stored"
    assert len(scripted_server.chat_requests()) == 4, "nothing more is sent once stopping"

    again = gen_judgment(args)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(scripted_server.chat_requests()) == 8, "the rerun asks only for the four games not played"


def test_a_request_timing_out_while_the_run_stops_is_not_sent_again(tmp_path, scripted_server):
    # game 2 outlasts its 1 s attempt during the grace: the SDK's retry would be a new request, paid again
    scripted_server.rules = [(lambda r: game_of(r, "q0") == 2, Answer("[[B>A]]", delay=60)),
                             (lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), parallel=1)
    api = tmp_path / "api.yaml"
    api.write_text(api.read_text().replace("timeout: 10", "timeout: 1").replace("max_retries: 1", "max_retries: 2"))
    proc = _start_judging(args)
    try:
        assert scripted_server.wait_for(lambda s: any(game_of(r, "q0") == 2 for r in s.chat_requests()), 60)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, out + err
    assert len(scripted_server.chat_requests()) == 2, "no retry is sent once the run is stopping"
    assert "failed:" not in err, err
    (game1, game2), = [r["games"] for r in stored_judgments(tmp_path, "m-one")]
    assert game1["score"] == "A>B" and game2 is None


@pytest.mark.parametrize("second, env", [(signal.SIGINT, {}), (None, {"ARENA_TEST_GRACE_SECONDS": "0.2"})])
def test_a_second_signal_or_the_end_of_the_grace_stops_at_once(tmp_path, scripted_server, second, env):
    scripted_server.held = True  # the replies never come
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), parallel=4)
    proc = _start_judging(args, env)
    try:
        assert scripted_server.wait_for(lambda s: len(s.chat_requests()) == 4, 60)
        proc.send_signal(signal.SIGTERM)
        _read_until(proc, "stopping:")
        if second is not None:
            proc.send_signal(second)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        scripted_server.held = False
    assert proc.returncode == 128 + signal.SIGTERM, out + err  # the first signal names the exit status
    assert err.rstrip().splitlines()[-1] == "interrupted: completed work is saved; run again to resume", err
    assert "Traceback" not in err and "never retrieved" not in err, err
    assert len(scripted_server.chat_requests()) == 4


def test_a_completed_judgment_appended_by_a_killed_run_is_the_one_kept(tmp_path, scripted_server):
    """kill -9 after the completion was appended but before the final rewrite leaves both lines of q1."""
    scripted_server.rules = [(lambda r: True, Status(500, message="nothing should be asked"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",))
    game = {"user_prompt": "p", "judgment": "[[A>B]]", "score": "A>B", "usage": None, "attempts": 1}
    record = {"category": "general", "judge": JUDGE, "model": "m-one", "baseline": BASE}
    lines = [{"uid": "q0", **record, "games": [game, game]},
             {"uid": "q1", **record, "games": [game, None]},
             {"uid": "q2", **record, "games": [game, game]},
             {"uid": "q3", **record, "games": [None, game]},
             {"uid": "q1", **record, "games": [game, {**game, "score": "B>A"}]},
             {"uid": "q3", **record, "games": [{**game, "score": "A=B"}, game]}]
    write_jsonl(tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGE / "m-one.jsonl", lines)
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert not scripted_server.chat_requests()
    stored = stored_judgments(tmp_path, "m-one")
    assert [r["uid"] for r in stored] == ["q0", "q1", "q2", "q3"]
    assert [g["score"] for g in stored[1]["games"]] == ["A>B", "B>A"]
    assert [g["score"] for g in stored[3]["games"]] == ["A=B", "A>B"]


# ---------------------------------------------------------------- templates that leave something out


@pytest.mark.parametrize("lines, expect", [
    ('prompt_template: "Which is better? {QUESTION} {ANSWER_A}"\n', ("judge.yaml:9", "prompt_template", "ANSWER_B")),
    ('prompt_template: ["Compare the two answers."]\n', ("judge.yaml:9", "prompt_template", "QUESTION")),
    ('prompt_template: ["{question_1}", "{answer_1}"]\n', ("judge.yaml:9", "prompt_template", "answer_2")),
    ('prompt_template: ["{answer_1} {answer_2}"]\n', ("judge.yaml:9", "prompt_template", "question_1")),
    ('prompt_template: "{QUESTION} {ANSWER_B} {ANSWER_B}"\n', ("judge.yaml:9", "prompt_template", "ANSWER_A")),
    ('categories:\n  c1:\n    prompt_template: "{ANSWER_A} / {ANSWER_B}"\n',
     ("judge.yaml:11", "categories.c1.prompt_template", "QUESTION")),
])
def test_a_template_without_the_question_or_an_answer_is_refused_before_any_request(
        tmp_path, scripted_server, lines, expect):
    proc = gen_judgment(lay_out_judging(tmp_path, scripted_server, judge_lines=lines))
    assert_stopped_before_any_request(proc, scripted_server, expect)
    assert not (tmp_path / "data" / JUDGED_BENCH / "model_judgment").exists()


def test_numbered_placeholders_across_a_template_list_are_accepted(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), judge_lines=(
        'prompt_template: ["Q: {question_1}", "A: {answer_1}", "B: {answer_2}"]\n'))
    scripted_server.rules = [(lambda r: True, Answer("[[A=B]]"))]
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    first = scripted_server.chat_requests()[0].body["messages"]
    assert [m["role"] for m in first] == ["system", "user", "user", "user"]


def test_a_numbered_template_that_shows_only_one_side_of_a_multi_turn_question_is_refused(
        tmp_path, scripted_server):
    """With two turns per answer, {answer_2} is assistant A's second turn: B's answer is never shown."""
    questions = [{"question_id": "mt1", "category": "general",
                  "turns": [{"content": "First?"}, {"content": "Second?"}]}]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), questions=[
        {"uid": "mt1", "category": "general", "prompt": "First?"}],
        judge_lines='prompt_template: "{question_1} {question_2} {answer_1} {answer_2}"\n')
    data = tmp_path / "data" / JUDGED_BENCH
    write_jsonl(data / "question.jsonl", questions)
    for model in (BASE, "m-one"):
        write_jsonl(data / "model_answer" / f"{model}.jsonl", [
            {"question_id": "mt1", "model_id": model, "choices": [{"index": 0, "turns": [
                {"content": f"{model} first"}, {"content": f"{model} second"}]}]}])
    assert_stopped_before_any_request(gen_judgment(args), scripted_server,
                                      ("judge.yaml", "prompt_template", "assistant B", "question mt1"))


# ---------------------------------------------------------------- labels outside the vocabulary


@pytest.mark.parametrize("text, label, distinct", [
    ("[[A>>>B]]", None, 0),  # not a label: worth asking again
    ("[[AB]] then [[A>B]]", "A>B", 1),
    ("[[A<<B]]", "A<<B", 1),  # v2's mirror spelling, kept as written
    ("[[A>B]] or, said the other way, [[B<A]]", "A>B", 1),  # the same verdict twice
    ("[[A<B]] but [[A>B]]", None, 2),
])
def test_only_the_verdict_vocabulary_counts_as_a_label(text, label, distinct):
    assert extract_label(text, PATTERNS) == (label, distinct)


def test_a_label_outside_the_vocabulary_is_asked_again_and_null_at_the_last_attempt(tmp_path, scripted_server):
    scripted_server.rules = [
        (lambda r: game_of(r, "q0") == 1 and FINISH_REQUEST in r.last_user_text, Answer("Then: [[B<A]]")),
        (lambda r: True, Answer("Clearly [[A>>>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), attempts=2, questions=[
        {"uid": "q0", "category": "general", "prompt": "Question 0?"}])
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    g1, g2 = stored_judgments(tmp_path, "m-one")[0]["games"]
    assert (g1["score"], g1["attempts"]) == ("B<A", 2), "stored as the judge wrote it"
    assert (g2["score"], g2["attempts"]) == (None, 2)
    assert len(scripted_server.chat_requests()) == 4
    assert "1 game(s) without a label" in proc.stdout


# ---------------------------------------------------------------- identical answer files


def test_identical_answers_under_two_names_are_warned_about_before_judging(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one", "m-copy", "m-two"))
    answers = tmp_path / "data" / JUDGED_BENCH / "model_answer"
    copied = [{**r, "model": "m-copy"} for r in read_jsonl(answers / "m-one.jsonl")][:3]  # 3 shared questions
    write_jsonl(answers / "m-copy.jsonl", copied)
    base_copy = [{**r, "model": "m-two"} for r in read_jsonl(answers / f"{BASE}.jsonl")]
    write_jsonl(answers / "m-two.jsonl", base_copy)
    scripted_server.rules = [(lambda r: True, Answer("[[A=B]]"))]
    proc = gen_judgment(args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    warnings = [line for line in proc.stdout.splitlines() if "identical answers" in line]
    assert len(warnings) == 2, proc.stdout
    assert "m-one" in warnings[0] and "m-copy" in warnings[0] and "3 question(s)" in warnings[0]
    assert BASE in warnings[1] and "m-two" in warnings[1] and "4 question(s)" in warnings[1]
    assert proc.stdout.index("identical answers") < proc.stdout.index("new judgments")
    assert len(scripted_server.chat_requests()) == 8 + 6 + 8, "the run goes on"


# ---------------------------------------------------------------- settings and places that cannot work


def test_a_missing_judge_model_says_what_is_expected(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server)
    settings = tmp_path / "judge.yaml"
    settings.write_text(settings.read_text().replace(f"judge_model: {JUDGE}\n", ""))
    proc = gen_judgment(args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    for fragment in ("judge.yaml", "judge_model", "a model name or a list of them"):
        assert fragment in proc.stderr, (fragment, proc.stderr)
    assert "expected a list" not in proc.stderr


def test_an_output_file_that_is_a_folder_stops_before_any_request(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server)
    blocked = tmp_path / "data" / JUDGED_BENCH / "model_judgment" / JUDGE / "m-two.jsonl"
    blocked.mkdir(parents=True)
    proc = gen_judgment(args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert str(blocked) in proc.stderr and "a folder where an output file belongs" in proc.stderr
    assert not scripted_server.chat_requests()
    assert not (blocked.parent / "m-one.jsonl").exists()


def test_a_read_only_data_folder_stops_before_any_request(tmp_path, scripted_server):
    args = lay_out_judging(tmp_path, scripted_server)
    bench = tmp_path / "data" / JUDGED_BENCH
    bench.chmod(0o555)
    try:
        proc = run_script("gen_judgment.py", *args, timeout=120, prefix=bound_by_permissions())
    finally:
        bench.chmod(0o755)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert str(bench / "model_judgment") in proc.stderr
    assert not scripted_server.chat_requests()
