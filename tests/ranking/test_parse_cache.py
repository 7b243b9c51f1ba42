"""show_result keeps what it parsed of each file in the user's cache (utils/plumbing/parse_cache.py): a second run
on unchanged files parses none of them and prints the same, and any change to a file, even one that keeps its
size and modification time, is read again."""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path

import pytest

import show_result
from tests import synth_v2
from tests.helpers import (BASE, BENCH, JUDGE, JUDGED_BENCH, JUDGING_BASE, JUDGING_JUDGE, MIXED, ROOT, gen_judgment,
                           lay_out_judging, read_jsonl, write_bench, write_jsonl)
from tests.scripted_server import Answer as Reply
from tests.ranking.test_read_once import parses  # noqa: F401 - the fixture that counts the lines parsed per file
from utils.plumbing import parse_cache


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A cache directory of this test's own; files written a moment ago may be kept (the test does not wait)."""
    where = tmp_path / "cache"
    monkeypatch.setenv("ARENA_CACHE_DIR", str(where))
    monkeypatch.setattr(parse_cache, "SETTLING", 0.0)
    return where


def _run(capsys, argv: list[str]) -> tuple[str, str]:
    assert show_result.main(argv) == 0
    out = capsys.readouterr()
    return out.out, out.err


def _afresh(capsys, monkeypatch, argv: list[str]) -> tuple[str, str]:
    """What reading every file gives."""
    monkeypatch.setenv("ARENA_CACHE_DIR", "off")
    return _run(capsys, argv)


def _v01(tmp_path) -> tuple[Path, list[str]]:
    write_bench(tmp_path, MIXED, 4)
    return tmp_path / "data" / BENCH, ["--data-dir", str(tmp_path / "data"), "--baseline", BASE, "--num-rounds", "20"]


def test_a_second_run_on_unchanged_files_parses_only_the_question_file_and_prints_the_same(
        tmp_path, cache, parses, capsys):
    bench, argv = _v01(tmp_path)
    first = _run(capsys, argv)
    assert parses[str(bench / "model_judgment" / JUDGE / "alpha.jsonl")] == 4
    parses.clear()
    assert _run(capsys, argv) == first
    assert dict(parses) == {str(bench / "question.jsonl"): 4}  # no answer file, no judgment file
    assert {p.parent.name for p in cache.rglob("*.pickle")} == {"answers", "judgments"}


def test_a_v2_run_with_two_judges_and_style_control_gives_the_same_tables_from_the_cache(tmp_path, cache, capsys):
    data = tmp_path / "data"
    synth_v2.write_bench(data, seed=5)
    argv = ["--data-dir", str(data), "--bench-name", synth_v2.BENCH, "--judge-names", *synth_v2.JUDGES,
            "--num-rounds", "10", "--style-control"]
    first = _run(capsys, argv)
    assert _run(capsys, argv) == first
    os.environ["ARENA_CACHE_DIR"] = "off"
    assert _run(capsys, argv) == first


