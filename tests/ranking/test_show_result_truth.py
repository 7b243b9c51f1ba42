"""show_result tells the truth about what it counted (issue 23): hand-edited labels, invalid games, ids of the
wrong type and too few bootstrap rounds for a significance claim are said, not counted or claimed silently."""
from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest

from tests import synth_v2
from tests.helpers import (BENCH, JUDGE, MIXED, games, one_line_error, read_csv, run_script, show, show_v2,
                           write_bench, write_jsonl)

JUDGMENTS = Path("data") / BENCH / "model_judgment" / JUDGE
PAIRS = [("W", "L"), ("L", "L"), ("T", "W"), ("L", "X"), ("S", "W")] * 4  # 20 questions of mixed verdicts


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _edit(path: Path, edit) -> None:
    write_jsonl(path, [edit(i, rec) for i, rec in enumerate(_lines(path))])


def test_labels_edited_by_hand_are_flagged_where_their_judge_text_says_otherwise(tmp_path):
    write_bench(tmp_path, {"alpha": games(*PAIRS), "beta": games(*PAIRS)}, 20)
    show(tmp_path, "--csv", "before.csv", "--num-rounds", "20")
    before = read_csv(tmp_path / "before.csv")

    def to_strong_wins(i, rec):  # what `sed s/"score": "[^"]*"/"score": "B>>A"/` does to the first 7 records
        if i < 7:
            rec["games"][0]["score"] = "B>>A"
        return rec

    _edit(tmp_path / JUDGMENTS / "alpha.jsonl", to_strong_wins)
    done = show(tmp_path, "--csv", "after.csv", "--num-rounds", "20")
    after = read_csv(tmp_path / "after.csv")
    # the numbers count what is stored (the edit moves alpha up) ...
    assert float(after["alpha"]["score"]) > float(before["alpha"]["score"])
    # ... but each edited game whose text names another verdict is flagged, per model, in the table and the CSV
    edited = sum(1 for g1, _ in games(*PAIRS)[:7] if g1 != "B>>A")
    flag = f"label not in its judge text: {edited}"
    assert flag in after["alpha"]["flags"] and "label not in" not in after["beta"]["flags"]
    alpha_row = next(line for line in done.stdout.splitlines() if line.startswith("alpha "))
    assert f"[{flag}]" in alpha_row
    warning = next(line for line in done.stderr.splitlines() if "label not in its judge text" in line)
    assert f"alpha: {edited} games" in warning and "alpha.jsonl:1" in warning


def test_a_relabelled_mirror_spelling_is_not_a_disagreement(tmp_path):
    write_bench(tmp_path, {"alpha": games(*PAIRS)}, 20)
    mirror = {"B>A": "A<B", "A>B": "B<A", "A=B": "B=A", "B>>A": "A<<B", "A>>B": "B<<A"}

    def respell(i, rec):  # the same verdict in its mirror spelling: the text still agrees
        rec["games"][0]["score"] = mirror[rec["games"][0]["score"]]
        return rec

    _edit(tmp_path / JUDGMENTS / "alpha.jsonl", respell)
    done = show(tmp_path, "--csv", "t.csv", "--num-rounds", "20")
    assert "label not in" not in done.stdout + done.stderr and "label not in" not in read_csv(tmp_path / "t.csv")[
        "alpha"]["flags"]


def test_invalid_games_are_counted_and_listed(tmp_path):
    write_bench(tmp_path, {"alpha": games(*PAIRS)}, 20)

    def spoil(i, rec):
        if i == 0:
            rec["games"][0]["score"] = "C>D"
        elif i == 1:
            rec["games"][1]["score"] = 3
        elif i == 2:
            rec["games"][0] = "B>A"
        return rec

    _edit(tmp_path / JUDGMENTS / "alpha.jsonl", spoil)
    done = show(tmp_path, "--csv", "t.csv", "--num-rounds", "20")
    assert "invalid games: 3" in read_csv(tmp_path / "t.csv")["alpha"]["flags"]
    warning = next(line for line in done.stderr.splitlines() if "invalid" in line)
    for shown in ("'C>D'", "3", "a game that is 'B>A'", "alpha.jsonl:1", "alpha.jsonl:2", "alpha.jsonl:3"):
        assert shown in warning, (shown, warning)


