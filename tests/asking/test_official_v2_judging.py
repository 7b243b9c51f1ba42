"""Arena-Hard v2.0 out of the box: config/arena-hard-v2.0.yaml on the shipped data, the judge on the scripted server.

Without gemini-2.0-flash-001's answers the hard prompts are judged against
o3-mini's and the creative-writing questions are reported with the command
that makes the missing answers; running that command and judging again
judges exactly those.
"""
from __future__ import annotations

import json
import shlex
import shutil
from collections import Counter

import pytest

from tests.helpers import ROOT, read_jsonl, run_script, write_jsonl
from tests.scripted_server import Answer
from utils.asking.judge_prompts import DEFAULT_SYSTEM_PROMPT
from utils.vocabulary.records import read_answers, read_questions

BENCH, JUDGE, MODEL = "arena-hard-v2.0", "gpt-4.1", "new-model"
O3, GEMINI = "o3-mini-2025-01-31", "gemini-2.0-flash-001"
A_START, A_END = "<|The Start of Assistant A's Answer|>\n", "\n<|The End of Assistant A's Answer|>"
B_START, B_END = "<|The Start of Assistant B's Answer|>\n", "\n<|The End of Assistant B's Answer|>"


def shown(text: str) -> tuple[str, str]:
    """The answers shown as assistant A and B in a judge's user message (the official layout)."""
    a = text.split(A_START, 1)[1].split(A_END, 1)[0]
    b = text.split(B_START, 1)[1].split(B_END, 1)[0]
    return a, b


def model_answer(uid: str) -> str:
    return f"{MODEL} answers {uid}"


def check_games(requests, baseline_answers: dict) -> Counter:
    """Every request shows the model's answer and the baseline's for the same question; per question,
    one game with the baseline as A and one with it as B. Returns the system prompts used, counted."""
    positions: dict[str, list[str]] = {}
    systems = Counter()
    for req in requests:
        a, b = shown(req.last_user_text)
        if a.startswith(f"{MODEL} answers "):
            uid, baseline_side, other = a.rsplit(" ", 1)[1], "B", b
        else:
            uid, baseline_side, other = b.rsplit(" ", 1)[1], "A", a
        assert other == baseline_answers[uid], f"question {uid}: the baseline's answer is not the one shown"
        positions.setdefault(uid, []).append(baseline_side)
        systems[req.body["messages"][0]["content"]] += 1
    assert all(sorted(sides) == ["A", "B"] for sides in positions.values())
    return systems


