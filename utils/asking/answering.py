"""Step 1: ask every listed model to answer every question, and keep each answer safely.

The run is planned before the first request: configs validated, questions
read, every output file locked and its completed answers loaded, so a rerun
only asks for what is missing. Requests run concurrently (up to each model's
``parallel``, utils/asking/runs.py); answers are handed to one writer task
that adds their style metadata (one tokenizer call per batch), appends and
fsyncs them as they arrive, off the event loop, so a killed run loses nothing
that was answered. At the end each file is rewritten once in question order.
"""
from __future__ import annotations

import functools
import time
import uuid
from pathlib import Path

from utils.vocabulary.answer_checks import TRUNCATED_REASONS, is_empty
from utils.asking.accounts import record_costs
from utils.asking.batching import BatchOptions
from utils.asking.clients import ModelClient, add_usage, mended, sent_settings
from utils.asking.cost import expected_output, tally_answers
from utils.asking.dry_run import DryRun, dry_run
from utils.asking.providers.base import Reply
from utils.asking.jobs import Job, Outcome
from utils.asking.runs import Summary, run_jobs
from utils.plumbing.config import AnswerSettings, ModelConfig
from utils.plumbing.names import answer_file
from utils.vocabulary.provenance import text_hash
from utils.vocabulary.records import Answer, Question, record_uid
from utils.plumbing.store import JsonlStore, closed_on_error
from utils.vocabulary.style import benchmark_encoding, style_metadata_many


def plan_answers(settings: AnswerSettings, models: dict[str, ModelConfig], questions: list[Question],
                 data_dir: Path, read_only: bool = False) -> list[Job]:
    """Lock each model's answer file and find the questions it still has to answer.

    All locks are taken before any request, so a second run on the same files
    stops at once with a clear message instead of after paying for answers.
    ``read_only`` (a dry run) loads the files without locking or touching them.
    """
    jobs: list[Job] = []
    scope = frozenset(q.uid for q in questions)
    with closed_on_error([]) as opened:
        for name, cfg in models.items():
            store = JsonlStore(answer_file(data_dir, settings.bench_name, name), key=record_uid)
            store = store.read() if read_only else store.open()
            opened.append(store)
            todo = [q for q in questions if q.uid not in store.records]
            earlier = tally_answers(store.records.values())
            jobs.append(Job(model=name, store=store, todo=todo, done_before=len(questions) - len(todo),
                            held=dict(store.records), scope=scope,
                            output_guess=expected_output(earlier, cfg.max_tokens or settings.max_tokens, "answer")))
    return jobs


def answer_requests(question: Question) -> list[list[dict]]:
    """The messages of each request answering ``question`` sends, as far as they are known before sending.

    A later turn also carries the model's earlier replies, unknown until they
    are written: they stand here as empty assistant messages.
    """
    messages: list[dict] = []
    requests = []
    for turn in question.turns:
        messages = [*messages, {"role": "user", "content": turn}]
        requests.append(messages)
        messages = [*messages, {"role": "assistant", "content": ""}]
    return requests


def estimate_answers(settings: AnswerSettings, models: dict[str, ModelConfig], questions: list[Question],
                     data_dir: Path, max_cost: float | None = None) -> DryRun:
    """--dry-run: the answers still missing, their requests, tokens and cost; nothing sent or written."""
    jobs = plan_answers(settings, models, questions, data_dir, read_only=True)
    notes = []
    later = sum(len(q.turns) - 1 for job in jobs for q in job.todo)
    if later:
        notes.append(f"{later} request(s) are later turns of multi-turn questions: they also send the model's "
                     "earlier replies, which are not written yet and not counted in their input tokens")
    return dry_run(jobs, models, answer_requests, notes, max_cost)


async def answer_question(client: ModelClient, settings: AnswerSettings, question: Question) -> Answer:
    """Ask one question, turn by turn: each later turn sees the model's earlier replies.

    The answer's style ``metadata`` is left to ``answer_records`` (the writer adds it).
    """
    messages: list[dict] = []
    replies: list[str] = []
    reasoning: list[str] = []
    usage: dict[str, int] = {}
    replies_seen: list[Reply] = []
    for turn in question.turns:
        messages.append({"role": "user", "content": turn})
        # the model's own temperature and max_tokens, when its entry sets them, win inside ``chat``
        reply = await client.chat(messages, temperature=settings.temperature, max_tokens=settings.max_tokens)
        messages.append({"role": "assistant", "content": reply.text})  # the answer: no reasoning goes back
        replies.append(reply.text)
        reasoning.append(reply.reasoning)
        add_usage(usage, reply.usage)
        replies_seen.append(reply)
    return Answer(uid=question.uid, model=client.cfg.name, turns=replies, prompts=list(question.turns),
                  ans_id=uuid.uuid4().hex, tstamp=time.time(), usage=usage,
                  reasoning=reasoning if any(reasoning) else [],
                  repaired=mended(replies_seen), batch=all(r.batch for r in replies_seen),
                  generation=generation(client, settings, replies_seen))


def generation(client: ModelClient, settings: AnswerSettings, replies: list[Reply]) -> dict:
    """How an answer was made (docs/design.md#provenance): the entry, what was sent, how the endpoint stopped.

    ``finish_reason`` is the last turn's, unless an earlier turn was cut at the
    token limit: a truncated turn makes the whole answer truncated.
    """
    cfg = client.cfg
    reasons = [r.finish_reason for r in replies]
    cut = [reason for reason in reasons if reason in TRUNCATED_REASONS]
    served = [r.served_model for r in replies if r.served_model]
    return {"entry": cfg.name, "model_name": cfg.model_name,
            **sent_settings(client.cfg, settings.temperature, settings.max_tokens),
            "system_prompt_hash": text_hash(cfg.system_prompt) if cfg.system_prompt else None,
            "finish_reason": (cut or reasons or [""])[-1] or None, "served_model": served[-1] if served else None}


def answer_records(answers: list[Answer], encoding: str) -> list[dict]:
    """The records of a batch of answers, with their style metadata (run in the writer's thread)."""
    for answer, metadata in zip(answers, style_metadata_many([a.turns for a in answers], encoding)):
        answer.metadata = metadata
    return [a.to_json() for a in answers]


def generate_answers(settings: AnswerSettings, models: dict[str, ModelConfig], questions: list[Question],
                     data_dir: Path, max_cost: float | None = None, batch: BatchOptions | None = None) -> Summary:
    """Answer every missing (model, question) pair; files end in question order, one answer per question.

    Each answer file's cost is then recorded (utils.asking.accounts); ``max_cost`` and ``batch``: run_jobs'.
    """
    jobs = plan_answers(settings, models, questions, data_dir)

    async def ask(client: ModelClient, job: Job, question: Question) -> Outcome:
        answer = await answer_question(client, settings, question)
        return Outcome(record=answer, empty=int(is_empty(answer)))

    encoding = settings.style_encoding or benchmark_encoding(settings.bench_name)
    summary = run_jobs(jobs, models, ask, unit="answer", order=[q.uid for q in questions],
                       prepare=functools.partial(answer_records, encoding=encoding), max_cost=max_cost, batch=batch)
    summary.costs = record_costs(jobs, models, data_dir, settings.bench_name)
    return summary
