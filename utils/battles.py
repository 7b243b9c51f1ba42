"""Judgment files -> battles, the battles file, and the answers' style features.

A battle is one counted comparison of the baseline (model_a) with a model
(model_b) on a question, won by model_a, model_b or tied
(docs/design.md#battles). Game 1 has the baseline as assistant A; game 2 is
swapped, so its label is mirrored. A strong verdict (``>>``) counts ``weight`` times, a
missing verdict not at all.

Judgment directories reach half a gigabyte, almost all of it judge text that
the numbers never look at. So this module reads lines with orjson and keeps
only the question id, the model, the baseline and the games' labels, in
columns (numpy arrays) rather than one Python object per battle; a battle
repeated by a strong verdict is one row with a count. A large directory is
parsed by two processes (``Background``), each taking half of the files.
"""
from __future__ import annotations

import os
import pickle
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from utils.errors import InputError
from utils.names import answer_file, judgment_dir, stem_to_name
from utils.rating import TARGET, TIE, WINNER_A, WINNER_B
from utils.records import json_object
from utils.store import atomic_write

WINNER_NAMES = ("model_a", "model_b", "tie")
_WINNER_CODES = {"model_a": WINNER_A, "model_b": WINNER_B, "tie": TIE, "tie (bothbad)": TIE}

# Label as written in game 1 (baseline = A) -> (winner, strong). Both spellings of
# each verdict appear in published files ("B>A" and "A<B").
_LABELS = {
    "A>>B": (WINNER_A, True), "B<<A": (WINNER_A, True),
    "A>B": (WINNER_A, False), "B<A": (WINNER_A, False),
    "A=B": (TIE, False), "B=A": (TIE, False),
    "B>A": (WINNER_B, False), "A<B": (WINNER_B, False),
    "B>>A": (WINNER_B, True), "A<<B": (WINNER_B, True),
}
_MIRROR = {WINNER_A: WINNER_B, WINNER_B: WINNER_A, TIE: TIE}
_GAME_VERDICTS = (
    {label: v for label, v in _LABELS.items()},  # game 1: baseline is A
    {label: (_MIRROR[w], strong) for label, (w, strong) in _LABELS.items()},  # game 2: the model is A
)


def label_verdict(game_index: int, label: object) -> tuple[int, bool] | None:
    """(winner, strong) of game ``game_index``'s label, game 2 un-swapped; None for a missing or unknown label.

    The winner is WINNER_A for the baseline (model_a), WINNER_B for the model, or TIE.
    """
    return _GAME_VERDICTS[game_index].get(label) if isinstance(label, str) else None


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

    def __len__(self) -> int:
        return len(self.count)

    @property
    def total(self) -> int:
        return int(self.count.sum())

    def only_questions(self, keep: set[str]) -> "Battles":
        """The battles on the given question ids."""
        mask = np.array([self.questions[q] in keep for q in self.question.tolist()], bool)
        return Battles(self.models, self.questions, self.model_a[mask], self.model_b[mask], self.winner[mask],
                       self.question[mask], self.count[mask], self.sources)


class _Builder:
    """Collects battles row by row, interning model and question names."""

    def __init__(self):
        self.models: dict[str, int] = {}
        self.questions: dict[str, int] = {}
        self.cols: tuple[list, ...] = ([], [], [], [], [])
        self.parts: list[tuple[np.ndarray, ...]] = []  # rows merged from other builders, after ``cols``

    def model(self, name: str) -> int:
        return self.models.setdefault(name, len(self.models))

    def question(self, qid: str) -> int:
        return self.questions.setdefault(qid, len(self.questions))

    def add(self, a: int, b: int, winner: int, q: int, count: int) -> None:
        for col, value in zip(self.cols, (a, b, winner, q, count)):
            col.append(value)

    def columns(self) -> tuple:
        """Names and rows, compact enough to pass between processes."""
        return list(self.models), list(self.questions), *self._arrays()

    def merge(self, models: list[str], questions: list[str], a, b, winner, q, count) -> None:
        """Append another builder's rows (its ``columns()``), as if they had been added here in order."""
        to_model = np.array([self.model(m) for m in models], np.int64)
        to_question = np.array([self.question(x) for x in questions], np.int64)
        self.parts.append((to_model[a], to_model[b], winner, to_question[q], count))

    def _arrays(self) -> list[np.ndarray]:
        own = [np.asarray(col, dtype=np.int64) for col in self.cols]
        return [np.concatenate([col, *(part[i] for part in self.parts)]) for i, col in enumerate(own)]

    def build(self, sources: list[str]) -> Battles:
        a, b, w, q, c = self._arrays()
        return Battles(list(self.models), list(self.questions), a, b, w, q, c, sources)


