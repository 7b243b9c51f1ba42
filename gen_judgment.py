#!/usr/bin/env python3
"""Step 2: have the judge(s) compare every model's answers with the baseline's, two games per question."""
from __future__ import annotations

from dataclasses import replace

from utils.config import check_thinking_budgets, load_api_config, load_judge_settings
from utils.errors import InputError, run_cli
from utils.judging import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, generate_judgments
from utils.names import answer_file, question_file
from utils.records import read_answers, read_questions
from utils.runs import parse_step_arguments, print_failures


def main() -> int:
    args = parse_step_arguments(__doc__, "config/judge_config.yaml")

    settings, doc = load_judge_settings(args.setting_file, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE)
    judges = load_api_config(args.endpoint_file, list(settings.judge_models), wanted_from=doc,
                             wanted_key="judge_model")
    check_thinking_budgets(judges, settings.max_tokens, doc)
    questions = read_questions(question_file(args.data_dir, settings.bench_name))

    answers = {}
    for name in dict.fromkeys([*settings.baselines, *([settings.ref_model] if settings.ref_model else [])]):
        path = answer_file(args.data_dir, settings.bench_name, name)
        if not path.is_file():
            raise InputError(f"no answers of {name!r}, which the judge needs on every question "
                             "(run gen_answer.py for it first)", path)
        answers[name] = read_answers(path)
    for name in settings.model_list:
        path = answer_file(args.data_dir, settings.bench_name, name)
        answers[name] = read_answers(path) if path.is_file() else {}
    if settings.prompt.baseline_model in settings.model_list:
        print(f"note: {settings.prompt.baseline_model} is the baseline; it is not judged against itself")
        settings = replace(settings, model_list=tuple(m for m in settings.model_list
                                                      if m != settings.prompt.baseline_model))

    summary = generate_judgments(settings, judges, questions, answers, args.data_dir)

    for run in summary.runs:
        line = f"{run.judge} / {run.model}: {run.judged} new judgments, {run.done_before} already there"
        if run.null_labels:
            line += f", {run.null_labels} game(s) without a label (stored as null, they count zero times)"
        print(line)
        for count, what in ((run.missing_answers, f"no answer of {run.model}"),
                            (run.missing_baseline, "no baseline answer"),
                            (run.missing_reference, "no reference answer")):
            if count:
                print(f"  warning: {count} question(s) skipped: {what} (run gen_answer.py for it)")
    print_failures(summary.failures)
    for judge, per_model in summary.diagnostics.items():
        print(f"judge diagnostics ({judge}): model | judgments | missing labels | ties | position consistency | "
              "first position wins")
        for model, d in per_model.items():
            print(f"  {model} | {d['judgments']} | {_pct(d['missing_share'])} | {_pct(d['tie_rate'])} | "
                  f"{_pct(d['position_consistency'])} | {_pct(d['first_position_share'])}")
    return 1 if summary.failures else 0


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}%"


if __name__ == "__main__":
    run_cli(main)
