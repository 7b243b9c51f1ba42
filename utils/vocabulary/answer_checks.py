"""Answers not fit to be judged, and judgments of answers that were not the question's: pure checks.

Per answer (``answer_issues``):

* ``truncated``: the endpoint stopped it at the token limit (``finish_reason``
  ``length``; Anthropic's ``max_tokens``), as recorded under ``generation``;
* ``empty``: an assistant turn with no text;
* ``refusal``: a turn that opens with a refusal (``REFUSAL_PATTERNS``);
* ``reasoning``: a ``<think>`` tag left in the answer text, so the judge
  would read the model's thoughts as part of its answer;
* ``mismatched``: the user turns stored with the answer are not the
  question's (after whitespace is normalised): the answer was made for, or
  filed under, another question. Never judged.

gen_judgment.py's judge config says per check whether such answers are
judged or skipped (``answer_checks``); ``python -m utils.check_answers``
prints the counts. For judgment files that kept the prompts the judge saw:
``judged_prompt_mismatch`` (the question's text is not in the prompt) and
``shown_answers`` + ``off_question`` (the answers the judge saw fit other
questions better than their own: answers paired with the wrong questions).
docs/design.md#answer-checks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from utils.vocabulary.records import Answer, Question

CHECKS = ("truncated", "empty", "refusal", "reasoning")  # what answer_checks: in the judge config can skip
MISMATCHED = "mismatched"  # never judged, whatever the config says
ALL_CHECKS = (*CHECKS, MISMATCHED)
POLICIES = ("judge", "skip")
TRUNCATED_REASONS = ("length", "max_tokens")  # OpenAI's finish_reason, Anthropic's stop_reason at the token limit

_APOSTROPHE = "['\u2019]"  # models write both
_I_CANNOT = (rf"I (can{_APOSTROPHE}?t|cannot|won{_APOSTROPHE}t|will not|am unable to|am not able to)"
             rf"|I{_APOSTROPHE}m (unable|not able) to")
# Each pattern is matched case-insensitively at the start of an assistant turn (after leading whitespace):
# refusals open with the refusal, and an answer that says "I can't" further on is a real answer stating a limit.
# Measured on the answers in ../shared (Arena-Hard v0.1: gpt-4-0314, gpt-4-0613, gpt-3.5-turbo-0125; v2.0:
# o3-mini, llama3.1-8b), these find the 11 refusals there; broader ones ("As an AI language model, I cannot
# ...", "I cannot create ...") found gpt-4-0314's disclaimers that open a full answer.
REFUSAL_PATTERNS: tuple[tuple[str, str], ...] = (
    (rf"(I{_APOSTROPHE}m|I am) sorry,? but ({_I_CANNOT})",
     "an apology followed by a refusal: how most chat models open one"),
    (rf"(Sorry|Unfortunately),? (but )?({_I_CANNOT})",
     "the same with a shorter apology (gpt-4-0613: \"Sorry, but I can't assist with that.\")"),
    (rf"({_I_CANNOT}) (help|assist)( you)? with (that|this)",
     "a refusal without apology, naming no task (llama3.1: \"I can't help you with that request.\")"),
    (rf"({_I_CANNOT}) (comply|fulfil|fulfill|do that|do this)",
     "a refusal of the request itself (llama3.1: \"I can't fulfill that request.\")"),
    (rf"As an AI( language model)?,? ({_I_CANNOT}) (help|assist)( you)? with (that|this)",
     "the older models' disclaimer, when what follows refuses the request rather than a way of doing it"),
)
_REFUSAL = re.compile("|".join(f"(?:{pattern})" for pattern, _ in REFUSAL_PATTERNS), re.IGNORECASE)
# A refusal that turns into help in the same paragraph ("..., but I can guide you", "However, here is ...")
# states a limit and then answers: it is judged like any answer.
_PIVOT = re.compile(rf"\b(but|however|instead),? (I|here{_APOSTROPHE}?s|here is)\b|\bhere{_APOSTROPHE}s\b|\bhere is\b",
                    re.IGNORECASE)
_PIVOT_CHARS = 400  # of the first paragraph, where a pivot to help counts
_THINK_TAG = re.compile(r"</?think>", re.IGNORECASE)


def normalised(text: str) -> str:
    """``text`` with every run of whitespace made one space, and none at the ends."""
    return " ".join(text.split())


def is_truncated(answer: Answer) -> bool:
    return (answer.generation or {}).get("finish_reason") in TRUNCATED_REASONS


def is_empty(answer: Answer) -> bool:
    return not answer.turns or any(not turn.strip() for turn in answer.turns)


def is_refusal(answer: Answer) -> bool:
    return any(_refuses(turn.lstrip()) for turn in answer.turns)


def _refuses(text: str) -> bool:
    match = _REFUSAL.match(text)
    if match is None:
        return False
    paragraph = text.split("\n\n", 1)[0][:_PIVOT_CHARS]
    return _PIVOT.search(paragraph, match.end()) is None


def has_reasoning(answer: Answer) -> bool:
    return any(_THINK_TAG.search(turn) for turn in answer.turns)


def is_mismatched(answer: Answer, question: Question) -> bool:
    """Whether the user turns stored with the answer differ from the question's; False when none are stored."""
    if not answer.prompts:  # the 2024 layout keeps no prompts: nothing to compare
        return False
    return [normalised(p) for p in answer.prompts] != [normalised(t) for t in question.turns]


_TESTS = {"truncated": is_truncated, "empty": is_empty, "refusal": is_refusal, "reasoning": has_reasoning}


