"""The HTML report: one self-contained file a person can open offline and read.

``write_html_report`` takes the computed ``Leaderboard`` (or, for v2, one
per category) and the data directory it came from and writes a single page
holding the ranked table(s), a plot of the scores with their intervals, the judge diagnostics, and every
question with the baseline's and each model's answers and both games' judge
texts and labels.

Safety matters more than looks here: answers and judge texts routinely hold
HTML, markdown and the occasional ``<script>``. So nothing from a model, a
judge or a question is ever written into the markup. All of it travels as
JSON inside ``<script type="application/json">`` with ``<``, ``>``, ``&`` and
the two JavaScript line separators escaped (no ``</script>`` can end the
block early), and the page's one script renders it with ``textContent``
only. On top of that a Content-Security-Policy forbids loading anything and
running any script but ours (pinned by its sha256), so even a mistake in the
rendering could not make the page fetch or execute model output.

Size and speed: for 500 questions x several models the page carries every
text once (the judge's prompt is not stored, it only repeats the question and
the answers) and builds a question's detail only when it is opened.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import math
from pathlib import Path

from utils.errors import InputError
from utils.names import answer_file, diagnostics_file, judgment_dir, question_file, stem_to_name
from utils.ranking.leaderboard import Leaderboard
from utils.ranking.tables import footer
from utils.records import Question, read_answers, read_judgments, read_questions
from utils.store import atomic_write
from utils.verdicts import outcome_word

SNIPPET_CHARS = 160  # of the prompt, shown in the closed question list


# ---------------------------------------------------------------- gathering the data


def _read_games(data_dir: Path, bench: str, judge: str, baseline: str, uids: set[str] | None) -> dict:
    """model -> question id -> {"games": [[label, outcome, judge text], ...], "baseline"?: name}."""
    directory = judgment_dir(data_dir, bench, judge)
    out: dict[str, dict] = {}
    if not directory.is_dir():  # e.g. --load-battles from another tool: no judge texts to show
        return out
    for path in sorted(directory.glob("*.jsonl")):
        stem_model = stem_to_name(path.stem)
        for uid, j in read_judgments(path).items():
            if uids is not None and uid not in uids:
                continue
            games = [[g.label, outcome_word(i, g.label), g.judgment] for i, g in enumerate(j.games[:2])]
            entry: dict = {"games": games}
            if j.baseline and j.baseline != baseline:
                entry["baseline"] = j.baseline
            out.setdefault(j.model or stem_model, {})[uid] = entry
    return out


def _read_diagnostics(data_dir: Path, bench: str, judge: str) -> dict[str, dict]:
    """model -> {metric: value} from the judge's diagnostics.json, or {} when there is none."""
    path = diagnostics_file(data_dir, bench, judge)
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid JSON ({err})", path) from None
    if isinstance(doc, dict) and isinstance(doc.get("models"), dict):
        doc = doc["models"]
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise InputError("expected an object mapping each model to its diagnostics", path)
    return doc


def _questions(data_dir: Path, bench: str, categories: tuple[str, ...], answers: dict, games: dict) -> list[dict]:
    path = question_file(data_dir, bench)
    if path.is_file():
        questions = read_questions(path)
    else:
        # no question file (e.g. battles loaded from elsewhere): list what was answered or judged,
        # with the prompt an answer file recorded when there is one
        prompts: dict[str, tuple[str, ...]] = {}
        for by_uid in answers.values():
            for uid, a in by_uid.items():
                if a.prompts and uid not in prompts:
                    prompts[uid] = tuple(a.prompts)
        uids = dict.fromkeys([u for by_uid in answers.values() for u in by_uid] +
                             [u for by_model in games.values() for by_uid in by_model.values() for u in by_uid])
        questions = [Question(uid=u, turns=prompts.get(u, ())) for u in uids]
    if categories:  # a category, or (v2) a subcategory such as coding
        questions = [q for q in questions if q.category in categories or q.cluster in categories]
    return [{"uid": q.uid, "category": q.category, "cluster": q.cluster, "turns": list(q.turns)} for q in questions]


