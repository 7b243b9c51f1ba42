"""Small helpers the tests share: writing fixture files and running the scripts as a user would."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"


def under_ci() -> bool:
    """True when the ``CI`` variable says so (CI services set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def unavailable(reason: str):
    """Skip the test for a missing prerequisite, or fail it under CI, where nothing may be missing."""
    if under_ci():
        pytest.fail(f"{reason} (CI is set: nothing may skip)", pytrace=False)
    pytest.skip(reason)


def write_jsonl(path: Path, records) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for rec in records:
            f.write((rec if isinstance(rec, str) else json.dumps(rec, ensure_ascii=False)) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run_script(script: str, *args, env: dict | None = None, timeout: float = 300, cwd: Path = ROOT,
               prefix: list[str] | tuple = (), **kwargs) -> subprocess.CompletedProcess:
    """Run one of the three entry points (or ``-m module``) in a fresh Python process.

    ``prefix``: a command the process is started under (e.g. ``setpriv ...``).
    """
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    cmd = [*prefix, sys.executable, *(script.split() if script.startswith("-m ") else [str(ROOT / script)]),
           *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd, **kwargs)


def unpack(extract: str, dest: Path) -> Path:
    """Copy the extract tests/fixtures/<extract>/ into dest, each ``x.gz`` as ``x`` uncompressed; returns dest."""
    src = FIXTURES / extract
    for path in sorted(p for p in src.rglob("*") if p.is_file()):
        target = dest / path.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f_in, open(target.with_suffix(""), "wb") as f_out:
                shutil.copyfileobj(f_in, f_out)
        else:
            shutil.copyfile(path, target)
    return dest


def bound_by_permissions() -> list[str]:
    """A command prefix under which file permissions bind a script, also when the tests run as root.

    Root writes in a mode 0555 directory anyway (CAP_DAC_OVERRIDE); started
    by ``setpriv`` without that capability (and CAP_DAC_READ_SEARCH) it is
    refused as any user would be, so read-only tests run in CI too.
    """
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        unavailable("running as root without setpriv (util-linux): root would ignore the permissions set here")
    caps = "-dac_override,-dac_read_search"
    return [setpriv, f"--bounding-set={caps}", f"--inh-caps={caps}"]


def results_file(data: Path, name: str, bench: str = "arena-hard-v0.1", judges=("gpt-4-1106-preview",)) -> Path:
    """show_result's ``arena_hard_battles.jsonl`` or ``bootstrapping_results.jsonl`` of a benchmark and its judge(s)."""
    return data / bench / "results" / "+".join(judges) / name


def without_wrote_lines(stdout: str) -> str:
    """A run's output without the lines announcing the files it wrote."""
    return "".join(line for line in stdout.splitlines(keepends=True) if not line.startswith("wrote "))


def make_questions(n: int, prefix: str = "q") -> list[dict]:
    return [{"uid": f"{prefix}{i:04d}", "category": "test", "prompt": f"Question number {i}: say something."}
            for i in range(n)]


def kill_9_after(script: str, args, watched: Path, lines: int, timeout: float) -> None:
    """Start a script and SIGKILL it as soon as ``watched`` holds ``lines`` complete lines (or at the timeout)."""
    cmd = [sys.executable, str(ROOT / script), *map(str, args)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and (not watched.exists() or watched.read_bytes().count(b"\n") < lines):
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()


@dataclass(frozen=True)
class RefusedEndpoint:
    """An address on 127.0.0.1 where nothing listens, so every connection is refused (shaped like a ScriptedServer)."""
    port: int

    @classmethod
    def make(cls) -> "RefusedEndpoint":
        with socket.socket() as sock:  # a port the kernel just handed out and nobody took again
            sock.bind(("127.0.0.1", 0))
            return cls(sock.getsockname()[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