@pytest.mark.slow  # 2250 requests: about 15 s on 2 idle cores, a minute on busy ones
def test_v20_judges_hard_prompts_now_and_creative_writing_once_its_baseline_is_made(tmp_path, scripted_server):
    data = tmp_path / "data"
    (data / BENCH / "model_answer").mkdir(parents=True)
    shutil.copy(ROOT / "data" / BENCH / "question.jsonl", data / BENCH / "question.jsonl")
    shutil.copy(ROOT / "data" / BENCH / "model_answer" / f"{O3}.jsonl", data / BENCH / "model_answer")
    questions = read_questions(data / BENCH / "question.jsonl")
    write_jsonl(data / BENCH / "model_answer" / f"{MODEL}.jsonl", [
        {"uid": q.uid, "ans_id": q.uid, "model": MODEL, "tstamp": 0,
         "messages": [{"role": "user", "content": q.turns[0]},
                      {"role": "assistant", "content": {"answer": model_answer(q.uid)}}]} for q in questions])
    api = tmp_path / "api.yaml"
    api.write_text("".join(f"{name}:\n  model_name: {name}\n  parallel: 64\n  max_retries: 1\n  timeout: 30\n"
                           f"  endpoints:\n    - api_base: {scripted_server.url}\n      api_key: k\n"
                           for name in (JUDGE, GEMINI)))
    scripted_server.rules = [(lambda r: r.body["model"] == JUDGE, Answer("A is better. [[A>B]]"))]
    args = ["--setting-file", ROOT / "config/arena-hard-v2.0.yaml", "--model", MODEL,
            "--endpoint-file", api, "--data-dir", data]
    hard = {q.uid for q in questions if q.category == "hard_prompt"}
    creative = {q.uid for q in questions if q.category == "creative_writing"}
    assert (len(hard), len(creative)) == (500, 250)

    # before any key is set, the shipped api_config prices the run and says what waits for which baseline
    dry = run_script("gen_judgment.py", "--setting-file", ROOT / "config/arena-hard-v2.0.yaml", "--model", MODEL,
                     "--data-dir", data, "--dry-run", "--json", env={"OPENAI_API_KEY": ""})
    assert dry.returncode == 0, dry.stderr
    estimate = json.loads(dry.stdout)
    assert estimate["requests"] == 1000 and [item["judge"] for item in estimate["items"]] == [JUDGE]
    assert any(f"wait for answers of their baseline {GEMINI}" in note and "python gen_answer.py" in note
               for note in estimate["notes"])

    proc = run_script("gen_judgment.py", *args, timeout=300)
    assert proc.returncode == 5, proc.stdout + proc.stderr  # the creative-writing questions wait for their baseline
    stored = read_jsonl(data / BENCH / "model_judgment" / JUDGE / f"{MODEL}.jsonl")
    assert {r["uid"] for r in stored} == hard and len(stored) == 500
    assert {(r["baseline"], r["category"]) for r in stored} == {(O3, "hard_prompt")}
    requests = scripted_server.chat_requests()
    assert len(requests) == 1000
    o3 = {uid: a.text for uid, a in read_answers(data / BENCH / "model_answer" / f"{O3}.jsonl").items()}
    assert check_games(requests, o3) == Counter({DEFAULT_SYSTEM_PROMPT: 1000})
    for r in stored:  # game 1 shows the baseline as A, game 2 as B
        g1, g2 = r["games"]
        assert shown(g1["user_prompt"]) == (o3[r["uid"]], model_answer(r["uid"]))
        assert shown(g2["user_prompt"]) == (model_answer(r["uid"]), o3[r["uid"]])
    assert "250 question(s) skipped: no answer of their baseline gemini-2.0-flash-001" in proc.stdout
    assert ("250 question(s) of category creative_writing wait for answers of their baseline "
            "gemini-2.0-flash-001: the benchmark does not publish its answers") in proc.stdout
    hint = "Make them with this command, then run gen_judgment.py again:\n"
    command = proc.stdout.split(hint, 1)[1].splitlines()[0].strip()
    assert command == shlex.join(["python", "gen_answer.py", "--setting-file",
                                  str(ROOT / "config/gen_answer_arena-hard-v2.0.yaml"), "--endpoint-file", str(api),
                                  "--data-dir", str(data), "--model", GEMINI])

    # the printed command, as a user would paste it, makes the missing answers
    words = shlex.split(command)  # python gen_answer.py ...: run with this interpreter
    answered = run_script(words[1], *words[2:], timeout=300)
    assert answered.returncode == 0, answered.stdout + answered.stderr
    gemini = {uid: a.text for uid, a in read_answers(data / BENCH / "model_answer" / f"{GEMINI}.jsonl").items()}
    assert set(gemini) == hard | creative

    scripted_server.requests.clear()
    again = run_script("gen_judgment.py", *args, timeout=300)
    assert again.returncode == 0, again.stdout + again.stderr
    requests = scripted_server.chat_requests()
    assert len(requests) == 500
    systems = check_games(requests, {uid: gemini[uid] for uid in creative})
    assert len(systems) == 1 and DEFAULT_SYSTEM_PROMPT not in systems  # creative writing's own prompt
    stored = read_jsonl(data / BENCH / "model_judgment" / JUDGE / f"{MODEL}.jsonl")
    assert len(stored) == 750
    assert {r["baseline"] for r in stored if r["uid"] in creative} == {GEMINI}
    for r in (r for r in stored if r["uid"] in creative):
        assert [shown(g["user_prompt"]) for g in r["games"]] == [(gemini[r["uid"]], model_answer(r["uid"])),
                                                                  (model_answer(r["uid"]), gemini[r["uid"]])]
    assert f"{JUDGE} / {MODEL}: 250 new judgments, 500 already there" in again.stdout
    assert "wait for answers" not in again.stdout
