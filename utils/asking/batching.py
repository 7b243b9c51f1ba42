"""Batch mode: a model's requests go through its provider's batch API, at half the price, within 24 hours.

The steps do not change for it. A batched job's items are asked as usual,
by the step's own code (answer_question's turns, play_game's attempts and
re-asks, judge_pairing's two games), through a ``BatchClient`` whose
``chat`` does not send the request: it builds the exact body a direct
request would have (its provider's ``body``), queues it and waits. When every item of every batched job is waiting (or
done), the coordinator submits what is queued as one batch per provider
limit, polls, and hands each reply back to its ``chat``. The step's code
then carries on as after a direct reply: a second turn, a re-ask of a judge
that gave no label, or the record, stored through the same Writer. What
those ask next is the next round's batch.

Never paying twice:

* a request's ``custom_id`` is a function of its output file, question, part
  (``a`` for an answer, ``g1``/``g2`` for a judgment's games) and body, so a
  rerun asks for exactly the same ids;
* what a batch will be made from (the provider's input file id, a digest of
  its requests, their ids) is written to ``<output file>.batches.json``
  before the batch is created, and the batch (with the ids it holds, not
  the key) as soon as its id is known; a run that finds the file waits for
  the batches in it instead of asking again, with or without ``--batch``,
  and downloads the results of those that ended; a creation left listed (a
  run stopped, even by ``kill -9``, while it was under way) is first looked
  for at the provider (each provider's ``made_from``, and its limits);
* the file is removed once every item of the output file is stored; until
  then it keeps the batches still running and those whose results are not
  all stored yet (a later turn or re-ask may still need them).

A request that failed or expired in a batch is listed and sent again in a
follow-up batch (or directly, with ``--batch-fallback direct``), once; one
that would fail again (a 400) is not. A request that failed in an earlier
run's batch is simply put in a new batch. With ``--no-wait`` the run submits
what it can, collects what has ended, and stops: requests still in a batch
end as ``BatchPending``, counted apart from failures.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import time
from collections import Counter
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Awaitable, Iterator, TypeVar

from utils.asking.clients import ModelClient, refuses_format, without_credentials
from utils.asking.progress import Progress
from utils.asking.providers import PROVIDERS
from utils.asking.providers.base import Reply, RequestFailed
from utils.asking.providers.batches import BatchAPIError, Creation, LineResult, chunks, lines_digest
from utils.plumbing.entry import ModelConfig
from utils.plumbing.errors import InputError
from utils.plumbing.store import atomic_write
from utils.vocabulary.records import missing_games

BATCH_SUBMISSIONS = 2  # times one run puts a request in a batch: the first, and one follow-up after a failure
DAMAGED_LOOKS = 2  # downloads of a batch's results that find unreadable lines before those are taken as final
LOOKS_FAILING = 10  # looks in a row at a batch that fail (each after the SDK's retries) before the run gives it up
POLL_FIRST, POLL_MOST = 10.0, 60.0  # seconds between looks at running batches: the first wait, growing to this
SHOWN_LINES = 20  # failed lines listed per batch
T = TypeVar("T")


@dataclass(frozen=True)
class BatchOptions:
    """How a run uses batches: for every model (``--batch``) or those whose entry says ``batch: true``."""
    every_model: bool = False
    fallback: str = "batch"  # where a failed or expired line goes again: a follow-up batch, or a direct request
    wait: bool = True  # False (--no-wait): submit, collect what has ended, and stop

    def covers(self, cfg: ModelConfig) -> bool:
        """Whether a model's requests go through batches (a provider without a batch API is asked directly)."""
        return (self.every_model or cfg.batch) and PROVIDERS[cfg.api_type].batch_api is not None


def report_running(running: list[str]) -> bool:
    """Print which batches still run and what to do (stdout); False when none does."""
    if not running:
        return False
    print("batches still running at the provider (they finish within 24 hours):")
    print(*(f"  {line}" for line in running), sep="\n")
    print("nothing is lost: run the same command again later to collect their results "
          "(it waits for them unless given --no-wait again)")
    return True


