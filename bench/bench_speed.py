"""Is show_result.py as fast as it was, and how much faster than the original v2.0 tool? Ratios measured in one run.

    python bench/bench_speed.py [--dir /tmp/arena-bench-speed] [--runs 5] [--shared ../shared]
                                [--original /tmp/orig-v2 --original-python /tmp/orig-venv/bin/python]

Two comparisons, each timed by ``farm-bench`` (the two commands in turn, the
median of several runs, on the same machine in the same minute), and printed
as ratios (ours / theirs) with the targets of issue 22. Each is made three
times, by what our show_result finds in its cache of parsed files
(utils/plumbing/parse_cache.py; the other side has none): "cold", nothing
(it parses every file: the first run on a data directory, or the first after
the tool was updated); "new model", everything but the answer and judgment
files of one model, touched before each run (the run after gen_judgment.py
added a model); "warm", everything (every later run on the same files):

1. Arena-Hard v0.1, 70 models x 500 questions (``synth_bench.py --models 70
   --seed 1``, judgment files of real size), plain and --style-control: this
   checkout against main at 08b76aa, unpacked with ``git archive`` into a
   temporary directory. Target: ratio <= 1.0 for both.
2. Arena-Hard v2.0, 60 models x 750 questions x 2 judges (tests/synth_v2.py,
   judge texts padded to a real length, no unreadable labels, which the
   original stops at), plain and style control on hard_prompt, against the
   original v2.0 show_result.py given by ``--original`` (a directory holding
   it and its utils/; it needs torch, so it runs with ``--original-python``
   from a separate virtualenv). Targets: at least 10x (plain) and 40x (style)
   faster. Skipped without ``--original``.

The data is generated once under ``--dir`` (outside the repository: about
half a gigabyte). Both sides run as a user's installation runs them, with
their compiled bytecode cached (under a temporary directory, so neither tree
is written to; the warm-up run fills it): an environment with
PYTHONDONTWRITEBYTECODE would otherwise charge each run the compiling of
every module, which has nothing to do with either tool's speed.
"""
from __future__ import annotations

import argparse
import itertools
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REFERENCE = "08b76aa"  # main before the findings, costs and comparisons were added
# Each comparison three times, by what our show_result finds parsed already (utils/plumbing/parse_cache.py): nothing
# (the first run on a data directory, or after the tool was updated), all but the files of one model just answered
# and judged (the run after gen_judgment.py added a model), and everything (every later run on the same files)
PARSED = {"off": "cold", "new": "new model", "kept": "warm"}
V2_MODELS, V2_PAD = 60, 3000


def farm_ratio(ours: list[str], theirs: list[str], cwd: Path, runs: int, timeout: float, parsed: str,
               new_model: list[Path]) -> tuple[float, float, float]:
    """(our median wall seconds, theirs, the median of the per-pair ratios) from farm-bench. ``parsed``: our
    show_result's parse cache, "off" (emptied before each run: it parses every file and keeps the parses), "new"
    (filled by the warm-up run, and the files ``new_model`` touched before each run: they are parsed again) or
    "kept" (filled by the warm-up run, as a user's second show_result on the same files finds it)."""
    with tempfile.TemporaryDirectory() as cache:
        kept = f"{cache}/parsed"
        mine = {"kept": ["env", f"ARENA_CACHE_DIR={kept}", *ours],
                "new": ["sh", "-c", f'touch {" ".join(map(str, new_model))} && ARENA_CACHE_DIR="$0" exec "$@"', kept,
                        *ours],
                "off": ["sh", "-c", 'rm -rf "$0" && ARENA_CACHE_DIR="$0" exec "$@"', kept, *ours]}[parsed]
        cmd = ["farm-bench", "-n", str(runs), "--warmup", "1", "--timeout", str(int(timeout)),
               "--vs", " ".join(theirs), "--", *mine]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env={**env, "PYTHONPYCACHEPREFIX": cache})
    if done.returncode != 0 or re.search(r"^[AB] exit (?!0 )", done.stdout, re.M):
        sys.exit(f"farm-bench or a command it timed failed:\n{done.stdout}\n{done.stderr}")
    medians = {}
    for label in ("A wall s", "B wall s", "A/B wall"):
        found = re.search(rf"^{re.escape(label)}\s+([\d.]+)\s+([\d.]+)", done.stdout, re.M)
        if not found:
            sys.exit(f"no '{label}' line in farm-bench's output:\n{done.stdout}")
        medians[label] = float(found.group(2))
    return medians["A wall s"], medians["B wall s"], medians["A/B wall"]


