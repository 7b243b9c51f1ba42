"""Do the pooled judges agree? Each judge's own table, score shifts, Cohen's kappa, self-preference flags.

When show_result pools several judges (docs/design.md#judge-agreement), this
computes, for every table: the scores each judge gives alone and each
model's shift from the pooled score; for every two judges: Cohen's kappa on
the five verdicts and on the direction (baseline better, tie, model better)
over the games both judged; and flags a judge and a model of the same family,
from the ``family:`` of api_config.yaml entries or, without one, from the
name (``NAME_FAMILIES``). ``write_judges_file`` stores the figures beside the
bootstrap results, where ``python -m utils.benchmark_quality`` finds them.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Callable

import numpy as np

from utils.plumbing.errors import InputError
from utils.plumbing.store import atomic_write
from utils.ranking.battles import GameVerdicts
from utils.ranking.comparison import cohen_kappa
from utils.ranking.results import Leaderboard
from utils.vocabulary.verdicts import OUTCOME_WORDS

# A model's family from its name, when its api_config entry gives none: the first pattern matching the start of
# a part of the lower-cased name (``org/model`` has two parts) gives it.
NAME_FAMILIES = (
    (r"openai|chatgpt|gpt|o[134](-|$)|text-davinci", "openai"),
    (r"anthropic|claude", "anthropic"),
    (r"google|gemini|gemma", "google"),
    (r"meta|llama", "meta"),
    (r"qwen|qwq", "qwen"),
    (r"deepseek", "deepseek"),
    (r"mistral|mixtral|codestral|ministral|magistral", "mistral"),
)
_NAME_PATTERNS = tuple((re.compile(p), f) for p, f in NAME_FAMILIES)
# The verdicts in game 1's terms, from the baseline's clear win to the model's: the five categories of kappa
VERDICT_ORDER = tuple(OUTCOME_WORDS)
DIRECTIONS = 3  # kappa on the winner code alone: baseline, model, tie (utils.vocabulary.verdicts)
_VERDICT_INDEX = np.zeros((DIRECTIONS, 2), np.int64)  # [winner, strong] -> its place in VERDICT_ORDER
_VERDICT_INDEX[tuple(np.array(VERDICT_ORDER, np.int64).T)] = np.arange(len(VERDICT_ORDER))
JUDGES_FILE = "judges.json"


@dataclass
class JudgeTable:
    """One table's scores, pooled and by each judge alone (v2: one per category)."""
    category: str | None
    baseline: str
    pooled: dict[str, float]  # model -> score of the pooled table (the baseline left out)
    alone: dict[str, dict[str, float]]  # judge -> model -> the score that judge alone gives

    def shift(self, judge: str, model: str) -> float | None:
        """The model's score under ``judge`` alone minus its pooled score, in points (None: the judge has none)."""
        score = self.alone.get(judge, {}).get(model)
        return None if score is None else score - self.pooled[model]


@dataclass
class Kappa:
    judge_a: str
    judge_b: str
    games: int  # games both judged with an accepted label
    labels: float | None  # Cohen's kappa on the five verdicts (None: undefined)
    direction: float | None  # ... on baseline better / tie / model better


@dataclass
class SelfPreference:
    judge: str
    model: str
    family: str
    is_baseline: bool


@dataclass
class JudgeAgreement:
    judges: list[str]
    tables: list[JudgeTable]
    kappas: list[Kappa]
    families: dict[str, tuple[str, str]]  # name -> (family, "api_config" or "name"), for every judge and model known
    self_preference: list[SelfPreference]
    notes: list[str] = field(default_factory=list)  # e.g. a judge without a counted verdict in a table

    def to_json(self) -> dict:
        return {
            "judges": self.judges,
            "tables": [{"category": t.category, "baseline": t.baseline,
                        "models": {m: {"pooled": p, "scores": {j: t.alone[j][m] for j in self.judges
                                                                if m in t.alone.get(j, {})},
                                       "shifts": {j: t.shift(j, m) for j in self.judges if m in t.alone.get(j, {})}}
                                   for m, p in t.pooled.items()}} for t in self.tables],
            "kappa": [{"judge_a": k.judge_a, "judge_b": k.judge_b, "games": k.games, "labels": k.labels,
                       "direction": k.direction} for k in self.kappas],
            "self_preference": [{"judge": s.judge, "model": s.model, "family": s.family, "baseline": s.is_baseline}
                                for s in self.self_preference],
            "families": {name: {"family": f, "from": source} for name, (f, source) in self.families.items()},
            "notes": self.notes,
        }


# ---------------------------------------------------------------- families


def name_family(name: str) -> str | None:
    """The family a model's name suggests (``NAME_FAMILIES``), or None."""
    for part in name.lower().split("/"):
        for pattern, family in _NAME_PATTERNS:
            if pattern.match(part):
                return family
    return None


