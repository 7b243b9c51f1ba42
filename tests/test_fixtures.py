"""The extracts in tests/fixtures are what make_extracts.py cuts from ../shared now, and a missing
prerequisite skips a test on a user's machine but fails it under CI."""
from __future__ import annotations

import gzip
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures import make_extracts
from tests.helpers import FIXTURES, ROOT


def contents(directory: Path) -> dict[str, bytes]:
    """Every file under directory by relative path, gzip files by their uncompressed bytes."""
    out = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        out[str(path.relative_to(directory))] = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" \
            else path.read_bytes()
    return out


def test_committed_extracts_are_what_the_builder_cuts_from_shared_now(shared, tmp_path):
    make_extracts.build(shared, tmp_path)
    for name in make_extracts.EXTRACTS:
        fresh, committed = contents(tmp_path / name), contents(FIXTURES / name)
        assert sorted(committed) == sorted(fresh), f"rerun python {Path(make_extracts.__file__).relative_to(ROOT)}"
        for rel, data in fresh.items():
            assert committed[rel] == data, f"tests/fixtures/{name}/{rel} differs from what make_extracts.py cuts"
    assert len(contents(tmp_path / "reference" / "anchor-v0.1")) == 6 + 4


@pytest.mark.parametrize("ci", [True, False], ids=["CI", "no-CI"])
@pytest.mark.parametrize("target, missing, reason", [
    ("tests/test_records.py::test_real_files_of_both_layouts_hold_the_same_answers[shared]",
     {"ARENA_SHARED_DIR": "{tmp}/no-shared"}, "the full real data files are not at {tmp}/no-shared"),
    ("tests/report/test_html_report.py::test_report_in_chromium",
     {"PATH": "{tmp}"}, "needs chromium and chromedriver on PATH: sudo apt-get install chromium chromium-driver"),
], ids=["shared", "browser"])
def test_a_missing_prerequisite_fails_under_ci_and_skips_elsewhere(tmp_path, ci, target, missing, reason):
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env.update({k: v.format(tmp=tmp_path) for k, v in missing.items()})
    if ci:
        env["CI"] = "true"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs", target],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert reason.format(tmp=tmp_path) in out, out
    if ci:
        assert proc.returncode != 0 and "CI is set: nothing may skip" in out and "1 error" in out, out
    else:
        assert proc.returncode == 0 and "1 skipped" in out, out
