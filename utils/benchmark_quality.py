"""How good is the benchmark itself: separability, agreement with a reference leaderboard, Brier score.

    python -m utils.benchmark_quality BOOTSTRAP_FILE [--reference REF_FILE] [--mapping MAP.json]
                                      [--level 95] [--json OUT]

BOOTSTRAP_FILE is a leaderboard with its bootstrap samples, one JSON line per
model (``model``, ``score``, ``lower``, ``upper``, ``results``), as
show_result.py saves it in data/<bench>/results/<judges>/bootstrapping_results.jsonl. The original
tool's per-round layout (one line per bootstrap round, model -> rating) is read
too. The reference is a CSV or JSON lines leaderboard (model, rating, lower,
upper) or a bootstrap file of the same shape as ours.

The metrics are pure functions in utils/ranking/quality.py, the file readers
in utils/ranking/bootstrap_file.py; docs/benchmark_quality.md states each
definition with its formula. When show_result pooled several judges it left
judges.json beside the bootstrap file (utils/ranking/judges.py): then the
judges' agreement (Cohen's kappa) and each model's score shift under each
judge are printed too.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from utils.plumbing.cli import run_cli
from utils.plumbing.errors import InputError
from utils.ranking.bootstrap_file import read_bootstrap, read_mapping, read_reference
from utils.ranking.judges import JUDGES_FILE, read_judges_file
from utils.ranking.quality import FILE_LEVEL, Quality, evaluate
from utils.plumbing.store import atomic_write


def _metric_text(value: float | None, percent: bool = False) -> str:
    """A metric as the table shows it: a share in percent, else 4 decimals; n/a when undefined."""
    if value is None:
        return "n/a"
    return f"{100 * value:.1f}%" if percent else f"{value:.4f}"


def render(q: Quality, has_reference: bool) -> str:
    rows = [("separability", _metric_text(q.separability, True), f"{q.n_models} models, {q.n_pairs} pairs")]
    if has_reference:
        both = f"{q.n_models_in_both} models in both, {q.n_pairs_in_both} pairs"
        rows += [("agreement with confidence", _metric_text(q.agreement_with_confidence, True),
                  f"{q.n_reference_confident_pairs} pairs the reference separates"),
                 ("strict agreement", _metric_text(q.strict_agreement, True), both),
                 ("pair-rank Brier score", _metric_text(q.brier), both + "; lower is better"),
                 ("Spearman correlation", _metric_text(q.spearman), both),
                 ("Kendall tau-b", _metric_text(q.kendall), both)]
    width = max(len(r[0]) for r in rows)
    lines = [f"{'metric':<{width}}  {'value':>8}  used", *(f"{a:<{width}}  {b:>8}  {c}" for a, b, c in rows),
             f"-- intervals at {q.level:g}%" + (" (reference intervals as stored, it has no samples)"
                                                 if q.reference_intervals_as_given else "")]
    if q.not_in_reference:
        lines.append(f"-- not in the reference ({len(q.not_in_reference)}): {', '.join(q.not_in_reference)}")
    return "\n".join(lines) + "\n"


def render_judges(doc: dict) -> str:
    """The pooled judges' figures of a judges file: kappa of every two judges, then each model's shifts."""
    judges = [str(j) for j in doc["judges"]]
    lines = [f"judges pooled: {', '.join(judges)}"]
    for k in doc["kappa"]:
        lines.append(f"kappa {k.get('judge_a')} vs {k.get('judge_b')}: {_metric_text(k.get('labels'))} on the five "
                     f"verdicts, {_metric_text(k.get('direction'))} on the direction, over {k.get('games')} games")
    for table in doc["tables"]:
        models = table.get("models") or {}
        if not models:
            continue
        width = max(len("model"), *map(len, models))
        category = f" (category {table['category']})" if table.get("category") else ""
        lines.append(f"score shift from the pooled table, points{category}:")
        lines.append(f"{'model':<{width}}  " + "  ".join(f"{j:>12}" for j in judges))
        for model, v in models.items():
            shifts = v.get("shifts") or {}
            cells = ["-" if shifts.get(j) is None else f"{shifts[j]:+.2f}" for j in judges]
            lines.append(f"{model:<{width}}  " + "  ".join(f"{c:>12}" for c in cells))
    for flag in doc["self_preference"]:
        lines.append(f"self-preference? judge {flag.get('judge')} and model {flag.get('model')} are both "
                     f"{flag.get('family')}")
    return "\n".join(lines) + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m utils.benchmark_quality", description=__doc__.split("\n\n")[0])
    p.add_argument("bootstrap_file", help="bootstrap results (data/<bench>/results/<judges>/bootstrapping_results.jsonl)")
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
    judges_path = Path(args.bootstrap_file).with_name(JUDGES_FILE)
    judges = read_judges_file(judges_path) if judges_path.is_file() else None
    if judges is not None:
        sys.stdout.write(render_judges(judges))
    if args.json:
        doc = {**q.to_json(), **({"judges": judges} if judges is not None else {})}
        atomic_write(Path(args.json), (json.dumps(doc, indent=2) + "\n").encode("utf-8"), durable=False)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    run_cli(main)
