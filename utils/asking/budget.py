"""``--max-cost``: this run's spending, and the requests it lets go.

Each request first asks the ``Budget``: a request is sent while this run's
spending (the usage of the replies, at the model's price) plus the estimate
of the requests in flight (their prompt tokens counted with tiktoken, plus
the completion tokens expected of the job) is below the cap. When it is not,
the request waits for those in flight, and once none is left it is not sent.
Counted tokens can fall short of what the provider bills (another
tokenizer, hidden prompt parts, reasoning tokens): until a reply of a model
has come back, its requests are not calibrated, and one such request goes
alone, with no other request of any model in flight (the cap is one budget:
several models starting at once would otherwise each send a request whose
cost is unknown). Requests of calibrated models then go as the cap allows,
with their estimates scaled up by how far their own replies' costs exceeded
their estimates (never down); a calibration waiting holds them back, so it
is not starved. The run so stops within about one request of the cap, however
many models and requests in flight. A reply without usage is charged at its
estimate.
A request that continues a conversation already paid for (a later turn, a
judge asked to finish) is always sent. A batch is paid for as a whole once
submitted, so a capped run sends nothing through one (checked before the
first request, like the prices).
"""
from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass

from utils.asking.clients import ModelClient, sent_messages
from utils.asking.cost import chat_tokens, cost_usd, request_encoding, usage_tokens
from utils.asking.providers.base import Reply, RequestFailed
from utils.plumbing.entry import ModelConfig
from utils.plumbing.errors import InputError


@dataclass(frozen=True)
class _Admission:
    """What ``Budget.admit`` let one request go with: the estimate it reserved, and whether it calibrates."""
    reserved: float
    calibrating: bool


@dataclass
class _Meter:
    """One model's requests under the cap: how many are in flight, and how their costs compare with estimates."""
    in_flight: int = 0
    replied: bool = False  # whether one came back with a reply (until then: one at a time)
    billed: float = 0.0  # cost of the replies with usage, and what they had been estimated at
    estimated: float = 0.0

    @property
    def scale(self) -> float:
        """How much more the replies cost than their estimates said (1 until one has, or if none did)."""
        return max(1.0, self.billed / self.estimated) if self.estimated else 1.0


class Budget:
    """This run's spending against ``--max-cost`` (see the module's docstring); used inside the run's loop."""

    NOT_SENT = "not sent: the --max-cost cap was reached"

    def __init__(self, cap: float, spent: float = 0.0):
        self.cap = cap
        # US dollars of the replies received, from ``spent``: what the run had spent before (gen_judgment.py
        # --until-decided judges round after round under one cap), so every line gives the run's total
        self.spent = spent
        self.not_sent = 0  # requests refused
        self.not_sent_said = False  # whether the progress lines have said so
        self._reserved = 0.0  # estimates of the requests in flight
        self._meters: dict[str, _Meter] = {}  # per model
        self._waiting: Counter[str] = Counter()  # per model: requests waiting in ``admit``
        self._calibrating = 0  # requests in flight that will calibrate their model (at most one)
        self._changed: asyncio.Condition | None = None  # made in the loop that uses it
        self._slots: dict[str, asyncio.Semaphore] = {}  # per model: its ``parallel`` (see ``MeteredClient.chat``)

    @property
    def _in_flight(self) -> int:
        return sum(meter.in_flight for meter in self._meters.values())

    async def admit(self, model: str, estimate: float, continuing: bool) -> "_Admission | None":
        """What a request to ``model`` estimated at ``estimate`` USD reserves if it may be sent now, None if it
        may not; it waits while others are in flight (see the module's docstring for who goes when)."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        meter = self._meters.setdefault(model, _Meter())
        async with self._changed:
            self._waiting[model] += 1
            try:
                while not continuing:
                    if self.spent + self._reserved >= self.cap:
                        if not self._in_flight:
                            self.not_sent += 1
                            return None
                    elif meter.replied and not self._calibration_pending():
                        break  # calibrated: goes beside others, but not beside a calibration
                    elif not meter.replied and not self._in_flight:
                        break  # calibrates its model: goes alone
                    await self._changed.wait()
            finally:
                self._waiting[model] -= 1
            admission = _Admission(reserved=estimate * meter.scale, calibrating=not meter.replied and not continuing)
            self._reserved += admission.reserved
            self._calibrating += admission.calibrating
            meter.in_flight += 1
            return admission

    def _calibration_pending(self) -> bool:
        """Whether a request that would calibrate its model is in flight or waiting for its turn."""
        return bool(self._calibrating) or any(n and not self._meters[m].replied for m, n in self._waiting.items())

    async def settle(self, model: str, admission: "_Admission", estimate: float, cost: float | None,
                     billed: bool) -> None:
        """A request ``admission`` let go (estimated at ``estimate``) has ended, having cost ``cost`` (None when it
        failed); ``billed``: the cost comes from the usage the reply reported."""
        meter = self._meters[model]
        async with self._changed:
            meter.in_flight -= 1
            self._calibrating -= admission.calibrating
            self._reserved = self._reserved - admission.reserved if self._in_flight else 0.0  # no rounding left
            self.spent += cost or 0.0
            meter.replied = meter.replied or cost is not None
            if billed and estimate:
                meter.billed += cost
                meter.estimated += estimate
            self._changed.notify_all()

    def plan_line(self, jobs: list, models: dict[str, ModelConfig]) -> str:
        """What a capped run says once before its first request: how the cap meters requests, and why that is
        slower than a run without one."""
        limits = []
        for name in dict.fromkeys(job.asks for job in jobs if job.todo):
            cfg, guess = models[name], next(job.output_guess for job in jobs if job.asks == name)
            output_cost = cost_usd(0, guess.tokens, cfg.price)  # of one request, a lower bound of its cost
            fits = int((self.cap - self.spent) // output_cost) if output_cost else cfg.parallel
            limits.append(f"{name} at most {max(1, min(cfg.parallel, fits))} (parallel {cfg.parallel}; "
                          f"~{guess.tokens:,.0f} output tokens a request: {guess.basis})")
        return (f"--max-cost ${self.cap:g}: each request is priced before it is sent (its prompt tokens counted, "
                "plus the output tokens expected) and goes only while this run's spending plus the requests in "
                "flight stay under the cap. Each model's first request goes alone (no other request of any model in "
                "flight), and its bill calibrates that model's estimates; then as many at once as the rest of the "
                "cap covers: "
                + "; ".join(limits) + ". So a capped run is slower than one without a cap, which sends parallel "
                "requests at once from the start.")

    def metered(self, job, client: ModelClient) -> "MeteredClient":
        """The client one job's requests go through: the model's ``parallel`` slots, shared by all its jobs."""
        slots = self._slots.setdefault(job.asks, asyncio.Semaphore(client.cfg.parallel))
        return MeteredClient(client, slots, self, job.output_guess.tokens if job.output_guess else 0.0)

    def refused(self, error: BaseException | None, progress) -> bool:
        """Whether ``error`` is a request the cap did not let go; the progress lines say so once."""
        if getattr(error, "group", None) != self.NOT_SENT:
            return False
        if not self.not_sent_said:
            self.not_sent_said = True
            progress.say(f"cost cap reached (${self.spent:.4f} of ${self.cap:g}): no more requests are sent")
        return True

    def summary_lines(self) -> list[str]:
        """The run summary's word on the cap: nothing when it did not stop the run."""
        if not self.not_sent:
            return []
        return [f"stopped at the cost cap: spent ${self.spent:.4f} of --max-cost ${self.cap:g}; "
                f"{self.not_sent} request(s) not sent. Everything received is stored: run again (with a higher "
                "cap, or none) to ask for the rest"]


