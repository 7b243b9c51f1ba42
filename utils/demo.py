"""`make demo`: the whole pipeline, offline, on a real local model.

    python -m utils.demo

Starts llama.cpp's OpenAI-compatible server with SmolLM2-135M-Instruct on
127.0.0.1:8089 (the address config/api_config.yaml gives the four local
entries), then runs the three scripts exactly as a user would, as
subprocesses with the default configs: gen_answer.py (a baseline and two
contestants on the mini-arena questions), gen_judgment.py (the judge compares
each contestant with the baseline, both positions) and show_result.py (table,
CSV, HTML report). The server is stopped at the end, on a failure and on
Ctrl-C. Answers and judgments are cached in data/mini-arena/, so a second
run only starts the server and recomputes the table.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

from utils.local_server import llama_server, llama_server_available
from utils.plumbing.errors import EXIT_INPUT_ERROR

ROOT = Path(__file__).resolve().parent.parent
PORT = 8089  # fixed: config/api_config.yaml points the local entries here
BENCH, JUDGE, BASELINE = "mini-arena", "smollm2-judge", "smollm2-baseline"
OUT = Path("leaderboard")  # relative to ROOT; gitignored
CSV_PATH, HTML_PATH, SERVER_LOG = OUT / f"{BENCH}.csv", OUT / f"{BENCH}.html", OUT / "llama_server.log"


class StepFailed(Exception):
    """A step's script ended with a non-zero exit status; what to do next depends on it."""

    def __init__(self, script: str, code: int):
        super().__init__(f"{script} failed with exit code {code}")
        self.code = code

    @property
    def advice(self) -> str:
        if self.code == EXIT_INPUT_ERROR:  # a file or setting the error above names: running again changes nothing
            return "fix what the error above names (a local edit of config/ or data/?), then run `make demo` again"
        return "completed answers and judgments are kept; run `make demo` again to resume"


def port_in_use(port: int) -> bool:
    with socket.socket() as sock:
        # as the server will: connections of a previous run still in TIME_WAIT must not count as "in use"
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def run_step(title: str, script: str, *args: str) -> None:
    """Run one entry point the way a user would, its output going straight to the terminal."""
    print(f"\n== {title}: python {script} {' '.join(args)}".rstrip(), flush=True)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, script, *args], cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    if proc.returncode != 0:
        raise StepFailed(script, proc.returncode)
    print(f"== {title}: done in {time.monotonic() - start:.0f} s", flush=True)


def main(argv: list[str] | None = None) -> int:
    # no flags: --help says what it does, and a mistyped flag is refused before a server starts
    argparse.ArgumentParser(prog="python -m utils.demo", description=__doc__.strip(),
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    reason = llama_server_available()
    if reason:
        print(f"demo: cannot start the local model: {reason}", file=sys.stderr)
        return 1
    if port_in_use(PORT):
        print(f"demo: 127.0.0.1:{PORT} is already in use, and the demo's config/api_config.yaml points the local "
              f"models there. Stop what listens on it (see `ss -ltnp 'sport = :{PORT}'`) and run again.",
              file=sys.stderr)
        return 1
    (ROOT / OUT).mkdir(exist_ok=True)
    start = time.monotonic()
    print(f"== starting llama.cpp with SmolLM2-135M-Instruct on 127.0.0.1:{PORT} (log: {SERVER_LOG})", flush=True)
    try:
        with llama_server(port=PORT, log_path=ROOT / SERVER_LOG):
            run_step("answers", "gen_answer.py")
            run_step("judgments", "gen_judgment.py")
            run_step("results", "show_result.py", "--bench-name", BENCH, "--judge-name", JUDGE,
                     "--baseline", BASELINE, "--data-dir", "data", "--csv", str(CSV_PATH), "--html", str(HTML_PATH))
    except StepFailed as err:
        print(f"\ndemo: {err}; the server is stopped (its log: {SERVER_LOG}). {err.advice[0].upper()}{err.advice[1:]}.",
              file=sys.stderr)
        return 1
    except RuntimeError as err:  # the server did not come up
        print(f"demo: {err} (log: {SERVER_LOG})", file=sys.stderr)
        return 1
    print(f"\nDemo finished in {time.monotonic() - start:.0f} s; the server is stopped.")
    print(f"  table as CSV: {CSV_PATH}")
    print(f"  HTML report:  {HTML_PATH}  (open it in a browser; it works offline)")
    return 0


if __name__ == "__main__":
    from utils.plumbing.cli import run_cli

    run_cli(main)
