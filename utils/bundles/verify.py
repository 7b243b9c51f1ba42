"""``python -m utils.bundle verify``: unpack a bundle, check everything it records, re-score its table.

The bundle is read once, its members hashed as they are written to a
temporary directory. show_result.py then re-scores them in its own process
with the recorded flags, while this one reads the answers and judgments and
makes the other checks, so the two halves share the machine's two cores.
Every check gives one line (checks.py); a bundle that cannot be read at all
(not a bundle, a manifest of another schema, a judge config that does not
load) is an InputError instead: exit status 2.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from utils.asking.judge_prompts import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE
from utils.bundles.archive import Unpacked, read_manifest, unpack
from utils.bundles.checks import (DIFFERS, Check, answers_check, baselines_check, files_check, judge_check,
                                  judge_prompt_check, judged_texts_check, labels_check, questions_check,
                                  software_check, table_check)
from utils.bundles.manifest import CLAIMED_CSV
from utils.bundles.reading import (JudgmentFindings, bundle_settings, judgment_files, load_answers,
                                   read_judgments)
from utils.bundles.scoring import check_flags, start_scoring
from utils.plumbing.config import JudgeSettings, load_judge_settings
from utils.plumbing.errors import InputError
from utils.plumbing.forked import ForkedChild
from utils.vocabulary.records import read_questions

# the checks made from the bundle's answers and judgments: all of them "cannot be checked" when those cannot be read
CONTENT_CHECKS = ("questions", "baselines", "judge_prompt", "judge", "answers", "labels", "judged_texts")


def verify_bundle(bundle: Path, local_data: Path, setting_file: Path | None = None, rejudge: int | None = None,
                  endpoint_file: Path | None = None) -> list[Check]:
    """Every check of ``bundle`` against itself and the local benchmark in ``local_data``; with ``setting_file``,
    its prompts against that judge config; with ``rejudge``, that many games asked again (``endpoint_file``)."""
    local = None
    if setting_file is not None:
        local = setting_file, load_judge_settings(setting_file, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE)[0]
    with tempfile.TemporaryDirectory(prefix="arena-bundle-", dir=_scratch(read_manifest(bundle))) as tmp:
        unpacked = unpack(bundle, Path(tmp) / "bundle")
        manifest = unpacked.manifest
        settings = bundle_settings(unpacked)  # everything else is read in its terms
        scoring = start_scoring(unpacked.root, manifest["bench"], check_flags(manifest["show_result"]["flags"]),
                                Path(tmp) / "work")
        try:
            checks = [files_check(unpacked)]
            read = _read_contents(unpacked, settings)
            if isinstance(read, str):
                checks += [Check(name, DIFFERS, f"cannot be checked: {read}") for name in CONTENT_CHECKS]
            else:
                checks += _content_checks(unpacked, settings, *read, local_data, local)
            rescored, error = scoring.finish()
        finally:
            if scoring.process.poll() is None:  # an error above: show_result is not left running on a removed dir
                scoring.process.kill()
                scoring.process.wait()
        claimed = unpacked.path(CLAIMED_CSV)
        checks += [table_check(manifest, claimed.read_bytes() if claimed.is_file() else None, rescored, error),
                   software_check(manifest)]
        if rejudge is not None and isinstance(read, str):
            checks.append(Check("rejudge", DIFFERS, f"cannot be checked: {read}"))
        elif rejudge is not None:
            from utils.bundles.rejudge import rejudge_check  # the SDK clients: only when asked
            questions, answers, _, findings = read
            checks.append(rejudge_check(settings, unpacked.root, questions, answers, _model_names(findings),
                                        endpoint_file, rejudge))
    return checks


def _scratch(manifest: dict) -> str | None:
    """Where to unpack: in memory (/dev/shm) when it has room for twice the bundle's files, since writing there
    costs a third less than to disk and show_result waits for it; else the system's temporary directory."""
    shm = Path("/dev/shm")
    need = 2 * sum(entry["bytes"] for entry in manifest["files"].values())
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > need else None


def _read_contents(unpacked: Unpacked, settings: JudgeSettings):
    """(questions, answers, answer summaries, judgment findings), or why they cannot be read."""
    try:
        questions = read_questions(unpacked.path(unpacked.manifest["questions"]["file"]))
        answers, summaries = load_answers(unpacked)
        return questions, answers, summaries, _findings(unpacked, settings, questions, answers)
    except InputError as err:  # a file changed so far that it no longer reads: every check of it differs
        return str(err).replace(f"{unpacked.root}/", f"{unpacked.bundle}: ")  # named as a member, not a temp file


def _findings(unpacked: Unpacked, settings: JudgeSettings, questions, answers) -> JudgmentFindings:
    """Every judgment file read and tested: the first half of them (by size) here, the rest in a forked child on
    the other core."""
    files = judgment_files(unpacked)
    sizes = [unpacked.manifest["files"][member]["bytes"] for _, _, member in files]
    split = next((i for i in range(len(files)) if 2 * sum(sizes[:i + 1]) > sum(sizes)), len(files))
    with ForkedChild(lambda: read_judgments(unpacked, settings, questions, answers, files[split:])) as child:
        found = read_judgments(unpacked, settings, questions, answers, files[:split])
        return found.merged(child.result())


def _content_checks(unpacked: Unpacked, settings: JudgeSettings, questions, answers, summaries,
                    findings: JudgmentFindings, local_data: Path, local) -> list[Check]:
    manifest = unpacked.manifest
    return [questions_check(unpacked, questions, local_data), baselines_check(unpacked, answers, local_data),
            judge_prompt_check(manifest, settings, findings, local, {q.category for q in questions}),
            judge_check(manifest, findings), answers_check(manifest, summaries, findings), labels_check(findings),
            judged_texts_check(findings)]


def _model_names(findings: JudgmentFindings) -> dict[str, set[str]]:
    """Judge -> the model_names its judgments' provenance says it was asked for."""
    names: dict[str, set[str]] = {}
    for (judge, _), summary in findings.summaries.items():
        names.setdefault(judge, set()).update(str(s["model_name"]) for s in summary["sent"] if s.get("model_name"))
    return names


def status(checks: list[Check]) -> int:
    """0 when no check differs, else 1 (a note is no difference)."""
    return 1 if any(c.outcome == DIFFERS for c in checks) else 0
