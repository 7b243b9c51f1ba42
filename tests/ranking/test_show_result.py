"""show_result.py as a user runs it: tables, CSVs, saved battles and bootstraps, bad input, and the
original tool's numbers on extracts of the shared synthetic benchmark and real judgment files."""
from __future__ import annotations

import csv
import datetime
import json
import math
import os
import re
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from tests.fixtures.make_extracts import REAL
from tests.helpers import (BASE, BENCH, FIXTURES, JUDGE, MIXED, ROOT, MIXED_PAIRS, expected_win_rate, games, one_line_error,
                           read_csv, read_jsonl, results_file, show, unpack, without_wrote_lines,
                           write_bench, write_jsonl)
from utils.plumbing.errors import InputError
from utils.plumbing.forked import ForkedChild
from utils.ranking import judgments
from utils.ranking.battles import battles_from

@pytest.mark.parametrize("layout", ["new", "old"])
def test_scores_are_the_win_rates_a_person_computes_by_hand(tmp_path, layout):
    write_bench(tmp_path, MIXED, 4, layout)
    out = show(tmp_path, "--csv", "t.csv", "--num-rounds", "50")
    rows = read_csv(tmp_path / "t.csv")
    for model, pairs in MIXED_PAIRS.items():
        assert float(rows[model]["score"]) == pytest.approx(expected_win_rate(pairs), abs=0.01)
    assert float(rows[BASE]["score"]) == 50.0
    assert out.stdout.index("alpha") < out.stdout.index(BASE) < out.stdout.index("beta")  # best first
    show(tmp_path, "--csv", "w1.csv", "--weight", "1", "--first-game-only", "--num-rounds", "20")
    rows = read_csv(tmp_path / "w1.csv")
    for model, pairs in MIXED_PAIRS.items():
        assert float(rows[model]["score"]) == pytest.approx(expected_win_rate(pairs, 1, True), abs=0.01)


def test_both_file_layouts_give_the_same_table(tmp_path):
    new, old = tmp_path / "new", tmp_path / "old"
    verdicts = {"alpha": games(*[("W", "L"), ("S", "T"), ("L", "L"), ("W", "W")] * 5)}
    write_bench(new, verdicts, 20, "new")
    write_bench(old, verdicts, 20, "old")
    a = show(new, "--style-control", "--seed", "3").stdout
    b = show(old, "--style-control", "--seed", "3").stdout
    assert a == b


def test_a_sweep_and_a_wipeout_on_three_questions_give_finite_flagged_results(tmp_path):
    write_bench(tmp_path, {"sweeper": games(("S", "S"), ("W", "S"), ("W", "W")),
                           "loser": games(("X", "L"), ("L", "L"), ("X", "X"))}, 3)
    out = show(tmp_path, "--csv", "t.csv")
    rows = read_csv(tmp_path / "t.csv")
    for model in ("sweeper", "loser"):
        values = [float(rows[model][k]) for k in ("score", "lower", "upper", "rating", "rating_lower", "rating_upper")]
        assert all(math.isfinite(v) for v in values)
        assert "unreliable" in rows[model]["flags"]
    assert float(rows["sweeper"]["score"]) > 99 and float(rows["loser"]["score"]) < 1
    assert "UNRELIABLE sweeper" in out.stdout and "UNRELIABLE loser" in out.stdout
    assert "Traceback" not in out.stderr


def test_style_control_on_degenerate_data_stays_finite(tmp_path):
    write_bench(tmp_path, {"sweeper": games(("S", "S"), ("W", "S")), "other": games(("W", "L"), ("L", "T"))}, 2)
    show(tmp_path, "--style-control", "--csv", "t.csv")
    rows = read_csv(tmp_path / "t.csv")
    assert all(math.isfinite(float(r["score"])) and math.isfinite(float(r["lower"])) for r in rows.values())


def test_coverage_column_flags_and_lists_missing_questions(tmp_path):
    full = games(*[("W", "L")] * 6)
    partial = games(("W", "L"), ("L", "L"), ("T", "W"), (None, None), ("W", "W"), ("L", "W"))
    partial[1] = None  # no judgment line at all for q001
    write_bench(tmp_path, {"full": full, "partial": partial}, 6)
    out = show(tmp_path, "--csv", "t.csv").stdout
    rows = read_csv(tmp_path / "t.csv")
    assert (rows["full"]["covered_questions"], rows["full"]["questions"]) == ("6", "6")
    assert (rows["partial"]["covered_questions"], rows["partial"]["questions"]) == ("4", "6")
    assert "incomplete-coverage" in rows["partial"]["flags"]
    assert "incomplete-coverage" not in rows["full"]["flags"]
    line = next(l for l in out.splitlines() if l.startswith("partial "))
    assert "coverage: 4/6 !" in line
    listing = next(l for l in out.splitlines() if l.startswith("! partial"))
    assert "2 of 6" in listing and "q001" in listing and "q003" in listing
    # q001 was never judged, q003 judged without a label: the line says it may be either
    assert "not judged yet" in listing and "judged without a label" in listing


