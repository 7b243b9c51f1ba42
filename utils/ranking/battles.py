"""Judgment files -> battles, the battles file, and the answers' style features.

A battle is one counted comparison of the baseline (model_a) with a model
(model_b) on a question, won by model_a, model_b or tied
(docs/design.md#battles). Game 1 has the baseline as assistant A; game 2 is
swapped, so its label is mirrored. A strong verdict (``>>``) counts ``weight`` times, a
missing verdict not at all.

Judgment directories reach half a gigabyte, almost all of it judge text that
the numbers never look at. So this module reads lines with utils.jsonl (orjson
first) and keeps only the question id, the model, the baseline and the games'
labels, in columns (numpy arrays) rather than one Python object per battle; a
battle repeated by a strong verdict is one row with a count. A large directory is
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
from utils.jsonl import iter_jsonl, json_object
from utils.names import answer_file, judgment_dir, stem_to_name
from utils.records import answer_texts
from utils.store import atomic_write
from utils.style import benchmark_encoding, token_lengths
from utils.verdicts import WINNER_CODES, WINNER_NAMES, label_verdict, model_outcome

EXAMPLE_IDS = 3  # question ids a warning about left-out records shows
EXAMPLE_FILES = 3  # ... and files


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

    def columns(self) -> tuple:
        """Names, rows and what the records were, compact enough to pass between processes."""
        return list(self.models), list(self.questions), *self._arrays(), self.judged, self.skipped, set(self.seen)

    def merge(self, models: list[str], questions: list[str], a, b, winner, q, count, judged: dict[str, int],
              skipped: Skipped) -> None:
        """Append another builder's rows (its ``columns()`` but the last), as if they had been added here in order.

        Only right when it read no (judge directory, model) read here, so that
        none of its records can repeat one of this builder's.
        """
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


# Judgment files of at least this many bytes in all are parsed by two processes.
PARALLEL_BYTES = 64 << 20


def read_judgment_battles(files: list[Path], baseline: str, weight: int = 3, first_game_only: bool = False,
                          keep_question=None, question_ids=None) -> Battles:
    """Battles from judgment files of either layout.

    ``question_ids`` (the question file's, or None without one): a record of
    another question id is left out. A later record of a (judge directory,
    model, question) already read is left out too; the battles' ``skipped``
    lists both. ``keep_question(qid, record)`` (optional) decides whether a
    judgment counts, e.g. to select a category. The record's own ``baseline``
    (2025 layout) names model_a when present; otherwise ``baseline``.

    A large directory is split in two by size: a forked child parses the
    second part while this process parses the first, and the child's rows
    are appended with its names re-interned, which gives exactly what reading
    the files in order would. Should records of one judge and model be in
    both parts (which the one file per judge and model of our store never
    gives), the files are read again, in order, here, to find the repeats.
    """
    if weight < 1:
        raise InputError(f"must be at least 1, got {weight}", key="--weight")
    known = None if question_ids is None else frozenset(question_ids)

    def parse(part: list[Path]) -> _Builder:
        return _read_judgment_files(part, baseline, weight, first_game_only, keep_question, known)

    split = _halfway(files) if Background.available() else None
    if split is None:
        out = parse(files)
    else:
        with Background(lambda: parse(files[split:]).columns()) as second_part:
            out = parse(files[:split])
            theirs = second_part.result()
        if not out.seen.keys().isdisjoint(theirs[-1]):  # a model's records in both parts: may repeat
            out = parse(files)
        else:
            out.merge(*theirs[:-1])
    return out.build([str(f) for f in files])


def _halfway(files: list[Path]) -> int | None:
    """Index that splits ``files`` into two parts of about equal size, or None when they are small."""
    sizes = np.cumsum([f.stat().st_size for f in files]) if files else np.zeros(0)
    if len(files) < 2 or sizes[-1] < PARALLEL_BYTES:
        return None
    return int(min(len(files) - 1, max(1, np.searchsorted(sizes, sizes[-1] / 2))))


def _read_judgment_files(files: list[Path], baseline: str, weight: int, first_game_only: bool,
                         keep_question, known: frozenset | None) -> _Builder:
    out = _Builder()
    games_used = 1 if first_game_only else 2
    strong_count = weight
    seen, judged = out.seen, out.judged
    for path in files:
        stem_model = stem_to_name(path.stem)
        source = str(path)
        judge = os.path.dirname(source)
        last_model, done = None, set()  # the question ids read of the model of the last record
        for line, rec in iter_jsonl(path):
            qid = json_object(rec, path, line).get("uid", rec.get("question_id"))
            if not isinstance(qid, (str, int)):
                raise InputError("missing question id", path, line, "uid" if "uid" in rec else "question_id")
            qid = str(qid)
            games = rec.get("games")
            if not isinstance(games, list):
                raise InputError("expected a list of games", path, line, "games")
            if known is not None and qid not in known:
                out.skipped.unknown.setdefault(source, []).append(qid)
                continue
            model = rec.get("model")
            model = model if isinstance(model, str) and model else stem_model
            if model != last_model:
                last_model, done = model, seen.setdefault((judge, model), set())
            if qid in done:
                out.skipped.repeated.setdefault(source, []).append(qid)
                continue
            done.add(qid)
            if keep_question is None or keep_question(qid, rec):
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
    avg_tokens: int | None  # mean token length over the answers whose length is known (None: of none)
    features: dict[str, tuple]  # question id -> (tokens, headers, lists, bold)
    answers: int = 0
    from_text: int = 0  # answers without a token length in their metadata, tokenized here
    unknown: int = 0  # answers with neither a token length nor an answer text


def read_answer_info(data_dir, bench: str, model: str) -> AnswerInfo | None:
    """Average answer length and style features of one model, or None without an answer file.

    The token length comes from the answer's style metadata (``conv_metadata``
    or ``metadata``), or the 2024 layout's per-turn ``token_len``; without
    either, from the answer's text in the benchmark's encoding
    (``utils.style.token_lengths``, summed over its assistant turns), all such
    answers in one batch.
    """
    path = answer_file(data_dir, bench, model)
    if not path.is_file():
        return None
    tokens, features, untold, unknown, answers = [], {}, [], 0, 0
    for line, rec in iter_jsonl(path):
        answers += 1
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
        else:
            try:
                turns = answer_texts(rec, path, line)[0]
            except InputError:  # no readable text either
                turns = []
            if turns:
                untold.append(turns)
            else:
                unknown += 1
        if feats is not None and qid is not None:
            features[str(qid)] = feats
    if untold:
        lengths = iter(token_lengths([turn for turns in untold for turn in turns], benchmark_encoding(bench)))
        tokens.extend(float(sum(next(lengths) for _ in turns)) for turns in untold)
    avg = int(sum(tokens) / len(tokens)) if tokens else None
    return AnswerInfo(path, avg, features, answers, len(untold), unknown)


def length_warnings(answers: dict[str, AnswerInfo | None], models, data_dir, bench: str) -> list[str]:
    """Warnings about the answer lengths of ``models`` that do not come from their answers' metadata.

    One line each for: answer files without a token length in some answers'
    metadata (counted from the text instead), answers with no length and no
    text (left out of the average, n/a when that is all of them), and models
    without an answer file (n/a).
    """
    counted, unknown, absent = [], [], []
    for model in dict.fromkeys(models):
        info = answers.get(model)
        if info is None:
            absent.append(str(answer_file(data_dir, bench, model)))
            continue
        if info.from_text:
            counted.append(f"{info.path} ({info.from_text} of {info.answers})")
        if info.unknown:
            unknown.append(f"{info.path} ({info.unknown} of {info.answers}"
                           f"{', average #tokens n/a' if info.avg_tokens is None else ''})")
    out = []
    if counted:
        out.append(f"warning: answers without token_len metadata: their length was counted from the answer text "
                   f"here (python -m utils.add_markdown_info stores it): {_listing(counted)}")
    if unknown:
        out.append(f"warning: answers with neither token_len metadata nor an answer text, left out of "
                   f"average #tokens: {_listing(unknown)}")
    if absent:
        out.append(f"warning: no answer file, average #tokens n/a: {_listing(absent)}")
    return out


def _listing(items: list[str]) -> str:
    return ", ".join(items[:EXAMPLE_FILES]) + (f" and {len(items) - EXAMPLE_FILES} more" if len(items) > EXAMPLE_FILES
                                               else "")


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
    skipped: Skipped = field(default_factory=Skipped)  # records left out: unknown question ids, repeats

    def __len__(self) -> int:
        return len(self.model)

    @property
    def complete(self) -> np.ndarray:
        """Rows whose two games both have an accepted label."""
        return self.count.sum(1) > 0


def read_judgment_outcomes(files: list[Path], weight: int = 3, category_of: dict[str, str] | None = None,
                           question_ids=None) -> OutcomeRows:
    """Every judgment row of ``files`` (either layout) as v2.0 outcome units.

    ``category_of`` maps question ids to the question file's category, for
    rows that carry none. ``question_ids`` and repeated records are handled as
    in ``read_judgment_battles`` (left out, listed in ``skipped``). Large
    directories are parsed by two processes, as there; the parts are plain
    lists, joined in file order.
    """
    if weight < 1:
        raise InputError(f"must be at least 1, got {weight}", key="--weight")
    known = None if question_ids is None else frozenset(question_ids)
    split = _halfway(files) if Background.available() else None
    if split is None:
        cols, _, skipped = _read_outcome_files(files, 0, weight, known)
    else:
        def second() -> tuple:
            their_cols, their_seen, their_skipped = _read_outcome_files(files[split:], split, weight, known)
            return their_cols, set(their_seen), their_skipped

        with Background(second) as second_part:
            cols, seen, skipped = _read_outcome_files(files[:split], 0, weight, known)
            theirs, their_pairs, their_skipped = second_part.result()
        if not seen.keys().isdisjoint(their_pairs):  # as in read_judgment_battles: read in order here instead
            cols, _, skipped = _read_outcome_files(files, 0, weight, known)
        else:
            for mine, column in zip(cols, theirs):
                mine.extend(column)
            skipped.add(their_skipped)
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
                       np.array(scores, float).reshape(-1, 2), np.array(counts, float).reshape(-1, 2), skipped)


def _intern(values: list[str], names: dict[str, int]) -> np.ndarray:
    """Each value's number in ``names`` (new values are added in order of appearance)."""
    return np.array([names.setdefault(v, len(names)) for v in values], np.int64)


def _read_outcome_files(files: list[Path], first_source: int, weight: int, known: frozenset | None
                        ) -> tuple[tuple[list, ...], dict, Skipped]:
    """Columns (model, uid, category, baseline, file number, scores, counts) of the rows of ``files`` that count,
    the question ids read per (judge directory, model), and the records left out."""
    cols: tuple[list, ...] = ([], [], [], [], [], [], [])
    models, uids, cats, bases, sources, scores, counts = cols
    seen: dict[tuple[str, str], set[str]] = {}
    skipped = Skipped()
    for number, path in enumerate(files, first_source):
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
            model, base, cat = rec.get("model"), rec.get("baseline"), rec.get("category")
            model = model if isinstance(model, str) and model else stem_model
            if model != last_model:
                last_model, done = model, seen.setdefault((judge, model), set())
            if qid in done:
                skipped.repeated.setdefault(source, []).append(qid)
                continue
            done.add(qid)
            models.append(model)
            uids.append(qid)
            cats.append(cat if isinstance(cat, str) else "")
            bases.append(base if isinstance(base, str) else "")
            sources.append(number)
            outcome = _row_outcome(games, weight)
            scores.extend(outcome[0])
            counts.extend(outcome[1])
    return cols, seen, skipped


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
