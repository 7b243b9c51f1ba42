"""What the report reads: the judge texts it shows are those of the judgments the numbers count."""
from __future__ import annotations

import json
import re

from tests.helpers import write_jsonl
from tests.report.test_html_report import ALPHA, BENCH, GAMMA, JUDGE, judge_text, make_bench, show_result
from utils.ranking.run import ReadRequest, read_run
from utils.report.inputs import ShownGame, ShownJudgment, report_inputs
from utils.ranking.results import Leaderboard
from utils.ranking.settings import RunSettings
from utils.vocabulary.records import Question
from utils.report.markdown_html import render_markdown


def _record(uid: str, model, label: str, text: str) -> dict:
    return {"uid": uid, "judge": JUDGE, "model": model, "baseline": "base-model",
            "games": [{"user_prompt": "(judge prompt)", "judgment": text, "score": label}, None]}


def _shown(data, questions) -> dict:
    """The judgments the report shows, for a run of JUDGE on ``data`` (a question file with ``questions``, or none)."""
    if questions:
        write_jsonl(data / "bench" / "question.jsonl", [{"uid": q, "prompt": "?"} for q in questions])
    run = read_run(ReadRequest("bench", data, (JUDGE,), texts=True), print)
    board = Leaderboard([], RunSettings(bench="bench", judges=(JUDGE,)))
    return report_inputs([board], run).judgments[JUDGE]


def test_the_first_record_of_a_model_and_question_is_shown(tmp_path):
    judges = tmp_path / "bench" / "model_judgment" / JUDGE
    write_jsonl(judges / "a-model.jsonl", [
        _record("q1", "a-model", "B>A", "first of q1"),
        _record("q1", "a-model", "A>B", "again q1"),  # a repeat: the numbers count the first
        _record("q9", "a-model", "B>A", "a question the file lacks"),
        _record("q2", None, "A=B", "no model named: the file's"),
    ])
    # another file of the same judge repeating a-model's q2 (read after a-model.jsonl), and b-model's own q1
    write_jsonl(judges / "b-model.jsonl", [_record("q2", "a-model", "B>>A", "again q2"),
                                           _record("q1", "b-model", "A>>B", "b's q1")])
    got = _shown(tmp_path, ["q1", "q2"])
    missing = ShownGame(None, "")  # the null second game
    assert got == {
        "a-model": {"q1": ShownJudgment("base-model", (ShownGame("B>A", "first of q1"), missing)),
                    "q2": ShownJudgment("base-model", (ShownGame("A=B", "no model named: the file's"), missing))},
        "b-model": {"q1": ShownJudgment("base-model", (ShownGame("A>>B", "b's q1"), missing))}}
    # without a question file every id is shown, still the first record of each
    (tmp_path / "bench" / "question.jsonl").unlink()
    assert list(_shown(tmp_path, None)["a-model"]) == ["q1", "q9", "q2"]


def test_the_report_shows_the_judgment_the_table_counted(tmp_path):
    data = tmp_path / "data"
    make_bench(data)
    path = data / BENCH / "model_judgment" / JUDGE / f"{ALPHA}.jsonl"
    with open(path, "a", encoding="utf-8") as f:  # a later record of q0 and one of an unknown question
        for uid in ("q0", "q-unknown"):
            f.write(json.dumps(_record(uid, ALPHA, "A>>B", "A LATER RECORD")) + "\n")
    out = tmp_path / "report.html"
    proc = show_result(data, out)
    assert proc.returncode == 0, proc.stderr
    assert "only the one gen_judgment keeps was counted" in proc.stderr  # the table left the repeat out
    page = out.read_text(encoding="utf-8")
    report = json.loads(re.search(r'<script type="application/json" id="report-data">(.*?)</script>',
                                  page, re.S).group(1))
    games = report["games"][JUDGE]
    assert games[ALPHA]["q0"]["games"][0]["html"] == render_markdown(judge_text(ALPHA, 0, 0, "B>A"))
    assert games[ALPHA]["q0"]["games"][0]["label"] == "B>A"
    assert "A LATER RECORD" not in page and "q-unknown" not in page
    assert sorted(games) == sorted([ALPHA, GAMMA])
