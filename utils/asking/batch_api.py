"""The providers' batch endpoints: submit many requests at once, see how far they are, read their results.

* OpenAI (and Azure OpenAI): the requests are a JSON-lines file, one line per
  request (``custom_id``, ``method``, ``url``, ``body``: the body a direct
  request would send), uploaded with ``files.create(purpose="batch")``; the
  batch is ``batches.create`` over that file; ``batches.retrieve`` tells its
  status and request counts; when it ends, ``files.content`` gives the output
  file (the lines that were answered) and the error file (those that failed,
  or expired unanswered).
* Anthropic: Message Batches. ``messages.batches.create`` takes the requests
  (``custom_id`` and ``params``, a Messages request body); ``retrieve`` tells
  ``processing_status`` and counts; ``results`` streams one line per request:
  succeeded, errored, canceled or expired.

Each provider limits a batch (OpenAI: 50,000 requests and 200 MB per input
file; Anthropic: 100,000 requests or 256 MB per batch); ``chunks`` splits a
run's requests to fit. The limits are constants; a test may lower the
request count with ``ARENA_TEST_BATCH_MAX_REQUESTS`` (read here, for tests
only) to see a run split without making 50,000 requests.

Everything here speaks through the official SDKs' batch methods, with the SDK
client (and so the retries, timeouts and key) of the model's endpoint. An
error is a ``BatchAPIError`` with a reason safe to print (keys masked).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from utils.asking.clients import error_message
from utils.plumbing.keys import mask

OPENAI_MAX_REQUESTS = 50_000  # requests per input file
OPENAI_MAX_BYTES = 200_000_000  # bytes per input file ("200 MB")
ANTHROPIC_MAX_REQUESTS = 100_000  # requests per Message Batch
ANTHROPIC_MAX_BYTES = 256_000_000  # bytes per Message Batch ("256 MB")
CREATE_ATTEMPTS = 3  # tries at creating an OpenAI batch from one uploaded file
LISTED_BATCHES = 100  # the newest batches searched for one a lost reply had made
_TEST_MAX_REQUESTS = os.environ.get("ARENA_TEST_BATCH_MAX_REQUESTS")  # tests only: see the module's docstring

RETRIED_STATUSES = (408, 409, 429)  # and 5xx: what the SDKs retry on a direct request
_RETRIED_ANTHROPIC_ERRORS = ("api_error", "overloaded_error", "rate_limit_error", "timeout_error")
_OPENAI_LEFT_UNDONE = ("batch_expired", "batch_cancelled")  # error codes of lines a batch did not get to


class BatchAPIError(Exception):
    """A batch endpoint refused or failed; ``reason`` is safe to print."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class LineResult:
    """What a batch gave for one request: the provider's response (``payload``), or why there is none."""
    payload: Any = None  # OpenAI: the ChatCompletion body (a dict); Anthropic: the Message
    reason: str = ""
    status: int | None = None  # the HTTP status of a failed request, when the provider gave one
    retryable: bool = False  # sending it again may well work (expired, canceled, 429, 5xx)
    group: str | None = None  # shared with other requests (RequestFailed.group): the run summary says it once

    @property
    def ok(self) -> bool:
        return self.payload is not None


@dataclass
class BatchStatus:
    """One look at a batch: whether it has ended, the provider's word for its state, and its request counts."""
    ended: bool
    state: str
    done: int = 0  # requests answered so far
    failed: int = 0  # requests that failed, expired or were canceled (so far)
    total: int = 0
    raw: Any = None  # the provider's batch object, for reading the results


def retryable_status(status: int | None) -> bool:
    return status is not None and (status in RETRIED_STATUSES or status >= 500)


