"""What a judge is shown and how its verdict is read: prompts, structured verdicts, labels, template checks.

The default prompts are text files in prompts/ beside this module. A game's
messages are the system prompt and one user message per template, filled
with the question and the two answers in the game's order
(docs/design.md#judge-prompts). The judge's label is read from its text by
the configured patterns, or from a JSON verdict (docs/design.md#label-extraction).
Every template is rendered once per shape of question and answers before the
first request, so a template that cannot show the judge a turn fails early.
"""
from __future__ import annotations

import functools
import json
from dataclasses import replace
from pathlib import Path

from utils.plumbing.config import JudgePrompt, compile_pattern
from utils.plumbing.errors import InputError
from utils.vocabulary.provenance import text_hash
from utils.vocabulary.records import Answer, Question
from utils.vocabulary.verdicts import LABELS, is_label, label_verdict

# Our default judge prompt and requests are text files beside this module (prompts/), each the
# exact text sent. The template's placeholders are filled per game: {QUESTION} with the user's
# prompt, {ANSWER_A} / {ANSWER_B} with the two answers in this game's order.
_PROMPTS = Path(__file__).with_name("prompts")


def _prompt_text(name: str) -> str:
    """A prompt file's text without the line end that closes the file."""
    return (_PROMPTS / name).read_text(encoding="utf-8").removesuffix("\n")


DEFAULT_SYSTEM_PROMPT = _prompt_text("judge_system.txt")
DEFAULT_TEMPLATE = (_prompt_text("judge_template.txt"),)
# Sent when a judge's text holds no label yet (our wording).
FINISH_REQUEST = _prompt_text("finish_request.txt")
# Appended to the last user message when verdicts are structured, after a blank line.
STRUCTURED_REQUEST = "\n\n" + _prompt_text("structured_request.txt")

_VERDICT_SCHEMA = {
    "type": "object",
    "properties": {"reasoning": {"type": "string"}, "verdict": {"type": "string", "enum": list(LABELS)}},
    "required": ["reasoning", "verdict"],
    "additionalProperties": False,
}
RESPONSE_FORMATS = (
    {"type": "json_schema", "json_schema": {"name": "verdict", "strict": True, "schema": _VERDICT_SCHEMA}},
    {"type": "json_object", "schema": _VERDICT_SCHEMA},
)


# ---------------------------------------------------------------- prompts


def prompt_fields(question: Question, first: Answer, second: Answer, reference: Answer | None) -> dict[str, str]:
    """Placeholder values for one game: ``first`` is assistant A, ``second`` assistant B.

    The numbered fields follow the original tool: question_1..n are the user's
    turns, answer_1..k A's turns and answer_k+1.. B's turns.
    """
    fields = {f"question_{i}": turn for i, turn in enumerate(question.turns, 1)}
    for i, turn in enumerate([*first.turns, *second.turns], 1):
        fields[f"answer_{i}"] = turn
    fields.update(QUESTION=question.turns[-1], ANSWER_A=first.text, ANSWER_B=second.text)
    if reference is not None:
        fields.update({f"ref_answer_{i}": turn for i, turn in enumerate(reference.turns, 1)})
        fields["REF_ANSWER"] = reference.text
    return fields


def render_game(prompt: JudgePrompt, fields: dict[str, str], structured: bool) -> list[dict]:
    """The messages of one game: the system prompt, then one user message per template."""
    messages = [{"role": "system", "content": prompt.system_prompt}] if prompt.system_prompt else []
    for template in prompt.prompt_template:
        try:
            text = template.format_map(fields)
        except KeyError as err:  # e.g. {question_2} for a single-turn question
            raise InputError(f"the template uses {{{err.args[0]}}}, which this question's turns do not provide",
                             key="prompt_template") from None
        messages.append({"role": "user", "content": text})
    if structured:
        messages[-1] = {"role": "user", "content": messages[-1]["content"] + STRUCTURED_REQUEST}
    return messages


