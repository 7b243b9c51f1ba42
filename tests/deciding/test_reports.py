"""What a --until-decided run says: games the judge left without a label, its cost against the cap, its JSON.

A question without any labelled game scores 50 for that model (docs/deciding.md#per-question-score), so a
model the judge never labels still gets a score, and can be called better or worse on no evidence: the
run must say how many games have no label, and warn when a model's share is large.
"""
from __future__ import annotations

import json
import re

from tests.deciding.scripted_bench import A, B, PRICE, ROUND, SEED, USAGE, judged_model, show_compare, which_game
from tests.helpers import gen_judgment, stored_judgments
from tests.scripted_server import Answer, Status

DECIDE = ["--until-decided", A, B, "--round-size", ROUND, "--seed", SEED]


def test_games_without_a_label_are_counted_each_round_and_a_large_share_is_warned_about(
        tmp_path, scripted_server, bench):
    scripted_server.rules = [  # m-one: never a label; m-two: the baseline wins both games strongly
        (lambda r: judged_model(r) == A, Answer("Both answers have merit.", usage=USAGE)),
        (lambda r: which_game(r) == 1, Answer("[[A>>B]]", usage=USAGE)),
        (lambda r: True, Answer("[[B>>A]]", usage=USAGE))]
    proc = gen_judgment([*bench, *DECIDE])
    assert proc.returncode == 10, proc.stdout + proc.stderr
    rounds = [line for line in proc.stdout.splitlines() if line.startswith("round ")]
    games = ROUND * 2 * 2  # questions x models x games, one judge
    assert rounds and all(line.endswith(f"; {games // 2} of the round's {games} games have no label")
                          for line in rounds), rounds
    warnings = [line for line in proc.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1, proc.stdout
    assert f"100% of {A}'s " in warnings[0] and "games have no label" in warnings[0]
    assert "python -m utils.check_answers" in warnings[0]
    assert "diagnostics" in warnings[0]


def test_show_result_compare_repeats_the_warning_beside_the_interval(tmp_path, scripted_server, bench):
    scripted_server.rules = [  # m-one: its first game never labelled, the second (m-one shown first) won strongly;
        # m-two: the baseline wins both games strongly
        (lambda r: judged_model(r) == A and which_game(r) == 1, Answer("Both answers have merit.", usage=USAGE)),
        (lambda r: which_game(r) == 1 or judged_model(r) == A, Answer("[[A>>B]]", usage=USAGE)),
        (lambda r: True, Answer("[[B>>A]]", usage=USAGE))]
    proc = gen_judgment([*bench, *DECIDE])
    assert proc.returncode == 10, proc.stdout + proc.stderr
    warnings = [line for line in proc.stdout.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1 and f"50% of {A}'s " in warnings[0], proc.stdout

    shown = show_compare(tmp_path, A, B)  # the same interval, which must not come without the same warning
    assert shown.returncode == 0, shown.stdout + shown.stderr
    assert "from gen_judgment.py --until-decided" in shown.stdout
    assert warnings[0] in shown.stdout.splitlines(), shown.stdout


def test_a_run_with_every_game_labelled_says_nothing_of_labels(tmp_path, scripted_server, bench):
    proc = gen_judgment([*bench, *DECIDE])
    assert proc.returncode == 10
    assert "no label" not in proc.stdout and "warning:" not in proc.stdout


def test_the_cost_cap_lines_give_the_runs_total_against_the_users_cap(tmp_path, scripted_server, bench):
    api = tmp_path / "api.yaml"
    api.write_text(api.read_text().replace("  max_retries: 1\n", "  max_retries: 1\n" + PRICE))
    proc = gen_judgment([*bench, *DECIDE, "--max-cost", "0.1"])
    assert proc.returncode == 3, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    caps = re.findall(r"of (?:--max-cost )?\$([\d.]+)", out)
    assert caps and set(caps) == {"0.1"}, out
    games = sum(g is not None for model in (A, B) for r in stored_judgments(tmp_path, model) for g in r["games"])
    assert f"spent ${games * 0.0028:.4f} of --max-cost $0.1" in out


def test_a_failed_round_points_at_no_interval_and_json_gives_no_cost_when_unpriced(
        tmp_path, scripted_server, bench):
    scripted_server.rules = [(lambda r: True, Status(400, message="scripted refusal"))]
    proc = gen_judgment([*bench, *DECIDE, "--json"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "shows this interval" not in proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["rounds"] == [] and summary["cost_usd"] is None, summary


def test_json_reason_says_why_it_stopped_without_repeating_the_decision(tmp_path, scripted_server, bench):
    proc = gen_judgment([*bench, *DECIDE, "--json"])
    assert proc.returncode == 10
    summary = json.loads(proc.stdout)
    assert summary["decision"] == "A better" and summary["reason"] == "the interval lies above 0", summary
    assert summary["cost_usd"] is None, "a judge without a price: the cost is unknown, not 0"
