"""Work done in a forked child process, so that it overlaps this one's on the second core: a value
(``ForkedChild``), or a file written beside (``StagedWrite``)."""
from __future__ import annotations

import atexit
import fcntl
import os
import pickle
import signal
import sys
from pathlib import Path
from typing import Callable

from utils.plumbing.store import atomic_write, is_temporary_of, temporary_beside


_STOPS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}  # the signals our commands stop on (utils/plumbing/cli.py)


class ForkedChild:
    """``work()`` run in a forked child process; ``result()`` waits for it and returns it (or raises its error).

    Reading judgments and answers is JSON parsing, which holds the GIL, so
    threads would not overlap it; processes do. show_result reads the answer
    files in one child while the judgment readers of utils/ranking/battles.py
    parse half of the judgment files in another. The child only parses and
    pickles (no BLAS, no locks another thread could hold), which is what makes
    forking a process with numpy's idle BLAS threads safe. Where fork is unavailable,
    or the child fails to deliver, the work is done in this process when the
    result is asked for. Use it as a context manager: leaving the block early
    (an error while parsing the judgments) stops the child, so no process
    outlives the call.
    """

    def __init__(self, work):
        self.work, self.pid, self.fd = work, None, None
        if self.available():
            try:
                read_fd, write_fd = os.pipe()
            except OSError:  # no descriptors left: the work waits for result(), here
                return
            # a stop signal must not reach the child before its try below: it would unwind through this
            # process's callers there, running their cleanup (their files, their exit functions) a second time
            held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
            try:
                pid = os.fork()
            except BaseException as err:
                # no process to be had (a limit, or memory: as above), or a stop that another thread received,
                # raised here as the fork returned
                os.close(read_fd)
                os.close(write_fd)
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
                if isinstance(err, OSError):
                    return
                raise
            if pid == 0:  # the child: compute, send the pickled outcome, leave without running any cleanup
                code = 0
                try:
                    os.close(read_fd)
                    try:
                        signal.pthread_sigmask(signal.SIG_SETMASK, held)  # one that came meanwhile is reported
                        payload = pickle.dumps((True, work()), pickle.HIGHEST_PROTOCOL)
                    except BaseException as err:  # noqa: BLE001 - every failure is the parent's to report
                        try:
                            payload = pickle.dumps((False, err), pickle.HIGHEST_PROTOCOL)
                        except Exception:  # noqa: BLE001 - an exception that does not pickle
                            payload = pickle.dumps((False, RuntimeError(repr(err))))
                    with os.fdopen(write_fd, "wb") as out:
                        out.write(payload)
                except BaseException:  # noqa: BLE001 - the parent notices the missing payload
                    code = 1
                finally:
                    os._exit(code)
            try:
                os.close(write_fd)
                self.pid, self.fd = pid, read_fd
            finally:
                try:
                    signal.pthread_sigmask(signal.SIG_SETMASK, held)  # a stop that came meanwhile is raised here
                except BaseException:  # and the child is not left behind
                    self.stop()
                    raise

    @staticmethod
    def available() -> bool:
        """Whether work really goes to a second process here (Linux: fork is cheap and safe for this)."""
        return sys.platform.startswith("linux") and hasattr(os, "fork")

    def result(self):
        if self.pid is None:
            return self.work()
        with os.fdopen(self.fd, "rb") as pipe:
            self.fd = None
            payload = pipe.read()
        os.waitpid(self.pid, 0)
        self.pid = None
        try:
            ok, value = pickle.loads(payload)
        except (pickle.UnpicklingError, EOFError, ValueError):
            # the child died before delivering (killed, out of memory): do the work here instead
            return self.work()
        if not ok:
            raise value
        return value

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop the child if it still runs (its work is not wanted), and let go of the pipe."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


class StagedWrite:
    """``atomic_write(path, make(), durable=False)`` in two steps, the first in a forked child.

    At once, a child calls ``make`` and writes its bytes to a temporary file
    beside ``path``, while this process goes on (show_result fits a v0.1
    table meanwhile: the 13 MB of battles are written beside the fit instead
    of after it); ``finish()`` waits for the child and renames the file into
    place, raising the child's error if it failed. Until then ``path`` is
    untouched, so a run that fails in between changes nothing: ``discard()``
    (called by ``finish``, by the caller on its way out, and at exit) stops
    the child and removes the temporary file and the folders made for it.
    The temporary file is locked while this process or its child holds it;
    one that nobody holds (its run was killed) is removed by the next
    StagedWrite of ``path``. Fork with no other thread running than idle
    ones (the child makes the bytes with the parent's memory as it was).
    Without fork, or when no temporary file can be made, ``finish()`` does it all.
    """

    def __init__(self, path: Path, make: Callable[[], bytes]):
        self.path, self.make, self.tmp, self.fd, self.child, self.made = path, make, None, None, None, []
        if not ForkedChild.available():
            return
        self.made = [folder for folder in [path.parent, *path.parent.parents] if not folder.exists()]
        try:
            _remove_unheld_temporaries(path)
            self.fd, self.tmp = temporary_beside(path)
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError:  # finish() meets the same trouble and reports it
            self.discard()
            return
        atexit.register(self.discard)
        self.child = ForkedChild(self._write_temporary)

    def _write_temporary(self) -> None:
        with open(self.tmp, "wb") as f:
            f.write(self.make())

    def finish(self) -> None:
        if self.child is None:
            atomic_write(self.path, self.make(), durable=False)
            return
        try:
            self.child.result()
            os.replace(self.tmp, self.path)
            self.tmp, self.made = None, []
        finally:
            self.discard()

    def discard(self) -> None:
        """Stop the child if it still runs; remove the temporary file and the folders made for it, if there."""
        atexit.unregister(self.discard)
        if self.child is not None:
            self.child.stop()
            self.child = None
        if self.tmp is not None:
            Path(self.tmp).unlink(missing_ok=True)
            self.tmp = None
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None
        for folder in self.made:  # the deepest first; one that something else has filled meanwhile stays
            try:
                folder.rmdir()
            except OSError:
                break
        self.made = []


def _remove_unheld_temporaries(path: Path) -> None:
    """Remove the temporary files of ``path`` no process holds a lock on: left by a run killed while it wrote."""
    try:
        entries = [e.path for e in os.scandir(path.parent) if is_temporary_of(e.name, path)]
    except OSError:  # no folder yet
        return
    for name in entries:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: a run that is writing it
            continue
        else:
            Path(name).unlink(missing_ok=True)
        finally:
            os.close(fd)
