"""How good is the benchmark itself: separability, agreement with a reference leaderboard, Brier score.

    python -m utils.benchmark_quality BOOTSTRAP_FILE [--reference REF_FILE] [--mapping MAP.json]
                                      [--level 95] [--json OUT]

BOOTSTRAP_FILE is a leaderboard with its bootstrap samples, one JSON line per
model (``model``, ``score``, ``lower``, ``upper``, ``results``), as
show_result.py saves it in data/bootstrapping_results.jsonl. The original
tool's per-round layout (one line per bootstrap round, model -> rating) is read
too. The reference is a CSV or JSON lines leaderboard (model, rating, lower,
upper) or a bootstrap file of the same shape as ours.

The metrics are pure functions below; docs/benchmark_quality.md states each
definition with its formula. Every interval comparison uses ``overlap``.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import sys
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from statistics import NormalDist
from typing import Mapping, Sequence

import numpy as np

from utils.cli import run_cli
from utils.errors import InputError
from utils.jsonl import iter_jsonl, json_object
from utils.ranking.rating import percentile_interval
from utils.store import atomic_write

FILE_LEVEL = 95.0  # the level of the lower/upper columns stored in bootstrap and leaderboard files


@dataclass
class Entry:
    """One model on a leaderboard: point value, interval, bootstrap samples (may be empty)."""
    model: str
    point: float
    lower: float
    upper: float
    samples: np.ndarray  # finite bootstrap values only
    line: int | None = None  # where it was read, for messages


# ---------------------------------------------------------------- the math (pure)


def overlap(a: tuple[float, float], b: tuple[float, float]) -> bool:
    """The one overlap rule: [l1, u1] and [l2, u2] overlap when l1 < u2 and l2 < u1.

    So intervals that only touch do not overlap, and a zero-width interval (the
    baseline's) strictly inside another one does. Every metric here compares
    intervals through this function and nothing else.
    """
    (l1, u1), (l2, u2) = a, b
    return l1 < u2 and l2 < u1


def separability(intervals: Mapping[str, tuple[float, float]]) -> tuple[float | None, int]:
    """Share of model pairs whose intervals do not overlap, and the number of pairs (None if no pair)."""
    pairs = list(combinations(intervals.values(), 2))
    if not pairs:
        return None, 0
    apart = sum(not overlap(a, b) for a, b in pairs)
    return apart / len(pairs), len(pairs)


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def agreement_with_confidence(ours: Mapping[str, tuple[float, float, float]],
                              reference: Mapping[str, tuple[float, float, float]]) -> tuple[float | None, int]:
    """Mean score over the pairs the reference orders confidently, and how many such pairs there are.

    Both maps give model -> (point, lower, upper) for the same models. A pair
    the reference separates scores 1 when our intervals are separate too and our
    points order it the same way, 0 when ours are separate and ordered the other
    way, and 0.5 when our intervals overlap (or, degenerate, our points tie).
    """
    scores = []
    for a, b in combinations(sorted(ours), 2):
        ra, rb = reference[a], reference[b]
        if overlap(ra[1:], rb[1:]):
            continue
        oa, ob = ours[a], ours[b]
        ref_order, our_order = _sign(ra[0] - rb[0]), _sign(oa[0] - ob[0])
        if overlap(oa[1:], ob[1:]) or our_order == 0 or ref_order == 0:
            scores.append(0.5)
        else:
            scores.append(1.0 if our_order == ref_order else 0.0)
    if not scores:
        return None, 0
    return sum(scores) / len(scores), len(scores)


def strict_agreement(ours: Mapping[str, float], reference: Mapping[str, float]) -> tuple[float | None, int]:
    """Share of all pairs that the point values order the same way (a tie in both counts as the same)."""
    pairs = list(combinations(sorted(ours), 2))
    if not pairs:
        return None, 0
    same = sum(_sign(ours[a] - ours[b]) == _sign(reference[a] - reference[b]) for a, b in pairs)
    return same / len(pairs), len(pairs)


def prob_ranks_below(mean_a: float, var_a: float, mean_b: float, var_b: float) -> float:
    """P(A ranks below B) = Φ((0 − (μA − μB)) / √(σA² + σB²)); without any spread it is 1, 0 or ½."""
    spread = math.sqrt(var_a + var_b)
    diff = mean_a - mean_b
    if spread == 0.0:
        return 0.5 if diff == 0 else float(diff < 0)
    return NormalDist().cdf(-diff / spread)


def pair_rank_brier(ours: Mapping[str, tuple[float, float]], reference: Mapping[str, float]) -> tuple[float | None, int]:
    """Mean squared error of our P(A below B) against the reference's order, and the number of pairs.

    ``ours`` maps model -> (mean, variance) of its bootstrap scores. Every pair
    is scored in both orientations (A, B) and (B, A): for a pair the reference
    orders, both give the same error; for a reference tie the target is 0 both
    ways, so neither model is favoured by the order the file lists them in.
    """
    errors = []
    for a, b in combinations(sorted(ours), 2):
        for x, y in ((a, b), (b, a)):
            p = prob_ranks_below(*ours[x], *ours[y])
            target = 1.0 if reference[x] < reference[y] else 0.0
            errors.append((p - target) ** 2)
    if not errors:
        return None, 0
    return sum(errors) / len(errors), len(errors) // 2


def average_ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n, tied values sharing the mean of the ranks they span."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman's rho: the Pearson correlation of the average ranks (None when a side is constant)."""
    rx, ry = average_ranks(x), average_ranks(y)
    n = len(rx)
    if n < 2:
        return None
    mx, my = sum(rx) / n, sum(ry) / n
    sxy = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    sxx = sum((a - mx) ** 2 for a in rx)
    syy = sum((b - my) ** 2 for b in ry)
    if sxx == 0 or syy == 0:
        return None
    return sxy / math.sqrt(sxx * syy)


def kendall(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Kendall's tau-b: (concordant − discordant) / √((pairs − ties in x)(pairs − ties in y))."""
    concordant = discordant = ties_x = ties_y = 0
    for i, j in combinations(range(len(x)), 2):
        sx, sy = _sign(x[i] - x[j]), _sign(y[i] - y[j])
        ties_x += sx == 0
        ties_y += sy == 0
        concordant += sx * sy > 0
        discordant += sx * sy < 0
    pairs = len(x) * (len(x) - 1) // 2
    if pairs == ties_x or pairs == ties_y:
        return None
    return (concordant - discordant) / math.sqrt((pairs - ties_x) * (pairs - ties_y))


def mean_and_variance(samples: np.ndarray, fallback_mean: float) -> tuple[float, float]:
    """Mean and sample variance (n − 1) of bootstrap values; no spread known from fewer than two."""
    if len(samples) == 0:
        return fallback_mean, 0.0
    variance = float(np.var(samples, ddof=1)) if len(samples) > 1 else 0.0
    return float(np.mean(samples)), variance


def interval_at(entry: Entry, level: float, path: object = None) -> tuple[float, float]:
    """The entry's interval at ``level``: the stored one at 95 %, else percentiles of its samples."""
    if level == FILE_LEVEL:
        return entry.lower, entry.upper
    if len(entry.samples) == 0:
        raise InputError(f"no bootstrap values to take a {level:g}% interval from", path, entry.line, "results")
    lo, hi = percentile_interval(entry.samples, level)
    return float(lo), float(hi)


@dataclass
class Quality:
    """All numbers of one evaluation, with how many models and pairs each one used."""
    level: float
    n_models: int
    n_pairs: int
    separability: float | None
    n_models_in_both: int = 0
    n_pairs_in_both: int = 0
    n_reference_confident_pairs: int = 0
    agreement_with_confidence: float | None = None
    strict_agreement: float | None = None
    brier: float | None = None
    spearman: float | None = None
    kendall: float | None = None
    not_in_reference: tuple[str, ...] = ()
    reference_intervals_as_given: bool = False

    def to_json(self) -> dict:
        return {"n_models": self.n_models, "n_pairs": self.n_pairs, "separability": self.separability,
                "agreement_with_confidence": self.agreement_with_confidence,
                "strict_agreement": self.strict_agreement, "brier": self.brier, "spearman": self.spearman,
                "kendall": self.kendall, "level": self.level, "n_models_in_both": self.n_models_in_both,
                "n_pairs_in_both": self.n_pairs_in_both,
                "n_reference_confident_pairs": self.n_reference_confident_pairs,
                "not_in_reference": list(self.not_in_reference)}


def evaluate(ours: list[Entry], reference: list[Entry] | None = None, mapping: Mapping[str, str] | None = None,
             level: float = FILE_LEVEL, ours_path: object = None, reference_path: object = None) -> Quality:
    """Every metric for our leaderboard, and against the reference when one is given."""
    our_iv = {e.model: interval_at(e, level, ours_path) for e in ours}
    sep, n_pairs = separability(our_iv)
    q = Quality(level=level, n_models=len(ours), n_pairs=n_pairs, separability=sep)
    if reference is None:
        return q

    mapping = mapping or {}
    ref_by_name = {e.model: e for e in reference}
    ref_name = {e.model: mapping.get(e.model, e.model) for e in ours}
    both = [e for e in ours if ref_name[e.model] in ref_by_name]
    q.not_in_reference = tuple(e.model for e in ours if ref_name[e.model] not in ref_by_name)
    ref = {e.model: ref_by_name[ref_name[e.model]] for e in both}
    # a reference without samples can only be read at the level it was stored at
    q.reference_intervals_as_given = level != FILE_LEVEL and any(len(r.samples) == 0 for r in ref.values())
    ref_level = FILE_LEVEL if q.reference_intervals_as_given else level

    ours3 = {e.model: (e.point, *our_iv[e.model]) for e in both}
    ref3 = {m: (r.point, *interval_at(r, ref_level, reference_path)) for m, r in ref.items()}
    our_points = {e.model: e.point for e in both}
    ref_points = {m: r.point for m, r in ref.items()}
    q.n_models_in_both = len(both)
    q.agreement_with_confidence, q.n_reference_confident_pairs = agreement_with_confidence(ours3, ref3)
    q.strict_agreement, q.n_pairs_in_both = strict_agreement(our_points, ref_points)
    q.brier, _ = pair_rank_brier({e.model: mean_and_variance(e.samples, e.point) for e in both}, ref_points)
    names = [e.model for e in both]
    q.spearman = spearman([our_points[m] for m in names], [ref_points[m] for m in names])
    q.kendall = kendall([our_points[m] for m in names], [ref_points[m] for m in names])
    return q


# ---------------------------------------------------------------- reading files


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
    return Entry(rec["model"], point, lower, upper, samples, line)


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


# ---------------------------------------------------------------- the command


def _fmt(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:.1f}%" if percent else f"{value:.4f}"


def render(q: Quality, has_reference: bool) -> str:
    rows = [("separability", _fmt(q.separability, True), f"{q.n_models} models, {q.n_pairs} pairs")]
    if has_reference:
        both = f"{q.n_models_in_both} models in both, {q.n_pairs_in_both} pairs"
        rows += [("agreement with confidence", _fmt(q.agreement_with_confidence, True),
                  f"{q.n_reference_confident_pairs} pairs the reference separates"),
                 ("strict agreement", _fmt(q.strict_agreement, True), both),
                 ("pair-rank Brier score", _fmt(q.brier), both + "; lower is better"),
                 ("Spearman correlation", _fmt(q.spearman), both),
                 ("Kendall tau-b", _fmt(q.kendall), both)]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'metric':<{width}}  {'value':>8}  used", *(f"{a:<{width}}  {b:>8}  {c}" for a, b, c in rows),
             f"-- intervals at {q.level:g}%" + (" (reference intervals as stored, it has no samples)"
                                                 if q.reference_intervals_as_given else "")]
    if q.not_in_reference:
        lines.append(f"-- not in the reference ({len(q.not_in_reference)}): {', '.join(q.not_in_reference)}")
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m utils.benchmark_quality", description=__doc__.split("\n\n")[0])
    p.add_argument("bootstrap_file", help="our bootstrap results (data/bootstrapping_results.jsonl)")
    p.add_argument("--reference", metavar="REF_FILE", help="reference leaderboard: CSV or JSON lines")
    p.add_argument("--mapping", metavar="MAP.json", help="JSON object {our_name: reference_name}")
    p.add_argument("--level", type=float, default=FILE_LEVEL, help="interval level in percent (default 95)")
    p.add_argument("--json", metavar="OUT", help="also write the numbers as a JSON object")
    args = p.parse_args(argv)
    if not 0 < args.level < 100:
        raise InputError(f"must be between 0 and 100, got {args.level:g}", key="--level")
    if args.mapping and not args.reference:
        raise InputError("needs --reference", key="--mapping")
    for key, value in (("BOOTSTRAP_FILE", args.bootstrap_file), ("--reference", args.reference),
                       ("--mapping", args.mapping)):
        if value and not Path(value).is_file():
            raise InputError("file not found", value, key=key)
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    ours = read_bootstrap(args.bootstrap_file)
    reference = read_reference(args.reference) if args.reference else None
    mapping = read_mapping(args.mapping) if args.mapping else None
    q = evaluate(ours, reference, mapping, args.level, args.bootstrap_file, args.reference)
    sys.stdout.write(render(q, reference is not None))
    if args.json:
        atomic_write(Path(args.json), (json.dumps(q.to_json(), indent=2) + "\n").encode("utf-8"), durable=False)
    return 0


if __name__ == "__main__":
    run_cli(main)
