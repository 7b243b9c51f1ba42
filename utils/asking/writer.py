"""The Writer: the one task that stores every result of a run, and what it does when the disk is full.

Requests finish in any order and from many coroutines; only this task
touches the output files, so lines never interleave, and the fsync happens
off the event loop (``asyncio.to_thread``) so hundreds of requests in
flight are not held up by the disk. It drains whatever has arrived and
syncs once per batch. An optional ``prepare`` turns each batch into
records in that thread too (answers get their style metadata there: one
tokenizer call per batch).

A result that arrived was paid for, so a write that fails (a full disk, a
quota, a file-size limit) loses nothing:

* the records not written are held in memory, the ``Room`` closes (requests
  not yet sent wait for it, so nothing more is bought meanwhile; those in
  flight come back and are held too), and the user is told once, on stderr,
  to free some space;
* the write is retried every ``RETRY_SECONDS``; once it goes through the
  Room opens and the run carries on as if nothing had happened;
* if the disk is still full after ``DISK_WAIT`` seconds, or the run is
  interrupted meanwhile, what is held goes to a recovery file on another
  filesystem (utils/plumbing/recovery.py: its path is printed; the next run
  takes it in), and the Room refuses: every request still to be sent fails
  at once as not sent (``Room.NOT_SENT``; a judgment whose other game was
  paid for is stored with that game, as after any failure), whatever comes
  back from then on goes aside too, and the run ends with one
  ``StorageError`` saying where the results are.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from typing import Any, Callable

from utils.asking.providers.base import RequestFailed
from utils.plumbing import recovery
from utils.plumbing.errors import StorageError
from utils.plumbing.store import JsonlStore, NotWritten, dump_line

RETRY_SECONDS = 2.0  # between attempts at writing what is held
DISK_WAIT = 600.0


def disk_wait() -> float:
    """How long what a full disk could not take is held (a test may set a shorter wait)."""
    return float(os.environ.get("ARENA_TEST_DISK_WAIT_SECONDS") or DISK_WAIT)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 120 else f"{seconds:g} s"


class Room:
    """Whether a request may be sent now, and how many are in flight; each request goes through ``sending``.

    Two things shut it: a full disk (results cannot be stored, see above) and
    the run being stopped (runs.run_stoppable: the requests in flight come back
    and are stored, no new one goes).
    """

    NOT_SENT = "not sent: the disk stayed full"
    STOPPING = "not sent: the run is stopping"

    def __init__(self):
        self._open = asyncio.Event()
        self._open.set()
        self._refusing = False
        self._stopping = False
        self.in_flight = 0  # requests sent whose reply (or failure) is not back yet
        self.say: Callable[[str], None] = lambda text: print(text, file=sys.stderr, flush=True)  # the run's
        self._idle = asyncio.Event()
        self._idle.set()

    async def wait(self) -> None:
        """Return at once while there is room; wait while there is none; RequestFailed once the run gave up or
        is stopping."""
        await self._open.wait()
        if self._refusing:
            raise RequestFailed(self.NOT_SENT, group=self.NOT_SENT)
        if self._stopping:
            raise RequestFailed(self.STOPPING, group=self.STOPPING)

    @contextlib.asynccontextmanager
    async def sending(self):
        """Around one request: wait for room, then count it in flight until it is back."""
        await self.wait()
        self.in_flight += 1
        self._idle.clear()
        try:
            yield
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self._idle.set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    async def stop(self) -> None:
        """Send nothing more (those waiting, and those to come, fail as not sent); return once none is in flight."""
        self._stopping = True
        self._open.set()
        await self._idle.wait()

    def close(self) -> None:
        self._open.clear()

    def open(self) -> None:
        self._open.set()

    def refuse(self) -> None:
        """From now on no request goes: those waiting, and those to come, fail as not sent."""
        self._refusing = True
        self._open.set()


class Writer:
    """Append records to their stores from one task; use as ``async with Writer() as w: await w.put(...)``.

    With ``prepare``, what is put is anything ``prepare`` turns into records:
    it is called, off the event loop, with one store's share of a batch and
    returns one record for each item, in order. ``say`` prints a line on
    stderr (the progress's); ``room`` is closed while the disk is full.
    """

    def __init__(self, prepare: Callable[[list[Any]], list[dict]] | None = None, room: Room | None = None,
                 say: Callable[[str], None] = print):
        self._queue: asyncio.Queue = asyncio.Queue()
        self._task: asyncio.Task | None = None
        self._prepare = prepare
        self.room = room or Room()
        self._say = say
        self._held: dict[JsonlStore, list[dict]] = {}  # records received and not written yet, per store
        self._failure: StorageError | None = None  # the write that failed, while writes fail
        self._full_since: float | None = None
        self._told = False  # whether the user was told to free space
        self._interrupted = False  # the run is ending early: nothing more is waited for
        self._gave_up = False  # the run must stop: what was held went aside, and the room refuses
        self._ending: StorageError | None = None  # what the run ends with, once it gave up

    async def __aenter__(self) -> "Writer":
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, exc_type, *exc) -> None:
        self._interrupted = exc_type is not None  # an interrupt or an error: what is held goes aside at once
        await self._queue.put(None)
        # Everything queued before the end (or an interrupt) is written, or kept aside. A stop signal's
        # cancellation can reach the caller while it waits here (the grace ended just as the work did): shielded,
        # it does not reach the writer's task, whose records were paid for; it is raised again once they are safe.
        cancelled = False
        while not self._task.done():
            try:
                await asyncio.shield(self._task)
            except asyncio.CancelledError:
                cancelled = self._interrupted = True
        self._task.result()
        if cancelled:
            raise asyncio.CancelledError
        if self._ending is not None and exc_type is None:
            raise self._ending

    async def put(self, store: JsonlStore, record: Any) -> None:
        await self._queue.put((store, record))

    # ------------------------------------------------------------ the task

    async def _run(self) -> None:
        ended = False
        while not ended or self._held:
            entries = await self._next(RETRY_SECONDS if self._held else None)
            ended = ended or None in entries
            by_store: dict[JsonlStore, list[Any]] = {}  # a store is its own key: JsonlStore compares by identity
            for entry in entries:
                if entry is not None:
                    by_store.setdefault(entry[0], []).append(entry[1])
            for store, items in by_store.items():
                records = await asyncio.to_thread(self._prepare, items) if self._prepare else items
                self._held.setdefault(store, []).extend(records)
            if self._held:
                failure = await asyncio.to_thread(self._write_held)
                self._note(failure)
            if self._held and (self._interrupted or self._gave_up or self._waited_too_long()):
                await asyncio.to_thread(self._keep_aside)
                self._gave_up = True
                self.room.refuse()

    async def _next(self, timeout: float | None) -> list:
        """What has arrived: at least one entry, or none after ``timeout`` seconds (time to retry)."""
        try:
            entries = [await asyncio.wait_for(self._queue.get(), timeout)]
        except TimeoutError:
            return []
        while not self._queue.empty():
            entries.append(self._queue.get_nowait())
        return entries

    def _write_held(self) -> StorageError | None:
        """Write what is held, store by store (in a thread); the first failure, or None when all went down."""
        first = None
        for store in list(self._held):
            try:
                # still tried after a failure: another file (or a smaller write) may fit, and each is paid for
                store.append_many(self._held[store])
            except NotWritten as err:
                self._held[store] = err.left
                first = first or err
                continue
            del self._held[store]
        return first

    def _note(self, failure: StorageError | None) -> None:
        """Close the room when writes start failing (telling the user once), open it when they go through."""
        if failure is None:
            if self._failure is not None and not self._gave_up:
                self._say(f"{self._failure.path}: there is room again: the results held are stored; carrying on")
                self._failure, self._full_since = None, None
                self.room.open()
            return
        if self._failure is None:
            self._failure, self._full_since = failure, time.monotonic()
            self.room.close()
        if not self._told:
            self._told = True
            held = sum(len(records) for records in self._held.values())
            self._say(f"warning: {failure}: {held} result(s) received are held in memory, and no more requests "
                      f"are sent until they are stored: free some space. The write is tried again every "
                      f"{RETRY_SECONDS:g} s for up to {_duration(disk_wait())}; then what is held goes to a recovery "
                      "file that the next run takes in")

    def _waited_too_long(self) -> bool:
        return self._full_since is not None and time.monotonic() - self._full_since >= disk_wait()

    def _keep_aside(self) -> None:
        """Write what is held to recovery files (in a thread), and word what the run ends with."""
        kept, lost, places, why = 0, 0, [], ""
        for store, records in self._held.items():
            try:
                places.append(str(recovery.save(store.path, [dump_line(r) for r in records])))
                kept += len(records)
            except OSError as err:
                lost += len(records)
                why = why or (err.strerror or str(err))
        self._held.clear()
        failure = self._failure or StorageError("could not write", "the output files")
        said = [f"{failure.message}; stopped sending requests."]
        if kept:
            said.append(f"{kept} result(s) received are kept in {', '.join(places)}: the next run stores them.")
        if lost:
            said.append(f"{lost} result(s) received could not be stored, nor kept aside ({why}).")
        said.append("Everything stored before is kept: make room and run again, it resumes and asks only for what "
                    "is missing")
        self._ending = StorageError(" ".join(said), failure.path)
        if self._interrupted and kept:  # the interrupt's own line follows: say where the results are now
            self._say(f"{kept} result(s) that could not be written are kept in {', '.join(places)}: the next run "
                      "stores them")