def test_an_answer_whose_id_is_a_number_no_question_has_is_one_clear_error(tmp_path):
    write_bench(tmp_path, MIXED, 4)
    answers = tmp_path / "data" / BENCH / "model_answer" / "alpha.jsonl"
    _edit(answers, lambda i, rec: {**rec, "uid": 7} if i == 2 else rec)  # q002's answer, now orphaned
    error = one_line_error(show(tmp_path, check=False))
    assert f"{Path('model_answer') / 'alpha.jsonl'}:3: uid:" in error


def read_pairs_row(path: Path) -> dict:
    with open(path, newline="") as f:
        return next(csv.DictReader(f))


def test_two_bootstrap_rounds_make_no_significance_claim(tmp_path):
    strong = [("S", "S")] * 20
    write_bench(tmp_path, {"alpha": games(*strong), "beta": games(*[("X", "X")] * 20)}, 20)
    few = show(tmp_path, "--num-rounds", "2", "--compare", "alpha", "beta", "--pairs", "p.csv").stdout
    assert "significant:" not in few and "not significant" not in few
    assert re.search(r"no significance claim: 2 paired rounds, at least \d+ needed", few)
    row = read_pairs_row(tmp_path / "p.csv")  # no claim is not "false": the CSV says neither, and why
    assert row["significant"] == "" and re.fullmatch(r"2 paired rounds, at least \d+ needed", row["no_claim_reason"])
    enough = show(tmp_path, "--num-rounds", "100", "--compare", "alpha", "beta").stdout
    assert "significant: alpha is better" in enough


def _report_data(page: Path) -> dict:
    block = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', page.read_text(), re.S)
    return json.loads(block.group(1))


def test_the_report_flags_the_games_the_table_flags(tmp_path):
    write_bench(tmp_path, {"alpha": games(*PAIRS)}, 20)
    _edit(tmp_path / JUDGMENTS / "alpha.jsonl", lambda i, rec: {**rec, "games": [{**rec["games"][0], "score": "A=B"},
                                                                              rec["games"][1]]} if i == 0 else rec)
    show(tmp_path, "--num-rounds", "20", "--html", "r.html")
    rows = {r["model"]: r for r in _report_data(tmp_path / "r.html")["boards"][0]["rows"]}
    assert "label not in its judge text: 1" in rows["alpha"]["flags"]


