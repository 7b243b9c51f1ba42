"""``--dry-run``: the requests a run would still make, their tokens and what they would cost; nothing sent or written.

The steps plan as for a real run, but load their output files read-only
(``JsonlStore.read``: no lock, no folder, no repair), and hand each job's
requests here as the chat messages they would send. Prompt tokens are
counted with tiktoken on exactly those messages (with the model's own system
prompt, as the client adds it; utils.asking.cost.chat_tokens); completion
tokens are expected from the earlier records of the model (or judge), else
taken as a typical request's, and bounded by max_tokens for the worst case
(utils.asking.cost.expected_output).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Callable

from utils.asking.batching import held_requests, request_parts, state_path
from utils.asking.clients import sent_messages
from utils.asking.cost import chat_tokens, cost_usd, request_encoding
from utils.asking.jobs import Job
from utils.asking.runs import job_lines
from utils.plumbing.entry import ModelConfig


@dataclass
class Estimate:
    """One output file's requests still to make (the JSON output's ``items``)."""
    model: str
    judge: str | None
    requests: int
    input_tokens: int
    output_tokens: int  # expected: requests x the expected output (utils.asking.cost.expected_output)
    output_estimate: str  # what the expected output rests on: "mean of N earlier", "typical judgment: ...", ...
    tokenizer: str
    cost_usd: float | None  # None: the model asked has no price
    batch_cost_usd: float | None
    worst_case_output_tokens: int = 0  # requests x max_tokens: no request writes more
    worst_case_cost_usd: float | None = None
    # judgments only (None for answers): stored judgments found stale (judged again, so among the requests unless
    # --stale keep) and answers made for another question (model's or baseline's: never judged, not requested)
    stale: int | None = None
    mismatched: int | None = None
    assumed: str | None = None  # what the estimate takes for granted for want of a file (None: nothing)

    @property
    def who(self) -> str:
        return f"{self.judge} / {self.model}" if self.judge else self.model


@dataclass
class DryRun:
    items: list[Estimate]
    notes: list[str] = field(default_factory=list)

    def total(self, key: str) -> float | None:
        """The sum of ``key`` over the items; a cost is None when an item with requests has none."""
        values = [getattr(item, key) for item in self.items if item.requests]
        return None if None in values else sum(values)

    def to_json(self) -> dict:
        totals = ("requests", "input_tokens", "output_tokens", "cost_usd", "batch_cost_usd",
                  "worst_case_output_tokens", "worst_case_cost_usd")
        return {**{key: self.total(key) for key in totals}, "items": [asdict(item) for item in self.items],
                "notes": self.notes}

    def render(self, as_json: bool) -> str:
        """What --dry-run prints: one JSON object, or lines for a person."""
        if as_json:
            return json.dumps(self.to_json(), indent=2)
        lines = ["dry run: nothing was sent and nothing was written"]
        lines += [f"{item.who}: {item.requests} request(s), {item.input_tokens:,} tokens in ({item.tokenizer}), "
                  f"~{item.output_tokens:,} out ({item.output_estimate}): {_money(item)}{_checks(item)}"
                  for item in self.items]
        total = Estimate("", None, *(self.total(key) for key in ("requests", "input_tokens", "output_tokens")), "",
                         "", *(self.total(key) for key in ("cost_usd", "batch_cost_usd", "worst_case_output_tokens",
                                                           "worst_case_cost_usd")))
        lines.append(f"total: {total.requests} request(s), {total.input_tokens:,} tokens in, "
                     f"~{total.output_tokens:,} out: {_money(total)}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _checks(item: Estimate) -> str:
    said = [f"{n} {what}" for n, what in ((item.stale, "stale"), (item.mismatched, "mismatched, not judged")) if n]
    said += [f"assumed: {item.assumed}"] if item.assumed else []
    return f" ({'; '.join(said)})" if said else ""


def _money(item: Estimate) -> str:
    worst = f"; worst case {item.worst_case_output_tokens:,} out (max_tokens per request)"
    if item.cost_usd is None:
        return "no price set (tokens only)" + worst
    return f"${item.cost_usd:.4f}, ${item.batch_cost_usd:.4f} as a batch{worst}: ${item.worst_case_cost_usd:.4f}"


def estimate_job(job: Job, cfg: ModelConfig, requests: list[list[dict]]) -> Estimate:
    """A job's estimate from the messages of its requests (``cfg``: the model asked)."""
    encoding = request_encoding(cfg)[0]
    input_tokens = sum(chat_tokens([sent_messages(cfg, messages) for messages in requests], encoding))
    guess = job.output_guess
    output_tokens, worst = round(guess.tokens * len(requests)), guess.bound * len(requests)
    price = cfg.price

    def usd(output: float, batch: bool = False) -> float | None:
        return None if price is None else cost_usd(input_tokens, output, price, batch)
    return Estimate(model=job.model, judge=job.judge, requests=len(requests), input_tokens=input_tokens,
                    output_tokens=output_tokens, output_estimate=guess.basis, tokenizer=encoding,
                    cost_usd=usd(output_tokens), batch_cost_usd=usd(output_tokens, batch=True),
                    worst_case_output_tokens=worst, worst_case_cost_usd=usd(worst))


