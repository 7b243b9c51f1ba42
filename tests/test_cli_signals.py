"""Every command stops on SIGTERM and SIGHUP as on Ctrl-C: its clean-up runs, one line says so, 128 + the signal.

A bundle's verify, --from-bundles and pack keep temporary directories (verify's in /dev/shm, the size of the
bundle) that only a clean stop removes; with the signals' default action they stayed behind.
"""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT

# an entry point as the commands are: run_cli around a main that holds a temporary directory while it works
COMMAND = """
import sys, tempfile
from utils.plumbing.cli import run_cli

def main():
    with tempfile.TemporaryDirectory(dir=sys.argv[1]) as scratch:
        print(scratch, flush=True)
        sys.stdin.read()  # works until the test stops it

run_cli(main)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_runs_the_commands_clean_up_and_says_so(tmp_path, sig):
    proc = subprocess.Popen([sys.executable, "-c", COMMAND, str(tmp_path)], cwd=ROOT, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    scratch = Path(proc.stdout.readline().strip())
    assert scratch.is_dir()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 128 + sig, err
    assert err == "interrupted: completed work is saved; run again to resume\n"
    assert not scratch.exists(), "the temporary directory is removed"
