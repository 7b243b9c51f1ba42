"""A value computed in a forked child process, so that parsing on the second core overlaps this one's."""
from __future__ import annotations

import os
import pickle
import signal
import sys


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
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: compute, send the pickled outcome, leave without running any cleanup
                code = 0
                try:
                    os.close(read_fd)
                    try:
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
            os.close(write_fd)
            self.pid, self.fd = pid, read_fd

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
