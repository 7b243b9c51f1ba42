"""The one reader of judgment files: every record that counts, each line parsed once, kept in columns.

Judgment directories reach half a gigabyte, almost all of it judge text the
numbers never look at. So one pass over the files (utils.plumbing.jsonl,
orjson first; two processes for a large directory) keeps, per record that
counts, only what the rest of a show_result run needs: judge, model,
question, category, baseline, each game's label as a code, the answers the
record says it judged (provenance), whether the prompt it kept holds its
question, and whether each stored label is the one its judge text gives.
Battles, v2.0's outcome rows, judge agreement and the findings
(utils/ranking/judgment_checks.py) are all derived from these columns; the
judge texts themselves are kept only when the report asks for them.

A record counts when its question id is in the question file (when there is
one) and it is the one of its judge directory, model and question that the
judgment store keeps (records.judgment_rank: a re-judged record over the
stale one, then the more complete, else the first), so a file a killed run
left with both counts what the next run's rewrite keeps; the others are
listed in ``skipped``.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import orjson

from utils.plumbing.errors import InputError
from utils.plumbing.forked import ForkedChild
from utils.plumbing.jsonl import iter_jsonl, json_object
from utils.plumbing.names import judgment_dir, stem_to_name
from utils.plumbing.parse_cache import ParsedFiles, code_digest
from utils.ranking.answer_info import EXAMPLE_FILES, question_id
from utils.vocabulary.records import Question, judgment_rank
from utils.vocabulary.verdicts import DEFAULT_LABEL_PATTERN, SPELLINGS, label_verdict

EXAMPLE_IDS = 3  # question ids a warning about left-out records shows

# A game's label as a code: an index into LABEL_CODES, or one of the three codes below
LABEL_CODES = tuple(SPELLINGS)
NO_VERDICT = -1  # a null game, a game not there, or a null score: the judge gave no label
NOT_A_LABEL = -2  # a score that is not one of the labels ("C>D", 3): an invalid game
NOT_A_GAME = -3  # a game that is not an object (a string): an invalid game
_CODES = {label: i for i, label in enumerate(LABEL_CODES)}
_BRACKETED = {label: f"[[{label}]]" for label in LABEL_CODES}  # how the default pattern finds each label

# Whether a stored label is the one its judge text gives (docs/design.md#label-extraction)
TEXT_AGREES, TEXT_DISAGREES, TEXT_SILENT = 0, 1, 2  # TEXT_SILENT: no label to check (none stored, or none found)
DEFAULT_PATTERNS = (DEFAULT_LABEL_PATTERN,)

# The prompt a record kept: -1 none kept, 0 it holds the question, 1 it does not (utils.vocabulary.answer_checks)
NO_PROMPT, PROMPT_HOLDS, PROMPT_MISMATCH = -1, 0, 1

# Judgment files of at least this many bytes in all are parsed by two processes.
PARALLEL_BYTES = 64 << 20


@dataclass
class Skipped:
    """Judgment records a reader left out, by file: ids the question file lacks, and repeats.

    A repeat is a record of a (judge, model, question) that another record of
    it outranks (records.judgment_rank), the one the judgment store keeps.
    """
    unknown: dict[str, list[str]] = field(default_factory=dict)  # file -> question ids not in the question file
    repeated: dict[str, list[str]] = field(default_factory=dict)  # file -> question ids of records outranked

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
                       f"before: only the one gen_judgment keeps was counted (a re-judged record over a stale one, then "
                       f"the more complete, else the first) ({_where(self.repeated)})")
        return out


def _tally(by_file: dict[str, list[str]]) -> int:
    return sum(map(len, by_file.values()))


def _where(by_file: dict[str, list[str]]) -> str:
    files = [f"{len(ids)} in {source}" for source, ids in list(by_file.items())[:EXAMPLE_FILES]]
    if len(by_file) > EXAMPLE_FILES:
        files.append(f"{len(by_file) - EXAMPLE_FILES} more files")
    examples = list(dict.fromkeys(q for ids in by_file.values() for q in ids))[:EXAMPLE_IDS]
    return f"{', '.join(files)}; e.g. question {', '.join(examples)}"


@dataclass(frozen=True)
class OddGame:
    """A game worth a word: invalid (its label or itself is not one), or its stored label not its text's."""
    source: str
    line: int
    model: str
    uid: str
    game: int  # 0: game 1, 1: game 2
    stored: str  # the stored label, or a short description of what is there instead
    text_label: str | None = None  # the label the judge text gives (label disagreements only)


