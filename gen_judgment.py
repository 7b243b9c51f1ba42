#!/usr/bin/env python3
"""Step 2: have the judge(s) compare every model's answers with the baseline's, two games per question."""
from __future__ import annotations

import argparse
import shlex
from dataclasses import replace
from pathlib import Path

from utils.asking.judging import (DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, baselines_of, generate_judgments,
                                  identical_answers)
from utils.asking.runs import job_lines, print_failures
from utils.cli import ANSWER_SETTINGS, DATA_DIR, ENDPOINTS, JUDGE_SETTINGS, parse_step_arguments, run_cli
from utils.config import (UNPUBLISHED_BASELINES, check_thinking_budgets, load_api_config, load_judge_settings,
                          load_yaml)
from utils.errors import InputError
from utils.names import answer_file, question_file
from utils.records import read_answers, read_questions


def main() -> int:
    args = parse_step_arguments(__doc__, JUDGE_SETTINGS)

    settings, doc = load_judge_settings(args.setting_file, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, args.model)
    judges = load_api_config(args.endpoint_file, list(settings.judge_models), wanted_from=doc,
                             wanted_key="judge_model")
    check_thinking_budgets(judges, settings.max_tokens, doc)
    questions = read_questions(question_file(args.data_dir, settings.bench_name))
    baselines = baselines_of(settings, questions)

    for name in settings.model_list:
        if set(baselines) == {name}:
            print(f"note: {name} is the baseline; it is not judged against itself")
    settings = replace(settings, model_list=tuple(m for m in settings.model_list if set(baselines) != {m}))

    # A model to judge and the reference must have answers; a baseline's may be missing (the official
    # v2.0 benchmark does not publish its creative-writing baseline's), and only its questions wait.
    answers = {}
    for name in [*settings.model_list, *([settings.ref_model] if settings.ref_model else [])]:
        path = answer_file(args.data_dir, settings.bench_name, name)
        if not path.is_file():
            command = answer_command(args, settings.bench_name, name)
            raise InputError(f"no answers of {name!r}; make them first: {command}", path)
        answers[name] = read_answers(path)
    for name in baselines:
        path = answer_file(args.data_dir, settings.bench_name, name)
        if name not in answers and path.is_file():
            answers[name] = read_answers(path)

    judged = list(dict.fromkeys([*settings.model_list, *(b for b in baselines if b in answers)]))
    for first, second, shared in identical_answers(answers, judged, set(settings.model_list)):
        print(f"warning: {first} and {second} have identical answers on all {shared} question(s) they share: "
              "one answer file may be a copy of the other (judging goes on)")

    summary = generate_judgments(settings, judges, questions, answers, args.data_dir)

    for job in summary.jobs:
        print(*job_lines(job, "judgment"), sep="\n")
    for baseline in dict.fromkeys(b for job in summary.jobs for b in job.left_out.no_baseline):
        print(missing_baseline_report(args, settings.bench_name, baseline, baselines[baseline], answers))
    print_failures(summary.failures)
    for judge, per_model in summary.diagnostics.items():
        print(f"judge diagnostics ({judge}): model | judgments | missing labels | ties | position consistency | "
              "first position wins")
        for model, d in per_model.items():
            print(f"  {model} | {d['judgments']} | {_pct(d['missing_share'])} | {_pct(d['tie_rate'])} | "
                  f"{_pct(d['position_consistency'])} | {_pct(d['first_position_share'])}")
    return 1 if summary.failures else 0


def missing_baseline_report(args: argparse.Namespace, bench: str, baseline: str, its_questions: list,
                            answers: dict) -> str:
    """Which questions wait for a baseline's answers, why, and the one command that makes them."""
    have = answers.get(baseline, {})
    waiting = [q for q in its_questions if q.uid not in have]
    categories = ", ".join(sorted({q.category or "(none)" for q in waiting}))
    path = answer_file(args.data_dir, bench, baseline)
    if baseline in answers:
        why = f"{path} lacks them"
    elif baseline in UNPUBLISHED_BASELINES.get(bench, ()):
        why = f"the benchmark does not publish its answers (there is no {path})"
    else:
        why = f"there is no {path}"
    return (f"{len(waiting)} question(s) of category {categories} wait for answers of their baseline {baseline}: "
            f"{why}. Make them with this command, then run gen_judgment.py again:\n"
            f"  {answer_command(args, bench, baseline)}")


def answer_command(args: argparse.Namespace, bench: str, model: str) -> str:
    """The gen_answer.py command line that answers ``bench``'s questions with ``model``, in this run's files."""
    command = ["python", "gen_answer.py"]
    settings = answer_settings_for(bench, Path(args.setting_file).parent)
    if settings != ANSWER_SETTINGS:
        command += ["--setting-file", settings or "ANSWER_SETTINGS.yaml"]
    if str(args.endpoint_file) != ENDPOINTS:
        command += ["--endpoint-file", str(args.endpoint_file)]
    if args.data_dir != DATA_DIR:
        command += ["--data-dir", str(args.data_dir)]
    line = shlex.join([*command, "--model", model])
    return line if settings else f"{line}  # ANSWER_SETTINGS.yaml: answer settings with bench_name: {bench}"


def answer_settings_for(bench: str, folder: Path) -> str | None:
    """An answer settings file for ``bench``: gen_answer_<bench>.yaml beside the judge settings, or the default."""
    for candidate in (str(folder / f"gen_answer_{bench}.yaml"), ANSWER_SETTINGS):
        try:
            doc = load_yaml(candidate)
        except InputError:
            continue
        if isinstance(doc.data, dict) and doc.data.get("bench_name") == bench:
            return candidate
    return None


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


if __name__ == "__main__":
    run_cli(main)
