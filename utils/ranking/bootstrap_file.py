"""The bootstrap results file, and the leaderboards benchmark_quality compares it with.

Ours holds one JSON line per model, the original tool's one line per round
(docs/design.md#bootstrap-file). show_result writes ours
(``write_bootstrap``) and reads either back for --load-bootstrap
(``read_saved_bootstrap``); ``python -m utils.benchmark_quality`` reads them as
``Entry`` lists (``read_bootstrap``), and a reference leaderboard as CSV or
JSON lines (``read_reference``). Every bad value is an InputError naming the
file, line and key.
"""
from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import orjson

from utils.plumbing.errors import InputError
from utils.plumbing.jsonl import iter_jsonl, json_object
from utils.plumbing.store import atomic_write
from utils.ranking.quality import FILE_LEVEL, Entry
from utils.ranking.rating import INIT_RATING, percentile_interval, rating_from_win_rate
from utils.ranking.results import Leaderboard


# ---------------------------------------------------------------- show_result's own file


def bootstrap_records(board: Leaderboard) -> list[dict]:
    """The lines of our bootstrap file: model, score, lower, upper, results (win rates, %), in table order; the
    baseline's line also says ``"baseline": true`` (its zero-width interval is exact: quality.measured)."""
    return [{"model": r.model, "score": r.score, "lower": r.lower, "upper": r.upper, "results": r.results,
             **({"baseline": True} if r.is_baseline else {})}
            for r in board.rows if not r.no_verdicts]


def write_bootstrap(board: Leaderboard, path: Path) -> None:
    """The board's bootstrap file, written atomically."""
    records = bootstrap_records(board)
    atomic_write(path, b"".join(orjson.dumps(r) + b"\n" for r in records), durable=False)


def read_saved_bootstrap(path: Path, baseline: str) -> dict[str, np.ndarray]:
    """Saved bootstrap results as rating samples per model, checked as benchmark_quality checks them.

    Reads our layout (one line per model, ``results`` = win rates in %) and the
    original tool's (one line per round, model -> Elo rating).
    """
    records = json_records(path)
    out: dict[str, np.ndarray] = {}
    if all("model" in rec and "results" in rec for _, rec in records):
        for line, rec in records:
            p = bootstrap_values(rec["results"], path, line) / 100.0
            with np.errstate(divide="ignore", invalid="ignore"):
                out[str(rec["model"])] = rating_from_win_rate(np.clip(p, 1e-12, 1 - 1e-12))
        return out
    names = sorted({k for _, rec in records for k in rec})
    if baseline not in names:
        raise InputError(f"baseline {baseline!r} is not in the bootstrap results", path, key="--baseline")
    table = np.array([[finite_number(rec[n], path, line, n) if n in rec else np.nan for n in names]
                      for line, rec in records])
    table = table - table[:, [names.index(baseline)]] + INIT_RATING
    return {n: table[:, i] for i, n in enumerate(names)}


def saved_rounds(loaded: dict[str, np.ndarray]) -> int:
    """The rounds of saved bootstrap results: those of the model with the most."""
    return max((len(v) for v in loaded.values()), default=0)


# ---------------------------------------------------------------- reading leaderboards as entries


