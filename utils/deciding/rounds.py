"""gen_judgment.py --until-decided A B: judge the two models a round at a time until the sequence decides.

Each round is the next ``round_size`` questions of the order, judged by the
normal judging (utils.asking.judging.generate_judgments, restricted to those
questions): every judge, both games, both models; a judgment already stored
is reused, a stale one follows --stale, and everything paid for is stored
before the round is looked at. The look reads the two models' stored
judgments (utils.ranking.judgments, the one reader) and computes the
sequence on the judged prefix of the order. The run stops when it decides,
when --max-cost is reached, when a round could not be judged whole (failed
requests: run the same command again to resume), or when the questions run
out; the state file is written before the first request and after every round.
"""
from __future__ import annotations

import argparse
import contextlib
import sys

from utils.asking.judge_checks import check_plan, plan_report
from utils.asking.judge_inputs import JudgingInputs
from utils.asking.judging import estimate_judgments, generate_judgments, plan
from utils.asking.runs import Summary, budget_lines, exit_status, print_failures
from utils.deciding.flags import Procedure
from utils.deciding.judgeable import check_judgeable
from utils.deciding.order import draw_order
from utils.deciding.procedure import look
from utils.deciding.report import (COST_CAP, OUT_OF_QUESTIONS, closing_lines, label_warnings, round_labels,
                                   round_line, stop_line, summary_json, why_decided)
from utils.deciding.report import exit_status as decided_status
from utils.deciding.scores import Paired, paired_scores
from utils.deciding.state import DecisionState, check_repeated, read_state, write_state
from utils.plumbing.config import JudgeSettings, ModelConfig
from utils.plumbing.errors import EXIT_COST_CAP, EXIT_FAILED
from utils.plumbing.names import decision_file, judgment_file
from utils.ranking.judgments import ReadOptions, read_judgments
from utils.ranking.methods import method_for_bench
from utils.ranking.methods.base import label_patterns
from utils.ranking.settings import RunSettings
from utils.ranking.sequential import Decision
from utils.vocabulary.records import Question


def until_decided(args: argparse.Namespace, procedure: Procedure, judges: dict[str, ModelConfig],
                  questions: list[Question], inputs: JudgingInputs) -> int:
    """The whole run; returns its exit status (docs/deciding.md#exit)."""
    settings = inputs.settings
    state = _start(args, procedure, settings, questions, inputs)
    path = decision_file(args.data_dir, settings.bench_name, settings.judge_models, *state.models)
    if args.dry_run:
        estimate = estimate_judgments(settings, judges, questions, inputs.answers, args.data_dir, inputs.notes,
                                      stale=args.stale, max_cost=args.max_cost)
        print(estimate.render(args.json))
        if not args.json:
            print(f"--until-decided judges {procedure.round_size} questions a round and stops once decided: the "
                  "above is the most it can cost (every question)")
        return 0
    say = sys.stderr if args.json else sys.stdout  # with --json, stdout holds the JSON alone
    for note in inputs.notes:
        print(note, file=say)
    write_state(path, state)
    status, paired = _rounds(args, state, path, judges, questions, inputs, say)
    print(stop_line(state, len(state.order), status), file=say)
    if paired is not None and state.rounds:
        for line in label_warnings(paired, state.rounds[-1].judged, state.models):
            print(line, file=say)
    for line in closing_lines(state, path, status):
        print(line, file=say)
    if args.json:
        print(summary_json(state, len(state.order), status))
    return status


def _start(args, procedure: Procedure, settings: JudgeSettings, questions: list[Question],
           inputs: JudgingInputs) -> DecisionState:
    """The run's state: a new one, or the stored one when this decision was started before (and decides alike)."""
    a, b = args.until_decided
    check_judgeable(settings, questions, inputs.answers, (a, b), args.data_dir, args.setting_file)
    if args.stale == "fail":  # a stale judgment anywhere in the order: refused before round 1 pays, not in its round
        jobs = plan(settings, questions, inputs.answers, args.data_dir, read_only=True)
        for line in plan_report(jobs, args.stale):
            print(line, file=sys.stderr if args.json else sys.stdout)
        check_plan(jobs, args.stale, True, args.data_dir, settings.bench_name)  # mismatches: check_judgeable's
    uids = [q.uid for q in questions]
    order, weights = draw_order(uids, procedure, inputs.answers[a], inputs.answers[b])
    method = method_for_bench(settings.bench_name)
    baselines = {q.category: settings.prompt_for(q.category).baseline_model for q in questions}
    new = DecisionState((a, b), tuple(settings.judge_models), method.name, RunSettings().weight, procedure, order,
                        weights, baselines)
    path = decision_file(args.data_dir, settings.bench_name, settings.judge_models, a, b)
    stored = read_state(path)
    if stored is None:
        return new
    check_repeated(stored, new, path)
    new.order, new.weights = stored.order, stored.weights  # the order drawn when it started (by the same seed)
    return new  # named as this run names the models: its rounds are printed from the side asked


