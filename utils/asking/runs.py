"""What a paid-for run needs in both steps that ask models (answers and judgments).

* ``run_jobs`` asks for every job's items (utils/asking/jobs.py: one output
  file and its work) concurrently and returns the run's ``Summary``. A step
  only says how to ask for one item and what record that gives (an ``Outcome``).
* every record goes through the ``Writer`` (utils/asking/writer.py), the one
  task that stores results; while the disk is full it holds what arrives and
  closes the ``Room`` every request waits for before it is sent.
* ``Failure`` and ``print_failures``: a request that failed for good is
  reported with who asked, which question and why; it is never stored.
  Failures of one cause at one endpoint (requests not sent to an endpoint
  given up on, or told to wait longer than we do) are one line with their
  count, however many there are.
* ``print_summary``: the closing lines both steps print, and their exit status.
* progress on stderr (utils/asking/progress.py): a bar per job on a terminal,
  plain lines in a log.
* ``--max-cost`` (utils/asking/budget.py) and batch mode (utils/asking/batching.py)
  wrap the clients a job's requests go through.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Coroutine, Iterator, TypeVar

from utils.asking.accounts import cost_lines
from utils.asking.batching import BatchOptions, BatchPending, Batching, batched_jobs, report_running
from utils.asking.budget import Budget, check_budget
from utils.asking.clients import ModelClient
from utils.asking.jobs import Job, Outcome
from utils.asking.progress import Progress
from utils.asking.providers.base import RequestFailed
from utils.asking.writer import Room, Writer
from utils.plumbing.entry import ModelConfig
from utils.plumbing.errors import EXIT_BATCHES_RUNNING, EXIT_COST_CAP, EXIT_WAITING, Stopped
from utils.plumbing.store import JsonlStore, closed_on_error
from utils.vocabulary.verdicts import UNLABELLED_MIN_GAMES, UNLABELLED_WARN, no_label_advice

SHOWN_FAILURES = 20
NOT_SENT = {Room.NOT_SENT: "not sent (disk full)", Room.STOPPING: "not sent (stopping)"}  # Room's refusals
T = TypeVar("T")


@dataclass
class Failure:
    who: str  # the model, or "judge / model"
    uid: str
    reason: str
    group: str | None = None  # shared with other failures (RequestFailed.group): the summary shows it once
    fails_again: bool = False  # asked again unchanged it would fail the same way (RequestFailed.fails_again)


@dataclass
class Summary:
    """What a run did: per output file (``jobs``), and the requests that failed for good."""
    jobs: list[Job]
    failures: list[Failure] = field(default_factory=list)
    diagnostics: dict[str, dict[str, dict]] = field(default_factory=dict)  # judging: judge -> model -> figures
    budget: Budget | None = None  # --max-cost: what was spent, and the requests not sent
    costs: list = field(default_factory=list)  # what each file's records cost (utils.asking.accounts.FileCost)
    batches_running: list[str] = field(default_factory=list)  # one line per output file whose batches still run
    more_files: list = field(default_factory=list)  # files the step wrote besides the output and cost files

    @property
    def written(self) -> list:
        """Every file the run wrote: the output files that hold records, their cost files, ``more_files``."""
        return [*(job.store.path for job in self.jobs if job.store.records),
                *(cost.path for cost in self.costs if cost.path is not None), *self.more_files]


def exit_status(summary: Summary) -> int:
    """The step's exit status: EXIT_COST_CAP when the cap stopped it, EXIT_BATCHES_RUNNING when batches still
    run at the provider (--no-wait), 1 when requests failed, EXIT_WAITING when questions wait for their
    baseline's answers, else 0."""
    if summary.budget is not None and summary.budget.not_sent:
        return EXIT_COST_CAP
    if summary.batches_running:
        return EXIT_BATCHES_RUNNING
    if summary.failures:
        return 1
    return EXIT_WAITING if waiting_questions(summary) else 0


