"""Anthropic's Messages API (``api_type: anthropic``) and its Message Batches.

* Requests: ``POST {api_base}/v1/messages``. The system prompt is a field of
  its own, not a message; ``max_tokens`` is always sent (the step's, else
  4096); a temperature only when the entry sets one (current Claude models
  take no sampling settings); extended thinking is ``thinking: {type:
  enabled, budget_tokens}`` from the entry's ``thinking``. No
  ``response_format``: structured verdicts fall back to the label patterns.
* Replies: the text blocks joined; ``thinking`` blocks are the reasoning
  (a ``redacted_thinking`` block is encrypted, so only the fact that the
  model thought there is kept). Usage comes as ``input_tokens`` /
  ``output_tokens`` and is stored under OpenAI's names.
* Batches: ``messages.batches.create`` takes the requests (``custom_id`` and
  ``params``, a Messages request body); ``retrieve`` tells
  ``processing_status`` and counts; ``results`` streams one line per request:
  succeeded, errored, canceled or expired. Limits: 100,000 requests or
  256 MB per batch.
* A run stopped while it creates a batch: the intent written first holds
  the time, the request count and the custom ids, but no id the provider
  keeps (a Message Batch takes no metadata, and nothing is uploaded first).
  The next run lists the newest ``LISTED_BATCHES`` message batches and takes
  the one created within ``CLOCK_SKEW`` before to ``CREATION_WINDOW`` after
  the intent with as many requests; one that has ended must also hold
  exactly the intent's custom ids. Limits: a batch of the same size created
  in that window by something else using the same workspace, still running,
  is taken for ours if it is the only candidate (its results then answer
  none of our custom ids, so our requests are asked again); two or more
  candidates still running cannot be told apart, and the requests wait for
  a later run; a batch more than ``LISTED_BATCHES`` batches back is not
  found, and its requests are paid for again.
* Tokens: Anthropic's tokenizer is not available offline; prompts are
  counted with cl100k_base, an approximation.
"""
from __future__ import annotations

import json
from typing import Iterable

from utils.asking.providers.base import Provider, ReplyParts, openai_usage
from utils.asking.providers.batches import (BatchAPIError, BatchStatus, Creation, LineResult, Warn, call,
                                            first_answers, ignore, known_state, max_requests, unreadable)
from utils.plumbing.keys import mask

ANTHROPIC_MAX_REQUESTS = 100_000  # requests per Message Batch
ANTHROPIC_MAX_BYTES = 256_000_000  # bytes per Message Batch ("256 MB")
STATES = ("in_progress", "canceling", "ended")  # a Message Batch's processing_status
LISTED_BATCHES = 100  # the newest message batches searched for one a stopped run was creating
CLOCK_SKEW = 300.0  # seconds the provider's clock may be behind ours
CREATION_WINDOW = 3600.0  # seconds after the intent was written within which its batch can have been created
DEFAULT_MAX_TOKENS = 4096  # Anthropic requires a token limit: this one when neither the entry nor the step sets it
_RETRIED_ERRORS = ("api_error", "overloaded_error", "rate_limit_error", "timeout_error")
_THINK_WITH = "Anthropic models think with thinking: {budget_tokens: N}"


class AnthropicBatches:
    """Anthropic's Message Batches (the contract: utils/asking/providers/batches.py)."""

    def __init__(self, client):
        self._client = client
        self.max_requests = max_requests(ANTHROPIC_MAX_REQUESTS)
        self.max_bytes = ANTHROPIC_MAX_BYTES

    @staticmethod
    def line(custom_id: str, params: dict) -> bytes:
        """One request as it goes out inside the batch (its size counts against the limit)."""
        return json.dumps({"custom_id": custom_id, "params": params},
                          ensure_ascii=False).encode("utf-8", "surrogatepass")

    async def submit(self, lines: list[bytes], creation: Creation, before_create) -> str:
        await before_create(creation)
        batch = await call("creating the message batch",
                           self._client.messages.batches.create(requests=[json.loads(line) for line in lines]))
        known_state("creating the message batch", getattr(batch, "processing_status", None), STATES)
        return batch.id

    async def made_from(self, creation: Creation, known: Iterable[str]) -> str | None:
        """The message batch an interrupted creation made, if any: see the module's docstring for how it is told
        and what that cannot tell."""
        known = set(known)
        what = "listing message batches"
        page = await call(what, self._client.messages.batches.list(limit=LISTED_BATCHES))
        with unreadable(what):
            candidates = [batch for batch in page.data if batch.id not in known
                          and _total(batch.request_counts) == len(creation.requests)
                          and -CLOCK_SKEW <= batch.created_at.timestamp() - creation.started <= CREATION_WINDOW]
        ours = []
        for batch in candidates:
            if batch.processing_status != "ended" or await self._custom_ids(batch.id) == set(creation.requests):
                ours.append(batch)
        if len(ours) > 1:
            raise BatchAPIError(f"{len(ours)} message batches of {len(creation.requests)} requests were created "
                                "then, and which one is this run's shows only once they have ended")
        return ours[0].id if ours else None

    async def _custom_ids(self, batch_id: str) -> set[str]:
        ids: set[str] = set()

        async def read() -> None:
            async for entry in await self._client.messages.batches.results(batch_id):
                ids.add(entry.custom_id)
        await call(f"reading the results of message batch {batch_id}", read())
        return ids

    async def check(self, batch_id: str) -> BatchStatus:
        what = f"checking message batch {batch_id}"
        batch = await call(what, self._client.messages.batches.retrieve(batch_id))
        state = known_state(what, getattr(batch, "processing_status", None), STATES)
        with unreadable(what):
            counts = batch.request_counts
            failed = counts.errored + counts.canceled + counts.expired
            return BatchStatus(ended=state == "ended", state=state, done=counts.succeeded, failed=failed,
                               total=_total(counts), raw=batch)

    async def results(self, status: BatchStatus, custom_ids: Iterable[str], damaged_is_final: bool = True,
                      warn: Warn = ignore) -> dict[str, LineResult]:
        batch_id = status.raw.id
        pairs: list[tuple[str, LineResult]] = []

        async def read() -> None:
            async for entry in await self._client.messages.batches.results(batch_id):
                pairs.append((entry.custom_id, _result_line(entry.result)))
        await call(f"reading the results of message batch {batch_id}", read())
        found = first_answers(pairs, batch_id, warn)
        undone = f"message batch {batch_id} ended without a result for it"
        return {cid: found.get(cid) or LineResult(reason=undone, retryable=True) for cid in custom_ids}


