"""Has the judge changed under the same name? Re-ask a sample of stored games and compare the labels.

``gen_judgment.py --drift-check N`` draws N stored games per judge (a fixed
seed, so the same files give the same sample), plays each again exactly as
it was played (same question, answers, order and prompt), and reports per
judge the share whose label changed, and the served model ids and system
fingerprints seen before and now when they differ. Nothing is stored: the
originals stay as they are. A judge at temperature 0 that changes many
labels, or reports another model id or fingerprint, is not the judge the
stored verdicts came from. Only games whose judgment still judges the
current answers and prompt are drawn (a stale one compares other texts).
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from pathlib import Path

from utils.asking.clients import ModelClient
from utils.asking.judge_prompts import prompt_hash
from utils.asking.judging import Pairing, is_stale, play_game, stored_records
from utils.asking.progress import Progress
from utils.asking.providers.base import RequestFailed
from utils.plumbing.config import JudgeSettings, ModelConfig
from utils.plumbing.names import judgment_file
from utils.vocabulary.records import Answer, Question
from utils.vocabulary.verdicts import label_verdict

DRIFT_SEED = 20240501  # any fixed number: the sample is the same on every run over the same files
SHOWN_CHANGES = 10


@dataclass
class StoredGame:
    """One stored game to play again: its pairing, which game (0 or 1), and what the judge said then."""
    pairing: Pairing
    game: int
    label: str | None
    served_model: str
    system_fingerprint: str


@dataclass
class Drift:
    """One judge's drift check."""
    judge: str
    drawn: int = 0  # games drawn (of ``available``)
    available: int = 0
    changed: list[tuple[str, str, int, str | None, str | None]] = field(default_factory=list)  # model, uid, game, then, now
    failed: int = 0  # games whose request failed: not compared
    failure: str = ""  # why the first of them failed
    served_then: set[str] = field(default_factory=set)
    served_now: set[str] = field(default_factory=set)
    fingerprints_then: set[str] = field(default_factory=set)
    fingerprints_now: set[str] = field(default_factory=set)
    # (model, question id, game) -> (the stored label, the label now), for each game compared: what a caller
    # comparing several checks of the same sample (utils/bundles/rejudge.py) lines up
    labels: dict[tuple[str, str, int], tuple[str | None, str | None]] = field(default_factory=dict)

    @property
    def compared(self) -> int:
        return self.drawn - self.failed

    @property
    def changed_share(self) -> float | None:
        return len(self.changed) / self.compared if self.compared else None


def stored_games(settings: JudgeSettings, judge: str, questions: list[Question],
                 answers: dict[str, dict[str, Answer]], data_dir: Path) -> list[StoredGame]:
    """Every played game of ``judge``'s files for the settings' models that can be played again as it was."""
    reference = answers.get(settings.ref_model, {}) if settings.ref_model else {}
    out = []
    for model in settings.model_list:
        records = stored_records(judgment_file(data_dir, settings.bench_name, judge, model))
        mine = answers.get(model, {})
        for q in questions:
            record = records.get(q.uid)
            prompt = settings.prompt_for(q.category)
            theirs = answers.get(prompt.baseline_model, {})
            if record is None or q.uid not in mine or q.uid not in theirs or record.get("baseline") not in (
                    prompt.baseline_model, "", None) or (settings.ref_model and q.uid not in reference):
                continue
            hashed = prompt_hash(prompt, settings.structured)
            if is_stale(record, mine[q.uid], theirs[q.uid], reference.get(q.uid), hashed):
                continue
            pairing = Pairing(question=q, answer=mine[q.uid], baseline=theirs[q.uid], reference=reference.get(q.uid),
                              prompt=prompt, prompt_hash=hashed)
            for g, game in enumerate((record.get("games") or [])[:2]):
                if isinstance(game, dict):
                    out.append(StoredGame(pairing, g, game.get("score") if isinstance(game.get("score"), str) else
                                          None, str(game.get("served_model") or ""),
                                          str(game.get("system_fingerprint") or "")))
    return out


