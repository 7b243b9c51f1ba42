"""The small file a --until-decided run keeps beside the judgments: what it did, so it can be done again.

``data/<bench>/decisions/<judges>/<A>+vs+<B>.json`` (utils.plumbing.names.decision_file:
one file per pair, whichever way round it is named) holds the two models as
the last run named them (its rounds are that A - B), the procedure (seed,
order, scope, level, margin, round size), the order itself with its sampling
weights, each category's baseline, the rating method and weight that define
a question's score, and the rounds seen with their intervals. It is written before the first request and after every
round (atomically: a killed run leaves the old file or the new one), so
show_result.py can recompute the same sequence from the stored judgments,
and a second run of the same command resumes where the first stopped.

A second run must decide the same way: a different seed, order, scope,
level, margin, rating method or question list is refused, because choosing
them after seeing rounds would void the guarantee. The round size may change
(the sequence follows every question; looking more often costs nothing).
The file is also checked against itself and the run when read: values of the
kinds this tool writes, the order its seed (and weights) draw, the models and
judges the run names; anything else is a hand edit, refused as bad input.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

from utils.deciding.flags import ORDERS, SCOPES, Procedure
from utils.deciding.order import is_drawn
from utils.plumbing.errors import InputError
from utils.plumbing.store import atomic_write
from utils.ranking.sequential import Decision

VERSION = 2  # 2: the order drawn over the sorted question ids, the file named by the sorted pair
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
    spent: float | None = 0.0  # what this run has spent (None: unknown, a judge without a price); not stored

    def to_json(self) -> dict:
        return {"version": VERSION, "models": list(self.models), "judges": list(self.judges), "method": self.method,
                "weight": self.weight, **asdict(self.procedure), "level": self.procedure.level,
                "order_ids": self.order, "weights": self.weights, "baselines": self.baselines,
                "rounds": [asdict(r) for r in self.rounds], "stopped": self.stopped}


def write_state(path: Path, state: DecisionState) -> None:
    atomic_write(path, (json.dumps(state.to_json(), indent=1) + "\n").encode())


def read_state(path: Path) -> DecisionState | None:
    """The state file at ``path``, None when there is none; an InputError naming the key when it is not what
    this tool writes, values of the wrong kind or an order its seed does not draw (a hand-edited file)."""
    if not path.exists():
        return None
    if not path.is_file():
        raise InputError("is not a file, but a decision's state file belongs here: remove it to start the decision "
                         "again", path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid JSON ({err}); delete it to start the decision again", path) from None
    if not isinstance(doc, dict):
        raise InputError("not a decision state file (its JSON is not a mapping of the decision's keys); delete it to "
                         "start the decision again", path)
    for key, (ok, what) in _FIELDS.items():
        if key not in doc:
            raise InputError(f"missing: not a decision state file as this tool writes it; {_AGAIN}", path, key=key)
        if not ok(doc[key]):
            raise InputError(f"must be {what}, got {_shown(doc[key])}; {_AGAIN}", path, key=key)
    procedure = Procedure(**{k: doc[k] for k in ("seed", "order", "scope", "alpha", "margin", "round_size")})
    weights = _weights(doc, path)
    if not is_drawn(doc["order_ids"], procedure.seed, weights):
        raise InputError(f"not the order seed {procedure.seed} draws{' with these weights' if weights else ''}: the "
                         f"file was edited; {_AGAIN}", path, key="order_ids")
    rounds = [Look(**{k: r[k] for k in _ROUND_KEYS}) for r in doc["rounds"]]
    return DecisionState(tuple(doc["models"]), tuple(doc["judges"]), doc["method"], doc["weight"], procedure,
                         list(doc["order_ids"]), weights, dict(doc["baselines"]), rounds, doc["stopped"])


_AGAIN = "delete it to start the decision again"


def _whole(value: object, least: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= least


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _names(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(x, str) and x for x in value) \
        and len(set(value)) == len(value)


_ROUND_KEYS = ("judged", "estimate", "lower", "upper", "decision", "cost_usd")


def _round(value: object) -> bool:
    return isinstance(value, dict) and all(k in value for k in _ROUND_KEYS) and _whole(value["judged"], 0) \
        and all(_number(value[k]) for k in ("estimate", "lower", "upper")) \
        and value["decision"] in [d.value for d in Decision] \
        and (value["cost_usd"] is None or _number(value["cost_usd"]))


# what each key of a state file must hold (the test, and what the message says it must be); "weights" apart
_FIELDS = {
    "version": (lambda v: v == VERSION, f"{VERSION}, the version this tool writes"),
    "models": (lambda v: _names(v) and len(v) == 2, "the two models' names"),
    "judges": (_names, "the judges' names"),
    "method": (lambda v: isinstance(v, str), "a rating method's name"),
    "weight": (lambda v: _whole(v, 1), "a whole number of at least 1"),
    "seed": (lambda v: _whole(v, 0), "a whole number of at least 0"),
    "order": (lambda v: isinstance(v, str) and v in ORDERS, " or ".join(ORDERS)),
    "scope": (lambda v: isinstance(v, str) and v in SCOPES, " or ".join(SCOPES)),
    "alpha": (lambda v: _number(v) and 0 < v <= 0.5, "a fraction in (0, 0.5]"),
    "margin": (lambda v: _number(v) and 0 <= v < 100, "a number of points in [0, 100)"),
    "round_size": (lambda v: _whole(v, 1), "a whole number of at least 1"),
    "order_ids": (_names, "the question ids, each once, in judging order"),
    "baselines": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
                  "each category's baseline"),
    "rounds": (lambda v: isinstance(v, list) and all(_round(r) for r in v),
               "a list of rounds, each with " + ", ".join(_ROUND_KEYS)),
    "stopped": (lambda v: isinstance(v, str), "why the run stopped, as text"),
}


def _weights(doc: dict, path: Path) -> list[float] | None:
    """The order's sampling weights: none for a random order, one positive number per question for a weighted one."""
    value = doc.get("weights")
    if doc["order"] == "random":
        if value is not None:
            raise InputError(f"must be null for a random order, got {_shown(value)}; {_AGAIN}", path, key="weights")
        return None
    if not (isinstance(value, list) and len(value) == len(doc["order_ids"])
            and all(_number(w) and w > 0 for w in value)):
        raise InputError(f"must be one positive number per question of order_ids ({len(doc['order_ids'])}), got "
                         f"{_shown(value)}; {_AGAIN}", path, key="weights")
    return [float(w) for w in value]


