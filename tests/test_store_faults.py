"""Paid-for work survives a full disk, a last line without its newline, and files a killed run left behind.

The disk is made full for real, without root: the script runs with a small
file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored), so a write that would grow
a file past it fails with EFBIG, as a write to a full disk fails with ENOSPC.
Making room is lifting that limit from outside (``prlimit``), as freeing
space would be. A run whose disk stays full keeps what it holds in a
recovery file, under folders the test gives it (the limit applies there
too, so those tests keep few results in flight).
"""
from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import threading
import time

from tests.helpers import (JUDGING_JUDGE as JUDGE, ROOT, SENTINEL, configure_answering, gen_answer, gen_judgment,
                           kill_9_after, lay_out_judging, make_questions, read_jsonl, run_script, stored_answers,
                           stored_judgments)
from tests.scripted_server import Answer
from utils.plumbing.errors import InputError
from utils.vocabulary.records import record_uid
from utils.plumbing.store import JsonlStore


def elsewhere(tmp_path) -> dict:
    """The environment of a run whose recovery folders (utils/plumbing/recovery.py) are the test's own."""
    (tmp_path / "tmp").mkdir(exist_ok=True)
    return {"XDG_CACHE_HOME": str(tmp_path / "cache"), "TMPDIR": str(tmp_path / "tmp")}