@functools.lru_cache(maxsize=64)  # a run asks it of every record, and has a few prompts: each hashed once
def prompt_hash(prompt: JudgePrompt, structured: bool) -> str:
    """The hash a judgment records of what its judge was told: system prompt, templates, label patterns.

    Structured verdicts add a request to the last message, so they count too.
    A stored judgment whose hash differs from the current one is stale
    (utils/vocabulary/provenance.py). The baseline is not part of it: the answers' own
    ids record which answers were compared.
    """
    return text_hash(prompt.system_prompt, list(prompt.prompt_template), list(prompt.regex_patterns),
                     STRUCTURED_REQUEST if structured else None)


# ---------------------------------------------------------------- labels


def _json_verdict(text: str) -> str | None:
    """The ``verdict`` of a JSON reply, or None when the text is not one."""
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        obj = json.loads(text[start:end + 1])
    except ValueError:
        return None
    verdict = obj.get("verdict") if isinstance(obj, dict) else None
    return verdict.strip() if isinstance(verdict, str) and is_label(verdict.strip()) else None


def extract_label(text: str, patterns: tuple[str, ...]) -> tuple[str | None, int]:
    """(label, number of distinct verdicts found) in a judge's text.

    A JSON reply's ``verdict`` decides when there is one (its reasoning may
    quote labels). Otherwise the patterns are tried in order and the first
    that finds a label decides: one verdict (however often, in whichever
    spelling) is the verdict, kept as first written; several make it missing
    (the judge contradicted itself). A match outside the vocabulary (three
    arrows, say) is no label. ``(None, 0)``: nothing found yet, worth asking again.
    """
    found = [v for v in map(_json_verdict, (text, *text.split("\n\n"))) if v]
    for pattern in patterns:
        if found:
            break
        found = [m for m in (m.strip("\n") for m in compile_pattern(pattern).findall(text)) if is_label(m)]
    distinct = {label_verdict(0, label) for label in found}
    return (found[0] if len(distinct) == 1 else None), len(distinct)


# ---------------------------------------------------------------- checks before the first request


class TemplateCheck:
    """Fails before any request if a template asks for a turn a question lacks, or never shows the judge
    the question or an answer.

    Whether a template renders depends only on the prompt and the number of
    turns of each text, so each such shape is rendered once.
    """

    def __init__(self, settings_path: str):
        self._settings_path = settings_path
        self._seen: set[tuple] = set()

    def check(self, prompt: JudgePrompt, question: Question, baseline: Answer, answer: Answer,
              reference: Answer | None) -> None:
        """Check game 1 of a pairing (game 2 has the same shape); an InputError names the settings file."""
        shape = (id(prompt), len(question.turns), len(answer.turns), len(baseline.turns),
                 len(reference.turns) if reference else -1)
        if shape in self._seen:
            return
        try:
            render_game(prompt, prompt_fields(question, baseline, answer, reference), False)
        except InputError as err:
            raise InputError(f"{err.message} (question {question.uid}, model {answer.model})",
                             self._settings_path, key=err.key) from None
        not_shown = _not_shown(prompt, question, baseline, answer, reference)
        if not_shown:
            raise InputError(f"the prompt never shows the judge {' and '.join(not_shown)} of question "
                             f"{question.uid} ({len(question.turns)} turns; numbered answers count A's turns "
                             "first, then B's)", self._settings_path, key="prompt_template")
        self._seen.add(shape)


def _not_shown(prompt: JudgePrompt, question: Question, first: Answer, second: Answer,
              reference: Answer | None) -> list[str]:
    """What a game's prompt would not show for these numbers of turns (the config checked the names)."""
    marks = {"the question": "\0question\0", "assistant A's answer": "\0A\0", "assistant B's answer": "\0B\0"}
    marked_question = replace(question, turns=tuple(marks["the question"] for _ in question.turns))
    marked_first = replace(first, turns=[marks["assistant A's answer"]] * len(first.turns))
    marked_second = replace(second, turns=[marks["assistant B's answer"]] * len(second.turns))
    messages = render_game(prompt, prompt_fields(marked_question, marked_first, marked_second, reference), False)
    shown = "".join(m["content"] for m in messages)
    empty = {"the question": not question.turns, "assistant A's answer": not first.turns,
             "assistant B's answer": not second.turns}  # nothing to show is not left out
    return [what for what, mark in marks.items() if mark not in shown and not empty[what]]
