"""What a rating method is, and the registry the methods put themselves in.

A method is one class in one module of this package, registered with
``@rating_method``: its name (show_result's ``--method``), its defaults (the
benchmark, judge, baseline and interval level of the tool it reproduces), the
benchmarks it is the default for, the flags that mean nothing to it, what it
reads (``reads``: a utils.ranking.run.ReadRequest), how it computes
(``compute``: the run's boards, the categories it could not score, the judges'
agreement) and what it saves beside the tables (``save``). Its boards carry
their own footer, CSV precision and unit (utils.ranking.results.Leaderboard),
so the tables and the report show any method's boards alike.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from utils.plumbing.errors import InputError, known_names
from utils.plumbing.forked import StagedWrite
from utils.ranking.judges import JudgeAgreement, configured_families
from utils.ranking.judgments import DEFAULT_PATTERNS, JudgmentRecords
from utils.ranking.missing import MissingCategory
from utils.ranking.results import Leaderboard
from utils.ranking.run import ReadRequest, RunData
from utils.ranking.settings import RunSettings

Warn = Callable[[str], None]
DEFAULT_ENDPOINT_FILE = "config/api_config.yaml"  # where the models' families are looked up without --endpoint-file


@dataclass
class Outcome:
    """What a method computed for one run."""
    boards: list[Leaderboard]  # one table, or one per category
    missing: list[MissingCategory] = field(default_factory=list)  # categories it could not score, and why
    agreement: JudgeAgreement | None = None  # with several judges: how they agree
    # the battles file, written since the battles were counted (v0.1); save() finishes it, a failed run discards it
    battles_writing: StagedWrite | None = None


class RatingMethod:
    """The contract of a rating method; the subclasses in this package fill it in."""
    name: str = ""  # show_result.py --method
    title: str = ""  # the tool it reproduces, in words
    defaults: RunSettings = RunSettings()  # the tool's own: benchmark, judge, baseline ("": one per category), level
    bench_prefix: str = ""  # it is the default method of the benchmarks whose names start with this
    refused_flags: tuple[str, ...] = ()  # flags of another method that mean nothing here
    baseline_help: str = ""  # what --baseline means here

    def reads(self, settings: RunSettings, args: argparse.Namespace) -> ReadRequest:
        """What the run must read for ``settings`` and the outputs ``args`` ask for."""
        raise NotImplementedError

    def compute(self, run: RunData, settings: RunSettings, args: argparse.Namespace, warn: Warn) -> Outcome:
        """The boards of the run, flagged with the findings about its judgments; warnings go to ``warn``."""
        raise NotImplementedError

    def game_units(self, records: JudgmentRecords, weight: int) -> tuple[np.ndarray, np.ndarray]:
        """(share, count), each (records, 2): per record and game, the model's share of the game (1 a win, 0.5 a
        tie, 0 a loss) and how many units the method counts it for (0: not at all). A question's score when
        deciding between two models (utils/deciding/scores.py) is the count-weighted mean share of its games."""
        raise NotImplementedError

    def save(self, outcome: Outcome, run: RunData, args: argparse.Namespace, warn: Warn) -> None:
        """Files the method keeps beside the tables (announced on stdout); none by default."""

    def settings(self, args: argparse.Namespace, config) -> RunSettings:
        """The run settings the flags ask for (``config``: the --setting-file judge config, or None)."""
        style = "style" if args.style_control else "length" if args.length_control_only else \
            "markdown" if args.markdown_control_only else None
        judges = args.judge_names or ([args.judge_name] if config is None or "judge_name" in args.given
                                      else list(config.judge_models))
        twice = [judge for judge in dict.fromkeys(judges) if judges.count(judge) > 1]
        if twice:
            raise InputError(f"names {twice[0]} twice: each judge's verdicts count once", key="--judge-names")
        return RunSettings(bench=args.bench_name, judges=tuple(judges), baseline=self.baseline_of(args, config),
                           weight=args.weight, first_game_only=args.first_game_only,
                           style=style, rounds=args.num_rounds, confidence=args.confidence, seed=args.seed,
                           bootstrap_unit=args.bootstrap_unit, poisson=args.resampling == "poisson",
                           categories=tuple(args.category or ()), rating_method=self.name)

    def baseline_of(self, args: argparse.Namespace, config) -> str:
        """The one baseline of the run ("" when each category has its own)."""
        return ""


_METHODS: dict[str, RatingMethod] = {}


def rating_method(cls: type[RatingMethod]) -> type[RatingMethod]:
    """Register a method under its name (a class decorator): show_result offers every registered method."""
    if cls.name in _METHODS:
        raise ValueError(f"two rating methods are named {cls.name!r}")
    _METHODS[cls.name] = cls()
    return cls


def registered() -> dict[str, RatingMethod]:
    """name -> method, in the order they were registered."""
    return dict(_METHODS)


def check_compared(compare: list[str] | None, known: list[str]) -> None:
    """Before the bootstrap: both models of --compare have counted verdicts."""
    for model in compare or ():
        if model not in known:
            raise InputError(f"model {model!r} has no counted verdict here ({known_names(model, known)})",
                             key="--compare")


def families(args: argparse.Namespace, warn: Warn) -> dict[str, str]:
    """Entry name -> family of the --endpoint-file (or the default api_config.yaml when it is there)."""
    return configured_families(args.endpoint_file or DEFAULT_ENDPOINT_FILE, bool(args.endpoint_file), warn)


def label_patterns(config, judges: tuple[str, ...]) -> Callable[[int, str], tuple[str, ...]] | None:
    """(judge number, category) -> the label patterns its judging used, to read each stored label again from its
    judge text: the --setting-file judge config's for the judges it names, else the default pattern (None: the
    default for every judge, without a config)."""
    if config is None:
        return None
    configured, known = set(config.judge_models), {}

    def patterns(judge: int, category: str) -> tuple[str, ...]:
        if judges[judge] not in configured:
            return DEFAULT_PATTERNS
        if category not in known:
            known[category] = tuple(config.prompt_for(category).regex_patterns) or DEFAULT_PATTERNS
        return known[category]
    return patterns
