"""How a judge behaved: per judge and model, missing labels, ties, position consistency and position bias.

Computed from every stored judgment of a file after the run, with the counts
of the model's answers that failed each answer check (utils/vocabulary/answer_checks.py,
found when the run was planned), written to
``<bench>/model_judgment/<judge>/diagnostics.json`` (docs/design.md#diagnostics;
models judged in earlier runs keep their entry) and printed as a table.
"""
from __future__ import annotations

import json
from pathlib import Path

from utils.vocabulary.answer_checks import ALL_CHECKS
from utils.asking.jobs import Job
from utils.plumbing.names import diagnostics_file
from utils.plumbing.store import atomic_write
from utils.vocabulary.verdicts import TIE, WINNER_A, label_verdict

def diagnostics(records: list[dict]) -> dict:
    """How a judge behaved on one model's judgments (both layouts, as stored).

    * ``missing_share``: games without a usable label, over all games played
      (a null game, whose request failed, is left out of every figure);
    * ``tie_rate``: ties over games with a label;
    * ``position_consistency``: over questions whose two games both have a
      label, the share where they name the same winner once game 2 is
      un-swapped (a judge that always prefers the first answer scores 0);
    * ``first_position_share``: decisive games won by whichever answer was
      shown first (0.5 for a judge without position bias).
    """
    games = missing = ties = decisive = first_won = both = agree = 0
    for rec in records:
        outcomes = []
        for g, game in enumerate((rec.get("games") or [])[:2]):
            if game is None:  # not played (its request failed): nothing the judge did
                continue
            games += 1
            label = game.get("score") if isinstance(game, dict) else None
            verdict = label_verdict(g, label)
            outcomes.append(None if verdict is None else verdict[0])
            if verdict is None:
                missing += 1
                continue
            if verdict[0] == TIE:
                ties += 1
            else:
                decisive += 1
                first_won += label_verdict(0, label)[0] == WINNER_A  # the label says A won, whoever A was
        if len(outcomes) == 2 and None not in outcomes:
            both += 1
            agree += outcomes[0] == outcomes[1]

    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    return {"judgments": len(records), "games": games, "missing_labels": missing,
            "missing_share": share(missing, games), "tie_rate": share(ties, games - missing),
            "position_consistency": share(agree, both), "first_position_share": share(first_won, decisive)}


def write_diagnostics(path: Path, per_model: dict[str, dict]) -> Path:
    atomic_write(path, (json.dumps({"models": per_model}, indent=2) + "\n").encode())  # in diagnostics() order
    return path


def record_diagnostics(jobs: list[Job], data_dir: Path, bench: str) -> dict[str, dict[str, dict]]:
    """Each judgment file's figures after a run, added to its judge's diagnostics.json.

    Returns this run's figures: judge -> model -> ``diagnostics``.
    """
    per_judge: dict[str, dict[str, dict]] = {}
    for job in jobs:
        found = job.checks.diagnostics() if job.checks is not None else {}
        per_judge.setdefault(job.judge, {})[job.model] = {**diagnostics(list(job.store.records.values())), **found}
    for judge, per_model in per_judge.items():
        path = diagnostics_file(data_dir, bench, judge)
        previous = _read_json(path).get("models", {})
        write_diagnostics(path, {**previous, **per_model})  # models judged in earlier runs stay
    return per_judge


def print_diagnostics(per_judge: dict[str, dict[str, dict]]) -> None:
    """One table per judge (stdout): judgments, the shares of ``diagnostics`` as percentages, the answer checks'
    counts."""
    for judge, per_model in per_judge.items():
        print(f"judge diagnostics ({judge}): model | judgments | missing labels | ties | position consistency | "
              "first position wins | answers " + " / ".join(ALL_CHECKS))
        for model, figures in per_model.items():
            shares = (figures[key] for key in ("missing_share", "tie_rate", "position_consistency",
                                               "first_position_share"))
            counts = " / ".join(str(figures.get(check, "n/a")) for check in ALL_CHECKS)
            print(f"  {model} | {figures['judgments']} | " + " | ".join(map(_percent, shares)) + f" | {counts}")


def _percent(share: float | None) -> str:
    return "n/a" if share is None else f"{100 * share:.1f}%"


def _read_json(path: Path) -> dict:
    """An earlier diagnostics.json, or {} when there is none or it cannot be read (it is rewritten whole)."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