@dataclass
class JudgmentRecords:
    """The counted judgment records of a run's judges, one entry per record, in file order.

    Names are numbered in order of first appearance (a record's model, then
    its baseline): ``model`` and ``baseline`` index ``names``, ``question``
    indexes ``questions``, ``category`` indexes ``categories``.
    """
    judges: list[str]
    sources: list[str]  # the files, in reading order
    names: list[str]  # the models and baselines the records name
    questions: list[str]  # question ids
    categories: list[str]  # the records' own categories ("" for a record without one)
    judge: np.ndarray  # (n,) index into judges
    source: np.ndarray  # (n,) index into sources
    model: np.ndarray  # (n,) the model judged (the record's, else its file's name): index into names
    question: np.ndarray  # (n,) index into questions
    category: np.ndarray  # (n,) index into categories
    baseline: np.ndarray  # (n,) the record's own baseline, index into names (-1: it names none)
    labels: np.ndarray  # (n, 2) each game's label code (LABEL_CODES index, NO_VERDICT, NOT_A_LABEL, NOT_A_GAME)
    text_check: np.ndarray  # (n, 2) TEXT_AGREES, TEXT_DISAGREES or TEXT_SILENT per game
    prompt: np.ndarray  # (n,) NO_PROMPT, PROMPT_HOLDS or PROMPT_MISMATCH
    provenance: list[dict | None]  # (n,) the record's provenance (None: it kept none)
    invalid: list[OddGame] = field(default_factory=list)
    disagreeing: list[OddGame] = field(default_factory=list)
    skipped: Skipped = field(default_factory=Skipped)
    # kept only when asked for: (judge, model, uid) -> ((label, text) of each game, at most two) ...
    texts: dict[tuple[int, str, str], tuple] = field(default_factory=dict)
    # ... and (judge, model, uid) -> the user prompts of both games (utils/check_answers.py)
    prompts: dict[tuple[int, str, str], tuple[str, str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.question)

    def of_judge(self, judge: str) -> np.ndarray:
        """Mask of the records of one judge."""
        return self.judge == self.judges.index(judge)

    def on_questions(self, uids) -> np.ndarray:
        """Mask of the records of the question ids ``uids``."""
        wanted = set(uids)
        return np.array([q in wanted for q in self.questions] + [False], bool)[self.question]

    def model_names(self) -> list[str]:
        """The model judged by each record."""
        return [self.names[m] for m in self.model.tolist()]

    def baseline_names(self) -> list[str]:
        """The baseline each record names ("" where it names none)."""
        names = [*self.names, ""]
        return [names[b] for b in self.baseline.tolist()]

    def uids(self) -> list[str]:
        """The question id of each record."""
        return [self.questions[q] for q in self.question.tolist()]


def judgment_files(data_dir, bench: str, judges: list[str]) -> list[tuple[int, Path]]:
    """(judge number, file) of every judgment file of ``judges``, each judge's in name order."""
    files = []
    for number, judge in enumerate(judges):
        directory = judgment_dir(data_dir, bench, judge)
        if not directory.is_dir():
            raise InputError(f"no judgments by judge {judge!r}: directory not found; {_judges_here(directory.parent)}"
                             f"{_benches_judged_by(data_dir, judge)}", directory, key="--judge-name")
        found = sorted(directory.glob("*.jsonl"))
        if not found:
            raise InputError(f"no judgment files (*.jsonl) for judge {judge!r}", directory, key="--judge-name")
        files.extend((number, f) for f in found)
    return files


def _judges_here(root: Path) -> str:
    """The judges with judgment files under ``root`` (model_judgment/), and the flag that names one: the judge a
    run looks for by default, or by its --setting-file, is often not the one the user judged with."""
    found = sorted(stem_to_name(d.name) for d in root.glob("*/") if any(d.glob("*.jsonl"))) if root.is_dir() else []
    if not found:
        return "no judgments by any judge here yet (gen_judgment.py makes them)"
    return f"judgments here are by {', '.join(found)}: show_result.py --judge-name {found[0]}"


def _benches_judged_by(data_dir, judge: str) -> str:
    """Where else in ``data_dir`` ``judge`` has judgments: the --bench-name that finds them ("" when nowhere)."""
    benches = []
    for d in sorted(Path(data_dir).glob("*/")):
        try:
            if judgment_dir(data_dir, stem_to_name(d.name), judge).is_dir():
                benches.append(stem_to_name(d.name))
        except InputError:  # a directory no benchmark name makes
            continue
    return f"; {judge} has judgments of --bench-name {', '.join(benches)}" if benches else ""


@dataclass
class ReadOptions:
    """What the reader checks and keeps beside the labels."""
    questions: list[Question] = field(default_factory=list)  # the question file's ([]: none, every id counts)
    patterns: Callable[[int, str], tuple[str, ...]] | None = None  # (judge, category) -> its label patterns
    texts: bool = False  # keep each game's label and judge text (the report)
    prompts: bool = False  # keep both games' user prompts (check_answers)
    cache: bool = False  # reuse, and keep, each unchanged file's columns (utils/plumbing/parse_cache.py)

    def cacheable(self) -> bool:
        """Whether what is read may come from, and go to, the cache: the texts and prompts are too large to keep."""
        return self.cache and not (self.texts or self.prompts)

    def key(self) -> str:
        """What a file's columns depend on beside the file: the reader's code and the question file."""
        h = hashlib.blake2b(code_digest().encode(), digest_size=16)
        for q in self.questions:
            h.update(orjson.dumps([q.uid, q.turns]))
        return h.hexdigest()


def read_judgments(judges: list[str], files: list[tuple[int, Path]], options: ReadOptions) -> JudgmentRecords:
    """Every counted record of ``files`` (``judgment_files``'s), parsed once, on two cores when they are large.

    Each file is read on its own, in a forked child for the second half (by
    size) of a large set, and the parts are put together in file order,
    which gives exactly what reading the files in order would. Should records
    of one judge and model be in two files (which the one file per judge and
    model of our store never gives), the files are read again, in order, in
    one reader, to find the repeats. With ``options.cache``, the part of a
    file unchanged since an earlier run comes from the cache.
    """
    index = _QuestionIndex(options.questions)
    caches = _Caches(options) if options.cacheable() else None
    parts: list[_Reader | None] = [caches.get(judge, path) if caches else None for judge, path in files]
    todo = [i for i, part in enumerate(parts) if part is None]
    marks = {i: caches.mark(files[i][1]) for i in todo} if caches else {}

    def read(numbers: list[int]) -> list["_Reader"]:
        return [_Reader(options, index).read([files[i]], i).portable() for i in numbers]

    split = _halfway([files[i][1] for i in todo]) if ForkedChild.available() else None
    if split is None:
        fresh = read(todo)
    else:
        with ForkedChild(lambda: read(todo[split:])) as second_part:
            fresh = read(todo[:split]) + second_part.result()
    for i, part in zip(todo, fresh):
        parts[i] = part
        if caches:
            caches.put(files[i][1], marks[i], part)
    keys = [key for part in parts for key in part.seen]
    if len(keys) == len(set(keys)):
        out = _Reader.combine(options, index, parts)
        if caches:
            caches.save()
    else:  # a model's records in two files: they may repeat
        out = _Reader(options, index).read(files, 0)
    return out.build(judges, [str(f) for _, f in files])


class _Caches:
    """The cached columns of each judge directory's files (utils/plumbing/parse_cache.py), checked against the
    label patterns the judge has now."""

    def __init__(self, options: ReadOptions):
        self.options, self.key, self.dirs = options, options.key(), {}

    def _of(self, path: Path) -> ParsedFiles:
        if path.parent not in self.dirs:
            self.dirs[path.parent] = ParsedFiles("judgments", path.parent, self.key, _Reader)
        return self.dirs[path.parent]

    def get(self, judge: int, path: Path) -> "_Reader | None":
        part = self._of(path).get(path)
        if part is None or any(self._patterns(judge, c) != used for c, used in part.patterns_used.items()):
            return None
        return part.numbered(judge)

    def _patterns(self, judge: int, category: str) -> tuple[str, ...]:
        return self.options.patterns(judge, category) if self.options.patterns else DEFAULT_PATTERNS

    def mark(self, path: Path):
        return self._of(path).mark(path)

    def put(self, path: Path, mark, part: "_Reader") -> None:
        self._of(path).put(path, mark, part)

    def save(self) -> None:
        for cache in self.dirs.values():
            cache.save()


def _halfway(files: list[Path]) -> int | None:
    """Index that splits ``files`` into two parts of about equal size, or None when they are small."""
    sizes = np.cumsum([f.stat().st_size for f in files]) if files else np.zeros(0)
    if len(files) < 2 or sizes[-1] < PARALLEL_BYTES:
        return None
    return int(min(len(files) - 1, max(1, np.searchsorted(sizes, sizes[-1] / 2))))


class _QuestionIndex:
    """What the readers look up in the question file, made once per read."""

    def __init__(self, questions: list[Question]):
        self.known = frozenset(q.uid for q in questions) if questions else None
        self.same = {q.uid: q.uid for q in questions}  # each id as one object: the parts' pickles share it
        self.turns = {q.uid: q for q in questions}
        self.raw_turns = {q.uid: [t for t in q.turns if t.strip()] for q in questions}
        # the longest word of each turn: a prompt without any of them cannot hold a turn, however spaced
        self.words = {q.uid: [max(t.split(), key=len) for t in q.turns if t.strip()] for q in questions}


# The numbers kept per record, one tuple each while reading: which of them index names of which kind
_FIELDS = ("judge", "source", "model", "question", "category", "baseline", "prompt", "label1", "label2", "check1",
           "check2")
_NAMED = {2: "names", 3: "questions", 4: "categories", 5: "names"}


class _Reader:
    """One process's share of the files: a tuple of numbers per record, and what was left out or looked odd."""

    def __init__(self, options: ReadOptions, index: "_QuestionIndex"):
        self.options = options
        self.rows: list[tuple] | np.ndarray = []  # _FIELDS per record
        self.provenance: list[dict | None] = []
        # (judge directory, model) -> question id -> the counted record: (row, rank, file, line)
        self.seen: dict[tuple[str, str], dict[str, tuple]] = {}
        self.skipped = Skipped()
        self.invalid: list[OddGame] = []
        self.disagreeing: list[OddGame] = []
        self.texts: dict = {}
        self.prompts: dict = {}
        self.numbers: dict[str, dict[str, int]] = {"names": {}, "questions": {}, "categories": {}}
        self.patterns_used: dict[str, tuple[str, ...]] = {}  # category -> the label patterns its records were read with
        self.known, self.same, self.turns, self.raw_turns, self.words = index.known, index.same, index.turns, \
            index.raw_turns, index.words

    def read(self, files: list[tuple[int, Path]], first_source: int) -> "_Reader":
        for number, (judge, path) in enumerate(files, first_source):
            self._read_file(judge, path, number)
        return self

    def table(self) -> np.ndarray:
        """The records' numbers, (n, len(_FIELDS))."""
        return np.array(self.rows, np.int64).reshape(-1, len(_FIELDS))

    def portable(self) -> "_Reader":
        """What a child sends back and the cache keeps: this reader without what it only needed for reading (the
        questions, the ids read of each judge and model), its numbers as one array (which pickles as its bytes:
        32-bit ones, as every index and code fits, half the bytes to send and keep)."""
        self.options = self.known = self.same = self.turns = self.raw_turns = self.words = None
        self.seen = {key: {} for key in self.seen}
        self.rows = self.table().astype(np.int32)
        return self

    def numbered(self, judge: int) -> "_Reader":
        """This part, read in an earlier run, as a part of judge number ``judge`` in this run."""
        self.rows = self.rows.copy()
        self.rows[:, 0] = judge
        return self

    @classmethod
    def combine(cls, options: ReadOptions, index: "_QuestionIndex", parts: list["_Reader"]) -> "_Reader":
        """One reader holding ``parts`` (portable, of different judges and models, in file order), their names
        numbered as if read by one reader, and each part's records given its place (the source column)."""
        out, tables = cls(options, index), []
        for number, part in enumerate(parts):
            theirs = part.table()
            for column, kind in _NAMED.items():
                mine, named = out.numbers[kind], list(part.numbers[kind])
                if named == list(mine)[:len(named)]:  # numbered alike already (the questions, mostly)
                    continue
                renumber = np.array([mine.setdefault(name, len(mine)) for name in named] + [-1], np.int64)
                theirs[:, column] = renumber[theirs[:, column]]
            theirs[:, 1] = number
            tables.append(theirs)
            out.provenance.extend(part.provenance)
            out.skipped.add(part.skipped)
            out.invalid.extend(part.invalid)
            out.disagreeing.extend(part.disagreeing)
            out.texts.update(part.texts)
            out.prompts.update(part.prompts)
        out.rows = np.concatenate(tables) if tables else out.table()
        return out

    def build(self, judges: list[str], sources: list[str]) -> JudgmentRecords:
        t, n = self.table(), self.numbers
        return JudgmentRecords(
            judges, sources, list(n["names"]), list(n["questions"]), list(n["categories"]), t[:, 0], t[:, 1], t[:, 2],
            t[:, 3], t[:, 4], t[:, 5], t[:, 7:9].copy(), t[:, 9:11].astype(np.int8), t[:, 6].astype(np.int8),
            self.provenance, self.invalid, self.disagreeing, self.skipped, self.texts, self.prompts)

    def _read_file(self, judge: int, path: Path, number: int) -> None:
        stem_model = stem_to_name(path.stem)
        source = str(path)
        directory = os.path.dirname(source)
        known, same, skipped, options = self.known, self.same, self.skipped, self.options
        add_row, add_provenance = self.rows.append, self.provenance.append
        names, questions, categories = self.numbers["names"], self.numbers["questions"], self.numbers["categories"]
        patterns_of, texts, keep_prompts = options.patterns, options.texts, options.prompts
        usual = self._usual if not (texts or keep_prompts) else None  # nothing kept of a record but its numbers
        patterns_used = self.patterns_used
        last_model, done = None, {}  # the counted records of the model of the last record, by question id
        for line, rec in iter_jsonl(path):
            if rec.__class__ is not dict:
                json_object(rec, path, line)
            qid = rec.get("uid")
            if qid is None:
                qid = rec.get("question_id")
            if qid is None:
                raise InputError("missing question id", path, line, "uid" if "uid" in rec else "question_id")
            games = rec.get("games")
            if games.__class__ is not list:
                raise InputError("expected a list of games", path, line, "games")
            if qid.__class__ is not str:
                qid = question_id(qid, known, path, line, "uid" if "uid" in rec else "question_id")
            if known is not None:
                if qid not in known:
                    skipped.unknown.setdefault(source, []).append(qid)
                    continue
                qid = same[qid]
            model = rec.get("model")
            model = model if model.__class__ is str and model else stem_model
            if model != last_model:
                last_model, done = model, self.seen.setdefault((directory, model), {})
            rank, held = judgment_rank(rec), done.get(qid)
            if held is not None and not self._outranks(held, rank, (judge, model, qid), source):
                continue
            category, baseline, provenance = rec.get("category"), rec.get("baseline"), rec.get("provenance")
            category = category if category.__class__ is str else ""
            provenance = provenance if provenance.__class__ is dict else None
            patterns = patterns_of(judge, category) if patterns_of is not None else DEFAULT_PATTERNS
            if category not in patterns_used:
                patterns_used[category] = patterns
            found = usual(games, qid) if usual is not None and patterns is DEFAULT_PATTERNS else None
            if found is None:
                found = self._games(games, patterns, (source, line, model, qid), texts)
            row = (judge, number, names.setdefault(model, len(names)), questions.setdefault(qid, len(questions)),
                   categories.setdefault(category, len(categories)),
                   names.setdefault(baseline, len(names)) if baseline and baseline.__class__ is str else -1,
                   *found[:5])
            if held is None:
                done[qid] = (len(self.rows), rank, source, line)
                add_row(row)
                add_provenance(provenance)
            else:  # in the place of the record it outranks
                done[qid] = (held[0], rank, source, line)
                self.rows[held[0]], self.provenance[held[0]] = row, provenance
            if texts:
                self.texts[(judge, model, qid)] = tuple(found[6])
            if keep_prompts and len(found[5]) == 2:
                self.prompts[(judge, model, qid)] = tuple(found[5])

    def _outranks(self, held: tuple, rank: tuple, key: tuple, source: str) -> bool:
        """Whether a record of ``rank`` replaces the counted record ``held`` of its (judge, model, question)
        ``key``: the one left out is listed as a repeat, and what was kept of it goes."""
        if rank <= held[1]:
            self.skipped.repeated.setdefault(source, []).append(key[2])
            return False
        self.skipped.repeated.setdefault(held[2], []).append(key[2])
        self.texts.pop(key, None)
        self.prompts.pop(key, None)
        where = held[2:]
        self.invalid = [odd for odd in self.invalid if (odd.source, odd.line) != where]
        self.disagreeing = [odd for odd in self.disagreeing if (odd.source, odd.line) != where]
        return True

    def _usual(self, games: list, qid: str) -> tuple | None:
        """``_games``'s first five for the usual record, read with the default pattern, or None for any other.

        The usual record has two games, each a dict whose label is one of
        ours and whose text gives it once in double brackets, without a JSON
        verdict: the labels agree with their texts, and only the prompts are
        left to check. Nothing is built per game, which matters at 35,000
        records a run.
        """
        if len(games) < 2:
            return None
        first, second = games[0], games[1]
        if first.__class__ is not dict or second.__class__ is not dict:
            return None
        label1, label2, text1, text2 = first.get("score"), second.get("score"), first.get("judgment"), \
            second.get("judgment")
        if label1.__class__ is not str or label2.__class__ is not str or text1.__class__ is not str \
                or text2.__class__ is not str:
            return None
        code1, code2 = _CODES.get(label1), _CODES.get(label2)
        if code1 is None or code2 is None or "{" in text1 or "{" in text2:
            return None
        at1, at2 = text1.find("["), text2.find("[")
        if at1 < 0 or at2 < 0 or not text1.startswith(_BRACKETED[label1], at1) \
                or not text2.startswith(_BRACKETED[label2], at2) or text1.find("[", at1 + 2) >= 0 \
                or text2.find("[", at2 + 2) >= 0:
            return None
        state, turns = NO_PROMPT, self.raw_turns.get(qid)
        if turns is not None:
            for prompt in (first.get("user_prompt"), second.get("user_prompt")):
                if prompt.__class__ is str and prompt and state != PROMPT_MISMATCH:
                    for t in turns:
                        if t in prompt:
                            state = PROMPT_HOLDS
                            break
                    else:
                        state = self._prompt_check(prompt, qid)
        return state, code1, code2, TEXT_AGREES, TEXT_AGREES

    def _games(self, games: list, patterns: tuple[str, ...], where: tuple, texts: bool) -> tuple:
        """(whether their prompts hold the question, the label codes of a record's first two games, their text
        checks, their prompts, and (``texts``) the label and judge text of each).

        Runs for every game of every record, so the usual case is written
        out: a dict game whose label is one of ours and whose text holds it
        once in double brackets, without a JSON verdict (one-character
        searches decide that; anything else goes to ``_text_check``).
        """
        labels, checks, prompts, shown = [NO_VERDICT, NO_VERDICT], [TEXT_SILENT, TEXT_SILENT], [], []
        default, turns, state = patterns is DEFAULT_PATTERNS, self.raw_turns.get(where[3]), NO_PROMPT
        n = len(games)
        for g in (0, 1):
            game = games[g] if g < n else None
            if game.__class__ is not dict:
                if game is not None:
                    labels[g] = NOT_A_GAME
                    self.invalid.append(OddGame(*where, g, f"a game that is {_shown_value(game)}"))
                if texts and g < n:
                    shown.append((None, ""))
                continue
            score, text, prompt = game.get("score"), game.get("judgment"), game.get("user_prompt")
            if text.__class__ is not str:
                text = text.get("answer") if isinstance(text, dict) else None
                text = text if isinstance(text, str) else ""
            if prompt.__class__ is str and prompt:
                prompts.append(prompt)
                if turns is not None and state != PROMPT_MISMATCH:
                    for t in turns:  # the usual prompt holds a turn as it is
                        if t in prompt:
                            state = PROMPT_HOLDS
                            break
                    else:
                        state = self._prompt_check(prompt, where[3])
            else:
                prompts.append("")
            code = _CODES.get(score) if score.__class__ is str else None
            if code is not None:
                labels[g] = code
                at = text.find("[") if default and "{" not in text else -2
                if at >= 0 and text.startswith(_BRACKETED[score], at) and text.find("[", at + 2) < 0:
                    checks[g] = TEXT_AGREES
                elif at != -1:  # -1: no bracket, no JSON verdict: no label to check the stored one against
                    checks[g] = check = _text_check(score, text, patterns)
                    if check == TEXT_DISAGREES:
                        self.disagreeing.append(OddGame(*where, g, score, _text_label(text, patterns)))
            elif score is not None:
                labels[g] = NOT_A_LABEL
                self.invalid.append(OddGame(*where, g, _shown_value(score)))
            if texts:
                shown.append((score if isinstance(score, str) else None, text))
        return state, labels[0], labels[1], checks[0], checks[1], prompts, shown

    def _prompt_check(self, prompt: str, qid: str) -> int:
        """Whether a prompt that holds no turn of the question as it is holds one with other spacing
        (answer_checks.judged_prompt_mismatch). One that lacks the longest word of every turn cannot."""
        for w in self.words[qid]:
            if w in prompt:
                break
        else:
            return PROMPT_MISMATCH
        from utils.vocabulary.answer_checks import judged_prompt_mismatch  # the rare case: spacing to compare
        return PROMPT_MISMATCH if judged_prompt_mismatch([prompt], self.turns[qid]) else PROMPT_HOLDS


def _shown_value(value) -> str:
    """What stands where a label or a game should: short, for a listing."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _text_check(stored: str, text: str, patterns: tuple[str, ...]) -> int:
    """Whether ``stored`` is the label the judge's ``text`` gives, read as the judging read it.

    The usual text holds its label once, in double brackets, and no JSON
    verdict: that is decided by two substring searches. Anything else goes to
    the judging's own extract_label (utils/asking/judge_prompts.py).
    """
    if patterns is DEFAULT_PATTERNS or patterns == DEFAULT_PATTERNS:
        if text.find("{") < 0 or '"verdict"' not in text:  # no JSON verdict (one-character searches are the fast ones)
            first = text.find("[")
            if first < 0:
                return TEXT_SILENT
            first = text.find("[[", first)
            if first < 0:
                return TEXT_SILENT
            if text.startswith(stored, first + 2) and text.startswith("]]", first + 2 + len(stored)) \
                    and text.find("[[", first + 2) < 0:
                return TEXT_AGREES
    found = _text_label(text, patterns)
    if found is None:
        return TEXT_SILENT if not _contradicts(text, patterns) else TEXT_DISAGREES
    return TEXT_AGREES if label_verdict(0, found) == label_verdict(0, stored) else TEXT_DISAGREES


def _text_label(text: str, patterns: tuple[str, ...]) -> str | None:
    from utils.asking.judge_prompts import extract_label  # the judging's reading of a label, loaded when needed
    return extract_label(text, patterns)[0]


def _contradicts(text: str, patterns: tuple[str, ...]) -> bool:
    """The text names several verdicts, so the judging stored none: a stored label was put there by hand."""
    from utils.asking.judge_prompts import extract_label
    return extract_label(text, patterns)[1] > 1