def waiting_questions(summary: Summary) -> int:
    """The questions of the run's judgment files left out because their baseline has no answer to them."""
    return sum(sum(job.left_out.no_baseline.values()) for job in summary.jobs)


def budget_lines(summary: Summary) -> list[str]:
    """The run summary's word on --max-cost: nothing when the cap did not stop the run."""
    return [] if summary.budget is None else summary.budget.summary_lines()


def print_summary(summary: Summary, unit: str, notes: list[str]) -> int:
    """The run summary both steps print (stdout): each output file, ``notes``, costs, failures, the cap's word
    and batches still running; returns the step's exit status."""
    for job in summary.jobs:
        print(*job_lines(job, unit), sep="\n")
    for line in [*notes, *cost_lines(summary.costs, unit), *(f"wrote {path}" for path in summary.written)]:
        print(line)
    print_failures(summary.failures, unit)
    for line in budget_lines(summary):
        print(line)
    report_running(summary.batches_running)
    status = exit_status(summary)
    if status == EXIT_WAITING:
        print(f"exit status {EXIT_WAITING}: {waiting_questions(summary)} judgment(s) wait for their baseline's "
              "answers (see above)")
    return status


def job_lines(job: Job, unit: str) -> list[str]:
    """The run summary's lines for one output file of ``unit`` records ("answer", "judgment")."""
    line = f"{job.who}: {job.new} new {unit}s, {job.done_before} already there"
    if job.completed:
        line += f", {job.completed} {unit}(s) completed (their missing game played)"
    if job.incomplete:
        line += f", {job.incomplete} stored with one game missing (run again to play it)"
    if job.unlabeled:
        line += f", {job.unlabeled} game(s) without a label (stored as null, they count zero times)"
    if job.empty:
        line += (f", {job.empty} answer(s) with no text outside the model's reasoning (stored with the answer empty; "
                 "python -m utils.check_answers lists them)")
    if job.waiting:
        line += f", {job.waiting} waiting for a provider batch (run again later to collect them)"
    lines = [line]
    if job.games >= UNLABELLED_MIN_GAMES and job.unlabeled / job.games > UNLABELLED_WARN:
        lines.append(f"  warning: {job.unlabeled / job.games:.0%} of the {job.games} games this run stored have no "
                     f"label: {job.judge}'s texts hold no verdict its patterns find; {no_label_advice(job.structured)}")
    left_out = job.left_out
    if left_out.no_answer:
        lines.append(f"  warning: {left_out.no_answer} question(s) skipped: no answer of {job.model} "
                     "(run gen_answer.py for it)")
    for baseline, count in left_out.no_baseline.items():
        lines.append(f"  warning: {count} question(s) skipped: no answer of their baseline {baseline}")
    if left_out.no_reference:
        lines.append(f"  warning: {left_out.no_reference} question(s) skipped: no reference answer "
                     "(run gen_answer.py for it)")
    if left_out.own_baseline:
        lines.append(f"  note: {left_out.own_baseline} question(s) not judged: {job.model} is their baseline")
    return lines


def report_failure(failures: list[Failure], failure: Failure, progress: Progress, where: str) -> None:
    """Keep a failed request for the run summary and say it on stderr now, once per group.

    A group's failures come in a burst, so the search back for an earlier one
    stops at once, but for the group's first.
    """
    said = failure.group is not None and any(f.group == failure.group for f in reversed(failures))
    failures.append(failure)
    if not said:
        progress.say(f"failed: {where}: {failure.reason}")


def run_and_finish(work: Coroutine[Any, Any, T], stores: list[JsonlStore], order: list[str],
                   room: Room | None = None) -> T:
    """Run ``work``, then rewrite every store once in ``order``.

    On an error or an interrupt the stores are only closed: every record
    already appended stays, and the next run resumes from it. ``room``: the
    one the work's requests go through, so that a stop lets those in flight
    come back (``run_stoppable``).
    """
    with closed_on_error(stores):
        result = run_stoppable(work, room)
        for store in stores:  # if one rewrite fails, the stores not yet finished are closed all the same
            store.finish(order)
    return result


