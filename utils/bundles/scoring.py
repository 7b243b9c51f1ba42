"""The table a bundle claims, computed by show_result.py on the bundle's own files, through its command line.

show_result.py is run as a separate process (``python show_result.py
--data-dir <bundle>/data --setting-file <bundle>/judge_config.yaml --csv
...`` and the flags the packer chose), so this module depends on its flags
and its CSV alone, not on how it computes them. Verify runs it while its
own checks run on the other core. Only flags that change the CSV's numbers
may be recorded; the files it reads and writes are the bundle's.
"""
from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from utils.bundles.manifest import CLAIMED_CSV, DATA, JUDGE_CONFIG, ROOT
from utils.plumbing.errors import InputError

# show_result.py's flags that decide the numbers, and whether each takes values; the rest name files (the
# bundle's own), select output, or are set from the bundle's judge config (bench, judges)
SCORING_FLAGS = {"--method": True, "--baseline": True, "--weight": True, "--num-rounds": True,
                 "--first-game-only": False, "--style-control": False, "--length-control-only": False,
                 "--markdown-control-only": False, "--confidence": True, "--seed": True, "--bootstrap-unit": True,
                 "--resampling": True, "--category": True}


def check_flags(flags: list[str]) -> list[str]:
    """``flags`` when each is one of SCORING_FLAGS, else an InputError naming the first other one (a negative
    number is a value, not a flag)."""
    for flag in flags:
        if re.match(r"-[^\d.]", flag) and flag.split("=", 1)[0] not in SCORING_FLAGS:
            raise InputError(f"{flag} cannot be recorded in a bundle; the flags that decide the numbers are "
                             f"{', '.join(SCORING_FLAGS)}", key="show_result flags")
    return flags


@dataclass
class Scoring:
    """show_result.py running on an unpacked bundle; ``finish`` waits for its CSV."""
    process: subprocess.Popen
    csv: Path
    stdout: Path
    stderr: Path
    root: Path  # the files it scores, which a temporary directory holds

    def finish(self, data_shown_as: str = DATA) -> tuple[bytes | None, str]:
        """(the CSV's bytes, "") when show_result succeeded, else (None, the last line it printed on stderr, its
        paths into the temporary data directory written from ``data_shown_as``, which outlives it)."""
        code = self.process.wait()
        if code == 0 and self.csv.is_file():
            return self.csv.read_bytes(), ""
        lines = self.stderr.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if not lines:
            return None, f"show_result.py exited with status {code}"
        said = lines[-1].removeprefix("error: ")
        return None, said.replace(str(self.root / DATA), data_shown_as.rstrip("/"))

    def table_text(self) -> str:
        """What show_result printed, without the lines announcing files it wrote in the bundle's directory."""
        return "".join(line for line in self.stdout.read_text(encoding="utf-8").splitlines(keepends=True)
                       if not line.startswith("wrote "))


def start_scoring(root: Path, bench: str, flags: list[str], work: Path) -> Scoring:
    """Start show_result.py on the bundle files below ``root``, writing its CSV and output under ``work``.

    It runs in ``work``, so no config/api_config.yaml of the caller's
    directory is read; its output goes to files, never to a pipe that could
    fill while the caller is busy.
    """
    work.mkdir(parents=True, exist_ok=True)
    table, stdout, stderr = work / CLAIMED_CSV, work / "show_result.out", work / "show_result.err"
    command = [sys.executable, str(ROOT / "show_result.py"), "--data-dir", str(root / DATA), "--setting-file",
               str(root / JUDGE_CONFIG), "--bench-name", bench, "--csv", str(table), *flags]
    with open(stdout, "wb") as out, open(stderr, "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=work)
    return Scoring(process, table, stdout, stderr, root)


def table_rows(data: bytes) -> list[dict]:
    """The rows a CSV of show_result claims: category (v2), model, score, lower, upper (floats; None when empty).

    It reads any bytes (a claimed CSV may have been edited into anything): what is not a number stays text.
    """
    def number(text: str | None) -> float | str | None:
        try:
            return float(text) if text else None
        except ValueError:
            return text
    rows = csv.DictReader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""))
    return [{"category": row.get("category"), "model": row["model"], "score": number(row.get("score")),
             "lower": number(row.get("lower")), "upper": number(row.get("upper"))}
            for row in rows if row.get("model")]


def run_settings(data: bytes) -> dict:
    """The method and seed a CSV of show_result was computed with (its settings columns)."""
    first = next(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")), None)
    return {"method": first["method"], "seed": int(first["seed"]), "rounds": int(first["rounds"])} if first else {}
