"""Reasoning models and replies that cannot be stored as they came, end to end against the scripted server.

Each test runs gen_answer.py or gen_judgment.py as a user would, against a
real HTTP server on 127.0.0.1 that replies the way reasoning models do:
``<think>`` blocks in the content, ``reasoning_content`` / ``reasoning``
beside it, Anthropic ``thinking`` blocks, and lone surrogates.
"""
from __future__ import annotations

import json

import pytest

from tests.helpers import read_jsonl, run_script, write_jsonl
from tests.scripted_server import Answer
from utils.vocabulary.records import read_answers
from utils.plumbing.store import dump_line
from utils.vocabulary.style import encoder

KEY = "sk-reasoning-test"
BENCH = "rbench"


def write_config(tmp_path, server, entries: dict[str, str], *, api_type="openai", settings_extra="",
                 max_tokens=64, questions=None):
    """api.yaml with one entry per model (``entries``: name -> extra YAML lines), settings and questions."""
    base = server.root_url if api_type == "anthropic" else server.url
    api = ""
    for name, extra in entries.items():
        api += (f"{name}:\n  model_name: {name}-served\n  api_type: {api_type}\n  max_retries: 0\n  timeout: 10\n"
                f"{extra}  endpoints:\n    - api_base: {base}\n      api_key: ${{ARENA_TEST_KEY}}\n")
    (tmp_path / "api.yaml").write_text(api)
    (tmp_path / "settings.yaml").write_text(
        f"bench_name: {BENCH}\ntemperature: 0.5\nmax_tokens: {max_tokens}\nnum_choices: 1\n{settings_extra}"
        "model_list:\n" + "".join(f"  - {m}\n" for m in entries))
    write_jsonl(tmp_path / f"data/{BENCH}/question.jsonl",
                questions or [{"uid": "q1", "category": "c", "prompt": "Explain something."}])
    return ["--setting-file", tmp_path / "settings.yaml", "--endpoint-file", tmp_path / "api.yaml",
            "--data-dir", tmp_path / "data"]


def gen_answer(args):
    return run_script("gen_answer.py", *args, env={"ARENA_TEST_KEY": KEY}, timeout=120)


def stored(tmp_path, model="m") -> list[dict]:
    path = tmp_path / f"data/{BENCH}/model_answer/{model}.jsonl"
    return read_jsonl(path) if path.exists() else []


def assistant_contents(record: dict) -> list:
    return [m["content"] for m in record["messages"] if m["role"] == "assistant"]


def tokens(text: str) -> int:
    return len(encoder("cl100k_base").encode(text, disallowed_special=()))


def reply_by_prompt(server, replies: dict[str, Answer]) -> None:
    """Answer each request by the first key found in its last user message."""
    server.rules = [(lambda r, key=key: key in r.last_user_text, action) for key, action in replies.items()]


# ---------------------------------------------------------------- answers of local reasoning models

THINK = "# Plan\nFirst **list** the steps:\n- one\n- two"
ANSWER = "The answer is 42."


@pytest.mark.parametrize("content", [
    f"<think>\n{THINK}\n</think>\n\n{ANSWER}",  # the model opened and closed the block itself
    f"{THINK}\n</think>\n\n{ANSWER}",  # the chat template opened <think>, the content only closes it
])
def test_think_block_is_kept_apart_from_the_answer(tmp_path, scripted_server, content):
    questions = [{"question_id": "q1", "category": "c", "turns": [{"content": "First turn"}, {"content": "Second"}]}]
    scripted_server.rules = [(lambda r: True, Answer(content))]
    proc = gen_answer(write_config(tmp_path, scripted_server, {"m": ""}, questions=questions))
    assert proc.returncode == 0, proc.stderr

    record = stored(tmp_path)[0]
    assert assistant_contents(record) == [{"answer": ANSWER, "reasoning": THINK}] * 2
    # later turns see the answer alone, not the reasoning
    second = scripted_server.chat_requests()[1].body["messages"]
    assert [m["content"] for m in second if m["role"] == "assistant"] == [ANSWER]
    # style metadata of the answer alone: the reasoning's header, bold and list items do not count
    assert record["metadata"] == {"token_len": 2 * tokens(ANSWER),
                                  "header_count": {f"h{k}": 0 for k in range(1, 7)},
                                  "list_count": {"ordered": 0, "unordered": 0}, "bold_count": {"**": 0, "__": 0}}
    answer = read_answers(tmp_path / f"data/{BENCH}/model_answer/m.jsonl")["q1"]
    assert answer.turns == [ANSWER, ANSWER] and answer.reasoning == [THINK, THINK]


