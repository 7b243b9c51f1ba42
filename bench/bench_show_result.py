"""Time show_result.py on a real-size benchmark, beside the original tool's recorded times.

    python bench/bench_show_result.py [--dir /tmp/arena-bench-70] [--shared ../shared]

Generates (once) 70 models x 500 questions with judgment files of real size
(``synth_bench.py --models 70 --seed 1``, about 516 MB; keep it out of the
repository) and runs show_result.py as a fresh process each time: start-up,
loading, fitting and printing all count, and no parsed-battles cache is used.
For each run it prints the wall time, the peak memory of that process, and
the speed-up against the original v0.1 tool's time recorded in
``../shared/reference/timings.md``. As a reference measured in the same run it
also times the floor: reading and JSON-parsing every judgment file once.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
BENCH = "arena-hard-v0.1"


def original_seconds(timings: Path) -> dict[str, float]:
    """The original's 100-round times from timings.md ("≈ 6 min", "≈ 2.8 min")."""
    found = {}
    if timings.is_file():
        for line in timings.read_text().splitlines():
            m = re.match(r"\|\s*(plain|--style-control)\s*\|[^|]*\|[^|]*\|\s*≈\s*([\d.]+)\s*min", line)
            if m:
                found["plain" if m[1] == "plain" else "style"] = float(m[2]) * 60
    return found


def run(data_root: Path, *args: str) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and stdout of one show_result.py process."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, str(ROOT / "show_result.py"), *args], cwd=data_root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not the sum of all children
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"show_result.py {' '.join(args)} failed:\n{err.decode()}")
    return wall, usage.ru_maxrss / 1024, out.decode()


def parse_floor(judgment_dir: Path) -> float:
    """Seconds to read and parse every judgment line once: the least any tool must spend."""
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

    bench = a.dir / "data" / BENCH
    judge_dir = bench / "model_judgment" / "gpt-4-1106-preview"
    if not (bench / "truth.json").is_file():
        print(f"generating 70 models x 500 questions under {a.dir} ...", flush=True)
        subprocess.run([sys.executable, str(a.shared / "tools" / "synth_bench.py"), "--out", str(bench),
                        "--models", "70", "--seed", "1"], check=True)
    size = sum(p.stat().st_size for p in judge_dir.glob("*.jsonl")) / 1e6
    print(f"judgment files: {len(list(judge_dir.glob('*.jsonl')))} files, {size:.0f} MB")

    parse_floor(judge_dir)  # warm the page cache the same way for every measurement below
    floor = parse_floor(judge_dir)
    print(f"floor (read + parse every judgment line once, in this process): {floor:.2f} s\n")

    original = original_seconds(a.shared / "reference" / "timings.md")
    targets = {"plain": 100, "style": 50}
    print(f"{'mode':<16}{'rounds':>7}{'wall s':>9}{'peak MB':>9}{'x floor':>9}{'original s':>12}{'speed-up':>10}")
    for rounds in a.rounds:
        for mode, flags in (("plain", []), ("style", ["--style-control"])):
            wall, peak, _ = run(a.dir, "--num-rounds", str(rounds), *flags)
            orig = original.get(mode) if rounds == 100 else None
            ratio = f"{orig / wall:>9.0f}x" if orig else f"{'':>10}"
            verdict = ""
            if orig:
                verdict = "  ok" if orig / wall >= targets[mode] else f"  BELOW the {targets[mode]}x target"
            elif rounds == 1000:
                verdict = "  ok (< 30 s)" if wall < 30 else "  SLOWER than 30 s"
            if peak >= 1024:
                verdict += "  peak memory over 1 GB"
            print(f"{mode:<16}{rounds:>7}{wall:>9.2f}{peak:>9.0f}{wall / floor:>9.1f}"
                  f"{orig if orig else float('nan'):>12.0f}{ratio}{verdict}", flush=True)


if __name__ == "__main__":
    main()
