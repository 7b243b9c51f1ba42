"""The small file a --until-decided run keeps beside the judgments: what it did, so it can be done again.

``data/<bench>/decisions/<judges>/<A>__vs__<B>.json`` (utils.plumbing.names.decision_file)
holds the procedure (seed, order, scope, level, margin, round size), the
order itself with its sampling weights, each category's baseline, the rating
method and weight that define a question's score, and the rounds seen with
their intervals. It is written before the first request and after every
round (atomically: a killed run leaves the old file or the new one), so
show_result.py can recompute the same sequence from the stored judgments,
and a second run of the same command resumes where the first stopped.

A second run must decide the same way: a different seed, order, scope,
level, margin, rating method or question list is refused, because choosing
them after seeing rounds would void the guarantee. The round size may change
(the sequence follows every question; looking more often costs nothing).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from utils.deciding.flags import Procedure
from utils.plumbing.errors import InputError
from utils.plumbing.store import atomic_write

VERSION = 1
# what a second run must repeat, as the state file names them
FIXED = ("seed", "order", "scope", "alpha", "margin")


@dataclass
class Look:
    """What the sequence said after a number of questions of the order."""
    judged: int
    estimate: float  # points
    lower: float
    upper: float
    decision: str  # a utils.ranking.sequential.Decision's value
    cost_usd: float | None = None  # spent so far by this run (None: unknown, a judge without a price)


@dataclass
class DecisionState:
    models: tuple[str, str]
    judges: tuple[str, ...]
    method: str  # the rating method whose unit a question's score is (utils.ranking.methods)
    weight: int  # how many units a strong verdict counts
    procedure: Procedure
    order: list[str]  # question ids, in judging order
    weights: list[float] | None  # the sampling weights in judging order (--order informative), else None
    baselines: dict[str, str]  # question category -> its baseline
    rounds: list[Look] = field(default_factory=list)
    stopped: str = ""  # why the run stopped ("": it has not yet)

    def to_json(self) -> dict:
        return {"version": VERSION, "models": list(self.models), "judges": list(self.judges), "method": self.method,
                "weight": self.weight, **asdict(self.procedure), "level": self.procedure.level,
                "order_ids": self.order, "weights": self.weights, "baselines": self.baselines,
                "rounds": [asdict(r) for r in self.rounds], "stopped": self.stopped}


def write_state(path: Path, state: DecisionState) -> None:
    atomic_write(path, (json.dumps(state.to_json(), indent=1) + "\n").encode())


def read_state(path: Path) -> DecisionState | None:
    """The state file at ``path``, None when there is none; an InputError naming the key when it is malformed."""
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid JSON ({err}); delete it to start the decision again", path) from None
    key = None
    try:
        key = "version"
        if doc[key] != VERSION:
            raise ValueError(f"version {doc[key]!r}, this tool writes {VERSION}")
        procedure = Procedure(**{k: doc[(key := k)] for k in ("seed", "order", "scope", "alpha", "margin",
                                                               "round_size")})
        key = "rounds"
        rounds = [Look(**r) for r in doc[key]]
        return DecisionState(tuple(doc[(key := "models")]), tuple(doc[(key := "judges")]), doc[(key := "method")],
                             int(doc[(key := "weight")]), procedure, list(doc[(key := "order_ids")]),
                             doc[(key := "weights")], dict(doc[(key := "baselines")]), rounds,
                             str(doc.get("stopped", "")))
    except (KeyError, TypeError, ValueError) as err:
        raise InputError(f"not a decision state file ({err}); delete it to start the decision again", path,
                         key=key) from None


def check_repeated(stored: DecisionState, new: DecisionState, path: Path) -> None:
    """A second run of a decision decides as the first did: the same procedure, method and questions."""
    for key in FIXED:
        was, now = getattr(stored.procedure, key), getattr(new.procedure, key)
        if was != now:
            raise InputError(f"this decision was started with {key} {was!r}, not {now!r}: changing it after seeing "
                             "rounds voids the guarantee (delete the file to start a new decision)", path, key=key)
    for key, was, now in (("method", stored.method, new.method), ("weight", stored.weight, new.weight),
                          ("baselines", stored.baselines, new.baselines)):
        if was != now:
            raise InputError(f"this decision was started with {key} {was!r}, not {now!r} (delete the file to start "
                             "a new decision)", path, key=key)
    if sorted(stored.order) != sorted(new.order):
        raise InputError("the benchmark's questions changed since this decision started (delete the file to start "
                         "a new decision)", path, key="order_ids")