def test_keep_policy_stores_the_text_as_produced(tmp_path, scripted_server):
    content = f"<think>\n{THINK}\n</think>\n\n{ANSWER}"
    reply_by_prompt(scripted_server, {"inline": Answer(content),
                                      "apart": Answer(ANSWER, reasoning_content="thought apart")})
    questions = [{"uid": "q1", "prompt": "inline"}, {"uid": "q2", "prompt": "apart"}]
    proc = gen_answer(write_config(tmp_path, scripted_server, {"m": "  reasoning_policy: keep\n"},
                                   questions=questions))
    assert proc.returncode == 0, proc.stderr
    inline, apart = stored(tmp_path)
    assert assistant_contents(inline) == [{"answer": content}]
    assert inline["metadata"]["header_count"]["h1"] == 1 and inline["metadata"]["token_len"] == tokens(content)
    # what the endpoint sent separately is still kept separately
    assert assistant_contents(apart) == [{"answer": ANSWER, "reasoning": "thought apart"}]


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_reasoning_sent_beside_the_content_is_recorded_apart(tmp_path, scripted_server, field):
    scripted_server.rules = [(lambda r: True, Answer(ANSWER, **{field: THINK}))]
    proc = gen_answer(write_config(tmp_path, scripted_server, {"m": ""}))
    assert proc.returncode == 0, proc.stderr
    record = stored(tmp_path)[0]
    assert assistant_contents(record) == [{"answer": ANSWER, "reasoning": THINK}]
    assert record["metadata"]["token_len"] == tokens(ANSWER)


def test_a_reply_that_is_all_reasoning_fails_with_the_reason_and_is_not_stored(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("<think>still going when the limit hit",
                                                     finish_reason="length"))]
    proc = gen_answer(write_config(tmp_path, scripted_server, {"m": ""}))
    assert proc.returncode == 1
    assert "the token limit (64) ran out while the model was still reasoning; raise max_tokens" in proc.stdout
    assert stored(tmp_path) == []


def test_a_think_block_never_closed_at_a_natural_stop_is_stored_as_reasoning_not_bought_again(tmp_path,
                                                                                             scripted_server):
    # the model stopped of its own accord inside its thoughts: no answer, but a paid reply that holds text
    scripted_server.rules = [(lambda r: True, Answer(f"<think>{THINK}", finish_reason="stop"))]
    args = write_config(tmp_path, scripted_server, {"m": ""})
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    record = stored(tmp_path)[0]
    assert assistant_contents(record) == [{"answer": "", "reasoning": THINK}]
    assert record["generation"]["finish_reason"] == "stop"
    assert "1 answer(s) with no text outside the model's reasoning" in proc.stdout
    again = gen_answer(args)
    assert again.returncode == 0 and len(scripted_server.chat_requests()) == 1, "paid for once, not on every rerun"
    checked = run_script("-m utils.check_answers", "--data-dir", tmp_path / "data", "--bench-name", BENCH)
    assert "empty" in checked.stdout and "q1" in checked.stdout, checked.stdout + checked.stderr


def test_content_sent_as_a_list_of_text_parts_is_the_joined_answer(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer(f"{ANSWER}\nAnd a second part.", as_parts=True))]
    proc = gen_answer(write_config(tmp_path, scripted_server, {"m": ""}))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert assistant_contents(stored(tmp_path)[0]) == [{"answer": f"{ANSWER}\nAnd a second part."}]


def test_files_without_reasoning_and_the_original_thought_key_load(tmp_path):
    records = [{"uid": "a", "model": "m", "messages": [{"role": "user", "content": "q"},
                                                       {"role": "assistant", "content": {"answer": "x"}}]},
               {"uid": "b", "model": "m", "messages": [{"role": "user", "content": "q"},
                                                       {"role": "assistant", "content": {"answer": "y",
                                                                                         "thought": "t"}}]}]
    answers = read_answers(write_jsonl(tmp_path / "m.jsonl", records))
    assert (answers["a"].turns, answers["a"].reasoning) == (["x"], [])
    assert (answers["b"].turns, answers["b"].reasoning) == (["y"], ["t"])
    assert answers["a"].to_json()["messages"][1]["content"] == {"answer": "x"}  # no reasoning key when none


# ---------------------------------------------------------------- what is sent to reasoning models


