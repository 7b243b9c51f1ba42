"""How big and how fast is the HTML report for a real-size benchmark?

    python bench/bench_html_report.py [--dir /tmp/arena-html-bench] [--models 6] [--shared ../shared]

Generates (once) a synthetic benchmark of 500 questions with judge texts of
real size (``synth_bench.py --pad 6000``), then measures in the same run:

* show_result.py without and with ``--html`` (fresh processes): the report's
  extra time as a ratio of the plain run;
* the page's size as a ratio of the answer and judgment files it shows;
* in headless chromium (when installed): the time until the page has
  rendered, and until 50 questions are opened, against the time to load a
  page that only carries the same data block and parses it (the floor of any
  page that holds this data).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = "arena-hard-v0.1"


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def browser_times(page: Path, floor_page: Path) -> tuple[float, float, float] | None:
    if not (Path("/usr/bin/chromium").exists() and Path("/usr/bin/chromedriver").exists()):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1280,1000",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='chromium-')}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))

    def load(uri: str) -> float:
        start = time.perf_counter()
        driver.get(uri)
        WebDriverWait(driver, 120).until(lambda d: d.find_element("tag name", "body").get_attribute("data-ready"))
        return time.perf_counter() - start

    try:
        # best of two each, alternating, so the browser's warm-up counts against neither
        floor, ready = load(floor_page.as_uri()), load(page.as_uri())
        floor, ready = min(floor, load(floor_page.as_uri())), min(ready, load(page.as_uri()))
        start = time.perf_counter()
        driver.execute_script("document.querySelectorAll('#qlist details').forEach((d, i) => { d.open = i < 50; })")
        WebDriverWait(driver, 120).until(lambda d: d.execute_script(
            "return document.querySelectorAll('.qbody').length") >= 50)
        opened = time.perf_counter() - start
        return floor, ready, opened
    finally:
        driver.quit()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "arena-html-bench")
    p.add_argument("--models", type=int, default=6)
    p.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = p.parse_args()

    data = args.dir / f"data-{args.models}"
    if not (data / BENCH / "question.jsonl").is_file():
        subprocess.run([sys.executable, str(args.shared / "tools" / "synth_bench.py"), "--out", str(data / BENCH),
                        "--models", str(args.models), "--questions", "500", "--seed", "0", "--pad", "6000"],
                       check=True, stdout=subprocess.DEVNULL)
    base = [sys.executable, "show_result.py", "--data-dir", str(data), "--num-rounds", "100"]
    page = args.dir / "report.html"
    plain = min(timed(base) for _ in range(2))
    with_html = min(timed(base + ["--html", str(page)]) for _ in range(2))
    shown = sum(f.stat().st_size for f in (data / BENCH).rglob("*.jsonl"))
    size = page.stat().st_size
    print(f"{args.models - 1} models + baseline x 500 questions")
    print(f"show_result.py: {plain:.2f} s plain, {with_html:.2f} s with --html "
          f"(report adds {with_html / plain - 1:.0%} of the plain run)")
    print(f"page: {size / 1e6:.1f} MB for {shown / 1e6:.1f} MB of questions, answers and judgments "
          f"(ratio {size / shown:.2f})")

    # the floor: a page that only carries the same data block and parses it, rendering nothing
    text = page.read_text(encoding="utf-8")
    block = text[text.index('<script type="application/json"'):text.index("</script>", text.index('id="report-data"'))]
    floor_page = args.dir / "floor.html"
    floor_page.write_text("<!DOCTYPE html><body>" + block + "</script><script>JSON.parse(document.getElementById("
                          "'report-data').textContent); document.body.setAttribute('data-ready', '1')</script>",
                          encoding="utf-8")
    times = browser_times(page, floor_page)
    if times is None:
        print("chromium not installed: browser timings skipped")
    else:
        floor, ready, opened = times
        print(f"chromium: rendered in {ready:.2f} s (page that only parses the same data: {floor:.2f} s, "
              f"ratio {ready / floor:.2f}); 50 questions opened in {opened:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
