"""Step 2: a judge compares each model's answer with the baseline's, in two position-swapped games.

Game 1 shows the baseline's answer as assistant A and the model's as B;
game 2 swaps them. The judge ends its text with one of the five labels
(utils/vocabulary/verdicts.py), written ``[[label]]`` in our prompt, found by the
configured patterns. No label: the judge is asked to finish, up to the
attempt limit. Two different labels: the verdict is missing (null), as is a
label still absent after the last attempt; show_result counts such a game
zero times and the run summary counts it here.

With ``structured_verdicts: true`` the judge is asked for a JSON object
``{"reasoning": ..., "verdict": <label>}`` through ``response_format``
(OpenAI's json_schema first, then the json_object-with-schema form that
llama.cpp and vLLM accept); an endpoint that refuses both is judged by the
patterns alone, and a JSON verdict is also read when it was not enforced.

This module plans the run (which games each judgment file still needs) and
plays the games. What the judge is shown and how its label is read:
judge_prompts.py; the answers judging needs: judge_inputs.py; how each judge
behaved: diagnostics.py (docs/design.md#judging).
"""
from __future__ import annotations

import asyncio
import copy
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from utils.asking.accounts import record_costs
from utils.asking.batching import BatchOptions, BatchPending, as_part, game_part
from utils.asking.clients import ModelClient, add_usage, mended, sent_settings
from utils.asking.cost import expected_output, tally_judgments
from utils.asking.diagnostics import record_diagnostics
from utils.asking.dry_run import DryRun, dry_run
from utils.asking.judge_checks import PlanChecks, check_plan, plan_counts, plan_report
from utils.asking.judge_prompts import (FINISH_REQUEST, RESPONSE_FORMATS, TemplateCheck, extract_label,
                                        prompt_fields, prompt_hash, render_game)
from utils.asking.providers.base import Reply, RequestFailed, split_reasoning
from utils.asking.jobs import Job, Outcome
from utils.asking.runs import Summary, run_jobs
from utils.plumbing.config import JudgePrompt, JudgeSettings, ModelConfig
from utils.plumbing.names import diagnostics_file, judgment_file
from utils.vocabulary.provenance import stale_reasons, turns_digest
from utils.vocabulary.records import (Answer, Game, Judgment, Question, judgment_provenance, judgment_rank,
                                      missing_games, record_uid, rejudged)
from utils.plumbing.store import JsonlStore, closed_on_error

# ---------------------------------------------------------------- one judgment


@dataclass
class Pairing:
    """One (judge, model, question) to judge, with everything the two games need."""
    question: Question
    answer: Answer
    baseline: Answer
    reference: Answer | None
    prompt: JudgePrompt
    stored: dict | None = None  # an earlier run's judgment that lacks a game: only that game is played
    prompt_hash: str = ""  # judge_prompts.prompt_hash of ``prompt``, recorded in the judgment
    rejudged: int = 0  # > 0: it replaces a stale judgment (utils/plumbing/store.py keeps the higher count)

    @property
    def uid(self) -> str:
        return self.question.uid

    def fields(self, game: int) -> dict[str, str]:
        """The template fields of game ``game`` (0 or 1): game 1 shows the baseline as A, game 2 the model."""
        first, second = (self.baseline, self.answer) if game == 0 else (self.answer, self.baseline)
        return prompt_fields(self.question, first, second, self.reference)

    def games_to_play(self) -> list[int]:
        return [0, 1] if self.stored is None else missing_games(self.stored)

    def record(self, judgment: Judgment) -> dict:
        """What to store: the new judgment, or the stored one with the games just played filled in."""
        if self.stored is None:
            return judgment.to_json()
        games = list(self.stored["games"]) + [None] * (2 - len(self.stored["games"]))
        for g, game in enumerate(judgment.games):
            if game is not None:
                games[g] = game.to_json()
        return {**self.stored, "games": games}


