"""How long utils.add_markdown_info takes on a leaderboard-sized directory.

    /tmp/dv/bin/python bench/bench_add_markdown_info.py [--files 80] [--answers 500] [--budget 60]

Builds, in a temporary directory (never in the repository), FILES answer
files of ANSWERS answers each by cycling through the published 2024-layout
answers in ../shared (each copy under its own model name, its conv_metadata
removed), runs the module in a fresh process as a user would, checks that
every copy of an answer got the published metadata back, and prints the wall
time, the answers per second and the ratio to the time budget.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("ARENA_SHARED_DIR", ROOT.parent / "shared"))
SOURCE = SHARED / "data" / "arena-hard-v0.1-2024fmt" / "model_answer"


def build(directory: Path, files: int, answers: int) -> dict[tuple[str, str], dict]:
    """Write the answer files; return the published metadata by (file name, question id)."""
    sources = sorted(SOURCE.glob("*.jsonl"))
    if not sources:
        sys.exit(f"no published answers in {SOURCE} (set ARENA_SHARED_DIR)")
    records = [[json.loads(line) for line in p.open(encoding="utf-8") if line.strip()] for p in sources]
    expected = {}
    for i, source in zip(range(files), itertools.cycle(range(len(sources)))):
        model = f"{sources[source].stem}-copy{i:03d}"
        name = f"{model}.jsonl"
        with open(directory / name, "w", encoding="utf-8") as f:
            for n, record in zip(range(answers), itertools.cycle(records[source])):
                record = {k: v for k, v in record.items() if k != "conv_metadata"}
                record["model_id"] = model
                record["question_id"] = f"{record['question_id']}-{n}"
                expected[(name, record["question_id"])] = records[source][n % len(records[source])]["conv_metadata"]
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
    return expected


def check(out: Path, expected: dict) -> int:
    seen = 0
    for path in sorted(out.glob("*.jsonl")):
        for line in path.open(encoding="utf-8"):
            record = json.loads(line)
            if record["conv_metadata"] != expected[(path.name, record["question_id"])]:
                sys.exit(f"wrong metadata in {path.name} for {record['question_id']}")
            seen += 1
    if seen != len(expected):
        sys.exit(f"expected {len(expected)} answers back, found {seen}")
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=80)
    parser.add_argument("--answers", type=int, default=500)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds allowed")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-markdown-info-") as tmp:
        src, out = Path(tmp) / "model_answer", Path(tmp) / "out"
        src.mkdir()
        expected = build(src, args.files, args.answers)
        size = sum(p.stat().st_size for p in src.iterdir()) / 1e6
        print(f"input: {args.files} files x {args.answers} answers = {len(expected)} answers, {size:.1f} MB")

        start = time.perf_counter()
        result = subprocess.run([sys.executable, "-m", "utils.add_markdown_info", "--dir", str(src),
                                 "--output-dir", str(out)], cwd=ROOT, capture_output=True, text=True)
        wall = time.perf_counter() - start
        if result.returncode != 0:
            sys.exit(f"add_markdown_info failed ({result.returncode}):\n{result.stderr}")
        answers = check(out, expected)

    print(f"wall time: {wall:.1f} s (includes interpreter start and loading the tokenizer)")
    print(f"throughput: {answers / wall:.0f} answers/s")
    print(f"budget: {wall:.1f} s / {args.budget:.0f} s = {wall / args.budget:.2f} of the budget "
          f"({'within' if wall <= args.budget else 'OVER'})")
    print("all metadata equal to the published conv_metadata")


if __name__ == "__main__":
    main()