def model_files(data: Path, bench: str, judges: list[str]) -> list[Path]:
    """The answer file and judgment files of the last model (by name) that is judged: what gen_answer.py and
    gen_judgment.py write for a model added to the benchmark."""
    judged = sorted((data / bench / "model_judgment" / judges[0]).glob("*.jsonl"))[-1].name
    return [data / bench / "model_answer" / judged, *(data / bench / "model_judgment" / j / judged for j in judges)]


def v01_data(root: Path, shared: Path) -> Path:
    bench = root / "v01" / "data" / "arena-hard-v0.1"
    if not (bench / "truth.json").is_file():
        print(f"generating 70 models x 500 questions under {bench} ...", flush=True)
        subprocess.run([sys.executable, str(shared / "tools" / "synth_bench.py"), "--out", str(bench),
                        "--models", "70", "--seed", "1"], check=True, stdout=subprocess.DEVNULL)
    return bench.parent.parent


def v2_data(root: Path) -> Path:
    from tests import synth_v2
    data = root / "v2" / "data"
    if not (data / synth_v2.BENCH / "truth.json").is_file():
        print(f"generating {V2_MODELS} models x 750 questions x 2 judges under {data} ...", flush=True)
        synth_v2.write_bench(data, seed=1, models=synth_v2.many_models(V2_MODELS), pad=V2_PAD, faults=False)
    return data.parent


def reference_checkout(into: Path) -> Path:
    """main at REFERENCE, unpacked from git, using this checkout's virtualenv."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", REFERENCE], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", type=Path, default=Path("/tmp/arena-bench-speed"), help="where the data is generated")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--runs", type=int, default=5, help="timed runs of each command (farm-bench -n)")
    ap.add_argument("--original", type=Path, help="a directory with the original v2.0 show_result.py and its utils/")
    ap.add_argument("--original-python", default="/tmp/orig-venv/bin/python", help="a Python with torch and pandas")
    a = ap.parse_args()
    if a.dir.resolve().is_relative_to(ROOT):
        sys.exit(f"--dir {a.dir} is inside the repository; generate the data elsewhere")
    python, ours = sys.executable, str(ROOT / "show_result.py")
    missed = []
    print(f"{'comparison':<44}{'ours s':>8}{'theirs s':>10}{'ratio':>8}  target")

    root = v01_data(a.dir, a.shared)
    with tempfile.TemporaryDirectory() as tmp:
        old = reference_checkout(Path(tmp))
        for (mode, flags), parsed in itertools.product((("plain", []), ("style", ["--style-control"])), PARSED):
            mine, theirs, ratio = farm_ratio([python, ours, *flags], [python, str(old / "show_result.py"), *flags],
                                             root, a.runs, 600, parsed,
                                             model_files(root / "data", "arena-hard-v0.1", ["gpt-4-1106-preview"]))
            ok = ratio <= 1.0
            missed += [] if ok else [f"v0.1 {mode} {PARSED[parsed]}"]
            print(f"{'v0.1 70 models, ' + mode + ' ' + PARSED[parsed] + ' vs ' + REFERENCE:<44}{mine:>8.2f}{theirs:>10.2f}"
                  f"{ratio:>8.2f}  <= 1.00 {'ok' if ok else 'MISSED'}", flush=True)

    if a.original is not None:
        root = v2_data(a.dir)
        for name in ("show_result.py", "utils"):  # the original reads data/ from its working directory
            target = root / name
            if not target.exists():
                target.symlink_to((a.original / name).resolve())
        judges = ["gpt-4.1", "second-judge"]
        for (mode, flags, theirs_flags, target), parsed in itertools.product((
                ("plain", [], [], 10.0),
                ("style", ["--style-control"], ["-f", "markdown", "length"], 40.0)), PARSED):
            mine, theirs, ratio = farm_ratio(
                [python, ours, "--bench-name", "arena-hard-v2.0", "--judge-names", *judges, "--category",
                 "hard_prompt", *flags],
                [a.original_python, "show_result.py", "-j", *judges, "-c", "hard_prompt", *theirs_flags],
                root, max(1, a.runs // 2), 3600, parsed, model_files(root / "data", "arena-hard-v2.0", judges))
            ok = 1.0 / ratio >= target
            missed += [] if ok else [f"v2.0 {mode} {PARSED[parsed]}"]
            print(f"{'v2.0 60x2, ' + mode + ' ' + PARSED[parsed] + ' vs original':<44}{mine:>8.2f}{theirs:>10.2f}"
                  f"{ratio:>8.3f}  {1.0 / ratio:.1f}x faster, target >= {target:g}x {'ok' if ok else 'MISSED'}",
                  flush=True)
    print("\nall targets met" if not missed else "\nMISSED: " + ", ".join(missed))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