def _rounds(args, state: DecisionState, path, judges: dict[str, ModelConfig], questions: list[Question],
            inputs: JudgingInputs, say) -> tuple[int, Paired | None]:
    """Judge and look, round after round; the run's exit status, and the scores it last read (None: none)."""
    settings, p = inputs.settings, state.procedure
    by_uid = {q.uid: q for q in questions}
    files = [(j, judgment_file(args.data_dir, settings.bench_name, judge, model))
             for j, judge in enumerate(settings.judge_models) for model in state.models]
    read = ReadOptions(questions, label_patterns(settings, tuple(settings.judge_models)))
    baselines = [state.baselines[by_uid[uid].category] for uid in state.order]
    method = method_for_bench(settings.bench_name)
    state.spent, state.rounds, paired = 0.0, [], None
    for start in range(0, len(state.order), p.round_size):
        if args.max_cost is not None and state.spent is not None and state.spent >= args.max_cost:
            state.stopped = COST_CAP
            break
        todo = [by_uid[uid] for uid in state.order[start:start + p.round_size]]
        with contextlib.redirect_stdout(say):  # one cap for the whole run: its lines give the run's total
            summary = generate_judgments(settings, judges, todo, inputs.answers, args.data_dir, stale=args.stale,
                                         max_cost=args.max_cost, spent=state.spent or 0.0)
        state.spent = _add_cost(state.spent, summary)
        status = exit_status(summary)
        if status:
            return _unfinished(state, path, summary, status, say), paired
        records = read_judgments(list(settings.judge_models), [f for f in files if f[1].is_file()], read)
        paired = paired_scores(records, method, state.weight, state.order, baselines, state.models)
        judged = min(paired.prefix(), start + len(todo))
        if judged < start + len(todo):
            return _uncounted(state, path, paired, judged, start + len(todo), say), paired
        seen = look(paired.differences[:judged], p, len(state.order), state.weights)
        seen.cost_usd = state.spent
        labels = round_labels(paired, state.rounds[-1].judged if state.rounds else 0, judged)
        state.rounds.append(seen)
        write_state(path, state)
        print(round_line(len(state.rounds), seen, len(state.order), state, labels), file=say, flush=True)
        if seen.decision != Decision.UNDECIDED.value:
            state.stopped = why_decided(seen.decision, p.margin)
            break
    else:
        state.stopped = OUT_OF_QUESTIONS
    write_state(path, state)
    return decided_status(state), paired


def _uncounted(state: DecisionState, path, paired: Paired, judged: int, end: int, say) -> int:
    """A round judging left nothing to ask for, yet some question of it is not judged for both models against its
    baseline by every judge (a stored judgment against another baseline, say): every later round would leave the
    judged start of the order where it is, so the run stops rather than pay for them."""
    both = paired.judged.all(0)
    stuck = [uid for uid, done in zip(state.order[judged:end], both[judged:end]) if not done]
    print(f"stopped: question {', '.join(stuck)} of the order has no judgment this decision can count for both "
          f"models (each judge's, against the question's baseline), though judging found nothing to ask for (a "
          "stored judgment against another baseline?): remove those records from the judgment files and run the "
          "same command again", file=say)
    state.stopped = "a question of the order has no judgment this decision can count (see above)"
    write_state(path, state)
    return EXIT_FAILED


def _add_cost(spent: float | None, summary: Summary) -> float | None:
    """What the run has spent after a round: the cap's meter (the run's total) when there is one, else the stored
    records' price added."""
    if spent is None:
        return None
    if summary.budget is not None:
        return summary.budget.spent
    added = [cost.added.cost(cost.price) for cost in summary.costs]
    return None if any(c is None for c in added) else spent + sum(added)


def _unfinished(state: DecisionState, path, summary: Summary, status: int, say) -> int:
    """A round not judged whole: what failed or why it stopped; what was paid for is stored."""
    with contextlib.redirect_stdout(say):
        print_failures(summary.failures, "judgment")
        for line in budget_lines(summary):
            print(line)
    state.stopped = COST_CAP if status == EXIT_COST_CAP else \
        "a round could not be judged whole (see above); run the same command again to resume"
    write_state(path, state)
    return status