def finite_number(value: object, path, line, key) -> float:
    """``value`` as a finite float, or an InputError naming file, line and key."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InputError(f"expected a number, got {type(value).__name__}", path, line, key)
    try:
        x = float(value)
    except ValueError:
        raise InputError(f"expected a number, got {value!r}", path, line, key) from None
    if not math.isfinite(x):
        raise InputError(f"expected a finite number, got {value!r}", path, line, key)
    return x


def bootstrap_values(value: object, path, line) -> np.ndarray:
    """Bootstrap values; null/NaN rounds (a model missing from a resample) are dropped."""
    if not isinstance(value, list):
        raise InputError(f"expected a list of bootstrap values, got {type(value).__name__}", path, line, "results")
    out = []
    for i, v in enumerate(value):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise InputError(f"item {i}: expected a number, got {type(v).__name__}", path, line, "results")
        if math.isfinite(v):
            out.append(float(v))
    return np.array(out, dtype=float)


def _entry(rec: dict, path, line, value_keys: tuple[str, ...], need_samples: bool) -> Entry:
    """One leaderboard row; ``lower``/``upper`` may both be absent (an exact reference)."""
    if not isinstance(rec.get("model"), str) or not rec["model"]:
        raise InputError("missing or empty model name", path, line, "model")
    value_key = next((k for k in value_keys if k in rec), None)
    if value_key is None:
        raise InputError("missing key", path, line, value_keys[0])
    point = finite_number(rec[value_key], path, line, value_key)
    if "lower" in rec or "upper" in rec or need_samples:
        lower = finite_number(rec.get("lower"), path, line, "lower") if "lower" in rec else None
        upper = finite_number(rec.get("upper"), path, line, "upper") if "upper" in rec else None
        if lower is None or upper is None:
            raise InputError("missing key", path, line, "lower" if lower is None else "upper")
        if lower > upper:
            raise InputError(f"lower bound {lower:g} is above the upper bound {upper:g}", path, line, "lower")
    else:
        lower = upper = point
    if need_samples and "results" not in rec:
        raise InputError("missing key", path, line, "results")
    samples = bootstrap_values(rec["results"], path, line) if "results" in rec else np.array([])
    return Entry(rec["model"], point, lower, upper, samples, line, exact=rec.get("baseline") is True)


def _per_round(records: list[tuple[int, dict]], path) -> list[Entry]:
    """The original tool's layout: one line per bootstrap round, model -> rating.

    That file holds no full-data fit, so the point value is the median of the
    rounds and the stored-level interval their 2.5-97.5 percentiles.
    """
    columns: dict[str, list[float]] = {}
    first_line: dict[str, int] = {}
    for line, rec in records:
        for model, value in rec.items():
            columns.setdefault(model, []).append(finite_number(value, path, line, model))
            first_line.setdefault(model, line)
    out = []
    for model, values in columns.items():
        arr = np.array(values)
        lo, hi = percentile_interval(arr, FILE_LEVEL)
        out.append(Entry(model, float(np.median(arr)), float(lo), float(hi), arr, first_line[model]))
    return out


def _check_unique(entries: list[Entry], path) -> list[Entry]:
    seen: dict[str, int | None] = {}
    for e in entries:
        if e.model in seen:
            raise InputError(f"model {e.model!r} appears twice (first on line {seen[e.model]})", path, e.line, "model")
        seen[e.model] = e.line
    return entries


def json_records(path: Path) -> list[tuple[int, dict]]:
    """(line, object) of every non-blank line of a leaderboard or bootstrap file; at least one."""
    records = [(line, json_object(rec, path, line)) for line, rec in iter_jsonl(path)]
    if not records:
        raise InputError("no leaderboard rows", path)
    return records


def read_bootstrap(path: Path | str) -> list[Entry]:
    """A bootstrap file: our one-line-per-model layout, or the original's one line per round."""
    path = Path(path)
    records = json_records(path)
    if not any("model" in rec for _, rec in records):
        return _per_round(records, path)
    return _check_unique([_entry(rec, path, line, ("score",), need_samples=True) for line, rec in records], path)


# Column sets a reference CSV may use, tried in order: the value column and its bounds.
CSV_COLUMNS = (("rating", "rating_lower", "rating_upper"),  # our show_result --csv, Elo scale
               ("rating", "lower", "upper"),
               ("score", "lower", "upper"),
               ("score", "rating_q025", "rating_q975"))  # the original tool's leaderboard CSV


def read_reference(path: Path | str) -> list[Entry]:
    """A reference leaderboard: CSV (model, rating, lower, upper) or JSON lines of the same, or a bootstrap file."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        records = json_records(path)
        if not any("model" in rec for _, rec in records):
            return _per_round(records, path)
        return _check_unique([_entry(rec, path, line, ("rating", "score"), need_samples=False)
                              for line, rec in records], path)
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = list(reader.fieldnames or [])
    except (UnicodeDecodeError, csv.Error) as err:
        raise InputError(f"not a readable CSV file ({err})", path) from None
    if not rows:
        raise InputError("no leaderboard rows", path)
    if "model" not in header:
        raise InputError("missing column", path, 1, "model")
    value, lo, hi = next((c for c in CSV_COLUMNS if set(c) <= set(header)), (None, None, None))
    if value is None:
        value = next((c for c in ("rating", "score") if c in header), None)
        if value is None:
            raise InputError("missing column (or score)", path, 1, "rating")
    entries = []
    for line, row in enumerate(rows, 2):
        rec = {"model": row["model"], value: row[value]}
        if lo:
            rec.update(lower=row[lo], upper=row[hi])
        entries.append(_entry(rec, path, line, (value,), need_samples=False))
    return _check_unique(entries, path)


def read_mapping(path: Path | str) -> dict[str, str]:
    """{our_name: reference_name}."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read the mapping ({err})", path) from None
    except json.JSONDecodeError as err:
        raise InputError(f"not JSON ({err.msg})", path, err.lineno) from None
    if not isinstance(data, dict):
        raise InputError("expected a JSON object {our_name: reference_name}", path)
    for key, value in data.items():
        if not isinstance(value, str):
            raise InputError(f"expected a reference model name, got {type(value).__name__}", path, key=key)
    return data
