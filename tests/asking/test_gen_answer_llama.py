"""gen_answer.py end to end against a real model: SmolLM2 served by llama.cpp on 127.0.0.1."""
from __future__ import annotations

import pytest

from tests.helpers import kill_9_after, read_jsonl, run_script, write_jsonl
from utils.vocabulary.records import read_answers

pytestmark = pytest.mark.llama

# eight questions: enough for a kill after three answers to land mid-run, few enough for the one shared
# llama.cpp server, which is the suite's long pole
QUESTIONS = [
    {"uid": f"q{i:02d}", "category": "test", "prompt": p} for i, p in enumerate([
        "What is the capital of France?", "Name a primary colour.", "What is 3 + 4?",
        "Give one word that rhymes with cat.", "What do bees make?", "How many legs does a spider have?",
        "What is the opposite of hot?", "Name a fruit that is yellow.",
    ])
]


def write_configs(tmp_path, base_url, models=("smol-a", "smol-b"), parallel=2, max_tokens=24):
    api = ""
    for i, name in enumerate(models):
        api += (f"{name}:\n  model_name: smollm2\n  endpoints:\n    - api_base: {base_url}\n      api_key: local\n"
                f"  api_type: openai\n  parallel: {parallel}\n  temperature: {0.0 if i == 0 else 0.7}\n")
    (tmp_path / "api.yaml").write_text(api)
    (tmp_path / "settings.yaml").write_text(
        f"bench_name: tiny\ntemperature: 0.0\nmax_tokens: {max_tokens}\nnum_choices: 1\nmodel_list:\n"
        + "".join(f"  - {m}\n" for m in models))
    write_jsonl(tmp_path / "data/tiny/question.jsonl", QUESTIONS)


def gen_answer_args(tmp_path, api="api.yaml"):
    return ["--setting-file", tmp_path / "settings.yaml", "--endpoint-file", tmp_path / api, "--data-dir",
            tmp_path / "data"]


def test_answers_for_two_models_then_a_rerun_sends_nothing(tmp_path, llama_base_url):
    write_configs(tmp_path, llama_base_url)
    first = run_script("gen_answer.py", *gen_answer_args(tmp_path))
    assert first.returncode == 0, first.stderr
    for model in ("smol-a", "smol-b"):
        records = read_jsonl(tmp_path / f"data/tiny/model_answer/{model}.jsonl")
        assert [r["uid"] for r in records] == [q["uid"] for q in QUESTIONS]  # question order
        for r in records:
            assert r["model"] == model and r["messages"][-1]["content"]["answer"].strip()
            assert r["usage"]["completion_tokens"] > 0
            assert set(r["metadata"]) == {"token_len", "header_count", "list_count", "bold_count"}

    # The rerun points at a port where nothing listens: any request would fail the run.
    dead = llama_base_url.rsplit(":", 1)[0] + ":9/v1"
    (tmp_path / "dead.yaml").write_text((tmp_path / "api.yaml").read_text().replace(llama_base_url, dead))
    before = {m: (tmp_path / f"data/tiny/model_answer/{m}.jsonl").read_bytes() for m in ("smol-a", "smol-b")}
    second = run_script("gen_answer.py", *gen_answer_args(tmp_path, "dead.yaml"))
    assert second.returncode == 0, second.stderr
    assert f"0 new answers, {len(QUESTIONS)} already there" in second.stdout
    assert before == {m: (tmp_path / f"data/tiny/model_answer/{m}.jsonl").read_bytes() for m in before}


def test_kill_9_mid_run_then_rerun_keeps_every_answer_once(tmp_path, llama_base_url):
    # one model: what is claimed holds per answer file, and the one llama.cpp server is every test's bottleneck
    write_configs(tmp_path, llama_base_url, models=("smol-a",), parallel=1, max_tokens=64)
    out = tmp_path / "data/tiny/model_answer/smol-a.jsonl"
    kill_9_after("gen_answer.py", gen_answer_args(tmp_path), out, lines=3, timeout=120)
    assert out.exists(), "no answer was written before the kill"
    survived = {r["uid"]: r["ans_id"] for r in read_jsonl(out)}
    assert 3 <= len(survived) < len(QUESTIONS), "kill landed too late to test resuming"

    rerun = run_script("gen_answer.py", *gen_answer_args(tmp_path))
    assert rerun.returncode == 0, rerun.stderr
    records = read_jsonl(out)
    assert sorted(r["uid"] for r in records) == sorted(q["uid"] for q in QUESTIONS)  # exactly one each
    final = read_answers(out)
    assert all(final[uid].ans_id == ans_id for uid, ans_id in survived.items()), "an answer paid for was redone"
