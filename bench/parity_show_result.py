"""Are the numbers unchanged? Run show_result.py of two checkouts in every mode and compare what they write.

    python bench/parity_show_result.py --base /tmp/base [--work /tmp/parity] [--shared ../shared]

``--base`` is another checkout of this repository (e.g. ``git archive main``
unpacked into a temporary directory, with a ``.venv`` beside it or this
one's). Both checkouts' show_result.py run on the same synthetic data: the
v0.1 benchmark of the original's anchors (``synth_bench.py --models 20
--questions 500 --seed 0 --pad 500``, plus a second judge made from the first
with some verdicts turned round) and tests/synth_v2.py's v2.0 benchmark (seed
3, two judges). Each mode writes its CSV (and, where asked, the pairs CSV);
the script prints, per mode, whether the two CSVs are byte-identical and
whether the printed tables are, and exits 1 on any CSV difference. A refactor
that changes no number passes it; the printed output may differ on purpose
(new flags), which is reported but not fatal unless ``--strict-output``.
"""
from __future__ import annotations

import argparse
import csv
import filecmp
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

V01, V2 = "arena-hard-v0.1", "arena-hard-v2.0"
JUDGE, SECOND = "gpt-4-1106-preview", "second-judge"

# name -> (benchmark, flags); every mode also writes --csv
MODES = {
    "v01-plain": (V01, []),
    "v01-style": (V01, ["--style-control"]),
    "v01-length": (V01, ["--length-control-only"]),
    "v01-markdown": (V01, ["--markdown-control-only"]),
    "v01-first-game": (V01, ["--first-game-only"]),
    "v01-weight1": (V01, ["--weight", "1"]),
    "v01-question-unit": (V01, ["--bootstrap-unit", "question"]),
    "v01-poisson": (V01, ["--resampling", "poisson"]),
    "v01-elo": (V01, ["--show-elo"]),
    "v01-compare": (V01, ["--compare", "model-000", "model-001", "--pairs", "PAIRS"]),
    "v01-judges": (V01, ["--judge-names", JUDGE, SECOND]),
    "v01-judges-style": (V01, ["--judge-names", JUDGE, SECOND, "--style-control"]),
    "v01-category": (V01, ["--category", "arena-hard-v0.1"]),
    "v01-load-battles": (V01, ["--load-battles"]),
    "v01-load-bootstrap": (V01, ["--load-bootstrap"]),
    "v2-plain": (V2, []),
    "v2-style": (V2, ["--style-control"]),
    "v2-length": (V2, ["--length-control-only"]),
    "v2-markdown": (V2, ["--markdown-control-only"]),
    "v2-question-unit": (V2, ["--bootstrap-unit", "question"]),
    "v2-compare": (V2, ["--compare", "strong-model", "even-model", "--pairs", "PAIRS"]),
    "v2-judges": (V2, ["--judge-names", "gpt-4.1", "second-judge"]),
    "v2-judges-style": (V2, ["--judge-names", "gpt-4.1", "second-judge", "--style-control"]),
    "v2-coding": (V2, ["--category", "coding"]),
    "v2-weight1": (V2, ["--weight", "1"]),
}


def make_data(work: Path, shared: Path) -> Path:
    """The data directory with both benchmarks (made once)."""
    data = work / "data"
    if (data / "ready").is_file():
        return data
    bench = data / V01
    subprocess.run([sys.executable, str(shared / "tools" / "synth_bench.py"), "--out", str(bench), "--models", "20",
                    "--questions", "500", "--seed", "0", "--pad", "500"], check=True, stdout=subprocess.DEVNULL)
    first, second = bench / "model_judgment" / JUDGE, bench / "model_judgment" / SECOND
    second.mkdir(parents=True, exist_ok=True)
    for path in sorted(first.glob("*.jsonl")):  # a second judge: every fifth record's games swapped
        lines = path.read_text(encoding="utf-8").splitlines()
        out = []
        for i, line in enumerate(lines):
            rec = json.loads(line)
            if i % 5 == 0 and isinstance(rec.get("games"), list):
                rec["games"] = rec["games"][::-1]
            out.append(json.dumps(rec))
        (second / path.name).write_text("\n".join(out) + "\n", encoding="utf-8")
    from tests import synth_v2
    synth_v2.write_bench(data, seed=3)
    (data / "ready").write_text("")
    return data


def python_of(checkout: Path) -> str:
    venv = checkout / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


def run_modes(checkout: Path, data: Path, out: Path) -> None:
    """Every mode with ``checkout``'s show_result.py; its CSVs, stdout and stderr into ``out``."""
    shutil.rmtree(out, ignore_errors=True)  # nothing of an earlier run may pass for this one's
    out.mkdir(parents=True)
    results = data / V01 / "results"
    shutil.rmtree(results, ignore_errors=True)  # --load-battles and --load-bootstrap read this run's own files
    for name, (bench, flags) in MODES.items():
        flags = [str(out / f"{name}.pairs.csv") if f == "PAIRS" else f for f in flags]
        cmd = [python_of(checkout), str(checkout / "show_result.py"), "--data-dir", str(data), "--bench-name",
               bench, "--csv", str(out / f"{name}.csv"), *flags]
        done = subprocess.run(cmd, cwd=out, capture_output=True, text=True, timeout=600)
        (out / f"{name}.stdout").write_text(done.stdout.replace(str(out), "OUT"))
        (out / f"{name}.stderr").write_text(done.stderr.replace(str(out), "OUT") + f"\nexit {done.returncode}\n")


def _without_flags(path: Path) -> list[list[str]]:
    """A CSV's rows without its ``flags`` column."""
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    at = rows[0].index("flags") if rows and "flags" in rows[0] else None
    return [row[:at] + row[at + 1:] if at is not None else row for row in rows]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", type=Path, required=True, help="the other checkout (e.g. main, unpacked)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/parity"), help="data and outputs go here")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--strict-output", action="store_true", help="a changed printed table is a failure too")
    ap.add_argument("--numbers-only", action="store_true",
                    help="compare the CSVs without their flags column (a change that adds flags, not numbers)")
    a = ap.parse_args()
    data = make_data(a.work, a.shared)
    sides = {"base": a.base.resolve(), "ours": ROOT}
    for side, checkout in sides.items():
        run_modes(checkout, data, a.work / side)
    failed = 0
    print(f"{'mode':<22}{'csv':>10}{'pairs':>10}{'stdout':>10}{'stderr':>10}")
    for name in MODES:
        cells = []
        for suffix, fatal in ((".csv", True), (".pairs.csv", True), (".stdout", a.strict_output),
                              (".stderr", a.strict_output)):
            b, o = a.work / "base" / f"{name}{suffix}", a.work / "ours" / f"{name}{suffix}"
            if not b.exists() and not o.exists():
                cells.append("-")
                continue
            same = b.exists() and o.exists() and (filecmp.cmp(b, o, shallow=False) or (
                a.numbers_only and suffix == ".csv" and _without_flags(b) == _without_flags(o)))
            cells.append("same" if same else "DIFFERS")
            failed += (not same) and fatal
        print(f"{name:<22}" + "".join(f"{c:>10}" for c in cells))
    print("\nevery CSV byte-identical" if not failed else f"\n{failed} differences that count")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
