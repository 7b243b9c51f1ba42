"""What every provider's batch API gives the batch coordinator (utils/asking/batching.py), and what they share.

A provider with a batch API (``Provider.batch_api``) has a class made with
one SDK client of the model's endpoint, with:

* ``max_requests`` and ``max_bytes``: the most one batch may hold (``chunks``
  splits a run's requests to fit);
* ``line(custom_id, body) -> bytes``: one request as the batch holds it (its
  size counts against the limit);
* ``submit(lines) -> batch id``: upload and create the batch;
* ``check(batch_id) -> BatchStatus``: one look at how far it is;
* ``results(status, custom_ids, damaged_is_final) -> {custom_id: LineResult}``:
  what an ended batch gave for each request.

Errors are a ``BatchAPIError`` whose reason is safe to print (keys masked).
A test may lower the request limit with ``ARENA_TEST_BATCH_MAX_REQUESTS``
(read here, for tests only) to see a run split without making 50,000
requests.
"""
from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any, Iterator

from utils.asking.providers.base import error_message
from utils.plumbing.keys import mask

RETRIED_STATUSES = (408, 409, 429)  # and 5xx: what the SDKs retry on a direct request
_TEST_MAX_REQUESTS = os.environ.get("ARENA_TEST_BATCH_MAX_REQUESTS")  # tests only: see the module's docstring


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


def max_requests(provider_limit: int) -> int:
    """A provider's request limit per batch, or the lower one a test set."""
    return int(_TEST_MAX_REQUESTS or provider_limit)


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


@contextlib.contextmanager
def unreadable(what: str) -> Iterator[None]:
    """A provider's reply that is not the object its API promises (a proxy's HTML page): a BatchAPIError, so the
    batch is looked at again later, as after a failed request."""
    try:
        yield
    except (AttributeError, TypeError, ValueError) as err:
        raise BatchAPIError(mask(f"{what}: the reply is not a batch ({type(err).__name__}: {err})")[:300]) from None


async def call(what: str, request):
    """Await an SDK call, turning its errors into one BatchAPIError saying what was being done."""
    try:
        return await request
    except Exception as err:  # the SDKs' APIError family, a malformed body, a dropped connection
        status = getattr(err, "status_code", None)
        detail = f"HTTP {status}: {error_message(err)}" if status is not None else f"{type(err).__name__}: {err}"
        raise BatchAPIError(mask(f"{what}: {detail}")[:300]) from None
