"""What the leaderboard reads from the answer files: average lengths and the answers' style features.

The token length and the markdown counts (headers, lists, bold) come from
each answer's style metadata (docs/design.md#answers); without a token length
the answer's text is measured in the benchmark's encoding. Style control
needs the four features of every answer a battle compares.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from pathlib import Path

import numpy as np

from utils.plumbing.errors import InputError
from utils.plumbing.jsonl import iter_jsonl, json_object
from utils.plumbing.names import answer_dir, answer_file
from utils.plumbing.parse_cache import ParsedFiles, code_digest
from utils.vocabulary.provenance import turns_digest
from utils.vocabulary.records import answer_texts

EXAMPLE_FILES = 3  # files a warning names before "and N more"


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


def battle_meta_features(meta: dict, side: str) -> tuple | None:
    """(tokens, headers, lists, bold) of side "a" or "b" from a battle's ``conv_metadata`` (the original's battles file)."""
    keys = (f"sum_assistant_{side}_tokens", f"header_count_{side}", f"list_count_{side}", f"bold_count_{side}")
    values = tuple(_count(meta.get(k)) for k in keys)
    return None if any(v is None for v in values) else values


@dataclass
class AnswerInfo:
    """What the table needs from one model's answer file."""
    path: Path
    avg_tokens: int | None  # mean token length over the answers whose length is known (None: of none)
    feature_ids: list[str]  # the question ids of the answers with style metadata, and their features in ``features``
    features: np.ndarray  # (len(feature_ids), 4): tokens, headers, lists, bold (an array: it pickles as its bytes)
    answers: int = 0
    unknown: int = 0  # answers with neither a token length nor an answer text
    ans_ids: dict[str, str] = field(default_factory=dict)  # question id -> the answer's id, where it has one
    digests: dict[str, str] = field(default_factory=dict)  # question id -> its text's digest (provenance.turns_digest)
    digested: bool = False  # whether ``digests`` were computed (else reading left them to ``text_digests``)
    answered: set[str] = field(default_factory=set)  # the question ids the file has an answer to
    # kept only when the report asks for them: question id -> the reply to each turn, and the user turns stored
    texts: dict[str, list[str]] = field(default_factory=dict)
    prompts: dict[str, list[str]] = field(default_factory=dict)


def question_id(value, known: frozenset | None, path, line, key: str) -> str | None:
    """A record's question id as text: a string, or an integer that names a question of ``known`` (the question
    file's ids; None: no file). A number no question has is an error, not a record filed under no question."""
    if value.__class__ is str:
        return value
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InputError(f"expected a question id (text), got {type(value).__name__}", path, line, key)
    if known is not None and str(value) not in known:
        raise InputError(f"question id {value} is a number, and no question of the question file has it (the ids "
                         "are text there: was this record edited?)", path, line, key)
    return str(value)


def read_answer_file(path: Path, bench: str, texts: bool, known: frozenset | None, digests: bool
                     ) -> AnswerInfo | None:
    """Average answer length and style features of the answer file at ``path``, or None without one.

    ``texts``: also keep the replies and user turns of every answer (the
    report shows them), read from the same lines. ``known``: the question
    file's ids, which a numeric id must name (``question_id``). ``digests``:
    the digests of the answers' texts (finding the texts in a record costs as
    much as parsing it, and only judgments that record digests need them).

    The token length comes from the answer's style metadata (``conv_metadata``
    or ``metadata``), or the 2024 layout's per-turn ``token_len``; without
    either, from the answer's text in the benchmark's encoding
    (``utils.vocabulary.style.token_lengths``, summed over its assistant turns), all such
    answers in one batch.
    """
    if not path.is_file():
        return None
    tokens, features, untold, unknown, answers, ans_ids, answered = [], {}, [], 0, 0, {}, set()
    replies, user_turns, digested = {}, {}, {}
    same = {q: q for q in known} if known is not None else {}  # each id one object: every file's pickles share it
    for line, rec in iter_jsonl(path):
        answers += 1
        if rec.__class__ is not dict:
            json_object(rec, path, line)
        qid = rec.get("uid", rec.get("question_id"))
        if qid.__class__ is not str:
            qid = question_id(qid, known, path, line, "uid" if "uid" in rec else "question_id")
        qid = same.get(qid, qid)
        meta = rec.get("metadata", rec.get("conv_metadata"))
        feats = _features(meta)
        length = feats[0] if feats else _count(meta.get("token_len")) if isinstance(meta, dict) else None
        if length is None:
            try:
                length = _count(rec["choices"][0]["turns"][0]["token_len"])
            except (KeyError, IndexError, TypeError):
                length = None
        turns = _replies(rec, path, line) if texts or length is None or (digests and qid is not None) else None
        if qid is not None:  # a later line replaces an earlier one, as records.read_answers does
            answered.add(qid)
            if digests and turns[0]:
                digested[qid] = turns_digest(turns[0])
            if texts and turns[0]:
                replies[qid], user_turns[qid] = turns
            if feats is not None:
                features[qid] = feats
            ans_id = rec.get("ans_id", rec.get("answer_id"))
            if ans_id:
                ans_ids[qid] = str(ans_id)
        if length is not None:
            tokens.append(length)
        elif turns[0]:
            untold.append(turns[0])
        else:
            unknown += 1
    if untold:
        from utils.vocabulary.style import benchmark_encoding, token_lengths  # a tokenizer: only when one counts
        lengths = iter(token_lengths([turn for turns in untold for turn in turns], benchmark_encoding(bench)))
        tokens.extend(float(sum(next(lengths) for _ in turns)) for turns in untold)
    avg = int(sum(tokens) / len(tokens)) if tokens else None
    table = np.fromiter(chain.from_iterable(features.values()), float, 4 * len(features)).reshape(-1, 4)
    return AnswerInfo(path, avg, list(features), table, answers,
                      unknown, ans_ids, digests=digested, digested=digests,
                      answered=answered, texts=replies, prompts=user_turns)