def dry_run(jobs: list[Job], models: dict[str, ModelConfig], requests_of: Callable[[Any], list[list[dict]]],
            notes: list[str], max_cost: float | None = None,
            checks_of: Callable[[Job], dict[str, int]] | None = None) -> DryRun:
    """Every job's estimate; ``requests_of(item)`` gives the messages of an item's requests, ``notes`` the step's,
    ``checks_of(job)`` a judgment file's ``stale`` and ``mismatched`` counts."""
    held = [held_requests(job.store.path) for job in jobs]
    waiting = [0] * len(jobs)

    def to_send(index: int, item) -> list[list[dict]]:  # a request an earlier run's batch holds is collected
        sent = []
        for request, part in zip(requests_of(item), request_parts(item)):
            if held[index][item.uid, part] > 0:
                held[index][item.uid, part] -= 1
                waiting[index] += 1
            else:
                sent.append(request)
        return sent
    items = [estimate_job(job, models[job.asks], [r for item in job.todo for r in to_send(i, item)])
             for i, job in enumerate(jobs)]
    if checks_of is not None:
        for item, job in zip(items, jobs):
            counts = checks_of(job)
            item.stale, item.mismatched = counts["stale"], counts["mismatched"]
    result = DryRun(items, list(notes))
    for job, count in zip(jobs, waiting):
        if count:
            result.notes.append(f"{job.who}: {count} request(s) are in provider batches listed in "
                                f"{state_path(job.store.path)}: the run collects them (paid for when submitted), "
                                "not counted")
    for job in jobs:  # questions left out for want of an answer to compare, as the run would say
        result.notes += [f"{job.who}: {line.strip()}" for line in job_lines(job, "judgment")[1:]]
    asked = list(dict.fromkeys(job.asks for job in jobs))
    approximate = [name for name in asked if not request_encoding(models[name])[1]]
    if approximate:
        result.notes.append(f"{', '.join(approximate)}: not an OpenAI model; its tokens are counted with "
                            "cl100k_base, an approximation of its own tokenizer")
    typical = [item.who for item in result.items if item.requests and not item.output_estimate.startswith("mean")]
    if typical:
        result.notes.append(f"{', '.join(typical)}: no earlier records with usage, so output tokens are a typical "
                            "request's (a reasoning model writes more); the worst case is max_tokens per request")
    result.notes.append("prompt tokens are counted in OpenAI's chat format: 3 tokens per message and 3 per reply "
                        "on top of the texts")
    total = result.total("cost_usd")
    if max_cost is not None and total is not None:
        result.notes.append(f"--max-cost ${max_cost:g}: the estimate is {'within' if total <= max_cost else 'over'}"
                            " the cap")
    return result
