"""utils.plumbing.keys: which values are masked, and that keys are read without their surrounding whitespace."""
from __future__ import annotations

import importlib

import pytest

import utils.plumbing.keys


@pytest.fixture
def keys(monkeypatch):
    """utils.plumbing.keys as a fresh process would have it, with the environment the test sets."""
    monkeypatch.setenv("MY_SERVICE_TOKEN", "tok-1234567890")
    monkeypatch.setenv("OPENAI_API_KEY", "  sk-openai-abcdef\n")
    monkeypatch.setenv("db_password", "hunter2-but-longer")
    monkeypatch.setenv("SHORT_KEY", "local")  # too short to be a real key
    monkeypatch.setenv("DATA_PATH", "/srv/benchmarks/data")  # long, but its name says it is no secret
    yield importlib.reload(utils.plumbing.keys)
    monkeypatch.undo()
    importlib.reload(utils.plumbing.keys)  # forget this test's secrets


def test_secret_looking_variables_and_configured_keys_are_masked_short_words_are_not(keys):
    assert keys.clean_key(" sk-configured-xyz\n") == "sk-configured-xyz"
    assert keys.clean_key("EMPTY") == "EMPTY"  # kept as it is, and too short to mask
    text = ("tok-1234567890 | sk-openai-abcdef | hunter2-but-longer | sk-configured-xyz | "
            "local | EMPTY | /srv/benchmarks/data")
    assert keys.mask(text) == "*** | *** | *** | *** | local | EMPTY | /srv/benchmarks/data"


def test_a_key_that_holds_another_is_masked_whole(keys):
    keys.remember("tok-1234567890-extended")
    assert keys.mask("key tok-1234567890-extended") == "key ***"
