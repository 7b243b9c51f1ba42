"""The checks of ``python -m utils.bundle verify``: each gives one line, ``name: ok`` or ``name: differs: why``.

The names are stable (docs/bundles.md#what-verify-checks lists what each
compares). A bundle can be changed two ways: carelessly (a file edited, the
manifest left as it was), which ``files`` catches, or by someone who also
rewrites the manifest's hashes; for that case every fact is compared with
what the bundle's other files say of it: a label with the judge's own text,
the prompt the judge was shown with the template and the two answers, the
answers' ids with the judgments' provenance, the questions and baselines
with the local benchmark's, and the claimed table with a new run of
show_result.py.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from utils.bundles.archive import Unpacked
from utils.bundles.manifest import JUDGE_CONFIG, judging_facts, sha256_hex, software
from utils.bundles.reading import SHOWN, Finding, JudgmentFindings
from utils.bundles.scoring import run_settings, table_rows
from utils.plumbing.config import JudgeSettings
from utils.plumbing.names import answer_file, question_file
from utils.vocabulary.records import Answer, Question, read_answers, read_questions

OK, DIFFERS, NOTE = "ok", "differs", "note"
# every check verify makes, in the order it prints them (rejudge only with --rejudge)
CHECK_NAMES = ("files", "questions", "baselines", "judge_prompt", "judge", "answers", "labels", "judged_texts",
               "table", "software", "rejudge")


@dataclass(frozen=True)
class Check:
    name: str
    outcome: str = OK  # OK, DIFFERS, or NOTE (what a reader should know, which no bundle can get wrong)
    detail: str = ""

    @property
    def line(self) -> str:
        if self.outcome == OK:
            return f"{self.name}: ok" + (f" ({self.detail})" if self.detail else "")
        return f"{self.name}: {self.outcome}: {self.detail}"


def outcome(name: str, problems: list[str], fine: str = "") -> Check:
    return Check(name, DIFFERS, "; ".join(problems)) if problems else Check(name, OK, fine)


def _short(hexdigest: str | None) -> str:
    return f"{hexdigest[:12]}..." if hexdigest else "none"


# ---------------------------------------------------------------- the files


def files_check(unpacked: Unpacked) -> Check:
    """Every member the manifest lists is there with its SHA-256, and the bundle holds nothing else."""
    listed = unpacked.manifest["files"]
    changed = Finding()
    for name, entry in listed.items():
        found = unpacked.hashes.get(name)
        if found is not None and found != entry["sha256"]:
            changed.add(f"{name}: sha256 {_short(entry['sha256'])} in the manifest, {_short(found)} in the bundle")
    missing = [name for name in listed if name not in unpacked.hashes]
    problems = changed.text(f"of {len(listed)} files changed")
    problems += [f"missing: {', '.join(missing)}"] if missing else []
    problems += [f"not in the manifest: {', '.join(unpacked.unlisted)}"] if unpacked.unlisted else []
    return outcome("files", problems, f"{len(listed)} files")


def questions_check(unpacked: Unpacked, questions: list[Question], local_data: Path) -> Check:
    """The bundle's question file is the local benchmark's, byte for byte; else which questions differ."""
    member = unpacked.manifest["questions"]["file"]
    local = question_file(local_data, unpacked.manifest["bench"])
    if not local.is_file():
        return Check("questions", DIFFERS, f"no local {local} to compare with (--data-dir)")
    if sha256_hex(local.read_bytes()) == unpacked.hashes.get(member):
        return Check("questions", OK, f"{len(questions)} questions, the same file as {local}")
    theirs = {q.uid: q for q in questions}
    ours = {q.uid: q for q in read_questions(local)}
    missing, extra = [u for u in ours if u not in theirs], [u for u in theirs if u not in ours]
    changed = [u for u in theirs if u in ours and theirs[u] != ours[u]]
    problems = [f"{len(ids)} {what} ({', '.join(ids[:SHOWN])}{', ...' if len(ids) > SHOWN else ''})"
                for what, ids in (("of the local questions missing", missing), ("questions not in the local file",
                                  extra), ("questions worded or filed otherwise", changed)) if ids]
    return Check("questions", DIFFERS, f"not the question file of {local}: "
                 + ("; ".join(problems) or "the same questions, other bytes (order or spacing)"))


def baselines_check(unpacked: Unpacked, answers: dict[str, dict[str, Answer]], local_data: Path) -> Check:
    """Each baseline answer file is the local benchmark's, byte for byte; else which answers differ."""
    problems, names = [], []
    for model, entry in unpacked.manifest["answers"].items():
        if entry["role"] != "baseline":
            continue
        names.append(model)
        local = answer_file(local_data, unpacked.manifest["bench"], model)
        if not local.is_file():
            problems.append(f"{model}: no local {local} to compare with (--data-dir)")
        elif sha256_hex(local.read_bytes()) != unpacked.hashes.get(entry["file"]):
            ours, theirs = read_answers(local), answers.get(model, {})
            changed = sorted(u for u in set(ours) | set(theirs)
                             if u not in ours or u not in theirs or ours[u].turns != theirs[u].turns)
            problems.append(f"{model}: not the answer file of {local}"
                            + (f": {len(changed)} answers differ ({', '.join(changed[:SHOWN])})" if changed else
                               ": the same answers, other bytes"))
    return outcome("baselines", problems, ", ".join(names) + " as in the local benchmark")