def drift_check(settings: JudgeSettings, judges: dict[str, ModelConfig], questions: list[Question],
                answers: dict[str, dict[str, Answer]], data_dir: Path, n: int) -> list[Drift]:
    """Play ``n`` stored games of each judge again (drawn with ``DRIFT_SEED``); nothing is stored."""
    drawn: dict[str, list[StoredGame]] = {}
    results = {}
    for judge in settings.judge_models:
        games = stored_games(settings, judge, questions, answers, data_dir)
        drawn[judge] = random.Random(DRIFT_SEED).sample(games, min(n, len(games)))
        results[judge] = Drift(judge=judge, drawn=len(drawn[judge]), available=len(games))
    asyncio.run(_play_again(settings, judges, drawn, results))
    return list(results.values())


async def _play_again(settings: JudgeSettings, judges: dict[str, ModelConfig], drawn: dict[str, list[StoredGame]],
                      results: dict[str, Drift]) -> None:
    clients = {judge: ModelClient(judges[judge]) for judge in drawn}
    progress = Progress([(f"drift check {judge}", len(games)) for judge, games in drawn.items()], "game")

    async def one(index: int, judge: str, stored: StoredGame) -> None:
        p = stored.pairing
        result = results[judge]
        try:
            game = await play_game(clients[judge], settings, p.prompt, p.fields(stored.game))
        except RequestFailed as err:
            result.failed += 1
            result.failure = result.failure or err.reason
            progress.say(f"failed: drift check {judge}, model {p.answer.model}, question {p.uid}: {err.reason}")
            progress.advance(index, failed=True)
            return
        result.labels[(p.answer.model, p.uid, stored.game)] = (stored.label, game.label)
        # the same verdict in another spelling (A<B for B>A) is no change
        if label_verdict(stored.game, stored.label) != label_verdict(stored.game, game.label):
            result.changed.append((p.answer.model, p.uid, stored.game, stored.label, game.label))
        for seen, value in ((result.served_then, stored.served_model), (result.served_now, game.served_model),
                            (result.fingerprints_then, stored.system_fingerprint),
                            (result.fingerprints_now, game.system_fingerprint)):
            if value:
                seen.add(value)
        progress.advance(index)

    try:
        await asyncio.gather(*(one(i, judge, stored) for i, (judge, games) in enumerate(drawn.items())
                               for stored in games))
    finally:
        progress.close()
        for client in clients.values():
            await client.aclose()


def drift_lines(results: list[Drift]) -> list[str]:
    """The report: per judge, the share of labels changed; served models and fingerprints when they differ."""
    lines = []
    for r in results:
        if not r.drawn:
            lines.append(f"drift check ({r.judge}): no stored game to ask again (judge first, or its judgments "
                         "are stale)")
            continue
        share = "n/a" if r.changed_share is None else f"{100 * r.changed_share:.1f}%"
        lines.append(f"drift check ({r.judge}): {r.drawn} of {r.available} stored games asked again: "
                     f"{len(r.changed)} of {r.compared} labels changed ({share})"
                     + (f", {r.failed} failed (not compared)" if r.failed else ""))
        for what, then, now in (("served model", r.served_then, r.served_now),
                                ("system_fingerprint", r.fingerprints_then, r.fingerprints_now)):
            if then != now:
                lines.append(f"  {what}: stored {', '.join(sorted(then)) or 'none recorded'}; "
                             f"now {', '.join(sorted(now)) or 'none sent'}")
        for model, uid, game, before, after in r.changed[:SHOWN_CHANGES]:
            lines.append(f"  {model} / {uid} game {game + 1}: {before} -> {after}")
        if len(r.changed) > SHOWN_CHANGES:
            lines.append(f"  ... and {len(r.changed) - SHOWN_CHANGES} more")
    return lines