def file_size_limit(limit: int):
    """A ``preexec_fn``: files of the child cannot grow past ``limit`` bytes; such a write fails (EFBIG)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the kernel kills the process instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def only_complete_lines(path) -> list[dict]:
    data = path.read_bytes()
    assert data.endswith(b"\n"), "a torn last line"
    return [json.loads(line) for line in data.splitlines()]


def storage_error(stderr: str) -> tuple[str, int]:
    """The one error line of a run stopped by a failed write, and the number of results it says were lost."""
    assert "Traceback" not in stderr, stderr
    errors = [line for line in stderr.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, stderr
    lost = re.search(r"(\d+) result\(s\)", errors[0])
    assert lost, errors[0]
    return errors[0], int(lost.group(1))


# ---------------------------------------------------------------- a full disk


def test_a_full_disk_stops_the_requests_keeps_what_was_stored_and_a_rerun_resumes(tmp_path, scripted_server):
    count, parallel = 300, 2
    # slow enough that the writer's first batch (it loads the tokenizer, ~1 s on a busy machine) cannot let
    # most of the questions through before the disk is found full
    scripted_server.latency = 0.1
    args = configure_answering(tmp_path, [scripted_server], parallel=parallel, questions=make_questions(count))
    path = tmp_path / "data/faults/model_answer/model-a.jsonl"
    env = {"ARENA_TEST_KEY": SENTINEL, "ARENA_TEST_DISK_WAIT_SECONDS": "1", **elsewhere(tmp_path)}

    proc = run_script("gen_answer.py", *args, env=env, preexec_fn=file_size_limit(6000), timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line, kept_aside = storage_error(proc.stderr)
    for fragment in ("model-a.jsonl", "File too large", "run again"):
        assert fragment in line, (fragment, line)
    kept = only_complete_lines(path)
    longest = max(map(len, path.read_bytes().splitlines(keepends=True)))
    # as many answers as fit were kept: less room is left than one more answer takes (they are all alike)
    assert 0 <= 6000 - path.stat().st_size < 1.1 * longest, (path.stat().st_size, longest)
    sent = len(scripted_server.chat_requests())
    # every request sent was stored, or kept aside for the next run: none is lost
    assert sent == len(kept) + kept_aside, (sent, len(kept), kept_aside)
    assert sent < count // 5, f"{sent} of {count} requests sent after the disk filled up"
    assert not [p for p in path.parent.iterdir() if p.name != "model-a.jsonl"], "litter beside the answers"
    # the progress log says where the run stopped, and why the rest was not sent
    stopped = re.findall(r"model-a: finished 300/300 answers in \d\d:\d\d, 0 failed, (\d+) not sent \(disk full\)",
                         proc.stderr)
    assert stopped and int(stopped[0]) == count - sent, proc.stderr

    scripted_server.latency = 0
    again = run_script("gen_answer.py", *args, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert len(scripted_server.chat_requests()) - sent == count - len(kept) - kept_aside
    final = read_jsonl(path)
    assert [r["uid"] for r in final] == [q["uid"] for q in make_questions(count)]
    by_uid = {r["uid"]: r["ans_id"] for r in final}
    assert all(by_uid[r["uid"]] == r["ans_id"] for r in kept), "an answer paid for in the first run was replaced"


def test_a_full_disk_stops_the_judge_requests_too_and_keeps_a_played_game(tmp_path, scripted_server):
    count, parallel = 150, 2
    scripted_server.latency = 0.05
    scripted_server.rules = [(lambda r: True, Answer("A is better. [[A>B]]"))]
    questions = [{"uid": f"q{i:03d}", "category": "general", "prompt": f"Question {i}?"} for i in range(count)]
    args = lay_out_judging(tmp_path, scripted_server, questions=questions, models=("m-one",), parallel=parallel)
    path = tmp_path / "data/jbench/model_judgment" / JUDGE / "m-one.jsonl"
    env = {"ARENA_TEST_DISK_WAIT_SECONDS": "1", **elsewhere(tmp_path)}

    proc = run_script("gen_judgment.py", *args, env=env, preexec_fn=file_size_limit(8000), timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line, kept_aside = storage_error(proc.stderr)
    for fragment in ("m-one.jsonl", "File too large", "run again"):
        assert fragment in line, (fragment, line)
    kept = only_complete_lines(path)
    aside = read_jsonl(next(tmp_path.rglob("*.recovered")))
    assert len(aside) == kept_aside
    sent = len(scripted_server.chat_requests())
    # every game played is stored or kept aside, also the one of a judgment whose other game was not sent
    played = sum(g is not None for r in kept + aside for g in r["games"])
    assert sent == played, (sent, played)
    assert sent < 2 * count // 5, f"{sent} of {2 * count} requests sent after the disk filled up"

    scripted_server.latency = 0
    again = run_script("gen_judgment.py", *args, env=env, timeout=120)
    assert again.returncode == 0, again.stderr
    assert len(scripted_server.chat_requests()) == 2 * count, "each game played once"
    assert [r["uid"] for r in stored_judgments(tmp_path, "m-one")] == [q["uid"] for q in questions]


def disk_full_then(limit: int):
    """A ``preexec_fn`` like ``file_size_limit``, whose limit the test may lift later (``make_room``)."""
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    return apply


def make_room(pid: int) -> None:
    """What freeing disk space is to the run ``pid``: its writes fit again."""
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def test_answers_received_while_the_disk_is_full_are_held_and_stored_once_there_is_room(tmp_path, scripted_server):
    count = 40
    scripted_server.latency = 0.1
    args = configure_answering(tmp_path, [scripted_server], parallel=2, questions=make_questions(count))
    path = tmp_path / "data/faults/model_answer/model-a.jsonl"
    stderr_path = tmp_path / "stderr.txt"
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([sys.executable, str(ROOT / "gen_answer.py"), *map(str, args)], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=err, preexec_fn=disk_full_then(6000),
                                env={**os.environ, "ARENA_TEST_KEY": SENTINEL, **elsewhere(tmp_path)})
        deadline = time.monotonic() + 60
        while "free some space" not in stderr_path.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, stderr_path.read_text()
            time.sleep(0.05)
        time.sleep(1.0)  # the requests in flight come back meanwhile, and are held: no new one goes out
        sent_while_full = len(scripted_server.chat_requests())
        time.sleep(0.5)
        assert len(scripted_server.chat_requests()) == sent_while_full, "requests were sent while the disk was full"
        make_room(proc.pid)
        out, _ = proc.communicate(timeout=120)
    stderr = stderr_path.read_text()
    assert proc.returncode == 0, out.decode() + stderr
    assert stderr.count("free some space") == 1, "said once"
    assert "room again" in stderr and "Traceback" not in stderr
    assert len(scripted_server.chat_requests()) == count, "every answer paid for once, none lost"
    assert [r["uid"] for r in read_jsonl(path)] == [q["uid"] for q in make_questions(count)]


def test_held_answers_go_to_a_recovery_file_when_the_run_must_end_and_the_next_run_takes_them_in(tmp_path,
                                                                                                 scripted_server):
    count = 30
    scripted_server.latency = 0.1
    args = configure_answering(tmp_path, [scripted_server], parallel=2, questions=make_questions(count))
    path = tmp_path / "data/faults/model_answer/model-a.jsonl"
    env = {"ARENA_TEST_KEY": SENTINEL, "ARENA_TEST_DISK_WAIT_SECONDS": "1", **elsewhere(tmp_path)}
    proc = run_script("gen_answer.py", *args, env=env, preexec_fn=file_size_limit(6000), timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    line, kept_aside = storage_error(proc.stderr)
    recovered = [p for p in tmp_path.rglob("*.recovered")]
    assert len(recovered) == 1 and str(recovered[0]) in line, line
    assert len(read_jsonl(recovered[0])) == kept_aside > 0
    stored = only_complete_lines(path)
    sent = len(scripted_server.chat_requests())
    assert sent == len(stored) + kept_aside, "every answer received is stored or kept aside"

    scripted_server.latency = 0
    again = run_script("gen_answer.py", *args, env=env, timeout=120)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"took in {kept_aside} record(s) from {recovered[0]}" in again.stderr
    assert len(scripted_server.chat_requests()) == count, "nothing received was asked for again"
    assert [r["uid"] for r in read_jsonl(path)] == [q["uid"] for q in make_questions(count)]
    assert not recovered[0].exists()


# ---------------------------------------------------------------- a last line without its newline


def test_a_complete_last_record_without_its_newline_is_kept_not_bought_again(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(4))
    assert gen_answer(args).returncode == 0
    path = tmp_path / "data/faults/model_answer/model-a.jsonl"
    before = read_jsonl(path)
    path.write_bytes(path.read_bytes().rstrip(b"\n"))  # e.g. copied by an editor that drops the final newline
    sent = len(scripted_server.chat_requests())

    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    assert len(scripted_server.chat_requests()) == sent, "the last answer was bought again"
    assert "dropping" not in proc.stderr
    assert only_complete_lines(path) == before


def test_an_unterminated_tail_is_kept_only_when_it_is_a_whole_keyed_record(tmp_path, capsys):
    whole = b'{"uid": "q1", "answer": "kept"}'
    for tail, kept in ((whole, True), (whole[:-1], False), (b'{"answer": "no uid"}', False), (b'["q1"]', False)):
        path = tmp_path / "answers.jsonl"
        path.write_bytes(b'{"uid": "q0"}\n' + tail)
        store = JsonlStore(path, key=record_uid).open()
        store.close()
        assert sorted(store.records) == (["q0", "q1"] if kept else ["q0"]), tail
        assert path.read_bytes() == b'{"uid": "q0"}\n' + (tail + b"\n" if kept else b""), tail
        assert ("dropping an unfinished last line" in capsys.readouterr().err) is not kept, tail


# ---------------------------------------------------------------- leftovers: temporary and lock files


def test_temporary_files_of_an_interrupted_rewrite_are_removed_by_the_next_run(tmp_path, scripted_server):
    args = configure_answering(tmp_path, [scripted_server], questions=make_questions(3))
    folder = tmp_path / "data/faults/model_answer"
    folder.mkdir(parents=True)
    # what store.atomic_write leaves when killed between creating its temporary file and the rename
    fd, leftover = tempfile.mkstemp(dir=folder, prefix=".model-a.jsonl.", suffix=".tmp")
    with open(fd, "wb") as f:
        f.write(b'{"uid": "q0000", "half a rew')
    others = [folder / ".model-a.jsonl.notes.tmp",  # not a name atomic_write makes
              folder / ".model-z.jsonl.abcd1234.tmp"]  # another model's file, not opened by this run
    for other in others:
        other.write_text("not ours")

    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in folder.iterdir()) == sorted(["model-a.jsonl", *(p.name for p in others)])
    assert not (folder / leftover).exists()


def test_no_lock_files_are_left_beside_answers_or_judgments(tmp_path, scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("[[A>B]]"))]
    args = lay_out_judging(tmp_path, scripted_server, models=("m-one", "m-two"))
    assert gen_judgment(args).returncode == 0
    judged = tmp_path / "data/jbench/model_judgment" / JUDGE
    assert sorted(p.name for p in judged.iterdir()) == ["diagnostics.json", "m-one.jsonl", "m-two.jsonl"]

    answer_args = configure_answering(tmp_path, [scripted_server], models=("model-a", "org/model-b"))
    assert gen_answer(answer_args).returncode == 0
    folder = tmp_path / "data/faults/model_answer"
    assert sorted(p.name for p in folder.iterdir()) == ["model-a.jsonl", "org%2Fmodel-b.jsonl"]


def test_a_lock_file_left_by_a_killed_run_does_not_block_the_next_one(tmp_path, scripted_server, monkeypatch):
    monkeypatch.setenv("ARENA_TEST_KEY", SENTINEL)  # kill_9_after passes on this environment
    scripted_server.latency = 0.05
    args = configure_answering(tmp_path, [scripted_server], parallel=2, questions=make_questions(40))
    path = tmp_path / "data/faults/model_answer/model-a.jsonl"
    kill_9_after("gen_answer.py", args, path, lines=3, timeout=60)
    assert path.with_name("model-a.jsonl.lock").exists(), "the kill should have left the lock file"
    kept = len(read_jsonl(path))

    proc = gen_answer(args)
    assert proc.returncode == 0, proc.stderr
    assert len(stored_answers(tmp_path)) == 40 and kept >= 3
    assert sorted(p.name for p in path.parent.iterdir()) == ["model-a.jsonl"]


def test_the_lock_lets_one_holder_in_at_a_time_while_lock_files_come_and_go(tmp_path):
    """Openers racing on one file: never two holders at once, however opens, unlinks and closes interleave.

    (flock conflicts between two opens of a file even in one process, so threads can play the runs.)
    """
    path = tmp_path / "race.jsonl"
    holders: list[int] = []
    overlaps: list[list[int]] = []
    turns, entries = 25, [0] * 6
    deadline = time.monotonic() + 60

    def contender(me: int) -> None:
        while entries[me] < turns and time.monotonic() < deadline:
            try:
                store = JsonlStore(path, key=record_uid).open()
            except InputError:
                continue
            holders.append(me)
            if len(holders) > 1:
                overlaps.append(list(holders))
            entries[me] += 1
            time.sleep(0)
            holders.remove(me)
            store.close()

    threads = [threading.Thread(target=contender, args=(i,)) for i in range(len(entries))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not overlaps, overlaps[:3]
    assert entries == [turns] * len(entries)  # every contender got in, again and again
    assert not path.with_name("race.jsonl.lock").exists()
