"""The command lines a message hands the user to make what is missing: a gen_answer.py or gen_judgment.py run.

Both are written with the files of the run that found something missing
(its settings' folder, --endpoint-file, --data-dir), so they can be pasted as
they are. gen_judgment.py prints the gen_answer.py command for a baseline
whose answers some questions wait for; show_result.py prints both for a
category it cannot score. The settings file is looked for by the name the
shipped configs use for a benchmark (``config/gen_answer_<bench>.yaml``,
``config/<bench>.yaml``); when none names the benchmark, the command says
which settings it needs.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from utils.plumbing.cli import ANSWER_SETTINGS, DATA_DIR, ENDPOINTS, JUDGE_SETTINGS
from utils.plumbing.config import UNPUBLISHED_BASELINES, load_yaml
from utils.plumbing.errors import InputError
from utils.plumbing.names import answer_file


@dataclass(frozen=True)
class RunFiles:
    """The files a run was given, which the commands it prints reuse (gen_judgment.py's parsed flags have the
    same attributes and serve as well)."""
    setting_file: str | Path | None  # the judge settings, when the run had some
    endpoint_file: str | Path = ENDPOINTS
    data_dir: Path = DATA_DIR
    first: int | None = None  # a --first trial's question count, which the commands keep


def answers_missing(data_dir: Path, bench: str, model: str, has_file: bool) -> str:
    """Why ``model``'s answers to some questions of ``bench`` are missing: its file lacks them, or there is none
    (and whether the benchmark publishes none)."""
    path = answer_file(data_dir, bench, model)
    if has_file:
        return f"{path} lacks them"
    if model in UNPUBLISHED_BASELINES.get(bench, ()):
        return f"the benchmark does not publish its answers (there is no {path})"
    return f"there is no {path}"


def answer_command(files: RunFiles, bench: str, model: str) -> str:
    """The gen_answer.py command line that answers ``bench``'s questions with ``model``."""
    folder = Path(files.setting_file or JUDGE_SETTINGS).parent
    settings = settings_for(bench, [folder / f"gen_answer_{bench}.yaml", ANSWER_SETTINGS])
    return _command("gen_answer.py", settings, ANSWER_SETTINGS, "ANSWER_SETTINGS.yaml", "answer", files, bench,
                    ["--model", model])


def judge_command(files: RunFiles, bench: str, models: list[str], judges: list[str]) -> str:
    """The gen_judgment.py command line that judges ``models`` on ``bench`` with ``judges``."""
    settings = str(files.setting_file) if files.setting_file else \
        settings_for(bench, [Path(JUDGE_SETTINGS).parent / f"{bench}.yaml", JUDGE_SETTINGS])
    return _command("gen_judgment.py", settings, JUDGE_SETTINGS, "JUDGE_SETTINGS.yaml", "judge", files, bench,
                    ["--judge", *judges, "--model", *(models or ["MODEL"])])


def _command(script: str, settings: str | None, default: str, placeholder: str, kind: str, files: RunFiles,
             bench: str, tail: list[str]) -> str:
    """``python SCRIPT`` with the settings (left out when they are the default), the run's files and ``tail``;
    without settings for ``bench``, a placeholder and a comment saying what it stands for."""
    command = ["python", script]
    if settings != default:
        command += ["--setting-file", settings or placeholder]
    if str(files.endpoint_file) != ENDPOINTS:
        command += ["--endpoint-file", str(files.endpoint_file)]
    if Path(files.data_dir) != DATA_DIR:
        command += ["--data-dir", str(files.data_dir)]
    if files.first:
        command += ["--first", str(files.first)]
    line = shlex.join([*command, *tail])
    return line if settings else f"{line}  # {placeholder}: {kind} settings with bench_name: {bench}"


def settings_for(bench: str, candidates: list[Path | str]) -> str | None:
    """The first of ``candidates`` that is a settings file of ``bench``, as a string; None when none is."""
    for candidate in map(str, candidates):
        try:
            doc = load_yaml(candidate)
        except InputError:
            continue
        if isinstance(doc.data, dict) and doc.data.get("bench_name") == bench:
            return candidate
    return None
