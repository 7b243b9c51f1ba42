"""How far each output file of a run has come, on stderr: bars on a terminal, plain lines in a log.

On a terminal every job (one output file) gets a tqdm bar with its rate and
ETA. Written to a file or a pipe (a CI log, ``2> run.log``), such bars are
carriage returns and cursor moves that a log shows as one garbled line, so
there each job gets plain lines instead: one as it starts, one each time it
passes another tenth of its work or ``EVERY`` seconds after its last line,
and one when it ends (or when the run stops before it does), with its counts.
"""
from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from tqdm import tqdm

EVERY = 30.0  # seconds: the longest a running job goes without a plain line, while requests come back
_STEPS = 10  # a plain line each time a job passes another 1/_STEPS of its work


@dataclass
class _Plain:
    """One job's plain-line state."""
    label: str
    total: int
    done: int = 0
    failed: int = 0
    aside: dict[str, int] = field(default_factory=dict)  # items neither stored nor failed, by why (not sent, ...)
    started: float = field(default_factory=time.monotonic)
    last_line: float = field(default_factory=time.monotonic)
    ended: bool = False


class Progress:
    """Progress of several jobs at once; ``labels_and_totals`` names each job and counts its items.

    ``advance(i, failed, aside)`` counts one item of job ``i`` as handled
    (``aside``: why it was neither stored nor failed, e.g. "not sent"); ``say``
    prints a line without breaking the bars; ``close`` ends every job.
    """

    def __init__(self, labels_and_totals: list[tuple[str, int]], unit: str, stream: TextIO | None = None):
        self._stream = stream or sys.stderr
        self._unit = unit
        self._bars: list[tqdm] = []
        self._plain: list[_Plain] = []
        if self._stream.isatty():
            self._bars = [tqdm(total=total, desc=label, unit=unit, position=i, leave=True, dynamic_ncols=True,
                               file=self._stream, smoothing=0.1)
                          for i, (label, total) in enumerate(labels_and_totals)]
            return
        for label, total in labels_and_totals:
            self._plain.append(_Plain(label=label, total=total))
            self.say(f"{label}: asking for {self._count(total)}" if total else f"{label}: nothing to ask for")

    def say(self, text: str) -> None:
        if self._bars:
            tqdm.write(text, file=self._stream)
        else:
            print(text, file=self._stream, flush=True)

    def advance(self, index: int, failed: bool = False, aside: str = "") -> None:
        if self._bars:
            self._bars[index].update(1)
            return
        job = self._plain[index]
        job.done += 1
        job.failed += failed
        if aside:
            job.aside[aside] = job.aside.get(aside, 0) + 1
        now = time.monotonic()
        if job.done == job.total:
            self._end(job, now, "finished")
        elif job.done * _STEPS // job.total > (job.done - 1) * _STEPS // job.total or now - job.last_line >= EVERY:
            rate = job.done / max(now - job.started, 1e-9)
            left = tqdm.format_interval((job.total - job.done) / rate)
            self.say(f"{job.label}: {job.done}/{self._count(job.total)} ({100 * job.done // job.total}%), "
                     f"{rate:.1f}/s, {job.failed} failed{_aside(job)}, {left} left")
            job.last_line = now

    def close(self) -> None:
        for bar in self._bars:
            bar.close()
        now = time.monotonic()
        for job in self._plain:
            if job.total and not job.ended:  # the run stopped first (an error, a full disk, Ctrl-C)
                self._end(job, now, "stopped at")

    def _end(self, job: _Plain, now: float, how: str) -> None:
        job.ended = True
        self.say(f"{job.label}: {how} {job.done}/{self._count(job.total)} in "
                 f"{tqdm.format_interval(now - job.started)}, {job.failed} failed{_aside(job)}")

    def _count(self, n: int) -> str:
        return f"{n} {self._unit}{'' if n == 1 else 's'}"


def _aside(job: _Plain) -> str:
    return "".join(f", {n} {why}" for why, n in job.aside.items())
