"""What every provider's batch API gives the batch coordinator (utils/asking/batching.py), and what they share.

A provider with a batch API (``Provider.batch_api``) has a class made with
one SDK client of the model's endpoint, with:

* ``max_requests`` and ``max_bytes``: the most one batch may hold (``chunks``
  splits a run's requests to fit);
* ``line(custom_id, body) -> bytes``: one request as the batch holds it (its
  size counts against the limit);
* ``submit(lines, creation, before_create) -> batch id``: upload what needs
  uploading, fill in the ``Creation`` (what the provider will make the
  batch from), await ``before_create(creation)`` (the coordinator writes it
  to the batch state file) and only then create the batch: a run killed
  while the creation is on its way leaves the intent behind;
* ``made_from(creation, known_ids) -> batch id | None``: the batch an
  interrupted creation made, if any (not one of ``known_ids``), as far as
  the provider lets it be told (each provider's file says how, and its
  limits); a BatchAPIError when that cannot be told now;
* ``check(batch_id) -> BatchStatus``: one look at how far it is; a reply
  whose state is not one the provider documents is a BatchAPIError (a URL
  that answers anything would otherwise be polled for a day);
* ``results(status, custom_ids, damaged_is_final, warn) -> {custom_id:
  LineResult}``: what an ended batch gave for each request; a request
  answered more than once keeps its first answer, and ``warn`` says so.

Errors are a ``BatchAPIError`` whose reason is safe to print (keys masked).
A test may lower the request limit with ``ARENA_TEST_BATCH_MAX_REQUESTS``
(read here, for tests only) to see a run split without making 50,000
requests.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from utils.asking.providers.base import error_message
from utils.plumbing.keys import mask

RETRIED_STATUSES = (408, 409, 429)  # and 5xx: what the SDKs retry on a direct request


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


@dataclass
class Creation:
    """A batch about to be created, written to the state file before it is: what the provider may have made."""
    endpoint: str  # the model's endpoint (its URL without credentials)
    started: float  # time.time() just before the creation was asked for
    digest: str  # of the request lines, in order (``lines_digest``)
    requests: dict[str, str]  # custom_id -> question id
    input_file_id: str | None = None  # OpenAI: the uploaded input file the batch is made from

    def to_json(self) -> dict:
        data = {"endpoint": self.endpoint, "started": self.started, "digest": self.digest, "requests": self.requests}
        return data if self.input_file_id is None else {**data, "input_file_id": self.input_file_id}

    @classmethod
    def from_json(cls, data: dict) -> "Creation":
        file_id = data.get("input_file_id")
        return cls(endpoint=str(data["endpoint"]), started=float(data["started"]), digest=str(data["digest"]),
                   requests={str(k): str(v) for k, v in data["requests"].items()},
                   input_file_id=None if file_id is None else str(file_id))


def lines_digest(lines: list[bytes]) -> str:
    return hashlib.sha256(b"".join(lines)).hexdigest()


Warn = Callable[[str], None]


def ignore(text: str) -> None:
    """A ``warn`` that says nothing."""


def first_answers(pairs: Iterable[tuple[str, LineResult]], batch_id: str, warn: Warn) -> dict[str, LineResult]:
    """custom_id -> result, from a batch's (custom_id, result) pairs in the order its results list them, keeping
    the first result of a request answered more than once (a later one would silently replace a verdict), and
    saying so."""
    found: dict[str, LineResult] = {}
    repeated = 0
    for cid, result in pairs:
        if cid in found:
            repeated += 1
        else:
            found[cid] = result
    if repeated:
        warn(f"batch {batch_id}: {repeated} request(s) answered more than once in its results: the first answer kept")
    return found


def known_state(what: str, state, states: tuple[str, ...]) -> str:
    """``state`` when it is one of the provider's documented ``states``; else the reply is not a batch."""
    if state not in states:
        raise BatchAPIError(mask(f"{what}: the reply is not a batch (status {state!r})")[:300])
    return state


def max_requests(provider_limit: int) -> int:
    """A provider's request limit per batch, or the lower one a test set (read when asked, not at import)."""
    return int(os.environ.get("ARENA_TEST_BATCH_MAX_REQUESTS") or provider_limit)


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
