"""The HTML report: one self-contained file a person can open offline and read.

``render_html(boards, inputs)`` turns the computed ``Leaderboard`` (or, for
v2, one per category) and the texts behind it (a ``ReportInputs``, gathered
by utils/report/inputs.py) into a single page holding the ranked table(s), a
plot of the scores with their intervals, a matrix of the head-to-head
comparisons, the pooled judges' agreement, the judge diagnostics, and every
question with the baseline's and each model's answers and both games' judge
texts and labels. It is a pure function: it opens no file but the page's own
package files (page.html, report.css, report.js beside this module).
``write_html_report`` renders and writes the page.

Safety matters more than looks here: answers and judge texts routinely hold
HTML, markdown and the occasional ``<script>``. Prompts, answers and judge
texts are shown as rendered markdown, made in Python by
utils/report/markdown_html.py: raw HTML off, then sanitised to the tags
markdown makes, links only to the web or mail. Nothing from a model, a judge
or a question is written into the page's markup: it all travels as JSON
inside ``<script type="application/json">`` with ``<``, ``>``, ``&`` and the
two JavaScript line separators escaped (no ``</script>`` can end the block
early), and the page's one script (report.js) puts the sanitised HTML into
the question it belongs to, everything else with ``textContent``. On top of
that a Content-Security-Policy forbids loading anything and running any
script but ours (pinned by its sha256; no inline handler, no ``javascript:``
URL), so even a hole in the sanitising could not make the page fetch or
execute model output.

Size and speed: for 500 questions x several models the page carries every
text once, rendered (the judge's prompt is not stored, it only repeats the
question and the answers); a text that occurs twice is rendered once; a
question's detail is built only when it is opened.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import io
import json
import math
import re
from pathlib import Path

from utils.ranking.comparison import PairComparison
from utils.ranking.results import Leaderboard
from utils.ranking.tables import footer, needed_text
from utils.report.inputs import ReportInputs, ShownJudgment
from utils.report.markdown_html import render_texts
from utils.plumbing.store import atomic_write
from utils.vocabulary.verdicts import OUTCOME_WORDS, TIE, WINNER_A, WINNER_B, outcome_word

SNIPPET_CHARS = 160  # of the prompt, shown in the closed question list
# Who an outcome word says won, as the page names the side (and its badge's colour: report.css .o-*)
_WINNERS = {WINNER_A: "baseline", WINNER_B: "model", TIE: "tie"}


@functools.cache
def _package_text(name: str) -> str:
    """page.html, report.css or report.js, read once.

    read_text turns CRLF into LF, as the browser's HTML parser does, so the
    script hashed for the CSP is the script the browser hashes.
    """
    return Path(__file__).with_name(name).read_text(encoding="utf-8")


# ---------------------------------------------------------------- the page's data


def report_data(boards: list[Leaderboard], inputs: ReportInputs) -> dict:
    """Everything the page shows, as plain JSON-able values; prompts, answers and judge texts as sanitised HTML.

    ``boards`` are the tables of one run: one, or (v2) one per category,
    each with its own baseline.
    """
    s = boards[0].settings
    html = render_texts(_texts(inputs))
    diagnostics, columns = _diagnostics_data(inputs.diagnostics)
    return {
        "title": f"{s.bench} leaderboard",
        "bench": s.bench,
        "baseline": s.baseline,
        "judges": list(s.judges),
        "footer": footer(boards[0]).removeprefix("-- ") if len(boards) == 1 else
        f"{boards[0].method_text} | judge {', '.join(s.judges)} | one table per category, each against its own baseline",
        "confidence": s.confidence,
        "snippet_chars": SNIPPET_CHARS,
        "outcomes": {word: {"winner": _WINNERS[winner], "strong": strong}
                     for (winner, strong), word in OUTCOME_WORDS.items()},
        "boards": [_board_data(b, several=len(boards) > 1) for b in boards],
        "missing": [{"category": m.category, "questions": m.questions, "baseline": m.baseline, "reason": m.reason,
                     "why": m.why, "fix": list(m.fix)} for m in inputs.missing],
        "diagnostics": diagnostics,
        "diagnostic_columns": columns,
        "costs": inputs.costs,
        "pairs": [[_pair_data(c) for c in pairs] for pairs in inputs.pairs] if inputs.pairs else [],
        "agreement": inputs.judges.to_json() if inputs.judges else None,
        "questions": _questions_data(boards, inputs, html),
        "answers": {model: {uid: [html[t] for t in turns] for uid, turns in by_uid.items()}
                    for model, by_uid in inputs.answers.items()},
        "games": {judge: {model: {uid: _judgment_data(j, s.baseline, html) for uid, j in by_uid.items()}
                          for model, by_uid in by_model.items()}
                  for judge, by_model in inputs.judgments.items()},
    }


def _texts(inputs: ReportInputs):
    """Every prompt, answer and judge text the page shows (markdown_html.render_texts renders each once)."""
    yield from (t for q in inputs.questions for t in q.turns)
    yield from (t for by_uid in inputs.answers.values() for turns in by_uid.values() for t in turns)
    yield from (g.text for by_model in inputs.judgments.values() for by_uid in by_model.values()
                for j in by_uid.values() for g in j.games)


def _questions_data(boards: list[Leaderboard], inputs: ReportInputs, html: dict[str, str]) -> list[dict]:
    """Each question: its prompt as text (for the closed list's snippet and the search) and rendered."""
    questions = [{"uid": q.uid, "category": q.category, "cluster": q.cluster, "turns": list(q.turns),
                  "html": [html[t] for t in q.turns]} for q in inputs.questions]
    if len(boards) > 1 or boards[0].category is not None:  # the baseline each question was judged against
        baseline_of = {b.category: b.settings.baseline for b in boards}
        for q in questions:
            q["baseline"] = baseline_of.get(q["category"], baseline_of.get(q["cluster"], boards[0].settings.baseline))
    return questions


def _judgment_data(judgment: ShownJudgment, baseline: str, html: dict[str, str]) -> dict:
    """One judged question: both games as objects, and the record's baseline where it is not the run's.

    A game's outcome is the model's (a win, a strong loss...) whichever side it sat on: the reader need not
    mirror game 2; the judge's own label stays beside it.
    """
    entry: dict = {"games": [{"label": g.label, "outcome": outcome_word(i, g.label), "html": html[g.text]}
                             for i, g in enumerate(judgment.games)]}
    if judgment.baseline and judgment.baseline != baseline:
        entry["baseline"] = judgment.baseline
    return entry


def _diagnostics_data(by_judge: dict[str, dict[str, dict]]) -> tuple[list[dict], list[str]]:
    """(a row per judge and model, the columns any row has): the numbers and words of diagnostics.json."""
    rows, columns = [], {}
    for judge, by_model in by_judge.items():
        for model, values in by_model.items():
            shown = {k: v for k, v in values.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
            columns.update(dict.fromkeys(shown))
            rows.append({"judge": judge, "model": model,
                         "values": {k: _finite(v) if isinstance(v, float) else v for k, v in shown.items()}})
    return rows, list(columns)


def _pair_data(c: PairComparison) -> dict:
    """One head-to-head comparison: A - B with its paired interval, in points, and what the simulation says."""
    return {"a": c.model_a, "b": c.model_b, "diff": _finite(c.diff), "lower": _finite(c.lower),
            "upper": _finite(c.upper), "share": _finite(c.share_a_better), "rounds": c.rounds,
            "significant": c.significant, "no_claim": c.too_few_rounds, "note": needed_text(c)}


def _board_data(board: Leaderboard, several: bool) -> dict:
    """One table of the page: its heading (v2: category and baseline), rows, coefficients and footer."""
    title = "" if board.category is None else \
        f"Category {board.category} (baseline {board.settings.baseline}, {board.rows[0].questions} questions)"
    return {
        "title": title,
        "footer": footer(board).removeprefix("-- ") if several else "",  # one table: the page header has it
        "unit": board.unit,
        "rows": [{"model": r.model, "score": _finite(r.score), "lower": _finite(r.lower), "upper": _finite(r.upper),
                  "rating": _finite(r.rating), "avg_tokens": r.avg_tokens, "covered": r.covered,
                  "questions": r.questions, "battles": r.battles, "is_baseline": r.is_baseline,
                  "flags": list(r.flags)} for r in board.rows],
        "style_coefficients": {k: _finite(v) for k, v in board.style_coefficients.items()},
    }


def _finite(x) -> float | None:
    """A number JSON can hold: NaN and infinities (no interval, no rating) become null."""
    return float(x) if x is not None and math.isfinite(x) else None


# ---------------------------------------------------------------- the plot


def _plot_svg(boards: list[Leaderboard]) -> str:
    """The scores with their intervals as an SVG data URI (an <img> never runs anything inside it).

    One panel per table (v2: per category), each headed by its category.
    """
    from matplotlib import rc_context
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    heights = [0.9 + 0.38 * len(b.rows) for b in boards]
    fig = Figure(figsize=(7.5, sum(heights)), dpi=100)
    axes = fig.subplots(len(boards), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, board in zip(axes, boards):
        _plot_board(ax, board)
    fig.tight_layout()
    buf = io.StringIO()
    # no timestamp, and element ids hashed with a fixed salt instead of a random one: same inputs, same file
    with rc_context({"svg.hashsalt": "arena-report"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue().encode("utf-8")).decode("ascii")


def _plot_board(ax, board: Leaderboard) -> None:
    rows = [r for r in board.rows if not r.no_verdicts][::-1]  # best at the top; no score, no point
    ys = range(len(rows))
    for y, r in zip(ys, rows):
        color = "#888888" if r.is_baseline else "#a33b2b" if r.unreliable else "#2b5fa3"
        lo, hi = _finite(r.lower), _finite(r.upper)
        err = [[r.score - lo if lo is not None else 0], [hi - r.score if hi is not None else 0]]
        ax.errorbar([r.score], [y], xerr=err, fmt="o", color=color, capsize=4, markersize=5)
    ax.axvline(50, color="#999999", linestyle="--", linewidth=0.8)
    ax.set_yticks(list(ys), [r.model for r in rows])
    ax.set_xlabel(f"score: win rate against {board.settings.baseline} (%), {board.settings.confidence:g}% interval")
    if board.category is not None:
        ax.set_title(f"category {board.category}", fontsize=10)
    ax.set_xlim(0, 100)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="x", alpha=0.3)


# ---------------------------------------------------------------- the page


def json_for_script(value) -> str:
    """JSON that can sit inside <script type="application/json"> whatever the texts contain.

    ``<``, ``>`` and ``&`` never occur in JSON outside strings, so escaping
    them as ``\\u003c`` etc. changes no value and leaves no ``</script>`` or
    ``<!--`` for the HTML parser to find; U+2028/2029 are escaped too because
    older JavaScript parsers treat them as line ends. Lone surrogates (valid
    in JSON text from other tools, not encodable as UTF-8) become ``\\udXXX``
    escapes, which JSON.parse turns back into the same string.
    """
    text = json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def script_hash(script: str) -> str:
    """The CSP source that allows exactly ``script`` to run: 'sha256-' and its digest in base64."""
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


_SLOT = re.compile(r"%(CSP|STYLE|PLOT|DATA|SCRIPT)%")


def render_html(boards: list[Leaderboard], inputs: ReportInputs) -> str:
    """The page for ``boards`` (the tables of one run) and the texts behind them, as text."""
    script = _package_text("report.js")
    slots = {
        "CSP": ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
                f"script-src '{script_hash(script)}'; base-uri 'none'; form-action 'none'"),
        "STYLE": _package_text("report.css"),
        "PLOT": _plot_svg(boards),  # base64 we made ourselves: its alphabet cannot close the attribute
        "DATA": json_for_script(report_data(boards, inputs)),
        "SCRIPT": script,
    }
    # one pass: a text that holds "%SCRIPT%" stays that text, not our script inside the data
    return _SLOT.sub(lambda m: slots[m.group(1)], _package_text("page.html"))


def write_html_report(path: Path | str, boards: list[Leaderboard], inputs: ReportInputs) -> Path:
    """Render the report and write it to ``path``: a temporary name, then renamed, so no half-written page."""
    path = Path(path)
    page = render_html(boards, inputs)
    # lone surrogates (only possible inside JSON strings) become \udXXX escapes, see json_for_script
    atomic_write(path, page.encode("utf-8", errors="backslashreplace"), durable=False)
    return path
