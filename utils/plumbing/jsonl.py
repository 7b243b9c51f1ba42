"""The one JSON-lines reader: (line number, value) for each non-blank line, a bad line an InputError.

Every file of records (questions, answers, judgments, battles, bootstrap
results, the stores' own files) is read here. Judgment directories reach half
a gigabyte, so a file is read whole and its lines are parsed by orjson as
slices of one buffer (a memoryview: no copy per line). orjson keeps to the
letter of RFC 8259; what it refuses but Python's json reads (a lone-surrogate
escape such as ``"\\ud800"``, which real judge texts hold, NaN, a byte order
mark, integers past 64 bits) goes to json, so every file json reads is read.
A line neither reads is an InputError naming the file and the line.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import orjson

from utils.plumbing.errors import InputError


def iter_jsonl(path: Path | str) -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed value) for each non-blank line of the file at ``path``."""
    with open(path, "rb") as f:
        data = f.read()
    yield from parse_jsonl(data, path)


def parse_jsonl(data: bytes, path: Path | str | None = None, advice: str = "") -> Iterator[tuple[int, Any]]:
    """Yield (line number, parsed value) for each non-blank line of ``data``.

    ``path`` names it in errors; ``advice`` follows the message of a bad line
    (what the caller's user should do about it).
    """
    # slices of one buffer: orjson parses a memoryview without copying each line again
    view, start, lineno = memoryview(data), 0, 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        lineno += 1
        if not data[start:start + 1].isspace() or data[start:end].strip():
            try:
                value = orjson.loads(view[start:end])
            except orjson.JSONDecodeError:
                value = _json_loads(view[start:end], path, lineno, advice)
            yield lineno, value
        start = end + 1


def parse_line(raw: bytes, path: Path | str | None = None, line: int | None = None) -> Any:
    """One line's JSON value, read as ``iter_jsonl`` reads each line; a bad line is an InputError."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return _json_loads(raw, path, line)


def _json_loads(raw, path, line, advice: str = "") -> Any:
    """What orjson refused, read by json: JSON it does not take (see above), or the error for a bad line."""
    try:
        return json.loads(bytes(raw))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not a JSON line ({err.msg if hasattr(err, 'msg') else err}){advice}", path, line) from None


def json_object(obj: Any, path=None, line=None) -> dict:
    """``obj`` if it is a JSON object (a dict), else the InputError every reader gives for such a line."""
    if not isinstance(obj, dict):
        raise InputError(f"expected a JSON object, got {type(obj).__name__}", path, line)
    return obj
