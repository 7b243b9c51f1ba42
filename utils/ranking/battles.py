"""Judgment records -> battles (v0.1) and outcome rows (v2.0); the battles file; the answers' features per battle.

A battle is one counted comparison of the baseline (model_a) with a model
(model_b) on a question, won by model_a, model_b or tied
(docs/design.md#battles). Game 1 has the baseline as assistant A; game 2 is
swapped, so its label is mirrored. A strong verdict (``>>``) counts ``weight``
times, a missing or invalid verdict not at all. Arena-Hard v2.0 reads the same
records as outcome rows instead (docs/design.md#rating-v2).

Both are derived from the columns of utils/ranking/judgments.py, which parsed
each judgment line once; they are kept in columns too (numpy arrays), a
battle repeated by a strong verdict being one row with a count. The order of
rows and of model and question numbers is that of the records in the files,
which the bootstrap's draws depend on.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from utils.plumbing.errors import InputError
from utils.plumbing.jsonl import iter_jsonl, json_object
from utils.ranking.answer_info import AnswerInfo, answer_feature_table, battle_meta_features, missing_features
from utils.ranking.judgments import LABEL_CODES, JudgmentRecords
from utils.vocabulary.verdicts import TARGET, WINNER_CODES, WINNER_NAMES, label_verdict

# per game (0, 1) and label code: the winner (game 2 un-swapped), whether the label is strong, the model's share
_WINNER = np.array([[label_verdict(g, label)[0] for label in LABEL_CODES] for g in (0, 1)], np.int64)
_STRONG = np.array([[label_verdict(g, label)[1] for label in LABEL_CODES] for g in (0, 1)], bool)
_SHARE = 1.0 - np.take(TARGET, _WINNER)  # TARGET is the baseline's (model_a's) share


@dataclass
class Battles:
    """Battles in columns; row i stands for ``count[i]`` identical counted battles."""
    models: list[str]
    questions: list[str]
    model_a: np.ndarray
    model_b: np.ndarray
    winner: np.ndarray
    question: np.ndarray
    count: np.ndarray
    sources: list[str] = field(default_factory=list)  # files they were read from, for messages
    # model -> its judgment records read (selected, not left out), with or without a verdict; empty when the
    # battles come from a battles file. A model here but not in ``models`` had no verdict at all.
    judged: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.count)

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def only_questions(self, keep: set[str]) -> "Battles":
        """The battles on the given question ids."""
        mask = np.array([self.questions[q] in keep for q in self.question.tolist()], bool)
        return Battles(self.models, self.questions, self.model_a[mask], self.model_b[mask], self.winner[mask],
                       self.question[mask], self.count[mask], self.sources, self.judged)


def check_weight(weight: int) -> None:
    if weight < 1:
        raise InputError(f"must be at least 1, got {weight}", key="--weight")


# ---------------------------------------------------------------- Arena-Hard v0.1: battles


def battles_from(records: JudgmentRecords, baseline: str, weight: int = 3, first_game_only: bool = False,
                 keep: np.ndarray | None = None) -> Battles:
    """The battles of the records selected by the mask ``keep`` (None: all).

    The record's own ``baseline`` names model_a when it has one; otherwise
    ``baseline``. Models and questions are numbered in order of their first
    battle: model_a, then model_b, record by record.
    """
    check_weight(weight)
    chosen = np.arange(len(records)) if keep is None else np.flatnonzero(keep)
    names = [*records.names, baseline]  # the run's baseline has the last number, for records that name none
    labels = records.labels[chosen].copy()
    if first_game_only:
        labels[:, 1] = -1
    valid = labels >= 0
    counted = valid.any(1)
    with_verdict = chosen[counted]
    base = records.baseline[with_verdict]
    base = np.where(base >= 0, base, len(names) - 1)
    model_of, models = _first_seen(np.column_stack([base, records.model[with_verdict]]).ravel(), names)
    question_of, questions = _first_seen(records.question[with_verdict], records.questions)
    per_record = valid[counted].sum(1)
    game = np.tile(np.array([0, 1]), len(chosen)).reshape(-1, 2)[valid]
    code = labels[valid]
    return Battles(models, questions, np.repeat(model_of[base], per_record),
                   np.repeat(model_of[records.model[with_verdict]], per_record), _WINNER[game, code],
                   np.repeat(question_of[records.question[with_verdict]], per_record),
                   np.where(_STRONG[game, code], weight, 1).astype(np.int64), records.sources,
                   _judged(records.model[chosen], records.names))


def game_shares(records: JudgmentRecords, weight: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(share, count), each (records, 2): the model's share of each game and the battles it counts as, v0.1's way
    (a game with a label counts, ``weight`` times when strong; one without counts 0 times)."""
    check_weight(weight)
    labels = records.labels
    valid = labels >= 0
    code = np.where(valid, labels, 0)
    games = np.array([0, 1])[None, :]
    count = np.where(valid, np.where(_STRONG[games, code], weight, 1), 0).astype(float)
    return np.where(valid, _SHARE[games, code], 0.0), count