# ---------------------------------------------------------------- the facts the manifest records


_NOTHING = object()


def differences(recorded, found, where: tuple[str, str], path: str = "") -> list[str]:
    """Each place two JSON values differ, as ``path: <recorded> <where[0]>, <found> <where[1]>``."""
    if isinstance(recorded, dict) and isinstance(found, dict):
        out = []
        for key in dict.fromkeys([*recorded, *found]):
            out += differences(recorded.get(key, _NOTHING), found.get(key, _NOTHING), where,
                               f"{path}.{key}" if path else str(key))
        return out
    if recorded == found:
        return []
    return [f"{path or 'the value'}: {_shown(recorded)} {where[0]}, {_shown(found)} {where[1]}"]


def _shown(value, width: int = 100) -> str:
    text = "nothing" if value is _NOTHING else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= width else text[:width] + "..."


def _first(problems: list[str], what: str = "") -> list[str]:
    """The first few of many differences, and how many more there are."""
    more = f" (and {len(problems) - SHOWN} more)" if len(problems) > SHOWN else ""
    return [what + "; ".join(problems[:SHOWN]) + more] if problems else []


IN_FILES = ("in the manifest", "in the bundle's files")


def judge_prompt_check(manifest: dict, settings: JudgeSettings, findings: JudgmentFindings,
                       local: tuple[Path, JudgeSettings] | None, categories: set[str]) -> Check:
    """The judge config's prompts hash as the manifest says and as every judgment's provenance says; with
    --setting-file, each category's prompt is the local config's."""
    recorded = {key: value for key, value in manifest["judge_config"].items() if key != "file"}
    problems = _first(differences(recorded, judging_facts(settings), ("in the manifest", f"in {JUDGE_CONFIG}")))
    problems += findings.prompt_hashes.text(f"of {findings.records} judgments record another prompt_hash than "
                                            f"{JUDGE_CONFIG}'s")
    if local is not None:
        path, theirs = local
        mine_facts, local_facts = judging_facts(settings), judging_facts(theirs)
        mismatched = [c or "(none)" for c in sorted(categories) if
                      _prompt_fact(mine_facts, settings, c) != _prompt_fact(local_facts, theirs, c)]
        if mismatched:
            problems.append(f"not the prompt of {path} for the questions of category {', '.join(mismatched)}")
        if list(settings.judge_models) != list(theirs.judge_models):
            problems.append(f"judged by {', '.join(settings.judge_models)}, {path} names "
                            f"{', '.join(theirs.judge_models)}")
    count = len(recorded["prompts"])
    compared = f", the same as {local[0]}'s" if local else ""
    return outcome("judge_prompt", problems, f"{count} prompt{'s' if count != 1 else ''} as the manifest and every "
                   f"judgment record {'them' if count != 1 else 'it'}{compared}")