async def play_game(client: ModelClient, settings: JudgeSettings, prompt: JudgePrompt, fields: dict) -> Game:
    messages = render_game(prompt, fields, settings.structured)
    formats = RESPONSE_FORMATS if settings.structured else ()
    texts: list[str] = []
    thoughts: list[str] = []
    usage: dict[str, int] = {}
    replies: list[Reply] = []
    label = None
    reply = None
    for attempt in range(1, settings.attempts + 1):
        reply = await client.chat(messages, temperature=settings.temperature, max_tokens=settings.max_tokens,
                                  response_formats=formats)
        texts.append(reply.text)
        thoughts.append(reply.reasoning)
        add_usage(usage, reply.usage)
        replies.append(reply)
        # from the answers alone, even under reasoning_policy keep: a judge's reasoning may quote labels
        label, distinct = extract_label("\n\n".join(split_reasoning(t)[0] for t in texts), prompt.regex_patterns)
        if distinct or attempt == settings.attempts:
            break
        messages = [*messages, {"role": "assistant", "content": reply.text},
                    {"role": "user", "content": FINISH_REQUEST}]
    user_prompt = next(m["content"] for m in messages if m["role"] == "user")
    return Game(user_prompt=user_prompt, judgment="\n\n".join(texts), label=label, usage=usage, attempts=len(texts),
                reasoning="\n\n".join(t for t in thoughts if t),
                repaired=mended(replies), batch=all(r.batch for r in replies),
                served_model=reply.served_model, system_fingerprint=reply.system_fingerprint)


async def judge_pairing(client: ModelClient, judge: str, settings: JudgeSettings,
                        pairing: Pairing) -> tuple[Judgment, dict[int, BaseException]]:
    """The games a pairing still needs, sent together: game 1 baseline first, game 2 the model first.

    Returns the judgment, with None for each game not played, and the error of
    each game that failed: one game failing does not throw the other away. Nor
    does the run being stopped (cancelled) while a game is in flight: the game
    already played comes back, and the stop as the error of the game cut off,
    which the runner raises once the judgment is stored.
    """
    wanted = pairing.games_to_play()
    playing = [asyncio.ensure_future(as_part(game_part(g), play_game(client, settings, pairing.prompt,
                                                                     pairing.fields(g)))) for g in wanted]
    stop = None
    try:
        await asyncio.gather(*playing, return_exceptions=True)
    except asyncio.CancelledError as err:  # gather cancelled the games in flight and waited for them to end
        stop = err
    games: list[Game | None] = [None, None]
    errors: dict[int, BaseException] = {}
    for g, task in zip(wanted, playing):
        if task.cancelled():
            errors[g] = stop or asyncio.CancelledError()
        elif task.exception() is not None:
            errors[g] = task.exception()
        else:
            games[g] = task.result()
    judgment = Judgment(uid=pairing.uid, model=pairing.answer.model, judge=judge, games=games,
                        baseline=pairing.baseline.model, category=pairing.question.category,
                        provenance=provenance(pairing, client, settings), rejudged=pairing.rejudged)
    return judgment, errors


def provenance(pairing: Pairing, client: ModelClient, settings: JudgeSettings) -> dict:
    """What a judgment records of what it judged and how (docs/design.md#provenance)."""
    cfg = client.cfg
    return {**_current(pairing.answer, pairing.baseline, pairing.reference, pairing.prompt_hash),
            "judge": {"entry": cfg.name, "model_name": cfg.model_name,
                      **sent_settings(client.cfg, settings.temperature, settings.max_tokens)}}


def _current(answer: Answer, baseline: Answer, reference: Answer | None, hashed: str) -> dict:
    """What a judgment of these answers with this prompt records of them (utils/vocabulary/provenance.py compares
    it): each answer's id as a label, and the digest of the reply turns the judge is shown, which decides."""
    keys = {"ans_id": answer.ans_id or None, "answer_digest": _digest(answer),
            "baseline_ans_id": baseline.ans_id or None, "baseline_digest": _digest(baseline)}
    if reference is not None:
        keys.update(reference_ans_id=reference.ans_id or None, reference_digest=_digest(reference))
    return {**keys, "prompt_hash": hashed}


