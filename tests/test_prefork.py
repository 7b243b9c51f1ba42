"""A script forked by tests/prefork.py sees what it would see as ``python script args``: the same arguments,
working directory, import path, environment, standard streams and exit status (the tests rely on it)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import prefork

SCRIPT = """\
import json, os, sys
print(json.dumps({"argv": sys.argv[1:], "script": os.path.basename(sys.argv[0]), "cwd": os.getcwd(),
                  "path0": sys.path[0], "name": __name__, "var": os.environ.get("PREFORK_TEST_VAR"),
                  "stdin": sys.stdin.read()}))
print("to stderr", file=sys.stderr)
if sys.argv[1] == "raise":
    raise ValueError("a traceback")
if sys.argv[1] == "kill":
    import signal
    os.kill(os.getpid(), signal.SIGKILL)
if sys.argv[1] == "interrupt":
    raise KeyboardInterrupt
if sys.argv[1] == "message":
    sys.exit("a message instead of a status")
if sys.argv[1] == "at exit":  # what the interpreter does at exit: join the threads, then run the atexit functions
    import atexit, threading, time
    atexit.register(lambda: print("atexit ran"))
    threading.Thread(target=lambda: (time.sleep(0.1), print("thread joined"))).start()
    print("left unflushed", end="")
    sys.exit(0)
sys.exit(int(sys.argv[1]))
"""


@pytest.fixture
def script(tmp_path: Path) -> Path:
    path = tmp_path / "bin" / "probe.py"
    path.parent.mkdir()
    path.write_text(SCRIPT)
    return path


@pytest.mark.parametrize("arg", ["0", "3", "raise", "kill", "interrupt", "message", "at exit"])
def test_a_forked_script_runs_as_a_new_interpreter_would(script: Path, tmp_path: Path, arg: str):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PREFORK_TEST_VAR": "é x"}
    assert prefork.forkable(env)
    forked = prefork.client().run([str(script), arg], env, tmp_path, 60)
    fresh = subprocess.run([sys.executable, str(script), arg], capture_output=True, text=True, env=env,
                           cwd=tmp_path, stdin=subprocess.DEVNULL, timeout=60)
    assert (forked.returncode, forked.stdout) == (fresh.returncode, fresh.stdout)
    assert forked.stderr.splitlines()[0] == fresh.stderr.splitlines()[0] == "to stderr"
    assert ("ValueError: a traceback" in forked.stderr) == (arg == "raise")
    assert forked.stderr.count("a message instead of a status") == fresh.stderr.count("a message instead of a status")


def test_a_script_past_its_timeout_is_killed_and_reported_as_subprocess_does(tmp_path: Path):
    slow = tmp_path / "slow.py"
    slow.write_text("import os, time\nprint(os.getpid(), flush=True)\ntime.sleep(60)\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with pytest.raises(subprocess.TimeoutExpired) as forked:
        prefork.client().run([str(slow)], env, tmp_path, 1)
    with pytest.raises(subprocess.TimeoutExpired) as fresh:
        subprocess.run([sys.executable, str(slow)], capture_output=True, text=True, env=env, timeout=1)
    assert type(forked.value.output) is type(fresh.value.output) is bytes
    pid = int(forked.value.output)
    assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text(), "not killed"


def test_a_process_the_script_leaves_holding_its_output_is_waited_for_as_subprocess_waits(tmp_path: Path):
    leaves = tmp_path / "leaves.py"
    leaves.write_text("import subprocess\nsubprocess.Popen(['sleep', '5'])\nprint('done')\n")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, str(leaves)], capture_output=True, text=True, env=env, timeout=2)
    with pytest.raises(subprocess.TimeoutExpired):
        prefork.client().run([str(leaves)], env, tmp_path, 2)


@pytest.mark.parametrize("variable", ["PYTHONHASHSEED", "OPENAI_LOG", "LC_ALL", "TZ"])
def test_a_variable_read_at_start_that_the_server_did_not_start_with_gets_a_new_interpreter(variable, monkeypatch):
    server = prefork.client()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    assert prefork.forkable(env) and prefork.forkable({**env, "ARENA_TEST_KEY": "read by our own code"})
    assert not prefork.forkable({**env, variable: "debug"})
    monkeypatch.setenv(variable, "debug")  # set in this process after the server started: the server has not got it
    assert prefork.client() is server and not prefork.forkable({**os.environ, "PYTHONUNBUFFERED": "1"})
    assert not prefork.forkable({**env, prefork.FRESH_VARIABLE: "1"})
