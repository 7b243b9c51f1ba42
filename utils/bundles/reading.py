"""A bundle's answers and judgments, each file read once, every judgment tested against the bundle's other files.

For each judgment record: does its provenance name the answers the bundle
holds (their ids, and their texts' digests where it keeps them) and the
prompt its judge config holds; does each game's stored label
come out of the judge's own text (with the config's label patterns); and is
the user_prompt stored with each game the template filled with the
bundle's question and the two answers in that game's order, as
gen_judgment.py would have sent it. What fails is counted with a few
examples, for the checks of checks.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from utils.asking.clients import split_reasoning
from utils.asking.judge_prompts import (DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, extract_label, prompt_fields,
                                        prompt_hash, render_game)
from utils.bundles.archive import Unpacked
from utils.bundles.manifest import JUDGE_CONFIG, answer_summary, judgment_summary
from utils.plumbing.config import JudgePrompt, JudgeSettings, load_judge_settings, load_yaml
from utils.plumbing.errors import InputError
from utils.plumbing.jsonl import iter_jsonl, json_object
from utils.vocabulary.provenance import DIGEST_OF, STALE_REASONS, stale_reasons, turns_digest
from utils.vocabulary.records import (Answer, Question, answer_from_json, game_from_json, judgment_provenance,
                                      record_uid)
from utils.vocabulary.verdicts import label_verdict

SHOWN = 3  # examples kept per finding


def bundle_settings(unpacked: Unpacked) -> JudgeSettings:
    """A bundle's judge config, which holds its prompts' text: one that names a system_prompt_file (a file of
    the reader's machine) is refused. An error names the bundle and the config's line."""
    path = unpacked.path(JUDGE_CONFIG)
    try:
        doc = load_yaml(path)
        top = doc.data if isinstance(doc.data, dict) else {}
        categories = top.get("categories") if isinstance(top.get("categories"), dict) else {}
        if any(isinstance(t, dict) and "system_prompt_file" in t for t in [top, *categories.values()]):
            raise InputError("a bundle's judge config holds its prompts' text; system_prompt_file is refused", path,
                             key="system_prompt_file")
        return load_judge_settings(path, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE)[0]
    except InputError as err:
        raise InputError(err.message, f"{unpacked.bundle}: {JUDGE_CONFIG}", err.line, err.key) from None


@dataclass
class Finding:
    """How many records or games fail one test, and the first few of them."""
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, example: str) -> None:
        self.count += 1
        if len(self.examples) < SHOWN:
            self.examples.append(example)

    def merged(self, other: "Finding") -> "Finding":
        return Finding(self.count + other.count, (self.examples + other.examples)[:SHOWN])

    def text(self, what: str) -> list[str]:
        """``["<count> <what> (examples)"]``, or ``[]`` when nothing was found."""
        return [f"{self.count} {what} (" + "; ".join(self.examples) + (", ..." if self.count > SHOWN else "") + ")"] \
            if self.count else []


def load_answers(unpacked: Unpacked) -> tuple[dict[str, dict[str, Answer]], dict[str, dict]]:
    """Each answer file of the bundle, read once: its answers by question id, and its summary (manifest.py)."""
    answers, summaries = {}, {}
    for model, entry in unpacked.manifest["answers"].items():
        path = unpacked.path(entry["file"])
        records = [json_object(obj, path, line) for line, obj in iter_jsonl(path)] if path.is_file() else []
        answers[model] = {a.uid: a for a in (answer_from_json(r, path) for r in records)}
        summaries[model] = answer_summary(records)
    return answers, summaries


@dataclass
class JudgmentFindings:
    """What reading every judgment of a bundle found, for the checks judge_prompt, judge, answers, labels and
    judged_texts."""
    summaries: dict[tuple[str, str], dict] = field(default_factory=dict)  # (judge, model) -> judgment_summary
    records: int = 0
    games: int = 0
    unknown: int = 0  # records without provenance
    digested: int = 0  # records whose provenance keeps the digest of the judged model's answer text
    ids: Finding = field(default_factory=Finding)  # provenance naming other answers than the bundle's
    prompt_hashes: Finding = field(default_factory=Finding)  # provenance naming another judge prompt
    labels: Finding = field(default_factory=Finding)
    texts: Finding = field(default_factory=Finding)

    def merged(self, other: "JudgmentFindings") -> "JudgmentFindings":
        """What two readers of different files found together."""
        return JudgmentFindings({**self.summaries, **other.summaries}, self.records + other.records,
                                self.games + other.games, self.unknown + other.unknown,
                                self.digested + other.digested, self.ids.merged(other.ids),
                                self.prompt_hashes.merged(other.prompt_hashes), self.labels.merged(other.labels),
                                self.texts.merged(other.texts))


@dataclass
class _Inputs:
    """What judging a record needs: the bundle's settings, questions and answers, and each answer's digest."""
    settings: JudgeSettings
    questions: dict[str, Question]
    answers: dict[str, dict[str, Answer]]
    # id() of an answer of ``answers`` (which outlive this) -> its turns_digest; keyed by the object, not by the
    # model its record names, which a crafted file could share with another file's
    digests: dict[int, str] = field(default_factory=dict)

    def digest_of(self, answer: Answer | None) -> str | None:
        """The digest of an answer's text (a baseline's is asked for once per judged model: computed once)."""
        if answer is None or not answer.turns:
            return None
        if id(answer) not in self.digests:
            self.digests[id(answer)] = turns_digest(answer.turns)
        return self.digests[id(answer)]



def judgment_files(unpacked: Unpacked) -> list[tuple[str, str, str]]:
    """(judge, model, member) of every judgment file the manifest lists."""
    return [(judge, model, entry["file"]) for judge, files in unpacked.manifest["judgments"].items()
            for model, entry in files.items()]


def read_judgments(unpacked: Unpacked, settings: JudgeSettings, questions: list[Question],
                   answers: dict[str, dict[str, Answer]], files: list[tuple[str, str, str]]) -> JudgmentFindings:
    """Read each of ``files`` (judgment_files) once, testing every record against the bundle's other files."""
    inputs = _Inputs(settings, {q.uid: q for q in questions}, answers)
    found = JudgmentFindings()
    for judge, model, member in files:
        path = unpacked.path(member)
        records = [json_object(obj, path, line) for line, obj in iter_jsonl(path)] if path.is_file() else []
        found.summaries[(judge, model)] = judgment_summary(records)
        for record in records:
            _check_record(record, model, inputs, found)
    return found


