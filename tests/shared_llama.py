"""One llama.cpp server for all the pytest-xdist workers of a run.

Each xdist worker has its own session, so a session fixture alone would start
a SmolLM2 server per worker: several servers, each wanting both cores. Here
the first worker that needs the server starts it, with the command a user runs
(``python -m utils.local_server``), and notes its address in the run's shared
directory; the others find it there. Every worker using it holds a shared lock
on a file until its session ends; the worker that then gets the lock
exclusively is the last user and stops the server with Ctrl-C (SIGINT), the
way the command is meant to be stopped. llama.cpp answers one request at a
time, so requests from several workers queue up; none is lost.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from tests.helpers import ROOT


@contextlib.contextmanager
def _locked(path: Path, mode: int = fcntl.LOCK_EX) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, mode)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _start(run_dir: Path) -> dict:
    """Start ``python -m utils.local_server`` on a free port; its address and pid once it answers."""
    from utils.local_server import free_port

    port = free_port()
    log = open(run_dir / "llama-server.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "utils.local_server", "--port", str(port)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=log, text=True)
    log.close()
    lines = []  # printed once the server answers: where it serves, then an api_config entry ending in "parallel:"
    for line in proc.stdout:  # read to that end (nothing follows), or to EOF if the command failed: the command
        lines.append(line)    # writes its lines one at a time, and one written after the pipe closed would stop it
        if "parallel:" in line:
            break
    proc.stdout.close()
    url = f"http://127.0.0.1:{port}/v1"
    if not lines or url not in lines[0]:
        proc.kill()
        raise RuntimeError(f"the llama.cpp server did not start; see {run_dir / 'llama-server.log'}")
    return {"url": url, "pid": proc.pid}


@contextlib.contextmanager
def shared_llama_server(run_dir: Path) -> Iterator[str]:
    """The base URL of the run's one llama.cpp server, started by the first worker that asks."""
    state, start_lock, users = run_dir / "llama-server.json", run_dir / "llama-start.lock", run_dir / "llama-users.lock"
    with _locked(start_lock):
        info = json.loads(state.read_text()) if state.exists() else None
        if info is None:
            info = _start(run_dir)
            state.write_text(json.dumps(info))
        user = os.open(users, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(user, fcntl.LOCK_SH)  # taken before start_lock is let go: the server cannot be stopped now
    try:
        yield info["url"]
    finally:
        with _locked(start_lock):
            os.close(user)
            try:
                fd = os.open(users, os.O_RDWR)
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # no other worker holds it: we are the last
            except BlockingIOError:
                os.close(fd)
            else:
                os.close(fd)
                state.unlink()
                with contextlib.suppress(ProcessLookupError):
                    os.kill(info["pid"], signal.SIGINT)
