"""Step 1: ask every listed model to answer every question, and keep each answer safely.

The run is planned before the first request: configs validated, questions
read, every output file locked and its completed answers loaded, so a rerun
only asks for what is missing. Requests run concurrently (up to each model's
``parallel``); answers are handed to one writer task that adds their style
metadata (one tokenizer call per batch), appends and fsyncs them as they
arrive, off the event loop, so a killed run loses nothing that was answered.
At the end each file is rewritten once in question order.
"""
from __future__ import annotations

import asyncio
import functools
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from utils.asking.clients import ModelClient, RequestFailed, add_usage
from utils.asking.runs import Failure, Writer, progress, report_failure, run_and_finish, settled_gc
from utils.config import AnswerSettings, ModelConfig
from utils.names import answer_file
from utils.records import Answer, Question, record_uid
from utils.store import JsonlStore, closed_on_error
from utils.style import benchmark_encoding, style_metadata_many


@dataclass
class ModelPlan:
    config: ModelConfig
    store: JsonlStore
    todo: list[Question]
    done_before: int


@dataclass
class RunSummary:
    answered: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)


def plan_models(settings: AnswerSettings, models: dict[str, ModelConfig], questions: list[Question],
                data_dir: Path) -> list[ModelPlan]:
    """Lock each model's answer file and find the questions it still has to answer.

    All locks are taken before any request, so a second run on the same files
    stops at once with a clear message instead of after paying for answers.
    """
    plans: list[ModelPlan] = []
    with closed_on_error([]) as opened:
        for name, cfg in models.items():
            store = JsonlStore(answer_file(data_dir, settings.bench_name, name), key=record_uid).open()
            opened.append(store)
            todo = [q for q in questions if q.uid not in store.records]
            plans.append(ModelPlan(cfg, store, todo, done_before=len(questions) - len(todo)))
    return plans


async def answer_question(client: ModelClient, cfg: ModelConfig, settings: AnswerSettings, question: Question) -> Answer:
    """Ask one question, turn by turn: each later turn sees the model's earlier replies.

    The answer's style ``metadata`` is left to ``answer_records`` (the writer adds it).
    """
    messages: list[dict] = []
    replies: list[str] = []
    reasoning: list[str] = []
    usage: dict[str, int] = {}
    repaired = 0
    for turn in question.turns:
        messages.append({"role": "user", "content": turn})
        # the model's own temperature and max_tokens, when its entry sets them, win inside ``chat``
        reply = await client.chat(messages, temperature=settings.temperature, max_tokens=settings.max_tokens)
        messages.append({"role": "assistant", "content": reply.text})  # the answer: no reasoning goes back
        replies.append(reply.text)
        reasoning.append(reply.reasoning)
        add_usage(usage, reply.usage)
        repaired += reply.repaired
    return Answer(uid=question.uid, model=cfg.name, turns=replies, prompts=list(question.turns),
                  ans_id=uuid.uuid4().hex, tstamp=time.time(), usage=usage,
                  reasoning=reasoning if any(reasoning) else [],
                  repaired={"lone_surrogates": repaired} if repaired else None)


def answer_records(answers: list[Answer], encoding: str) -> list[dict]:
    """The records of a batch of answers, with their style metadata (run in the writer's thread)."""
    for answer, metadata in zip(answers, style_metadata_many([a.turns for a in answers], encoding)):
        answer.metadata = metadata
    return [a.to_json() for a in answers]


async def _run_model(plan: ModelPlan, client: ModelClient, settings: AnswerSettings, writer: Writer,
                     summary: RunSummary, position: int) -> None:
    cfg = plan.config
    bar = progress(len(plan.todo), cfg.name, position, "answer")

    async def one(question: Question) -> None:
        try:
            answer = await answer_question(client, cfg, settings, question)
        except RequestFailed as err:
            report_failure(summary.failures, Failure(cfg.name, question.uid, err.reason, err.group), bar,
                           f"model {cfg.name}, question {question.uid}")
        else:
            await writer.put(plan.store, answer)
            summary.answered[cfg.name] = summary.answered.get(cfg.name, 0) + 1
        bar.update(1)

    try:
        await asyncio.gather(*(one(q) for q in plan.todo))
    finally:
        bar.close()
        await client.aclose()


async def run_answers(plans: list[ModelPlan], settings: AnswerSettings) -> RunSummary:
    summary = RunSummary(skipped={p.config.name: p.done_before for p in plans})
    clients = [ModelClient(p.config) for p in plans]  # imports the SDKs
    encoding = settings.style_encoding or benchmark_encoding(settings.bench_name)
    with settled_gc():
        async with Writer(prepare=functools.partial(answer_records, encoding=encoding)) as writer:
            await writer.stop_on_failure(asyncio.gather(*(_run_model(p, c, settings, writer, summary, i)
                                                          for i, (p, c) in enumerate(zip(plans, clients)))))
    return summary


def generate_answers(settings: AnswerSettings, models: dict[str, ModelConfig], questions: list[Question],
                     data_dir: Path) -> RunSummary:
    """Answer every missing (model, question) pair; files end in question order, one answer per question."""
    plans = plan_models(settings, models, questions, data_dir)
    return run_and_finish(run_answers(plans, settings), [p.store for p in plans], [q.uid for q in questions])