def json_lines(path: Path):
    """(line number, object) per non-blank line, parsed by orjson; a bad line is an InputError."""
    with open(path, "rb") as f:
        data = f.read()
    # slices of one buffer: orjson parses a memoryview without copying each line again
    view, start, lineno = memoryview(data), 0, 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end
        lineno += 1
        if not data[start:start + 1].isspace() or data[start:end].strip():
            try:
                yield lineno, orjson.loads(view[start:end])
            except orjson.JSONDecodeError as err:
                raise InputError(f"not a JSON line ({err})", path, lineno) from None
        start = end + 1


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


# Judgment files of at least this many bytes in all are parsed by two processes.
PARALLEL_BYTES = 64 << 20


def read_judgment_battles(files: list[Path], baseline: str, weight: int = 3, first_game_only: bool = False,
                          keep_question=None) -> Battles:
    """Battles from judgment files of either layout.

    ``keep_question(qid, record)`` (optional) decides whether a judgment
    counts, e.g. to select a category. The record's own ``baseline`` (2025
    layout) names model_a when present; otherwise ``baseline``.

    A large directory is split in two by size: a forked child parses the
    second part while this process parses the first, and the child's rows
    are appended with its names re-interned, which gives exactly what reading
    the files in order would.
    """
    if weight < 1:
        raise InputError(f"must be at least 1, got {weight}", key="--weight")

    def parse(part: list[Path]) -> _Builder:
        return _read_judgment_files(part, baseline, weight, first_game_only, keep_question)

    split = _halfway(files) if Background.available() else None
    if split is None:
        out = parse(files)
    else:
        with Background(lambda: parse(files[split:]).columns()) as second_part:
            out = parse(files[:split])
            out.merge(*second_part.result())
    return out.build([str(f) for f in files])


def _halfway(files: list[Path]) -> int | None:
    """Index that splits ``files`` into two parts of about equal size, or None when they are small."""
    sizes = np.cumsum([f.stat().st_size for f in files]) if files else np.zeros(0)
    if len(files) < 2 or sizes[-1] < PARALLEL_BYTES:
        return None
    return int(min(len(files) - 1, max(1, np.searchsorted(sizes, sizes[-1] / 2))))


def _read_judgment_files(files: list[Path], baseline: str, weight: int, first_game_only: bool,
                         keep_question) -> _Builder:
    out = _Builder()
    games_used = 1 if first_game_only else 2
    strong_count = weight
    for path in files:
        stem_model = stem_to_name(path.stem)
        for line, rec in json_lines(path):
            qid = json_object(rec, path, line).get("uid", rec.get("question_id"))
            if not isinstance(qid, (str, int)):
                raise InputError("missing question id", path, line, "uid" if "uid" in rec else "question_id")
            qid = str(qid)
            games = rec.get("games")
            if not isinstance(games, list):
                raise InputError("expected a list of games", path, line, "games")
            if keep_question is not None and not keep_question(qid, rec):
                continue
            model = rec.get("model")
            model = model if isinstance(model, str) and model else stem_model
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
                out.add(a, b, winner, q, strong_count if strong else 1)
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
    for line, rec in json_lines(path):
        json_object(rec, path, line)
        for key in ("model_a", "model_b", "winner"):
            if not isinstance(rec.get(key), str):
                raise InputError("missing or not a string", path, line, key)
        qid = rec.get("question_id", rec.get("uid"))
        if not isinstance(qid, (str, int)):
            raise InputError("missing question id", path, line, "question_id")
        winner = _WINNER_CODES.get(rec["winner"])
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
                feats = _features_from_battle_meta(meta, side)
                if feats is not None:
                    style[(model, str(qid))] = feats
    for (a, b, w, q), i in merged.items():
        out.add(a, b, w, q, counts[i])
    return out.build([str(path)]), style


# ---------------------------------------------------------------- answers: length and style


def _count(value) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dict) and all(isinstance(v, (int, float)) for v in value.values()):
        return float(sum(value.values()))
    return None


def _features(meta) -> tuple | None:
    """(tokens, headers, lists, bold) from an answer's metadata, or None if incomplete."""
    if not isinstance(meta, dict):
        return None
    try:  # the usual shape, without the per-value checks below (70 x 500 answers add up)
        return (float(meta["token_len"]), float(sum(meta["header_count"].values())),
                float(sum(meta["list_count"].values())), float(sum(meta["bold_count"].values())))
    except (KeyError, TypeError, AttributeError, ValueError):
        pass
    values = tuple(_count(meta.get(k)) for k in ("token_len", "header_count", "list_count", "bold_count"))
    return None if any(v is None for v in values) else values


