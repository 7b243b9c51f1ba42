"""The HTML report: written by show_result.py --html, opened in a real headless chromium.

The fixture bench holds answers and judge texts full of markup (a <script>,
an <img onerror>, a premature </script>, markdown). The browser tests check
what a reader sees: the rows, the model filter, an opened question with both
answers and both games, markdown rendered as elements and raw HTML shown as
text, a phone-width window without sideways scroll, and that nothing from the
data ran or loaded. The other tests read the file itself, without a browser, or
render a page from inputs built in the test (render_html is a pure function).
How hostile markdown is rendered is tested in test_markdown_html.py.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.helpers import ROOT, bench_script, run_script, unavailable, write_jsonl
from utils.ranking.results import Leaderboard, ModelResult
from utils.ranking.settings import RunSettings
from utils.vocabulary.records import Question
from utils.report.html_report import SNIPPET_CHARS, render_html, write_html_report
from utils.report.inputs import ReportInputs, ShownGame, ShownJudgment
from utils.report.markdown_html import render_markdown

BENCH, JUDGE, BASELINE = "tiny-bench", "judge-x", "base-model"
ALPHA, GAMMA = "alpha-model", "gamma-model"
# Debian and Ubuntu package both; `.ci/run` installs them in CI
BROWSER_INSTALL = "sudo apt-get install chromium chromium-driver"
ARTIFACTS = ROOT / "artifacts"

SCRIPT_ANSWER = "Sure.\n<script>window.__pwned=1</script>\nDone."
IMG_ANSWER = 'A picture: <img src=x onerror="window.__pwned=2">'
# what a model writes: a heading, bold, lists, a code block with a line far wider than a phone, a table, a long
# link, and raw HTML that must stay text
LONG_LINE = "pot = kettle.boil(" + ", ".join(f"step_{i}=True" for i in range(30)) + ")"
MARKDOWN_ANSWER = ("## Steps\n\n1. **Boil** water\n2. Add `tea`\n\n- <b>not bold</b>\n\n"
                   f"```python\n{LONG_LINE}\n```\n\n| cup | sugar | milk | lemon | honey | mint | ginger |\n"
                   "|---|---|---|---|---|---|---|\n| mug | one spoonful | a dash | a slice | a spoonful | two leaves | "
                   "a piece |\n\nSee <https://example.org/" + "a-very-long-path-segment-" * 8 + "> for more.")
# markdown whose links and images try to run or load something, and a link whose quote tries to add a handler
HOSTILE_LINKS = ("[click me](javascript:window.__pwned=4) [or me](data:text/html,<script>window.__pwned=5</script>) "
                 "![pixel](https://example.org/pixel.png) <!-- a comment --> "
                 '[hover me](https://example.org/"onmouseover="window.__pwned=6)')
JUDGE_BREAKOUT = "Assistant B wrote </script><script>window.__pwned=3</script> which is odd."
PROMPTS = ["Say something nice about <b>tags</b>.", "Show an image.", "How do I make tea?",
           "Name a prime number.", "What is 2 + 2? Show each step. " * 8, "Spell 'cat' backwards."]
# game 1 has the baseline as A: "B>A" means the model won
ALPHA_LABELS = [("B>A", "A>B"), ("B>>A", "A>>B"), ("A=B", "A=B"), ("B>A", "A>B"), ("A>B", "B>A"), ("B>A", None)]
GAMMA_LABELS = [("A>B", "B>A"), ("A>>B", "B>>A"), ("A>B", "A>B"), ("A=B", "A=B"), ("B>A", "A>B"), ("A>B", "B>A")]


def _answer(uid: str, model: str, text: str) -> dict:
    return {"uid": uid, "ans_id": f"{model}-{uid}", "model": model, "tstamp": 0.0,
            "messages": [{"role": "user", "content": "(prompt)"}, {"role": "assistant", "content": {"answer": text}}],
            "metadata": {"token_len": len(text.split())}}


def alpha_text(i: int) -> str:
    return [SCRIPT_ANSWER, IMG_ANSWER, MARKDOWN_ANSWER][i] if i < 3 else f"Alpha's answer number {i}."


def judge_text(model: str, i: int, game: int, label: str | None) -> str:
    if model == ALPHA and i == 0 and game == 0:
        return JUDGE_BREAKOUT + f" My verdict: [[{label}]]"
    ending = f"[[{label}]]" if label else "I cannot decide."
    return f"Judge reasoning for {model}, question {i}, game {game + 1}. Verdict: {ending}"


def make_bench(data: Path) -> None:
    bench = data / BENCH
    uids = [f"q{i}" for i in range(len(PROMPTS))]
    write_jsonl(bench / "question.jsonl", [{"uid": u, "category": "test", "subcategory": "misc", "prompt": p}
                                           for u, p in zip(uids, PROMPTS)])
    write_jsonl(bench / "model_answer" / f"{BASELINE}.jsonl",
                [_answer(u, BASELINE, f"Baseline's plain answer number {i}.") for i, u in enumerate(uids)])
    write_jsonl(bench / "model_answer" / f"{ALPHA}.jsonl", [_answer(u, ALPHA, alpha_text(i)) for i, u in enumerate(uids)])
    write_jsonl(bench / "model_answer" / f"{GAMMA}.jsonl",
                [_answer(u, GAMMA, HOSTILE_LINKS if i == 0 else f"Gamma says {i}.") for i, u in enumerate(uids)])
    for model, labels in ((ALPHA, ALPHA_LABELS), (GAMMA, GAMMA_LABELS)):
        write_jsonl(bench / "model_judgment" / JUDGE / f"{model}.jsonl", [
            {"uid": u, "category": "test", "judge": JUDGE, "model": model, "baseline": BASELINE,
             "games": [{"user_prompt": "(judge prompt)", "judgment": judge_text(model, i, g, label), "score": label}
                       for g, label in enumerate(labels[i])]}
            for i, u in enumerate(uids)])
    diagnostics = {ALPHA: {"missing_share": 1 / 12, "tie_rate": 2 / 11, "position_consistency": 5 / 6},
                   GAMMA: {"missing_share": 0.0, "tie_rate": 2 / 12, "position_consistency": 4 / 6}}
    (bench / "model_judgment" / JUDGE / "diagnostics.json").write_text(json.dumps(diagnostics))
    for path, usd in ((bench / "costs" / "answers" / f"{ALPHA}.json", 0.0123),  # as gen_answer.py writes them
                      (bench / "costs" / "judgments" / JUDGE / f"{ALPHA}.json", 0.5)):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"model": ALPHA, "cost_usd": usd}))


def show_result(data: Path, out: Path, *extra) -> subprocess.CompletedProcess:
    return run_script("show_result.py", "--data-dir", data, "--bench-name", BENCH, "--judge-name", JUDGE,
                      "--baseline", BASELINE, "--num-rounds", 20, "--html", out, *extra, cwd=data.parent)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Path]:
    """(report.html, leaderboard.csv) made by show_result.py from the fixture bench."""
    root = tmp_path_factory.mktemp("report")
    make_bench(root / "data")
    out, table = root / "out" / "report.html", root / "out" / "table.csv"
    proc = show_result(root / "data", out, "--csv", table)
    assert proc.returncode == 0, proc.stderr
    return out, table


# ---------------------------------------------------------------- the file itself


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1] += data


def test_report_is_one_offline_file_whose_only_script_is_ours(report):
    page = report[0].read_text(encoding="utf-8")
    parsed = _Tags()
    parsed.feed(page)
    tags = [t for t, _ in parsed.tags]
    # the data block and our script; the injected <script> and <img> must not have become elements
    assert tags.count("script") == 2
    assert tags.count("img") == 1 and not {"link", "iframe", "object", "embed", "base"} & set(tags)
    for tag, attrs in parsed.tags:
        for name in ("src", "href", "action", "srcset"):
            assert name not in attrs or attrs[name].startswith("data:"), (tag, attrs)
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)

    csp = next(a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "img-src data:" in csp
    code = parsed.scripts[1]
    digest = base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode()
    assert re.search(r"script-src 'sha256-([^']+)'", csp).group(1) == digest


def test_texts_survive_the_escaping_unchanged(report):
    page = report[0].read_text(encoding="utf-8")
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in block and ">" not in block and "&" not in block
    data = json.loads(block)
    # the texts as rendered markdown, the rendering's HTML unchanged by the trip through the page
    assert data["answers"][ALPHA]["q0"] == [render_markdown(SCRIPT_ANSWER)]
    assert data["answers"][ALPHA]["q1"] == [render_markdown(IMG_ANSWER)]
    assert data["games"][JUDGE][ALPHA]["q0"]["games"][0]["html"] == render_markdown(judge_text(ALPHA, 0, 0, "B>A"))
    assert data["questions"][0]["turns"] == [PROMPTS[0]]
    assert data["questions"][0]["html"] == [render_markdown(PROMPTS[0])]


def test_the_page_and_the_csv_carry_each_models_costs(report):
    data = data_block(report[0].read_text(encoding="utf-8"))
    assert data["costs"][ALPHA] == {"answer_cost_usd": 0.0123, "judge_cost_usd": 0.5}
    assert data["costs"][GAMMA] == {"answer_cost_usd": None, "judge_cost_usd": None}
    with open(report[1], newline="") as f:
        rows = {row["model"]: row for row in csv.DictReader(f)}
    assert (rows[ALPHA]["answer_cost_usd"], rows[ALPHA]["judge_cost_usd"]) == ("0.0123", "0.5")
    assert (rows[GAMMA]["answer_cost_usd"], rows[GAMMA]["judge_cost_usd"]) == ("", "")


def test_a_bad_diagnostics_file_is_named_and_no_report_is_written(tmp_path):
    make_bench(tmp_path / "data")
    bad = tmp_path / "data" / BENCH / "model_judgment" / JUDGE / "diagnostics.json"
    bad.write_text("{not json")
    out = tmp_path / "out" / "report.html"
    proc = show_result(tmp_path / "data", out)
    assert proc.returncode == 2
    assert str(bad) in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() and not out.with_name(out.name + ".tmp").exists()


# ---------------------------------------------------------------- the renderer alone, on inputs built here


def tiny_report(answer: str = "A plain answer.", judge_text: str = "The model wins. [[B>A]]",
                prompt: str = "Say hello.", flags: tuple[str, ...] = ()) -> tuple[list[Leaderboard], ReportInputs]:
    """One table (the baseline and one model, with ``flags``) and the texts of one question, made without any file."""
    settings = RunSettings(bench=BENCH, judges=(JUDGE,), baseline=BASELINE, rounds=20)
    rows = [ModelResult(ALPHA, 62.5, 55.0, 70.0, 1088.0, 1035.0, 1150.0, 12, 1, 1, 2, flags=flags),
            ModelResult(BASELINE, 50.0, 50.0, 50.0, 1000.0, 1000.0, 1000.0, 9, 1, 1, 2, is_baseline=True)]
    inputs = ReportInputs(
        questions=[Question(uid="q0", turns=(prompt,), category="test", cluster="misc")],
        answers={ALPHA: {"q0": [answer]}, BASELINE: {"q0": ["The baseline's answer."]}},
        judgments={JUDGE: {ALPHA: {"q0": ShownJudgment(BASELINE, (ShownGame("B>A", judge_text),
                                                                  ShownGame("A>>B", "Clearly A. [[A>>B]]")))}}},
        diagnostics={JUDGE: {ALPHA: {"tie_rate": 0.25, "games": 2, "note": "fine", "nested": {"x": 1}}}})
    return [Leaderboard(rows, settings, battles=2)], inputs


def data_block(page: str) -> dict:
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    return json.loads(block)


def test_the_page_carries_the_inputs_in_its_data_block():
    boards, inputs = tiny_report()
    data = data_block(render_html(boards, inputs))
    # the prompt as text (the closed list's snippet and the search) and rendered; answers and judge texts rendered
    assert data["questions"] == [{"uid": "q0", "category": "test", "cluster": "misc", "turns": ["Say hello."],
                                  "html": ["<p>Say hello.</p>\n"]}]
    assert data["answers"] == {ALPHA: {"q0": ["<p>A plain answer.</p>\n"]},
                               BASELINE: {"q0": ["<p>The baseline's answer.</p>\n"]}}
    assert [r["model"] for r in data["boards"][0]["rows"]] == [ALPHA, BASELINE]
    assert data["boards"][0]["rows"][0]["score"] == 62.5
    # game 1 shows the baseline as A, so B>A is the model's win; game 2 shows the model as A, so A>>B is
    # the model's strong win: each game says how the model fared, whatever side it sat on, beside the judge's label
    assert data["games"] == {JUDGE: {ALPHA: {"q0": {"games": [
        {"label": "B>A", "outcome": "win", "html": "<p>The model wins. [[B&gt;A]]</p>\n"},
        {"label": "A>>B", "outcome": "strong win", "html": "<p>Clearly A. [[A&gt;&gt;B]]</p>\n"}]}}}}
    # the constants the script uses come with the data: the snippet length and what each outcome word means
    assert data["snippet_chars"] == SNIPPET_CHARS
    assert data["outcomes"] == {"strong win": {"winner": "model", "strong": True},
                                "win": {"winner": "model", "strong": False},
                                "tie": {"winner": "tie", "strong": False},
                                "loss": {"winner": "baseline", "strong": False},
                                "strong loss": {"winner": "baseline", "strong": True}}
    # numbers and words of the diagnostics are shown, anything else is not
    assert data["diagnostics"] == [{"judge": JUDGE, "model": ALPHA,
                                    "values": {"tie_rate": 0.25, "games": 2, "note": "fine"}}]
    assert data["diagnostic_columns"] == ["tie_rate", "games", "note"]


def test_the_policy_pins_the_script_file_that_the_page_holds():
    page = render_html(*tiny_report())
    parsed = _Tags()
    parsed.feed(page)
    script = (ROOT / "utils" / "report" / "report.js").read_text(encoding="utf-8")
    assert parsed.scripts[1] == script
    csp = next(a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    assert f"script-src 'sha256-{digest}';" in csp
    assert (ROOT / "utils" / "report" / "report.css").read_text(encoding="utf-8") in page


def test_markup_in_the_texts_stays_text():
    answer = "Done.</script><script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">"
    judge = "B wrote <!-- and </SCRIPT > here. [[B>A]]"
    prompt = "What does <b>bold</b> & <i>this</i> do?\u2028Next line."
    page = render_html(*tiny_report(answer, judge, prompt))
    parsed = _Tags()
    parsed.feed(page)
    tags = [t for t, _ in parsed.tags]
    assert tags.count("script") == 2 and tags.count("img") == 1 and "b" not in tags and "i" not in tags
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S).group(1)
    assert not {"<", ">", "&", "\u2028"} & set(block)
    data = json.loads(block)
    # the markup is in the rendered HTML as escaped text, which the page puts in as it is
    assert data["answers"][ALPHA]["q0"] == [render_markdown(answer)]
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned=1" in data["answers"][ALPHA]["q0"][0]
    assert data["games"][JUDGE][ALPHA]["q0"]["games"][0]["html"] == render_markdown(judge)
    assert "&lt;!-- and &lt;/SCRIPT &gt;" in render_markdown(judge)
    assert data["questions"][0]["turns"] == [prompt]
    assert data["questions"][0]["html"] == [render_markdown(prompt)]


def test_a_text_that_names_a_slot_of_the_page_stays_that_text():
    answer = "The page's slots are %SCRIPT%, %DATA% and %CSP%."
    page = render_html(*tiny_report(answer))
    assert data_block(page)["answers"][ALPHA]["q0"] == [f"<p>{answer}</p>\n"]
    assert page.count((ROOT / "utils" / "report" / "report.js").read_text(encoding="utf-8")) == 1


def test_the_same_inputs_give_the_same_page():
    assert render_html(*tiny_report()) == render_html(*tiny_report())


def test_write_html_report_writes_the_rendered_page(tmp_path):
    boards, inputs = tiny_report()
    path = write_html_report(tmp_path / "out" / "report.html", boards, inputs)
    assert path.read_text(encoding="utf-8") == render_html(boards, inputs)
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]


# ---------------------------------------------------------------- in the browser


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's headless chromium through selenium, with the driver path given so nothing is downloaded.

    Found on PATH; where it is missing the browser test skips with the command
    that installs it, and fails under CI (tests.helpers.unavailable).
    """
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    chromedriver = shutil.which("chromedriver")
    missing = [name for name, path in (("chromium", chromium), ("chromedriver", chromedriver)) if not path]
    if missing:
        unavailable(f"the headless browser test needs {' and '.join(missing)} on PATH: {BROWSER_INSTALL}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        unavailable("the headless browser test needs selenium: pip install -r requirements-dev.txt")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                 f"--user-data-dir={profile}", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)  # 2.5 MB a run, of no use once the browser is gone


def open_report(driver, path: Path):
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(path.as_uri())
    # checked before anything else: a broken page must not hide a script that ran while it loaded
    assert_nothing_ran(driver)
    # our script marks the body when it has rendered; if the CSP blocked it, this times out
    WebDriverWait(driver, 20).until(lambda d: d.find_element("tag name", "body").get_attribute("data-ready") == "1",
                                    "the report's script did not finish: blocked by the CSP, or the data broke")


def assert_nothing_ran(driver):
    """No script or handler from the data ran (images are settled first: onerror fires late)."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(
        lambda d: d.execute_script("return Array.prototype.every.call(document.images, i => i.complete)"))
    assert driver.execute_script("return typeof window.__pwned") == "undefined"


def visible_models(driver) -> list[str]:
    return [tr.get_attribute("data-model") for tr in driver.find_elements("css selector", "#board-body tr")
            if tr.is_displayed()]


@pytest.mark.browser
def test_report_in_chromium(browser, report):
    from selenium.webdriver import ActionChains
    from selenium.webdriver.support.ui import Select

    path, table = report
    open_report(browser, path)

    # the ranked rows, with the numbers of the CSV show_result wrote in the same run
    with open(table, encoding="utf-8") as f:
        expected = [(r["model"], f"{float(r['score']):.1f}") for r in csv.DictReader(f)]
    shown = [(tr.get_attribute("data-model"), tr.find_elements("tag name", "td")[2].text)
             for tr in browser.find_elements("css selector", "#board-body tr")]
    assert shown == expected and {m for m, _ in shown} == {BASELINE, ALPHA, GAMMA}
    # what each model cost, once, in the costs table (not in the ranked table)
    heads = [th.text for th in browser.find_elements("css selector", "#leaderboard thead th")]
    assert "answer cost" not in heads and "judge cost" not in heads
    assert [th.text for th in browser.find_elements("css selector", "#cost-table thead th")] == [
        "model", "answer cost", "judge cost"]
    costs = {tr.get_attribute("data-model"): [td.text for td in tr.find_elements("tag name", "td")]
             for tr in browser.find_elements("css selector", "#cost-body tr")}
    assert costs[ALPHA] == [ALPHA, "$0.0123", "$0.5000"] and costs[GAMMA] == [GAMMA, "", ""]
    assert browser.execute_script("var i = document.getElementById('plot'); return i.complete && i.naturalWidth") > 0
    diag = browser.find_element("id", "diag-body").text
    assert ALPHA in diag and "83.3%" in diag  # ALPHA's position consistency, 5/6

    # the filter: several names (or parts of names) separated by ';', any case
    box = browser.find_element("id", "filter")
    box.send_keys("ALPHA; base")
    assert sorted(visible_models(browser)) == sorted([ALPHA, BASELINE])
    assert sorted(tr.get_attribute("data-model") for tr in browser.find_elements("css selector", "#cost-body tr")
                  if tr.is_displayed()) == sorted([ALPHA, BASELINE])  # the costs follow the filter too
    box.clear()
    box.send_keys(f"{GAMMA};")
    assert visible_models(browser) == [GAMMA]
    box.clear()
    box.send_keys(" ")
    assert sorted(visible_models(browser)) == sorted([BASELINE, ALPHA, GAMMA])

    # each game's badge says how ALPHA fared, whichever side it sat on; the judge's label is in its title
    Select(browser.find_element("id", "model-select")).select_by_value(ALPHA)
    summaries = browser.find_elements("css selector", "#qlist summary")
    badges = [[(b.text, b.get_attribute("title")) for b in s.find_elements("class name", "badge")] for s in summaries]
    assert badges[0] == [("win", f"judge {JUDGE}, game 1 (A = the baseline): label B>A"),
                         ("win", f"judge {JUDGE}, game 2 (A = {ALPHA}): label A>B")]
    assert [[text for text, _ in b] for b in badges] == [
        ["win", "win"], ["strong win", "strong win"], ["tie", "tie"], ["win", "win"], ["loss", "loss"],
        ["win", "no verdict"]]

    # open the first three questions for ALPHA; the fixture's markup lives in them
    opened = browser.find_elements("css selector", "#qlist details")[:3]
    for details in opened:
        details.find_element("tag name", "summary").click()

    # nothing from the data ran, became markup, or was fetched
    assert_nothing_ran(browser)
    assert browser.execute_script("return document.querySelectorAll('script').length") == 2
    assert browser.execute_script("return document.querySelectorAll('img').length") == 1
    assert browser.execute_script("return document.querySelectorAll('#qlist b, #qlist svg').length") == 0
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0
    # a CSP refusal would mean something tried to run or load, even if it was stopped
    refused = [e["message"] for e in browser.get_log("browser") if "Content Security Policy" in e["message"]]
    assert refused == []

    # an opened question: the prompt, both answers, both games' judge texts and labels, markup as text
    body = opened[0].find_element("class name", "qbody").text
    assert PROMPTS[0] in body
    assert "Baseline's plain answer number 0." in body
    assert SCRIPT_ANSWER in body
    assert JUDGE_BREAKOUT in body and judge_text(ALPHA, 0, 1, "A>B") in body
    games = [h.text for h in opened[0].find_elements("css selector", ".game h4")]
    assert games == [f"Game 1 (judge {JUDGE}; A = {BASELINE}, B = {ALPHA}): win for {ALPHA} (the judge's label: B>A)",
                     f"Game 2 (judge {JUDGE}; A = {ALPHA}, B = {BASELINE}): win for {ALPHA} (the judge's label: A>B)"]
    assert IMG_ANSWER in opened[1].find_element("class name", "qbody").text

    # markdown is rendered: elements in the DOM, not the markers as text; the raw HTML in it stays text
    answer = opened[2].find_elements("css selector", ".pair .md")[1]
    assert answer.find_element("css selector", "h2").text == "Steps"
    assert answer.find_element("css selector", "ol li strong").text == "Boil"
    assert answer.find_element("css selector", "ol li code").text == "tea"
    assert answer.find_element("css selector", "ul li").text == "<b>not bold</b>"
    assert answer.find_element("css selector", "pre code").get_attribute("textContent") == LONG_LINE + "\n"
    assert [th.text for th in answer.find_elements("css selector", "table th")][:2] == ["cup", "sugar"]
    link = answer.find_element("css selector", "a")
    assert link.get_attribute("href").startswith("https://example.org/a-very-long")
    assert "**" not in answer.text and "```" not in answer.text and "## " not in answer.text
    # a closed question shows the start of its prompt: the page's snippet length, then an ellipsis
    snippets = [s.get_attribute("textContent") for s in browser.find_elements("css selector", "#qlist .snip")]
    assert snippets[4] == PROMPTS[4][:SNIPPET_CHARS] + "\u2026" and snippets[3] == PROMPTS[3]

    # GAMMA's first answer: its links lead nowhere that runs or loads anything, and pointing at or clicking
    # them runs nothing
    Select(browser.find_element("id", "model-select")).select_by_value(GAMMA)
    answer = opened[0].find_elements("css selector", ".pair .md")[1]
    # the javascript: and data: links keep their text and lead nowhere (no href at all); the image is a link
    links = answer.find_elements("tag name", "a")
    assert [(a.text, a.get_dom_attribute("href")) for a in links] == [
        ("click me", None), ("or me", None), ("pixel", "https://example.org/pixel.png"),
        ("hover me", "https://example.org/%22onmouseover=%22window.__pwned=6")]
    assert "click me or me !pixel <!-- a comment --> hover me" in answer.text
    assert "javascript" not in answer.get_attribute("innerHTML")
    ActionChains(browser).move_to_element(links[3]).pause(0.2).move_to_element(links[0]).click().perform()
    assert_nothing_ran(browser)
    Select(browser.find_element("id", "model-select")).select_by_value(ALPHA)

    # the screenshot: the whole page, from the top, with the three questions open
    browser.execute_script("window.scrollTo(0, 0)")
    ARTIFACTS.mkdir(exist_ok=True)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1280, min(max(height, 800), 6000))
    browser.save_screenshot(str(ARTIFACTS / "html_report.png"))


PHONE = 420  # px: a phone held upright


def in_view(driver, element) -> bool:
    """Shown, and inside the window's width (a reader need not scroll sideways to see it)."""
    left, right = driver.execute_script("var r = arguments[0].getBoundingClientRect(); return [r.left, r.right]",
                                        element)
    return element.is_displayed() and left >= 0 and right <= driver.execute_script("return window.innerWidth")


@pytest.mark.browser
def test_report_reads_at_phone_width_in_chromium(browser, report):
    from selenium.webdriver.support.ui import Select

    browser.set_window_size(PHONE, 900)
    try:
        open_report(browser, report[0])
        assert browser.execute_script("return window.innerWidth") == PHONE
        # every question open, with its answers (one holds a code line and a table far wider than the window)
        Select(browser.find_element("id", "model-select")).select_by_value(ALPHA)
        browser.execute_script("document.querySelectorAll('#qlist details').forEach(function (d) { d.open = true; })")
        assert len(browser.find_elements("css selector", ".qbody")) == len(PROMPTS)
        assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")

        # each model a card: its score, coverage and notes in view without sideways scrolling
        rows = browser.find_elements("css selector", "#board-body tr")
        noted = 0
        for tr in rows:
            cells = {td.get_attribute("data-label"): td for td in tr.find_elements("tag name", "td")}
            assert in_view(browser, cells["model"]) and in_view(browser, cells["score"])
            if tr.get_attribute("data-model") != BASELINE:
                assert in_view(browser, cells["coverage"]) and "/6" in cells["coverage"].text
            if cells["notes"].text:
                assert in_view(browser, cells["notes"])
                noted += cells["notes"].text.startswith("unreliable")
        assert noted  # the fixture's six questions are too few: the models' rows say they are unreliable
        assert in_view(browser, browser.find_element("id", "filter"))
        # the code block scrolls inside its own box
        code = browser.find_element("css selector", ".md pre")
        assert in_view(browser, code)
        assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", code)
        ARTIFACTS.mkdir(exist_ok=True)
        browser.save_screenshot(str(ARTIFACTS / "html_report_phone.png"))
    finally:
        browser.set_window_size(1280, 1000)


def two_category_report() -> tuple[list[Leaderboard], ReportInputs]:
    """tiny_report as v2 makes it: the same models in a table per category, and what each model cost."""
    (board,), inputs = tiny_report()
    boards = [Leaderboard(board.rows, replace(board.settings, categories=(c,)), battles=2, category=c)
              for c in ("hard_prompt", "creative_writing")]
    inputs.costs = {ALPHA: {"answer_cost_usd": 0.0123, "judge_cost_usd": 0.5},
                    BASELINE: {"answer_cost_usd": None, "judge_cost_usd": None}}
    return boards, inputs


@pytest.mark.browser
def test_each_models_cost_is_shown_once_whatever_the_tables_in_chromium(browser, tmp_path):
    # a cost file covers a model's whole benchmark: on every category's row, adding the rows up would count it twice
    path = write_html_report(tmp_path / "report.html", *two_category_report())
    open_report(browser, path)
    assert len(browser.find_elements("css selector", "table.leaderboard")) == 2
    page = browser.find_element("tag name", "body").text
    assert page.count("$0.5000") == 1 and page.count("$0.0123") == 1
    row = browser.find_element("css selector", f"#cost-body tr[data-model='{ALPHA}']")
    assert [td.text for td in row.find_elements("tag name", "td")] == [ALPHA, "$0.0123", "$0.5000"]


# ---------------------------------------------------------------- head to head and pooled judges


def test_the_page_carries_the_pairs_and_the_judges_figures_when_they_were_computed():
    from utils.ranking.comparison import PairComparison
    from utils.ranking.judges import JudgeAgreement, JudgeTable, Kappa, SelfPreference

    boards, inputs = tiny_report()
    data = data_block(render_html(boards, inputs))
    assert data["pairs"] == [] and data["agreement"] is None  # not computed: the page hides both sections
    inputs.pairs = [[PairComparison(ALPHA, BASELINE, 12.5, 5.0, float("nan"), 0.99, 20, needed=None)]]
    inputs.judges = JudgeAgreement(
        [JUDGE, "judge-y"],
        [JudgeTable(None, BASELINE, {ALPHA: 62.5}, {JUDGE: {ALPHA: 65.0}, "judge-y": {ALPHA: 60.0}})],
        [Kappa(JUDGE, "judge-y", 2, 0.5, None)], {JUDGE: ("openai", "name"), BASELINE: ("openai", "api_config")},
        [SelfPreference(JUDGE, BASELINE, "openai", True)])
    data = data_block(render_html(boards, inputs))
    # a bound that is not a number travels as null
    assert data["pairs"] == [[{"a": ALPHA, "b": BASELINE, "diff": 12.5, "lower": 5.0, "upper": None, "share": 0.99,
                               "rounds": 20, "significant": True, "no_claim": False, "note": ""}]]
    inputs.pairs = [[PairComparison(ALPHA, BASELINE, 12.5, 5.0, 20.0, 0.99, 20, min_rounds=80)]]  # too few rounds
    [[pair]] = data_block(render_html(boards, inputs))["pairs"]
    assert (pair["significant"], pair["no_claim"]) == (False, True)
    assert pair["note"] == "no significance claim: 20 paired rounds, at least 80 needed"
    assert data["agreement"]["tables"][0]["models"][ALPHA] == {"pooled": 62.5, "scores": {JUDGE: 65.0, "judge-y": 60.0},
                                                               "shifts": {JUDGE: 2.5, "judge-y": -2.5}}
    assert data["agreement"]["kappa"] == [{"judge_a": JUDGE, "judge_b": "judge-y", "games": 2, "labels": 0.5,
                                           "direction": None}]
    assert data["agreement"]["self_preference"] == [{"judge": JUDGE, "model": BASELINE, "family": "openai",
                                                     "baseline": True}]


@pytest.fixture(scope="module")
def judged_twice(tmp_path_factory) -> tuple[Path, Path]:
    """(report.html, pairs.csv) of the fixture bench judged by JUDGE and by a second judge calling every game a tie."""
    root = tmp_path_factory.mktemp("report2")
    make_bench(root / "data")
    first = root / "data" / BENCH / "model_judgment" / JUDGE
    second = first.with_name("judge-y")
    second.mkdir()
    for path in first.glob("*.jsonl"):
        rows = [json.loads(line) for line in path.read_text().splitlines()]
        for r in rows:
            r["judge"] = "judge-y"
            for g in r["games"]:
                g["score"] = "A=B"
        write_jsonl(second / path.name, rows)
    out, pairs = root / "out" / "report.html", root / "out" / "pairs.csv"
    proc = run_script("show_result.py", "--data-dir", root / "data", "--bench-name", BENCH, "--judge-names", JUDGE,
                      "judge-y", "--baseline", BASELINE, "--num-rounds", 50, "--bootstrap-unit", "question",
                      "--html", out, "--pairs", pairs, cwd=root)
    assert proc.returncode == 0, proc.stderr
    return out, pairs


@pytest.mark.browser
def test_pairs_matrix_and_judges_in_chromium(browser, judged_twice):
    path, pairs_csv = judged_twice
    open_report(browser, path)
    with open(pairs_csv, encoding="utf-8") as f:
        pairs = list(csv.DictReader(f))
    models = [th.text for th in browser.find_elements("css selector", "#pair-boxes thead th")][1:]
    assert sorted(models) == sorted([ALPHA, GAMMA, BASELINE])
    rows = browser.find_elements("css selector", "#pair-boxes tbody tr")
    assert all(p["no_claim_reason"] for p in pairs)  # 50 rounds: too few for a claim at 95 %
    for p in pairs:  # each pair twice: row A against column B, and the other way round
        significant, ahead = p["significant"] == "true", float(p["diff"]) > 0
        for row, col, sign in ((p["model_a"], p["model_b"], 1), (p["model_b"], p["model_a"], -1)):
            td = rows[models.index(row)].find_elements("tag name", "td")[models.index(col)]
            expected = "\u00b7" if p["no_claim_reason"] else "?" if not significant else \
                ">" if (ahead if sign > 0 else not ahead) else "<"
            assert td.text == expected
            assert p["no_claim_reason"] in td.get_attribute("title")
            assert td.get_attribute("title").startswith(f"{row} \u2212 {col}: {sign * float(p['diff']):+.2f} points")
    judges = browser.find_element("id", "judge-boxes").text
    assert "Cohen's kappa" in judges and f"{JUDGE} vs judge-y" in judges
    # the model filter hides the matrix's rows and columns and the judges' rows of the other models
    browser.find_element("id", "filter").send_keys("alpha")
    shown = [th.text for th in browser.find_elements("css selector", "#pair-boxes thead th") if th.is_displayed()]
    assert shown == ["row \u2212 column", ALPHA]
    assert [tr.find_element("tag name", "th").text for tr in rows if tr.is_displayed()] == [ALPHA]
    judge_rows = browser.find_elements("css selector", "#judge-boxes tbody tr")
    assert [tr.get_attribute("data-model") for tr in judge_rows if tr.is_displayed()] == [ALPHA]


@pytest.mark.browser
def test_the_report_benchmark_leaves_no_browser_profile_in_the_temporary_directory(tmp_path, monkeypatch, browser):
    """bench/bench_html_report.py starts chromium with a profile of its own; each run left one (2.5 MB) in /tmp."""
    page = tmp_path / "page.html"  # rendered at once, with the 50 opened questions the benchmark waits for
    page.write_text('<!DOCTYPE html><body data-ready="1"><div id="qlist">'
                    + '<details><summary>q</summary><div class="qbody">a</div></details>' * 50 + "</div></body>")
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    times = bench_script("bench_html_report").browser_times(page, page)
    assert times is not None and all(t >= 0 for t in times)
    assert not list(temporary.iterdir())