class MeteredClient:
    """A model's client as one job's requests see it under --max-cost: each request asks the ``Budget`` first.

    A request not admitted fails with ``Budget.NOT_SENT`` as its group, which
    the runner counts apart from failures.
    """

    def __init__(self, client: ModelClient, slots: asyncio.Semaphore, budget: Budget, expected_output: float):
        self.cfg = client.cfg
        self._client = client
        self._slots = slots  # the model's ``parallel``, shared by all its jobs: see ``chat``
        self._budget = budget
        self._expected_output = expected_output
        self._encoding = request_encoding(client.cfg)[0]

    async def chat(self, messages: list[dict], **kwargs) -> Reply:
        price = self.cfg.price
        continuing = any(m.get("role") == "assistant" for m in messages)
        # the budget is asked once the request has its slot, when it would be sent: asked earlier, every request
        # of the run would be admitted at the start against the few estimates reserved by then
        async with self._slots:
            prompt = chat_tokens([sent_messages(self.cfg, messages)], self._encoding)[0]
            estimate = cost_usd(prompt, self._expected_output, price)
            admission = await self._budget.admit(self.cfg.name, estimate, continuing)
            if admission is None:
                raise RequestFailed(Budget.NOT_SENT, group=Budget.NOT_SENT)
            cost, billed = None, False
            try:
                reply = await self._client.chat(messages, **kwargs)
                tokens = usage_tokens(reply.usage)
                billed = any(tokens)
                cost = cost_usd(*tokens, price) if billed else admission.reserved  # no usage: the estimate stands
                return reply
            finally:
                await self._budget.settle(self.cfg.name, admission, estimate, cost, billed)


def check_budget(jobs: list, models: dict[str, ModelConfig], batched: list) -> None:
    """--max-cost counts dollars: every model with requests to make needs a price, and none goes through a
    batch (an InputError otherwise)."""
    unpriced = [name for name in dict.fromkeys(job.asks for job in jobs if job.todo) if models[name].price is None]
    if unpriced:
        raise InputError(f"needs the price of every model it asks; add price: {{input: USD, output: USD}} (per "
                         f"million tokens, from the provider's price page) to the api_config entry of "
                         f"{', '.join(unpriced)}", key="--max-cost")
    if batched:
        raise InputError(f"cannot stop a batch halfway: a batch is paid for as a whole once submitted, and "
                         f"{batched[0].who} would go through one (--batch, batch: true, or batches of an earlier "
                         f"run); see its cost with --dry-run, or run without --max-cost", key="--max-cost")
