"""Throughput of gen_answer.py against an endpoint with a fixed latency, beside the bare SDK.

    python bench/bench_gen_answer.py [--parallel 64 256] [--questions 3000 6000] [--latency 1.0]
                                     [--per-request-questions 1000] [--keep] [--against CHECKOUT [--rounds N]]

The scripted server (``python -m tests.scripted_server --latency 1``) runs in a
process of its own, so its CPU is not charged to the client, started afresh for
each measured run (it keeps every request it saw); it answers every chat
request after exactly ``--latency`` seconds. With ``parallel`` requests in
flight the best any client can do is ``parallel / latency`` answers per second
(the "ideal"). For each ``parallel`` this script, in a temporary directory
outside the repository:

* writes a question file, an api config (one model, that ``parallel``, the
  scripted server as endpoint, a dummy key) and the answer settings, and runs
  ``gen_answer.py`` as a user would, in a fresh process;
* runs the same workload through a minimal loop over one shared
  ``openai.AsyncOpenAI`` client (``asyncio.Semaphore(parallel)`` and
  ``chat.completions.create``, nothing else; the SDK's default connection
  pool) in a fresh process too: the bare SDK's own cost, for reference;
* optionally (``--per-request-questions``, at the first ``parallel`` only)
  runs it the way the original tool did: a thread pool of ``parallel``
  workers, each request with a new sync ``openai.OpenAI`` client.

``--against CHECKOUT`` (another checkout of this repository, e.g. main's
worktree) also runs that checkout's ``gen_answer.py`` on the same workload,
alternating with this one ``--rounds`` times, and prints the ratio of this
checkout's median answers per second and CPU per answer to that one's: a
change measured against its base in the same run, on the same machine.

Columns: wall seconds from process start to exit; answers per second over
that whole time and its ratio to the ideal (Python start-up, imports and the
final rewrite count against it); the "steady" ratio, which leaves out start-up
and exit: it runs from when the first request went out (the first answer's
time stamp less one latency) to the last answer's time stamp; CPU seconds
(user + sys, all threads) per 1000 answers of the client process and of the
server process. "start s" (process start to first request) also holds the
first wave: at high ``parallel`` the first reply is read only after most of
that wave was sent. Targets, for gen_answer.py on a 2-core machine:
whole-process ratio >= 0.9 at parallel 64 and >= 0.7 at parallel 256; the
script exits with 1 when one is missed.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = "bench-throughput"
MODEL = "bench-model"
TARGETS = {64: 0.9, 256: 0.7}
DEFAULT_QUESTIONS = {64: 3000, 256: 6000}


# ---------------------------------------------------------------- the scripted server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``tests.scripted_server`` in its own process; ``cpu()`` reads that process's CPU seconds."""

    def __init__(self, latency: float, log: Path):
        self.port = free_port()
        self._log = open(log, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.scripted_server", "--latency", str(latency),
                                      "--port", str(self.port)], cwd=ROOT, stdout=subprocess.PIPE,
                                     stderr=self._log)
        self.url = self.proc.stdout.readline().decode().strip()
        if not self.url.startswith("http"):
            self.stop()
            sys.exit(f"the scripted server did not start (see {log})")
        deadline = time.monotonic() + 30
        while True:  # listening is not answering: wait for a real reply (it too takes one latency)
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=latency + 5) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    sys.exit(f"the scripted server at {self.url} does not answer (see {log})")
                time.sleep(0.1)

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


# ---------------------------------------------------------------- one measured process


@dataclass
class Result:
    label: str
    parallel: int
    questions: int
    answers: int
    wall: float
    cpu: float  # the client process's user + sys seconds
    server_cpu: float
    first_done: float | None  # time.time() of the first and last answer
    last_done: float | None
    started: float  # time.time() just before the process was started
    latency: float

    @property
    def rate(self) -> float:
        return self.answers / self.wall

    @property
    def ideal(self) -> float:
        return self.parallel / self.latency

    @property
    def ratio(self) -> float:
        return self.rate / self.ideal

    @property
    def steady_ratio(self) -> float | None:
        if self.first_done is None or self.last_done is None or self.answers < 2:
            return None
        window = self.last_done - (self.first_done - self.latency)
        return self.answers / window / self.ideal

    @property
    def startup(self) -> float | None:
        """Seconds from process start to the first request (its answer's time less one latency)."""
        return None if self.first_done is None else self.first_done - self.latency - self.started

    @property
    def finish(self) -> float | None:
        """Seconds from the last answer to the process's exit."""
        return None if self.last_done is None else self.started + self.wall - self.last_done


