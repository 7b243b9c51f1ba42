"""What a paid-for run needs in both steps that ask models (answers and judgments).

* ``Writer``: the single task that appends results to their stores. Requests
  finish in any order and from many coroutines; only this task touches the
  files, so lines never interleave, and the fsync happens off the event loop
  (``asyncio.to_thread``) so hundreds of requests in flight are not held up
  by the disk. It drains whatever has arrived and syncs once per batch.
* ``Failure`` and ``print_failures``: a request that failed for good is
  reported with who asked, which question and why; it is never stored.
* ``progress``: one tqdm bar per model (or judge and model), with rate and ETA.
"""
from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass

from tqdm import tqdm

from utils.store import JsonlStore

SHOWN_FAILURES = 20


@dataclass
class Failure:
    who: str  # the model, or "judge / model"
    uid: str
    reason: str


class Writer:
    """Append records to their stores from one task; use as ``async with Writer() as w: await w.put(...)``."""

    def __init__(self):
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "Writer":
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc) -> None:
        await self._queue.put(None)
        await self._task  # everything queued before the end (or an interrupt) is written

    async def put(self, store: JsonlStore, record: dict) -> None:
        await self._queue.put((store, record))

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
                await asyncio.to_thread(store.append_many, records)
            if None in batch:
                return


def progress(total: int, desc: str, position: int, unit: str) -> tqdm:
    return tqdm(total=total, desc=desc, unit=unit, position=position, leave=True,
                dynamic_ncols=True, file=sys.stderr, smoothing=0.1)


def print_failures(failures: list[Failure]) -> None:
    """The run summary of failed requests (stdout), or nothing when all went well."""
    if not failures:
        return
    print(f"{len(failures)} request(s) failed and were not stored; run again to retry them:")
    for failure in failures[:SHOWN_FAILURES]:
        print(f"  {failure.who} / {failure.uid}: {failure.reason}")
    if len(failures) > SHOWN_FAILURES:
        print(f"  ... and {len(failures) - SHOWN_FAILURES} more")
