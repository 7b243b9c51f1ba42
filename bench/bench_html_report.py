"""How big and how fast is the HTML report for a real-size benchmark?

    python bench/bench_html_report.py [--dir /tmp/arena-html-bench] [--models 6] [--shared ../shared]
                                      [--before DIR [DIR ...]]

Generates (once) a synthetic benchmark of 500 questions (``synth_bench.py``)
and puts real texts in it: the answers of ../shared's three real models and
the judge texts of its real judgment files, each made distinct by a line
naming its model and question (so no text is rendered from a cache), with
the synthetic labels kept. Real texts matter here: the report renders them
as markdown, and its cost follows their code blocks, lists and length. Then
it measures in the same run:

* show_result.py without and with ``--html`` (fresh processes, taking turns
  with the copies below for ``--rounds`` rounds; the least time counts): the
  report's extra time as a ratio of the plain run;
* the page's size as a ratio of the answer and judgment files it shows;
* with ``--before DIR [DIR ...]`` (copies of the code to compare with, e.g.
  ``git archive main | tar -x -C DIR``): each one's report on the same data,
  and the ratios of time and size, this code's over that one's;
* in headless chromium (when installed): the time until the page has
  rendered, and until 50 questions are opened, against the time to load a
  page that only carries the same data block and parses it (the floor of any
  page that holds this data).
"""
from __future__ import annotations

import argparse
import itertools
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = "arena-hard-v0.1"


def timed(cmd: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children): CPU time hardly moves when other work shares
    the machine, wall time is what a user waits."""
    start, used = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, after.ru_utime + after.ru_stime - used.ru_utime - used.ru_stime


def best_times(runs: list[tuple[list[str], Path]], rounds: int) -> list[tuple[float, float]]:
    """(least wall seconds, least CPU seconds) of each (command, directory) of ``runs``: the commands take turns,
    one run each per round, so a change in the shared machine's load falls on all of them alike."""
    times = [[timed(cmd, cwd) for cmd, cwd in runs] for _ in range(rounds)]
    return [(min(t[i][0] for t in times), min(t[i][1] for t in times)) for i in range(len(runs))]


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def use_real_texts(bench: Path, shared: Path) -> None:
    """Replace the synthetic answers and judge texts under ``bench`` by real ones from ``shared``, each distinct."""
    answers = [r["messages"][-1]["content"]["answer"] for m in ("gpt-4-0314", "gpt-4-0613", "gpt-3.5-turbo-0125")
               for r in _jsonl(shared / "data" / "arena-hard-v0.1" / "model_answer" / f"{m}.jsonl")]
    verdicts = [g["judgment"] for path in sorted((shared / "data" / "real-judgments").glob("*.jsonl"))
                for r in _jsonl(path) for g in r["games"] if g.get("judgment")]
    answer_texts, judge_texts = itertools.cycle(answers), itertools.cycle(verdicts)
    for path in sorted((bench / "model_answer").glob("*.jsonl")):
        records = _jsonl(path)
        for r in records:  # the 2024 layout synth_bench writes by default
            turn = r["choices"][0]["turns"][0]
            turn["content"] = next(answer_texts) + f"\n\n(answer of {r['model_id']} to {r['question_id']})"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    for path in sorted((bench / "model_judgment").rglob("*.jsonl")):
        records = _jsonl(path)
        for r in records:
            for k, game in enumerate(r["games"]):
                game["judgment"] = next(judge_texts) + f"\n\n(game {k + 1} of {r['model']} on {r['question_id']})"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


def browser_times(page: Path, floor_page: Path) -> tuple[float, float, float] | None:
    """``_page_times`` in a headless chromium started for it (None: chromium is not installed)."""
    if not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # the browser's profile (2.5 MB) is removed with the browser: a profile left per run filled /tmp
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000",
                     f"--user-data-dir={profile}"):
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
        try:
            return _page_times(driver, page, floor_page)
        finally:
            driver.quit()