STOPPING_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
GRACE_SECONDS = 30.0


def grace_seconds() -> float:
    """How long a stopped run waits for the requests in flight (a test may set a shorter wait)."""
    return float(os.environ.get("ARENA_TEST_GRACE_SECONDS") or GRACE_SECONDS)


def run_stoppable(work: Coroutine[Any, Any, T], room: Room | None = None) -> T:
    """``asyncio.run(work)``, stopped by Ctrl-C, SIGTERM or SIGHUP alike: ``Stopped`` is raised, with the first
    signal's exit status, once the work's clean-up ran (a batch being created is saved, what was received is written).

    The replies of requests in flight are paid for, so the first signal only
    shuts ``room``: nothing more is sent, and the requests in flight get up to
    GRACE_SECONDS to come back and be stored. Then, or at once when none is
    in flight or at a second signal, the work is cancelled. A signal after
    that changes nothing: the clean-up is not cut short (``kill -9`` stops a
    run at once, and loses nothing written).
    """
    received: list[int] = []

    async def guarded() -> T:
        loop, task = asyncio.get_running_loop(), asyncio.current_task()
        grace: list[asyncio.Task] = []

        def cancel() -> None:
            if not task.cancelling():
                task.cancel()

        async def let_in_flight_back() -> None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(room.stop(), grace_seconds())
            cancel()

        def stop(signum: int) -> None:
            received.append(signum)
            if len(received) > 1 or room is None or not room.in_flight:
                cancel()
                return
            room.say(f"stopping: no new request is sent; the {room.in_flight} request(s) in flight get up to "
                     f"{grace_seconds():g} s to come back and be stored (stop again to end at once and lose them)")
            grace.append(asyncio.ensure_future(let_in_flight_back()))
        before = {signum: signal.getsignal(signum) for signum in STOPPING_SIGNALS}
        for signum in STOPPING_SIGNALS:
            loop.add_signal_handler(signum, stop, signum)
        try:
            result = await work
        finally:
            for signum in STOPPING_SIGNALS:
                loop.remove_signal_handler(signum)
                if before[signum] is not None:  # the command's own handling again, after the asking
                    signal.signal(signum, before[signum])
            for waiting in grace:
                waiting.cancel()
        if received:  # everything came back within the grace: the run still ends as stopped
            raise Stopped(received[0])
        return result

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        if received:
            raise Stopped(received[0]) from None
        raise


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


# A step's way to ask for one item of a job, with the client of the model the job asks
Ask = Callable[[ModelClient, Job, Any], Awaitable[Outcome]]


def run_jobs(jobs: list[Job], models: dict[str, ModelConfig], ask: Ask, *, unit: str, order: list[str],
             prepare: Callable[[list[Any]], list[dict]] | None = None, max_cost: float | None = None,
             spent: float = 0.0, batch: BatchOptions | None = None) -> Summary:
    """Ask for every job's items, all concurrently, storing each record as it arrives; end files in ``order``.

    ``models`` are the models the jobs ask (``Job.asks``), each through one
    client (``parallel`` requests at a time); ``unit`` names a record in the
    progress lines; ``prepare`` is the Writer's; ``batch`` says which models
    go through their provider's batch API (utils/asking/batching.py). With
    ``max_cost`` (USD) no request is sent once the run's cost reaches it
    (utils/asking/budget.py), ``spent`` of it having gone before this call;
    every model with requests to make must then have a price, and no job may
    go through a batch, both checked before any request.
    """
    summary = Summary(jobs=jobs, budget=None if max_cost is None else Budget(max_cost, spent))
    stores = [job.store for job in jobs]
    if max_cost is not None:
        with closed_on_error(stores):
            check_budget(jobs, models, batched_jobs(jobs, models, batch))
        if any(job.todo for job in jobs):
            print(summary.budget.plan_line(jobs, models))
    room = Room()  # closed while the disk is full, and once the run is stopping: no request is sent then
    run_and_finish(_ask_for_all(jobs, models, ask, unit, prepare, summary, batch, room), stores, order, room)
    return summary


