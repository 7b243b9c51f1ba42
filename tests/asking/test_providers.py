"""Providers are plugins: one registered from the tests runs both steps end to end, and nothing else knows it.

tests/fake_provider.py is a provider of the tests' own making (its dialect
is described there); each test runs gen_answer.py or gen_judgment.py as a
user would, in a process where that provider is registered, against the
scripted server.
"""
from __future__ import annotations

from tests.helpers import (SENTINEL, configure_answering, lay_out_judging, make_questions, run_script, stored_answers,
                           stored_judgments)
from tests.scripted_server import Answer

THROUGH_FAKE = "-m tests.fake_provider "


def keyless(api_yaml):
    """Leave the key out of every endpoint: it must then come from the provider's own variable."""
    api_yaml.write_text("".join(line for line in api_yaml.read_text().splitlines(keepends=True)
                                if "api_key:" not in line))


def test_a_registered_provider_answers_in_its_own_dialect_and_stores_what_it_reads(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(3), api_type="fake")
    keyless(tmp_path / "api.yaml")
    env = {"FAKE_API_KEY": SENTINEL}

    unknown = run_script("gen_answer.py", *args, env=env, timeout=120)  # not registered in this process
    assert unknown.returncode == 2 and "expected one of openai, azure, anthropic, got 'fake'" in unknown.stderr
    assert scripted_server.requests == []

    # --batch: a provider without a batch API is asked directly
    proc = run_script(THROUGH_FAKE + "gen_answer.py", *args, "--batch", env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    requests = scripted_server.chat_requests()
    assert len(requests) == 3 and scripted_server.batches == []
    for request in requests:
        assert request.body["dialect"] == "fake" and request.body["max_new_tokens"] == 32
        assert "max_tokens" not in request.body
        assert request.headers["authorization"] == f"Bearer {SENTINEL}"
    answers = stored_answers(tmp_path)
    assert [a["uid"] for a in answers] == ["q0000", "q0001", "q0002"]
    assert all(a["generation"]["served_model"] == "fake:model-a-served" for a in answers)
    assert all(a["messages"][1]["content"]["answer"].startswith("Scripted answer to: Question number") for a in answers)


def test_a_registered_provider_judges(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("B is better. [[B>A]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one",), api_type="fake")
    proc = run_script(THROUGH_FAKE + "gen_judgment.py", *args, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert {r.body["dialect"] for r in scripted_server.chat_requests()} == {"fake"}
    records = stored_judgments(tmp_path, "m-one")
    assert len(records) == 4
    for record in records:
        assert [g["score"] for g in record["games"]] == ["B>A", "B>A"]
        assert {g["served_model"] for g in record["games"]} == {"fake:judge-1-served"}