def answer_issues(answer: Answer, question: Question) -> list[str]:
    """The checks of ``ALL_CHECKS`` an answer fails, in that order."""
    found = [check for check in CHECKS if _TESTS[check](answer)]
    return found + ([MISMATCHED] if is_mismatched(answer, question) else [])


def skipped_checks(issues: list[str], policies: dict[str, str]) -> list[str]:
    """The checks of ``issues`` the judge config's ``answer_checks`` (check -> policy) sets to skip."""
    return [check for check in issues if policies.get(check) == "skip"]


@dataclass
class AnswerCounts:
    """One model's answers that failed each check: check -> question ids, in question order."""
    answers: int = 0  # answers checked
    failed: dict[str, list[str]] = field(default_factory=lambda: {check: [] for check in ALL_CHECKS})

    def add(self, uid: str, issues: list[str]) -> None:
        self.answers += 1
        for check in issues:
            self.failed[check].append(uid)

    def counts(self) -> dict[str, int]:
        return {check: len(self.failed[check]) for check in ALL_CHECKS}


def check_answers(answers: dict[str, Answer], questions: list[Question]) -> AnswerCounts:
    """Every check on a model's answers to ``questions`` (questions it has no answer to are left out)."""
    out = AnswerCounts()
    for q in questions:
        if q.uid in answers:
            out.add(q.uid, answer_issues(answers[q.uid], q))
    return out


# ---------------------------------------------------------------- what a judge was shown


def judged_prompt_mismatch(prompts: list[str], question: Question) -> bool | None:
    """Whether a prompt a judge was shown for a question (one per game) holds none of its turns.

    Whitespace is normalised first. None when no prompt was kept. A prompt is a
    template around the question, so the question's text must be inside it; a
    game whose prompt asks another question was filed under the wrong question
    id (in published files, game 1 and game 2 of one record can even ask
    different questions).
    """
    kept = [normalised(p) for p in prompts if p]
    if not kept:
        return None
    turns = [normalised(t) for t in question.turns if t.strip()]
    return any(not any(turn in prompt for turn in turns) for prompt in kept)


_ANCHOR = 32  # characters that find one game's answer inside the other game's prompt


def shown_answers(first_game: str, second_game: str) -> tuple[str, str] | None:
    """(the answer shown first, the answer shown second) in game 1, from the prompts of both games.

    Game 2 shows the same two answers the other way round, in the same
    template, whatever that template is: the prompts share their start
    (template and question) and their end, and between them game 1 has
    ``first ... second`` where game 2 has ``second ... first``. So the second
    answer is the longest part of game 1's middle that ends it and starts
    game 2's, and the first answer the other way round. Text both answers
    share at their ends may be cut from them. None when the prompts do not
    have that shape (a prompt missing, a template that is not the same twice).
    """
    if not first_game or not second_game or first_game == second_game:
        return None
    start = 0
    limit = min(len(first_game), len(second_game))
    while start < limit and first_game[start] == second_game[start]:
        start += 1
    end = 0
    while end < limit - start and first_game[-1 - end] == second_game[-1 - end]:
        end += 1
    one, two = first_game[start:len(first_game) - end], second_game[start:len(second_game) - end]
    if len(one) != len(two):
        return None
    second = _overlap(one, two)  # ends game 1's middle and starts game 2's
    first = _overlap(two, one)
    if not first or not second:
        return None
    return first, second


def _overlap(ending: str, starting: str) -> str:
    """The longest proper part of ``ending`` that ends it and starts ``starting`` ("" when none is found)."""
    anchor = starting[:_ANCHOR]
    at = ending.find(anchor, 1)
    while at > 0:
        if starting.startswith(ending[at:]):
            return ending[at:]
        at = ending.find(anchor, at + 1)
    return ""


OFF_QUESTION_SHARE = 0.5  # more than this share of a model's answers fitting other questions: wrongly paired
OFF_QUESTION_MIN = 10  # fewer answers than this say too little either way


def off_question(texts: dict[str, str], questions: list[Question]) -> list[str]:
    """The ids whose answer text is closer in words to another question than to its own.

    Closeness is the cosine of TF-IDF vectors fitted on the question texts,
    so the words that matter are those that set a question apart (names,
    terms, numbers). A single answer can be closer to another question by
    chance; the rate is what tells: on the answers shipped with Arena-Hard
    (v0.1: gpt-4-0314, gpt-4-0613, gpt-3.5-turbo-0125; v2.0: o3-mini,
    llama3.1-8b) 4-17 % of answers are closer to another question, and an
    answer file paired with the wrong questions has nearly all of them so.
    Ids not among ``questions`` are left out.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer  # only this check needs it (~1 s to import)

    order = [q.uid for q in questions]
    index = {uid: i for i, uid in enumerate(order)}
    uids = [uid for uid in texts if uid in index]
    if not uids:
        return []
    vectorizer = TfidfVectorizer(stop_words="english", sublinear_tf=True)
    question_vectors = vectorizer.fit_transform([" ".join(q.turns) for q in questions])
    similarity = (vectorizer.transform([texts[uid] for uid in uids]) @ question_vectors.T).toarray()
    own = similarity[range(len(uids)), [index[uid] for uid in uids]]
    return [uid for uid, row, mine in zip(uids, similarity, own) if row.max() > mine]


def wrongly_paired(off: int, checked: int) -> bool:
    """Whether ``off`` of ``checked`` answers fitting other questions means the answers were paired wrongly."""
    return checked >= OFF_QUESTION_MIN and off > OFF_QUESTION_SHARE * checked
