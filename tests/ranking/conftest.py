"""Fixtures of the ranking tests (those of tests/conftest.py apply here too)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests import synth_v2


@pytest.fixture(scope="session")
def v2data(tmp_path_factory) -> Path:
    """The data directory of the synthetic Arena-Hard v2.0 benchmark (tests/synth_v2.py, seed 3), written once.

    Shared by every test that takes it: a test that changes files works on a copy.
    """
    out = tmp_path_factory.mktemp("v2") / "data"
    synth_v2.write_bench(out, seed=3)
    return out
