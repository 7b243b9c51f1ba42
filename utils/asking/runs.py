"""What a paid-for run needs in both steps that ask models (answers and judgments).

* ``Writer``: the single task that appends results to their stores. Requests
  finish in any order and from many coroutines; only this task touches the
  files, so lines never interleave, and the fsync happens off the event loop
  (``asyncio.to_thread``) so hundreds of requests in flight are not held up
  by the disk. It drains whatever has arrived and syncs once per batch.
  An optional ``prepare`` turns each batch into records in that thread too
  (answers get their style metadata there: one tokenizer call per batch).
  When a write fails (a full disk), ``stop_on_failure`` cancels the requests
  at once, so nothing more is bought that could not be kept, and the run
  ends with one ``StorageError`` that says how many results were lost.
* ``Failure`` and ``print_failures``: a request that failed for good is
  reported with who asked, which question and why; it is never stored.
  Failures of one cause at one endpoint (requests not sent to an endpoint
  given up on, or told to wait longer than we do) are one line with their
  count, however many there are.
* ``progress``: one tqdm bar per model (or judge and model), with rate and ETA.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import sys
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Coroutine, Iterator, TypeVar

from tqdm import tqdm

from utils.errors import StorageError
from utils.store import JsonlStore, closed_on_error

SHOWN_FAILURES = 20
T = TypeVar("T")


@dataclass
class Failure:
    who: str  # the model, or "judge / model"
    uid: str
    reason: str
    group: str | None = None  # shared with other failures (RequestFailed.group): the summary shows it once


def report_failure(failures: list[Failure], failure: Failure, bar: tqdm, where: str) -> None:
    """Keep a failed request for the run summary and say it on stderr now, once per group.

    A group's failures come in a burst, so the search back for an earlier one
    stops at once, but for the group's first.
    """
    said = failure.group is not None and any(f.group == failure.group for f in reversed(failures))
    failures.append(failure)
    if not said:
        bar.write(f"failed: {where}: {failure.reason}", file=sys.stderr)


class Writer:
    """Append records to their stores from one task; use as ``async with Writer() as w: await w.put(...)``.

    With ``prepare``, what is put is anything ``prepare`` turns into records:
    it is called, off the event loop, with one store's share of a batch and
    returns one record for each item, in order.
    """

    def __init__(self, prepare: Callable[[list[Any]], list[dict]] | None = None):
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._prepare = prepare
        self._failed = asyncio.Event()
        self._failure: StorageError | None = None  # the first write that failed
        self._lost = 0  # results that reached the writer and could not be stored

    async def __aenter__(self) -> "Writer":
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, exc_type, *exc) -> None:
        await self._queue.put(None)
        await self._task  # everything queued before the end (or an interrupt) is written
        if self._failure is not None and exc_type is None:
            raise StorageError(f"{self._failure.message}; stopped sending requests. {self._lost} result(s) "
                               "received could not be stored. Everything stored before is kept: make room and "
                               "run again, it resumes and asks only for what is missing", self._failure.path)

    async def put(self, store: JsonlStore, record: Any) -> None:
        await self._queue.put((store, record))

    async def stop_on_failure(self, requests: Awaitable) -> None:
        """Await ``requests``, cancelling them as soon as a write fails.

        Requests still waiting for a slot are then never sent. Those in flight
        are dropped too: the disk cannot take their results, and the rerun
        asks for them again.
        """
        work = asyncio.ensure_future(requests)
        failed = asyncio.ensure_future(self._failed.wait())
        stopped = False
        try:
            await asyncio.wait([work, failed], return_when=asyncio.FIRST_COMPLETED)
        finally:  # also on an interrupt: the requests are cancelled and their clean-up (bars, clients) runs
            failed.cancel()
            if not work.done():
                stopped = work.cancel()
                await asyncio.wait([work])
            error = None if work.cancelled() else work.exception()  # taken, so asyncio does not log it again
        # a cancelled gather ends with a CancelledError as its exception rather than as cancelled
        if error is not None and not (stopped and isinstance(error, asyncio.CancelledError)):
            raise error  # an error of the requests themselves, as it is

    def _write(self, store: JsonlStore, items: list[Any]) -> None:
        records = self._prepare(items) if self._prepare else items
        try:
            store.append_many(records)
        except StorageError as err:
            self._failure = self._failure or err
            self._lost += sum(store.key(r) not in store.records for r in records)

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty():
                batch.append(self._queue.get_nowait())
            by_store: dict[int, tuple[JsonlStore, list[dict]]] = {}
            for entry in batch:
                if entry is not None:
                    store, record = entry
                    by_store.setdefault(id(store), (store, []))[1].append(record)
            for store, records in by_store.values():
                # still tried after a failure: another file (or a smaller write) may fit, and each is paid for
                await asyncio.to_thread(self._write, store, records)
            if self._failure is not None:
                self._failed.set()
            if None in batch:
                return


def run_and_finish(work: Coroutine[Any, Any, T], stores: list[JsonlStore], order: list[str]) -> T:
    """Run ``work``, then rewrite every store once in ``order``.

    On an error or an interrupt the stores are only closed: every record
    already appended stays, and the next run resumes from it.
    """
    with closed_on_error(stores):
        result = asyncio.run(work)
        for store in stores:  # if one rewrite fails, the stores not yet finished are closed all the same
            store.finish(order)
    return result


@contextlib.contextmanager
def settled_gc(young: int = 10_000) -> Iterator[None]:
    """Calmer garbage collection while many requests are in flight, restored afterwards.

    Measured at parallel 256 (bench/bench_gen_answer.py), the cyclic collector
    took ~10 % of the CPU: what exists before the run (modules, SDK clients,
    questions, earlier answers) lives to the end, yet every full pass walked
    it, ~150 ms each with the event loop stopped; and the default 700
    allocations between young passes rewalked the objects of hundreds of
    requests in flight every few requests. So: freeze what exists, and run
    young passes every ``young`` allocations.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(young, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def progress(total: int, desc: str, position: int, unit: str) -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, position=position, leave=True,
                dynamic_ncols=True, file=sys.stderr, smoothing=0.1)


def print_failures(failures: list[Failure]) -> None:
    """The run summary of failed requests (stdout), or nothing when all went well."""
    if not failures:
        return
    print(f"{len(failures)} request(s) failed and were not stored; run again to retry them:")
    groups: dict[str, int] = {}
    for failure in failures:
        if failure.group:
            groups[failure.group] = groups.get(failure.group, 0) + 1
    for group, count in groups.items():
        print(f"  {count} request(s) {group}")
    alone = [f for f in failures if not f.group]
    for failure in alone[:SHOWN_FAILURES]:
        print(f"  {failure.who} / {failure.uid}: {failure.reason}")
    if len(alone) > SHOWN_FAILURES:
        print(f"  ... and {len(alone) - SHOWN_FAILURES} more")