def test_token_limit_field_effort_and_temperature_as_configured(tmp_path, scripted_server):
    entries = {
        "plain": "",
        "effort": "  reasoning_effort: high\n",
        "effort-own-temperature": "  reasoning_effort: low\n  temperature: 1.0\n",
        "gpt5-style": "  max_tokens_field: max_completion_tokens\n",
        "effort-old-field": "  reasoning_effort: medium\n  max_tokens_field: max_tokens\n",
    }
    proc = gen_answer(write_config(tmp_path, scripted_server, entries))
    assert proc.returncode == 0, proc.stderr
    bodies = {r.body["model"].removesuffix("-served"): r.body for r in scripted_server.chat_requests()}

    def sent(name):
        return {k: v for k, v in bodies[name].items() if k not in ("model", "messages")}

    assert sent("plain") == {"temperature": 0.5, "max_tokens": 64}
    assert sent("effort") == {"reasoning_effort": "high", "max_completion_tokens": 64}
    assert sent("effort-own-temperature") == {"reasoning_effort": "low", "max_completion_tokens": 64,
                                              "temperature": 1.0}
    assert sent("gpt5-style") == {"max_completion_tokens": 64}
    assert sent("effort-old-field") == {"reasoning_effort": "medium", "max_tokens": 64}


# ---------------------------------------------------------------- Anthropic extended thinking


def test_anthropic_thinking_is_requested_and_its_blocks_kept_apart(tmp_path, scripted_server):
    quoting = "Models close their reasoning with </think> and then answer."
    reply_by_prompt(scripted_server, {"plain": Answer(ANSWER, thinking=THINK),
                                      "redacted": Answer(ANSWER, thinking="visible part", redacted_thinking=True),
                                      "quoting": Answer(quoting)})
    questions = [{"uid": f"q{i}", "prompt": prompt} for i, prompt in enumerate(("plain", "redacted", "quoting"), 1)]
    args = write_config(tmp_path, scripted_server, {"m": "  thinking: {budget_tokens: 2048}\n"}, api_type="anthropic",
                        max_tokens=4096, questions=questions)
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    for request in scripted_server.chat_requests():
        assert request.path == "/v1/messages"
        assert request.body["thinking"] == {"type": "enabled", "budget_tokens": 2048}
        assert request.body["max_tokens"] == 4096 and "temperature" not in request.body
    plain, redacted, quoted = stored(tmp_path)
    assert assistant_contents(plain) == [{"answer": ANSWER, "reasoning": THINK}]
    assert assistant_contents(redacted) == [{"answer": ANSWER, "reasoning": "[redacted thinking]\n\nvisible part"}]
    assert assistant_contents(quoted) == [{"answer": quoting}]  # Claude's text is never split at a </think>
    assert plain["metadata"]["token_len"] == tokens(ANSWER) and plain["metadata"]["header_count"]["h1"] == 0


def assert_input_error(proc, server, *parts):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    for part in parts:
        assert part in lines[0], lines[0]
    assert server.chat_requests() == []


def test_thinking_budget_must_leave_room_for_the_answer(tmp_path, scripted_server):
    # the entry's own max_tokens: reported at its line in api.yaml (line 4 of the entry)
    args = write_config(tmp_path, scripted_server, {"m": "  max_tokens: 2048\n  thinking: {budget_tokens: 2048}\n"},
                        api_type="anthropic", max_tokens=8192)
    assert_input_error(gen_answer(args), scripted_server, f"{tmp_path / 'api.yaml'}:6: m.max_tokens:",
                       "must exceed thinking.budget_tokens (2048)")
    # the step's max_tokens: reported at its line in the settings
    args = write_config(tmp_path, scripted_server, {"m": "  thinking: {budget_tokens: 4096}\n"},
                        api_type="anthropic", max_tokens=4096)
    assert_input_error(gen_answer(args), scripted_server, f"{tmp_path / 'settings.yaml'}:3: max_tokens:",
                       "must exceed the thinking budget_tokens (4096) of model 'm'")
    assert not (tmp_path / f"data/{BENCH}/model_answer").exists()


@pytest.mark.parametrize("extra, api_type, where", [
    ("  reasoning_effort: extreme\n", "openai", "m.reasoning_effort: expected one of low, medium, high"),
    ("  max_tokens_field: max_output_tokens\n", "openai", "m.max_tokens_field: expected one of max_tokens, "),
    ("  reasoning_policy: drop\n", "openai", "m.reasoning_policy: expected one of strip, keep"),
    ("  thinking: {budget_tokens: 2048}\n", "openai", "m.thinking: thinking is for anthropic models"),
    ("  thinking: {budget: 2048}\n", "anthropic", "m.thinking.budget: unknown key in thinking"),
    ("  thinking: {budget_tokens: 100}\n", "anthropic", "m.thinking.budget_tokens: must be at least 1024"),
    ("  thinking: {budget_tokens: 2048}\n  temperature: 0.2\n", "anthropic", "m.temperature: Anthropic models take no"),
    ("  reasoning_effort: high\n", "anthropic", "m.reasoning_effort: reasoning_effort is for openai and azure"),
])
def test_bad_reasoning_keys_name_file_line_and_key(tmp_path, scripted_server, extra, api_type, where):
    args = write_config(tmp_path, scripted_server, {"m": extra}, api_type=api_type, max_tokens=8192)
    assert_input_error(gen_answer(args), scripted_server, f"{tmp_path / 'api.yaml'}:", where)