def chunks(sizes: list[int], max_requests: int, max_bytes: int) -> list[list[int]]:
    """Split requests (their sizes in bytes, in order) into runs of at most ``max_requests`` requests and
    ``max_bytes`` bytes; returns the indices of each run. A request larger than ``max_bytes`` alone is left
    out (no batch can take it)."""
    runs: list[list[int]] = []
    current: list[int] = []
    used = 0
    for i, size in enumerate(sizes):
        if size > max_bytes:
            continue
        if current and (len(current) >= max_requests or used + size > max_bytes):
            runs.append(current)
            current, used = [], 0
        current.append(i)
        used += size
    if current:
        runs.append(current)
    return runs


class OpenAIBatches:
    """The batch endpoints of OpenAI, or of Azure OpenAI (whose lines name the deployment as the model)."""

    def __init__(self, client, azure: bool):
        self._client = client
        # Azure's batch input lines and batch endpoint are its own chat completions path
        self.endpoint = "/chat/completions" if azure else "/v1/chat/completions"
        self.max_requests = int(_TEST_MAX_REQUESTS or OPENAI_MAX_REQUESTS)
        self.max_bytes = OPENAI_MAX_BYTES

    def line(self, custom_id: str, body: dict) -> bytes:
        """One request as a line of the input file."""
        return (json.dumps({"custom_id": custom_id, "method": "POST", "url": self.endpoint, "body": body},
                           ensure_ascii=False) + "\n").encode("utf-8", "surrogatepass")

    async def submit(self, lines: list[bytes]) -> str:
        """Upload the lines and start a batch over them; returns the batch id."""
        uploaded = await _call("uploading the batch input file", self._client.files.create(
            file=("requests.jsonl", b"".join(lines), "application/jsonl"), purpose="batch"))
        # the SDK would send a create whose reply was lost again, making a second batch that is paid for and
        # never collected: each attempt is ours, and after a failed one the batch made from our file is looked for
        creating = self._client.with_options(max_retries=0).batches
        for attempt in range(CREATE_ATTEMPTS):
            try:
                batch = await _call("creating the batch", creating.create(
                    input_file_id=uploaded.id, endpoint=self.endpoint, completion_window="24h"))
                return batch.id
            except BatchAPIError:
                made = await self._made_from(uploaded.id)
                if made is not None:
                    return made
                if attempt == CREATE_ATTEMPTS - 1:
                    raise
                await asyncio.sleep(2.0 ** attempt)
        raise AssertionError("unreachable")

    async def _made_from(self, file_id: str) -> str | None:
        """The id of a batch made from input file ``file_id`` among the newest ones, if any."""
        try:
            page = await _call("listing batches", self._client.batches.list(limit=LISTED_BATCHES))
            return next((b.id for b in page.data if getattr(b, "input_file_id", None) == file_id), None)
        except (BatchAPIError, AttributeError, TypeError):
            return None

    async def check(self, batch_id: str) -> BatchStatus:
        what = f"checking batch {batch_id}"
        batch = await _call(what, self._client.batches.retrieve(batch_id))
        with _unreadable(what):
            counts = batch.request_counts
            return BatchStatus(ended=batch.status in ("completed", "expired", "cancelled", "failed"),
                               state=batch.status, done=getattr(counts, "completed", 0) or 0,
                               failed=getattr(counts, "failed", 0) or 0, total=getattr(counts, "total", 0) or 0,
                               raw=batch)

    async def results(self, status: BatchStatus, custom_ids: Iterable[str],
                      damaged_is_final: bool = True) -> dict[str, LineResult]:
        """The result of every request of an ended batch; one it says nothing about is left undone. Lines that
        cannot be read are a BatchAPIError (the files are downloaded again) until ``damaged_is_final``; then
        their requests are left undone."""
        batch = status.raw
        found: dict[str, LineResult] = {}
        if batch.status == "failed":  # the whole batch was refused (its input did not validate)
            errors = getattr(getattr(batch, "errors", None), "data", None) or []
            why = "; ".join(f"{e.message}" + (f" (line {e.line})" if e.line else "") for e in errors)
            return {cid: LineResult(reason=mask(f"the batch failed: {why or 'no reason given'}")) for cid in custom_ids}

        unreadable = 0

        async def read(file_id: str) -> None:
            nonlocal unreadable
            content = await self._client.files.content(file_id)
            for raw in content.content.splitlines():
                if not raw.strip():
                    continue
                try:  # one damaged line must not cost the others: its request goes again, as one left undone
                    line = json.loads(raw)
                    found[line["custom_id"]] = _openai_line(line)
                except (ValueError, KeyError, TypeError, AttributeError):
                    unreadable += 1
        for file_id in (batch.output_file_id, batch.error_file_id):
            if file_id:
                await _call(f"reading the results of batch {batch.id} (file {file_id})", read(file_id))
        if unreadable and not damaged_is_final:  # a download cut short, more likely than a provider's bad line
            raise BatchAPIError(f"{unreadable} line(s) of the results of batch {batch.id} could not be read")
        undone = f"batch {batch.id} ended ({batch.status}) without answering it" + \
            (f" ({unreadable} line(s) of its result files could not be read)" if unreadable else "")
        return {cid: found.get(cid) or LineResult(reason=undone, retryable=True) for cid in custom_ids}


