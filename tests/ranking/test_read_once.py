"""A show_result run reads each input once: every judgment line, answer file and question file is parsed one time,
whatever the run computes from it (battles, findings, each judge's own table, the CSV, the report)."""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

import show_result
from tests import synth_v2
from tests.helpers import BASE, BENCH, JUDGE, MIXED, write_bench
from utils.plumbing import jsonl
from utils.plumbing.forked import ForkedChild

SECOND = "second-judge"


@pytest.fixture
def parses(monkeypatch):
    """Lines parsed per file, counted in this process (the forked children do their share here instead)."""
    counted: Counter = Counter()
    real = jsonl.parse_jsonl

    def counting(data, path=None, advice=""):
        for item in real(data, path, advice):
            counted[str(path)] += 1
            yield item

    monkeypatch.setattr(jsonl, "parse_jsonl", counting)
    monkeypatch.setattr(ForkedChild, "available", staticmethod(lambda: False))
    return counted


def _lines(path: Path) -> int:
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def _expected(bench: Path) -> dict[str, int]:
    """Every question, answer and judgment file of ``bench`` with its number of lines: each parsed once."""
    files = [bench / "question.jsonl", *sorted(bench.glob("model_answer/*.jsonl")),
             *sorted(bench.glob("model_judgment/*/*.jsonl"))]
    return {str(f): _lines(f) for f in files}


def test_a_v01_run_with_two_judges_a_csv_and_a_report_parses_each_line_once(tmp_path, parses, monkeypatch):
    write_bench(tmp_path, MIXED, 4)
    bench = tmp_path / "data" / BENCH
    shutil.copytree(bench / "model_judgment" / JUDGE, bench / "model_judgment" / SECOND)
    monkeypatch.chdir(tmp_path)
    assert show_result.main(["--judge-names", JUDGE, SECOND, "--baseline", BASE, "--num-rounds", "10",
                             "--csv", "t.csv", "--html", "t.html", "--compare", "alpha", "beta"]) == 0
    counted = {str(Path(path).resolve()): n for path, n in parses.items()}
    assert counted == {str(Path(p).resolve()): n for p, n in _expected(bench).items()}


def test_a_v2_run_with_two_judges_and_a_report_parses_each_line_once(tmp_path, parses):
    data = tmp_path / "data"
    synth_v2.write_bench(data, seed=5)
    assert show_result.main(["--data-dir", str(data), "--bench-name", synth_v2.BENCH, "--judge-names",
                             *synth_v2.JUDGES, "--num-rounds", "10", "--html", str(tmp_path / "r.html"),
                             "--csv", str(tmp_path / "r.csv")]) == 0
    assert dict(parses) == _expected(data / synth_v2.BENCH)
