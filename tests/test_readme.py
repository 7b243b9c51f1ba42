"""The README as a newcomer meets it: short, every link leads somewhere, and its quickstart runs as printed.

The quickstart test takes the code block(s) marked ``<!-- quickstart ... -->`` in
README.md and runs them, as they stand, with bash in an empty environment (only
HOME and a plain PATH: what a fresh shell has), in a fresh git clone of this
checkout, so that nothing untracked can help. The models the block's config
names are served by tests/scripted_server.py on the loopback ports the block
gives. Two things are lent to the clone to keep the test fast: the virtualenv
this test runs in (a symlink, with the requirement files dated before its stamp
so that `make install` has nothing to do: the install itself is `make test`'s
own first step), and the working tree's uncommitted edits to tracked files (so
the test checks the README being written, not the last commit).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from tests.helpers import ROOT, read_jsonl
from tests.scripted_server import Answer, ScriptedServer
from utils.demo import port_in_use

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 300
QUICKSTART = re.compile(r"^<!-- quickstart\b.*?-->\n```bash\n(.*?)^```$", re.M | re.S)
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```$", re.M | re.S)
LABELS = ["A>B", "B>A", "A=B", "B>>A", "A>>B", "B>A"]  # a mixed bag, so the table is not one-sided


def github_anchor(heading: str) -> str:
    """The id GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = FENCE.sub("", path.read_text(encoding="utf-8"))
    found, seen = set(), {}
    for heading in re.findall(r"^#{1,6} +(.+?) *$", text, re.M):
        slug = github_anchor(heading)
        found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return found | set(re.findall(r"<a (?:id|name)=\"([^\"]+)\"", text))


def relative_links(path: Path) -> list[str]:
    return [target for target in LINK.findall(FENCE.sub("", path.read_text(encoding="utf-8")))
            if not re.match(r"[a-z]+:", target)]


def test_the_readme_is_short_and_links_every_docs_page():
    assert len(README.read_text(encoding="utf-8").splitlines()) <= MAX_README_LINES
    linked = {(ROOT / target.split("#")[0]).resolve() for target in relative_links(README)}
    assert DOCS and [page.name for page in DOCS if page.resolve() not in linked] == []


@pytest.mark.parametrize("page", [README, *DOCS], ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_link_leads_to_a_file_and_anchor_that_exist(page):
    broken = []
    for target in relative_links(page):
        file, _, anchor = target.partition("#")
        dest = (page.parent / file).resolve() if file else page
        if not dest.exists() or (anchor and dest.suffix == ".md" and anchor not in anchors(dest)):
            broken.append(target)
    assert broken == []


def quickstart() -> tuple[str, str]:
    """The quickstart block(s), and the README text that follows the first up to the next section."""
    text = README.read_text(encoding="utf-8")
    blocks = list(QUICKSTART.finditer(text))
    assert blocks, "README.md has no ```bash block after a <!-- quickstart ... --> comment"
    after = text[blocks[0].end():]
    return "".join(block.group(1) for block in blocks), after.split("\n## ", 1)[0]


def clone_of_the_checkout(dest: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True, timeout=120)
    edited = subprocess.run(["git", "diff", "--name-only", "-z", "HEAD"], cwd=ROOT, capture_output=True,
                            check=True).stdout.decode().split("\0")
    for name in filter(None, edited):
        if (ROOT / name).exists():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ROOT / name, dest / name)
        else:
            (dest / name).unlink(missing_ok=True)
    venv = Path(sys.prefix)
    stamp = venv / ".installed"
    if venv == Path(sys.base_prefix) or not stamp.exists():
        pytest.fail(f"run the tests with the project's installed virtualenv (make install); {stamp} is missing")
    (dest / ".venv").symlink_to(venv, target_is_directory=True)
    before = stamp.stat().st_mtime - 60
    for requirements in dest.glob("requirements*.txt"):
        os.utime(requirements, (before, before))
    return dest


def judging(index: int):
    """Requests about an answer the scripted server wrote, i.e. the judge's, picked by a hash of the prompt."""
    def matches(request) -> bool:
        text = request.last_user_text
        return "Scripted answer to:" in text and zlib.crc32(text.encode()) % len(LABELS) == index
    return matches


@pytest.fixture
def quickstart_servers():
    """A scripted server on every loopback port the quickstart's config names."""
    block, _ = quickstart()
    ports = sorted({int(port) for port in re.findall(r"http://127\.0\.0\.1:(\d+)", block)})
    assert ports, "the quickstart names no http://127.0.0.1:PORT endpoint"
    taken = [port for port in ports if port_in_use(port)]
    if taken:
        pytest.fail(f"127.0.0.1:{taken[0]} is in use, and the README's quickstart points its models there: stop what "
                    f"listens on it (ss -ltnp 'sport = :{taken[0]}') and run again", pytrace=False)
    rules = [(judging(i), Answer(f"Both answers read; my final verdict is [[{label}]].")) for i, label in
             enumerate(LABELS)]
    servers = {port: ScriptedServer(port=port, rules=rules).start() for port in ports}
    yield servers
    for server in servers.values():
        server.stop()


def test_the_quickstart_runs_as_printed_in_a_clean_shell(tmp_path, quickstart_servers):
    block, promises = quickstart()
    clone = clone_of_the_checkout(tmp_path / "clone")
    script = tmp_path / "quickstart.sh"
    script.write_text(block, encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    run = subprocess.run(["bash", "-e", str(script)], cwd=clone, capture_output=True, text=True, timeout=300,
                         env={"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin"})  # as `env -i` leaves it
    assert run.returncode == 0, f"{run.stdout[-3000:]}\n{run.stderr[-3000:]}"

    asked = {request.body["model"] for server in quickstart_servers.values() for request in server.chat_requests()}
    assert {"my-model", "my-judge"} <= asked, asked  # the block's entries reached the block's addresses
    files = re.findall(r"`((?:data/|[\w-]+\.html)[^`\s]*)`", promises)
    assert files and [f for f in files if not (clone / f).is_file()] == [], files
    answers = read_jsonl(clone / "data/arena-hard-v0.1/model_answer/my-model.jsonl")
    judgments = read_jsonl(clone / "data/arena-hard-v0.1/model_judgment/my-judge/my-model.jsonl")
    assert len(answers) == len(judgments) == 500
    assert re.search(r"^my-model +\| score: +[\d.]+ +\| 95% CI: +\(-[\d.]+, \+[\d.]+\)", run.stdout, re.M), run.stdout
    assert "my-model" in (clone / "report.html").read_text(encoding="utf-8")
    # "Publishing a result": the bundle is packed from what the quickstart made, and verifies with every check ok
    if "utils.bundle verify my-model.tar.gz" in block:
        assert (clone / "my-model.tar.gz").is_file()
        checks = dict(line.split(": ", 1) for line in run.stdout.splitlines()[-10:] if ": " in line)
        assert checks.get("table", "").startswith("ok") and checks.get("labels", "").startswith("ok"), run.stdout[-2000:]
