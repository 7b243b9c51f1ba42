// The report's one script (utils/report/html_report.py). It sets textContent, attributes it chose itself,
// and `hidden`; the one exception is a prompt's, an answer's or a judge's text, which the data block carries
// as HTML already rendered from markdown and sanitised in Python (utils/report/markdown_html.py) and which
// goes in with innerHTML (function md). The page's Content-Security-Policy pins this file's exact text by its
// hash, so nothing in that HTML could run even if it tried. Everything it shows, and the constants it needs
// (the outcome words, the snippet length), come from the page's JSON data block.
"use strict";
(function () {
  var D = JSON.parse(document.getElementById("report-data").textContent);

  function byId(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function num(x, digits) { return (x === null || x === undefined) ? "n/a" : x.toFixed(digits); }
  function cell(tr, text, cls) { return tr.appendChild(el("td", cls, text)); }
  // A wide table scrolls inside its own box, never the page (a narrow screen shows the box's edge)
  function scrollBox(parent, table) { parent.appendChild(el("div", "scroll")).appendChild(table); }
  // Sanitised HTML of a text (see the note at the top); "md" is the class report.css styles it by
  function md(html) { var e = el("div", "md"); e.innerHTML = html; return e; }

  document.title = D.title;
  byId("title").textContent = D.title;
  byId("settings").textContent = D.footer;

  // ---- leaderboards: the one table, or (v2) one per category; the first keeps the ids leaderboard / board-body.
  // Each cell carries its column's name (data-label): on a narrow screen report.css lays a row out as a card.
  var boardRows = [];
  var HEAD = ["#", "model", "score", "interval", "rating", "avg tokens", "coverage", "", "notes"];
  D.boards.forEach(function (b, k) {
    var box = byId("boards");
    if (b.title) box.appendChild(el("h3", "", b.title));
    var table = el("table", "leaderboard"), head = el("tr"), body = el("tbody");
    if (k === 0) { table.id = "leaderboard"; body.id = "board-body"; }
    var names = HEAD.map(function (h) { return h || b.unit; });
    names.forEach(function (h, i) { head.appendChild(el("th", i > 1 && i < 8 ? "num" : "", h)); });
    table.appendChild(el("thead")).appendChild(head);
    table.appendChild(body);
    scrollBox(box, table);
    b.rows.forEach(function (r, i) {
      var tr = el("tr", r.is_baseline ? "baseline" : "");
      tr.setAttribute("data-model", r.model);
      [[i + 1, "rank"], [r.model + (r.is_baseline ? " (baseline)" : ""), "model"], [num(r.score, 1), "num"],
       [num(r.lower, 1) + " \u2013 " + num(r.upper, 1) + (r.is_baseline ? " (fixed)" : ""), "num"],
       [num(r.rating, 0), "num"], [r.avg_tokens || "n/a", "num"], [r.covered + "/" + r.questions, "num"],
       [r.battles, "num"], [r.flags.join("; "), "flag"]].forEach(function (c, j) {
        cell(tr, c[0], c[1]).setAttribute("data-label", names[j]);
      });
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
  // ---- categories of the question file without a table (v2): why, and the commands that score them
  D.missing.forEach(function (m) {
    var note = byId("missing").appendChild(el("div", "missing"));
    note.appendChild(el("p", "", "Not scored: " + m.category + ", " + m.questions + " questions (" +
      (m.baseline ? "baseline " + m.baseline : "no baseline known") + "): " + m.reason + ": " + m.why +
      ". To score it, run:"));
    note.appendChild(el("pre", "", m.fix.join("\n")));
  });

  // ---- costs: one row per model, once. The cost files cover a model's whole benchmark, not a category, so a
  // figure on each category's table would be the same dollars counted again by anyone adding the rows up.
  var costRows = [];
  function usd(x) { return (x === null || x === undefined) ? "" : "$" + x.toFixed(4); }
  var costModels = Object.keys(D.costs);
  if (!costModels.some(function (m) { return usd(D.costs[m].answer_cost_usd) || usd(D.costs[m].judge_cost_usd); })) {
    byId("costs-empty").hidden = false;
    byId("cost-table").hidden = true;
  }
  costModels.forEach(function (m) {
    var tr = el("tr");
    tr.setAttribute("data-model", m);
    cell(tr, m);
    cell(tr, usd(D.costs[m].answer_cost_usd), "num");
    cell(tr, usd(D.costs[m].judge_cost_usd), "num");
    byId("cost-body").appendChild(tr);
    costRows.push(tr);
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

  // ---- head to head: a matrix per table, row against column; the filter hides rows and columns alike
  var pairCells = [];  // every row, header cell and cell of a matrix, with the model it belongs to
  function signed(x) { return x === null ? "n/a" : (x >= 0 ? "+" : "") + x.toFixed(2); }
  if (D.pairs.length) {
    byId("pairs").hidden = false;
    D.pairs.forEach(function (pairs, k) {
      var box = byId("pair-boxes"), b = D.boards[k];
      if (b.title) box.appendChild(el("h3", "", b.title));
      var found = {};
      pairs.forEach(function (p) { found[p.a + "\u0000" + p.b] = p; });
      var models = b.rows.map(function (r) { return r.model; }).filter(function (m) {
        return pairs.some(function (p) { return p.a === m || p.b === m; });
      });
      var table = el("table", "pairs"), head = el("tr"), body = el("tbody");
      head.appendChild(el("th", "", "row \u2212 column"));
      models.forEach(function (m) {
        var th = el("th", "", m);
        pairCells.push({e: th, model: m});
        head.appendChild(th);
      });
      table.appendChild(el("thead")).appendChild(head);
      table.appendChild(body);
      models.forEach(function (row) {
        var tr = el("tr");
        pairCells.push({e: tr, model: row});
        tr.appendChild(el("th", "", row));
        models.forEach(function (col) {
          var td;
          if (row === col) {
            td = el("td", "pair-self", "\u2014");
          } else {
            var p = found[row + "\u0000" + col], flip = !p;
            if (flip) p = found[col + "\u0000" + row];
            var diff = p.diff === null ? null : (flip ? -p.diff : p.diff);
            var lo = flip ? (p.upper === null ? null : -p.upper) : p.lower;
            var hi = flip ? (p.lower === null ? null : -p.lower) : p.upper;
            var cls = p.no_claim ? "pair-unclaimed" : p.significant ? (diff > 0 ? "pair-better" : "pair-worse") :
              (p.note.indexOf("indistinguishable") === 0 ? "pair-same" : "pair-open");
            var mark = {"pair-better": ">", "pair-worse": "<", "pair-same": "=", "pair-open": "?",
                        "pair-unclaimed": "\u00b7"}[cls];
            td = el("td", cls, mark);
            td.title = row + " \u2212 " + col + ": " + signed(diff) + " points, " + D.confidence + "% interval " +
              signed(lo) + " to " + signed(hi) + "; " + p.a + " ahead in " +
              (p.share === null ? "n/a" : (100 * p.share).toFixed(1) + "%") + " of " + p.rounds + " paired rounds" +
              (p.note ? "; " + p.note : "");
          }
          pairCells.push({e: td, model: col});
          tr.appendChild(td);
        });
        body.appendChild(tr);
      });
      scrollBox(box, table);
    });
  }

  // ---- pooled judges: each judge's scores and shifts, kappa, self-preference
  var judgeRows = [];
  function kappa(x) { return x === null ? "n/a" : x.toFixed(3); }
  if (D.agreement) {
    var J = D.agreement, jbox = byId("judge-boxes");
    byId("judges").hidden = false;
    J.tables.forEach(function (t) {
      if (t.category !== null) jbox.appendChild(el("h3", "", "Category " + t.category + " (baseline " + t.baseline + ")"));
      var table = el("table", "judge-table"), head = el("tr"), body = el("tbody");
      ["model", "pooled"].concat(J.judges).forEach(function (h, i) { head.appendChild(el("th", i ? "num" : "", h)); });
      table.appendChild(el("thead")).appendChild(head);
      table.appendChild(body);
      Object.keys(t.models).forEach(function (m) {
        var v = t.models[m], tr = el("tr");
        tr.setAttribute("data-model", m);
        cell(tr, m);
        cell(tr, num(v.pooled, 1), "num");
        J.judges.forEach(function (j) {
          var s = v.scores[j];
          cell(tr, s === undefined ? "\u2014" : num(s, 1) + " (" + (v.shifts[j] >= 0 ? "+" : "") + num(v.shifts[j], 1) + ")",
               "num");
        });
        body.appendChild(tr);
        judgeRows.push(tr);
      });
      scrollBox(jbox, table);
    });
    var list = el("ul");
    J.kappa.forEach(function (k) {
      list.appendChild(el("li", "", "Cohen's kappa " + k.judge_a + " vs " + k.judge_b + ": " + kappa(k.labels) +
        " on the five verdicts, " + kappa(k.direction) + " on the direction (baseline better / tie / model better), over " +
        k.games + " games both judged"));
    });
    J.self_preference.forEach(function (p) {
      var from = [J.families[p.judge].from, J.families[p.model].from].sort();
      var li = el("li", "flag", "Self-preference? Judge " + p.judge + " and " + p.model + (p.baseline ? " (the baseline)" : "") +
        " are both " + p.family + " (family from " + (from[0] === from[1] ? from[0] : from.join(" and ")) +
        "): a judge may favour its own family");
      li.setAttribute("data-model", p.model);
      judgeRows.push(li);
      list.appendChild(li);
    });
    J.notes.forEach(function (n) { list.appendChild(el("li", "muted", n)); });
    jbox.appendChild(list);
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
  // A game as the model fared in it (its outcome word: a win, a strong loss...), coloured by who won (D.outcomes).
  // The judge's own label names positions, which game 2 swaps; it stays readable in the title.
  function badge(game, k, judge, model) {
    var o = game.outcome ? D.outcomes[game.outcome] : null;
    var b = el("span", "badge o-" + (o ? o.winner + (o.strong ? " strong" : "") : "missing"),
               game.outcome || "no verdict");
    b.title = "judge " + judge + ", game " + (k + 1) + " (A = " + (k === 0 ? "the baseline" : model) + "): " +
      (game.label ? "label " + game.label : "no single label was found");
    return b;
  }
  function textBlock(parent, title, turns, missing) {
    parent.appendChild(el("h4", "", title));
    if (!turns || !turns.length) { parent.appendChild(el("p", "none", missing)); return; }
    turns.forEach(function (t, k) {
      if (turns.length > 1) parent.appendChild(el("div", "muted", "turn " + (k + 1)));
      parent.appendChild(md(t));
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
    s.appendChild(el("span", "snip", prompt.length > D.snippet_chars ? prompt.slice(0, D.snippet_chars) + "\u2026" : prompt || q.uid));
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
        e.games.forEach(function (g, k) { it.badges.appendChild(badge(g, k, judge, model)); });
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
    textBlock(body, "Prompt", q.html, "(question text not found)");
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
        var a = k === 0 ? baseline : model, b = k === 0 ? model : baseline;
        var h = el("h4", "", "Game " + (k + 1) + " (judge " + judge + "; A = " + a + ", B = " + b + "): ");
        h.appendChild(badge(g, k, judge, model));
        h.appendChild(el("span", "muted", g.outcome ? " for " + model + " (the judge's label: " + g.label + ")" :
                                                      " (no single label was found)"));
        box.appendChild(h);
        box.appendChild(g.html ? md(g.html) : el("p", "none", "(no judge text)"));
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
    diagRows.concat(costRows).forEach(function (tr) { tr.hidden = !matches(tr.getAttribute("data-model"), ts); });
    judgeRows.forEach(function (tr) { tr.hidden = !matches(tr.getAttribute("data-model"), ts); });
    pairCells.forEach(function (c) { c.e.hidden = !matches(c.model, ts); });
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
