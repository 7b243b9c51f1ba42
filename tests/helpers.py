"""Small helpers the tests share: writing fixture files and running the scripts as a user would, and the
small v0.1 benchmark the ranking tests write."""
from __future__ import annotations

import csv
import gzip
import importlib.util
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

from tests import prefork

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
    """Run one of the three entry points (or ``-m module``) in a new process, as ``python script args``.

    The process is forked from one that has the SDKs imported already
    (tests/prefork.py), unless it runs under ``prefix`` (a command such as
    ``setpriv ...``), with other ``kwargs`` for subprocess, or with a variable
    read at an interpreter's start set otherwise than for that server
    (prefork.READ_AT_START): then it is a new interpreter.
    """
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    argv = [*(script.split() if script.startswith("-m ") else [str(ROOT / script)]), *map(str, args)]
    if not prefix and not kwargs and prefork.forkable(full_env):
        return prefork.client().run(argv, full_env, Path(cwd), timeout)
    cmd = [*prefix, sys.executable, *argv]
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


# ---------------------------------------------------------------- a small v0.1 benchmark, as the ranking tests write it

BENCH = "arena-hard-v0.1"
BASE = "gpt-4-0314"
JUDGE = "gpt-4-1106-preview"


def meta(tokens=300, headers=1, lists=2, bold=0):
    """An answer's style metadata, as gen_answer stores it."""
    return {"token_len": tokens, "header_count": {"h1": 0, "h2": headers, "h3": 0, "h4": 0, "h5": 0, "h6": 0},
            "list_count": {"ordered": lists, "unordered": 0}, "bold_count": {"**": bold, "__": 0}}


def write_bench(root: Path, verdicts: dict, n_questions: int, layout: str = "new", judge: str = JUDGE,
                with_meta: bool = True) -> Path:
    """A benchmark under root/data: questions, answers (with style metadata) and judgments.

    ``verdicts[model]`` lists, per question, the labels of game 1 and game 2, or None for no judgment.
    """
    bench = root / "data" / BENCH
    qids = [f"q{i:03d}" for i in range(n_questions)]
    write_jsonl(bench / "question.jsonl", [{"uid": q, "category": "hard" if i % 2 else "easy", "prompt": f"Q{i}"}
                                           for i, q in enumerate(qids)])
    for model in [BASE, *verdicts]:
        rows = []
        for i, q in enumerate(qids):
            m = meta(200 + 37 * i + 11 * len(model), i % 3, i % 5, i % 2) if with_meta else None
            if layout == "new":
                rows.append({"uid": q, "ans_id": f"{model}-{q}", "model": model, "tstamp": 0.0, "metadata": m,
                             "messages": [{"role": "user", "content": f"Q{i}"},
                                          {"role": "assistant", "content": {"answer": "text"}}]})
            else:
                rows.append({"question_id": q, "answer_id": f"{model}-{q}", "model_id": model, "tstamp": 0.0,
                             "choices": [{"index": 0, "turns": [{"content": "text"}]}], "conv_metadata": m})
        write_jsonl(bench / "model_answer" / f"{model}.jsonl", rows)
    for model, per_question in verdicts.items():
        rows = []
        for i, (q, labels) in enumerate(zip(qids, per_question)):
            if labels is None:
                continue
            games = [{"user_prompt": f"Judge the answers to: Q{i}", "judgment": f"... [[{lab}]]" if lab else "no label",
                      "score": lab} for lab in labels]
            key = "uid" if layout == "new" else "question_id"
            rows.append({key: q, "model": model, "judge": judge, "games": games,
                         **({"category": "x", "baseline": BASE} if layout == "new" else {})})
        write_jsonl(bench / "model_judgment" / judge / f"{model}.jsonl", rows)
    return root


def show(root: Path, *args, check=True) -> subprocess.CompletedProcess:
    """show_result.py run in ``root`` (v0.1 unless the flags say otherwise)."""
    result = run_script("show_result.py", *args, cwd=root)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def read_csv(path: Path) -> dict[str, dict]:
    """A --csv file of one table: model -> its row."""
    with open(path, newline="") as f:
        return {row["model"]: row for row in csv.DictReader(f)}


# Verdicts from the model's side: W = the model wins (game 1 "B>A", game 2 "A>B"), S = strongly,
# L = loses, T = tie. ``games(...)`` turns them into the labels each game stores.
G1 = {"W": "B>A", "S": "B>>A", "L": "A>B", "X": "A>>B", "T": "A=B", None: None}
G2 = {"W": "A>B", "S": "A>>B", "L": "B>A", "X": "B>>A", "T": "A=B", None: None}


def games(*pairs):
    """The labels games 1 and 2 store for each question's pair of verdicts from the model's side."""
    return [(G1[g1], G2[g2]) for g1, g2 in pairs]


MIXED = {  # the same verdicts as MIXED_PAIRS, as the labels stored in each game
    "alpha": games(("W", "L"), ("S", "T"), ("L", "W"), ("T", "T")),
    "beta": games(("L", "L"), ("X", "W"), ("W", "T"), ("L", "L")),
}


