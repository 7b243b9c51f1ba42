"""A run stopped while it submits a batch pays for that batch once: signals, kill -9, and the rerun.

Each test starts gen_answer.py --batch as a user would, against the scripted
server holding back its reply to the batch creation (``batch_create_delay``:
the batch exists at the provider, the run does not know its id yet), stops
the run there, and runs the same command again. Whatever stopped it, the
provider must end up with exactly one batch, every answer stored, and the
stopped run must say nothing but its one line (no traceback, no asyncio
complaint). The run writes what it is about to create to the batch state
file before creating it (docs/design.md#crash-safety); the rerun finds the
batch made from it: OpenAI's by its input file (or the digest in its
metadata), Anthropic's by its request count and creation time (the limits
are in utils/asking/providers/anthropic.py).
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.helpers import ROOT, SENTINEL, configure_answering, make_questions, run_script, stored_answers

FAST = {"ARENA_TEST_BATCH_POLL_SECONDS": "0.05", "ARENA_TEST_KEY": SENTINEL}
HANDLED = {signal.SIGINT: 130, signal.SIGTERM: 128 + signal.SIGTERM, signal.SIGHUP: 128 + signal.SIGHUP}


def start(args, stderr_path):
    with open(stderr_path, "wb") as err:
        return subprocess.Popen([sys.executable, str(ROOT / "gen_answer.py"), *map(str, args), "--batch"],
                                stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, env={**os.environ, **FAST})


def wait_for(condition, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.mark.parametrize("api_type, sig", [
    ("openai", signal.SIGINT), ("openai", signal.SIGTERM), ("openai", signal.SIGHUP), ("openai", signal.SIGKILL),
    ("anthropic", signal.SIGTERM), ("anthropic", signal.SIGKILL)])
def test_a_run_stopped_while_its_batch_is_created_pays_for_it_once(tmp_path, scripted_server, api_type, sig):
    # a handled signal lets the pending creation finish (and saves it); kill -9 leaves only what was written before
    scripted_server.batch_create_delay = 1.5 if sig in HANDLED else 5.0
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(4), api_type=api_type)
    stderr_path = tmp_path / "stderr.txt"
    proc = start(args, stderr_path)
    wait_for(lambda: scripted_server.batches, "the batch to be created")
    proc.send_signal(sig)
    proc.wait(timeout=60)
    stderr = stderr_path.read_text()
    if sig in HANDLED:
        assert proc.returncode == HANDLED[sig], stderr
        assert stderr.rstrip().splitlines()[-1] == "interrupted: completed work is saved; run again to resume"
    else:
        assert proc.returncode == -signal.SIGKILL
    assert "Traceback" not in stderr and "never retrieved" not in stderr and "Error" not in stderr, stderr
    state = tmp_path / "data/faults/model_answer/model-a.jsonl.batches.json"
    assert state.exists(), "what the run was creating is written before it is created"
    assert SENTINEL not in state.read_text()

    scripted_server.batch_create_delay = 0.0
    again = run_script("gen_answer.py", *args, "--batch", env=FAST, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert len(scripted_server.batches) == 1, "the rerun found the batch instead of paying for a second one"
    assert [r["uid"] for r in stored_answers(tmp_path)] == [q["uid"] for q in make_questions(4)]
    assert scripted_server.chat_requests() == [] and not state.exists()


def test_a_creation_that_never_reached_the_provider_is_made_by_the_rerun(tmp_path, scripted_server):
    # what a run killed between writing its intent and sending the creation leaves: the intent, and no batch
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(3))
    state = tmp_path / "data/faults/model_answer/model-a.jsonl.batches.json"
    state.parent.mkdir(parents=True)
    state.write_text(json.dumps({
        "about": "written by hand", "model": "model-a", "api_type": "openai", "batches": [],
        "creating": [{"endpoint": scripted_server.url, "started": time.time(), "input_file_id": "file-404",
                      "digest": "0" * 64, "requests": {"x-q0000-a-0123456789abcdef": "q0000"}}]}))
    proc = run_script("gen_answer.py", *args, "--batch", env=FAST, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert len(scripted_server.batches) == 1 and len(scripted_server.batches[0].lines) == 3
    assert "was not created" in proc.stderr
    assert len(stored_answers(tmp_path)) == 3 and not state.exists()
