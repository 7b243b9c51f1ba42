"""Bad input of every common kind ends in one clear line naming file, line and key, exit 2, no output."""
from __future__ import annotations

import pytest

from tests.helpers import bound_by_permissions, make_questions, run_script, write_jsonl

GOOD_SETTINGS = """bench_name: tiny
temperature: 0.0
max_tokens: 64
num_choices: 1
model_list:
  - model-a
"""

GOOD_API = """model-a:
  model_name: model-a
  endpoints:
    - api_base: http://127.0.0.1:9/v1
      api_key: sk-unused
  api_type: openai
  parallel: 2
"""


def setup(tmp_path, settings=GOOD_SETTINGS, api=GOOD_API, questions=None):
    (tmp_path / "settings.yaml").write_text(settings)
    (tmp_path / "api.yaml").write_text(api)
    qfile = tmp_path / "data" / "tiny" / "question.jsonl"
    if questions is None:
        questions = make_questions(3)
    if questions != "absent":
        write_jsonl(qfile, questions)
    return tmp_path


def run(tmp_path, env=None, prefix=()):
    return run_script("gen_answer.py", "--setting-file", tmp_path / "settings.yaml", "--endpoint-file",
                      tmp_path / "api.yaml", "--data-dir", tmp_path / "data", env=env, timeout=60, prefix=prefix)


CASES = {
    "broken YAML": dict(settings="bench_name: tiny\nmodel_list: [model-a\n", expect=("settings.yaml", "YAML")),
    # the newcomer's indentation slips: one space too many, and a key at the start of the line
    "a key indented too far": dict(api=GOOD_API.replace("  api_type: openai", "   api_type: openai"),
                                   expect=("api.yaml:6", "YAML", "check the indentation")),
    "a key not indented": dict(api=GOOD_API.replace("  endpoints:", "endpoints:"),
                               expect=("api.yaml", "YAML", "check the indentation")),
    "unknown model": dict(settings=GOOD_SETTINGS.replace("- model-a", "- model-b"),
                          expect=("settings.yaml:6", "model_list", "model-b")),
    "missing bench_name": dict(settings=GOOD_SETTINGS.replace("bench_name: tiny\n", ""),
                               expect=("settings.yaml", "bench_name", "missing")),
    "wrong type for parallel": dict(api=GOOD_API.replace("parallel: 2", "parallel: many"),
                                    expect=("api.yaml:7", "model-a.parallel", "integer")),
    "wrong type for temperature": dict(settings=GOOD_SETTINGS.replace("temperature: 0.0", "temperature: hot"),
                                       expect=("settings.yaml:2", "temperature", "number")),
    "unknown api_type": dict(api=GOOD_API.replace("api_type: openai", "api_type: bard"),
                             expect=("api.yaml:6", "model-a.api_type", "bard")),
    "misspelt key": dict(api=GOOD_API.replace("parallel: 2", "paralel: 2"),
                         expect=("api.yaml:7", "model-a.paralel", "unknown key")),
    "endpoints not a list": dict(api=GOOD_API.replace(
        "  endpoints:\n    - api_base: http://127.0.0.1:9/v1\n      api_key: sk-unused\n", "  endpoints: 5\n"),
        expect=("api.yaml", "model-a.endpoints", "list")),
    "unset environment variable": dict(api=GOOD_API.replace("sk-unused", "${ARENA_TEST_UNSET_VAR}"),
                                       expect=("api.yaml:5", "api_key", "ARENA_TEST_UNSET_VAR")),
    "api key that is not a string": dict(api=GOOD_API.replace("sk-unused", "12345678987654321"),
                                         expect=("api.yaml:5", "api_key", "string")),
    "duplicate YAML key": dict(settings=GOOD_SETTINGS + "bench_name: other\n",
                               expect=("settings.yaml:7", "bench_name", "duplicate")),
    "key without a value": dict(settings=GOOD_SETTINGS.replace("bench_name: tiny", "bench_name:"),
                                expect=("settings.yaml", "bench_name", "missing")),
    "list as a key": dict(settings="? [a, b]\n: 1\n" + GOOD_SETTINGS, expect=("settings.yaml:1", "plain name")),
    "empty model_list": dict(settings=GOOD_SETTINGS.split("model_list")[0] + "model_list: []\n",
                             expect=("settings.yaml", "model_list")),
    "duplicate question ids": dict(questions=make_questions(2) + make_questions(1),
                                   expect=("question.jsonl:3", "uid", "duplicate")),
    "non-JSON line": dict(questions=make_questions(2) + ["{not json"], expect=("question.jsonl:3", "JSON")),
    "empty question file": dict(questions=[], expect=("question.jsonl", "no questions")),
    "question without a prompt": dict(questions=[{"uid": "x1", "category": "c"}],
                                      expect=("question.jsonl:1", "prompt")),
    "question that is not an object": dict(questions=["[1, 2]"], expect=("question.jsonl:1", "JSON object")),
    "missing question file": dict(questions="absent", expect=("question.jsonl", "not found")),
    "num_choices above 1": dict(settings=GOOD_SETTINGS.replace("num_choices: 1", "num_choices: 3"),
                                expect=("settings.yaml:4", "num_choices", "only num_choices: 1")),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_input_gives_one_line_and_exit_2(tmp_path, case):
    spec = dict(CASES[case])
    expect = spec.pop("expect")
    setup(tmp_path, **spec)
    before = sorted(p for p in tmp_path.rglob("*"))
    result = run(tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in expect:
        assert fragment in lines[0], (fragment, lines[0])
    assert "sk-unused" not in result.stderr and "12345678987654321" not in result.stderr
    after = sorted(p for p in tmp_path.rglob("*"))
    assert after == before, "a rejected run must not create files"


def test_missing_api_key_for_hosted_model_is_named(tmp_path, monkeypatch):
    api = "gpt-x:\n  model_name: gpt-x\n  endpoints: null\n  api_type: openai\n"
    setup(tmp_path, settings=GOOD_SETTINGS.replace("model-a", "gpt-x"), api=api)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = run(tmp_path)
    assert result.returncode == 2
    assert "OPENAI_API_KEY" in result.stderr and "api.yaml:3" in result.stderr


def test_an_answer_folder_that_is_a_file_stops_before_any_request(tmp_path):
    """As root too: a regular file where the model_answer folder belongs cannot be written into."""
    setup(tmp_path)
    blocked = tmp_path / "data" / "tiny" / "model_answer"
    blocked.write_text("not a folder\n")
    before = sorted(tmp_path.rglob("*"))
    result = run(tmp_path)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert str(blocked) in lines[0] and "a file where a folder for the output files belongs" in lines[0], lines[0]
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize("read_only", ["bench folder", "answer folder", "answer file"])
def test_a_read_only_data_directory_stops_before_any_request(tmp_path, read_only):
    setup(tmp_path)
    answers = tmp_path / "data" / "tiny" / "model_answer"
    answers.mkdir()
    (answers / "model-a.jsonl").write_text("")
    target = {"bench folder": answers.parent, "answer folder": answers, "answer file": answers / "model-a.jsonl"}
    if read_only == "bench folder":
        (answers / "model-a.jsonl").unlink()
        answers.rmdir()
    target[read_only].chmod(0o444 if read_only == "answer file" else 0o555)
    try:
        result = run(tmp_path, prefix=bound_by_permissions())
    finally:
        target[read_only].chmod(0o644 if read_only == "answer file" else 0o755)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert "cannot write" in lines[0] and str(tmp_path / "data" / "tiny") in lines[0], lines[0]
