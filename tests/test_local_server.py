"""`python -m utils.local_server` serves a .gguf model, and the api_config entry it prints works as printed."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import pytest

from tests.helpers import ROOT, read_jsonl, run_script, unavailable, write_jsonl
from utils.local_server import free_port, llama_server_available, smollm2_path

pytestmark = pytest.mark.llama


def test_the_printed_entry_answers_and_ctrl_c_stops_the_server(tmp_path):
    if llama_server_available():
        unavailable(llama_server_available())
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "utils.local_server", "--model", str(smollm2_path()),
                             "--port", str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        lines, deadline = [], time.monotonic() + 180
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "parallel:" in line:
                break
        assert lines and lines[0].startswith("serving ") and f"127.0.0.1:{port}/v1" in lines[0], lines
        (tmp_path / "api.yaml").write_text(textwrap.dedent("".join(lines[1:])))
        (tmp_path / "settings.yaml").write_text("bench_name: tiny\nmax_tokens: 16\nmodel_list: [my-local-model]\n")
        write_jsonl(tmp_path / "data/tiny/question.jsonl",
                    [{"uid": "q1", "prompt": "What is the capital of France?"}])
        result = run_script("gen_answer.py", "--setting-file", tmp_path / "settings.yaml", "--endpoint-file",
                            tmp_path / "api.yaml", "--data-dir", tmp_path / "data")
        assert result.returncode == 0, result.stderr
        [answer] = read_jsonl(tmp_path / "data/tiny/model_answer/my-local-model.jsonl")
        assert answer["messages"][-1]["content"]["answer"].strip()
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130  # the exit status of Ctrl-C: the server was stopped on the way out
    assert "stopping the server" in err and "resume" not in err, err  # a server has no work to resume
    with pytest.raises(OSError):  # nothing listens there any more
        import socket
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
