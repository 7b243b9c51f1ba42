"""utils.add_markdown_info: style metadata for whole answer directories, in either layout, as a user runs it."""
from __future__ import annotations

import shutil

import pytest

from tests.helpers import read_jsonl, run_script, write_jsonl
from utils.vocabulary.style import encoder, style_metadata, style_metadata_many

MODULE = "-m utils.add_markdown_info"


def run(src, out, *extra):
    return run_script(MODULE, "--dir", src, "--output-dir", out, *extra)


def answer_files(directory):
    return sorted(directory.glob("*.jsonl"))


# ------------------------------------------------------------ real published data


# ``data_source`` is the committed extract of ../shared (the first 100 questions and every model's answers to
# them) and, where ../shared is present, ../shared itself (all 500).


def test_2024_layout_reproduces_the_published_conv_metadata(data_source, tmp_path):
    src_dir = data_source / "data" / "arena-hard-v0.1-2024fmt" / "model_answer"
    published = {p.name: read_jsonl(p) for p in answer_files(src_dir)}
    assert len(published) == 3
    stripped = tmp_path / "in"
    for name, records in published.items():
        write_jsonl(stripped / name, [{k: v for k, v in r.items() if k != "conv_metadata"} for r in records])

    result = run(stripped, tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == sorted(
        f"{name}: {len(records)} answers -> {tmp_path / 'out' / name}" for name, records in published.items())

    for name, records in published.items():
        written = read_jsonl(tmp_path / "out" / name)
        assert len(written) == len(records) >= 100
        for want, got in zip(records, written):
            # the same record, key order included: every field unchanged and conv_metadata exactly as published
            assert list(got) == list(want)
            assert got["conv_metadata"] == want["conv_metadata"], (name, want["question_id"])
            assert got == want


def test_2025_layout_gets_metadata_equal_to_the_2024_conv_metadata(data_source, tmp_path):
    old_dir = data_source / "data" / "arena-hard-v0.1-2024fmt" / "model_answer"
    new_dir = data_source / "data" / "arena-hard-v0.1" / "model_answer"
    src = tmp_path / "in"
    src.mkdir()
    for path in answer_files(new_dir):
        shutil.copy(path, src / path.name)

    result = run(src, tmp_path / "out")
    assert result.returncode == 0, result.stderr

    for path in answer_files(new_dir):
        original = read_jsonl(path)
        published = {r["question_id"]: r["conv_metadata"] for r in read_jsonl(old_dir / path.name)}
        written = read_jsonl(tmp_path / "out" / path.name)
        assert len(written) == len(original) == len(published) >= 100
        for before, after in zip(original, written):
            assert after["metadata"] == published[before["uid"]], (path.name, before["uid"])
            assert {k: v for k, v in after.items() if k != "metadata"} == before
            assert list(after)[:-1] == list(before) and "conv_metadata" not in after


# ------------------------------------------------------------ a fixture we count by hand

TURN_1 = """# Title
Intro with **bold one** and __under one__.

## Section
1. first
2. second
- dash item
* star item
+ plus item

```python
# not a header
- not a list
1. not a list either
**not bold**
```

### Sub
Closing **bold two**, a lone * star and a_snake_name.
"""
TURN_2 = """#### Four
##### Five
###### Six
####### seven hashes are not a header
#no space, not a header
  3. indented ordered
    - indented unordered
"""
# Summed over both turns; the code block's lines count for nothing.
MARKDOWN = {
    "header_count": {"h1": 1, "h2": 1, "h3": 1, "h4": 1, "h5": 1, "h6": 1},
    "list_count": {"ordered": 3, "unordered": 4},
    "bold_count": {"**": 2, "__": 1},
}
NO_MARKDOWN = {
    "header_count": {f"h{k}": 0 for k in range(1, 7)},
    "list_count": {"ordered": 0, "unordered": 0},
    "bold_count": {"**": 0, "__": 0},
}
# cl100k_base: "hello" + " world"; the special-token text is plain text: "<" "|" "endo" "ft" "ext" "|" ">".
HELLO = ("hello world", 2)
SPECIAL = ("<|endoftext|>", 7)


def old_record(qid, turns, **extra):
    return {"question_id": qid, "answer_id": f"a-{qid}", "model_id": "m",
            "choices": [{"index": 0, "turns": [{"content": t, "token_len": -1} for t in turns]}],
            "tstamp": 1.5, **extra}


def new_record(uid, turns, **extra):
    messages = []
    for i, text in enumerate(turns):
        messages += [{"role": "user", "content": f"prompt {i}"}, {"role": "assistant", "content": {"answer": text}}]
    return {"uid": uid, "ans_id": f"a-{uid}", "model": "m", "messages": messages, "tstamp": 1.5, **extra}


def expected_metadata():
    """What each fixture question must get, counted by hand (tokens of the long turns by tiktoken, per turn)."""
    lengths = [len(encoder().encode(t, disallowed_special=())) for t in (TURN_1, TURN_2)]
    return {
        "md": {"token_len": lengths[0] + lengths[1], **MARKDOWN},
        "hello": {"token_len": HELLO[1], **NO_MARKDOWN},
        "special": {"token_len": SPECIAL[1], **NO_MARKDOWN},
        "two": {"token_len": HELLO[1] + SPECIAL[1], **NO_MARKDOWN},
    }


def fixture_records(make):
    stale = {"token_len": 999, "header_count": {}, "list_count": {}, "bold_count": {}}
    key = "conv_metadata" if make is old_record else "metadata"
    return [
        make("md", [TURN_1, TURN_2], category="hard"),
        make("hello", [HELLO[0]], **{key: stale}),  # recomputed where it stands
        make("special", [SPECIAL[0]], usage={"completion_tokens": 3}),
        make("two", [HELLO[0], SPECIAL[0]]),
    ]


def test_hand_counted_fixture_in_both_layouts(tmp_path):
    src = tmp_path / "in"
    old = write_jsonl(src / "old-model.jsonl", fixture_records(old_record))
    new = write_jsonl(src / "new-model.jsonl", fixture_records(new_record))
    before = {p.name: read_jsonl(p) for p in (old, new)}

    result = run(src, tmp_path / "out" / "nested")
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [
        f"new-model.jsonl: 4 answers -> {tmp_path / 'out' / 'nested' / 'new-model.jsonl'}",
        f"old-model.jsonl: 4 answers -> {tmp_path / 'out' / 'nested' / 'old-model.jsonl'}",
    ]
    assert "answer" in result.stderr  # the progress bar counts answers
    assert read_jsonl(old) == before["old-model.jsonl"]  # the input is left alone

    want = expected_metadata()
    assert want["md"]["token_len"] > 100
    for name, key, other in (("old-model.jsonl", "conv_metadata", "metadata"),
                             ("new-model.jsonl", "metadata", "conv_metadata")):
        written = read_jsonl(tmp_path / "out" / "nested" / name)
        assert [r.get("question_id", r.get("uid")) for r in written] == ["md", "hello", "special", "two"]
        for original, got in zip(before[name], written):
            qid = original.get("question_id", original.get("uid"))
            assert got[key] == want[qid], (name, qid)
            assert other not in got
            assert {k: v for k, v in got.items() if k != key} == {k: v for k, v in original.items() if k != key}
            if key in original:  # a stale value is replaced in place, not moved to the end
                assert list(got) == list(original)
            else:
                assert list(got) == [*original, key]


def test_in_place_update_and_rerun_are_stable(tmp_path):
    src = tmp_path / "answers"
    path = write_jsonl(src / "m.jsonl", fixture_records(new_record))
    assert run(src, src).returncode == 0
    first = path.read_bytes()
    assert [r["metadata"] for r in read_jsonl(path)] == list(expected_metadata().values())
    assert sorted(p.name for p in src.iterdir()) == ["m.jsonl"]  # no temporary file left behind
    assert run(src, src).returncode == 0
    assert path.read_bytes() == first


def test_batched_metadata_equals_one_answer_at_a_time():
    answers = [[TURN_1, TURN_2], [], [HELLO[0]], [SPECIAL[0], ""], [TURN_2]]
    assert style_metadata_many(answers) == [style_metadata(turns) for turns in answers]
    assert style_metadata_many([]) == []


# ------------------------------------------------------------ bad input


def assert_one_error_line(result, *parts):
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for part in parts:
        assert part in lines[0], lines[0]
    return lines[0]


def test_a_non_json_line_names_file_and_line_and_writes_nothing(tmp_path):
    src = tmp_path / "in"
    write_jsonl(src / "a-good.jsonl", fixture_records(old_record))  # comes first, still not written
    bad = write_jsonl(src / "b-bad.jsonl", [old_record("q1", ["x"]), "", "{not json", old_record("q2", ["y"])])
    out = tmp_path / "out"
    result = run(src, out)
    assert_one_error_line(result, f"{bad}:3:", "not a JSON line")
    assert not out.exists() or not any(out.iterdir())


def test_a_record_of_neither_layout_names_file_line_and_key(tmp_path):
    src = tmp_path / "in"
    bad = write_jsonl(src / "m.jsonl", [new_record("q1", ["x"]), {"uid": "q2", "answer": "no layout"}])
    result = run(src, tmp_path / "out")
    assert_one_error_line(result, f"{bad}:2:", "messages", "choices")
    assert not (tmp_path / "out").exists()


def test_malformed_turns_are_an_input_error(tmp_path):
    src = tmp_path / "in"
    record = old_record("q1", ["x"])
    record["choices"] = [{"index": 0, "turns": [{"content": 42}]}]
    bad = write_jsonl(src / "m.jsonl", [record])
    assert_one_error_line(run(src, tmp_path / "out"), f"{bad}:1:", "choices")


@pytest.mark.parametrize("case", ["missing-flag", "missing-dir", "no-files", "output-is-a-file"])
def test_bad_directories_exit_2(tmp_path, case):
    src = tmp_path / "in"
    write_jsonl(src / "m.jsonl", [new_record("q1", ["x"])])
    if case == "missing-flag":
        result = run_script(MODULE, "--output-dir", tmp_path / "out")
        assert result.returncode == 2 and "--dir" in result.stderr
        return
    out = tmp_path / "out"
    if case == "missing-dir":
        src = tmp_path / "nowhere"
    elif case == "no-files":
        (src / "m.jsonl").rename(src / "m.json")
    else:
        out.write_text("a file, not a directory\n")
    before = out.read_text() if out.is_file() else None
    line = assert_one_error_line(run(src, out))
    assert ("--output-dir" if case == "output-is-a-file" else "--dir") in line
    assert (out.read_text() if out.is_file() else None) == before
    assert not out.is_dir()