def _replies(rec: dict, path=None, line=None) -> tuple[list[str], list[str]]:
    """(reply turns, user turns) of an answer record; none when it has no readable text (nothing to key its
    judgments on, nor to measure)."""
    try:
        return answer_texts(rec, path, line)
    except InputError:
        return [], []


def length_warnings(answers: dict[str, AnswerInfo | None], models, data_dir, bench: str) -> list[str]:
    """Warnings about the answer lengths of ``models`` that cannot be known.

    One line each for: answers with no length and no text (left out of the
    average, n/a when that is all of them), and models without an answer file
    (n/a). An answer without a length in its metadata but with a text is not
    worth a word (the shipped v0.1 baseline's answers are such): its length is
    counted here exactly as add_markdown_info would store it.
    """
    unknown, absent = [], []
    for model in dict.fromkeys(models):
        info = answers.get(model)
        if info is None:
            absent.append(str(answer_file(data_dir, bench, model)))
            continue
        if info.unknown:
            unknown.append(f"{info.path} ({info.unknown} of {info.answers}"
                           f"{', average #tokens n/a' if info.avg_tokens is None else ''})")
    out = []
    if unknown:
        out.append(f"warning: answers with neither token_len metadata nor an answer text, left out of "
                   f"average #tokens: {_listing(unknown)}")
    if absent:
        out.append(f"warning: no answer file, average #tokens n/a: {_listing(absent)}")
    return out


def _listing(items: list[str]) -> str:
    return ", ".join(items[:EXAMPLE_FILES]) + (f" and {len(items) - EXAMPLE_FILES} more" if len(items) > EXAMPLE_FILES
                                               else "")


def read_answers_info(data_dir, bench: str, models, texts: bool = False, known: frozenset | None = None,
                      undigested: set | None = None, cache: bool = False
                      ) -> dict[str, AnswerInfo | None | InputError]:
    """``read_answer_file`` of each of ``models``' answer file.

    A malformed answer file gives its InputError as the value, for the caller
    to raise only if that model turns out to be in a battle. ``undigested``:
    leave out the digests of the answers' texts, and add the models read
    without them to this set, for ``text_digests`` to compute should they be
    wanted. ``cache`` (without ``texts``): an answer file unchanged since an
    earlier run is not read again (utils/plumbing/parse_cache.py).
    """
    out: dict[str, AnswerInfo | None | InputError] = {}
    models = list(dict.fromkeys(models))
    kept = _cached_answers(data_dir, bench, known) if cache and not texts and models else None
    for m in models:
        path = answer_file(data_dir, bench, m)
        found = kept.get(path) if kept is not None else None
        if found is None or not (found.digested or undigested is not None):
            mark = kept.mark(path) if kept is not None else None
            try:
                found = read_answer_file(path, bench, texts, known, undigested is None)
            except InputError as err:
                found = err
            if isinstance(found, AnswerInfo) and kept is not None:
                kept.put(path, mark, found)
        out[m] = found
        if isinstance(found, AnswerInfo) and not found.digested:
            undigested.add(m)
    if kept is not None:
        kept.save()
    return out


def _cached_answers(data_dir, bench: str, known: frozenset | None) -> ParsedFiles:
    """The cached answer infos of a benchmark's answer files, under what else they depend on: the reader's code,
    the benchmark (its token encoding) and the question file's ids (which a numeric id must name)."""
    h = hashlib.blake2b(f"{code_digest()}\0{bench}\0".encode(), digest_size=16)
    h.update("\0".join(sorted(known)).encode() if known is not None else b"\1")
    return ParsedFiles("answers", answer_dir(data_dir, bench), h.hexdigest(), AnswerInfo)


def text_digests(models, data_dir, bench: str, known: frozenset | None = None, cache: bool = False
                 ) -> dict[str, dict[str, str]]:
    """model -> question id -> the digest of its answer's text (provenance.turns_digest), for each of ``models``
    (those ``read_answers_info`` left ``undigested``), their answer files read again. With ``cache``, the
    digests are kept with the rest of each file's info."""
    kept = _cached_answers(data_dir, bench, known) if cache and models else None
    out = {}
    for m in models:
        path = answer_file(data_dir, bench, m)
        mark = kept.mark(path) if kept is not None else None
        try:
            info = read_answer_file(path, bench, False, known, True)
        except InputError:  # the file changed since it was read: its own error comes when it is read again
            continue
        if info is not None:
            out[m] = info.digests
            if kept is not None:
                kept.put(path, mark, info)
    if kept is not None:
        kept.save()
    return out


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
        if not info or not info.feature_ids:
            continue
        try:  # usually every answered question is one of the table's: one lookup of them all
            where = np.array(itemgetter(*info.feature_ids)(question_index), np.int64).reshape(-1)
            table[m, where] = info.features
        except KeyError:
            where = np.array([question_index.get(qid, -1) for qid in info.feature_ids], np.int64)
            known = where >= 0
            table[m, where[known]] = info.features[known]
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
