"""Fixtures shared by the whole suite.

Tests that read the real benchmark data in ``../shared`` take the ``shared``
fixture, which skips them (with the reason) in a clone that does not have it.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SHARED = Path(os.environ.get("ARENA_SHARED_DIR", ROOT.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only ../shared directory of real data; skips the test when it is absent."""
    if not (SHARED / "data").is_dir():
        pytest.skip(f"real benchmark data not found at {SHARED} (set ARENA_SHARED_DIR to use it)")
    return SHARED
