"""Time show_result.py on a real-size benchmark, beside the original tool's recorded times.

    python bench/bench_show_result.py [--dir /tmp/arena-bench-70] [--shared ../shared] [--rounds 100 1000]

Generates (once) 70 models x 500 questions with judgment files of real size
(``synth_bench.py --models 70 --seed 1``, about 516 MiB; keep it out of the
repository) and runs show_result.py as a fresh process each time: start-up,
imports, loading, fitting and printing all count. No parsed-battles cache
exists (show_result never reads one unless given --load-battles), so the
first run is as cold as any other; the page cache is warmed once for all runs
by the floor measurement.

For each run it prints the wall time, the peak memory, and the speed-up
against the original v0.1 tool's time recorded in
``../shared/reference/timings.md``, with the targets: 100x (plain) and 50x
(--style-control) at 100 rounds, under 30 s at 1000 rounds, under 1 GB.
Peak memory is given two ways, because show_result parses on two cores with
forked children: "peak MB" is the largest maximum RSS of show_result or any of
its children (``os.wait4``'s ru_maxrss, exact per process), "tree MB" the
largest sum of the RSS of the whole process tree, sampled every 5 ms
(/proc). As a reference measured in the same run it also times the floor:
reading and JSON-parsing every judgment file once, in one process.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
BENCH = "arena-hard-v0.1"
TARGET_SPEEDUP = {"plain": 100, "style": 50}  # at 100 rounds
TARGET_1000_ROUNDS_S = 30.0
TARGET_PEAK_MB = 1024.0


def original_seconds(timings: Path) -> dict[str, float]:
    """The original's 100-round times from timings.md ("≈ 6 min", "≈ 2.8 min")."""
    found = {}
    if timings.is_file():
        for line in timings.read_text().splitlines():
            m = re.match(r"\|\s*(plain|--style-control)\s*\|[^|]*\|[^|]*\|\s*≈\s*([\d.]+)\s*min", line)
            if m:
                found["plain" if m[1] == "plain" else "style"] = float(m[2]) * 60
    return found


def _tree_rss_kb(pid: int) -> int:
    """Current RSS of a process and all its descendants, in KB (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return total


def run(data_root: Path, *args: str) -> tuple[float, float, float, str]:
    """Wall seconds, peak RSS (MB, largest process), peak tree RSS (MB, sampled) and stdout of one run."""
    errors = tempfile.TemporaryFile()  # a file, not a pipe: reading one pipe at a time cannot then block
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "show_result.py"), *args], cwd=data_root,
                            stdout=subprocess.PIPE, stderr=errors)
    tree_peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            tree_peak[0] = max(tree_peak[0], _tree_rss_kb(proc.pid))
            done.wait(0.005)

    sampler = threading.Thread(target=sample, daemon=True)
    if Path("/proc").is_dir():
        sampler.start()
    out = proc.stdout.read()
    # wait4 reaps it and gives its own rusage, whose ru_maxrss also covers the children it waited for
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    done.set()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        errors.seek(0)
        sys.exit(f"show_result.py {' '.join(args)} failed:\n{errors.read().decode()}")
    return wall, usage.ru_maxrss / 1024, tree_peak[0] / 1024, out.decode()


def parse_floor(judgment_dir: Path) -> float:
    """Seconds to read and parse every judgment line once: the least one process must spend."""
    start = time.perf_counter()
    for path in sorted(judgment_dir.glob("*.jsonl")):
        data = path.read_bytes()
        for line in data.splitlines():
            if line.strip():
                orjson.loads(line)
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/arena-bench-70"), help="where the benchmark is generated")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--rounds", type=int, nargs="+", default=[100, 1000])
    a = ap.parse_args()
    if a.dir.resolve().is_relative_to(ROOT):
        sys.exit(f"--dir {a.dir} is inside the repository; generate the half-gigabyte benchmark elsewhere")

    bench = a.dir / "data" / BENCH
    judge_dir = bench / "model_judgment" / "gpt-4-1106-preview"
    if not (bench / "truth.json").is_file():
        print(f"generating 70 models x 500 questions under {a.dir} ...", flush=True)
        subprocess.run([sys.executable, str(a.shared / "tools" / "synth_bench.py"), "--out", str(bench),
                        "--models", "70", "--seed", "1"], check=True)
    judgment_files = list(judge_dir.glob("*.jsonl"))
    size = sum(p.stat().st_size for p in judgment_files)
    whole = sum(p.stat().st_size for p in bench.rglob("*") if p.is_file())
    print(f"benchmark: {whole / 2 ** 20:.0f} MiB in {bench}; judgment files: {len(judgment_files)} files, "
          f"{size / 2 ** 20:.0f} MiB")
    print(f"machine: {os.cpu_count()} cores, python {sys.version.split()[0]}")

    parse_floor(judge_dir)  # warm the page cache the same way for every measurement below
    floor = parse_floor(judge_dir)
    print(f"floor (read + parse every judgment line once, one process): {floor:.2f} s\n")

    original = original_seconds(a.shared / "reference" / "timings.md")
    print(f"{'mode':<8}{'rounds':>7}{'wall s':>8}{'peak MB':>9}{'tree MB':>9}{'x floor':>9}"
          f"{'original s':>12}{'speed-up':>10}  verdict")
    missed = []
    for rounds in a.rounds:
        for mode, flags in (("plain", []), ("style", ["--style-control"])):
            wall, peak, tree, out = run(a.dir, "--num-rounds", str(rounds), *flags)
            table_rows = sum(" | score:" in line for line in out.splitlines())
            if table_rows != 70:
                sys.exit(f"expected a table of 70 models, got {table_rows} rows:\n{out}")
            orig = original.get(mode) if rounds == 100 else None
            checks = []
            if orig:
                checks.append((f">= {TARGET_SPEEDUP[mode]}x", orig / wall >= TARGET_SPEEDUP[mode]))
            if rounds == 1000:
                checks.append((f"< {TARGET_1000_ROUNDS_S:.0f} s", wall < TARGET_1000_ROUNDS_S))
            checks.append(("< 1 GB", max(peak, tree) < TARGET_PEAK_MB))
            verdict = ", ".join(f"{name} {'ok' if ok else 'MISSED'}" for name, ok in checks)
            missed += [f"{mode} {rounds} rounds: {name}" for name, ok in checks if not ok]
            speedup = f"{orig / wall:>9.0f}x" if orig else f"{'':>10}"
            original_s = f"{orig:>12.0f}" if orig else f"{'':>12}"
            print(f"{mode:<8}{rounds:>7}{wall:>8.2f}{peak:>9.0f}{tree:>9.0f}{wall / floor:>9.2f}"
                  f"{original_s}{speedup}  {verdict}", flush=True)
    print("\nall targets met" if not missed else "\nMISSED: " + "; ".join(missed))


if __name__ == "__main__":
    main()
