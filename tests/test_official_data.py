"""The official benchmarks ship in data/: the right files, unchanged, with the questions each should hold."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections import Counter

import pytest

from tests.helpers import ROOT, read_jsonl
from utils.vocabulary.records import read_answers, read_questions

SHIPPED = ["arena-hard-v0.1/question.jsonl", "arena-hard-v0.1/model_answer/gpt-4-0314.jsonl",
           "arena-hard-v2.0/question.jsonl", "arena-hard-v2.0/model_answer/o3-mini-2025-01-31.jsonl"]


def listed_digests() -> dict[str, str]:
    """file -> SHA-256, as the table of data/README.md gives them."""
    rows = re.findall(r"^\| `([^`]+)` \| `([0-9a-f]{64})` \|$", (ROOT / "data/README.md").read_text(), re.M)
    return dict(rows)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_files_equal_the_published_ones(shared, name):
    assert (ROOT / "data" / name).read_bytes() == (shared / "data" / name).read_bytes()
    assert hashlib.sha256((shared / "data" / name).read_bytes()).hexdigest() == listed_digests()[name]


def test_shipped_files_have_the_digests_data_readme_lists():
    """On any clone: the bytes are the ones vouched for (the published files' digests, checked above)."""
    assert sorted(listed_digests()) == sorted(SHIPPED)
    for name, digest in listed_digests().items():
        assert hashlib.sha256((ROOT / "data" / name).read_bytes()).hexdigest() == digest, name


def test_v01_has_500_questions_and_a_baseline_answer_for_each():
    questions = read_questions(ROOT / "data/arena-hard-v0.1/question.jsonl")
    assert len(questions) == 500 and len({q.uid for q in questions}) == 500
    assert {q.category for q in questions} == {"arena-hard-v0.1"}
    answers = read_answers(ROOT / "data/arena-hard-v0.1/model_answer/gpt-4-0314.jsonl")
    assert set(answers) == {q.uid for q in questions}
    assert {a.model for a in answers.values()} == {"gpt-4-0314"}


def test_v20_has_500_hard_prompts_and_250_creative_writing_and_o3_mini_answers_them_all():
    rows = read_jsonl(ROOT / "data/arena-hard-v2.0/question.jsonl")
    counts = Counter((r["category"], r["subcategory"]) for r in rows)
    assert sum(n for (cat, _), n in counts.items() if cat == "hard_prompt") == 500
    assert {sub for cat, sub in counts if cat == "hard_prompt"} == {"coding", "math"}
    assert sum(n for (cat, _), n in counts.items() if cat == "creative_writing") == 250
    assert {cat for cat, _ in counts} == {"hard_prompt", "creative_writing"}
    answers = read_answers(ROOT / "data/arena-hard-v2.0/model_answer/o3-mini-2025-01-31.jsonl")
    assert set(answers) == {r["uid"] for r in rows} and len(rows) == 750
    assert {a.model for a in answers.values()} == {"o3-mini-2025-01-31"}


def test_only_the_baseline_answers_escape_gitignore():
    if not (ROOT / ".git").exists() or not shutil.which("git"):
        pytest.skip("not a git checkout")

    def ignored(path: str) -> bool:
        # --no-index: what the rules say, not whether the file is tracked already
        proc = subprocess.run(["git", "check-ignore", "-q", "--no-index", path], cwd=ROOT)
        assert proc.returncode in (0, 1), proc
        return proc.returncode == 0

    assert not ignored("data/arena-hard-v0.1/model_answer/gpt-4-0314.jsonl")
    assert not ignored("data/arena-hard-v2.0/model_answer/o3-mini-2025-01-31.jsonl")
    assert ignored("data/arena-hard-v2.0/model_answer/gemini-2.0-flash-001.jsonl")
    assert ignored("data/arena-hard-v0.1/model_answer/my-model.jsonl")
    assert ignored("data/arena-hard-v2.0/model_judgment/gpt-4.1/my-model.jsonl")