def configured_families(path: Path | str, given: bool, warn: Callable[[str], None]) -> dict[str, str]:
    """Entry name -> ``family:`` of an api_config.yaml, lower-cased; entries without one are left out.

    Only the families are wanted, so an entry that does not load (an API key
    variable not set here, say) still gives its ``family`` when that is a
    string. A missing file is an error when ``given`` on the command line, else
    nothing; a file that is not YAML is a warning, and names decide.
    """
    path = Path(path)
    if not path.is_file():
        if given:
            raise InputError("file not found", path, key="--endpoint-file")
        return {}
    from utils.plumbing.config import load_yaml, model_config  # YAML: loaded only when there is a file to read
    try:
        doc = load_yaml(path)
    except InputError as err:
        warn(f"warning: {err}: model families are taken from their names")
        return {}
    if not isinstance(doc.data, dict):
        return {}
    out = {}
    for name, raw in doc.data.items():
        try:
            family = model_config(doc, name).family
        except (InputError, TypeError, ValueError, AttributeError):
            family = raw.get("family") if isinstance(raw, dict) else None
        if isinstance(family, str) and family.strip():
            out[str(name)] = family.strip().lower()
    return out


def family_of(name: str, configured: dict[str, str]) -> tuple[str, str] | None:
    """(family, where it came from: "api_config" or "name"), or None when neither says."""
    if name in configured:
        return configured[name], "api_config"
    family = name_family(name)
    return None if family is None else (family, "name")


# ---------------------------------------------------------------- the figures


def judge_table(pooled: Leaderboard, alone: dict[str, Leaderboard]) -> JudgeTable:
    """A table's pooled scores and each judge's own (``alone``: judge -> its table of the same models)."""
    scored = {r.model: r.score for r in pooled.rows if not r.is_baseline and not r.no_verdicts}
    return JudgeTable(pooled.category, pooled.settings.baseline, scored,
                      {j: {r.model: r.score for r in b.rows if r.model in scored and not r.no_verdicts}
                       for j, b in alone.items()})


def verdict_kappas(verdicts: dict[str, GameVerdicts]) -> list[Kappa]:
    """Cohen's kappa of every two judges over the games both judged.

    ``verdicts`` maps judge -> its games (utils.ranking.battles.game_verdicts),
    game 2 already un-swapped.
    """
    out = []
    for a, b in combinations(list(verdicts), 2):
        va, vb = verdicts[a], verdicts[b]
        _, ia, ib = np.intersect1d(va.key, vb.key, assume_unique=True, return_indices=True)
        out.append(Kappa(a, b, len(ia),
                         cohen_kappa(_VERDICT_INDEX[va.winner[ia], va.strong[ia].astype(np.int64)],
                                     _VERDICT_INDEX[vb.winner[ib], vb.strong[ib].astype(np.int64)],
                                     len(VERDICT_ORDER)),
                         cohen_kappa(va.winner[ia], vb.winner[ib], DIRECTIONS)))
    return out


def self_preference(judges: list[str], boards: list[Leaderboard], families: dict[str, tuple[str, str]]
                    ) -> list[SelfPreference]:
    """Every judge and model of the tables (the baseline included) that share a family."""
    out = []
    models = {r.model: r.is_baseline for b in boards for r in b.rows}
    for judge in judges:
        mine = families.get(judge)
        if mine is None:
            continue
        for model, is_baseline in models.items():
            theirs = families.get(model)
            if model != judge and theirs is not None and theirs[0] == mine[0]:
                out.append(SelfPreference(judge, model, mine[0], is_baseline))
    return out


def judge_agreement(boards: list[Leaderboard], alone: dict[str, list[Leaderboard | None]],
                    verdicts: dict[str, GameVerdicts], configured: dict[str, str]
                    ) -> JudgeAgreement:
    """The figures of pooled ``boards`` (one, or v2 one per category) and of each judge's own tables.

    ``alone`` maps judge -> its table for each of ``boards`` (None where that
    judge has no counted verdict in it); ``verdicts`` judge -> its games
    (``verdict_kappas``); ``configured`` the api_config families.
    """
    judges = list(alone)
    notes = []
    tables = []
    for i, board in enumerate(boards):
        mine = {j: tables_of[i] for j, tables_of in alone.items() if tables_of[i] is not None}
        for j in judges:
            if alone[j][i] is None:
                where = f" in category {board.category}" if board.category is not None else ""
                notes.append(f"judge {j} has no counted verdict{where}")
        tables.append(judge_table(board, mine))
    names = list(dict.fromkeys([*judges, *(r.model for b in boards for r in b.rows)]))
    families = {n: f for n in names if (f := family_of(n, configured)) is not None}
    return JudgeAgreement(judges, tables, verdict_kappas(verdicts), families,
                          self_preference(judges, boards, families), notes)


# ---------------------------------------------------------------- the judges file


def write_judges_file(agreement: JudgeAgreement, path: Path) -> None:
    text = json.dumps(agreement.to_json(), indent=1, ensure_ascii=False, allow_nan=False)
    atomic_write(path, (text + "\n").encode("utf-8"), durable=False)


def read_judges_file(path: Path) -> dict:
    """A judges file as written by ``write_judges_file``; an InputError names the file when it is not one."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"cannot read the judges file ({err})", path) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("judges"), list) or \
            not all(isinstance(doc.get(k), list) for k in ("tables", "kappa", "self_preference")):
        raise InputError("expected an object with judges, tables, kappa and self_preference", path)
    return doc
