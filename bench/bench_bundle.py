"""Time verifying the bundle of a real-size benchmark, beside show_result.py alone on the same files.

    python bench/bench_bundle.py [--dir /tmp/arena-bench-70] [--shared ../shared] [--repeat 3]

Generates (once, shared with bench_show_result.py) 70 models x 500
questions with judgment files of real size (``synth_bench.py --models 70
--seed 1``, about 516 MiB; kept out of the repository), packs them into a
bundle, and runs ``python -m utils.bundle verify`` on it as a fresh process
``--repeat`` times; the least time counts, since the machine is shared. In
the same run it times two references: show_result.py with ``--csv`` on the
original files (the re-scoring that verify cannot do without), and reading
and hashing every file once in one process (the floor). It checks that
verify's table line is ok and that the bundle's claimed CSV is byte for
byte the CSV of show_result.py run directly, and prints the wall and CPU
seconds (children included), the ratios to the references, the load average
and the 10 s target.

synth_bench.py's judgments keep a placeholder as the prompt the judge saw
and no provenance, so verify's judged_texts line differs for every game
there (as it should: nothing ties those verdicts to the answers); the line
is printed, not counted against the run.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = "arena-hard-v0.1"
JUDGE = "gpt-4-1106-preview"
TARGET_S = 10.0


def timed(command: list[str], cwd: Path = ROOT) -> tuple[float, float, subprocess.CompletedProcess]:
    """Wall seconds, CPU seconds (the process and its children) and the result of one command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), proc


def least(repeat: int, command: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    runs = [timed(command) for _ in range(repeat)]
    return min(runs, key=lambda run: run[0])


def hash_floor(data_dir: Path) -> float:
    """Seconds to read and SHA-256 every file of the benchmark once: what any check of the files costs."""
    start = time.perf_counter()
    for path in sorted(p for p in data_dir.rglob("*") if p.is_file()):
        hashlib.sha256(path.read_bytes()).hexdigest()
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/arena-bench-70"), help="where the benchmark is generated")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    if a.dir.resolve().is_relative_to(ROOT):
        sys.exit(f"--dir {a.dir} is inside the repository; generate the half-gigabyte benchmark elsewhere")
    bench = a.dir / "data" / BENCH
    if not (bench / "truth.json").is_file():
        print(f"generating 70 models x 500 questions under {a.dir} ...", flush=True)
        subprocess.run([sys.executable, str(a.shared / "tools" / "synth_bench.py"), "--out", str(bench),
                        "--models", "70", "--seed", "1"], check=True)
    models = sorted(p.stem for p in (bench / "model_judgment" / JUDGE).glob("*.jsonl"))
    print(f"benchmark: {len(models)} judged models in {bench}; machine: {os.cpu_count()} cores, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    hash_floor(a.dir / "data")  # the page cache warmed alike for every measurement
    floor = hash_floor(a.dir / "data")

    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        bundle, direct_csv = Path(tmp) / "synth.tar.gz", Path(tmp) / "direct.csv"
        pack_s, _, packed = timed([sys.executable, "-m", "utils.bundle", "pack", str(bundle), "--setting-file",
                                   "config/arena-hard-v0.1.yaml", "--data-dir", str(a.dir / "data"), "--model",
                                   *models])
        if packed.returncode != 0:
            sys.exit(f"pack failed:\n{packed.stderr}")
        print(f"pack: {pack_s:.1f} s, bundle {bundle.stat().st_size / 2 ** 20:.1f} MiB\n")
        show_s, show_cpu, shown = least(a.repeat, [sys.executable, "show_result.py", "--data-dir", str(a.dir / "data"),
                                                   "--csv", str(direct_csv)])  # v0.1's defaults: judge, baseline
        if shown.returncode != 0:
            sys.exit(f"show_result.py failed:\n{shown.stderr}")
        verify_s, verify_cpu, verified = least(a.repeat, [sys.executable, "-m", "utils.bundle", "verify", str(bundle),
                                                          "--data-dir", str(a.dir / "data")])
        claimed = subprocess.run(["tar", "xzf", str(bundle), "-O", "claimed.csv"], capture_output=True).stdout
        same_csv = claimed == direct_csv.read_bytes()
    print(verified.stdout)
    lines = dict(line.split(": ", 1) for line in verified.stdout.splitlines())
    print(f"{'':<34}{'wall s':>8}{'cpu s':>8}")
    print(f"{'verify (least of ' + str(a.repeat) + ')':<34}{verify_s:>8.2f}{verify_cpu:>8.2f}")
    print(f"{'show_result.py --csv alone':<34}{show_s:>8.2f}{show_cpu:>8.2f}   verify / show_result: "
          f"{verify_s / show_s:.2f}x")
    print(f"{'read + sha256 every file once':<34}{floor:>8.2f}{'':>8}   verify / floor: {verify_s / floor:.2f}x")
    print(f"load average now: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    verdicts = [("table re-scored ok", lines.get("table", "").startswith("ok")),
                ("claimed CSV == show_result's own CSV", same_csv), (f"verify < {TARGET_S:.0f} s", verify_s < TARGET_S)]
    print("; ".join(f"{name}: {'yes' if ok else 'NO'}" for name, ok in verdicts))


if __name__ == "__main__":
    main()