def test_the_report_says_which_v2_categories_are_not_scored_and_how_to_score_them(v2data, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(v2data, data)
    (data / synth_v2.BENCH / "model_answer" / f"{synth_v2.BASELINES['creative_writing']}.jsonl").unlink()
    for path in (data / synth_v2.BENCH / "model_judgment").glob("*/*.jsonl"):  # its games were never played
        write_jsonl(path, [r for r in _lines(path) if r["category"] != "creative_writing"])
    done = show_v2(data, "--num-rounds", "10", "--html", tmp_path / "r.html")
    assert "NOT SCORED creative_writing" in done.stdout
    missing = _report_data(tmp_path / "r.html")["missing"]
    assert [(m["category"], m["reason"], m["baseline"]) for m in missing] == [
        ("creative_writing", "no baseline answers", synth_v2.BASELINES["creative_writing"])]
    assert missing[0]["questions"] == 250 and any("gen_answer.py" in command for command in missing[0]["fix"])
    # the baseline rows carry the bounds and the coverage the CSV gives them
    boards = _report_data(tmp_path / "r.html")["boards"]
    base = next(r for r in boards[0]["rows"] if r["is_baseline"])
    assert (base["score"], base["lower"], base["upper"], base["covered"]) == (50.0, 50.0, 50.0, base["questions"])


def _digest(turns: list[str]) -> str:
    """The content key of an answer (docs/design.md#provenance), computed here as the page states it."""
    import hashlib
    return hashlib.sha256("\x1e".join(turns).encode("utf-8", "surrogatepass")).hexdigest()[:16]


# Whether the first record of each judgment file records what it judged: show_result hashes the answers while it
# reads them when the first records say so, and reads them again for the digests when only later records do
@pytest.mark.parametrize("first_records", ["record digests", "record nothing"])
def test_an_answer_edited_under_the_same_ans_id_makes_its_judgments_stale_and_a_new_id_alone_does_not(
        tmp_path, first_records):
    write_bench(tmp_path, {"alpha": games(*PAIRS), "beta": games(*PAIRS)}, 20)
    answers = tmp_path / "data" / BENCH / "model_answer"
    texts = {m: {a["uid"]: [a["messages"][1]["content"]["answer"]] for a in _lines(answers / f"{m}.jsonl")}
             for m in ("alpha", "beta", "gpt-4-0314")}
    skip = 0 if first_records == "record digests" else 1  # records at the top of each file without provenance
    for model in ("alpha", "beta"):  # judgments that record what they judged: ids, and the texts' digests
        _edit(tmp_path / JUDGMENTS / f"{model}.jsonl", lambda i, rec: rec if i < skip else {**rec, "provenance": {
            "ans_id": f"{model}-{rec['uid']}", "baseline_ans_id": f"gpt-4-0314-{rec['uid']}",
            "answer_digest": _digest(texts[model][rec["uid"]]),
            "baseline_digest": _digest(texts["gpt-4-0314"][rec["uid"]])}})

    def edit_text(i, rec):  # alpha's answers to q000 and q001 rewritten, their ans_id kept
        if i < 2:
            rec["messages"][1]["content"]["answer"] = "a better answer, edited by hand"
        return rec

    _edit(answers / "alpha.jsonl", edit_text)
    _edit(answers / "beta.jsonl", lambda i, rec: {**rec, "ans_id": rec["ans_id"] + "-copy"})  # same texts, new ids
    done = show(tmp_path, "--csv", "t.csv", "--num-rounds", "20")
    rows = read_csv(tmp_path / "t.csv")
    stale = 2 - skip  # q000's judgment, without provenance, cannot be told stale
    assert f"stale: {stale}" in rows["alpha"]["flags"] and "stale" not in rows["beta"]["flags"]
    assert f"the model's answer text changed: {stale}" in done.stderr
    checked = run_script("-m utils.check_answers", "--bench-name", BENCH, "--data-dir", tmp_path / "data")
    assert checked.returncode == 1 and f"alpha | 20 | {stale} |" in checked.stdout
    assert "beta | 20 | 0 |" in checked.stdout


def test_a_rejudge_killed_before_its_rewrite_counts_the_new_judgment_not_the_stale_one(tmp_path):
    # what kill -9 during a stale re-judge leaves: the stale records, then the paid new ones appended after them
    old, new = tmp_path / "killed", tmp_path / "rewritten"
    write_bench(old, {"alpha": games(*PAIRS), "beta": games(*PAIRS)}, 20)
    answers = old / "data" / BENCH / "model_answer"

    def judged(model, uid, turns, base_turns):
        return {"ans_id": f"{model}-{uid}", "baseline_ans_id": f"gpt-4-0314-{uid}", "answer_digest": _digest(turns),
                "baseline_digest": _digest(base_turns)}

    _edit(old / JUDGMENTS / "alpha.jsonl", lambda i, rec: {**rec, "provenance": judged("alpha", rec["uid"], ["text"],
                                                                                       ["text"])})
    _edit(answers / "alpha.jsonl", lambda i, rec: (rec["messages"][1]["content"].update(answer="v2") or rec)
          if i < 2 else rec)  # a new checkpoint's answers to q000 and q001: their judgments go stale
    stale = _lines(old / JUDGMENTS / "alpha.jsonl")
    rejudged = [{**rec, "rejudged": 1, "provenance": judged("alpha", rec["uid"], ["v2"], ["text"]),
                 "games": [{**g, "score": label, "judgment": f"... [[{label}]]"}
                           for g, label in zip(rec["games"], games(("S", "S"))[0])]} for rec in stale[:2]]
    with open(old / JUDGMENTS / "alpha.jsonl", "a", encoding="utf-8") as f:
        f.writelines(json.dumps(rec) + "\n" for rec in rejudged)
    shutil.copytree(old, new)  # and what the rerun's final rewrite makes of it: the new records in their place
    write_jsonl(new / JUDGMENTS / "alpha.jsonl", [*rejudged, *stale[2:]])

    killed = show(old, "--csv", "t.csv", "--num-rounds", "20")
    rewritten = show(new, "--csv", "t.csv", "--num-rounds", "20")
    assert read_csv(old / "t.csv") == read_csv(new / "t.csv"), "the paid re-judgments count, as after the rewrite"
    assert "stale" not in read_csv(old / "t.csv")["alpha"]["flags"] and "stale" not in rewritten.stderr
    warning = next(line for line in killed.stderr.splitlines() if "repeat a judge, model and question" in line)
    assert "the one gen_judgment keeps was counted" in warning and "2 in " in warning, warning
    checked = run_script("-m utils.check_answers", "--bench-name", BENCH, "--data-dir", old / "data")
    assert checked.returncode == 0 and "alpha | 20 | 0 |" in checked.stdout, checked.stdout