class BatchPending(RequestFailed):
    """A request still in a running batch when the run stopped waiting (``--no-wait``); a later run collects it."""


def state_path(output: Path) -> Path:
    """The file beside an output file that lists the batches submitted for it."""
    return output.with_name(output.name + ".batches.json")


def custom_id(file_tag: str, uid: str, part: str, body: dict) -> str:
    """A request's id in its batch: the same request of the same file always gets the same id.

    Anthropic takes 1 to 64 of [A-Za-z0-9_-]; the question id is shown
    shortened and the digest (of everything) keeps them apart.
    """
    digest = hashlib.sha256(json.dumps([file_tag, uid, part, body], sort_keys=True).encode("ascii")).hexdigest()
    return f"{file_tag}-{re.sub(r'[^A-Za-z0-9_-]', '_', uid)[:24]}-{part}-{digest[:16]}"


ANSWER_PART = "a"  # every request of an answer (its turns differ by their digest)


def game_part(game: int) -> str:
    """The part naming the requests of judgment game ``game`` (0 or 1) in their custom ids."""
    return f"g{game + 1}"


def part_of(cid: str) -> str:
    return cid.rsplit("-", 2)[-2]


def request_parts(item) -> list[str]:
    """The parts of the requests an item still needs, in the order it asks them: a judgment's games to play (a
    ``Pairing``), else each turn of a question."""
    games = getattr(item, "games_to_play", None)
    return [game_part(g) for g in games()] if games else [ANSWER_PART] * len(item.turns)


def held_requests(output: Path) -> Counter[tuple[str, str]]:
    """(question id, part) -> how many requests the batches listed beside ``output`` hold (those of a creation
    under way when a run stopped count too: the next run looks for their batch before asking)."""
    state = read_state(state_path(output))
    return Counter((uid, part_of(cid)) for held in [*state.batches, *state.creating]
                   for cid, uid in held.requests.items())


_PART: ContextVar[str] = ContextVar("batch_request_part", default=ANSWER_PART)


async def as_part(part: str, work: Awaitable[T]) -> T:
    """Await ``work`` (in a task of its own) with its requests' custom ids naming ``part``, e.g. "g1" for game 1."""
    _PART.set(part)
    return await work


@dataclass(eq=False)
class _Item:
    """One item (question) of a batched job being asked, and how many of its requests wait for a batch."""
    uid: str
    waiting: int = 0


_ITEM: ContextVar[_Item | None] = ContextVar("batch_item", default=None)


@dataclass(eq=False)
class _Batch:
    """A batch submitted for one output file, in this run or an earlier one."""
    id: str
    endpoint: str  # the URL of the model's endpoint it was submitted to (its key stays in the config)
    requests: dict[str, str]  # custom_id -> question id
    submitted: str  # local time, for people reading the state file
    this_run: bool = False
    ended: bool = False
    lost: str = ""  # why this run could not follow it (it stays in the state file for the next)
    failing: int = 0  # looks in a row that failed
    shown: tuple = ()  # the counts last printed


@dataclass
class _State:
    """What a state file lists: the provider it was written for, its batches, and the creations under way."""
    api_type: str | None = None
    batches: list[_Batch] = field(default_factory=list)
    creating: list[Creation] = field(default_factory=list)  # written before asking for each; gone once it is known


def read_state(path: Path) -> _State:
    """What a state file lists (nothing when there is no file); InputError when it is damaged."""
    if not path.exists():
        return _State()
    try:
        state = json.loads(path.read_bytes())
        batches = [_Batch(id=str(b["id"]), endpoint=without_credentials(str(b["endpoint"])),
                          submitted=str(b.get("submitted", "")),
                          requests={str(k): str(v) for k, v in b["requests"].items()}) for b in state["batches"]]
        creating = [Creation.from_json(c) for c in state.get("creating", [])]
        for creation in creating:
            creation.endpoint = without_credentials(creation.endpoint)
        return _State(state.get("api_type"), batches, creating)
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise InputError(f"not a batch state file this tool wrote ({type(err).__name__}: {err}); it lists batches "
                         "that may still be running: restore it, or delete it to give up their results",
                         path) from None