def _finite(x) -> float | None:
    return float(x) if x is not None and math.isfinite(x) else None


def _plot_svg(boards: list[Leaderboard]) -> str:
    """The scores with their intervals as an SVG data URI (an <img> never runs anything inside it).

    One panel per table (v2: per category), each headed by its category.
    """
    from matplotlib.figure import Figure  # no pyplot: no global state, no GUI backend

    heights = [0.9 + 0.38 * len(b.rows) for b in boards]
    fig = Figure(figsize=(7.5, sum(heights)), dpi=100)
    axes = fig.subplots(len(boards), 1, squeeze=False, gridspec_kw={"height_ratios": heights})[:, 0]
    for ax, board in zip(axes, boards):
        _plot_board(ax, board)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})  # no timestamp: same inputs, same file
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


def report_data(boards: list[Leaderboard], data_dir: Path | str) -> dict:
    """Everything the page shows, as plain JSON-able values (texts untouched; the page escapes them).

    ``boards`` are the tables of one run: one, or (v2) one per category,
    each with its own baseline.
    """
    data_dir = Path(data_dir)
    s = boards[0].settings
    models = list(dict.fromkeys(r.model for b in boards for r in b.rows))
    answers = {}
    for m in models:
        path = answer_file(data_dir, s.bench, m)
        if path.is_file():
            answers[m] = read_answers(path)
    games = {judge: _read_games(data_dir, s.bench, judge, s.baseline, None) for judge in s.judges}
    categories = tuple(dict.fromkeys(c for b in boards for c in b.settings.categories))
    questions = _questions(data_dir, s.bench, categories, answers, games)
    if len(boards) > 1 or boards[0].category is not None:  # the baseline each question was judged against
        baseline_of = {b.category: b.settings.baseline for b in boards}
        for q in questions:
            q["baseline"] = baseline_of.get(q["category"], baseline_of.get(q["cluster"], s.baseline))
    uids = {q["uid"] for q in questions}
    for judge, by_model in games.items():
        games[judge] = {m: {u: e for u, e in by_uid.items() if u in uids} for m, by_uid in by_model.items()}

    diagnostics, columns = [], {}
    for judge in s.judges:
        for model, values in _read_diagnostics(data_dir, s.bench, judge).items():
            shown = {k: v for k, v in values.items() if isinstance(v, (int, float, str)) and not isinstance(v, bool)}
            columns.update(dict.fromkeys(shown))
            diagnostics.append({"judge": judge, "model": model,
                                "values": {k: _finite(v) if isinstance(v, float) else v for k, v in shown.items()}})

    return {
        "title": f"{s.bench} leaderboard",
        "bench": s.bench,
        "baseline": s.baseline,
        "judges": list(s.judges),
        "footer": footer(boards[0]).removeprefix("-- ") if len(boards) == 1 else
        f"{s.method} | judge {', '.join(s.judges)} | one table per category, each against its own baseline",
        "confidence": s.confidence,
        "boards": [_board_data(b, several=len(boards) > 1) for b in boards],
        "diagnostics": diagnostics,
        "diagnostic_columns": list(columns),
        "questions": questions,
        "answers": {m: {u: a.turns for u, a in by_uid.items() if u in uids} for m, by_uid in answers.items()},
        "games": games,
    }


