"""What judging needs before the first request: the answers it compares, and what to say about them.

A model to judge and the reference model must have an answer file; a
baseline's may be missing (the official v2.0 benchmark does not publish its
creative-writing baseline's answers), and then only its questions wait. For
what is missing, gen_judgment.py prints the gen_answer.py command that makes
it, with this run's files (utils/plumbing/fix_commands.py; docs/design.md#category-baselines).
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field, replace

from utils.asking.jobs import Job
from utils.plumbing.fix_commands import answer_command, answers_missing
from utils.plumbing.config import JudgeSettings
from utils.plumbing.errors import InputError
from utils.plumbing.names import answer_file
from utils.vocabulary.records import Answer, Question, read_answers


@dataclass
class JudgingInputs:
    settings: JudgeSettings  # its model_list without a model that is the baseline of every question
    baselines: dict[str, list[Question]]  # each baseline -> the questions it is the baseline of
    answers: dict[str, dict[str, Answer]]  # model -> question id -> answer
    notes: list[str]  # to print before the run
    # a dry run's models without answers (their stand-ins are in ``answers``) -> what the estimate assumes of them
    assumed: dict[str, str] = field(default_factory=dict)


# What a dry run's estimate assumes of a model that has no answers yet (its JSON items' ``assumed``)
ANSWERS_ASSUMED = "no answers yet: each taken as long as its baseline's answer to the same question"


def judging_inputs(settings: JudgeSettings, questions: list[Question], args: argparse.Namespace) -> JudgingInputs:
    """Read every answer file judging needs; ``args`` are the step's flags (utils.plumbing.cli.parse_step_arguments).

    An InputError, with the command that makes them, when a model to judge
    or the reference has no answers at all; but a dry run, which only prices
    the games, prices those of a model without answers with its baselines'
    answers standing in for its own (``assumed``): the price of judging is
    known before paying for the answers.
    """
    baselines = baselines_of(settings, questions)
    notes = [f"note: {name} is the baseline; it is not judged against itself"
             for name in settings.model_list if set(baselines) == {name}]
    settings = replace(settings, model_list=tuple(m for m in settings.model_list if set(baselines) != {m}))
    answers, assumed = {}, {}
    for name in [*settings.model_list, *([settings.ref_model] if settings.ref_model else [])]:
        path = answer_file(args.data_dir, settings.bench_name, name)
        if path.is_file():
            answers[name] = read_answers(path)
        elif args.dry_run and name in settings.model_list:
            assumed[name] = ANSWERS_ASSUMED
        else:
            raise InputError(f"no answers of {name!r}; make them first: "
                             f"{answer_command(args, settings.bench_name, name)}", path)
    for name in baselines:
        path = answer_file(args.data_dir, settings.bench_name, name)
        if name not in answers and path.is_file():
            answers[name] = read_answers(path)
    judged = list(dict.fromkeys([*settings.model_list, *(b for b in baselines if b in answers)]))
    for first, second, shared in identical_answers(answers, judged, set(settings.model_list)):
        notes.append(f"warning: {first} and {second} have identical answers on all {shared} question(s) they "
                     "share: one answer file may be a copy of the other (judging goes on)")
    for name in assumed:
        answers[name] = stand_in_answers(name, settings, questions, answers)
        notes.append(f"{name}: {ANSWERS_ASSUMED}, so its games' input tokens are an estimate (there is no "
                     f"{answer_file(args.data_dir, settings.bench_name, name)}; "
                     f"{answer_command(args, settings.bench_name, name)} makes it)")
    return JudgingInputs(settings=settings, baselines=baselines, answers=answers, notes=notes, assumed=assumed)


def stand_in_answers(model: str, settings: JudgeSettings, questions: list[Question],
                     answers: dict[str, dict[str, Answer]]) -> dict[str, Answer]:
    """For a dry run: ``model``'s answers as its baselines' answers to the same questions (their text, nothing of
    how they were made). A question whose baseline has no answer gets an empty one: it waits for its baseline,
    as it will once the model has answered."""
    out = {}
    for q in questions:
        baseline = answers.get(settings.prompt_for(q.category).baseline_model, {}).get(q.uid)
        turns, prompts = (list(baseline.turns), list(baseline.prompts)) if baseline is not None else ([""], [])
        out[q.uid] = Answer(uid=q.uid, model=model, turns=turns, prompts=prompts)
    return out


def baselines_of(settings: JudgeSettings, questions: list[Question]) -> dict[str, list[Question]]:
    """Each baseline the questions need, with the questions it is the baseline of (in question order)."""
    out: dict[str, list[Question]] = {}
    for q in questions:
        out.setdefault(settings.prompt_for(q.category).baseline_model, []).append(q)
    return out


def identical_answers(answers: dict[str, dict[str, Answer]], models: list[str],
                      judged: set[str]) -> list[tuple[str, str, int]]:
    """(model, model, questions shared) for every pair whose answers are the same text on every shared question.

    Only pairs that include a model to be judged count (two baselines may agree). Such a pair
    usually means an answer file was copied under another model's name.
    """
    out = []
    for i, first in enumerate(models):
        for second in models[i + 1:]:
            if first not in judged and second not in judged:
                continue
            mine, theirs = answers.get(first, {}), answers.get(second, {})
            shared = mine.keys() & theirs.keys()
            if shared and all(mine[uid].turns == theirs[uid].turns for uid in shared):
                out.append((first, second, len(shared)))
    return out


def waiting_for_baselines(jobs: list[Job], inputs: JudgingInputs, args: argparse.Namespace) -> list[str]:
    """For each baseline whose answers some questions lacked: which wait, why, and the command that makes them."""
    bench = inputs.settings.bench_name
    reports = []
    for baseline in dict.fromkeys(b for job in jobs for b in job.left_out.no_baseline):
        have = inputs.answers.get(baseline, {})
        waiting = [q for q in inputs.baselines[baseline] if q.uid not in have]
        categories = ", ".join(sorted({q.category or "(none)" for q in waiting}))
        why = answers_missing(args.data_dir, bench, baseline, baseline in inputs.answers)
        reports.append(f"{len(waiting)} question(s) of category {categories} wait for answers of their baseline "
                       f"{baseline}: {why}. Make them with this command, then run gen_judgment.py again:\n"
                       f"  {answer_command(args, bench, baseline)}")
    return reports