def test_every_number_says_how_it_was_made(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    out = show(tmp_path, "--csv", "t.csv", "--num-rounds", "30", "--seed", "9", "--confidence", "90",
               "--bootstrap-unit", "question", "--weight", "2").stdout
    footer = next(l for l in out.splitlines() if l.startswith("--"))
    for fact in ("90% percentile bootstrap", "30 rounds", "questions", "seed 9", "x2", JUDGE, BASE):
        assert fact in footer
    assert "90% CI" in out
    row = read_csv(tmp_path / "t.csv")["alpha"]
    assert (row["confidence"], row["rounds"], row["seed"], row["bootstrap_unit"], row["weight"]) == \
        ("90.0", "30", "9", "question", "2")


def test_poisson_resampling_is_an_option_and_is_named(tmp_path):
    verdicts = {"alpha": games(*[("W", "L"), ("S", "T"), ("L", "L"), ("W", "W")] * 6)}
    write_bench(tmp_path, verdicts, 24)
    multinomial = show(tmp_path, "--seed", "3", "--csv", "m.csv").stdout
    poisson = show(tmp_path, "--seed", "3", "--resampling", "poisson", "--csv", "p.csv").stdout
    assert "multinomial resampling" in multinomial and "Poisson resampling" in poisson
    assert read_csv(tmp_path / "p.csv")["alpha"]["resampling"] == "poisson"
    m, p = read_csv(tmp_path / "m.csv")["alpha"], read_csv(tmp_path / "p.csv")["alpha"]
    assert m["score"] == p["score"] and (m["lower"], m["upper"]) != (p["lower"], p["upper"])


def test_same_seed_same_table_other_seed_other_intervals(tmp_path):
    verdicts = {"alpha": games(*[("W", "L"), ("S", "T"), ("L", "L"), ("W", "W"), ("X", "W")] * 8),
                "beta": games(*[("L", "L"), ("T", "W"), ("L", "X"), ("W", "L"), ("L", "T")] * 8)}
    write_bench(tmp_path, verdicts, 40)
    first = show(tmp_path, "--seed", "5").stdout
    assert show(tmp_path, "--seed", "5").stdout == first
    assert show(tmp_path, "--seed", "6").stdout != first


def test_saved_battles_reload_to_the_same_table(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    first = show(tmp_path, "--seed", "1").stdout
    saved = read_jsonl(results_file(tmp_path / "data", "arena_hard_battles.jsonl"))
    assert set(saved[0]) == {"question_id", "model_a", "model_b", "winner"}
    # one row per counted battle: alpha's verdicts hold 1+1+3+0.. -> count the strong one three times
    assert sum(1 for b in saved if b["model_b"] == "alpha") == 1 + 1 + 3 + 1 + 1 + 1 + 1 + 1
    shutil.rmtree(tmp_path / "data" / BENCH / "model_judgment")
    again = show(tmp_path, "--seed", "1", "--load-battles").stdout
    assert without_wrote_lines(again) == without_wrote_lines(first)


def test_each_judge_and_pool_of_judges_keeps_its_own_battles_and_bootstrap(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    write_bench(tmp_path, {"alpha": MIXED["beta"], "beta": MIXED["alpha"]}, 4, judge="other-judge")
    tables = {}
    for judges in ([JUDGE], ["other-judge"], [JUDGE, "other-judge"]):
        tables[tuple(judges)] = show(tmp_path, "--seed", "1", "--judge-names", *judges).stdout
        for name in ("arena_hard_battles.jsonl", "bootstrapping_results.jsonl"):
            assert results_file(tmp_path / "data", name, judges=judges).is_file()
    assert len({without_wrote_lines(t) for t in tables.values()}) == 3
    # a later run of another judge does not replace what --load-battles reads for this one (the table: loaded
    # battles do not say which judge gave them, so the pooled judges' agreement is printed only from judgments)
    for judges, first in tables.items():
        again = show(tmp_path, "--seed", "1", "--judge-names", *judges, "--load-battles").stdout
        assert without_wrote_lines(again) == without_wrote_lines(first).split("##### judges:")[0]
    alpha = [b for b in read_jsonl(results_file(tmp_path / "data", "arena_hard_battles.jsonl", judges=["other-judge"]))
             if b["model_b"] == "alpha"]
    assert len(alpha) == sum(3 if v in "SX" else 1 for pair in MIXED_PAIRS["beta"] for v in pair)  # beta's verdicts


def test_battles_written_by_the_original_tool_load(tmp_path):
    # the original writes pandas records, with conv_metadata under --style-control and "tie (bothbad)" ties
    rows = []
    for i in range(30):
        winner = ["model_a", "model_b", "model_b", "tie", "tie (bothbad)"][i % 5]
        rows.append({"question_id": f"q{i % 10}", "model_a": BASE, "model_b": "m", "winner": winner,
                     "conv_metadata": {"sum_assistant_a_tokens": 100 + i, "sum_assistant_b_tokens": 300 - i,
                                       "header_count_a": {"h1": 1}, "header_count_b": {"h1": i % 3},
                                       "list_count_a": {"ordered": 2}, "list_count_b": {"ordered": 0},
                                       "bold_count_a": {"**": 0}, "bold_count_b": {"**": 1}}})
    write_jsonl(tmp_path / "data" / "arena_hard_battles.jsonl", rows)  # where the original writes them
    show(tmp_path, "--load-battles", "data/arena_hard_battles.jsonl", "--csv", "t.csv")
    # 12 wins of the model, 6 of the baseline, 12 ties -> (12 + 6) / 30
    assert float(read_csv(tmp_path / "t.csv")["m"]["score"]) == pytest.approx(60.0, abs=0.01)
    out = show(tmp_path, "--load-battles", "data/arena_hard_battles.jsonl", "--style-control").stdout
    assert "Style Coefficients: {'sum_assistant_a_tokens'" in out


def test_saved_bootstrap_is_reused(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    first = show(tmp_path, "--csv", "a.csv", "--num-rounds", "40").stdout
    saved = read_jsonl(results_file(tmp_path / "data", "bootstrapping_results.jsonl"))
    assert {tuple(sorted(r)) for r in saved if r["model"] != BASE} == {("lower", "model", "results", "score", "upper")}
    assert [r.get("baseline") for r in saved if r["model"] == BASE] == [True]  # its 50 is exact (quality.measured)
    assert all(len(r["results"]) == 40 for r in saved)
    again = show(tmp_path, "--csv", "b.csv", "--load-bootstrap").stdout
    a, b = read_csv(tmp_path / "a.csv"), read_csv(tmp_path / "b.csv")
    for model in a:
        for key in ("score", "lower", "upper"):
            assert float(a[model][key]) == pytest.approx(float(b[model][key]), abs=0.01)
    assert "loaded from" in again and first.splitlines()[0] == again.splitlines()[0]


def test_original_bootstrap_file_layout_loads(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    # the original saves one line per round: model -> Elo rating (its baseline not necessarily at 1000)
    rounds = [{BASE: 1114.0, "alpha": 1114.0 + d, "beta": 1114.0 - d} for d in range(0, 200, 10)]
    write_jsonl(tmp_path / "data" / "bootstrapping_results.jsonl", rounds)  # where the original writes them
    show(tmp_path, "--load-bootstrap", "data/bootstrapping_results.jsonl", "--csv", "t.csv", "--show-elo")
    row = read_csv(tmp_path / "t.csv")["alpha"]
    assert float(row["rating_lower"]) == pytest.approx(1000 + 4.75, abs=0.06)  # 2.5th percentile of 0..190
    assert float(row["rating_upper"]) == pytest.approx(1000 + 185.25, abs=0.06)


def test_output_writes_the_original_leaderboard_csv(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    show(tmp_path, "--output")
    path = tmp_path / "leaderboard" / f"arena_hard_leaderboard_{datetime.date.today():%Y%m%d}.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["model", "score", "rating_q025", "rating_q975", "CI", "avg_tokens", "date"]
    assert [r["model"] for r in rows][0] == "alpha"
    assert re.fullmatch(r"\(-\d+\.\d\d, \+\d+\.\d\d\)", rows[0]["CI"])


@pytest.mark.parametrize("scale", ["--show-elo", None])
def test_every_file_written_is_announced_and_the_baseline_shows_no_interval(tmp_path, scale):
    write_bench(tmp_path, MIXED, 4)
    out = show(tmp_path, "--csv", "t.csv", "--output", "--num-rounds", "20", *([scale] if scale else [])).stdout
    results = f"data/{BENCH}/results/{JUDGE}"
    today = datetime.date.today()
    assert [line for line in out.splitlines() if line.startswith("wrote ")] == [
        f"wrote {results}/arena_hard_battles.jsonl", f"wrote {results}/bootstrapping_results.jsonl", "wrote t.csv",
        f"wrote leaderboard/arena_hard_leaderboard_{today:%Y%m%d}.csv"]
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()}
    assert {f"{results}/arena_hard_battles.jsonl", f"{results}/bootstrapping_results.jsonl", "t.csv",
            f"leaderboard/arena_hard_leaderboard_{today:%Y%m%d}.csv"} <= written
    # the baseline's score is fixed at 50% (rating 1000): it has no interval, not "(-0.0, +0.0)"
    base_line = next(line for line in out.splitlines() if line.startswith(BASE + " "))
    assert "| 95% CI:        -         |" in base_line
    other_lines = [line for line in out.splitlines() if " | 95% CI: " in line and not line.startswith(BASE + " ")]
    assert len(other_lines) == 2 and all(re.search(r"CI: +\(-\d", line) for line in other_lines)


def test_show_elo_prints_ratings(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    out = show(tmp_path, "--show-elo").stdout
    base_line = next(l for l in out.splitlines() if l.startswith(BASE))
    assert "rating:  1000" in base_line


def test_several_judges_are_pooled(tmp_path):
    write_bench(tmp_path, {"alpha": games(("W", "W"), ("W", "W"))}, 2, judge="judge-1")
    write_bench(tmp_path, {"alpha": games(("L", "L"), ("L", "T"))}, 2, judge="judge-2")
    show(tmp_path, "--judge-names", "judge-1", "judge-2", "--csv", "t.csv")
    row = read_csv(tmp_path / "t.csv")["alpha"]
    assert float(row["score"]) == pytest.approx(100 * 4.5 / 8, abs=0.01)
    assert row["battles"] == "8" and row["judges"] == "judge-1 judge-2"


def test_category_selects_questions(tmp_path):
    # odd questions are "hard": alpha wins those, loses the "easy" ones
    write_bench(tmp_path, {"alpha": games(*[("L", "L"), ("W", "W")] * 3)}, 6)
    show(tmp_path, "--category", "hard", "--csv", "t.csv")
    row = read_csv(tmp_path / "t.csv")["alpha"]
    assert float(row["score"]) > 99 and row["questions"] == "3" and row["covered_questions"] == "3"


def test_a_category_no_question_has_is_one_clear_error(tmp_path):
    write_bench(tmp_path, {"alpha": games(*[("L", "L"), ("W", "W")] * 3)}, 6)
    msg = one_line_error(show(tmp_path, "--category", "hard", "coding", check=False))
    assert msg.startswith("error: --category: ") and "'coding'" in msg and "hard" in msg
    assert not results_file(tmp_path / "data", "bootstrapping_results.jsonl").exists()


def test_missing_judgment_directory_is_one_clear_error(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    msg = one_line_error(show(tmp_path, "--judge-name", "nobody", check=False))
    assert "nobody" in msg and "--judge-name" in msg


def test_a_judge_without_judgments_names_the_judges_that_have_them(tmp_path):
    """The quickstart judges with --judge my-judge; show_result without --judge-name looks for the default judge's."""
    write_bench(tmp_path, MIXED, 4, judge="my-judge")
    for flags in ((), ("--setting-file", ROOT / "config" / "arena-hard-v0.1.yaml")):
        msg = one_line_error(show(tmp_path, *flags, check=False))
        assert f"no judgments by judge {JUDGE!r}" in msg
        assert "judgments here are by my-judge: show_result.py --judge-name my-judge" in msg, msg
    # judged on another benchmark of the same data directory: the line names the --bench-name that finds them
    other = tmp_path / "data" / "another-bench" / "model_judgment" / JUDGE
    other.mkdir(parents=True)
    msg = one_line_error(show(tmp_path, check=False))
    assert msg.endswith(f"; {JUDGE} has judgments of --bench-name another-bench"), msg
    write_bench(tmp_path / "empty", MIXED, 4)
    shutil.rmtree(tmp_path / "empty" / "data" / BENCH / "model_judgment")
    msg = one_line_error(show(tmp_path / "empty", check=False))
    assert "no judgments by any judge here yet (gen_judgment.py makes them)" in msg, msg


def test_unknown_baseline_is_one_clear_error(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    msg = one_line_error(show(tmp_path, "--baseline", "gpt-5", check=False))
    assert "gpt-5" in msg and "--baseline" in msg
    assert not results_file(tmp_path / "data", "bootstrapping_results.jsonl").exists()


def test_a_broken_judgment_line_names_file_and_line(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    path = tmp_path / "data" / BENCH / "model_judgment" / JUDGE / "beta.jsonl"
    with open(path, "a") as f:
        f.write('{"uid": "q9", "games": [\n')
    msg = one_line_error(show(tmp_path, check=False))
    assert "beta.jsonl:5" in msg
    assert not results_file(tmp_path / "data", "arena_hard_battles.jsonl").exists()  # nothing half-written


@pytest.mark.parametrize("line, where", [
    ('[1, 2]', ":1"),  # not a JSON object
    ('{"model": "alpha", "score": 60, "lower": 50, "upper": 70, "results": ["x"]}', ":1: results"),
    ('{"%s": 1000, "alpha": "high"}' % BASE, ":1: alpha"),  # the original's per-round layout
])
def test_a_broken_saved_bootstrap_file_is_one_clear_error(tmp_path, line, where):
    write_bench(tmp_path, MIXED, 4)
    path = results_file(tmp_path / "data", "bootstrapping_results.jsonl")
    path.parent.mkdir(parents=True)
    path.write_text(line + "\n")
    msg = one_line_error(show(tmp_path, "--load-bootstrap", check=False))
    assert "bootstrapping_results.jsonl" + where in msg
    assert path.read_text() == line + "\n"  # left as it was


def _split_bench(root: Path) -> list[Path]:
    """Judgment files whose later ones bring models and questions the earlier ones lack."""
    verdicts = {"alpha": [None, None, *MIXED["alpha"]], "beta": MIXED["beta"] + [None, None],
                "gamma": [*MIXED["alpha"][:2], None, *MIXED["beta"][1:]], "delta": MIXED["beta"][::-1] + [None, None]}
    write_bench(root, verdicts, 6)
    return judgments.judgment_files(root / "data", BENCH, [JUDGE])


def read_battles(files):
    """The battles of ``files`` as show_result reads them: every record parsed once, then made battles."""
    return battles_from(judgments.read_judgments([JUDGE], files, judgments.ReadOptions()), BASE)


def test_judgments_parsed_by_two_processes_give_exactly_the_battles_of_one(tmp_path, monkeypatch):
    files = _split_bench(tmp_path)
    one = read_battles(files)
    monkeypatch.setattr(judgments, "PARALLEL_BYTES", 0)  # split even these small files
    assert judgments._halfway([f for _, f in files]) == 2 and ForkedChild.available()
    two = read_battles(files)
    assert two.models == one.models and two.questions == one.questions  # names interned in reading order
    for col in ("model_a", "model_b", "winner", "question", "count"):
        assert getattr(two, col).tolist() == getattr(one, col).tolist(), col


def test_an_error_in_the_second_process_is_reported_as_in_one(tmp_path, monkeypatch):
    files = _split_bench(tmp_path)
    with open(files[-1][1], "a") as f:  # the last file: parsed by the forked child
        f.write("{broken\n")
    broken_line = len(files[-1][1].read_text().splitlines())
    monkeypatch.setattr(judgments, "PARALLEL_BYTES", 0)
    with pytest.raises(InputError) as err:
        read_battles(files)
    assert err.value.path == str(files[-1][1]) and err.value.line == broken_line


def test_leaving_early_stops_the_forked_child():
    started = time.monotonic()
    with pytest.raises(RuntimeError):
        with ForkedChild(lambda: time.sleep(3600)) as job:
            pid = job.pid
            raise RuntimeError("the judgments were bad")
    # waiting for the job would take an hour; a busy machine may still take seconds to stop it
    assert time.monotonic() - started < 60
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # already reaped: no process, no zombie left behind
    assert ForkedChild(lambda: 6 * 7).result() == 42


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_at_the_instant_of_the_fork_stays_in_the_child(tmp_path, monkeypatch, signum):
    # Ctrl-C reaches the forked child too; arriving before the child is inside its own handling, it used to unwind
    # through this process's callers in the child, whose cleanup (a finally here, a temporary file, the exit
    # functions) then ran a second time, in the wrong process
    parent, fork = os.getpid(), os.fork
    stop = signal.getsignal(signal.SIGTERM)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # as utils/plumbing/cli.py turns it into a stop
    ran_here = tmp_path / "cleanup-ran-in-the-child"

    def fork_then_signalled():
        pid = fork()
        if pid == 0:
            os.kill(os.getpid(), signum)
        return pid
    monkeypatch.setattr(os, "fork", fork_then_signalled)
    try:
        with pytest.raises(KeyboardInterrupt):  # the child's stop, reported as its outcome
            ForkedChild(lambda: 6 * 7).result()
    finally:
        if os.getpid() != parent:  # the child, unwinding through this test
            ran_here.write_text("")
            os._exit(3)
        signal.signal(signal.SIGTERM, stop)
    assert not ran_here.exists()


def test_a_stop_signal_at_the_instant_of_the_fork_stops_this_process_without_leaving_the_child(monkeypatch):
    # the same Ctrl-C reaching this process in that instant: it stops here, and the child (an hour of work) goes
    fork, children = os.fork, []

    def fork_then_signalled():
        pid = fork()
        if pid:
            children.append(pid)
            signal.pthread_kill(threading.main_thread().ident, signal.SIGINT)  # this thread's, not another's
        return pid
    monkeypatch.setattr(os, "fork", fork_then_signalled)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            ForkedChild(lambda: time.sleep(3600))
        assert time.monotonic() - started < 60
        with pytest.raises(ChildProcessError):
            os.waitpid(children[0], os.WNOHANG)  # stopped and reaped: no process, no zombie
    finally:  # should it fail: no process of an hour left holding the test run's output
        for pid in children:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass


def test_style_control_without_metadata_names_the_answer_file(tmp_path):
    write_bench(tmp_path, MIXED, 4, with_meta=False)
    msg = one_line_error(show(tmp_path, "--style-control", check=False))
    assert "model_answer" in msg and "add_markdown_info" in msg


# ---------------------------------------------------------------- the original's numbers

# What the original v0.1 show_result.py printed, and the data it printed it for, are extracts of ../shared
# (tests/fixtures/README.md); tests/test_fixtures.py checks they are what make_extracts.py cuts from it.
REFERENCE = FIXTURES / "reference" / "anchor-v0.1"

MODES = {"plain": [], "style-control": ["--style-control"], "length-control-only": ["--length-control-only"],
         "markdown-control-only": ["--markdown-control-only"], "first-game-only": ["--first-game-only"],
         "weight-1": ["--weight", "1"]}
REF_LINE = re.compile(r"(\S+)\s+\| score:\s*([\d.]+)\s*\| 95% CI:\s*\(([-\d.]+), ([-\d.]+)\)\s*\| average #tokens: (\d+)")


def parse_reference(path: Path) -> tuple[dict, list[str], dict]:
    rows, order, coefs = {}, [], {}
    for line in path.read_text().splitlines():
        if line.startswith("Style Coefficients"):
            coefs = {k: float(v) for k, v in re.findall(r"'(\w+)': (?:np\.float64\()?([-\d.]+)", line)}
        m = REF_LINE.match(line)
        if m:
            rows[m[1]] = (float(m[2]), float(m[3]), float(m[4]), int(m[5]))
            order.append(m[1])
    return rows, order, coefs


@pytest.fixture(scope="module")
def synth20(tmp_path_factory) -> Path:
    """The synthetic benchmark (20 models, 500 questions) the original's synth20seed0 outputs were made on."""
    return unpack("synth20seed0", tmp_path_factory.mktemp("synth20"))


@pytest.mark.parametrize("mode", list(MODES))
def test_synthetic_benchmark_matches_the_original(synth20, mode):
    ref, order, ref_coefs = parse_reference(REFERENCE / f"synth20seed0_{mode}.txt")
    # 1000 rounds keep our own bootstrap noise small; the reference's 100-round percentiles carry theirs
    out = show(synth20, *MODES[mode], "--num-rounds", "1000", "--csv", f"{mode}.csv").stdout
    rows = read_csv(synth20 / f"{mode}.csv")
    assert set(rows) == set(ref)
    half_width_errors = []
    for model, (score, lo, hi, tokens) in ref.items():
        row = rows[model]
        assert float(row["score"]) == pytest.approx(score, abs=0.1), model
        assert int(row["avg_tokens"]) == tokens
        half_width_errors += [(float(row["score"]) - float(row["lower"])) - (-lo),
                              (float(row["upper"]) - float(row["score"])) - hi]
    errors = [abs(e) for e in half_width_errors]
    # Each reference bound is a percentile of only 100 bootstrap rounds, itself uncertain by about
    # +-0.3 points, so a few of the 40 bounds may miss by more than 0.5 while the widths agree on average.
    assert sum(errors) / len(errors) <= 0.35, errors
    assert abs(sum(half_width_errors) / len(errors)) <= 0.2, half_width_errors  # no systematic bias
    assert sum(e <= 0.5 for e in errors) >= 0.85 * len(errors), errors
    assert max(errors) <= 1.5, errors
    # same order, except for models whose scores are within rounding of each other
    ours = [l.split()[0] for l in out.splitlines() if " | score:" in l]
    for i, (a, b) in enumerate(zip(order, ours)):
        if a != b:
            assert abs(ref[a][0] - ref[b][0]) <= 0.2, (i, a, b)
    printed = dict(re.findall(r"'(\w+)': ([-\d.]+)", next((l for l in out.splitlines()
                                                           if l.startswith("Style Coefficients")), "")))
    assert list(printed) == list(ref_coefs)
    for name, value in ref_coefs.items():
        assert float(printed[name]) == pytest.approx(value, abs=0.005)


def _finite_and_ordered(row: dict) -> bool:
    values = [float(row[k]) for k in ("lower", "score", "upper", "rating_lower", "rating", "rating_upper")]
    return all(math.isfinite(v) for v in values) and values[0] <= values[1] <= values[2] and \
        values[3] <= values[4] <= values[5]


@pytest.mark.parametrize("name", REAL)
def test_real_judgment_files_give_a_table(real_judgments, name):
    root = real_judgments  # all four files, each under its judge
    judge, model = name.split("__", 1)
    tiny = not name.endswith("Athene-V2-Chat")  # 7-12 judged questions; Athene has 108
    ref_path = REFERENCE / f"real__{name}.txt"
    ref, _, _ = parse_reference(ref_path)
    # the original crashed on two of them when a bootstrap sample held one outcome only; 1000 rounds
    # make such samples certain here, so the very case that crashed it is exercised and flagged
    crashed = not ref
    runs = [[], ["--bootstrap-unit", "question"]] + ([["--num-rounds", "1000"]] if crashed else [])
    for flags in runs:
        out = show(root, "--judge-name", judge, "--csv", "t.csv", *flags)
        assert "Traceback" not in out.stderr
        rows = read_csv(root / "t.csv")
        row = rows[model]
        assert _finite_and_ordered(row), row
        printed = next(line for line in out.stdout.splitlines() if line.startswith(model + " "))
        assert "nan" not in printed and "inf" not in printed
        if tiny:
            assert "unreliable" in row["flags"] and "only" in row["flags"]
            assert printed.endswith("UNRELIABLE")  # marked on the model's row of the table ...
            assert f"UNRELIABLE {model}: " in out.stdout  # ... and the reason printed under it
        if "--num-rounds" in flags:
            assert "bootstrap samples hold one outcome only" in row["flags"]
    if crashed:
        assert "only one class" in ref_path.read_text()
    else:
        assert float(rows[model]["score"]) == pytest.approx(ref[model][0], abs=0.1)
        assert float(rows[BASE]["avg_tokens"]) == ref[BASE][3]


def test_separability_of_the_table_is_printed(tmp_path):
    # strong: wins every game; weak: loses every game; 40 questions keep both far from the baseline's 50
    verdicts = {"strong": games(*[("W", "W")] * 30, *[("L", "L")] * 10),
                "weak": games(*[("L", "L")] * 30, *[("W", "W")] * 10)}
    write_bench(tmp_path, verdicts, 40)
    out = show(tmp_path, "--bench-name", BENCH, "--seed", "1").stdout
    # three intervals: strong above 50, weak below, the baseline's exact 50 -> 3 of 3 pairs apart
    assert "separability: 100.0% of 3 model pairs have non-overlapping 95% intervals" in out


def test_the_output_says_once_which_method_scored_it_unless_method_was_given(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    lines = show(tmp_path).stdout.splitlines()
    assert lines[0].startswith("method arena-hard-v0.1 (the default;") and "--method arena-hard-v2" in lines[0]
    assert sum(line.startswith("method ") for line in lines) == 1
    assert not show(tmp_path, "--method", "arena-hard-v0.1").stdout.startswith("method ")


def test_the_shipped_judge_config_ranks_the_judged_models_though_it_lists_none(tmp_path):
    """config/arena-hard-v0.1.yaml ships with an empty model_list: that is for the asking steps; the table ranks the
    models that have judgments."""
    write_bench(tmp_path, MIXED, 4)
    by_config = show(tmp_path, "--setting-file", ROOT / "config" / "arena-hard-v0.1.yaml", "--csv", "c.csv",
                     check=False)
    assert by_config.returncode == 0, by_config.stderr
    show(tmp_path, "--judge-name", JUDGE, "--baseline", BASE, "--csv", "f.csv")
    assert (tmp_path / "c.csv").read_bytes() == (tmp_path / "f.csv").read_bytes()
    assert set(read_csv(tmp_path / "c.csv")) == {BASE, *MIXED}
    bad = tmp_path / "bad.yaml"  # a list that is there is still checked
    bad.write_text(f"bench_name: {BENCH}\njudge_model: {JUDGE}\nbaseline_model: {BASE}\nmodel_list: [a, a]\n")
    assert "bad.yaml:4: model_list" in one_line_error(show(tmp_path, "--setting-file", bad, check=False))


def test_zero_width_intervals_separate_nothing_and_every_line_of_the_output_agrees(tmp_path):
    # an always-A judge: game 1 (baseline as A) lost, game 2 (model as A) won, on every question; resampling whole
    # questions then gives alpha and beta 50 in every round. sweeper wins every game: 100 in every round.
    verdicts = {"alpha": games(*[("L", "W")] * 30), "beta": games(*[("L", "W")] * 30),
                "sweeper": games(*[("W", "W")] * 30)}
    write_bench(tmp_path, verdicts, 30)
    flags = ("--bootstrap-unit", "question", "--num-rounds", "80")
    out = show(tmp_path, *flags, "--compare", "alpha", "beta").stdout
    assert re.search(r"^alpha +\| score:  50\.0  \| 95% CI:  +\(-0\.0, \+0\.0\)", out, re.M)  # the case itself
    assert "separability: 0.0% of 6 model pairs" in out and "sweeper, alpha, beta: zero width" in out
    for model in ("alpha", "beta", "sweeper"):
        assert f"UNRELIABLE {model}:" in out and "zero-width interval" in out.split(f"UNRELIABLE {model}:")[1]
    assert "indistinguishable" in out and "significant:" not in out
    versus = show(tmp_path, *flags, "--compare", "sweeper", BASE).stdout
    assert "separability: 0.0% of 6 model pairs" in versus
    assert "not significant: the interval has zero width" in versus and "significant: sweeper" not in versus


def test_the_csv_shows_each_models_answering_and_judging_cost_and_leaves_unknown_ones_empty(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    write_bench(tmp_path, MIXED, 4, judge="second-judge")  # the same verdicts from a second judge
    costs = tmp_path / "data" / BENCH / "costs"

    def cost_file(path: Path, usd) -> None:  # the shape gen_answer.py and gen_judgment.py write
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"model": path.stem, "input_tokens": 1, "output_tokens": 1, "cost_usd": usd}))

    cost_file(costs / "answers" / "alpha.json", 0.25)
    cost_file(costs / "answers" / "beta.json", None)  # its entry had no price
    cost_file(costs / "answers" / f"{BASE}.json", 0.125)
    cost_file(costs / "judgments" / JUDGE / "alpha.json", 1.5)
    cost_file(costs / "judgments" / "second-judge" / "alpha.json", 0.75)
    cost_file(costs / "judgments" / JUDGE / "beta.json", 2.0)  # and no file of the second judge

    show(tmp_path, "--csv", "t.csv", "--num-rounds", "20")
    rows = read_csv(tmp_path / "t.csv")
    assert [(rows[m]["answer_cost_usd"], rows[m]["judge_cost_usd"]) for m in ("alpha", "beta", BASE)] == \
        [("0.25", "1.5"), ("", "2.0"), ("0.125", "")]
    show(tmp_path, "--csv", "pooled.csv", "--num-rounds", "20", "--judge-names", JUDGE, "second-judge")
    rows = read_csv(tmp_path / "pooled.csv")
    # both judges' costs of alpha: 1.5 + 0.75; beta's second judge has none, so its judging cost is unknown
    assert (rows["alpha"]["judge_cost_usd"], rows["beta"]["judge_cost_usd"]) == ("2.25", "")


def test_a_cost_file_that_is_not_json_is_named(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    bad = tmp_path / "data" / BENCH / "costs" / "answers" / "alpha.json"
    bad.parent.mkdir(parents=True)
    bad.write_text("{cost_usd: 1")
    line = one_line_error(show(tmp_path, "--csv", "t.csv", "--num-rounds", "20", check=False))
    assert "alpha.json" in line and "not valid JSON" in line
    assert not (tmp_path / "t.csv").exists()
