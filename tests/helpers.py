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


# ---------------------------------------------------------------- the two steps against the scripted server


SENTINEL = "sk-sentinel-7f3a9c1e-do-not-leak"


def configure_answering(tmp_path, servers, models=("model-a",), parallel=4, timeout=5.0, max_retries=3,
                        questions=None, api_type="openai", extra=""):
    """gen_answer.py's files in tmp_path: settings, api config (key from $ARENA_TEST_KEY), questions of bench
    "faults"; returns gen_answer's arguments."""
    bases = [s.root_url if api_type == "anthropic" else s.url for s in servers]
    api = ""
    for name in models:
        api += f"{name}:\n  model_name: {name}-served\n  api_type: {api_type}\n  parallel: {parallel}\n"
        api += f"  timeout: {timeout}\n  max_retries: {max_retries}\n{extra}  endpoints:\n"
        api += "".join(f"    - api_base: {b}\n      api_key: ${{ARENA_TEST_KEY}}\n" for b in bases)
    (tmp_path / "api.yaml").write_text(api)
    (tmp_path / "settings.yaml").write_text(
        "bench_name: faults\ntemperature: 0.0\nmax_tokens: 32\nnum_choices: 1\nmodel_list:\n"
        + "".join(f"  - {m}\n" for m in models))
    write_jsonl(tmp_path / "data/faults/question.jsonl", questions if questions is not None else make_questions(6))
    return ["--setting-file", tmp_path / "settings.yaml", "--endpoint-file", tmp_path / "api.yaml",
            "--data-dir", tmp_path / "data"]


def gen_answer(args, **kwargs):
    """gen_answer.py with the key SENTINEL in $ARENA_TEST_KEY."""
    return run_script("gen_answer.py", *args, env={"ARENA_TEST_KEY": SENTINEL}, timeout=120, **kwargs)


def stored_answers(tmp_path, model="model-a"):
    path = tmp_path / f"data/faults/model_answer/{model}.jsonl"
    return read_jsonl(path) if path.exists() else []


JUDGED_BENCH, JUDGE, BASE = "jbench", "judge-1", "base-m"  # lay_out_judging's bench, judge and baseline


def lay_out_judging(tmp_path, server, questions=None, models=("m-one", "m-two"), judge_lines="", judges=(JUDGE,),
                    missing=None, parallel=8, attempts=2):
    """A bench with questions, baseline and model answers, api and judge configs; returns gen_judgment args."""
    questions = questions or [{"uid": f"q{i}", "category": "general", "prompt": f"Question {i}?"} for i in range(4)]
    data = tmp_path / "data"
    write_jsonl(data / JUDGED_BENCH / "question.jsonl", questions)
    for model in (BASE, *models):
        skip = (missing or {}).get(model, set())
        write_jsonl(data / JUDGED_BENCH / "model_answer" / f"{model}.jsonl", [
            {"uid": q["uid"], "ans_id": f"{model}-{q['uid']}", "model": model, "tstamp": 0,
             "messages": [{"role": "user", "content": q["prompt"]},
                          {"role": "assistant", "content": {"answer": f"{model} answers {q['uid']}"}}]}
            for q in questions if q["uid"] not in skip])
    api = "".join(f"{j}:\n  model_name: {j}-served\n  api_type: openai\n  parallel: {parallel}\n  max_retries: 1\n"
                  f"  timeout: 10\n  endpoints:\n    - api_base: {server.url}\n      api_key: k\n" for j in judges)
    (tmp_path / "api.yaml").write_text(api)
    judge_model = judges[0] if len(judges) == 1 else "[" + ", ".join(judges) + "]"
    (tmp_path / "judge.yaml").write_text(
        f"bench_name: {JUDGED_BENCH}\njudge_model: {judge_model}\nbaseline: true\nbaseline_model: {BASE}\n"
        f"pairwise: true\ntemperature: 0\nmax_tokens: 100\nnumber_of_judgment_attempts: {attempts}\n"
        + judge_lines + "model_list:\n" + "".join(f"  - {m}\n" for m in models))
    return ["--setting-file", tmp_path / "judge.yaml", "--endpoint-file", tmp_path / "api.yaml", "--data-dir", data]


def gen_judgment(args, **kwargs):
    return run_script("gen_judgment.py", *args, timeout=120, **kwargs)


def stored_judgments(tmp_path, model, judge=JUDGE):
    return read_jsonl(tmp_path / "data" / JUDGED_BENCH / "model_judgment" / judge / f"{model}.jsonl")
