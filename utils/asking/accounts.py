"""What each output file's records cost: counted after a run, kept beside the data, printed, read by show_result.

After gen_answer.py or gen_judgment.py, every answer or judgment file of the
run is tallied (utils.asking.cost.Tally: tokens in and out, the part sent as
a batch) over all its records, and over what this run stored in it. The
totals go to one small JSON file per file, outside the folders whose
``*.jsonl`` files are read as answers or judgments (utils.plumbing.names:
``costs/answers/<model>.json``, ``costs/judgments/<judge>/<model>.json``),
holding the tokens, the price used and ``cost_usd`` (null without a price).
show_result.py reads ``cost_usd`` back for its CSV and report.
"""
from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

from utils.asking.cost import Tally, tally_answers, tally_judgments
from utils.asking.jobs import Job
from utils.plumbing.entry import ModelConfig, Price
from utils.plumbing.errors import InputError
from utils.plumbing.names import answer_cost_file, judgment_cost_file
from utils.plumbing.store import atomic_write


@dataclass
class FileCost:
    """One output file's cost: all its records, and what this run stored in it."""
    model: str
    judge: str | None  # None: an answer file
    price: Price | None
    total: Tally
    added: Tally
    path: Path | None = None  # the cost file, once written

    @property
    def who(self) -> str:
        return f"{self.judge} / {self.model}" if self.judge else self.model

    def to_json(self) -> dict:
        return {"model": self.model, "judge": self.judge, **asdict(self.total),
                "price": None if self.price is None else asdict(self.price), "cost_usd": self.total.cost(self.price)}


def tally_job(job: Job) -> Tally:
    """The tally of a job's file as its store holds it now."""
    records = job.store.records.values()
    return tally_judgments(records) if job.judge else tally_answers(records)


def tally_added(job: Job) -> Tally:
    """What this run paid for in a job's file: its records not there before, but of a judgment that took the
    place of an earlier one only the games it did not keep from it (a re-judged one is all new, a completed
    one adds its missing game)."""
    if not job.judge:  # an answer is never replaced
        return tally_answers(r for uid, r in job.store.records.items() if r is not job.held.get(uid))
    played = []
    for uid, record in job.store.records.items():
        earlier = job.held.get(uid)
        if record is earlier:
            continue
        kept = {id(g) for g in (earlier or {}).get("games") or [] if isinstance(g, dict)}
        played.append({**record, "games": [None if id(g) in kept else g for g in record.get("games") or []]})
    return tally_judgments(played)


def record_costs(jobs: list[Job], models: dict[str, ModelConfig], data_dir: Path, bench: str) -> list[FileCost]:
    """Tally every file of a finished run and write its cost file; ``models`` has the price of each job's asker."""
    costs = []
    for job in jobs:
        total = tally_job(job)
        cost = FileCost(model=job.model, judge=job.judge, price=models[job.asks].price, total=total,
                        added=tally_added(job))
        path = judgment_cost_file(data_dir, bench, job.judge, job.model) if job.judge else \
            answer_cost_file(data_dir, bench, job.model)
        try:
            atomic_write(path, (json.dumps(cost.to_json(), indent=2) + "\n").encode(), durable=False)  # derivable
            cost.path = path
        except OSError as err:  # the answers are safe; the next run tallies them again
            print(f"warning: {path}: could not write the cost file ({err.strerror or err}); the next run writes it",
                  file=sys.stderr)
        costs.append(cost)
    return costs


def _usd(tally: Tally, price: Price | None) -> str:
    return "no price set" if price is None else f"${tally.cost(price):.4f}"


def _tokens(tally: Tally, unit: str) -> str:
    text = f"{tally.records} {unit}(s), {tally.input_tokens:,} tokens in, {tally.output_tokens:,} out"
    if tally.batch_records:
        text += f" ({tally.batch_records} sent as a batch)"
    return text


def cost_lines(costs: list[FileCost], unit: str) -> list[str]:
    """The run summary's cost of each file: all its ``unit`` records, then what this run stored."""
    lines = []
    for cost in costs:
        line = f"{cost.who}: cost of {_tokens(cost.total, unit)}: {_usd(cost.total, cost.price)}"
        if cost.added == cost.total:  # said twice, the same numbers read like a double count
            line += ", all stored by this run"
        else:
            line += f"; this run stored {_tokens(cost.added, unit)}: {_usd(cost.added, cost.price)}"
        if cost.total.without_usage:
            line += (f"; {cost.total.without_usage} {'game' if cost.judge else 'answer'}(s) stored without usage "
                     "are not counted")
        lines.append(line)
    return lines


# ---------------------------------------------------------------- read back (show_result)


def read_cost_usd(path: Path) -> float | None:
    """``cost_usd`` of one cost file; None when there is no file or it has no price."""
    if not path.is_file():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid JSON ({err})", path) from None
    except OSError as err:
        raise InputError(f"cannot read the file ({err.strerror or err})", path) from None
    value = doc.get("cost_usd") if isinstance(doc, dict) else None
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
        raise InputError(f"expected a number or null, got {value!r}", path, key="cost_usd")
    return value


def model_costs(data_dir: Path | str, bench: str, judges, models) -> dict[str, dict[str, float | None]]:
    """model -> ``answer_cost_usd`` and ``judge_cost_usd`` (summed over ``judges``), None where unknown.

    A judging cost is known only when every judge's cost file of the model has
    one: a sum with a judge left out would look complete and be too low.
    """
    out = {}
    for model in models:
        try:
            judged = [read_cost_usd(judgment_cost_file(data_dir, bench, judge, model)) for judge in judges]
            answered = read_cost_usd(answer_cost_file(data_dir, bench, model))
        except InputError as err:
            if err.path is not None:  # a cost file that is not one: named
                raise
            judged, answered = [None], None  # a name no file can have (from another tool's records): no costs
        out[model] = {"answer_cost_usd": answered, "judge_cost_usd": None if None in judged else sum(judged)}
    return out
