"""Reviewer's tests for show_result's parse cache: what reading afresh gives, however the cache was filled."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import show_result
from tests import synth_v2
from tests.helpers import BASE, BENCH, JUDGE, MIXED, ROOT, write_bench
from utils.plumbing import parse_cache


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    where = tmp_path / "cache"
    monkeypatch.setenv("ARENA_CACHE_DIR", str(where))
    monkeypatch.setattr(parse_cache, "SETTLING", 0.0)
    return where


def _run(capsys, argv: list[str]) -> str:
    assert show_result.main(argv) == 0
    out = capsys.readouterr()
    return out.out + out.err


def _afresh(capsys, monkeypatch, argv: list[str]) -> str:
    monkeypatch.setenv("ARENA_CACHE_DIR", "off")
    return _run(capsys, argv)


def test_a_data_dir_reached_through_a_symlink_counts_what_reading_afresh_counts(tmp_path, cache, capsys, monkeypatch):
    write_bench(tmp_path, MIXED, 4)
    flags = ["--baseline", BASE, "--num-rounds", "20"]
    _run(capsys, ["--data-dir", str(tmp_path / "data"), *flags])
    judged = tmp_path / "data" / BENCH / "model_judgment" / JUDGE
    # a second file of alpha's records: the repeats are left out, and said so
    (judged / "gamma.jsonl").write_text((judged / "alpha.jsonl").read_text().replace('"A>B"', '"B>A"'))
    (tmp_path / "link").symlink_to(tmp_path / "data")
    argv = ["--data-dir", str(tmp_path / "link"), *flags]
    assert _run(capsys, argv) == _afresh(capsys, monkeypatch, argv)


def test_judges_named_in_another_order_give_what_reading_afresh_gives(tmp_path, cache, capsys, monkeypatch):
    data = tmp_path / "data"
    synth_v2.write_bench(data, seed=5)
    flags = ["--data-dir", str(data), "--bench-name", synth_v2.BENCH, "--num-rounds", "10"]
    _run(capsys, [*flags, "--judge-names", *synth_v2.JUDGES])
    argv = [*flags, "--judge-names", *reversed(synth_v2.JUDGES)]
    assert _run(capsys, argv) == _afresh(capsys, monkeypatch, argv)


def test_another_label_pattern_reads_the_judge_texts_again(tmp_path, cache, capsys, monkeypatch):
    write_bench(tmp_path, MIXED, 4)
    beta = tmp_path / "data" / BENCH / "model_judgment" / JUDGE / "beta.jsonl"
    rows = [json.loads(line) for line in beta.read_text().splitlines()]
    rows[0]["games"][0]["judgment"] = "... [[B>A]]"  # stores A>B: a disagreement under the usual pattern only
    beta.write_text("".join(json.dumps(r) + "\n" for r in rows))
    usual = (ROOT / "config" / "arena-hard-v0.1.yaml").read_text()
    other = tmp_path / "other.yaml"
    other.write_text(usual.replace("regex_pattern: \\[\\[([AB<>=]+)\\]\\]", 'regex_pattern: "verdict=([AB<>=]+)"'))
    assert other.read_text() != usual
    flags = ["--data-dir", str(tmp_path / "data"), "--baseline", BASE, "--num-rounds", "20"]
    _run(capsys, [*flags, "--setting-file", str(ROOT / "config" / "arena-hard-v0.1.yaml")])
    argv = [*flags, "--setting-file", str(other)]
    assert _run(capsys, argv) == _afresh(capsys, monkeypatch, argv)