def _shown(value: object) -> str:
    """A value of the file as the message quotes it: its JSON, cut short."""
    text = json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_belongs(state: DecisionState, models: tuple[str, str], judges, path: Path) -> None:
    """The state file found for ``models`` and ``judges`` is theirs (its name says so; its content must too)."""
    if sorted(state.models) != sorted(models):
        raise InputError(f"names the models {' and '.join(state.models)}, not {' and '.join(models)}: the file was "
                         f"edited; {_AGAIN}", path, key="models")
    if sorted(state.judges) != sorted(judges):
        raise InputError(f"names the judges {', '.join(state.judges)}, not {', '.join(judges)}: the file was "
                         f"edited; {_AGAIN}", path, key="judges")


def check_repeated(stored: DecisionState, new: DecisionState, path: Path) -> None:
    """A second run of a decision decides as the first did: the same procedure, method and questions."""
    check_belongs(stored, new.models, new.judges, path)
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
    changed = questions_changed(stored, new.order)
    if changed:
        raise InputError(f"{changed} (delete the file to start a new decision)", path, key="order_ids")


def questions_changed(state: DecisionState, uids) -> str | None:
    """What is wrong when the benchmark's questions ``uids`` are not the ones the decision is about, else None."""
    if sorted(state.order) == sorted(uids):
        return None
    return f"the benchmark's questions changed since this decision started ({len(state.order)} then, {len(uids)} now)"