def _openai_line(line: dict) -> LineResult:
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
                      retryable=code in _OPENAI_LEFT_UNDONE)


class AnthropicBatches:
    """Anthropic's Message Batches."""

    def __init__(self, client):
        self._client = client
        self.max_requests = int(_TEST_MAX_REQUESTS or ANTHROPIC_MAX_REQUESTS)
        self.max_bytes = ANTHROPIC_MAX_BYTES

    @staticmethod
    def line(custom_id: str, params: dict) -> bytes:
        """One request as it goes out inside the batch (its size counts against the limit)."""
        return json.dumps({"custom_id": custom_id, "params": params},
                          ensure_ascii=False).encode("utf-8", "surrogatepass")

    async def submit(self, lines: list[bytes]) -> str:
        batch = await _call("creating the message batch",
                            self._client.messages.batches.create(requests=[json.loads(line) for line in lines]))
        return batch.id

    async def check(self, batch_id: str) -> BatchStatus:
        what = f"checking message batch {batch_id}"
        batch = await _call(what, self._client.messages.batches.retrieve(batch_id))
        with _unreadable(what):
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
                found[entry.custom_id] = _anthropic_line(entry.result)
        await _call(f"reading the results of message batch {batch_id}", read())
        undone = f"message batch {batch_id} ended without a result for it"
        return {cid: found.get(cid) or LineResult(reason=undone, retryable=True) for cid in custom_ids}


def _anthropic_line(result) -> LineResult:
    if result.type == "succeeded":
        return LineResult(payload=result.message)
    if result.type == "errored":
        inner = getattr(result.error, "error", None)
        kind = getattr(inner, "type", "error")
        return LineResult(reason=mask(f"{kind}: {getattr(inner, 'message', '')}"),
                          retryable=kind in _RETRIED_ANTHROPIC_ERRORS)
    return LineResult(reason=f"{result.type} before it was processed", retryable=True)  # canceled, expired


@contextlib.contextmanager
def _unreadable(what: str) -> Iterator[None]:
    """A provider's reply that is not the object its API promises (a proxy's HTML page): a BatchAPIError, so the
    batch is looked at again later, as after a failed request."""
    try:
        yield
    except (AttributeError, TypeError, ValueError) as err:
        raise BatchAPIError(mask(f"{what}: the reply is not a batch ({type(err).__name__}: {err})")[:300]) from None


async def _call(what: str, request):
    """Await an SDK call, turning its errors into one BatchAPIError saying what was being done."""
    try:
        return await request
    except Exception as err:  # the SDKs' APIError family, a malformed body, a dropped connection
        status = getattr(err, "status_code", None)
        detail = f"HTTP {status}: {error_message(err)}" if status is not None else f"{type(err).__name__}: {err}"
        raise BatchAPIError(mask(f"{what}: {detail}")[:300]) from None
