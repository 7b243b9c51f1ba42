"""A show_result run's inputs, read from disk once: questions, judgments, answers, saved results, costs.

``read_run`` reads what a rating method asks for (a ``ReadRequest``) into
one ``RunData``, which is then handed to everything that computes or shows:
battles and outcome rows, the findings about judgments, judge agreement,
comparisons, the CSV's costs and the report. Nothing below it opens a data
file. Each judgment line is parsed once (utils/ranking/judgments.py, on two
cores for a large directory) while a forked child reads the answer files of
the models the judgment files are named after; the judge and answer texts
are kept only when the report asks for them.
"""
from __future__ import annotations

import gc
import json
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from utils.plumbing.errors import InputError
from utils.plumbing.forked import ForkedChild
from utils.plumbing.jsonl import parse_line
from utils.plumbing.names import diagnostics_file, question_file, stem_to_name
from utils.plumbing.parse_cache import code_digest
from utils.ranking.answer_info import AnswerInfo, read_answers_info, text_digests
from utils.ranking.battles import Battles, load_battles
from utils.ranking.bootstrap_file import read_saved_bootstrap
from utils.ranking.judgments import JudgmentRecords, ReadOptions, judgment_files, read_judgments
from utils.vocabulary.provenance import DIGEST_OF
from utils.vocabulary.records import Question, read_questions

Warn = Callable[[str], None]


@dataclass
class ReadRequest:
    """What a run reads: the benchmark and judges, and what its method and outputs need beside the judgments."""
    bench: str
    data_dir: Path
    judges: tuple[str, ...]
    answers: list[str] = field(default_factory=list)  # models whose answers are wanted whatever the judgments say
    battles_file: Path | None = None  # read battles from this file instead of judgments (v0.1's --load-battles)
    bootstrap_file: Path | None = None  # saved bootstrap results to reuse (v0.1's --load-bootstrap)
    baseline: str = ""  # the baseline a saved bootstrap file of the original's layout is shifted to
    texts: bool = False  # the report: judge texts, answer texts, the judges' diagnostics
    prompts: bool = False  # both games' prompts (utils/check_answers.py)
    patterns: Callable[[int, str], tuple[str, ...]] | None = None  # (judge number, category) -> label patterns
    cache: bool = True  # reuse what an earlier run parsed of unchanged files (utils/plumbing/parse_cache.py)


@dataclass
class RunData:
    """Everything a run read; every part of show_result takes its inputs from here."""
    request: ReadRequest
    question_path: Path
    questions: list[Question]  # the question file's, in file order ([]: there is none)
    records: JudgmentRecords | None  # None when the battles came from a battles file
    answers: dict[str, AnswerInfo | None | InputError]  # model -> its answer file's info (None: no file)
    loaded_battles: Battles | None = None
    battle_styles: dict = field(default_factory=dict)  # (model, question id) -> features a battles file carries
    saved_bootstrap: dict | None = None  # model -> saved bootstrap ratings
    diagnostics: dict[str, dict[str, dict]] = field(default_factory=dict)  # judge -> model -> diagnostics.json's
    _costs: dict[str, dict] = field(default_factory=dict)

    @property
    def bench(self) -> str:
        return self.request.bench

    @property
    def data_dir(self) -> Path:
        return self.request.data_dir

    def answers_of(self, models) -> dict[str, AnswerInfo | None]:
        """The answer info of each of ``models``; the InputError of a malformed answer file among them is raised."""
        missing = [m for m in dict.fromkeys(models) if m not in self.answers]
        if missing:  # a model only a battles file or a flag names: read once, here
            known = frozenset(q.uid for q in self.questions) if self.questions else None
            self.answers.update(read_answers_info(self.data_dir, self.bench, missing, self.request.texts, known,
                                                  cache=self.request.cache))
        out = {}
        for model in dict.fromkeys(models):
            info = self.answers[model]
            if isinstance(info, InputError):
                raise info
            out[model] = info
        return out

    def costs(self, models) -> dict[str, dict]:
        """model -> its answering and judging costs in USD (None: unknown), each model's cost files read once."""
        models = list(dict.fromkeys(models))
        todo = [m for m in models if m not in self._costs]
        if todo:
            from utils.asking.accounts import model_costs  # the accounts' readers: loaded only when costs are shown
            self._costs.update(model_costs(self.data_dir, self.bench, self.request.judges, todo))
        return {m: self._costs[m] for m in models}


def read_run(request: ReadRequest, warn: Warn) -> RunData:
    """Read the run's inputs once; warnings about left-out judgment records go to ``warn``."""
    # Parsing makes a container per record and keeps few of them: the cycle collector, which would walk the
    # kept ones again and again, has nothing to find here (a twentieth of the reading's time)
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_run(request, warn)
    finally:
        if collecting:
            gc.enable()