def expected_win_rate(pairs, weight=3, first_game_only=False):
    """The model's win rate (%) over such pairs, counted by hand: a strong verdict ``weight`` times, a tie half."""
    won = lost = 0.0
    for pair in pairs:
        for outcome in pair[:1] if first_game_only else pair:
            n = weight if outcome in "SX" else 1
            if outcome in "WS":
                won += n
            elif outcome in "LX":
                lost += n
            elif outcome == "T":
                won, lost = won + 0.5, lost + 0.5
    return 100 * won / (won + lost)


MIXED_PAIRS = {"alpha": [("W", "L"), ("S", "T"), ("L", "W"), ("T", "T")],
               "beta": [("L", "L"), ("X", "W"), ("W", "T"), ("L", "L")]}


def results_file(data: Path, name: str, bench: str = BENCH, judges=(JUDGE,)) -> Path:
    """show_result's ``arena_hard_battles.jsonl`` or ``bootstrapping_results.jsonl`` of a benchmark and its judge(s)."""
    return data / bench / "results" / "+".join(judges) / name


def without_wrote_lines(stdout: str) -> str:
    """A run's output without the lines announcing the files it wrote."""
    return "".join(line for line in stdout.splitlines(keepends=True) if not line.startswith("wrote "))


def show_v2(data: Path, *args, check: bool = True) -> subprocess.CompletedProcess:
    """show_result.py --method arena-hard-v2 on the data directory ``data`` (run from its parent)."""
    result = run_script("show_result.py", "--method", "arena-hard-v2", "--data-dir", data, *args, cwd=data.parent)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def read_v2_csv(path: Path) -> dict[tuple[str, str], dict]:
    """A --csv file of v2 tables: (category, model) -> its row."""
    with open(path, newline="") as f:
        return {(row["category"], row["model"]): row for row in csv.DictReader(f)}


def one_line_error(result) -> str:
    """The one line a script refusing bad input (exit code 2) prints."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


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


JUDGED_BENCH, JUDGING_JUDGE, JUDGING_BASE = "jbench", "judge-1", "base-m"  # lay_out_judging's bench, judge and baseline


def lay_out_judging(tmp_path, server, questions=None, models=("m-one", "m-two"), judge_lines="", judges=(JUDGING_JUDGE,),
                    missing=None, parallel=8, attempts=2, api_type="openai"):
    """A bench with questions, baseline and model answers, api and judge configs; returns gen_judgment args."""
    questions = questions or [{"uid": f"q{i}", "category": "general", "prompt": f"Question {i}?"} for i in range(4)]
    data = tmp_path / "data"
    write_jsonl(data / JUDGED_BENCH / "question.jsonl", questions)
    for model in (JUDGING_BASE, *models):
        skip = (missing or {}).get(model, set())
        write_jsonl(data / JUDGED_BENCH / "model_answer" / f"{model}.jsonl", [
            {"uid": q["uid"], "ans_id": f"{model}-{q['uid']}", "model": model, "tstamp": 0,
             "messages": [{"role": "user", "content": q["prompt"]},
                          {"role": "assistant", "content": {"answer": f"{model} answers {q['uid']}"}}]}
            for q in questions if q["uid"] not in skip])
    api = "".join(f"{j}:\n  model_name: {j}-served\n  api_type: {api_type}\n  parallel: {parallel}\n  max_retries: 1\n"
                  f"  timeout: 10\n  endpoints:\n    - api_base: {server.url}\n      api_key: k\n" for j in judges)
    (tmp_path / "api.yaml").write_text(api)
    judge_model = judges[0] if len(judges) == 1 else "[" + ", ".join(judges) + "]"
    (tmp_path / "judge.yaml").write_text(
        f"bench_name: {JUDGED_BENCH}\njudge_model: {judge_model}\nbaseline: true\nbaseline_model: {JUDGING_BASE}\n"
        f"pairwise: true\ntemperature: 0\nmax_tokens: 100\nnumber_of_judgment_attempts: {attempts}\n"
        + judge_lines + "model_list:\n" + "".join(f"  - {m}\n" for m in models))
    return ["--setting-file", tmp_path / "judge.yaml", "--endpoint-file", tmp_path / "api.yaml", "--data-dir", data]


def revise_answer(tmp_path, model, uid, text, ans_id):
    """A new checkpoint under the same name (in a ``lay_out_judging`` tree): one answer's text and id change."""
    path = tmp_path / "data" / JUDGED_BENCH / "model_answer" / f"{model}.jsonl"
    records = read_jsonl(path)
    for r in records:
        if r["uid"] == uid:
            r["messages"][1]["content"]["answer"] = text
            r["ans_id"] = ans_id
    write_jsonl(path, records)


def gen_judgment(args, **kwargs):
    return run_script("gen_judgment.py", *args, timeout=120, **kwargs)


def stored_judgments(tmp_path, model, judge=JUDGING_JUDGE):
    return read_jsonl(tmp_path / "data" / JUDGED_BENCH / "model_judgment" / judge / f"{model}.jsonl")


def bench_script(name: str):
    """The module of bench/<name>.py, loaded from its file (bench/ is no package), to call its functions."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module