def _first_seen(codes: np.ndarray, names: list[str]) -> tuple[np.ndarray, list[str]]:
    """Renumber ``codes`` (indices into ``names``) in order of first appearance: (old -> new, the names in order)."""
    present, first = np.unique(codes, return_index=True)
    order = present[np.argsort(first, kind="stable")]
    renumber = np.full(len(names) + 1, -1, np.int64)
    renumber[order] = np.arange(len(order))
    return renumber, [names[c] for c in order.tolist()]


def _judged(model: np.ndarray, names: list[str]) -> dict[str, int]:
    """model -> how many of the records it has, in order of first appearance."""
    present, first, counts = np.unique(model, return_index=True, return_counts=True)
    order = np.argsort(first, kind="stable")
    return {names[present[i]]: int(counts[i]) for i in order.tolist()}


@dataclass
class GameVerdicts:
    """One judge's games with a label, in columns: a key naming (model, question, game) and the verdict.

    Keys are numbers over one JudgmentRecords' names and questions, so the
    games of two judges read together line up by key (judge agreement);
    each key is there once.
    """
    key: np.ndarray  # sorted
    winner: np.ndarray
    strong: np.ndarray


def game_verdicts(records: JudgmentRecords, keep: np.ndarray, games_used: int = 2) -> GameVerdicts:
    """The (winner, strong) of every game with a label of the records ``keep`` selects, keyed by model, question
    and game; game 2 un-swapped, so both games speak of the baseline and the model alike (judge agreement)."""
    chosen = np.flatnonzero(keep)
    codes = records.labels[chosen, :games_used]
    has = codes >= 0
    rows, game = np.nonzero(has)  # record by record, game 1 before game 2: the order the games were read in
    code = codes[rows, game]
    record = chosen[rows]
    key = (records.model[record] * max(1, len(records.questions)) + records.question[record]) * 2 + game
    # a key read twice (a judge named twice) keeps its last game, as a dict filled in reading order would
    key, last = np.unique(key[::-1], return_index=True)
    take = len(code) - 1 - last
    return GameVerdicts(key, _WINNER[game[take], code[take]], _STRONG[game[take], code[take]])