async def _ask_for_all(jobs: list[Job], models: dict[str, ModelConfig], ask: Ask, unit: str,
                       prepare: Callable[[list[Any]], list[dict]] | None, summary: Summary,
                       batch: BatchOptions | None, room: Room) -> None:
    failures, budget = summary.failures, summary.budget
    clients = {name: ModelClient(cfg, room) for name, cfg in models.items()}  # imports the SDKs
    progress = Progress([(job.who, len(job.todo)) for job in jobs], unit)
    room.say = progress.say
    direct = [clients[job.asks] if budget is None else budget.metered(job, clients[job.asks]) for job in jobs]

    async def one(index: int, job: Job, item: Any, writer: Writer) -> None:
        try:
            with batching.item(job, item):
                outcome = await ask(batching.client(job, direct[index]), job, item)
        except RequestFailed as err:
            outcome = Outcome(error=err)
        if outcome.record is not None:  # paid for: stored even when a part of it failed
            job.count(outcome)
            await writer.put(job.store, outcome.record)
        error = outcome.error
        if budget is not None and budget.refused(error, progress):
            progress.advance(index, aside="not sent (cost cap)")
            return  # not a failure: the budget counts it, and the summary says so
        if getattr(error, "group", None) in NOT_SENT:
            progress.advance(index, aside=NOT_SENT[error.group])
            return  # not a failure either: the run ends with the storage error, or as stopped, which says what to do
        if isinstance(error, BatchPending):
            job.waiting += 1
            progress.advance(index, aside="waiting in a batch")
            return
        if error is not None:
            if not isinstance(error, RequestFailed):
                raise error
            where = f"model {job.model}, question {item.uid}"
            failure = Failure(who=job.who, uid=item.uid, reason=error.reason, group=error.group,
                              fails_again=error.fails_again)
            report_failure(failures, failure, progress,
                           f"judge {job.judge}, {where}" if job.judge else where)
        progress.advance(index, failed=error is not None)

    try:
        batching = Batching(jobs, models, clients, batch, progress)  # reads the state files of earlier batches
        with settled_gc():
            async with Writer(prepare, room, progress.say) as writer:
                await batching.alongside(asyncio.gather(
                    *(one(i, job, item, writer) for i, job in enumerate(jobs) for item in job.todo)))
        batching.finish()  # every result is stored: the batch state files keep only what is still needed
        summary.batches_running = batching.notes
    finally:
        progress.close()
        for client in clients.values():
            await client.aclose()


def print_failures(failures: list[Failure], unit: str) -> None:
    """The run summary of the ``unit`` records ("answer", "judgment") a failed request kept from being stored
    whole (stdout), or nothing when all went well."""
    if not failures:
        return
    again = sum(f.fails_again for f in failures)  # too long for the model's context: a retry cannot help
    if not again:
        then = "run again to retry them"
    elif again == len(failures):
        then = "asked again unchanged they fail again: change what the lines below say, then run again"
    else:
        then = f"run again to retry them, after changing what the {again} marked 'it fails again' say"
    print(f"{len(failures)} {unit}(s) failed (a request failed for good); {then}:")
    groups: dict[str, int] = {}
    for failure in failures:
        if failure.group:
            groups[failure.group] = groups.get(failure.group, 0) + 1
    for group, count in groups.items():
        print(f"  {count} {unit}(s): request {group}")
    alone = [f for f in failures if not f.group]
    for failure in alone[:SHOWN_FAILURES]:
        print(f"  {failure.who} / {failure.uid}: {failure.reason}")
    if len(alone) > SHOWN_FAILURES:
        print(f"  ... and {len(alone) - SHOWN_FAILURES} more")
