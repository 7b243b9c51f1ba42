"""gen_judgment.py end to end with a real judge: SmolLM2 served by llama.cpp, structured verdicts on."""
from __future__ import annotations

import pytest

from tests.helpers import kill_9_after, read_jsonl, run_script, write_jsonl
from utils.vocabulary.verdicts import LABELS

pytestmark = pytest.mark.llama

BENCH, JUDGE, BASE = "tiny", "smol-judge", "plain-base"
QUESTIONS = ["What is the capital of France?", "What is 3 + 4?", "Name a primary colour.",
             "What do bees make?", "How many legs does a spider have?", "What is frozen water called?"]
ANSWERS = {
    BASE: ["Paris.", "7.", "Red.", "Honey.", "Eight.", "Ice."],
    "careful": ["The capital of France is Paris.", "3 + 4 = 7.", "Blue is a primary colour.",
                "Bees make honey and beeswax.", "A spider has eight legs.", "Frozen water is called ice."],
    "wrong": ["Berlin.", "12.", "Green, probably.", "Milk.", "Six.", "Steam."],
}


def lay_out(tmp_path, base_url, api_name="api.yaml", models=("careful", "wrong"), questions=len(QUESTIONS)):
    data = tmp_path / "data" / BENCH
    uids = [f"q{i}" for i in range(questions)]
    write_jsonl(data / "question.jsonl", [{"uid": u, "category": "t", "prompt": q} for u, q in zip(uids, QUESTIONS)])
    for model, texts in ANSWERS.items():
        write_jsonl(data / "model_answer" / f"{model}.jsonl", [
            {"uid": u, "ans_id": f"{model}-{u}", "model": model, "tstamp": 0,
             "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": {"answer": a}}]}
            for u, q, a in zip(uids, QUESTIONS, texts)])
    (tmp_path / api_name).write_text(f"{JUDGE}:\n  model_name: smollm2\n  api_type: openai\n  parallel: 2\n"
                                     f"  endpoints:\n    - api_base: {base_url}\n      api_key: local\n")
    (tmp_path / "judge.yaml").write_text(
        f"bench_name: {BENCH}\njudge_model: {JUDGE}\nbaseline: true\nbaseline_model: {BASE}\npairwise: true\n"
        "temperature: 0\nmax_tokens: 160\nnumber_of_judgment_attempts: 2\nstructured_verdicts: true\n"
        "model_list:\n" + "".join(f"  - {m}\n" for m in models))
    return ["--setting-file", tmp_path / "judge.yaml", "--endpoint-file", tmp_path / api_name,
            "--data-dir", tmp_path / "data"]


def stored(tmp_path, model):
    path = tmp_path / "data" / BENCH / "model_judgment" / JUDGE / f"{model}.jsonl"
    return read_jsonl(path) if path.exists() else []


def test_smollm2_judges_two_models_with_structured_verdicts(tmp_path, llama_base_url):
    n = 3  # 12 games: enough for the claims below, and the one llama.cpp server is the suite's long pole
    args = lay_out(tmp_path, llama_base_url, questions=n)
    proc = run_script("gen_judgment.py", *args, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    labels = []
    for model in ("careful", "wrong"):
        recs = stored(tmp_path, model)
        labels += [g["score"] for r in recs for g in r["games"]]
        assert [r["uid"] for r in recs] == [f"q{i}" for i in range(n)]
        for r in recs:
            assert len(r["games"]) == 2
            for g in r["games"]:
                assert g["score"] in LABELS or g["score"] is None
                assert g["judgment"].strip() and g["usage"]["completion_tokens"] > 0
        # every game has a label, or its null is counted in the summary
        nulls = sum(g["score"] is None for r in recs for g in r["games"])
        line = f"{JUDGE} / {model}: {n} new judgments, 0 already there"
        assert line + (f", {nulls} game(s) without a label (" if nulls else "\n") in proc.stdout, proc.stdout
    assert "judge diagnostics (smol-judge)" in proc.stdout
    # a 135M-parameter judge is a toy, but with structured verdicts at least half its games carry a label
    assert len(labels) == 2 * 2 * n
    assert sum(label in LABELS for label in labels) >= len(labels) / 2, labels

    # a rerun against an address where nothing listens: any request would fail the run
    dead = llama_base_url.rsplit(":", 1)[0] + ":9/v1"
    (tmp_path / "dead.yaml").write_text((tmp_path / "api.yaml").read_text().replace(llama_base_url, dead))
    again = run_script("gen_judgment.py", *[str(a).replace("api.yaml", "dead.yaml") for a in args], timeout=120)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count(f"0 new judgments, {n} already there") == 2


def test_kill_9_then_rerun_loses_no_judgment(tmp_path, llama_base_url):
    # one model: what is claimed holds per judgment file, and the one llama.cpp server is every test's bottleneck
    n = 5
    args = lay_out(tmp_path, llama_base_url, models=("careful",), questions=n)
    out = tmp_path / "data" / BENCH / "model_judgment" / JUDGE / "careful.jsonl"
    kill_9_after("gen_judgment.py", args, out, lines=2, timeout=600)
    survived = {r["uid"]: r["games"] for r in stored(tmp_path, "careful")}
    assert 2 <= len(survived) < n, "kill landed too late to test resuming"

    rerun = run_script("gen_judgment.py", *args, timeout=900)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert sorted(r["uid"] for r in stored(tmp_path, "careful")) == [f"q{i}" for i in range(n)]
    final = {r["uid"]: r["games"] for r in stored(tmp_path, "careful")}
    assert all(final[uid] == games for uid, games in survived.items()), "a judgment paid for was redone"
