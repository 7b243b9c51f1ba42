"""What a decision prints: a line per round, why it stopped, its JSON summary, and show_result's block.

The numbers are A - B in points of the per-question score
(docs/deciding.md#per-question-score); the interval is the anytime-valid
one (utils.ranking.sequential), which may be looked at after every round.
"""
from __future__ import annotations

import json
from dataclasses import replace

from utils.deciding.flags import Procedure
from utils.deciding.procedure import look
from utils.deciding.scores import Paired, paired_scores
from utils.deciding.state import DecisionState, Look, check_belongs, questions_changed, read_state
from utils.plumbing.names import decision_file
from utils.ranking.methods import method_named
from utils.plumbing.errors import (EXIT_A_BETTER, EXIT_B_BETTER, EXIT_COST_CAP, EXIT_EQUIVALENT, EXIT_FAILED,
                                   EXIT_UNDECIDED)
from utils.ranking.sequential import Decision
from utils.vocabulary.verdicts import NO_LABEL_ADVICE, UNLABELLED_WARN

EXIT_OF = {Decision.A_BETTER.value: EXIT_A_BETTER, Decision.B_BETTER.value: EXIT_B_BETTER,
           Decision.EQUIVALENT.value: EXIT_EQUIVALENT}
# why a run stopped without a decision
OUT_OF_QUESTIONS = "questions ran out"
COST_CAP = "--max-cost reached"


def _signed(x: float) -> str:
    return f"{x:+.2f}"


def what(procedure: Procedure) -> str:
    """The interval's name, with what it is about."""
    about = "this benchmark" if procedure.scope == "benchmark" else "beyond this benchmark (--scope general)"
    return f"{procedure.level:g}% anytime-valid interval ({about})"


def round_line(number: int, seen: Look, questions: int, state: DecisionState, unlabelled: tuple[int, int]) -> str:
    """One round as the run prints it: questions judged, the estimate, the interval, the decision, the cost, and
    ``unlabelled`` (the round's games without a label, and all its games) when some are."""
    a, b = state.models
    spent = "cost unknown (a judge without a price)" if seen.cost_usd is None else f"${seen.cost_usd:.4f} spent"
    labels = f"; {unlabelled[0]} of the round's {unlabelled[1]} games have no label" if unlabelled[0] else ""
    return (f"round {number}: {seen.judged}/{questions} questions, {a} - {b} {_signed(seen.estimate)} points, "
            f"{what(state.procedure)} {_signed(seen.lower)} to {_signed(seen.upper)}: {decision_words(seen, state)}; "
            f"{spent}{labels}")


def round_labels(paired: Paired, start: int, end: int) -> tuple[int, int]:
    """(games without a label, games) of both models on the questions start..end of the order."""
    return int(paired.unlabelled[:, start:end].sum()), int(paired.games[:, start:end].sum())


def label_warnings(paired: Paired, judged: int, models: tuple[str, str]) -> list[str]:
    """A warning for each model whose games on the judged questions lack a label more often than UNLABELLED_WARN:
    such a question scores 50, a tie, for it, so a decision may rest on the other model's games alone."""
    out = []
    for m, model in enumerate(models):
        games = int(paired.games[m, :judged].sum())
        share = paired.unlabelled[m, :judged].sum() / games if games else 0.0
        if share > UNLABELLED_WARN:
            out.append(f"warning: {share:.0%} of {model}'s {games} games have no label, and a question without a "
                       f"labelled game scores 50 (a tie) for {model}: the decision rests on little evidence about it. "
                       "The judge's diagnostics (model_judgment/<judge>/diagnostics.json, show_result's report) and "
                       f"python -m utils.check_answers say why; {NO_LABEL_ADVICE}")
    return out


def why_decided(decision: str, margin: float) -> str:
    """Why the sequence decided ``decision`` (a Decision's value)."""
    return {Decision.A_BETTER.value: "the interval lies above 0", Decision.B_BETTER.value: "the interval lies below 0",
            Decision.EQUIVALENT.value: f"the interval lies inside +-{margin:g}"}[decision]


def decision_words(seen: Look, state: DecisionState) -> str:
    a, b = state.models
    return {Decision.A_BETTER.value: f"{a} better", Decision.B_BETTER.value: f"{b} better",
            Decision.EQUIVALENT.value: f"equivalent within +-{state.procedure.margin:g} points"}.get(
        seen.decision, "undecided")


def stop_line(state: DecisionState, questions: int, status: int) -> str:
    """Why the run stopped, and its exit status."""
    seen = state.rounds[-1] if state.rounds else None
    judged = seen.judged if seen else 0
    if seen is not None and seen.decision in EXIT_OF:
        text = f"{decision_words(seen, state)} ({why_decided(seen.decision, state.procedure.margin)})"
    else:
        text = f"undecided: {state.stopped}"
    return f"stopped after {judged} of {questions} questions: {text}; exit status {status}"