def _digest(answer: Answer) -> str | None:
    """The digest of the turns prompt_fields shows the judge (reasoning is kept apart and never shown); None
    without turns, as show_result and check_answers hash only answers that have text."""
    return turns_digest(answer.turns) if answer.turns else None


# ---------------------------------------------------------------- the run


def plan(settings: JudgeSettings, questions: list[Question], answers: dict[str, dict[str, Answer]],
         data_dir: Path, *, keep_stale: bool = False, read_only: bool = False) -> list[Job]:
    """Lock every output file and list what is still to judge; all before the first request.

    A question whose baseline has no answer (or whose baseline is the model
    itself) is counted, not judged: the rest of the run goes ahead. A stored
    judgment whose answers or judge prompt changed since is stale: it is
    judged again, unless ``keep_stale``. Each job's ``checks``
    (judge_checks.PlanChecks) says what was found: stale judgments, answers
    failing a check and the questions not judged for it. ``read_only`` (a dry
    run) loads the files without locking or touching them.
    """
    jobs: list[Job] = []
    template_check = TemplateCheck(settings.path)
    scope = frozenset(q.uid for q in questions)
    with closed_on_error([]) as opened:
        for judge in settings.judge_models:
            for model in settings.model_list:
                store = JsonlStore(judgment_file(data_dir, settings.bench_name, judge, model), key=record_uid,
                                   rank=judgment_rank)
                store = store.read() if read_only else store.open()
                opened.append(store)
                job = Job(model=model, store=store, todo=[], done_before=0, judge=judge, held=dict(store.records),
                          checks=PlanChecks(kept_stale=keep_stale), scope=scope, structured=settings.structured)
                _plan_job(job, settings, questions, answers, template_check)
                jobs.append(job)
    return jobs


def expect_outputs(jobs: list[Job], judges: dict[str, ModelConfig], settings: JudgeSettings) -> list[Job]:
    """Set each job's expected completion tokens per game from its judge's games in all the run's files."""
    for judge, cfg in judges.items():
        mine = [job for job in jobs if job.judge == judge]
        earlier = tally_judgments(r for job in mine for r in job.held.values())
        guess = expected_output(earlier, cfg.max_tokens or settings.max_tokens, "judgment")
        for job in mine:
            job.output_guess = guess
    return jobs


def _plan_job(job: Job, settings: JudgeSettings, questions: list[Question], answers: dict[str, dict[str, Answer]],
              template_check: TemplateCheck) -> None:
    """Sort a judgment file's questions: already judged, left out (and why), or to judge (``job.todo``)."""
    reference = answers.get(settings.ref_model, {}) if settings.ref_model else {}
    mine = answers.get(job.model, {})
    left_out = job.left_out
    checks: PlanChecks = job.checks
    for q in questions:
        prompt = settings.prompt_for(q.category)
        baseline = prompt.baseline_model
        hashed = prompt_hash(prompt, settings.structured)
        issues = checks.check_answer(q, mine[q.uid]) if job.model != baseline and q.uid in mine else []
        stored = job.store.records.get(q.uid)
        replaces = None
        if stored is not None and job.model != baseline:
            replaces = _stale(stored, checks, q, mine, answers.get(baseline, {}), reference, hashed)
            if replaces is not None and not checks.kept_stale:
                stored = None  # judged again below; the new record replaces it in the store (``judgment_rank``)
            else:
                replaces = None
        if stored is not None and not _completable(stored, baseline):
            job.done_before += 1
        elif job.model == baseline:
            left_out.own_baseline += 1
        elif q.uid not in mine:
            left_out.no_answer += 1
        elif q.uid not in answers.get(baseline, {}):
            left_out.no_baseline[baseline] = left_out.no_baseline.get(baseline, 0) + 1
        elif settings.ref_model and q.uid not in reference:
            left_out.no_reference += 1
        elif checks.blocked(q, issues, answers[baseline][q.uid], settings.answer_checks):
            pass  # counted in ``checks``
        else:
            pairing = Pairing(question=q, answer=mine[q.uid], baseline=answers[baseline][q.uid],
                              reference=reference.get(q.uid), prompt=prompt, stored=stored, prompt_hash=hashed,
                              rejudged=rejudged(replaces) + 1 if replaces is not None else 0)
            template_check.check(prompt, q, pairing.baseline, pairing.answer, pairing.reference)
            job.todo.append(pairing)