def test_a_verdict_edited_in_place_with_its_size_and_time_kept_is_read_again(tmp_path, cache, parses, capsys,
                                                                            monkeypatch):
    bench, argv = _v01(tmp_path)
    first = _run(capsys, argv)
    path = bench / "model_judgment" / JUDGE / "alpha.jsonl"
    before, text = path.stat(), path.read_text(encoding="utf-8")
    assert '"score": "A>B"' in text
    path.write_text(text.replace('"score": "A>B"', '"score": "B>A"', 1), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as a hand edit that hides itself would
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    parses.clear()
    edited = _run(capsys, argv)
    assert parses[str(path)] == 4 and str(bench / "model_judgment" / JUDGE / "beta.jsonl") not in parses
    assert edited != first
    monkeypatch.setenv("ARENA_CACHE_DIR", "off")
    assert _run(capsys, argv) == edited  # what reading every file afresh gives


def test_a_changed_question_file_makes_every_file_read_again(tmp_path, cache, parses, capsys, monkeypatch):
    bench, argv = _v01(tmp_path)
    _run(capsys, argv)
    questions = bench / "question.jsonl"
    questions.write_text("".join(questions.read_text(encoding="utf-8").splitlines(True)[1:]), encoding="utf-8")
    parses.clear()
    fewer = _run(capsys, argv)
    assert all(n > 0 for n in parses.values()) and len(parses) == 1 + 3 + 2  # questions, 3 answer files, 2 judgments
    monkeypatch.setenv("ARENA_CACHE_DIR", "off")
    assert _run(capsys, argv) == fewer


def test_a_cache_that_is_off_damaged_or_not_writable_only_means_parsing_again(tmp_path, cache, parses, capsys,
                                                                              monkeypatch):
    bench, argv = _v01(tmp_path)
    monkeypatch.setenv("ARENA_CACHE_DIR", "off")
    first = _run(capsys, argv)
    assert not cache.exists()
    monkeypatch.setenv("ARENA_CACHE_DIR", str(cache))
    assert _run(capsys, argv) == first
    for kept in cache.rglob("*.pickle"):
        kept.write_bytes(b"not a pickle")
    parses.clear()
    assert _run(capsys, argv) == first
    assert parses[str(bench / "model_judgment" / JUDGE / "alpha.jsonl")] == 4
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache directory would be")
    monkeypatch.setenv("ARENA_CACHE_DIR", str(blocked))
    assert _run(capsys, argv) == first


def test_answer_digests_come_from_the_cache_and_are_made_when_judgments_start_to_ask_for_them(
        tmp_path, cache, parses, capsys, monkeypatch, scripted_server):
    scripted_server.rules = [(lambda r: True, Reply("[[A>B]]"))]
    assert gen_judgment(lay_out_judging(tmp_path, scripted_server)).returncode == 0
    data = tmp_path / "data" / JUDGED_BENCH
    answers = data / "model_answer" / "m-two.jsonl"
    records = read_jsonl(answers)
    for r in records[:3]:  # a new checkpoint's answers under the same ids
        r["messages"][1]["content"]["answer"] += ", said anew"
    write_jsonl(answers, records)
    judged = {f: f.read_text(encoding="utf-8") for f in (data / "model_judgment" / JUDGING_JUDGE).glob("*.jsonl")}
    for f in judged:  # judgments that record no digest: the answers are kept without theirs
        write_jsonl(f, [{k: v for k, v in r.items() if k != "provenance"} for r in read_jsonl(f)])
    argv = ["--data-dir", str(tmp_path / "data"), "--bench-name", JUDGED_BENCH, "--judge-name", JUDGING_JUDGE,
            "--baseline", JUDGING_BASE, "--num-rounds", "10"]
    assert "stale" not in _run(capsys, argv)[1]
    for f, text in judged.items():  # the digests are asked for, of answer files unchanged since
        f.write_text(text, encoding="utf-8")
    stale = _run(capsys, argv)
    assert f"{JUDGING_JUDGE} / m-two: 3 of 4 judgments are stale" in stale[1]
    parses.clear()
    assert _run(capsys, argv) == stale  # the digests made in the run before came from the cache
    assert not [path for path in parses if "model_answer" in path]
    monkeypatch.setenv("ARENA_CACHE_DIR", "off")
    assert _run(capsys, argv) == stale


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


def test_a_cache_file_others_may_write_or_of_an_unexpected_shape_is_not_used(tmp_path, cache, parses, capsys):
    bench, argv = _v01(tmp_path)
    first = _run(capsys, argv)
    alpha = str(bench / "model_judgment" / JUDGE / "alpha.jsonl")
    kept = next(cache.glob("judgments/*.pickle"))
    kept.chmod(0o666)  # a file anyone may write could hold anything: it is not read
    parses.clear()
    assert _run(capsys, argv) == first and parses[alpha] == 4
    kept = next(cache.glob("judgments/*.pickle"))
    held = pickle.loads(kept.read_bytes())
    held["files"]["alpha.jsonl"] = (held["files"]["alpha.jsonl"][0], {"not": "a parse"})  # its fingerprint holds
    kept.write_bytes(pickle.dumps(held))
    parses.clear()
    assert _run(capsys, argv) == first and parses[alpha] == 4


def test_a_file_changed_a_moment_ago_is_read_but_its_parse_not_kept(tmp_path, cache, parses, capsys, monkeypatch):
    bench, argv = _v01(tmp_path)
    monkeypatch.setattr(parse_cache, "SETTLING", 3600.0)  # every file is younger than that
    first = _run(capsys, argv)
    parses.clear()
    assert _run(capsys, argv) == first
    assert parses[str(bench / "model_judgment" / JUDGE / "alpha.jsonl")] == 4