class _JobBatches:
    """The batches of one output file: the state file, the requests waiting, what came back."""

    def __init__(self, job, direct: ModelClient, submits: bool, run: "Batching"):
        self.job = job
        self.direct = direct
        self.cfg = direct.cfg
        self.submits = submits  # False: only collect batches an earlier run submitted; ask the rest directly
        self.run = run
        self.path = state_path(job.store.path)
        self.file_tag = hashlib.sha256(job.store.path.name.encode()).hexdigest()[:6]
        self.apis = {url: direct.provider.batches(client) for url, client in direct.endpoint_clients()}
        self.batches, self.creating = self._load()
        self.ready = asyncio.Event()  # set once the creations an earlier run left are settled (settle_creations)
        if not self.creating:
            self.ready.set()
        self.holding: dict[str, set[_Batch]] = {}  # custom_id -> the batches holding it that have not ended
        for batch in self.batches:
            for cid in batch.requests:
                self.holding.setdefault(cid, set()).add(batch)
        self.results: dict[str, LineResult] = {}  # what ended batches gave, by custom_id
        self.waiters: dict[str, list[asyncio.Future]] = {}
        self.lines: dict[str, bytes] = {}  # custom_id -> the request as a batch line, while someone waits for it
        self.uids: dict[str, str] = {}
        self.fresh: list[str] = []  # custom_ids waiting to be submitted
        self.sent: Counter[str] = Counter()  # submissions of each custom_id in this run
        self.given: dict[str, _Batch] = {}  # custom_id -> the batch whose result was handed out for it

    # ------------------------------------------------------------ the state file

    def _load(self) -> tuple[list[_Batch], list[Creation]]:
        state = read_state(self.path)
        submitted_to, batches = state.api_type, state.batches
        if (batches or state.creating) and submitted_to != self.cfg.api_type:
            raise InputError(f"these batches were submitted to a {submitted_to} endpoint, but {self.cfg.name} is now "
                             f"api_type {self.cfg.api_type}: set it back to collect them (or delete this file to "
                             "give up their results)", self.path)
        for batch in [*batches, *state.creating]:
            if batch.endpoint not in self.apis:
                which = f"batch {batch.id}" if isinstance(batch, _Batch) else "a batch being created"
                raise InputError(f"{which} was submitted to {batch.endpoint}, which {self.cfg.name} no longer "
                                 "lists among its endpoints: add it back to collect the batch (or delete this file "
                                 "to give up its results)", self.path)
        return batches, state.creating

    def _state(self, batches: list[_Batch]) -> bytes:
        state = {
            "about": f"provider batches holding requests for {self.job.store.path.name}; the next run collects them",
            "model": self.cfg.name, "api_type": self.cfg.api_type,
            "batches": [{"id": b.id, "endpoint": b.endpoint, "submitted": b.submitted, "requests": b.requests}
                        for b in batches]}
        if self.creating:
            state["creating"] = [creation.to_json() for creation in self.creating]
        return (json.dumps(state, indent=1) + "\n").encode("utf-8")

    def save(self) -> None:
        atomic_write(self.path, self._state(self.batches))

    def finish(self) -> None:
        """Keep in the state file only the batches that hold a request still wanted: of an item this run had to
        ask for, in a part (a game, an answer) this run did not store, or of a question this run did not look at
        (a --first trial's later questions, whose results a later run stores)."""
        records, held = self.job.store.records, self.job.held

        def wanted(item) -> set[str]:
            stored = records.get(item.uid)
            if stored is None or stored is held.get(item.uid):  # nothing stored by this run (a re-judged one
                return set(request_parts(item))                  # still has its old record)
            return {game_part(g) for g in missing_games(stored)}  # an answer has no games: nothing missing
        parts = {item.uid: wanted(item) for item in self.job.todo}
        scope = self.job.scope

        def still_wanted(cid: str, uid: str) -> bool:
            return (scope is not None and uid not in scope) or part_of(cid) in parts.get(uid, ())
        keep = [b for b in self.batches if any(still_wanted(cid, uid) for cid, uid in b.requests.items())]
        if keep or self.creating:
            atomic_write(self.path, self._state(keep))
        else:
            self.path.unlink(missing_ok=True)

    # ------------------------------------------------------------ requests

    async def result(self, cid: str, line: bytes, uid: str) -> LineResult | None:
        """What the batches give for a request, waiting for them; None: not in a batch, and not to be put in one."""
        await self.ready.wait()
        if cid in self.results:
            return self.results[cid]
        if not self.holding.get(cid):
            if not self.submits:
                return None
            self.fresh.append(cid)
        self.lines[cid], self.uids[cid] = line, uid
        future = asyncio.get_running_loop().create_future()
        self.waiters.setdefault(cid, []).append(future)
        return await self.run.wait(future)

    async def used_up(self, cid: str) -> None:
        """A batch's result that held no usable reply (an empty answer): its batch no longer holds the request,
        so the next run asks for it again instead of reading the same result."""
        batch = self.given.pop(cid, None)
        if batch is not None and batch.requests.pop(cid, None) is not None:
            await asyncio.to_thread(self.save)

    def forget(self, cid: str) -> None:
        """Drop a failed result, so the request goes into a new batch."""
        self.results.pop(cid, None)

    def retry_how(self, cid: str, result: LineResult) -> str | None:
        """Where a failed line goes again: "batch", "direct", or None (not again in this run)."""
        if not result.retryable:
            return None
        if self.run.options.fallback == "direct":
            return "direct"
        return "batch" if self.sent[cid] < BATCH_SUBMISSIONS else None

    def _hand(self, cid: str, result: LineResult | BaseException | None) -> None:
        for future in self.waiters.pop(cid, []):
            self.run.resolve(future, result)
        self.lines.pop(cid, None)

    def _fail(self, cids, result: LineResult) -> None:
        for cid in cids:
            self.results[cid] = result
            self._hand(cid, result)

    # ------------------------------------------------------------ submitting and polling

    async def submit(self) -> None:
        """Submit every queued request: one batch per provider limit, each saved to the state file at once."""
        cids, self.fresh = [c for c in dict.fromkeys(self.fresh) if c in self.waiters], []
        if not cids:
            return
        if self.direct.room is not None:  # a full disk: nothing more is bought until there is room
            try:
                await self.direct.room.wait()
            except RequestFailed as err:
                self._fail(cids, LineResult(reason=err.reason, group=err.group))
                return
        usable = self.direct.endpoint_clients()
        if not usable:
            self._fail(cids, LineResult(reason=f"no endpoint of {self.cfg.name} is left to submit a batch to"))
            return
        url = usable[0][0]
        api = self.apis[url]
        lines = [self.lines[cid] for cid in cids]
        runs = chunks([len(line) for line in lines], api.max_requests, api.max_bytes)
        placed = {i for run in runs for i in run}
        self._fail([cid for i, cid in enumerate(cids) if i not in placed],
                   LineResult(reason=f"too large for a batch (more than {api.max_bytes} bytes)"))
        for run in runs:
            chunk = [cids[i] for i in run]
            chunk_lines = [lines[i] for i in run]
            creation = Creation(endpoint=url, started=time.time(), digest=lines_digest(chunk_lines),
                                requests={cid: self.uids[cid] for cid in chunk})
            try:
                batch_id = await api.submit(chunk_lines, creation, self._intend)
            except BatchAPIError as err:
                # a creation asked for stays in the state file: whether the provider made it is not known
                self._fail(chunk, LineResult(reason=err.reason, group=f"could not be submitted: {err.reason}"))
                continue
            if creation in self.creating:
                self.creating.remove(creation)
            batch = _Batch(id=batch_id, endpoint=url, requests=creation.requests,
                           submitted=datetime.now().isoformat(timespec="seconds"), this_run=True)
            self.batches.append(batch)
            await asyncio.to_thread(self.save)  # before anything else: a killed run must find it
            for cid in chunk:
                self.holding.setdefault(cid, set()).add(batch)
                self.sent[cid] += 1
            self.run.say(f"{self.job.who}: submitted batch {batch_id} ({len(chunk)} request(s)) to {url}; "
                         f"listed in {self.path}")

    async def _intend(self, creation: Creation) -> None:
        """Before a batch is created: write what it is made from, so a run stopped meanwhile pays for it once."""
        self.creating.append(creation)
        await asyncio.to_thread(self.save)

    async def settle_creations(self) -> None:
        """Find the batches an earlier run was creating when it stopped (listed under ``creating``): a batch found
        is collected like any other, one not made is forgotten (its requests are asked anew), and the requests
        of one that cannot be told fail for this run (the next run looks again)."""
        known = {batch.id for batch in self.batches}
        for creation in list(self.creating):
            count = len(creation.requests)
            try:
                found = await self.apis[creation.endpoint].made_from(creation, known)
            except BatchAPIError as err:
                why = (f"could not tell whether the batch an earlier run was creating for it exists ({err.reason}); "
                       "run again to look once more")
                for cid in creation.requests:
                    self.results[cid] = LineResult(reason=why, group=f"not asked: {why}")
                continue
            self.creating.remove(creation)
            if found is None:
                self.run.say(f"{self.job.who}: the batch an earlier run was creating ({count} request(s)) was not "
                             "created: asking for them anew")
                continue
            batch = _Batch(id=found, endpoint=creation.endpoint, requests=creation.requests,
                           submitted=datetime.fromtimestamp(creation.started).isoformat(timespec="seconds"))
            self.batches.append(batch)
            known.add(found)
            for cid in batch.requests:
                self.holding.setdefault(cid, set()).add(batch)
            self.run.say(f"{self.job.who}: found batch {found} ({count} request(s)), which an earlier run was "
                         "creating when it stopped: collecting it rather than asking again")
        await asyncio.to_thread(self.save)
        self.ready.set()

    def awaited(self) -> list[_Batch]:
        """The batches not ended that hold a request someone waits for."""
        return [b for b in self.batches if not b.ended and not b.lost and any(c in self.waiters for c in b.requests)]

    async def poll(self) -> bool:
        """Look at every awaited batch once; collect those that ended. True when one did (or was given up on)."""
        moved = False
        for batch in self.awaited():
            api = self.apis[batch.endpoint]
            try:
                status = await api.check(batch.id)
                self._show(batch, status)
                if not status.ended:
                    batch.failing = 0
                    continue
                results = await api.results(status, list(batch.requests),
                                            damaged_is_final=batch.failing >= DAMAGED_LOOKS, warn=self._warn)
            except BatchAPIError as err:
                batch.failing += 1
                if batch.failing < LOOKS_FAILING:  # a day is long: the network or the provider may come back
                    self.run.say(f"{self.job.who}: batch {batch.id}: {err.reason}; looking again later")
                    continue
                # its fate is unknown: nothing of it is asked again in this run
                batch.lost = err.reason
                group = f"in batch {batch.id}, which could not be followed ({err.reason}); run again to resume it"
                self._fail([c for c in batch.requests if not (c in self.results and self.results[c].ok)],
                           LineResult(reason=err.reason, group=group))
                moved = True
                continue
            batch.failing = 0
            self._ended(batch, results)
            moved = True
        return moved

    def _warn(self, text: str) -> None:
        self.run.say(f"{self.job.who}: {text}")

    def _show(self, batch: _Batch, status) -> None:
        shown = (status.state, status.done, status.failed)
        if shown != batch.shown:
            batch.shown = shown
            total = status.total or len(batch.requests)
            self.run.say(f"{self.job.who}: batch {batch.id}: {status.state}, {status.done}/{total} done, "
                         f"{status.failed} failed")

    def _ended(self, batch: _Batch, results: dict[str, LineResult]) -> None:
        batch.ended = True
        failed = []
        for cid, result in results.items():
            self.holding.get(cid, set()).discard(batch)
            held = self.results.get(cid)
            if not (held and held.ok) and (result.ok or batch.this_run):  # an earlier run's failure is not final
                self.results[cid] = result
                if result.ok:
                    self.given.setdefault(cid, batch)  # the first good result is the one handed out
            if not result.ok and batch.this_run:
                failed.append((cid, result))
            if cid not in self.waiters:
                continue
            got = self.results.get(cid)
            if got is not None and (got.ok or not self.holding.get(cid)):
                self._hand(cid, got)
                if got.ok:  # each request is asked for once: its reply need not stay in memory
                    del self.results[cid]
            elif not self.holding.get(cid):  # failed in an earlier run's batch, and no other holds it
                if self.submits:
                    self.fresh.append(cid)
                else:
                    self._hand(cid, None)  # the request goes directly
        if failed:
            self._list(batch, failed)
        for cid, result in results.items():  # an ended batch holds nothing more for a request it failed
            if not result.ok:
                batch.requests.pop(cid, None)

    def _list(self, batch: _Batch, failed: list[tuple[str, LineResult]]) -> None:
        where = {"batch": "sent again in a follow-up batch", "direct": "sent again directly",
                 None: "not sent again as it was"}
        self.run.say(f"{self.job.who}: batch {batch.id}: {len(failed)} request(s) failed or expired:")
        for cid, result in failed[:SHOWN_LINES]:
            self.run.say(f"  question {batch.requests[cid]}: {result.reason}; {where[self.retry_how(cid, result)]}")
        if len(failed) > SHOWN_LINES:
            self.run.say(f"  ... and {len(failed) - SHOWN_LINES} more")

    def stop_waiting(self) -> list[str]:
        """End every wait with BatchPending (--no-wait); the ids of the batches still running."""
        running = [b for b in self.batches if not b.ended and not b.lost]
        reason = f"waiting in a batch at {self.cfg.name}'s provider; run again later to collect it"
        for cid in list(self.waiters):
            self._hand(cid, BatchPending(reason, group=f"of {self.job.who} {reason}"))
        return [b.id for b in running]