def _stale(stored: dict, checks: PlanChecks, q: Question, mine: dict[str, Answer], theirs: dict[str, Answer],
           reference: dict[str, Answer], hashed: str) -> dict | None:
    """``stored`` when it is stale (counted in ``checks``, with its reasons), else None.

    Only what can be compared counts: an answer missing now, or a record
    without provenance (counted as unknown), makes nothing stale.
    """
    if judgment_provenance(stored) is None:
        checks.unknown += 1
        return None
    if q.uid not in mine or q.uid not in theirs:
        return None
    reasons = stale_keys(stored, mine[q.uid], theirs[q.uid], reference.get(q.uid), hashed)
    if not reasons:
        return None
    checks.add_stale(q.uid, reasons)
    return stored


def stale_keys(record: dict, answer: Answer, baseline: Answer, reference: Answer | None,
               hashed: str) -> list[str] | None:
    """Why a stored judgment no longer judges these answers with this prompt (utils/provenance.STALE_REASONS
    keys; [] when it still does, None when its record cannot tell)."""
    return stale_reasons(judgment_provenance(record), _current(answer, baseline, reference, hashed))


def is_stale(record: dict, answer: Answer, baseline: Answer, reference: Answer | None, hashed: str) -> bool:
    return bool(stale_keys(record, answer, baseline, reference, hashed))


def stored_records(path: Path) -> dict[str, dict]:
    """A judgment file's records as a run loads them, read without taking its lock or repairing the file."""
    return JsonlStore(path, key=record_uid, rank=judgment_rank).read().records


def _completable(stored: dict, baseline: str) -> bool:
    """Whether a stored judgment lacks a game we can play now (against the same baseline)."""
    return bool(missing_games(stored)) and stored.get("baseline", baseline) in (baseline, "", None)


async def _ask_judgment(settings: JudgeSettings, client: ModelClient, job: Job, pairing: Pairing) -> Outcome:
    """Play the games a pairing still needs; what they give is stored even when one of them failed."""
    judgment, errors = await judge_pairing(client, job.asks, settings, pairing)
    outcome = Outcome(error=_game_error(errors))
    played = [g for g in judgment.games if g is not None]
    if played:  # paid for: stored even when the other game failed, which a rerun then plays alone
        outcome.record = pairing.record(judgment)
        outcome.whole = not missing_games(outcome.record)
        outcome.completes = pairing.stored is not None
        outcome.unlabeled, outcome.games = sum(g.label is None for g in played), len(played)
    return outcome


def _game_error(errors: dict[int, BaseException]) -> BaseException | None:
    """The one error to report for a pairing's failed games: a bug's as it is, else which game failed and why."""
    for err in errors.values():
        if not isinstance(err, RequestFailed):
            return err
    if not errors:
        return None
    # a game that failed for good is reported before one still waiting in a batch, which a later run collects
    g, err = min(errors.items(), key=lambda pair: isinstance(pair[1], BatchPending))
    if len(errors) == 2 and len({type(e) for e in errors.values()}) == 1:
        return err
    failure = copy.copy(err)  # of the same kind (a BatchPending stays one)
    failure.reason = f"game {g + 1}: {err.reason}"
    return failure


