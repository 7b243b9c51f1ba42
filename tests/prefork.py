"""A Python process that has the heavy libraries imported already, and forks a new process for each script run.

The tests start gen_answer.py, gen_judgment.py, show_result.py and the
``python -m utils....`` commands about 700 times. Most of such a start was the
import of the provider SDKs (``import openai`` about 0.6 s of CPU,
``anthropic`` 1.6 s: their pydantic models are built at import), paid again by
every process. ``tests/helpers.run_script`` therefore asks this server to
fork: the child is a new process (its own pid, signals, file descriptors and
exit status) that runs the script from its file as ``python script.py args``
would, in the working directory and with the environment the test gives, its
output going to the test's files. Only third-party modules are imported
ahead: our own modules read the environment when they are imported, so the
child imports them afresh, as a user's process does.

run_script starts a new interpreter instead for a script under a prefix
(``setpriv``) or with ``PYTHON...`` variables other than the server's (the
interpreter reads them at its start), and for every script when
``ARENA_TESTS_FRESH_PYTHON=1``. The tests that signal or kill a script start
it with subprocess themselves.

How a run is asked for: the client sends one byte over the server's control
socket with three descriptors, a new socket for this run and its stdout and
stderr files; the server forks a supervisor, which reads the request (argv,
cwd, env: length-prefixed JSON) from the run's socket, forks the script's
process, sends back its pid, waits for it and sends its exit status as
subprocess reports one (minus the signal number for a process a signal
ended). The server ends when the control socket closes: when the test
process ends, however it ends.
"""
from __future__ import annotations

import gc
import json
import locale
import os
import runpy
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

PRELOADED = ("openai", "anthropic", "httpx2", "numpy", "yaml", "orjson", "asyncio", "concurrent.futures")
FRESH_VARIABLE = "ARENA_TESTS_FRESH_PYTHON"  # =1: every script in a new interpreter
_SET_BY_SERVER = {"PYTHONUNBUFFERED": "1"}  # what the server's own start sets for every child
_LENGTH = struct.Struct("!Q")
_STATUS = struct.Struct("!q")


def forkable(env: dict) -> bool:
    """Whether a script run with this environment may be forked from the server (else: a new interpreter)."""
    if env.get(FRESH_VARIABLE) == "1" or not hasattr(os, "fork") or not hasattr(socket, "send_fds"):
        return False
    started = _server_env()
    return all(env.get(k) == started.get(k) for k in {*env, *started} if k.startswith("PYTHON"))


def _server_env() -> dict:
    return {**os.environ, **_SET_BY_SERVER}


class Client:
    """The test process's side: starts the server and asks it for each run."""

    def __init__(self):
        self.control, theirs = socket.socketpair()
        with theirs:
            self.proc = subprocess.Popen([sys.executable, __file__, str(theirs.fileno())], pass_fds=[theirs.fileno()],
                                         stdout=subprocess.PIPE, env=_server_env(), cwd=Path(__file__).parent.parent)
        if self.proc.stdout.readline() != b"ready\n":
            raise RuntimeError(f"tests/prefork.py did not start (exit status {self.proc.wait()})")
        self.sending = threading.Lock()

    def run(self, argv: list[str], env: dict, cwd: Path, timeout: float) -> subprocess.CompletedProcess:
        """Run ``python *argv`` in ``cwd`` with ``env``: its exit status and output, as subprocess.run gives them."""
        cmd = [sys.executable, *argv]
        conn, theirs = socket.socketpair()
        with conn, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            with theirs, self.sending:
                socket.send_fds(self.control, [b"r"], [theirs.fileno(), out.fileno(), err.fileno()])
            payload = json.dumps({"argv": argv, "cwd": str(Path(cwd).resolve()), "env": env}).encode()
            conn.sendall(_LENGTH.pack(len(payload)) + payload)
            conn.settimeout(timeout)
            pid = _LENGTH.unpack(_read_exactly(conn, _LENGTH.size))[0]
            try:
                code = _STATUS.unpack(_read_exactly(conn, _STATUS.size))[0]
            except TimeoutError:
                os.kill(pid, signal.SIGKILL)  # as subprocess.run does at its timeout
                conn.settimeout(None)
                _read_exactly(conn, _STATUS.size)
                raise subprocess.TimeoutExpired(cmd, timeout, _text(out), _text(err)) from None
            return subprocess.CompletedProcess(cmd, code, _text(out), _text(err))


def _read_exactly(conn: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        more = conn.recv(n - len(data))
        if not more:
            raise RuntimeError("tests/prefork.py ended a run without reporting its exit status")
        data += more
    return data


def _text(f) -> str:
    """A captured stream, decoded as ``subprocess.run(text=True)`` decodes it."""
    f.seek(0)
    data = f.read().decode(locale.getpreferredencoding(False))
    return data.replace("\r\n", "\n").replace("\r", "\n")


_client: tuple[int, Client] | None = None  # (the pid of the process it belongs to, the client)
_starting = threading.Lock()


def client() -> Client:
    """This process's client, its server started on first use."""
    global _client
    with _starting:
        if _client is None or _client[0] != os.getpid():
            _client = (os.getpid(), Client())
        return _client[1]


def serve(control: socket.socket) -> tuple[dict, list[int]]:
    """Fork a supervisor for each run asked for on ``control``, until it closes.

    Returns only in a script's own process: the run's request and its stdout and stderr descriptors.
    """
    for name in PRELOADED:
        try:
            __import__(name)
        except ImportError:
            pass
    # out of the collector's sight: a child's collections and exit would otherwise walk every preloaded object and
    # copy each page it shares with this process (a child's exit took 0.32 s instead of 0.07 s)
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the supervisors are reaped by the kernel
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
    """In the supervisor: read the request, fork the script's process, report its pid and exit status."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    size = _LENGTH.unpack(_read_exactly(conn, _LENGTH.size))[0]
    request = json.loads(_read_exactly(conn, size))
    pid = os.fork()
    if pid == 0:
        conn.close()
        return request, streams
    for fd in streams:
        os.close(fd)
    conn.sendall(_LENGTH.pack(pid))
    _, status = os.waitpid(pid, 0)
    conn.sendall(_STATUS.pack(os.waitstatus_to_exitcode(status)))
    os._exit(0)


def run(request: dict, streams: list[int]) -> None:
    """In the script's process: its working directory, environment, standard streams and arguments, then the
    script itself as the main module (its exit is the process's exit)."""
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    null = os.open(os.devnull, os.O_RDONLY)
    for target, fd in ((0, null), (1, streams[0]), (2, streams[1])):
        os.dup2(fd, target)
        os.close(fd)
    argv = request["argv"]
    if argv[0] == "-m":  # as ``python -m``: the working directory first on the path, the module's file as argv[0]
        sys.path[0], sys.argv = os.getcwd(), argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    else:
        sys.path[0], sys.argv = os.path.dirname(os.path.abspath(argv[0])), list(argv)
        runpy.run_path(argv[0], run_name="__main__")


if __name__ == "__main__":
    run(*serve(socket.socket(fileno=int(sys.argv[1]))))