class BatchClient:
    """``ModelClient.chat`` for a batched job: the same request, sent in the next batch (see the module)."""

    def __init__(self, batches: _JobBatches):
        self._batches = batches
        self._direct = batches.direct
        self.cfg = batches.cfg

    async def chat(self, messages: list[dict], *, temperature: float | None = None, max_tokens: int | None = None,
                   response_formats: tuple[dict, ...] = ()) -> Reply:
        direct = self._direct
        messages, temperature, max_tokens = direct.settled(messages, temperature, max_tokens)
        formats = direct.usable_formats(response_formats)
        refused = []
        for i, fmt in enumerate([*formats, None]):
            try:
                reply = await self._ask(messages, temperature, max_tokens, fmt)
            except _Direct:  # not (or no longer) for a batch: the direct client tries the formats left itself
                return await direct.chat(messages, temperature=temperature, max_tokens=max_tokens,
                                         response_formats=tuple(formats[i:]))
            except RequestFailed as err:
                if fmt is not None and not isinstance(err, BatchPending) and refuses_format(err):
                    refused.append(fmt["type"])
                    continue
                raise
            if fmt is not None:
                direct.accepted_formats.add(fmt["type"])
            direct.refused_formats.update(refused)
            reply.structured = fmt is not None
            return reply
        raise AssertionError("unreachable: without a format a failure is raised")

    async def _ask(self, messages, temperature, max_tokens, fmt) -> Reply:
        batches, direct = self._batches, self._direct
        body = direct.provider.body(messages, temperature, max_tokens, fmt)
        item = _ITEM.get()
        cid = custom_id(batches.file_tag, item.uid, _PART.get(), body)
        line = next(iter(batches.apis.values())).line(cid, body)
        while True:
            result = await batches.result(cid, line, item.uid)
            if result is None:
                raise _Direct
            if result.ok:
                try:
                    return direct.batch_reply(result.payload, max_tokens)
                except RequestFailed:
                    await batches.used_up(cid)
                    raise
            how = batches.retry_how(cid, result)
            if how == "direct":
                raise _Direct
            if how is None:
                sent = batches.sent[cid]
                raise RequestFailed(result.reason + (f" (in {sent} batches)" if sent > 1 else ""), result.status,
                                    group=result.group)
            batches.forget(cid)