def run_process(cmd: list[str], out: Path, err: Path, server: Server,
                cwd: Path = ROOT) -> tuple[float, float, float, float]:
    """Run ``cmd`` in ``cwd``; its wall seconds, own CPU seconds, the server's CPU seconds meanwhile, and its start
    time."""
    server_before = server.cpu()
    started = time.time()
    t0 = time.perf_counter()
    with open(out, "wb") as fout, open(err, "wb") as ferr:
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=fout, stderr=ferr)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (all its threads)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, cmd))} exited with {proc.returncode}:\n{err.read_text()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, server.cpu() - server_before, started


def run_gen_answer(work: Path, server: Server, parallel: int, questions: int, latency: float,
                   root: Path = ROOT, label: str = "gen_answer.py") -> Result:
    """One gen_answer.py run, of the checkout at ``root``."""
    run_dir = Path(tempfile.mkdtemp(prefix=f"gen_answer-p{parallel}-", dir=work))
    data = run_dir / "data"
    qfile = data / BENCH / "question.jsonl"
    qfile.parent.mkdir(parents=True)
    uids = [f"q{i:06d}" for i in range(questions)]
    with open(qfile, "w", encoding="utf-8") as f:
        for i, uid in enumerate(uids):
            f.write(json.dumps({"uid": uid, "category": "bench", "prompt": f"Question number {i}: say something."})
                    + "\n")
    (run_dir / "api.yaml").write_text(
        f"{MODEL}:\n  model_name: {MODEL}-served\n  api_type: openai\n  parallel: {parallel}\n"
        f"  timeout: {max(60.0, 10 * latency):g}\n  max_retries: 2\n"
        f"  endpoints:\n    - api_base: {server.url}\n      api_key: sk-bench-dummy\n")
    (run_dir / "settings.yaml").write_text(
        f"bench_name: {BENCH}\ntemperature: 0.0\nmax_tokens: 64\nnum_choices: 1\nmodel_list:\n  - {MODEL}\n")
    cmd = [sys.executable, str(root / "gen_answer.py"), "--setting-file", str(run_dir / "settings.yaml"),
           "--endpoint-file", str(run_dir / "api.yaml"), "--data-dir", str(data)]
    wall, cpu, server_cpu, started = run_process(cmd, run_dir / "stdout.txt", run_dir / "stderr.txt", server, root)

    answer_file = data / BENCH / "model_answer" / f"{MODEL}.jsonl"
    lines = answer_file.read_bytes().splitlines()
    records = [json.loads(line) for line in lines]
    written = [r["uid"] for r in records]
    if written != uids:
        sys.exit(f"gen_answer.py wrote {len(lines)} answers for {questions} questions "
                 f"({len(set(written))} distinct); expected one per question, in order")
    stamps = [r["tstamp"] for r in records]
    return Result(label, parallel, questions, len(lines), wall, cpu, server_cpu, min(stamps),
                  max(stamps), started, latency)


def run_reference(work: Path, server: Server, mode: str, parallel: int, questions: int, latency: float) -> Result:
    run_dir = work / f"{mode}-p{parallel}"
    run_dir.mkdir()
    cmd = [sys.executable, str(Path(__file__).resolve()), "_reference", mode, server.url, str(parallel),
           str(questions)]
    wall, cpu, server_cpu, started = run_process(cmd, run_dir / "stdout.txt", run_dir / "stderr.txt", server)
    report = json.loads((run_dir / "stdout.txt").read_text())
    if report["answers"] != questions:
        sys.exit(f"the {mode} reference got {report['answers']} answers for {questions} questions")
    label = {"shared": "bare SDK, one AsyncOpenAI", "per-request": "original: threads, client/request"}[mode]
    return Result(label, parallel, questions, report["answers"], wall, cpu, server_cpu, report["first"],
                  report["last"], started, latency)


# ---------------------------------------------------------------- the references (run in their own process)


def reference_main(mode: str, url: str, parallel: int, questions: int) -> None:
    """The same requests without our code; prints the answer count and first and last completion times."""
    import openai

    done: list[float] = []

    def request(i: int) -> dict:
        return {"model": f"{MODEL}-served", "temperature": 0.0, "max_tokens": 64,
                "messages": [{"role": "user", "content": f"Question number {i}: say something."}]}

    if mode == "shared":
        async def main() -> None:
            client = openai.AsyncOpenAI(base_url=url, api_key="sk-bench-dummy", max_retries=2, timeout=60)
            slots = asyncio.Semaphore(parallel)

            async def one(i: int) -> None:
                async with slots:
                    resp = await client.chat.completions.create(**request(i))
                assert resp.choices[0].message.content
                done.append(time.time())

            await asyncio.gather(*(one(i) for i in range(questions)))
            await client.close()

        asyncio.run(main())
    else:  # what the original tool did: a thread per slot, a new sync client for every request
        from concurrent.futures import ThreadPoolExecutor

        def one(i: int) -> None:
            client = openai.OpenAI(base_url=url, api_key="sk-bench-dummy", max_retries=2, timeout=60)
            resp = client.chat.completions.create(**request(i))
            assert resp.choices[0].message.content
            done.append(time.time())

        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(one, range(questions)))
    print(json.dumps({"answers": len(done), "first": min(done), "last": max(done)}))


# ---------------------------------------------------------------- the table


def fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def print_table(results: list[Result]) -> None:
    head = ["run", "parallel", "questions", "wall s", "answers/s", "ideal/s", "ratio", "steady", "start s",
            "exit s", "CPU s/1k", "server CPU s/1k", "target"]
    rows = []
    for r in results:
        target = TARGETS.get(r.parallel) if r.label == "gen_answer.py" else None
        verdict = "-" if target is None else f">= {target:g} {'ok' if r.ratio >= target else 'MISSED'}"
        rows.append([r.label, str(r.parallel), str(r.questions), fmt(r.wall, ".1f"), fmt(r.rate, ".1f"),
                     fmt(r.ideal, ".1f"), fmt(r.ratio, ".3f"), fmt(r.steady_ratio, ".3f"), fmt(r.startup, ".2f"),
                     fmt(r.finish, ".2f"), fmt(r.cpu / r.answers * 1000, ".2f"),
                     fmt(r.server_cpu / r.answers * 1000, ".2f"), verdict])
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    line = lambda cells: "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))
    print(line(head))
    print(line(["-" * w for w in widths]))
    for row in rows:
        print(line(row))
    print("ideal = parallel / latency; ratio = answers/s over the whole process / ideal; steady = the same from the "
          "first request (first answer less one latency) to the last answer; start s / exit s = process start to "
          "first request, last answer to exit; CPU = user + sys of all threads, per 1000 answers")


def print_comparison(results: list[Result], other: str) -> None:
    """This checkout against the other one, per ``parallel``: the ratios of their medians."""
    for parallel in dict.fromkeys(r.parallel for r in results):
        mine = [r for r in results if r.parallel == parallel and r.label == "gen_answer.py"]
        theirs = [r for r in results if r.parallel == parallel and r.label == other]
        if not (mine and theirs):
            continue
        rate = statistics.median(r.rate for r in mine) / statistics.median(r.rate for r in theirs)
        cpu = (statistics.median(r.cpu / r.answers for r in mine)
               / statistics.median(r.cpu / r.answers for r in theirs))
        print(f"parallel {parallel}, {len(mine)} run(s) each: this checkout / {other.split(' of ', 1)[1]}: "
              f"answers per second x{rate:.3f}, client CPU per answer x{cpu:.3f}")


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "_reference":
        reference_main(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parallel", type=int, nargs="+", default=[64, 256])
    parser.add_argument("--questions", type=int, nargs="+",
                        help="questions per --parallel value (one number for all, or one each); "
                             "default 3000 at 64, 6000 at 256, else 40 s worth")
    parser.add_argument("--latency", type=float, default=1.0, help="the server's seconds per reply")
    parser.add_argument("--per-request-questions", type=int, default=1000,
                        help="questions for the original-style run (thread pool, client per request) at the "
                             "first --parallel; 0 skips it")
    parser.add_argument("--no-reference", action="store_true", help="skip the bare-SDK runs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and print its path")
    parser.add_argument("--against", type=Path, metavar="CHECKOUT",
                        help="also run this other checkout's gen_answer.py, alternating, and print the ratios")
    parser.add_argument("--rounds", type=int, default=1, help="with --against: runs of each checkout per --parallel")
    args = parser.parse_args()
    if args.against is not None and not (args.against / "gen_answer.py").is_file():
        parser.error(f"--against: no gen_answer.py in {args.against}")

    if args.questions is None:
        counts = [DEFAULT_QUESTIONS.get(p, int(40 * p / args.latency)) for p in args.parallel]
    elif len(args.questions) == 1:
        counts = args.questions * len(args.parallel)
    elif len(args.questions) == len(args.parallel):
        counts = args.questions
    else:
        parser.error("give one --questions value, or one for each --parallel value")

    work = Path(tempfile.mkdtemp(prefix="bench-gen-answer-"))
    runs = []  # (what, parallel, questions)
    for parallel, n in zip(args.parallel, counts):
        for _ in range(args.rounds if args.against else 1):
            runs.append(("gen_answer", parallel, n))
            if args.against:
                runs.append(("against", parallel, n))
        if not args.no_reference:
            runs.append(("shared", parallel, n))
    if args.per_request_questions and not args.no_reference:
        runs.append(("per-request", args.parallel[0], args.per_request_questions))
    results: list[Result] = []
    print(f"latency {args.latency:g} s; {os.cpu_count()} CPUs; work dir {work}", file=sys.stderr)
    try:
        for what, parallel, n in runs:
            print(f"parallel {parallel}, {n} questions: {what} ...", file=sys.stderr, flush=True)
            with Server(args.latency, work / f"server-{what}-p{parallel}.log") as server:
                if what == "gen_answer":
                    results.append(run_gen_answer(work, server, parallel, n, args.latency))
                elif what == "against":
                    results.append(run_gen_answer(work, server, parallel, n, args.latency, args.against.resolve(),
                                                  f"gen_answer.py of {args.against}"))
                else:
                    results.append(run_reference(work, server, what, parallel, n, args.latency))
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print_table(results)
    if args.against:
        print_comparison(results, f"gen_answer.py of {args.against}")
    missed = [r for r in results if r.label == "gen_answer.py" and r.ratio < TARGETS.get(r.parallel, 0)]
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