def _features_from_battle_meta(meta: dict, side: str) -> tuple | None:
    keys = (f"sum_assistant_{side}_tokens", f"header_count_{side}", f"list_count_{side}", f"bold_count_{side}")
    values = tuple(_count(meta.get(k)) for k in keys)
    return None if any(v is None for v in values) else values


@dataclass
class AnswerInfo:
    """What the table needs from one model's answer file."""
    path: Path
    avg_tokens: int  # mean token length over the model's answers (0 when unknown)
    features: dict[str, tuple]  # question id -> (tokens, headers, lists, bold)


def read_answer_info(data_dir, bench: str, model: str) -> AnswerInfo | None:
    """Average answer length and style features of one model, or None without an answer file.

    The token length comes from the answer's style metadata (``conv_metadata``
    or ``metadata``), or the 2024 layout's per-turn ``token_len``.
    """
    path = answer_file(data_dir, bench, model)
    if not path.is_file():
        return None
    tokens, features = [], {}
    for line, rec in json_lines(path):
        qid = json_object(rec, path, line).get("uid", rec.get("question_id"))
        meta = rec.get("metadata", rec.get("conv_metadata"))
        feats = _features(meta)
        length = feats[0] if feats else _count(meta.get("token_len")) if isinstance(meta, dict) else None
        if length is None:
            try:
                length = _count(rec["choices"][0]["turns"][0]["token_len"])
            except (KeyError, IndexError, TypeError):
                length = None
        if length is not None:
            tokens.append(length)
        if feats is not None and qid is not None:
            features[str(qid)] = feats
    avg = int(sum(tokens) / len(tokens)) if tokens else 0
    return AnswerInfo(path, avg, features)


def read_answers_info(data_dir, bench: str, models) -> dict[str, AnswerInfo | None | InputError]:
    """``read_answer_info`` for each of ``models``.

    A malformed answer file gives its InputError as the value, for the caller
    to raise only if that model turns out to be in a battle.
    """
    out: dict[str, AnswerInfo | None | InputError] = {}
    for m in dict.fromkeys(models):
        try:
            out[m] = read_answer_info(data_dir, bench, m)
        except InputError as err:
            out[m] = err
    return out


# ---------------------------------------------------------------- reading on the second core


class Background:
    """``work()`` run in a forked child process; ``result()`` waits for it and returns it (or raises its error).

    Reading judgments and answers is JSON parsing, which holds the GIL, so
    threads would not overlap it; processes do. show_result reads the answer
    files in one child while ``read_judgment_battles`` parses half of the
    judgment files in another. The child only parses and pickles (no BLAS,
    no locks another thread could hold), which is what makes forking a
    process with numpy's idle BLAS threads safe. Where fork is unavailable,
    or the child fails to deliver, the work is done in this process when the
    result is asked for. Use it as a context manager: leaving the block early
    (an error while parsing the judgments) stops the child, so no process
    outlives the call.
    """

    def __init__(self, work):
        self.work, self.pid, self.fd = work, None, None
        if self.available():
            read_fd, write_fd = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child: compute, send the pickled outcome, leave without running any cleanup
                code = 0
                try:
                    os.close(read_fd)
                    try:
                        payload = pickle.dumps((True, work()), pickle.HIGHEST_PROTOCOL)
                    except BaseException as err:  # noqa: BLE001 - every failure is the parent's to report
                        try:
                            payload = pickle.dumps((False, err), pickle.HIGHEST_PROTOCOL)
                        except Exception:  # noqa: BLE001 - an exception that does not pickle
                            payload = pickle.dumps((False, RuntimeError(repr(err))))
                    with os.fdopen(write_fd, "wb") as out:
                        out.write(payload)
                except BaseException:  # noqa: BLE001 - the parent notices the missing payload
                    code = 1
                finally:
                    os._exit(code)
            os.close(write_fd)
            self.pid, self.fd = pid, read_fd

    @staticmethod
    def available() -> bool:
        """Whether work really goes to a second process here (Linux: fork is cheap and safe for this)."""
        return sys.platform.startswith("linux") and hasattr(os, "fork")

    def result(self):
        if self.pid is None:
            return self.work()
        with os.fdopen(self.fd, "rb") as pipe:
            self.fd = None
            payload = pipe.read()
        os.waitpid(self.pid, 0)
        self.pid = None
        try:
            ok, value = pickle.loads(payload)
        except (pickle.UnpicklingError, EOFError, ValueError):
            # the child died before delivering (killed, out of memory): do the work here instead
            return self.work()
        if not ok:
            raise value
        return value

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(self.pid, 0)
            self.pid = None
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None


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


