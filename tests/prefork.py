"""A Python process that has the heavy libraries imported already, and forks a new process for each script run.

The tests start gen_answer.py, gen_judgment.py, show_result.py and the
``python -m utils....`` commands about 700 times. Most of such a start was the
import of the provider SDKs (``import openai`` about 0.6 s of CPU,
``anthropic`` 1.6 s: their pydantic models are built at import), paid again by
every process. ``tests/helpers.run_script`` therefore asks this server to
fork: the child is a new process (its own pid, signals, file descriptors and
exit status) that runs the script from its file as ``python script.py args``
would, in the working directory and with the environment the test gives, its
output read from pipes as subprocess.run reads it (to their end: a process the
script leaves holding them is noticed). The SDKs are imported ahead, and so
are our scripts' modules: none of ours reads the environment, the working
directory or the arguments when imported (the settings tests change,
ARENA_TEST_*, are read when used), so a child runs them as a new process would.

What a child shares with its siblings: the preloaded modules (a script that
forgot an import a preloaded package makes for it would not fail here: the
README's quickstart test and the tests that signal or kill a script start
new interpreters, and ``ARENA_TESTS_FRESH_PYTHON=1`` starts every script in
one), and the seed of ``hash()`` for strings. What it cannot share, run_script
starts in a new interpreter: a run whose environment differs from the
server's start in a variable read when the interpreter starts or a preloaded
package is imported (``READ_AT_START``), or a script under a prefix such as
``setpriv``. ``python -m`` runs keep runpy's ``__main__`` swap (the module
is swapped back when its body ends).

How a run is asked for: the client sends one byte over the server's control
socket with three descriptors, a new socket for this run and the write ends
of its stdout and stderr pipes; the server forks a supervisor, which reads
the request (argv, cwd, env: length-prefixed JSON) from the run's socket,
forks the script's process, sends back its pid, and sends its exit status
as subprocess reports one (minus the signal number for a process a signal
ended) once it has ended; it kills the script if the client stops waiting
(a timeout, an interrupted test, a test process gone). The server ends when
the control socket closes, however the test process ends.
"""
from __future__ import annotations

import contextlib
import gc
import json
import locale
import os
import runpy
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import types
from pathlib import Path

PRELOADED = ("openai", "anthropic", "httpx2", "numpy", "yaml", "orjson", "asyncio", "concurrent.futures",
             "sklearn.feature_extraction.text")  # the last: check_answers' off-question check (1 s of every run)
# our scripts' modules, imported as modules (their `if __name__ == "__main__"` bodies do not run), and what the
# `python -m` commands import (not those modules themselves: runpy warns when the module it runs is loaded already)
OURS = ("gen_answer", "gen_judgment", "show_result", "utils.ranking.judgment_checks", "utils.bundles.pack",
        "utils.bundles.verify", "utils.vocabulary.answer_checks")
FRESH_VARIABLE = "ARENA_TESTS_FRESH_PYTHON"  # =1: every script in a new interpreter
# variables read once, when the interpreter starts or a preloaded package is imported (our code reads none of them):
# those that begin so, and these
READ_AT_START_PREFIXES = ("PYTHON", "LC_", "OMP_", "OPENBLAS_", "MKL_", "TQDM_", "SKLEARN_")
READ_AT_START = {"LANG", "LANGUAGE", "TZ", "OPENAI_LOG", "ANTHROPIC_LOG", "DEFER_PYDANTIC_BUILD", "OPENAI_API_TYPE",
                 "OPENAI_API_VERSION", "AZURE_OPENAI_ENDPOINT"}
KILL_WAIT = 10.0  # seconds a timed-out run's script is given to be gone before TimeoutExpired is raised anyway
_LENGTH = struct.Struct("!Q")
_STATUS = struct.Struct("!q")


def forkable(env: dict) -> bool:
    """Whether a script run with this environment may be forked from this process's server (else: a new
    interpreter): it must not differ from the server's start in a variable read at start."""
    if env.get(FRESH_VARIABLE) == "1" or not hasattr(os, "pidfd_open") or not hasattr(socket, "send_fds"):
        return False
    started = client().started
    return all(env.get(k) == started.get(k) for k in {*env, *started} if _read_at_start(k))


