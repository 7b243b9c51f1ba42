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
* Tokens: Anthropic's tokenizer is not available offline; prompts are
  counted with cl100k_base, an approximation.
"""
from __future__ import annotations

import json
from typing import Iterable

from utils.asking.providers.base import Provider, ReplyParts, openai_usage
from utils.asking.providers.batches import BatchStatus, LineResult, call, max_requests, unreadable
from utils.plumbing.keys import mask

ANTHROPIC_MAX_REQUESTS = 100_000  # requests per Message Batch
ANTHROPIC_MAX_BYTES = 256_000_000  # bytes per Message Batch ("256 MB")
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

    async def submit(self, lines: list[bytes]) -> str:
        batch = await call("creating the message batch",
                           self._client.messages.batches.create(requests=[json.loads(line) for line in lines]))
        return batch.id

    async def check(self, batch_id: str) -> BatchStatus:
        what = f"checking message batch {batch_id}"
        batch = await call(what, self._client.messages.batches.retrieve(batch_id))
        with unreadable(what):
            counts = batch.request_counts
            failed = counts.errored + counts.canceled + counts.expired
            return BatchStatus(ended=batch.processing_status == "ended", state=batch.processing_status,
                               done=counts.succeeded, failed=failed,
                               total=counts.processing + counts.succeeded + failed, raw=batch)

    async def results(self, status: BatchStatus, custom_ids: Iterable[str],
                      damaged_is_final: bool = True) -> dict[str, LineResult]:
        batch_id = status.raw.id
        found: dict[str, LineResult] = {}

        async def read() -> None:
            async for entry in await self._client.messages.batches.results(batch_id):
                found[entry.custom_id] = _result_line(entry.result)
        await call(f"reading the results of message batch {batch_id}", read())
        undone = f"message batch {batch_id} ended without a result for it"
        return {cid: found.get(cid) or LineResult(reason=undone, retryable=True) for cid in custom_ids}


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
