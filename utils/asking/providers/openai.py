"""OpenAI's Chat Completions API (``api_type: openai``), its Batch API, and how its prompt tokens are counted.

* Requests: ``POST {api_base}/chat/completions`` through the openai SDK's
  ``post`` (``chat.completions.create`` less its walk of the arguments
  against the typed parameters, which renames nothing in these plain dicts
  and was a sixth of the CPU per request). The token limit goes in
  ``max_tokens``, or ``max_completion_tokens`` for reasoning models (those
  with ``reasoning_effort``; ``max_tokens_field`` overrides), which also get
  no temperature from the step. ``response_format`` is sent when asked for.
* Replies: the first choice's content (a list of text parts, as some
  servers send it, is joined); reasoning that servers put beside it
  (``reasoning_content``, ``reasoning``: vLLM, llama.cpp, DeepSeek) or inline
  in a ``<think>`` block is kept apart.
* Batches: the requests are a JSON-lines file, one line per request
  (``custom_id``, ``method``, ``url``, ``body``: the body a direct request
  would send), uploaded with ``files.create(purpose="batch")``; the batch is
  ``batches.create`` over that file; ``batches.retrieve`` tells its status
  and request counts; when it ends, ``files.content`` gives the output file
  (the lines that were answered) and the error file (those that failed, or
  expired unanswered). Limits: 50,000 requests and 200 MB per input file.
  A run stopped while it creates a batch is covered by the intent it wrote
  first (the uploaded file's id, the request digest, which also goes into
  the batch's ``metadata``): the next run lists the newest batches and
  takes the one made from that file (``OpenAIBatches.made_from``).
* Tokens: gpt-4o, gpt-4.1, gpt-4.5, gpt-5 and the o-series use o200k_base,
  older OpenAI models cl100k_base; a model name that is not OpenAI's is
  counted with cl100k_base as an approximation.
"""
from __future__ import annotations

import json
import re
from typing import ClassVar, Iterable

from utils.asking.providers.base import Provider, ReplyParts, openai_usage
from utils.asking.providers.batches import (BatchAPIError, BatchStatus, Creation, LineResult, Warn, call,
                                            first_answers, ignore, known_state, max_requests, retryable_status,
                                            unreadable)
from utils.plumbing.keys import mask

OPENAI_MAX_REQUESTS = 50_000  # requests per input file
OPENAI_MAX_BYTES = 200_000_000  # bytes per input file ("200 MB")
CREATE_ATTEMPTS = 3  # tries at creating a batch from one uploaded file
LISTED_BATCHES = 100  # the newest batches searched for one a lost reply (or a stopped run) had made
DIGEST_KEY = "arena_bench_requests"  # the batch metadata key holding the digest of its request lines
STATES = ("validating", "failed", "in_progress", "finalizing", "completed", "expired", "cancelling", "cancelled")
_LEFT_UNDONE = ("batch_expired", "batch_cancelled")  # error codes of lines a batch did not get to

# Model names OpenAI tokenizes with o200k_base: gpt-4o, gpt-4.1, gpt-4.5, gpt-5 and the o-series (o1, o3, o4-mini)
_O200K_NAMES = re.compile(r"(?:^|[/:_-])(?:chatgpt-4o|gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o[1-9])(?:$|[-_.:])")
_OPENAI_NAMES = re.compile(r"(?:^|[/:_-])(?:chatgpt|gpt-[345]|o[1-9](?:$|[-_.:]))")


