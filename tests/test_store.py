"""utils.plumbing.store on its own: what a paid-for record's file guarantees, called directly."""
from __future__ import annotations

import json
import os

import pytest

from utils.plumbing.errors import InputError
from utils.vocabulary.records import record_uid
from utils.plumbing.store import JsonlStore, atomic_write, check_writable, dump_line


def lines(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_finish_writes_one_record_per_question_in_the_order_asked_and_keeps_the_rest(tmp_path):
    path = tmp_path / "answers.jsonl"
    store = JsonlStore(path, key=record_uid).open()
    store.append_many([{"uid": "q3", "n": 1}, {"uid": "q1", "n": 1}, {"uid": "extra", "n": 1}])
    store.append_many([{"uid": "q1", "n": 2}])  # a second answer to q1: the first one, paid first, stays
    store.finish(["q1", "q2", "q3"])
    assert lines(path) == [{"uid": "q1", "n": 1}, {"uid": "q3", "n": 1}, {"uid": "extra", "n": 1}]
    assert not list(tmp_path.glob(".*"))  # no temporary or lock file left beside it


def test_every_append_is_on_disk_before_it_returns(tmp_path):
    path = tmp_path / "answers.jsonl"
    store = JsonlStore(path, key=record_uid).open()
    store.append_many([{"uid": "q1"}])
    assert lines(path) == [{"uid": "q1"}]  # readable by another process now, before finish or close
    store.close()
    assert lines(path) == [{"uid": "q1"}]  # close keeps what was appended and rewrites nothing


def test_a_more_complete_record_replaces_the_one_held(tmp_path):
    path = tmp_path / "judgments.jsonl"
    rank = lambda rec: sum(g is not None for g in rec["games"])  # noqa: E731
    store = JsonlStore(path, key=record_uid, rank=rank).open()
    store.append_many([{"uid": "q1", "games": ["g1", None]}])
    store.append_many([{"uid": "q1", "games": ["g1", None]}])  # no better: not appended
    store.append_many([{"uid": "q1", "games": ["g1", "g2"]}])
    store.close()
    assert len(lines(path)) == 2  # both lines are on disk until the final rewrite...
    reopened = JsonlStore(path, key=record_uid, rank=rank).open()
    assert reopened.records["q1"]["games"] == ["g1", "g2"]  # ...and loading keeps the complete one
    reopened.finish(["q1"])
    assert lines(path) == [{"uid": "q1", "games": ["g1", "g2"]}]


def test_a_second_opener_of_the_same_file_is_refused_until_the_first_lets_go(tmp_path):
    path = tmp_path / "answers.jsonl"
    first = JsonlStore(path, key=record_uid).open()
    with pytest.raises(InputError, match="another run is writing this file"):
        JsonlStore(path, key=record_uid).open()
    first.close()
    JsonlStore(path, key=record_uid).open().close()


def test_a_torn_last_line_is_dropped_and_every_complete_line_kept(tmp_path, capsys):
    path = tmp_path / "answers.jsonl"
    path.write_bytes(b'{"uid": "q1"}\n{"uid": "q2"}\n{"uid": "q3", "messa')
    store = JsonlStore(path, key=record_uid).open()
    assert sorted(store.records) == ["q1", "q2"]
    assert "dropping an unfinished last line" in capsys.readouterr().err
    store.close()
    assert path.read_bytes() == b'{"uid": "q1"}\n{"uid": "q2"}\n'


def test_a_line_that_is_not_json_names_the_file_and_line(tmp_path):
    path = tmp_path / "answers.jsonl"
    path.write_text('{"uid": "q1"}\nnot json\n')
    with pytest.raises(InputError) as err:
        JsonlStore(path, key=record_uid).open()
    assert (err.value.path, err.value.line) == (str(path), 2)
    path.write_text('{"uid": "q1"}\n')  # mended, the file opens: the failed open left it unlocked
    JsonlStore(path, key=record_uid).open().close()


def test_atomic_write_replaces_whole_or_not_at_all(tmp_path):
    path = tmp_path / "table.csv"
    atomic_write(path, b"old\n")
    with pytest.raises(TypeError):
        atomic_write(path, "not bytes")  # fails while writing the temporary file
    assert path.read_bytes() == b"old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]  # the temporary file is gone too
    atomic_write(path, b"new\n")
    assert path.read_bytes() == b"new\n"
    assert oct(os.stat(path).st_mode & 0o777) != oct(0o600)  # made like any other file, not mkstemp's 0600


def test_dump_line_is_one_utf8_line_with_readable_text():
    assert dump_line({"uid": "q1", "text": "café\nnext"}) == '{"uid": "q1", "text": "café\\nnext"}\n'.encode()


def test_check_writable_refuses_a_directory_and_a_path_under_a_file(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InputError, match="is a directory"):
        check_writable(tmp_path / "out", key="--csv")
    with pytest.raises(InputError, match="not a directory"):
        check_writable(tmp_path / "plain" / "t.csv", key="--csv")
    check_writable(tmp_path / "new" / "deeper" / "t.csv", key="--csv")  # missing folders are made by the write
    assert not (tmp_path / "new").exists()  # ...but not by the check


def test_read_loads_what_open_would_without_touching_the_disk(tmp_path):
    path = tmp_path / "out" / "answers.jsonl"
    assert JsonlStore(path, key=record_uid).read().records == {}
    assert not (tmp_path / "out").exists(), "reading a missing file creates no folder"
    path.parent.mkdir()
    data = b'{"uid": "a", "n": 1}\n{"uid": "b", "n": 2}\n{"uid": "c", "n'  # a torn last line
    path.write_bytes(data)
    store = JsonlStore(path, key=record_uid).read()
    assert sorted(store.records) == ["a", "b"]
    assert path.read_bytes() == data and sorted(p.name for p in path.parent.iterdir()) == ["answers.jsonl"]
    path.write_bytes(data[:-len(b'{"uid": "c", "n')] + b'{"uid": "c", "n": 3}')  # whole, only its line end missing
    assert sorted(JsonlStore(path, key=record_uid).read().records) == ["a", "b", "c"]