def _prompt_fact(facts: dict, settings: JudgeSettings, category: str) -> dict:
    """The recorded facts of the prompt the questions of ``category`` are judged with."""
    key = category if category in settings.categories else "default"
    return facts["prompts"][key]


def judge_check(manifest: dict, findings: JudgmentFindings) -> Check:
    """What the manifest says of each judgment file (settings sent, prompt hashes, served models and fingerprints)
    is what the file says."""
    problems, served = [], set()
    for judge, files in manifest["judgments"].items():
        for model, entry in files.items():
            found = findings.summaries.get((judge, model), {})
            problems += differences(entry.get("summary"), found, IN_FILES, f"{judge} / {model}")
            served |= {s["served_model"] for s in found.get("served", []) if s.get("served_model")}
    fine = f"served as {', '.join(sorted(served))}" if served else "no served model named in the judgments"
    return outcome("judge", _first(problems), fine)


def answers_check(manifest: dict, summaries: dict[str, dict], findings: JudgmentFindings) -> Check:
    """Each answer file is as the manifest summarises it, and each judgment's provenance names its answers."""
    problems = _first([d for model, entry in manifest["answers"].items()
                       for d in differences(entry.get("summary"), summaries.get(model), IN_FILES, model)])
    problems += findings.ids.text(f"of {findings.records} judgments judged other answers than the bundle's")
    digested = f", {findings.digested} by their texts' digests" if findings.digested else ""
    unknown = f"; {findings.unknown} keep none, which judged_texts alone ties to the answers" \
        if findings.unknown else ""
    return outcome("answers", problems, f"{findings.records - findings.unknown} of {findings.records} judgments "
                   f"name the bundle's answers in their provenance{digested}{unknown}")


def labels_check(findings: JudgmentFindings) -> Check:
    return outcome("labels", findings.labels.text(f"of {findings.games} games store a label their judge's text "
                                                  "does not give"), f"{findings.games} games")


def judged_texts_check(findings: JudgmentFindings) -> Check:
    return outcome("judged_texts", findings.texts.text(
        f"of {findings.games} games were not judged on {JUDGE_CONFIG}'s template filled with the bundle's question "
        "and answers"), f"{findings.games} games")


# ---------------------------------------------------------------- the table


def _keyed(rows) -> dict[str, dict]:
    """Table rows by their category (v2.0) and model, as a difference names them."""
    return {" / ".join(filter(None, (row.get("category"), row.get("model")))) or "(row)": row for row in rows}


def _csv_rows(data: bytes) -> dict[str, dict]:
    return _keyed(csv.DictReader(io.StringIO(data.decode("utf-8", errors="replace"), newline="")))


def table_check(manifest: dict, claimed: bytes | None, rescored: bytes | None, error: str) -> Check:
    """show_result.py on the bundle's files gives the claimed CSV byte for byte, and the rows, method and seed
    the manifest claims."""
    if rescored is None:
        return Check("table", DIFFERS, f"show_result.py could not score the bundle's files: {error}")
    problems = []
    if claimed != rescored:
        found = differences(_csv_rows(claimed or b""), _csv_rows(rescored), ("claimed", "re-scored"))
        problems += _first(found or ["the same values in other bytes"], "claimed.csv is not the re-scored CSV: ")
    if claimed is None or manifest["claimed"] != table_rows(claimed):  # else the same differences again
        problems += _first(differences(_keyed(manifest["claimed"]), _keyed(table_rows(rescored)),
                                       ("claimed by the manifest", "re-scored")))
    settings = run_settings(rescored)
    problems += _first(differences({k: manifest["show_result"].get(k) for k in settings}, settings,
                                   ("in the manifest", "re-scored")))
    return outcome("table", problems, f"{len(_csv_rows(rescored))} rows, the same CSV, {settings.get('method')} "
                   f"with seed {settings.get('seed')}")


def software_check(manifest: dict) -> Check:
    """The tool's commit and the packages that move numbers, in the bundle and here: a note, never a failure
    (the table check says whether a difference mattered)."""
    found = differences(manifest["software"], software(), ("in the bundle", "here"))
    return Check("software", NOTE, "; ".join(found)) if found else Check("software", OK, "the same as here")
