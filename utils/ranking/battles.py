"""Judgment files -> battles (v0.1) and outcome rows (v2.0), and the battles file.

A battle is one counted comparison of the baseline (model_a) with a model
(model_b) on a question, won by model_a, model_b or tied
(docs/design.md#battles). Game 1 has the baseline as assistant A; game 2 is
swapped, so its label is mirrored. A strong verdict (``>>``) counts ``weight`` times, a
missing verdict not at all. Arena-Hard v2.0 reads the same records as outcome
rows instead (docs/design.md#rating-v2).

Judgment directories reach half a gigabyte, almost all of it judge text that
the numbers never look at. So this module reads lines with utils.plumbing.jsonl (orjson
first) and keeps only the question id, the model, the baseline and the games'
labels, in columns (numpy arrays) rather than one Python object per battle; a
battle repeated by a strong verdict is one row with a count. A large directory is
parsed by two processes (utils.plumbing.forked.ForkedChild), each taking half of the files.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np
import orjson

from utils.plumbing.errors import InputError
from utils.plumbing.forked import ForkedChild
from utils.plumbing.jsonl import iter_jsonl, json_object
from utils.plumbing.names import judgment_dir, stem_to_name
from utils.ranking.answer_info import EXAMPLE_FILES, battle_meta_features
from utils.plumbing.store import atomic_write
from utils.vocabulary.verdicts import WINNER_CODES, WINNER_NAMES, label_verdict, model_outcome

EXAMPLE_IDS = 3  # question ids a warning about left-out records shows


@dataclass
class Skipped:
    """Judgment records a reader left out, by file: ids the question file lacks, and repeats.

    A repeat is a later record of a (judge, model, question) already read: the
    first one counts, as the judgment store keeps the first record it paid for.
    """
    unknown: dict[str, list[str]] = field(default_factory=dict)  # file -> question ids not in the question file
    repeated: dict[str, list[str]] = field(default_factory=dict)  # file -> question ids read before, in file order

    def add(self, other: "Skipped") -> None:
        """Append the records another reader left out (of files read after this one's)."""
        for mine, theirs in ((self.unknown, other.unknown), (self.repeated, other.repeated)):
            for source, ids in theirs.items():
                mine.setdefault(source, []).extend(ids)

    def warnings(self, question_path) -> list[str]:
        """One warning line per kind of left-out record: how many, in which files, a few of their ids."""
        out = []
        if self.unknown:
            out.append(f"warning: {_tally(self.unknown)} judgment records are of question ids that are not in "
                       f"{question_path}: not counted ({_where(self.unknown)})")
        if self.repeated:
            out.append(f"warning: {_tally(self.repeated)} judgment records repeat a judge, model and question read "
                       f"before: only the first record of each was counted ({_where(self.repeated)})")
        return out


def _tally(by_file: dict[str, list[str]]) -> int:
    return sum(map(len, by_file.values()))


def _where(by_file: dict[str, list[str]]) -> str:
    files = [f"{len(ids)} in {source}" for source, ids in list(by_file.items())[:EXAMPLE_FILES]]
    if len(by_file) > EXAMPLE_FILES:
        files.append(f"{len(by_file) - EXAMPLE_FILES} more files")
    examples = list(dict.fromkeys(q for ids in by_file.values() for q in ids))[:EXAMPLE_IDS]
    return f"{', '.join(files)}; e.g. question {', '.join(examples)}"


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
    skipped: Skipped = field(default_factory=Skipped)

    def __len__(self) -> int:
        return len(self.count)

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def only_questions(self, keep: set[str]) -> "Battles":
        """The battles on the given question ids."""
        mask = np.array([self.questions[q] in keep for q in self.question.tolist()], bool)
        return Battles(self.models, self.questions, self.model_a[mask], self.model_b[mask], self.winner[mask],
                       self.question[mask], self.count[mask], self.sources, self.judged, self.skipped)


class _Builder:
    """Collects battles row by row, interning model and question names.

    Reading judgments it also keeps the questions of each (judge directory,
    model) read, so that a repeated record is left out, how many records each
    model has, and the records left out.
    """

    def __init__(self):
        self.models: dict[str, int] = {}
        self.questions: dict[str, int] = {}
        self.cols: tuple[list, ...] = ([], [], [], [], [])
        self.parts: list[tuple[np.ndarray, ...]] = []  # rows merged from other builders, after ``cols``
        self.seen: dict[tuple[str, str], set[str]] = {}  # (judge directory, model) -> question ids read
        self.judged: dict[str, int] = {}
        self.skipped = Skipped()

    def model(self, name: str) -> int:
        return self.models.setdefault(name, len(self.models))

    def question(self, qid: str) -> int:
        return self.questions.setdefault(qid, len(self.questions))

    def add(self, a: int, b: int, winner: int, q: int, count: int) -> None:
        for col, value in zip(self.cols, (a, b, winner, q, count)):
            col.append(value)

    def portable(self) -> tuple[tuple, set]:
        """What ``merge`` takes (names, rows, what the records were), compact enough to pass between processes,
        and the (judge directory, model) pairs read."""
        return (list(self.models), list(self.questions), *self._arrays(), self.judged, self.skipped), set(self.seen)

    def merge(self, sent: tuple) -> None:
        """Append another builder's rows (the first of its ``portable()``), as if they had been added here in order.

        Only right when it read no (judge directory, model) read here, so that
        none of its records can repeat one of this builder's.
        """
        models, questions, a, b, winner, q, count, judged, skipped = sent
        to_model = np.array([self.model(m) for m in models], np.int64)
        to_question = np.array([self.question(x) for x in questions], np.int64)
        self.parts.append((to_model[a], to_model[b], winner, to_question[q], count))
        for model, n in judged.items():
            self.judged[model] = self.judged.get(model, 0) + n
        self.skipped.add(skipped)

    def _arrays(self) -> list[np.ndarray]:
        own = [np.asarray(col, dtype=np.int64) for col in self.cols]
        return [np.concatenate([col, *(part[i] for part in self.parts)]) for i, col in enumerate(own)]

    def build(self, sources: list[str]) -> Battles:
        a, b, w, q, c = self._arrays()
        return Battles(list(self.models), list(self.questions), a, b, w, q, c, sources, self.judged, self.skipped)


def judgment_files(data_dir, bench: str, judges: list[str]) -> list[Path]:
    files = []
    for judge in judges:
        directory = judgment_dir(data_dir, bench, judge)
        if not directory.is_dir():
            raise InputError(f"no judgments by judge {judge!r}: directory not found", directory, key="--judge-name")
        found = sorted(directory.glob("*.jsonl"))
        if not found:
            raise InputError(f"no judgment files (*.jsonl) for judge {judge!r}", directory, key="--judge-name")
        files.extend(found)
    return files


# ---------------------------------------------------------------- reading judgment records (both methods)


def _counted_records(path: Path, known: frozenset | None, seen: dict[tuple[str, str], set[str]],
                     skipped: Skipped) -> Iterator[tuple[str, str, list, dict]]:
    """(question id, model, games, record) of each record of a judgment file that counts.

    Left out (and listed in ``skipped``): a record of a question id not in
    ``known`` (None: every id counts), and a later record of a (judge
    directory, model, question) already in ``seen``, which collects the
    question ids read. The model is the record's own, else the file's name.
    """
    stem_model = stem_to_name(path.stem)
    source = str(path)
    judge = os.path.dirname(source)
    last_model, done = None, set()  # the question ids read of the model of the last record
    for line, rec in iter_jsonl(path):
        qid = json_object(rec, path, line).get("uid", rec.get("question_id"))
        if not isinstance(qid, (str, int)):
            raise InputError("missing question id", path, line, "uid" if "uid" in rec else "question_id")
        games = rec.get("games")
        if not isinstance(games, list):
            raise InputError("expected a list of games", path, line, "games")
        qid = str(qid)
        if known is not None and qid not in known:
            skipped.unknown.setdefault(source, []).append(qid)
            continue
        model = rec.get("model")
        model = model if isinstance(model, str) and model else stem_model
        if model != last_model:
            last_model, done = model, seen.setdefault((judge, model), set())
        if qid in done:
            skipped.repeated.setdefault(source, []).append(qid)
            continue
        done.add(qid)
        yield qid, model, games, rec


# Judgment files of at least this many bytes in all are parsed by two processes.
PARALLEL_BYTES = 64 << 20


def _read_in_two(files: list[Path], parse):
    """``parse(files, 0)``: what a reader made of ``files``, on two cores when they are large.

    ``parse(part, first)`` reads ``part`` (``first``: the number of its first
    file among ``files``) into a reader with ``seen`` (like
    ``_counted_records``'), ``portable()`` and ``merge()``. A large directory
    is split in two by size: a forked child parses the second part while this
    process parses the first, and the child's rows are appended, which gives
    exactly what reading the files in order would. Should records of one
    judge and model be in both parts (which the one file per judge and model
    of our store never gives), the files are read again, in order, here, to
    find the repeats.
    """
    split = _halfway(files) if ForkedChild.available() else None
    if split is None:
        return parse(files, 0)
    with ForkedChild(lambda: parse(files[split:], split).portable()) as second_part:
        out = parse(files[:split], 0)
        theirs, their_pairs = second_part.result()
    if not out.seen.keys().isdisjoint(their_pairs):  # a model's records in both parts: may repeat
        return parse(files, 0)
    out.merge(theirs)
    return out


def _halfway(files: list[Path]) -> int | None:
    """Index that splits ``files`` into two parts of about equal size, or None when they are small."""
    sizes = np.cumsum([f.stat().st_size for f in files]) if files else np.zeros(0)
    if len(files) < 2 or sizes[-1] < PARALLEL_BYTES:
        return None
    return int(min(len(files) - 1, max(1, np.searchsorted(sizes, sizes[-1] / 2))))


def _check_weight(weight: int) -> None:
    if weight < 1:
        raise InputError(f"must be at least 1, got {weight}", key="--weight")


# ---------------------------------------------------------------- Arena-Hard v0.1: battles


def read_judgment_battles(files: list[Path], baseline: str, weight: int = 3, first_game_only: bool = False,
                          keep_question=None, question_ids=None) -> Battles:
    """Battles from judgment files of either layout.

    ``question_ids`` (the question file's, or None without one): a record of
    another question id is left out. A later record of a (judge directory,
    model, question) already read is left out too; the battles' ``skipped``
    lists both. ``keep_question(qid, record)`` (optional) decides whether a
    judgment counts, e.g. to select a category. The record's own ``baseline``
    (2025 layout) names model_a when present; otherwise ``baseline``. Large
    directories are parsed on two cores (``_read_in_two``).
    """
    _check_weight(weight)
    known = None if question_ids is None else frozenset(question_ids)

    def parse(part: list[Path], _first: int) -> _Builder:
        return _read_judgment_files(part, baseline, weight, first_game_only, keep_question, known)

    return _read_in_two(files, parse).build([str(f) for f in files])


def _read_judgment_files(files: list[Path], baseline: str, weight: int, first_game_only: bool,
                         keep_question, known: frozenset | None) -> _Builder:
    out = _Builder()
    games_used = 1 if first_game_only else 2
    judged = out.judged
    for path in files:
        for qid, model, games, rec in _counted_records(path, known, out.seen, out.skipped):
            if keep_question is not None and not keep_question(qid, rec):
                continue
            judged[model] = judged.get(model, 0) + 1
            base = rec.get("baseline")
            base = base if isinstance(base, str) and base else baseline
            a = b = q = None
            for g, game in enumerate(games[:games_used]):
                label = game.get("score") if isinstance(game, dict) else None
                verdict = label_verdict(g, label)
                if verdict is None:  # missing or unreadable verdict: counts zero times
                    continue
                if a is None:
                    a, b, q = out.model(base), out.model(model), out.question(qid)
                winner, strong = verdict
                out.add(a, b, winner, q, weight if strong else 1)
    return out


def read_game_verdicts(files: list[Path], question_ids=None, keep_question=None, games_used: int = 2
                       ) -> dict[tuple[str, str, int], tuple[int, bool]]:
    """(model, question id, game index) -> (winner, strong) of every game with an accepted label.

    The records that count are those ``read_judgment_battles`` counts (the
    first of a judge directory, model and question; ids of ``question_ids``;
    ``keep_question``); game 2 is un-swapped (utils.vocabulary.verdicts), so both games
    speak of the baseline and the model alike.
    """
    known = None if question_ids is None else frozenset(question_ids)
    out: dict[tuple[str, str, int], tuple[int, bool]] = {}
    seen: dict[tuple[str, str], set[str]] = {}
    for path in files:
        for qid, model, games, rec in _counted_records(path, known, seen, Skipped()):
            if keep_question is not None and not keep_question(qid, rec):
                continue
            for g, game in enumerate(games[:games_used]):
                verdict = label_verdict(g, game.get("score")) if isinstance(game, dict) else None
                if verdict is not None:
                    out[(model, qid, g)] = verdict
    return out


# ---------------------------------------------------------------- the battles file


def save_battles(battles: Battles, path: Path) -> None:
    """One JSON line per counted battle (a strong verdict repeats), written atomically."""
    # each name is JSON-encoded once; a row is then four pieces joined
    qids = [b'{"question_id":' + orjson.dumps(q) for q in battles.questions]
    model_a = [b',"model_a":' + orjson.dumps(m) for m in battles.models]
    model_b = [b',"model_b":' + orjson.dumps(m) for m in battles.models]
    winners = [b',"winner":' + orjson.dumps(w) + b"}" for w in WINNER_NAMES]
    lines = []
    for a, b, w, q, c in zip(battles.model_a.tolist(), battles.model_b.tolist(), battles.winner.tolist(),
                             battles.question.tolist(), battles.count.tolist()):
        lines.extend([qids[q] + model_a[a] + model_b[b] + winners[w]] * c)
    atomic_write(path, b"\n".join(lines) + (b"\n" if lines else b""), durable=False)


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
    skipped: Skipped = field(default_factory=Skipped)  # records left out: unknown question ids, repeats

    def __len__(self) -> int:
        return len(self.model)

    @property
    def complete(self) -> np.ndarray:
        """Rows whose two games both have an accepted label."""
        return self.count.sum(1) > 0

    def from_directory(self, directory: Path) -> "OutcomeRows":
        """The rows read from the judgment files in ``directory`` (one judge's), names and numbering kept."""
        mine = np.array([Path(f).parent == Path(directory) for f in self.sources] + [False], bool)[self.source]
        return OutcomeRows(self.models, self.questions, self.categories, self.sources, self.model[mine],
                           self.question[mine], self.category[mine], self.baseline[mine], self.source[mine],
                           self.score[mine], self.count[mine], Skipped())


def read_judgment_outcomes(files: list[Path], weight: int = 3, category_of: dict[str, str] | None = None,
                           question_ids=None) -> OutcomeRows:
    """Every judgment row of ``files`` (either layout) as v2.0 outcome units.

    ``category_of`` maps question ids to the question file's category, for
    rows that carry none. ``question_ids`` and repeated records are handled as
    in ``read_judgment_battles`` (left out, listed in ``skipped``), and large
    directories parsed on two cores as there.
    """
    _check_weight(weight)
    known = None if question_ids is None else frozenset(question_ids)

    def parse(part: list[Path], first: int) -> _OutcomeColumns:
        return _read_outcome_files(part, first, weight, known)

    read = _read_in_two(files, parse)
    models, uids, cats, bases, sources, scores, counts = read.cols
    category_of = category_of or {}
    model_names: dict[str, int] = {}
    model = _intern(models, model_names)
    base = [model_names.setdefault(b, len(model_names)) if b else -1 for b in bases]
    question_names: dict[str, int] = {}
    question = _intern(uids, question_names)
    category_names: dict[str, int] = {}
    category = _intern([c or category_of.get(q, "") for c, q in zip(cats, uids)], category_names)
    return OutcomeRows(list(model_names), list(question_names), list(category_names), [str(f) for f in files],
                       model, question, category, np.array(base, np.int64), np.array(sources, np.int64),
                       np.array(scores, float).reshape(-1, 2), np.array(counts, float).reshape(-1, 2), read.skipped)


def _intern(values: list[str], names: dict[str, int]) -> np.ndarray:
    """Each value's number in ``names`` (new values are added in order of appearance)."""
    return np.array([names.setdefault(v, len(names)) for v in values], np.int64)


@dataclass
class _OutcomeColumns:
    """The rows of judgment files that count, as plain lists in file order: model, uid, category, baseline,
    file number, scores and counts (two per row); plus what ``_counted_records`` keeps."""
    cols: tuple[list, ...] = field(default_factory=lambda: ([], [], [], [], [], [], []))
    seen: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    skipped: Skipped = field(default_factory=Skipped)

    def portable(self) -> tuple[tuple, set]:
        """What ``merge`` takes, and the (judge directory, model) pairs read."""
        return (self.cols, self.skipped), set(self.seen)

    def merge(self, sent: tuple) -> None:
        """Append the rows another reader read after these (the first of its ``portable()``)."""
        cols, skipped = sent
        for mine, column in zip(self.cols, cols):
            mine.extend(column)
        self.skipped.add(skipped)


def _read_outcome_files(files: list[Path], first_source: int, weight: int, known: frozenset | None
                        ) -> _OutcomeColumns:
    """The rows of ``files`` that count; ``first_source`` is the number of the first file."""
    out = _OutcomeColumns()
    models, uids, cats, bases, sources, scores, counts = out.cols
    for number, path in enumerate(files, first_source):
        for qid, model, games, rec in _counted_records(path, known, out.seen, out.skipped):
            base, cat = rec.get("baseline"), rec.get("category")
            models.append(model)
            uids.append(qid)
            cats.append(cat if isinstance(cat, str) else "")
            bases.append(base if isinstance(base, str) else "")
            sources.append(number)
            outcome = _row_outcome(games, weight)
            scores.extend(outcome[0])
            counts.extend(outcome[1])
    return out


def _row_outcome(games: list, weight: int) -> tuple[tuple[float, float], tuple[int, int]]:
    """The model's share and the count of each of the two games; counts 0 when the row is incomplete."""
    shares, counts = [], []
    for g in (0, 1):
        game = games[g] if g < len(games) else None
        outcome = model_outcome(g, game.get("score")) if isinstance(game, dict) else None
        if outcome is None:
            return (0.0, 0.0), (0, 0)
        share, strong = outcome
        shares.append(share)
        counts.append(weight if strong else 1)
    return (shares[0], shares[1]), (counts[0], counts[1])