def _total(counts) -> int:
    return counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired


def _result_line(result) -> LineResult:
    if result.type == "succeeded":
        return LineResult(payload=result.message)
    if result.type == "errored":
        inner = getattr(result.error, "error", None)
        kind = getattr(inner, "type", "error")
        return LineResult(reason=mask(f"{kind}: {getattr(inner, 'message', '')}"),
                          retryable=kind in _RETRIED_ERRORS)
    return LineResult(reason=f"{result.type} before it was processed", retryable=True)  # canceled, expired


class AnthropicProvider(Provider):
    api_type = "anthropic"
    key_variable = "ANTHROPIC_API_KEY"
    entry_keys = frozenset({"thinking"})
    instead = {key: f"{key} is for openai and azure models; {_THINK_WITH}"
               for key in ("reasoning_effort", "max_tokens_field")}
    sdk_name = "anthropic"
    batch_api = AnthropicBatches

    @classmethod
    def entry_problem(cls, raw: dict, thinking_budget: int | None) -> tuple[str, str] | None:
        if thinking_budget is None:
            return None
        if raw.get("temperature") is not None:
            return "temperature", "Anthropic models take no temperature while thinking; remove one of the two"
        max_tokens = raw.get("max_tokens")
        if isinstance(max_tokens, int) and max_tokens <= thinking_budget:
            return "max_tokens", (f"max_tokens ({max_tokens}) must exceed thinking.budget_tokens ({thinking_budget}): "
                                  "the answer comes out of what the thinking leaves")
        return None

    def _base_error(self) -> type:
        return self.sdk.AnthropicError

    def client(self, endpoint, http_client, **common):
        return self.sdk.AsyncAnthropic(base_url=endpoint.api_base, http_client=http_client, **common)

    def sent_settings(self, temperature, max_tokens) -> dict:
        """A temperature only from the model's own entry; a token limit always."""
        cfg = self.cfg
        return {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens or max_tokens or DEFAULT_MAX_TOKENS}

    def body(self, messages, temperature, max_tokens, response_format) -> dict:
        """A Messages request; ``response_format`` is not taken (the caller never passes one)."""
        cfg = self.cfg
        system = [m["content"] for m in messages if m["role"] == "system"]
        body = {"model": cfg.model_name, "messages": [m for m in messages if m["role"] != "system"],
                "max_tokens": max_tokens}
        if system:
            body["system"] = "\n\n".join(system)
        extra = dict(cfg.extra_body)
        if temperature is not None:
            extra["temperature"] = temperature
        if cfg.thinking_budget is not None:
            extra["thinking"] = {"type": "enabled", "budget_tokens": cfg.thinking_budget}
        return {**body, **extra}

    async def send(self, client, body):
        # what ``messages.create`` posts, without its walk of the typed arguments (as for OpenAI)
        return await client.post("/v1/messages", body=body, cast_to=self.sdk.types.Message)

    def read(self, response) -> ReplyParts:
        text = "".join(block.text for block in response.content if getattr(block, "type", "") == "text")
        thoughts = [getattr(block, "thinking", "") if block.type == "thinking" else "[redacted thinking]"
                    for block in response.content if getattr(block, "type", "") in ("thinking", "redacted_thinking")]
        return ReplyParts(text=text, reasoning="\n\n".join(t for t in thoughts if t),
                          usage=openai_usage(response.usage), finish_reason=response.stop_reason,
                          served_model=getattr(response, "model", None))