# ---------------------------------------------------------------- a reasoning judge


def test_a_reasoning_judges_label_comes_from_its_answer(tmp_path, scripted_server):
    data = tmp_path / "data"
    write_jsonl(data / f"{BENCH}/question.jsonl", [{"uid": "q1", "category": "c", "prompt": "Which is better?"}])
    for model in ("base", "m"):
        write_jsonl(data / f"{BENCH}/model_answer/{model}.jsonl",
                    [{"uid": "q1", "model": model, "messages": [{"role": "user", "content": "Which is better?"},
                                                                {"role": "assistant", "content": {"answer": model}}]}])
    (tmp_path / "api.yaml").write_text(
        f"judge:\n  model_name: judge-served\n  max_retries: 0\n  endpoints:\n    - api_base: {scripted_server.url}\n"
        f"      api_key: {KEY}\n")
    (tmp_path / "judge.yaml").write_text(f"bench_name: {BENCH}\njudge_model: judge\nbaseline_model: base\n"
                                         "number_of_judgment_attempts: 1\nmodel_list: [m]\n")
    # game 1 (the baseline shown as A): the reasoning weighs both labels inline, the answer settles;
    # game 2: the reasoning comes beside the content
    reply_by_prompt(scripted_server, {
        "<answer_a>\nbase\n": Answer("<think>Perhaps [[A>B]]... no, [[B>A]] fits better.</think>\n"
                                     "Final verdict: [[B>A]]"),
        "<answer_a>\nm\n": Answer("Final verdict: [[A>>B]]",
                                  reasoning_content="At first [[B>A]], then clearly [[A>>B]]."),
    })
    proc = run_script("gen_judgment.py", "--setting-file", tmp_path / "judge.yaml", "--endpoint-file",
                      tmp_path / "api.yaml", "--data-dir", data, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    games = read_jsonl(data / f"{BENCH}/model_judgment/judge/m.jsonl")[0]["games"]
    assert [g["score"] for g in games] == ["B>A", "A>>B"]  # both texts in full hold two distinct labels
    assert [g["judgment"] for g in games] == ["Final verdict: [[B>A]]", "Final verdict: [[A>>B]]"]
    assert [g["reasoning"] for g in games] == ["Perhaps [[A>B]]... no, [[B>A]] fits better.",
                                               "At first [[B>A]], then clearly [[A>>B]]."]


# ---------------------------------------------------------------- lone surrogates


def test_a_reply_with_lone_surrogates_is_stored_repaired_and_not_asked_again(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("broken \ud800 text", reasoning_content="half \udc00 thought"))]
    args = write_config(tmp_path, scripted_server, {"m": ""})
    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    raw = (tmp_path / f"data/{BENCH}/model_answer/m.jsonl").read_bytes()
    assert b"\\ud800" not in raw and b"\\udc00" not in raw  # stored as U+FFFD, not as the escapes
    record = json.loads(raw)
    assert assistant_contents(record) == [{"answer": "broken \ufffd text", "reasoning": "half \ufffd thought"}]
    assert record["repaired"] == {"lone_surrogates": 2}
    assert record["metadata"]["token_len"] == tokens("broken \ufffd text")

    again = gen_answer(args)
    assert again.returncode == 0, again.stderr
    assert len(scripted_server.chat_requests()) == 1, "a stored answer is not paid for twice"


def test_dump_line_never_raises_and_marks_what_it_mended():
    record = {"uid": "q1", "text": "a\ud800b", "nested": [{"x": "\udfff"}], "repaired": {"lone_surrogates": 1},
              "odd": {1, 2}}
    line = dump_line(record)
    back = json.loads(line)
    assert back["text"] == "a\ufffdb" and back["nested"] == [{"x": "\ufffd"}] and back["odd"] == "{1, 2}"
    assert back["repaired"] == {"lone_surrogates": 3, "not_json": 1}
    assert record["text"] == "a\ud800b"  # the caller's record is left as it was
    assert dump_line({"uid": "q2", "text": "plain é"}) == '{"uid": "q2", "text": "plain é"}\n'.encode()