def _page_times(driver, page: Path, floor_page: Path) -> tuple[float, float, float]:
    """(floor, ready, opened) seconds: the data-only page and the report loaded, then 50 questions opened."""
    from selenium.webdriver.support.ui import WebDriverWait

    def load(uri: str) -> float:
        start = time.perf_counter()
        driver.get(uri)
        WebDriverWait(driver, 120).until(lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))
        return time.perf_counter() - start

    # best of two each, alternating, so the browser's warm-up counts against neither
    floor, ready = load(floor_page.as_uri()), load(page.as_uri())
    floor, ready = min(floor, load(floor_page.as_uri())), min(ready, load(page.as_uri()))
    start = time.perf_counter()
    driver.execute_script("document.querySelectorAll('#qlist details').forEach((d, i) => { d.open = i < 50; })")
    WebDriverWait(driver, 120).until(lambda d: d.execute_script(
        "return document.querySelectorAll('.qbody').length") >= 50)
    opened = time.perf_counter() - start
    return floor, ready, opened


def floor_of(page: Path) -> Path:
    """The floor: a page that only carries the same data block as ``page`` and parses it, rendering nothing."""
    text = page.read_text(encoding="utf-8")
    block = text[text.index('<script type="application/json"'):text.index("</script>", text.index('id="report-data"'))]
    floor = page.with_name(page.stem + "-floor.html")
    floor.write_text("<!DOCTYPE html><body>" + block + "</script><script>JSON.parse(document.getElementById("
                     "'report-data').textContent); document.body.setAttribute('data-ready', '1')</script>",
                     encoding="utf-8")
    return floor


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "arena-html-bench")
    p.add_argument("--models", type=int, default=6)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    p.add_argument("--before", type=Path, nargs="+", default=[],
                   help="copies of the code to compare with, each measured on the same data")
    p.add_argument("--rounds", type=int, default=3, help="runs of each command, taking turns; the least time counts")
    args = p.parse_args()

    data = args.dir / f"data-{args.models}-real"
    if not (data / BENCH / "question.jsonl").is_file():
        subprocess.run([sys.executable, str(args.shared / "tools" / "synth_bench.py"), "--out", str(data / BENCH),
                        "--models", str(args.models), "--questions", "500", "--seed", "0", "--pad", "6000"],
                       check=True, stdout=subprocess.DEVNULL)
        use_real_texts(data / BENCH, args.shared)
    base = [sys.executable, "show_result.py", "--data-dir", str(data.resolve()), "--num-rounds", "100"]
    page = args.dir / "report.html"
    before_pages = [args.dir / f"report-before-{i}.html" for i in range(len(args.before))]
    (plain, plain_cpu), (with_html, html_cpu), *befores = best_times(
        [(base, ROOT), (base + ["--html", str(page.resolve())], ROOT),
         *((base + ["--html", str(bp.resolve())], d) for d, bp in zip(args.before, before_pages))], args.rounds)
    shown = sum(f.stat().st_size for f in (data / BENCH).rglob("*.jsonl"))
    size = page.stat().st_size
    print(f"{args.models - 1} models + baseline x 500 questions, real answer and judge texts")
    print(f"show_result.py: {plain:.2f} s plain, {with_html:.2f} s with --html "
          f"(report adds {with_html / plain - 1:.0%} of the plain run); CPU {plain_cpu:.2f} s and {html_cpu:.2f} s")
    print(f"page: {size / 1e6:.1f} MB for {shown / 1e6:.1f} MB of questions, answers and judgments "
          f"(ratio {size / shown:.2f})")
    for before_dir, before_page, (before, before_cpu) in zip(args.before, before_pages, befores):
        before_size = before_page.stat().st_size
        print(f"before ({before_dir}): {before:.2f} s with --html (report adds {before / plain - 1:.0%} of the plain "
              f"run), CPU {before_cpu:.2f} s, page {before_size / 1e6:.1f} MB")
        own, own_cpu = with_html - plain, html_cpu - plain_cpu  # the report's own share of the run
        print(f"this code over that: time x{with_html / before:.2f} (CPU x{html_cpu / before_cpu:.2f}), "
              f"report's own time x{own / max(before - plain, 1e-9):.2f} "
              f"(CPU x{own_cpu / max(before_cpu - plain_cpu, 1e-9):.2f}), size x{size / before_size:.2f}")

    for name, shown_page in (("this code", page), *((f"before ({d})", bp) for d, bp in zip(args.before, before_pages))):
        times = browser_times(shown_page, floor_of(shown_page))
        if times is None:
            print("chromium not installed: browser timings skipped")
            break
        floor, ready, opened = times
        print(f"chromium, {name}: rendered in {ready:.2f} s (page that only parses the same data: {floor:.2f} s, "
              f"ratio {ready / floor:.2f}); 50 questions opened in {opened:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
