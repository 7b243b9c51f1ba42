"""Fixtures shared by the whole suite.

Tests that read the real benchmark data in ``../shared`` take the ``shared``
fixture; what a user's clone runs instead are the extracts of it committed in
``tests/fixtures/`` (see its README.md). A missing prerequisite (``../shared``,
the llama.cpp model, chromium) skips its tests with the reason and how to get
it, except under CI (``CI`` set), where a skip would hide a broken setup: there
it fails the test.

``make test`` runs the suite on several pytest-xdist workers: each test goes
to whichever worker is free. The llama.cpp tests of all workers share one
SmolLM2 server (tests/shared_llama.py), so no two servers fight over the two
cores; its requests queue up, which makes those tests the run's long pole.
They and the other slow tests are therefore handed out first: started last,
one of them would keep the whole run waiting while the other workers idle.
"""
from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.helpers import unavailable, unpack  # noqa: E402  (needs ROOT on sys.path)
from tests.shared_llama import shared_llama_server  # noqa: E402

SHARED = Path(os.environ.get("ARENA_SHARED_DIR", ROOT.parent / "shared"))

# Most tests start the scripts as a user runs them, each a new Python process. Under PYTHONDONTWRITEBYTECODE (set
# in this project's CI shell) each process compiled every module it imports anew, about a tenth of the suite's CPU.
# They use and write bytecode as Python does by default instead: the SDKs' that `make install` compiled, and the
# rest once, beside the sources (__pycache__/, ignored by git).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
# show_result's cache of parsed files (utils/plumbing/parse_cache.py) goes to one directory of this run, not the
# user's ~/.cache (each test's data directory is a new one: its entries would only pile up there).
if "ARENA_CACHE_DIR" not in os.environ:
    os.environ["ARENA_CACHE_DIR"] = tempfile.mkdtemp(prefix="arena-bench-tests-cache-")
    atexit.register(shutil.rmtree, os.environ["ARENA_CACHE_DIR"], True)


def pytest_collection_modifyitems(config, items):
    """The llama.cpp tests first, then the other slow ones, then the rest, each in its collected order."""
    def rank(item) -> int:
        return 0 if item.get_closest_marker("llama") else 1 if item.get_closest_marker("slow") else 2
    items.sort(key=rank)  # a stable sort: within a rank, the order the files give


@pytest.fixture(scope="session")
def shared() -> Path:
    """The read-only ../shared directory of real data."""
    if not (SHARED / "data").is_dir():
        unavailable(f"the full real data files are not at {SHARED} (../shared, or set ARENA_SHARED_DIR); "
                    "a clone runs the extracts of them in tests/fixtures instead")
    return SHARED


@pytest.fixture(scope="session", params=["extract", "shared"])
def data_source(request, tmp_path_factory) -> Path:
    """A directory laid out like ../shared: the committed extract of it (tests/fixtures/shared), or ../shared.

    Tests that take it run twice: on the extract, which every clone has, and on
    the full files, which CI has.
    """
    if request.param == "shared":
        return request.getfixturevalue("shared")
    return unpack("shared", tmp_path_factory.mktemp("shared-extract"))


@pytest.fixture
def real_judgments(tmp_path) -> Path:
    """A root whose data/arena-hard-v0.1/ is the extract of the four real judgment files (tests/fixtures/README.md)."""
    return unpack("real-judgments", tmp_path / "real-judgments")


@pytest.fixture(scope="session")
def llama_base_url(tmp_path_factory) -> str:
    """A real llama.cpp server with SmolLM2 on a free port of 127.0.0.1, one for the whole run.

    Under pytest-xdist the workers' temporary directories share a parent, the
    run's own directory: there they find the one server (tests/shared_llama.py).
    """
    from utils.local_server import llama_server_available

    reason = llama_server_available()
    if reason:
        unavailable(reason)
    base = tmp_path_factory.getbasetemp()
    with shared_llama_server(base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) as url:
        yield url


@pytest.fixture
def scripted_server():
    """The scripted OpenAI-compatible server (tests/scripted_server.py) on a free port of 127.0.0.1."""
    from tests.scripted_server import ScriptedServer

    server = ScriptedServer().start()
    yield server
    server.stop()