def _read_run(request: ReadRequest, warn: Warn) -> RunData:
    qfile = question_file(request.data_dir, request.bench)
    questions = read_questions(qfile) if qfile.is_file() else []
    if request.battles_file is not None:
        battles, styles = load_battles(request.battles_file)
        run = RunData(request, qfile, questions, None, {}, battles, styles)
    else:
        records, answers = _judgments_and_answers(request, questions, warn)
        run = RunData(request, qfile, questions, records, answers)
    if request.bootstrap_file is not None:
        if not request.bootstrap_file.is_file():
            raise InputError("bootstrap results not found (run once without --load-bootstrap)", request.bootstrap_file)
        run.saved_bootstrap = read_saved_bootstrap(request.bootstrap_file, request.baseline)
    if request.texts:
        run.diagnostics = {judge: read_diagnostics(diagnostics_file(request.data_dir, request.bench, judge))
                           for judge in request.judges}
    return run


def _judgments_and_answers(request: ReadRequest, questions: list[Question], warn: Warn
                           ) -> tuple[JudgmentRecords, dict[str, AnswerInfo | None | InputError]]:
    """The counted judgment records, and the answers of every model and baseline they name or the request asks
    for: those the files are named after read on the other core while the judgments are parsed."""
    files = judgment_files(request.data_dir, request.bench, list(request.judges))
    expected = list(dict.fromkeys([*request.answers, *(stem_to_name(f.stem) for _, f in files)]))
    options = ReadOptions(questions, request.patterns, request.texts, request.prompts, request.cache)

    known = frozenset(q.uid for q in questions) if questions else None
    early = _digests_recorded(f for _, f in files)  # the usual all or none, told by the first record of each file
    gate = _Gate()
    if request.cache:
        code_digest()  # the caches' keys of both processes need it: made once, before the fork

    def read_answers() -> tuple[bytes, dict | None]:
        """The answers, pickled before waiting for whether their digests are wanted (when the first records did
        not tell), and those digests."""
        undigested = None if early else set()
        read = pickle.dumps(read_answers_info(request.data_dir, request.bench, expected, request.texts, known,
                                              undigested, request.cache), pickle.HIGHEST_PROTOCOL)
        wanted = bool(undigested) and gate.wait()
        return read, text_digests(undigested, request.data_dir, request.bench, known, request.cache) \
            if wanted else None

    with gate, ForkedChild(read_answers) as reading_answers:
        records = read_judgments(list(request.judges), files, options)
        wanted = any(p is not None and not DIGESTS.isdisjoint(p) for p in records.provenance)
        gate.open(wanted)
        read, digests = reading_answers.result()
    answers = _with_digests(pickle.loads(read), digests)
    for warning in records.skipped.warnings(question_file(request.data_dir, request.bench)):
        warn(warning)
    named = [m for m in records.names if m not in answers]  # the models and baselines the records name
    undigested: set | None = None if wanted else set()
    answers.update(read_answers_info(request.data_dir, request.bench, named, request.texts, known, undigested,
                                     request.cache))
    return records, answers


def _digests_recorded(files) -> bool:
    """Whether the first record of any of ``files`` records the digests of the answers it judged."""
    for path in files:
        try:
            with open(path, "rb") as f:
                first = parse_line(f.readline())
        except (OSError, InputError):  # the reading proper says what is wrong with it
            continue
        provenance = first.get("provenance") if isinstance(first, dict) else None
        if isinstance(provenance, dict) and not DIGESTS.isdisjoint(provenance):
            return True
    return False


def _with_digests(answers: dict, digests: dict | None) -> dict:
    """``answers`` with the digests of their texts (None: none wanted)."""
    for model, of_model in (digests or {}).items():
        if isinstance(answers.get(model), AnswerInfo):
            answers[model].digests, answers[model].digested = of_model, True
    return answers


DIGESTS = frozenset(DIGEST_OF.values())  # the provenance keys that make the answers' texts worth hashing


class _Gate:
    """A yes or no this process sends a forked child once it knows (whether the answers' digests are wanted),
    and that the child waits for when it needs it. Without fork the work runs here, after the answer is known."""

    def __init__(self):
        self.answer: bool | None = None
        self.fds = os.pipe() if ForkedChild.available() else None

    def open(self, answer: bool) -> None:
        self.answer = answer
        if self.fds is not None:
            os.write(self.fds[1], b"1" if answer else b"0")

    def wait(self) -> bool:
        if self.answer is not None:  # decided here: the work runs in this process
            return self.answer
        try:
            return os.read(self.fds[0], 1) == b"1"
        except OSError:  # cannot tell: hash them
            return True

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self.fds is not None:
            for fd in self.fds:
                os.close(fd)
            self.fds = None


def read_diagnostics(path: Path) -> dict[str, dict]:
    """model -> {metric: value} from a judge's diagnostics.json (docs/design.md#diagnostics), {} when there is none."""
    if not path.is_file():
        return {}
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"not valid JSON ({err})", path) from None
    if isinstance(doc, dict) and isinstance(doc.get("models"), dict):
        doc = doc["models"]
    if not isinstance(doc, dict) or not all(isinstance(v, dict) for v in doc.values()):
        raise InputError("expected an object mapping each model to its diagnostics", path)
    return doc