def answer_feature_table(models: list[str], questions: list[str], answers: dict[str, AnswerInfo | None],
                         from_battles: dict | None = None) -> np.ndarray:
    """(models, questions, 4) raw style features (tokens, headers, lists, bold) of each answer; NaN where unknown.

    ``from_battles`` (model, question id) -> features, from a battles file,
    fills in what the answer files lack.
    """
    table = np.full((len(models), len(questions), 4), np.nan)
    question_index = {q: i for i, q in enumerate(questions)}
    model_index = {m: i for i, m in enumerate(models)}
    for (model, qid), feats in (from_battles or {}).items():
        if model in model_index and qid in question_index:
            table[model_index[model], question_index[qid]] = feats
    for m, model in enumerate(models):
        info = answers.get(model)
        for qid, feats in (info.features.items() if info else ()):
            if qid in question_index:
                table[m, question_index[qid]] = feats
    return table


def missing_features(model: str, qid: str, answers: dict[str, AnswerInfo | None], data_dir, bench: str
                     ) -> InputError:
    """The error for an answer without style metadata: which file, which question, and how to add it."""
    info = answers.get(model)
    where = info.path if info else answer_file(data_dir, bench, model)
    why = "no answer file" if info is None else f"no style metadata for question {qid!r}"
    folder = where.parent
    return InputError(f"style control needs token_len, header_count, list_count and bold_count of every "
                      f"answer: {why} (python -m utils.add_markdown_info --dir {folder} --output-dir {folder} "
                      f"adds them)", where, key="metadata")


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


def read_judgment_outcomes(files: list[Path], weight: int = 3, category_of: dict[str, str] | None = None
                           ) -> OutcomeRows:
    """Every judgment row of ``files`` (either layout) as v2.0 outcome units.

    ``category_of`` maps question ids to the question file's category, for
    rows that carry none. Large directories are parsed by two processes, as in
    ``read_judgment_battles``; the parts are plain lists, joined in file order.
    """
    if weight < 1:
        raise InputError(f"must be at least 1, got {weight}", key="--weight")
    split = _halfway(files) if Background.available() else None
    if split is None:
        cols = _read_outcome_files(files, 0, weight)
    else:
        with Background(lambda: _read_outcome_files(files[split:], split, weight)) as second_part:
            cols = _read_outcome_files(files[:split], 0, weight)
            for mine, theirs in zip(cols, second_part.result()):
                mine.extend(theirs)
    models, uids, cats, bases, sources, scores, counts = cols
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
                       np.array(scores, float).reshape(-1, 2), np.array(counts, float).reshape(-1, 2))


def _intern(values: list[str], names: dict[str, int]) -> np.ndarray:
    """Each value's number in ``names`` (new values are added in order of appearance)."""
    return np.array([names.setdefault(v, len(names)) for v in values], np.int64)


def _read_outcome_files(files: list[Path], first_source: int, weight: int) -> tuple[list, ...]:
    """Columns (model, uid, category, baseline, file number, scores, counts) of every row of ``files``."""
    cols: tuple[list, ...] = ([], [], [], [], [], [], [])
    models, uids, cats, bases, sources, scores, counts = cols
    for number, path in enumerate(files, first_source):
        stem_model = stem_to_name(path.stem)
        for line, rec in json_lines(path):
            qid = json_object(rec, path, line).get("uid", rec.get("question_id"))
            if not isinstance(qid, (str, int)):
                raise InputError("missing question id", path, line, "uid" if "uid" in rec else "question_id")
            games = rec.get("games")
            if not isinstance(games, list):
                raise InputError("expected a list of games", path, line, "games")
            model, base, cat = rec.get("model"), rec.get("baseline"), rec.get("category")
            models.append(model if isinstance(model, str) and model else stem_model)
            uids.append(str(qid))
            cats.append(cat if isinstance(cat, str) else "")
            bases.append(base if isinstance(base, str) else "")
            sources.append(number)
            outcome = _row_outcome(games, weight)
            scores.extend(outcome[0])
            counts.extend(outcome[1])
    return cols


def _row_outcome(games: list, weight: int) -> tuple[tuple[float, float], tuple[int, int]]:
    """The model's share and the count of each of the two games; counts 0 when the row is incomplete."""
    shares, counts = [], []
    for g in (0, 1):
        game = games[g] if g < len(games) else None
        verdict = label_verdict(g, game.get("score")) if isinstance(game, dict) else None
        if verdict is None:
            return (0.0, 0.0), (0, 0)
        winner, strong = verdict
        shares.append(1.0 - float(TARGET[winner]))  # TARGET is the baseline's (model_a's) share
        counts.append(weight if strong else 1)
    return (shares[0], shares[1]), (counts[0], counts[1])