def game_requests(settings: JudgeSettings, pairing: Pairing) -> list[list[dict]]:
    """The messages of the first request of each game a pairing still needs (a re-ask is not known before)."""
    return [render_game(pairing.prompt, pairing.fields(g), settings.structured) for g in pairing.games_to_play()]


def estimate_judgments(settings: JudgeSettings, judges: dict[str, ModelConfig], questions: list[Question],
                       answers: dict[str, dict[str, Answer]], data_dir: Path, notes: list[str], *,
                       stale: str = "rejudge", allow_mismatch: bool = False, max_cost: float | None = None,
                       plan_notes: Callable[[list[Job]], list[str]] | None = None,
                       assumed: dict[str, str] | None = None) -> DryRun:
    """--dry-run: the games still to play (stale judgments again unless ``stale`` is keep; mismatched answers
    never), their requests, tokens and cost; nothing sent or written. ``plan_notes`` adds what the run would
    say of its plan (the baselines some questions wait for); ``assumed`` (model -> what) marks the items of
    models whose answers stand in (judge_inputs.JudgingInputs.assumed)."""
    jobs = expect_outputs(plan(settings, questions, answers, data_dir, keep_stale=stale == "keep", read_only=True),
                          judges, settings)
    notes = [*notes, *(plan_notes(jobs) if plan_notes else []),
             "a judge asked again for a missing label (up to number_of_judgment_attempts) makes more requests, not "
             "counted here"]
    if settings.structured:
        notes.append("structured_verdicts: the response_format schema sent with each request is not counted")
    counts = [plan_counts(job) for job in jobs]
    if not allow_mismatch and any(c["mismatched"] for c in counts):
        notes.append("answers made for another question are listed as mismatched: the run would stop before any "
                     "request (--allow-mismatch judges the others)")
    if stale == "fail" and any(c["stale"] for c in counts):
        notes.append("--stale fail: the run would stop before any request, listing the stale judgments")
    result = dry_run(jobs, judges, functools.partial(game_requests, settings), notes, max_cost, checks_of=plan_counts)
    for item in result.items:
        item.assumed = (assumed or {}).get(item.model)
    return result


def generate_judgments(settings: JudgeSettings, judges: dict[str, ModelConfig], questions: list[Question],
                       answers: dict[str, dict[str, Answer]], data_dir: Path, *, stale: str = "rejudge",
                       allow_mismatch: bool = False, max_cost: float | None = None, spent: float = 0.0,
                       batch: BatchOptions | None = None) -> Summary:
    """Judge every missing (judge, model, question); store judgments, each judge's diagnostics and each file's
    cost (utils.asking.accounts).

    What planning found (stale judgments, answers failing checks) is printed
    first; ``stale`` (--stale) and ``allow_mismatch`` (--allow-mismatch)
    decide whether the run stops there, before any request (judge_checks.check_plan).
    ``max_cost``, ``spent`` and ``batch``: run_jobs'.
    """
    jobs = expect_outputs(plan(settings, questions, answers, data_dir, keep_stale=stale == "keep"), judges, settings)
    with closed_on_error([job.store for job in jobs]):
        for line in plan_report(jobs, stale):
            print(line)
        check_plan(jobs, stale, allow_mismatch, data_dir, settings.bench_name)
    summary = run_jobs(jobs, judges, functools.partial(_ask_judgment, settings), unit="judgment",
                       order=[q.uid for q in questions], max_cost=max_cost, spent=spent, batch=batch)
    summary.diagnostics = record_diagnostics(jobs, data_dir, settings.bench_name)
    summary.more_files = [diagnostics_file(data_dir, settings.bench_name, judge) for judge in summary.diagnostics]
    summary.costs = record_costs(jobs, judges, data_dir, settings.bench_name)
    return summary