def _read_at_start(name: str) -> bool:
    return name.startswith(READ_AT_START_PREFIXES) or name in READ_AT_START


class Client:
    """The test process's side: starts the server and asks it for each run."""

    def __init__(self):
        self.started = {**os.environ, "PYTHONUNBUFFERED": "1"}  # the environment the server starts with
        self.control, theirs = socket.socketpair()
        with theirs:
            self.proc = subprocess.Popen([sys.executable, __file__, str(theirs.fileno())], pass_fds=[theirs.fileno()],
                                         stdout=subprocess.PIPE, env=self.started, cwd=Path(__file__).parent.parent)
        if self.proc.stdout.readline() != b"ready\n":
            raise RuntimeError(f"tests/prefork.py did not start (exit status {self.proc.wait()})")
        self.sending = threading.Lock()

    def run(self, argv: list[str], env: dict, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
        """Run ``python *argv`` in ``cwd`` with ``env``: its exit status and output, as subprocess.run gives them
        (its TimeoutExpired, after killing the script, at the timeout)."""
        cmd = [sys.executable, *argv]
        conn, theirs = socket.socketpair()
        (out, out_w), (err, err_w) = os.pipe(), os.pipe()
        try:
            with theirs, self.sending:
                socket.send_fds(self.control, [b"r"], [theirs.fileno(), out_w, err_w])
            os.close(out_w)
            os.close(err_w)
            payload = json.dumps({"argv": argv, "cwd": str(Path(cwd).resolve()), "env": env}).encode()
            conn.sendall(_LENGTH.pack(len(payload)) + payload)
            code, output = _collect(conn, {out: b"", err: b""}, time.monotonic() + timeout)
            if code is None:  # the supervisor kills the script, as subprocess.run does, and says when it is gone
                conn.shutdown(socket.SHUT_WR)
                conn.settimeout(KILL_WAIT)
                with contextlib.suppress(OSError):
                    while conn.recv(16):
                        pass
                raise subprocess.TimeoutExpired(cmd, timeout, output[out], output[err])
            return subprocess.CompletedProcess(cmd, code, _text(output[out]), _text(output[err]))
        finally:
            conn.close()
            for fd in (out, err):
                os.close(fd)


def _collect(conn: socket.socket, output: dict[int, bytes], deadline: float) -> tuple[int | None, dict[int, bytes]]:
    """Read the pipes to their end and the run's pid and exit status, until ``deadline``: (the exit status, None
    at the deadline; what each pipe gave)."""
    report = b""
    with selectors.DefaultSelector() as sel:
        for fd in output:
            sel.register(fd, selectors.EVENT_READ)
        sel.register(conn, selectors.EVENT_READ)
        while len(sel.get_map()) > 0:
            left = deadline - time.monotonic()
            ready = sel.select(left) if left > 0 else []
            if not ready:
                return None, output
            for key, _ in ready:
                if key.fileobj is conn:
                    more = conn.recv(_LENGTH.size + _STATUS.size - len(report))
                    report += more
                    if not more or len(report) == _LENGTH.size + _STATUS.size:
                        sel.unregister(conn)
                    continue
                more = os.read(key.fd, 1 << 16)
                output[key.fd] += more
                if not more:
                    sel.unregister(key.fd)
    if len(report) < _LENGTH.size + _STATUS.size:
        raise RuntimeError("tests/prefork.py ended a run without reporting its exit status")
    return _STATUS.unpack_from(report, _LENGTH.size)[0], output


def _text(data: bytes) -> str:
    """A captured stream, decoded as ``subprocess.run(text=True)`` decodes it."""
    return data.decode(locale.getpreferredencoding(False)).replace("\r\n", "\n").replace("\r", "\n")


_client: tuple[int, Client] | None = None  # (the pid of the process it belongs to, the client)
_starting = threading.Lock()


def client() -> Client:
    """This process's client, its server started on first use (and again if it died)."""
    global _client
    with _starting:
        if _client is None or _client[0] != os.getpid() or _client[1].proc.poll() is not None:
            _client = (os.getpid(), Client())
        return _client[1]


# ---------------------------------------------------------------- the server's side


def serve(control: socket.socket) -> tuple[dict, list[int]]:
    """Fork a supervisor for each run asked for on ``control``, until it closes.

    Returns only in a script's own process: the run's request and its stdout and stderr descriptors.
    """
    for name in PRELOADED:
        try:
            __import__(name)
        except ImportError:
            pass
    root = str(Path(__file__).resolve().parent.parent)
    sys.path.insert(0, root)
    for name in OURS:
        __import__(name)
    sys.path.remove(root)  # each run sets its own sys.path[0], as a new interpreter would
    # out of the collector's sight: a child's collections and exit would otherwise walk every preloaded object and
    # copy each page it shares with this process (a child's exit took 0.32 s instead of 0.07 s)
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the supervisors are reaped by the kernel
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the tests' and the scripts' to handle
    print("ready", flush=True)
    while True:
        marker, fds, _, _ = socket.recv_fds(control, 1, 3)
        if not marker:  # the test process is gone
            os._exit(0)
        if os.fork() == 0:
            control.close()
            return _supervise(socket.socket(fileno=fds[0]), fds[1:])
        for fd in fds:
            os.close(fd)


def _supervise(conn: socket.socket, streams: list[int]) -> tuple[dict, list[int]]:
    """In the supervisor: read the request, fork the script's process, report its pid and exit status, and kill
    it if the client stops waiting first."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        size = _LENGTH.unpack(_exactly(conn, _LENGTH.size))[0]
        request = json.loads(_exactly(conn, size))
    except (OSError, EOFError):
        os._exit(0)
    pid = os.fork()
    if pid == 0:
        conn.close()
        return request, streams
    for fd in streams:
        os.close(fd)
    try:
        conn.sendall(_LENGTH.pack(pid))
        with os.fdopen(os.pidfd_open(pid)) as ended:  # readable once the script has ended
            if ended not in select.select([conn, ended], [], [])[0]:
                os.kill(pid, signal.SIGKILL)  # the client stopped waiting: timeout, interrupted test, process gone
        _, status = os.waitpid(pid, 0)
        conn.sendall(_STATUS.pack(os.waitstatus_to_exitcode(status)))
    except OSError:  # the client is gone
        pass
    os._exit(0)


def _exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = conn.recv(n - len(data))
        if not more:
            raise EOFError
        data += more
    return data


def run(request: dict, streams: list[int]) -> None:
    """In the script's process: its working directory, environment, standard streams and arguments, then the
    script itself as the main module (its exit is the process's exit, made by ``_leave``)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    for target, fd in ((0, null), (1, streams[0]), (2, streams[1])):
        os.dup2(fd, target)
        os.close(fd)
    argv = request["argv"]
    try:
        if argv[0] == "-m":  # as ``python -m``: the working directory first on the path, the module's file as argv[0]
            sys.path[0], sys.argv = os.getcwd(), argv[1:]
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        else:
            sys.path[0], sys.argv = os.path.dirname(os.path.realpath(argv[0])), list(argv)
            main = sys.modules["__main__"] = types.ModuleType("__main__")  # kept as __main__ until the process ends
            main.__file__, main.__builtins__ = argv[0], __builtins__
            with open(argv[0], "rb") as f:
                code = compile(f.read(), argv[0], "exec")
            exec(code, main.__dict__)
    except SystemExit as stop:
        _leave(_exit_status(stop.code))
    except KeyboardInterrupt:  # as the interpreter ends on one: its traceback, then killed by the signal
        sys.excepthook(*sys.exc_info())
        _leave(None)
    except BaseException:  # noqa: BLE001 - as the interpreter ends on an uncaught error: its traceback, status 1
        sys.excepthook(*sys.exc_info())
        _leave(1)
    _leave(0)


def _exit_status(code) -> int:
    """The status the interpreter gives a SystemExit's code: None 0, a number itself, anything else printed and 1."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


def _leave(status: int | None) -> None:
    """End the script's process as the interpreter would, but without tearing down every module the server
    preloaded: freeing them copies each page they share with the server, which took 0.3 to 1.2 s a run.
    ``None``: end by SIGINT, as an uncaught KeyboardInterrupt does."""
    from utils.plumbing.cli import end_process  # preloaded with our modules
    end_process(255 if status is None else status, signal.SIGINT if status is None else None)


if __name__ == "__main__":
    run(*serve(socket.socket(fileno=int(sys.argv[1]))))