def _board_data(board: Leaderboard, several: bool) -> dict:
    """One table of the page: its heading (v2: category and baseline), rows, coefficients and footer."""
    title = "" if board.category is None else \
        f"Category {board.category} (baseline {board.settings.baseline}, {board.rows[0].questions} questions)"
    return {
        "title": title,
        "footer": footer(board).removeprefix("-- ") if several else "",  # one table: the page header has it
        "unit": "units" if board.settings.v2 else "battles",
        "rows": [{"model": r.model, "score": _finite(r.score), "lower": _finite(r.lower), "upper": _finite(r.upper),
                  "rating": _finite(r.rating), "avg_tokens": r.avg_tokens, "covered": r.covered,
                  "questions": r.questions, "battles": r.battles, "is_baseline": r.is_baseline,
                  "flags": list(r.flags)} for r in board.rows],
        "style_coefficients": {k: _finite(v) for k, v in board.style_coefficients.items()},
    }


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


def _csp(script: str) -> str:
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    return ("default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
            f"script-src 'sha256-{digest}'; base-uri 'none'; form-action 'none'")


def render_html(data: dict, plot_uri: str) -> str:
    script = _SCRIPT
    # plot_uri is base64 we made ourselves: its alphabet cannot close the attribute
    return (_PAGE.replace("%CSP%", _csp(script)).replace("%STYLE%", _STYLE).replace("%PLOT%", plot_uri)
            .replace("%DATA%", json_for_script(data)).replace("%SCRIPT%", script))


def write_html_report(path: Path | str, boards: list[Leaderboard], data_dir: Path | str = "data") -> Path:
    """Write the report for ``boards``, the tables of one run (bench, judges and baselines come from their settings).

    Everything is read and rendered before the file opens, and the file is
    written to a temporary name and renamed, so a bad input file leaves no
    half-written report behind.
    """
    path = Path(path)
    page = render_html(report_data(boards, data_dir), _plot_svg(boards))
    # lone surrogates (only possible inside JSON strings) become \udXXX escapes, see json_for_script
    atomic_write(path, page.encode("utf-8", errors="backslashreplace"), durable=False)
    return path


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="%CSP%">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>leaderboard</title>
<style>%STYLE%</style>
</head>
<body>
<header><h1 id="title">leaderboard</h1><p id="settings" class="muted"></p></header>
<section id="board">
  <h2>Leaderboard</h2>
  <div class="controls">
    <label for="filter">Filter models</label>
    <input id="filter" type="search" size="48" placeholder="filter: names or parts of names, separated by ;"
           autocomplete="off" spellcheck="false">
    <span id="filter-count" class="muted"></span>
  </div>
  <div id="boards"></div>
  <figure><img id="plot" alt="scores with intervals" src="%PLOT%">
    <figcaption class="muted">Dots are scores, bars the bootstrap interval; red marks a model flagged unreliable,
      grey the baseline.</figcaption></figure>
</section>
<section id="diagnostics">
  <h2>Judge diagnostics</h2>
  <p id="diag-empty" class="muted" hidden>No diagnostics file was found beside the judgments.</p>
  <table id="diag-table"><thead><tr id="diag-head"></tr></thead><tbody id="diag-body"></tbody></table>
</section>
<section id="questions">
  <h2>Questions</h2>
  <div class="controls">
    <label for="model-select">Model</label> <select id="model-select"></select>
    <label for="qsearch">Find</label>
    <input id="qsearch" type="search" size="32" placeholder="words in the prompt or its id" autocomplete="off">
    <span id="q-count" class="muted"></span>
  </div>
  <p class="muted">Game 1 shows the baseline as assistant A; game 2 swaps the positions. Open a question to read
    the prompt, both answers and the judge's reasoning.</p>
  <div id="qlist"></div>