class OpenAIBatches:
    """OpenAI's Files and Batch endpoints (the contract: utils/asking/providers/batches.py)."""

    endpoint: ClassVar[str] = "/v1/chat/completions"  # the url of each input line and of the batch
    tags_batches: ClassVar[bool] = True  # the request digest goes into the batch's metadata

    def __init__(self, client):
        self._client = client
        self.max_requests = max_requests(OPENAI_MAX_REQUESTS)
        self.max_bytes = OPENAI_MAX_BYTES

    def line(self, custom_id: str, body: dict) -> bytes:
        """One request as a line of the input file."""
        return (json.dumps({"custom_id": custom_id, "method": "POST", "url": self.endpoint, "body": body},
                           ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")

    async def submit(self, lines: list[bytes], creation: Creation, before_create) -> str:
        """Upload the lines and start a batch over them; returns the batch id.

        The uploaded file's id goes into ``creation`` and the request digest
        into the batch's metadata, so ``made_from`` can find the batch again.
        """
        uploaded = await call("uploading the batch input file", self._client.files.create(
            file=("requests.jsonl", b"".join(lines), "application/jsonl"), purpose="batch"))
        creation.input_file_id = uploaded.id
        await before_create(creation)
        # the SDK would send a create whose reply was lost again, making a second batch that is paid for and
        # never collected: each attempt is ours, and after a failed one the batch made from our file is looked for
        creating = self._client.with_options(max_retries=0).batches
        for attempt in range(CREATE_ATTEMPTS):
            try:
                tag = {"metadata": {DIGEST_KEY: creation.digest}} if self.tags_batches else {}
                batch = await call("creating the batch", creating.create(
                    input_file_id=uploaded.id, endpoint=self.endpoint, completion_window="24h", **tag))
                known_state("creating the batch", getattr(batch, "status", None), STATES)
                return batch.id
            except BatchAPIError:
                try:
                    made = await self.made_from(creation, ())
                except BatchAPIError:
                    made = None
                if made is not None:
                    return made
                if attempt == CREATE_ATTEMPTS - 1:
                    raise
                import asyncio  # loaded by then in any run that sends; show_result's config check needs none of it
                await asyncio.sleep(2.0 ** attempt)
        raise AssertionError("unreachable")

    async def made_from(self, creation: Creation, known: Iterable[str]) -> str | None:
        """The batch made from the creation's input file (or carrying its digest) among the newest
        ``LISTED_BATCHES``, if any.

        Limits: a batch created more than ``LISTED_BATCHES`` batches ago (by
        anyone using the same organisation) is not found; a run killed before
        its upload's reply came back wrote no intent, and its upload is left
        unused (files cost nothing to keep, and expire).
        """
        known = set(known)
        page = await call("listing batches", self._client.batches.list(limit=LISTED_BATCHES))
        with unreadable("listing batches"):
            for batch in page.data:
                metadata = getattr(batch, "metadata", None) or {}
                if batch.id not in known and (getattr(batch, "input_file_id", None) == creation.input_file_id
                                              or metadata.get(DIGEST_KEY) == creation.digest):
                    return batch.id
        return None

    async def check(self, batch_id: str) -> BatchStatus:
        what = f"checking batch {batch_id}"
        batch = await call(what, self._client.batches.retrieve(batch_id))
        state = known_state(what, getattr(batch, "status", None), STATES)
        with unreadable(what):
            counts = batch.request_counts
            return BatchStatus(ended=state in ("completed", "expired", "cancelled", "failed"),
                               state=state, done=getattr(counts, "completed", 0) or 0,
                               failed=getattr(counts, "failed", 0) or 0, total=getattr(counts, "total", 0) or 0,
                               raw=batch)

    async def results(self, status: BatchStatus, custom_ids: Iterable[str], damaged_is_final: bool = True,
                      warn: Warn = ignore) -> dict[str, LineResult]:
        """The result of every request of an ended batch; one it says nothing about is left undone. Lines that
        cannot be read are a BatchAPIError (the files are downloaded again) until ``damaged_is_final``; then
        their requests are left undone."""
        batch = status.raw
        if batch.status == "failed":  # the whole batch was refused (its input did not validate)
            errors = getattr(getattr(batch, "errors", None), "data", None) or []
            why = "; ".join(f"{e.message}" + (f" (line {e.line})" if e.line else "") for e in errors)
            return {cid: LineResult(reason=mask(f"the batch failed: {why or 'no reason given'}")) for cid in custom_ids}

        pairs: list[tuple[str, LineResult]] = []
        unreadable_lines = 0

        async def read(file_id: str) -> None:
            nonlocal unreadable_lines
            content = await self._client.files.content(file_id)
            for raw in content.content.splitlines():
                if not raw.strip():
                    continue
                try:  # one damaged line must not cost the others: its request goes again, as one left undone
                    line = json.loads(raw)
                    pairs.append((line["custom_id"], _result_line(line)))
                except (ValueError, KeyError, TypeError, AttributeError):
                    unreadable_lines += 1
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                await call(f"reading the results of batch {batch.id} (file {file_id})", read(file_id))
        if unreadable_lines and not damaged_is_final:  # a download cut short, more likely than a provider's bad line
            raise BatchAPIError(f"{unreadable_lines} line(s) of the results of batch {batch.id} could not be read")
        found = first_answers(pairs, batch.id, warn)
        undone = f"batch {batch.id} ended ({batch.status}) without answering it" + \
            (f" ({unreadable_lines} line(s) of its result files could not be read)" if unreadable_lines else "")
        return {cid: found.get(cid) or LineResult(reason=undone, retryable=True) for cid in custom_ids}


def _result_line(line: dict) -> LineResult:
    response = line.get("response") or {}
    status = response.get("status_code")
    if status == 200 and isinstance(response.get("body"), dict):
        return LineResult(payload=response["body"])
    error = line.get("error") or {}
    if status is not None:  # the request itself failed, as it would have directly
        body = response.get("body") or {}
        inner = body.get("error", body) if isinstance(body, dict) else body
        message = inner.get("message") if isinstance(inner, dict) else str(inner)
        return LineResult(reason=mask(f"HTTP {status}: {message}"), status=status, retryable=retryable_status(status))
    code = error.get("code") or "error"
    return LineResult(reason=mask(f"{code}: {error.get('message') or 'no message'}"),
                      retryable=code in _LEFT_UNDONE)


def _text_of(content):
    """The text of a message's content: a string, or (as some servers send it) a list of parts whose
    ``{"type": "text", "text": ...}`` ones are joined; anything else is left for the reply's rules to refuse."""
    if not isinstance(content, list):
        return content
    parts = [part if isinstance(part, dict) else vars(part) for part in content if hasattr(part, "__dict__")
             or isinstance(part, dict)]
    return "".join(p["text"] for p in parts if p.get("type") == "text" and isinstance(p.get("text"), str))


class OpenAIProvider(Provider):
    """OpenAI, and anything that speaks its Chat Completions API at the same address shape."""

    api_type = "openai"
    key_variable = "OPENAI_API_KEY"
    entry_keys = frozenset({"reasoning_effort", "max_tokens_field"})
    instead = {"thinking": "thinking is for anthropic models; OpenAI reasoning models take reasoning_effort"}
    takes_response_format = True
    inline_reasoning = True
    batch_api = OpenAIBatches

    def _base_error(self) -> type:
        return self.sdk.OpenAIError

    def client(self, endpoint, http_client, **common):
        return self.sdk.AsyncOpenAI(base_url=endpoint.api_base, http_client=http_client, **common)

    @property
    def token_limit_field(self) -> str:
        """The request field the token limit goes in (OpenAI's reasoning models take only the newer one)."""
        cfg = self.cfg
        if cfg.max_tokens_field:
            return cfg.max_tokens_field
        return "max_completion_tokens" if cfg.reasoning_effort else "max_tokens"

    def sent_settings(self, temperature, max_tokens) -> dict:
        """The model's own entry wins; reasoning models (they reject a temperature) get none from the step."""
        cfg = self.cfg
        if cfg.temperature is not None:
            temperature = cfg.temperature
        elif cfg.reasoning_effort or self.token_limit_field == "max_completion_tokens":
            temperature = None
        return {"temperature": temperature, "max_tokens": cfg.max_tokens or max_tokens}

    def body(self, messages, temperature, max_tokens, response_format) -> dict:
        cfg = self.cfg
        body = {"model": cfg.model_name, "messages": messages}
        if temperature is not None:
            body["temperature"] = temperature
        if max_tokens is not None:
            body[self.token_limit_field] = max_tokens
        if cfg.reasoning_effort:
            body["reasoning_effort"] = cfg.reasoning_effort
        if response_format is not None:
            body["response_format"] = response_format
        return {**body, **cfg.extra_body}

    async def send(self, client, body):
        return await client.post("/chat/completions", body=body, cast_to=self.sdk.types.chat.ChatCompletion)

    def read(self, response) -> ReplyParts:
        if not getattr(response, "choices", None):
            raise ValueError("the response has no choices")
        choice = response.choices[0]
        message = choice.message
        # not in the SDK's types: servers add them beside the content, and the SDK keeps unknown fields
        reasoning = getattr(message, "reasoning_content", None) or getattr(message, "reasoning", None)
        return ReplyParts(text=_text_of(message.content), reasoning=reasoning, usage=openai_usage(response.usage),
                          finish_reason=choice.finish_reason, served_model=getattr(response, "model", None),
                          fingerprint=getattr(response, "system_fingerprint", None))

    def batch_response(self, payload):
        return self.sdk.types.chat.ChatCompletion.construct(**payload)

    def encoding(self) -> tuple[str, bool]:
        names = (self.cfg.model_name.lower(), self.cfg.name.lower())
        if any(_O200K_NAMES.search(n) for n in names):
            return "o200k_base", True
        return "cl100k_base", any(_OPENAI_NAMES.search(n) for n in names)