class _Direct(Exception):
    """Raised inside BatchClient: this request goes to the endpoint directly."""


def batched_jobs(jobs: list, models: dict[str, ModelConfig], options: BatchOptions | None) -> list:
    """The jobs a run sends through batches: those with items to ask whose model is batched, or whose output
    file lists batches of an earlier run."""
    options = options or BatchOptions()
    return [job for job in jobs
            if job.todo and (options.covers(models[job.asks]) or state_path(job.store.path).exists())]


class Batching:
    """The batched jobs of one run, and the coordinator that submits, polls and hands replies back.

    Jobs not batched are left alone: ``client`` gives them their direct client
    and ``item`` does nothing for them.
    """

    def __init__(self, jobs: list, models: dict[str, ModelConfig], clients: dict[str, ModelClient],
                 options: BatchOptions | None, progress: Progress):
        self.options = options or BatchOptions()
        self._progress = progress
        self._jobs: dict[int, _JobBatches] = {}
        self._stale: list[Path] = []  # state files of output files with nothing left to ask
        for job in jobs:
            has_state = state_path(job.store.path).exists()
            if not (self.options.covers(models[job.asks]) or has_state):
                continue
            if not job.todo:
                self._stale += [state_path(job.store.path)] if has_state else []
                continue
            batches = _JobBatches(job, clients[job.asks], self.options.covers(models[job.asks]), self)
            self._jobs[id(job)] = batches
            if batches.batches:
                self.say(f"{job.who}: {len(batches.batches)} batch(es) submitted by an earlier run are listed in "
                         f"{batches.path}: collecting them rather than asking again")
            if batches.creating:
                self.say(f"{job.who}: an earlier run stopped while creating {len(batches.creating)} batch(es) "
                         f"(listed in {batches.path}): looking for them at the provider first")
        self._unfinished = sum(len(b.job.todo) for b in self._jobs.values())  # items not done yet
        self._blocked = 0  # items whose every running part waits for a batch
        self._runnable: set[asyncio.Task] = set()  # tasks handed a result that have not waited again or ended
        self._watched: set[asyncio.Task] = set()
        self._waiting: dict[asyncio.Future, tuple[_Item, asyncio.Task]] = {}
        self._changed = asyncio.Event()
        self._submitting: set[asyncio.Task] = set()
        self.pending: dict[str, list[str]] = {}  # job -> batches still running when the run stopped waiting
        self.notes: list[str] = []

    def say(self, text: str) -> None:
        self._progress.say(text)

    def client(self, job, direct: ModelClient):
        batches = self._jobs.get(id(job))
        return direct if batches is None else BatchClient(batches)

    @contextlib.contextmanager
    def item(self, job, item) -> Iterator[None]:
        """Around the asking for one item: its requests know their question, and the coordinator its progress."""
        if id(job) not in self._jobs:
            yield
            return
        token = _ITEM.set(_Item(uid=item.uid))
        try:
            yield
        finally:
            _ITEM.reset(token)
            self._unfinished -= 1
            self._changed.set()

    # ------------------------------------------------------------ who waits

    async def wait(self, future: asyncio.Future):
        task = asyncio.current_task()
        if task not in self._watched:
            self._watched.add(task)
            task.add_done_callback(self._task_done)
        item = _ITEM.get()
        item.waiting += 1
        self._blocked += item.waiting == 1
        self._runnable.discard(task)
        self._waiting[future] = (item, task)
        self._changed.set()
        return await future

    def resolve(self, future: asyncio.Future, result: LineResult | BaseException) -> None:
        item, task = self._waiting.pop(future)
        item.waiting -= 1
        self._blocked -= item.waiting == 0
        self._runnable.add(task)
        if not future.done():
            if isinstance(result, BaseException):
                future.set_exception(result)
            else:
                future.set_result(result)
        self._changed.set()

    def _task_done(self, task: asyncio.Task) -> None:
        self._watched.discard(task)
        self._runnable.discard(task)
        self._changed.set()

    def _settled(self) -> bool:
        return not self._runnable and self._blocked == self._unfinished

    async def _all_waiting(self) -> None:
        """Return once every unfinished item waits for a batch and no task handed a result is still running.

        A few more loop turns are let pass first: the sibling tasks of a
        gather (a judgment's two games) start in the same turn, and a task's
        done callback runs one turn after it ends.
        """
        while True:
            self._changed.clear()
            if self._settled():
                for _ in range(3):
                    await asyncio.sleep(0)
                if self._settled():
                    return
                continue
            await self._changed.wait()

    # ------------------------------------------------------------ the coordinator

    async def alongside(self, requests: Awaitable) -> None:
        """Await the items' ``requests`` while the coordinator serves their batches."""
        if not self._jobs:
            await requests
            return
        work = asyncio.ensure_future(requests)
        coordinator = asyncio.ensure_future(self._coordinate())
        try:
            await asyncio.wait([work, coordinator], return_when=asyncio.FIRST_EXCEPTION)
            if coordinator.done() and coordinator.exception() is not None:
                raise coordinator.exception()
            await work
            await coordinator
        finally:
            for task in (work, coordinator):
                task.cancel()
            # a submission in flight finishes and is saved: its batch is paid for
            ended = [work, coordinator, *self._submitting]
            await asyncio.wait(ended)
            for task in ended:  # taken, so that asyncio does not report them on exit as never retrieved
                if not task.cancelled():
                    task.exception()

    async def _coordinate(self) -> None:
        for batches in self._jobs.values():  # before any request is queued: their batches may hold them
            await batches.settle_creations()
        delay = POLL_FIRST
        while True:
            await self._all_waiting()
            if self._unfinished == 0:
                return
            for batches in self._jobs.values():
                # shielded: a batch created is saved to the state file even when the run is being stopped
                submitting = asyncio.ensure_future(batches.submit())
                self._submitting.add(submitting)
                submitting.add_done_callback(self._submitting.discard)
                await asyncio.shield(submitting)
            if self._runnable:  # some requests could not be submitted: let their items move on first
                continue
            moved = False
            for batches in self._jobs.values():
                moved |= await batches.poll()
            if moved:
                delay = POLL_FIRST
                continue
            if not self.options.wait:
                self._stop_waiting()
                return
            fixed = os.environ.get("ARENA_TEST_BATCH_POLL_SECONDS")  # tests only: a fixed, short wait between looks
            await asyncio.sleep(float(fixed) if fixed else delay)
            delay = min(delay * 1.5, POLL_MOST)

    def _stop_waiting(self) -> None:
        for batches in self._jobs.values():
            running = batches.stop_waiting()
            if running:
                self.pending[batches.job.who] = running
                self.notes.append(f"{batches.job.who}: {len(running)} batch(es) still running "
                                  f"({', '.join(running)}), listed in {batches.path}")

    def finish(self) -> None:
        """After the run's results are stored: trim or remove each state file (see the module)."""
        for batches in self._jobs.values():
            batches.finish()
        for path in self._stale:
            path.unlink(missing_ok=True)