</section>
<script type="application/json" id="report-data">%DATA%</script>
<script>%SCRIPT%</script>
</body>
</html>
"""

_STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1200px;
  padding:0 18px 40px;color:#1d1d1f;background:#fff}
h1{font-size:22px;margin:18px 0 2px}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #ddd}
.muted{color:#666}.controls{margin:6px 0 10px;display:flex;gap:8px;align-items:center;flex-wrap:wrap}
input,select{font:inherit;padding:3px 6px}
table{border-collapse:collapse;width:100%}th,td{padding:4px 8px;border-bottom:1px solid #eee;text-align:left;
  vertical-align:top}th{background:#f5f5f7;font-weight:600}td.num,th.num{text-align:right;
  font-variant-numeric:tabular-nums}tr.baseline td{color:#555;font-style:italic}
.flag{color:#a33b2b}figure{margin:12px 0}#plot{max-width:100%;height:auto}
details.q{border:1px solid #e3e3e6;border-radius:6px;margin:5px 0;background:#fff}
details.q>summary{cursor:pointer;padding:6px 10px;list-style-position:inside}
details.q[open]>summary{background:#f5f5f7;border-bottom:1px solid #e3e3e6}
.qnum{font-weight:600;margin-right:6px}.cat{color:#666;margin-right:6px;font-size:12px}
.badge{display:inline-block;font:12px ui-monospace,Menlo,Consolas,monospace;padding:0 5px;border-radius:4px;
  margin-right:4px;border:1px solid #ccc}
.o-model{background:#e3f4e6;border-color:#8cc79a}.o-baseline{background:#fbe6e3;border-color:#e0a197}
.o-tie{background:#eef0f3}.o-missing{background:#fff4d6;border-color:#e2c46b}
.qbody{padding:8px 12px}.qbody h4{margin:12px 0 4px;font-size:14px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}
pre.text{white-space:pre-wrap;word-wrap:break-word;font:13px/1.45 ui-monospace,Menlo,Consolas,monospace;
  background:#fafafa;border:1px solid #eee;border-radius:4px;padding:8px;margin:0;max-height:420px;overflow:auto}
.game{margin-top:10px}.none{color:#999;font-style:italic}
"""

