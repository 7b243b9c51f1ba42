"""``verify --rejudge N``: ask the recorded judge N of the bundle's games again, twice, to tell made-up labels from
judge noise.

A judge does not always give the same label to the same game, so a label
that does not come back proves nothing alone. Each sampled game is played
twice more through gen_judgment's drift check (utils/asking/drift.py: same
sample, same prompts, nothing stored), giving three labels per game: the
recorded one R and two new ones A and B. If R was given by this judge, the
three are exchangeable draws, so R is as likely as B to be the one that
differs from the other two. Counting the games where R alone differs (r)
and where B alone differs (b), a one-sided sign test gives the chance of
at least r such games under honest labels; below SIGNIFICANCE the check
differs. A judge that says the same thing every time (b = 0) makes every
changed label count.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from utils.asking.drift import Drift, drift_check
from utils.bundles.checks import DIFFERS, OK, Check
from utils.bundles.manifest import DATA
from utils.plumbing.config import JudgeSettings, load_api_config
from utils.plumbing.errors import InputError
from utils.vocabulary.records import Answer, Question
from utils.vocabulary.verdicts import label_verdict

SIGNIFICANCE = 0.05


def odd_one_out_p(recorded_alone: int, new_alone: int) -> float:
    """P(at least ``recorded_alone`` of the games where one label stands alone are the recorded label's), when
    each such game is the recorded label's with probability 1/2 (a one-sided sign test)."""
    n = recorded_alone + new_alone
    return sum(math.comb(n, k) for k in range(recorded_alone, n + 1)) / 2 ** n


@dataclass
class Replayed:
    """Three labels of each game compared: recorded, and two new ones."""
    games: int = 0
    came_back: int = 0  # the first new label is the recorded one's verdict
    noise: int = 0  # the two new labels differ
    recorded_alone: int = 0
    new_alone: int = 0
    failed: int = 0  # games whose request failed in either round: not compared
    failure: str = ""  # why the first of them failed

    @property
    def p_value(self) -> float:
        return odd_one_out_p(self.recorded_alone, self.new_alone)


def line_up(first: Drift, second: Drift, out: Replayed) -> None:
    """Add the games both drift checks of one judge compared to ``out``."""
    out.failed += first.drawn - len(set(first.labels) & set(second.labels))
    out.failure = out.failure or first.failure or second.failure
    for key, (recorded, a) in first.labels.items():
        if key not in second.labels:
            continue
        g = key[2]
        r, a, b = label_verdict(g, recorded), label_verdict(g, a), label_verdict(g, second.labels[key][1])
        out.games += 1
        out.came_back += r == a
        out.noise += a != b
        out.recorded_alone += r != a and a == b
        out.new_alone += r == a and a != b


def rejudge_check(settings: JudgeSettings, root: Path, questions: list[Question],
                  answers: dict[str, dict[str, Answer]], recorded_names: dict[str, set[str]], endpoint_file: Path,
                  n: int) -> Check:
    """Re-ask ``n`` sampled games of each judge twice (their entries in ``endpoint_file``, whose model_name must be
    one the judgments record, ``recorded_names``), and compare the three labels of each game."""
    judges = load_api_config(endpoint_file, list(settings.judge_models), wanted_from="--rejudge")
    for name, cfg in judges.items():
        if recorded_names.get(name) and cfg.model_name not in recorded_names[name]:
            raise InputError(f"entry {name!r} asks for model {cfg.model_name!r}, but the bundle's judgments were "
                             f"made by {', '.join(sorted(recorded_names[name]))}: re-judging would ask another "
                             "model", endpoint_file, key=name)
    out = Replayed()
    rounds = [drift_check(settings, judges, questions, answers, root / DATA, n) for _ in range(2)]
    for first, second in zip(*rounds):
        line_up(first, second, out)
    failed = f"; {out.failed} not compared (their requests failed)" if out.failed else ""
    if not out.games and out.failed:
        why = f" (the first: {out.failure})" if out.failure else ""
        return Check("rejudge", DIFFERS, f"cannot be checked: no game could be asked again{failed}{why}")
    if not out.games:  # nothing drawn: no stored game can be played again as it was recorded
        return Check("rejudge", DIFFERS, "cannot be checked: none of the bundle's games can be played again as "
                     "recorded")
    told = (f"{out.games} games asked twice of {', '.join(settings.judge_models)}: the recorded label came back "
            f"{out.came_back} times, the two new labels disagreed {out.noise} times; the recorded label alone "
            f"differed in {out.recorded_alone}, a new one alone in {out.new_alone} (p = {out.p_value:.3g}){failed}")
    if out.p_value < SIGNIFICANCE:
        return Check("rejudge", DIFFERS, "the recorded labels differ from this judge's more than the judge differs "
                     f"from itself: {told}")
    return Check("rejudge", OK, told)
