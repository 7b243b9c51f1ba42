"""gen_judgment.py's flags for deciding between two models, and the combinations refused before any work.

Flags that only make sense with ``--until-decided`` are refused without it,
and flags of ordinary judging that make no sense with it are refused with
it, each as one line and exit status 2: a flag silently ignored would make
the user believe the run did what it did not.
"""
from __future__ import annotations

import argparse
import math
from dataclasses import dataclass

from utils.plumbing.errors import InputError
from utils.vocabulary.deciding import DEFAULT_ALPHA, DEFAULT_MARGIN, DEFAULT_ROUND

DEFAULT_SEED = 1
ORDERS = ("random", "informative")
SCOPES = ("benchmark", "general")
# the flags' destinations, as the user spells them
_OWN = {"seed": "--seed", "round_size": "--round-size", "margin": "--margin", "level": "--level",
        "alpha": "--alpha", "order": "--order", "scope": "--scope"}


@dataclass(frozen=True)
class Procedure:
    """How a run decides: what the state file records and a later run must repeat."""
    seed: int = DEFAULT_SEED
    order: str = "random"
    scope: str = "benchmark"
    alpha: float = DEFAULT_ALPHA
    margin: float = DEFAULT_MARGIN
    round_size: int = DEFAULT_ROUND

    @property
    def level(self) -> float:
        """The level in percent (95 for alpha 0.05)."""
        return round(100.0 * (1.0 - self.alpha), 10)


def deciding_flags(parser: argparse.ArgumentParser) -> None:
    """Add the flags of --until-decided (every default None, so that a flag given without it can be told)."""
    group = parser.add_argument_group("deciding between two models (docs/deciding.md)")
    group.add_argument("--until-decided", nargs=2, metavar=("A", "B"),
                       help="judge A and B against the baseline in rounds, in a seeded random order, and stop as "
                            "soon as an anytime-valid interval for A - B decides (exit 10 A better, 11 B better, 12 "
                            "equivalent, 13 undecided, 3 --max-cost)")
    group.add_argument("--seed", type=int, help=f"the order's seed (default {DEFAULT_SEED})")
    group.add_argument("--round-size", type=int, metavar="N",
                       help=f"questions per round: both games, every judge, both models (default {DEFAULT_ROUND})")
    group.add_argument("--margin", type=float, metavar="POINTS",
                       help=f"an interval inside +-POINTS is 'equivalent' (default {DEFAULT_MARGIN:g})")
    level = group.add_mutually_exclusive_group()
    level.add_argument("--level", type=float, metavar="PERCENT",
                       help=f"the interval's level (default {100 * (1 - DEFAULT_ALPHA):g})")
    level.add_argument("--alpha", type=float, help="1 - level, as a fraction (0.05 is --level 95)")
    group.add_argument("--order", choices=ORDERS,
                       help="random (default), or informative: drawn with weights from the answers' length gap, "
                            "known before any verdict")
    group.add_argument("--scope", choices=SCOPES,
                       help="benchmark (default): what judging every question would show; general: the models' "
                            "difference beyond this benchmark, slower to decide")


def procedure_of(args: argparse.Namespace) -> Procedure | None:
    """The procedure --until-decided asks for (None without it), every refused combination an InputError."""
    given = [flag for dest, flag in _OWN.items() if getattr(args, dest, None) is not None]
    if not args.until_decided:
        if given:
            raise InputError("only with --until-decided A B", key=given[0])
        return None
    a, b = args.until_decided
    if a == b:
        raise InputError(f"name two different models, got {a!r} twice", key="--until-decided")
    refused = [flag for flag, on in (("--model", bool(args.model)), ("--batch", args.batch),
                                     ("--no-wait", not args.batch_wait), ("--drift-check", args.drift_check),
                                     ("--allow-mismatch", args.allow_mismatch)) if on]
    if refused:  # rounds must be judged whole and at once; the models are the two named
        raise InputError(f"cannot be combined with {', '.join(refused)}: it judges the two models it names, a "
                         "round at a time, directly", key="--until-decided")
    alpha = _alpha(args)
    procedure = Procedure(seed=DEFAULT_SEED if args.seed is None else args.seed, order=args.order or "random",
                          scope=args.scope or "benchmark", alpha=alpha,
                          margin=DEFAULT_MARGIN if args.margin is None else args.margin,
                          round_size=DEFAULT_ROUND if args.round_size is None else args.round_size)
    if not (math.isfinite(procedure.margin) and 0 <= procedure.margin < 100):
        raise InputError(f"must be a number of points in [0, 100), got {procedure.margin:g}", key="--margin")
    if procedure.seed < 0:  # numpy's generators take no negative seed
        raise InputError(f"must be a whole number of at least 0, got {procedure.seed}", key="--seed")
    if procedure.round_size < 1:
        raise InputError(f"must be at least 1, got {procedure.round_size}", key="--round-size")
    if procedure.order == "informative" and procedure.scope == "general":
        raise InputError("--order informative needs --scope benchmark: its weights are undone over the benchmark's "
                         "questions", key="--order")
    return procedure


def _alpha(args: argparse.Namespace) -> float:
    if args.level is not None:
        if not 50 <= args.level < 100:
            raise InputError(f"must be a percentage in [50, 100), got {args.level:g}", key="--level")
        return round(1.0 - args.level / 100.0, 12)
    if args.alpha is not None:
        if not 0 < args.alpha <= 0.5:
            raise InputError(f"must be a fraction in (0, 0.5], got {args.alpha:g}", key="--alpha")
        return args.alpha
    return DEFAULT_ALPHA