# Our one script. It only ever sets textContent, attributes it chose itself, and
# `hidden`; the CSP pins this exact text by its hash.
_SCRIPT = r"""
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var WORDS = {"baseline>>": "baseline much better", "baseline>": "baseline better", "tie": "tie",
               "model>": "model better", "model>>": "model much better"};

  function byId(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function num(x, digits) { return (x === null || x === undefined) ? "n/a" : x.toFixed(digits); }
  function cell(tr, text, cls) { tr.appendChild(el("td", cls, text)); }

  document.title = D.title;
  byId("title").textContent = D.title;
  byId("settings").textContent = D.footer;

  // ---- leaderboards: the one table, or (v2) one per category; the first keeps the ids leaderboard / board-body
  var boardRows = [];
  var HEAD = ["#", "model", "score", "interval", "rating", "avg tokens", "coverage", "", "notes"];
  D.boards.forEach(function (b, k) {
    var box = byId("boards");
    if (b.title) box.appendChild(el("h3", "", b.title));
    var table = el("table", "leaderboard"), head = el("tr"), body = el("tbody");
    if (k === 0) { table.id = "leaderboard"; body.id = "board-body"; }
    HEAD.forEach(function (h, i) { head.appendChild(el("th", i > 1 && i < 8 ? "num" : "", h || b.unit)); });
    table.appendChild(el("thead")).appendChild(head);
    table.appendChild(body);
    box.appendChild(table);
    b.rows.forEach(function (r, i) {
      var tr = el("tr", r.is_baseline ? "baseline" : "");
      tr.setAttribute("data-model", r.model);
      cell(tr, i + 1);
      cell(tr, r.model + (r.is_baseline ? " (baseline)" : ""), "model");
      cell(tr, num(r.score, 1), "num");
      cell(tr, r.is_baseline ? "" : num(r.lower, 1) + " \u2013 " + num(r.upper, 1), "num");
      cell(tr, num(r.rating, 0), "num");
      cell(tr, r.avg_tokens || "n/a", "num");
      cell(tr, r.is_baseline ? "" : r.covered + "/" + r.questions, "num");
      cell(tr, r.battles, "num");
      cell(tr, r.flags.join("; "), "flag");
      body.appendChild(tr);
      boardRows.push(tr);
    });
    var coefs = Object.keys(b.style_coefficients);
    if (coefs.length) {
      box.appendChild(el("p", "muted", "Style coefficients: " + coefs.map(function (c) {
        return c + " " + num(b.style_coefficients[c], 3);
      }).join(", ")));
    }
    if (b.footer) box.appendChild(el("p", "muted", b.footer));
  });

  // ---- judge diagnostics
  var diagRows = [];
  if (!D.diagnostics.length) {
    byId("diag-empty").hidden = false;
    byId("diag-table").hidden = true;
  } else {
    ["judge", "model"].concat(D.diagnostic_columns).forEach(function (c, i) {
      byId("diag-head").appendChild(el("th", i > 1 ? "num" : "", c.replace(/_/g, " ")));
    });
    D.diagnostics.forEach(function (d) {
      var tr = el("tr");
      tr.setAttribute("data-model", d.model);
      cell(tr, d.judge);
      cell(tr, d.model);
      D.diagnostic_columns.forEach(function (c) {
        var v = d.values[c];
        // shares and rates are stored as fractions; show them as percentages
        var frac = typeof v === "number" && v >= 0 && v <= 1 && /share|rate|consisten|fraction/.test(c);
        cell(tr, v === undefined || v === null ? "" : frac ? (100 * v).toFixed(1) + "%" : v, "num");
      });
      byId("diag-body").appendChild(tr);
      diagRows.push(tr);
    });
  }

  // ---- questions
  var select = byId("model-select");
  var contestants = [], baselines = [D.baseline];
  D.boards.forEach(function (b) {
    b.rows.forEach(function (r) {
      if (r.is_baseline) baselines.push(r.model);
      else if (contestants.indexOf(r.model) < 0) contestants.push(r.model);
    });
  });
  Object.keys(D.answers).forEach(function (m) {
    if (baselines.indexOf(m) < 0 && contestants.indexOf(m) < 0) contestants.push(m);
  });
  contestants.forEach(function (m) { var o = el("option", "", m); o.value = m; select.appendChild(o); });

  function entry(judge, model, uid) {
    var byModel = D.games[judge] || {};
    return (byModel[model] || {})[uid] || null;
  }
  function badge(prefix, game, model) {
    var label = game ? game[0] : null, outcome = game ? game[1] : null;
    var b = el("span", "badge o-" + (outcome ? outcome.replace(/>/g, "") : "missing"),
               prefix + (label || "no verdict"));
    b.title = outcome ? WORDS[outcome].replace("model", model) : "no single label was found";
    return b;
  }
  function textBlock(parent, title, turns, missing) {
    parent.appendChild(el("h4", "", title));
    if (!turns || !turns.length) { parent.appendChild(el("p", "none", missing)); return; }
    turns.forEach(function (t, k) {
      if (turns.length > 1) parent.appendChild(el("div", "muted", "turn " + (k + 1)));
      parent.appendChild(el("pre", "text", t));
    });
  }

  var items = D.questions.map(function (q, i) {
    var d = el("details", "q");
    var s = el("summary");
    s.appendChild(el("span", "qnum", "#" + (i + 1)));
    if (q.category || q.cluster) s.appendChild(el("span", "cat", [q.category, q.cluster].filter(Boolean).join(" / ")));
    var badges = el("span", "badges");
    s.appendChild(badges);
    var prompt = q.turns.length ? q.turns[0] : "";
    s.appendChild(el("span", "snip", prompt.length > 160 ? prompt.slice(0, 160) + "\u2026" : prompt || q.uid));
    d.appendChild(s);
    var item = {q: q, d: d, badges: badges, body: null, key: "", hay: (q.uid + "\n" + q.turns.join("\n")).toLowerCase()};
    d.addEventListener("toggle", function () { if (d.open) renderDetail(item); });
    byId("qlist").appendChild(d);
    return item;
  });

  function renderBadges() {
    var model = select.value;
    items.forEach(function (it) {
      it.badges.textContent = "";
      D.judges.forEach(function (judge) {
        var e = entry(judge, model, it.q.uid);
        if (!e) return;
        e.games.forEach(function (g, k) { it.badges.appendChild(badge("G" + (k + 1) + " ", g, model)); });
      });
      if (it.d.open) renderDetail(it);
    });
  }

  // Built on first opening (and again if the model changes while it is open): 500 questions
  // x several models of answers and judge texts would be slow to lay out all at once.
  function renderDetail(it) {
    var model = select.value;
    if (it.body && it.key === model) return;
    if (it.body) it.body.remove();
    var q = it.q, body = el("div", "qbody");
    textBlock(body, "Prompt", q.turns, "(question text not found)");
    var pair = el("div", "pair"), left = el("div"), right = el("div");
    var baseline = q.baseline || D.baseline;
    D.judges.forEach(function (j) { var e = entry(j, model, q.uid); if (e && e.baseline) baseline = e.baseline; });
    textBlock(left, "Baseline: " + baseline, (D.answers[baseline] || {})[q.uid], "(no answer)");
    textBlock(right, "Model: " + model, (D.answers[model] || {})[q.uid], "(no answer)");
    pair.appendChild(left);
    pair.appendChild(right);
    body.appendChild(pair);
    D.judges.forEach(function (judge) {
      var e = entry(judge, model, q.uid);
      if (!e) { body.appendChild(el("p", "none", "No judgment by " + judge + " for this model.")); return; }
      e.games.forEach(function (g, k) {
        var box = el("div", "game");
        var a = k === 0 ? "baseline" : model, b = k === 0 ? model : "baseline";
        var h = el("h4", "", "Game " + (k + 1) + " (judge " + judge + "; A = " + a + ", B = " + b + ") ");
        h.appendChild(badge("", g, model));
        if (g[1]) h.appendChild(el("span", "muted", WORDS[g[1]].replace("model", model)));
        box.appendChild(h);
        box.appendChild(g[2] ? el("pre", "text", g[2]) : el("p", "none", "(no judge text)"));
        body.appendChild(box);
      });
    });
    it.d.appendChild(body);
    it.body = body;
    it.key = model;
  }

  // ---- filters
  function terms() {
    return byId("filter").value.split(";").map(function (t) { return t.trim().toLowerCase(); })
      .filter(function (t) { return t.length > 0; });
  }
  function matches(model, ts) {
    var m = model.toLowerCase();
    return !ts.length || ts.some(function (t) { return m.indexOf(t) >= 0; });
  }
  function applyFilter() {
    var ts = terms(), shown = 0;
    boardRows.forEach(function (tr) {
      tr.hidden = !matches(tr.getAttribute("data-model"), ts);
      if (!tr.hidden) shown += 1;
    });
    diagRows.forEach(function (tr) { tr.hidden = !matches(tr.getAttribute("data-model"), ts); });
    byId("filter-count").textContent = ts.length ? shown + " of " + boardRows.length + " models" : "";
    var first = null;
    Array.prototype.forEach.call(select.options, function (o) {
      o.hidden = !matches(o.value, ts);
      if (!o.hidden && first === null) first = o.value;
    });
    if (select.selectedOptions.length && select.selectedOptions[0].hidden && first !== null) {
      select.value = first;
      renderBadges();
    }
  }
  function applySearch() {
    var words = byId("qsearch").value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
    items.forEach(function (it) {
      it.d.hidden = !words.every(function (w) { return it.hay.indexOf(w) >= 0; });
      if (!it.d.hidden) shown += 1;
    });
    byId("q-count").textContent = shown + " of " + items.length + " questions";
  }
  byId("filter").addEventListener("input", applyFilter);
  byId("qsearch").addEventListener("input", applySearch);
  select.addEventListener("change", renderBadges);
  renderBadges();
  applySearch();
  document.body.setAttribute("data-ready", "1");
})();
"""