def battle_features(battles: Battles, answers: dict[str, AnswerInfo | None], from_battles: dict,
                    data_dir, bench: str) -> tuple[np.ndarray, np.ndarray]:
    """Raw style features of model_a's and model_b's answers for every battle row.

    Raises an InputError naming the answer file and question when a feature
    is missing: style control cannot be done without them.
    """
    table = answer_feature_table(battles.models, battles.questions, answers, from_battles)
    fa, fb = table[battles.model_a, battles.question], table[battles.model_b, battles.question]
    bad = np.isnan(fa).any(1) | np.isnan(fb).any(1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        m = battles.model_a[i] if np.isnan(fa[i]).any() else battles.model_b[i]
        raise missing_features(battles.models[m], battles.questions[battles.question[i]], answers, data_dir, bench)
    return fa, fb


# ---------------------------------------------------------------- the battles file


def battles_text(battles: Battles) -> bytes:
    """The battles file's content: one JSON line per counted battle (a strong verdict repeats)."""
    # each question id is JSON-encoded once, and so is the rest of a line for each of the few (model_a, model_b,
    # winner) there are; a line is then two pieces joined
    qids = [b'{"question_id":' + orjson.dumps(q) for q in battles.questions]
    models, outcomes = len(battles.models), len(WINNER_NAMES)
    kinds, kind = np.unique((battles.model_a.astype(np.int64) * models + battles.model_b) * outcomes + battles.winner,
                            return_inverse=True)
    rests = []
    for k in kinds.tolist():
        pair, w = divmod(k, outcomes)
        a, b = divmod(pair, models)
        rests.append(b',"model_a":' + orjson.dumps(battles.models[a]) + b',"model_b":' + orjson.dumps(battles.models[b])
                     + b',"winner":' + orjson.dumps(WINNER_NAMES[w]) + b"}")
    lines = []
    add = lines.append
    for q, k, c in zip(battles.question.tolist(), kind.reshape(-1).tolist(), battles.count.tolist()):
        if c == 1:
            add(qids[q] + rests[k])
        else:
            lines.extend([qids[q] + rests[k]] * c)
    return b"\n".join(lines) + (b"\n" if lines else b"")


def load_battles(path: Path) -> tuple[Battles, dict]:
    """Battles from a battles file (ours or the original tool's), identical rows merged.

    Returns the battles and any style features the file carries (the original
    writes ``conv_metadata`` per row under --style-control), keyed
    ``(model, question_id)``.
    """
    if not path.is_file():
        raise InputError("battles file not found (run once without --load-battles to create it)", path)
    out = _Builder()
    merged: dict[tuple, int] = {}
    counts: list[int] = []
    style: dict[tuple[str, str], tuple] = {}
    for line, rec in iter_jsonl(path):
        json_object(rec, path, line)
        for key in ("model_a", "model_b", "winner"):
            if not isinstance(rec.get(key), str):
                raise InputError("missing or not a string", path, line, key)
        qid = rec.get("question_id", rec.get("uid"))
        if not isinstance(qid, (str, int)):
            raise InputError("missing question id", path, line, "question_id")
        winner = WINNER_CODES.get(rec["winner"])
        if winner is None:
            raise InputError(f"expected model_a, model_b or tie, got {rec['winner']!r}", path, line, "winner")
        key = (out.model(rec["model_a"]), out.model(rec["model_b"]), winner, out.question(str(qid)))
        if key in merged:
            counts[merged[key]] += 1
        else:
            merged[key] = len(counts)
            counts.append(1)
        meta = rec.get("conv_metadata")
        if isinstance(meta, dict):
            for side, model in (("a", rec["model_a"]), ("b", rec["model_b"])):
                feats = battle_meta_features(meta, side)
                if feats is not None:
                    style[(model, str(qid))] = feats
    for (a, b, w, q), i in merged.items():
        out.add(a, b, w, q, counts[i])
    return out.build([str(path)]), style


class _Builder:
    """Collects the battles of a battles file row by row, interning model and question names."""

    def __init__(self):
        self.models: dict[str, int] = {}
        self.questions: dict[str, int] = {}
        self.cols: tuple[list, ...] = ([], [], [], [], [])

    def model(self, name: str) -> int:
        return self.models.setdefault(name, len(self.models))

    def question(self, qid: str) -> int:
        return self.questions.setdefault(qid, len(self.questions))

    def add(self, a: int, b: int, winner: int, q: int, count: int) -> None:
        for col, value in zip(self.cols, (a, b, winner, q, count)):
            col.append(value)

    def build(self, sources: list[str]) -> Battles:
        a, b, w, q, c = (np.asarray(col, dtype=np.int64) for col in self.cols)
        return Battles(list(self.models), list(self.questions), a, b, w, q, c, sources)


# ---------------------------------------------------------------- Arena-Hard v2.0: outcome rows


@dataclass
class OutcomeRows:
    """Judgment rows read the v2.0 way: one entry per (judge's) row, both games from the model's side.

    ``score[i, g]`` is the model's share of game g (1 win, 0.5 tie, 0 loss),
    ``count[i, g]`` how many units it counts for (``weight`` for a strong
    verdict); a row with a null game or a game without an accepted label has
    count 0 in both games (it is dropped whole). ``category`` is the row's own,
    or its question's when the row has none; ``baseline`` is -1 when the row
    names none (2024 layout).
    """
    models: list[str]
    questions: list[str]
    categories: list[str]
    sources: list[str]  # the files, for messages
    model: np.ndarray  # (n,) index into models
    question: np.ndarray  # (n,) index into questions
    category: np.ndarray  # (n,) index into categories
    baseline: np.ndarray  # (n,) index into models, or -1
    source: np.ndarray  # (n,) index into sources
    score: np.ndarray  # (n, 2)
    count: np.ndarray  # (n, 2)

    def __len__(self) -> int:
        return len(self.model)

    @property
    def complete(self) -> np.ndarray:
        """Rows whose two games both have an accepted label."""
        return self.count.sum(1) > 0

    def only(self, mask: np.ndarray) -> "OutcomeRows":
        """The rows ``mask`` selects (e.g. one judge's), names and numbering kept."""
        return OutcomeRows(self.models, self.questions, self.categories, self.sources, self.model[mask],
                           self.question[mask], self.category[mask], self.baseline[mask], self.source[mask],
                           self.score[mask], self.count[mask])


def outcome_rows(records: JudgmentRecords, weight: int = 3, category_of: dict[str, str] | None = None
                 ) -> OutcomeRows:
    """Every counted record as a v2.0 outcome row.

    ``category_of`` maps question ids to the question file's category, for
    rows that carry none. Models are numbered in record order, then the
    baselines only the records name; questions and categories in record order.
    """
    check_weight(weight)
    category_of = category_of or {}
    model_of, models = _first_seen(records.model, records.names)
    named = records.baseline[records.baseline >= 0]
    others = named[model_of[named] < 0]  # baselines that are no record's model: numbered after the models
    if len(others):
        extra_of, extra = _first_seen(others, records.names)
        model_of = np.where(model_of >= 0, model_of, np.where(extra_of >= 0, extra_of + len(models), -1))
        models = models + extra
    question_of, questions = _first_seen(records.question, records.questions)
    uids = [records.questions[q] for q in records.question.tolist()]
    category_names: dict[str, int] = {}
    category = _intern([c or category_of.get(q, "") for c, q in
                        zip([records.categories[c] for c in records.category.tolist()], uids)], category_names)
    labels = records.labels
    complete = (labels >= 0).all(1)
    code = np.where(labels >= 0, labels, 0)
    games = np.array([0, 1])[None, :]
    score = np.where(complete[:, None], _SHARE[games, code], 0.0)
    count = np.where(complete[:, None], np.where(_STRONG[games, code], weight, 1), 0).astype(float)
    base = np.where(records.baseline >= 0, model_of[records.baseline], -1)
    return OutcomeRows(models, questions, list(category_names), records.sources, model_of[records.model],
                       question_of[records.question], category, base, records.source.copy(), score, count)


def _intern(values: list[str], names: dict[str, int]) -> np.ndarray:
    """Each value's number in ``names`` (new values are added in order of appearance)."""
    return np.array([names.setdefault(v, len(names)) for v in values], np.int64)