def closing_lines(state: DecisionState, path, status: int) -> list[str]:
    """After the stop line: where the decision is kept, and, when a round was looked at and the run did not fail,
    where to see its interval again and how to judge the rest."""
    out = [f"wrote {path}"]
    if state.rounds and status != EXIT_FAILED:
        a_b = " ".join(state.models)
        out.append(f"show_result.py --compare {a_b} shows this interval beside the bootstrap one; gen_judgment.py "
                   f"--model {a_b} judges the rest")
    return out


def exit_status(state: DecisionState) -> int:
    """The documented exit status of a run that stopped on its own (not for failed requests)."""
    if state.rounds and state.rounds[-1].decision in EXIT_OF:
        return EXIT_OF[state.rounds[-1].decision]
    return EXIT_COST_CAP if state.stopped == COST_CAP else EXIT_UNDECIDED


def summary_json(state: DecisionState, questions: int, status: int) -> str:
    """--json: the decision, the rounds with their intervals, and how it was reached."""
    p = state.procedure
    last = state.rounds[-1] if state.rounds else None
    return json.dumps({"models": list(state.models), "judges": list(state.judges),
                       "decision": last.decision if last else Decision.UNDECIDED.value,
                       "reason": state.stopped, "exit_status": status,
                       "questions_judged": last.judged if last else 0, "questions": questions,
                       "seed": p.seed, "order": p.order, "scope": p.scope, "level": p.level, "alpha": p.alpha,
                       "margin": p.margin, "round_size": p.round_size, "method": state.method,
                       "cost_usd": state.spent,
                       "rounds": [{"judged": r.judged, "estimate": r.estimate, "lower": r.lower, "upper": r.upper,
                                   "decision": r.decision, "cost_usd": r.cost_usd} for r in state.rounds]}, indent=1)


def compare_block(state: DecisionState, seen: Look | None, questions: int, changed: str | None = None,
                  warnings: list[str] = ()) -> str:
    """show_result --compare on judgments made by --until-decided: the anytime-valid interval beside the bootstrap
    (``changed``: why the decision's questions are not the benchmark's, when they are not; no interval then), and
    the ``warnings`` of label_warnings under it."""
    a, b = state.models
    p = state.procedure
    out = [f"##### {a} vs {b}: {what(p)}, from gen_judgment.py --until-decided #####"]
    if changed:
        out.append(f"{changed}: the decision's interval is about its own questions, so it is not shown as this "
                   "benchmark's anytime-valid one, and gen_judgment.py --until-decided refuses to go on with it "
                   "(delete its state file to start a new decision)")
        return "\n".join(out) + "\n"
    if seen is None:
        out.append(f"no question of its order is judged for both yet ({p.order} order, seed {p.seed})")
        return "\n".join(out) + "\n"
    exact = " (every question judged: the exact difference)" if seen.judged == questions and p.scope == "benchmark" \
        else ""
    out.append(f"{a} - {b}: {_signed(seen.estimate)} points of the per-question score, interval "
               f"{_signed(seen.lower)} to {_signed(seen.upper)} after the first {seen.judged} of {questions} "
               f"questions of its {p.order} order (seed {p.seed}){exact}: {decision_words(seen, state)}")
    out.append("This interval may be read after any round and the run stopped on it: its level holds however often "
               "it is looked at. The paired bootstrap interval above is right only for a benchmark judged once, "
               "whole; stopping the first time it excludes 0 names a winner between equal models far more often "
               "than its level says (docs/deciding.md#guarantee).")
    return "\n".join([*out, *warnings]) + "\n"


def compare_text(run, judges: tuple[str, ...], a: str, b: str) -> str | None:
    """show_result's block for --compare A B when a --until-decided run of A and B (either way round) with these
    judges (in any order) left its state file; None when none did. ``run``: what show_result read
    (utils.ranking.run.RunData)."""
    if run.records is None:  # battles loaded from a file: no judgments to recompute the sequence from
        return None
    path = decision_file(run.data_dir, run.bench, judges, a, b)
    state = read_state(path)
    if state is None:
        return None
    check_belongs(state, (a, b), judges, path)
    state = replace(state, models=(a, b))  # asked the other way round: the mirrored sequence, exactly
    changed = questions_changed(state, [q.uid for q in run.questions])
    if changed:
        return compare_block(state, None, len(state.order), changed)
    categories = {q.uid: q.category for q in run.questions}
    baselines = [state.baselines.get(categories.get(uid, ""), "") for uid in state.order]
    paired = paired_scores(run.records, method_named(state.method), state.weight, state.order, baselines, (a, b))
    judged = paired.prefix()
    seen = look(paired.differences[:judged], state.procedure, len(state.order), state.weights) if judged else None
    return compare_block(state, seen, len(state.order), warnings=label_warnings(paired, judged, (a, b)))
