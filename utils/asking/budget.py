"""``--max-cost``: this run's spending, and the requests it lets go.

Each request first asks the ``Budget``: a request is sent while this run's
spending (the usage of the replies, at the model's price) plus the estimate
of the requests in flight (their prompt tokens counted with tiktoken, plus
the completion tokens expected of the job) is below the cap. When it is not,
the request waits for those in flight, and once none is left it is not sent.
Counted tokens can fall short of what the provider bills (another
tokenizer, hidden prompt parts): until a reply has shown the real cost, one
request goes at a time, and every estimate is then scaled up by how far the
replies' costs exceeded their estimates (never down).
A request that continues a conversation already paid for (a later turn, a
judge asked to finish) is always sent. A batch is paid for as a whole once
submitted, so a capped run sends nothing through one (checked before the
first request, like the prices).
"""
from __future__ import annotations

import asyncio

from utils.asking.clients import ModelClient, Reply, RequestFailed, sent_messages
from utils.asking.cost import chat_tokens, cost_usd, request_encoding, usage_tokens
from utils.config import ModelConfig
from utils.errors import InputError


class Budget:
    """This run's spending against ``--max-cost`` (see the module's docstring); used inside the run's loop."""

    NOT_SENT = "not sent: the --max-cost cap was reached"

    def __init__(self, cap: float):
        self.cap = cap
        self.spent = 0.0  # US dollars of the replies received
        self.not_sent = 0  # requests refused
        self.not_sent_said = False  # whether the progress lines have said so
        self._reserved = 0.0  # estimates of the requests in flight
        self._in_flight = 0
        self._replied = False  # whether a request has come back with a reply (until then: one at a time)
        self._billed = 0.0  # cost of the replies with usage so far, and what they had been estimated at
        self._estimated = 0.0
        self._changed: asyncio.Condition | None = None  # made in the loop that uses it
        self._slots: dict[str, asyncio.Semaphore] = {}  # per model: its ``parallel`` (see ``MeteredClient.chat``)

    @property
    def _scale(self) -> float:
        """How much more the replies cost than their estimates said (1 until one has, or if none did)."""
        return max(1.0, self._billed / self._estimated) if self._estimated else 1.0

    async def admit(self, estimate: float, continuing: bool) -> float | None:
        """What a request estimated at ``estimate`` USD reserves if it may be sent now, None if it may not; it
        waits while others are in flight."""
        if self._changed is None:
            self._changed = asyncio.Condition()
        async with self._changed:
            while not continuing:
                over = self.spent + self._reserved >= self.cap
                if not over and (self._replied or not self._in_flight):
                    break
                if not self._in_flight:
                    self.not_sent += 1
                    return None
                await self._changed.wait()
            reserved = estimate * self._scale
            self._reserved += reserved
            self._in_flight += 1
            return reserved

    async def settle(self, reserved: float, estimate: float, cost: float | None) -> None:
        """A request admitted with ``reserved`` (estimated at ``estimate``) has ended, having cost ``cost`` (0 when
        its reply reported no usage, None when it failed)."""
        async with self._changed:
            self._in_flight -= 1
            self._reserved = self._reserved - reserved if self._in_flight else 0.0  # no rounding left behind
            self.spent += cost or 0.0
            self._replied = self._replied or cost is not None
            if cost and estimate:
                self._billed += cost
                self._estimated += estimate
            self._changed.notify_all()

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
            reserved = await self._budget.admit(estimate, continuing)
            if reserved is None:
                raise RequestFailed(Budget.NOT_SENT, group=Budget.NOT_SENT)
            cost = None
            try:
                reply = await self._client.chat(messages, **kwargs)
                cost = cost_usd(*usage_tokens(reply.usage), price)
                return reply
            finally:
                await self._budget.settle(reserved, estimate, cost)


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