def _check_record(record: dict, model: str, inputs: _Inputs, found: JudgmentFindings) -> None:
    """One judgment: does its provenance name the bundle's answers and prompt, does each game's label come from
    its judge's text, and was the judge shown the template filled with the bundle's question and answers?"""
    found.records += 1
    uid = record_uid(record)
    where = f"{model} / {uid}"
    question = inputs.questions.get(uid)
    if question is None:
        found.ids.add(f"{where}: a question the bundle does not hold")
        return
    prompt = inputs.settings.prompt_for(question.category)
    baseline = record.get("baseline") or prompt.baseline_model
    mine, theirs = inputs.answers.get(model, {}).get(uid), inputs.answers.get(baseline, {}).get(uid)
    reference = inputs.answers.get(inputs.settings.ref_model, {}).get(uid) if inputs.settings.ref_model else None
    provenance = judgment_provenance(record)
    if mine is None or theirs is None:
        found.ids.add(f"{where}: no answer of {model if mine is None else baseline} in the bundle")
    elif provenance is None:
        found.unknown += 1
    else:
        sides = {"ans_id": mine, "baseline_ans_id": theirs, "reference_ans_id": reference}
        current = {key: answer.ans_id if answer else None for key, answer in sides.items()}
        # a digest where the record keeps one: it ties the judgment to the text, not only to an id a forger keeps
        current |= {DIGEST_OF[key]: inputs.digest_of(answer) for key, answer in sides.items()
                    if provenance.get(DIGEST_OF[key])}
        found.digested += bool(provenance.get("answer_digest"))
        for key in stale_reasons(provenance, current) or []:
            found.ids.add(f"{where}: {STALE_REASONS[key]}")
        if provenance.get("prompt_hash") != prompt_hash(prompt, inputs.settings.structured):
            found.prompt_hashes.add(where)
    games = record.get("games") if isinstance(record.get("games"), list) else []
    for g, raw in enumerate(games[:2]):
        if not isinstance(raw, dict):
            continue
        found.games += 1
        game = game_from_json(raw)
        label, _ = extract_label(split_reasoning(game.judgment)[0], prompt.regex_patterns)
        if label_verdict(g, game.label) != label_verdict(g, label):
            found.labels.add(f"{where} game {g + 1}: {game.label} stored, {label} in the judge's text")
        if mine is not None and theirs is not None and \
                game.user_prompt != _first_user_message(prompt, question, mine, theirs, reference, g, inputs):
            found.texts.add(f"{where} game {g + 1}")


def _first_user_message(prompt: JudgePrompt, question: Question, mine: Answer, theirs: Answer,
                        reference: Answer | None, game: int, inputs: _Inputs) -> str | None:
    """What gen_judgment stores as a game's user_prompt: the first template filled for this game's order."""
    first, second = (theirs, mine) if game == 0 else (mine, theirs)
    try:
        messages = render_game(prompt, prompt_fields(question, first, second, reference), inputs.settings.structured)
    except InputError:  # a template asking for a turn the bundle's question lacks: no such prompt was sent
        return None
    return next((m["content"] for m in messages if m["role"] == "user"), None)
