"""The vocabulary every module passes around: questions, answers, games, judgments.

Two layouts of the same records exist in published data (see docs/design.md#file-formats):
the 2024 layout (``question_id`` / ``turns`` / ``choices`` / ``conv_metadata``)
and the 2025 layout (``uid`` / ``prompt`` / ``messages`` / ``metadata``). The
readers accept both, record by record, and the writers emit the 2025 layout.
Malformed records raise InputError with the file and line; lines are read by
utils.plumbing.jsonl.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from utils.plumbing.errors import InputError
from utils.plumbing.jsonl import iter_jsonl, json_object


@dataclass(frozen=True)
class Question:
    uid: str
    turns: tuple[str, ...]  # the user's messages, one per turn
    category: str = ""
    cluster: str = ""  # ``cluster`` in v0.1 files, ``subcategory`` in newer ones


@dataclass
class Answer:
    uid: str
    model: str
    turns: list[str]  # the assistant's reply to each user turn
    prompts: list[str] = field(default_factory=list)  # the user turns, when the file has them
    ans_id: str = ""
    tstamp: float = 0.0
    metadata: dict | None = None  # style features: token_len, header/list/bold counts
    usage: dict | None = None  # token usage reported by the endpoint, summed over turns
    reasoning: list[str] = field(default_factory=list)  # the model's reasoning per turn ("" where none)
    repaired: dict | None = None  # what was mended to make the replies storable (lone surrogates)
    batch: bool = False  # every reply came from a provider batch (billed at the batch price)
    # how it was made (docs/design.md#provenance): entry, model_name, the temperature and max_tokens sent, the
    # system prompt's hash, finish_reason, served_model; None in files written before it was recorded
    generation: dict | None = None

    @property
    def text(self) -> str:
        """The whole answer as the judge sees it (the last turn for single-turn questions)."""
        return self.turns[-1] if self.turns else ""

    def to_json(self) -> dict:
        messages: list[dict] = []
        for i, reply in enumerate(self.turns):
            if i < len(self.prompts):
                messages.append({"role": "user", "content": self.prompts[i]})
            content = {"answer": reply}
            if i < len(self.reasoning) and self.reasoning[i]:
                content["reasoning"] = self.reasoning[i]
            messages.append({"role": "assistant", "content": content})
        record = {"uid": self.uid, "ans_id": self.ans_id, "model": self.model, "messages": messages,
                  "tstamp": self.tstamp, "metadata": self.metadata}
        return _with_present(record, usage=self.usage, repaired=self.repaired, batch=self.batch,
                             generation=self.generation)


def _with_present(record: dict, **optional) -> dict:
    """``record`` with each optional field that has a value; files written before the field existed match."""
    record.update((key, value) for key, value in optional.items() if value)
    return record


@dataclass
class Game:
    user_prompt: str  # the prompt sent to the judge (its first user message: the rendered template)
    judgment: str  # the judge's full text, all attempts joined
    label: str | None  # a label (utils.vocabulary.verdicts), or None when no single label was found; "score" in files
    usage: dict | None = None
    attempts: int = 1
    reasoning: str = ""  # a reasoning judge's reasoning, all attempts joined; the label is never taken from it
    repaired: dict | None = None  # what was mended to make the judge's text storable (lone surrogates)
    batch: bool = False  # every attempt's reply came from a provider batch (billed at the batch price)
    served_model: str = ""  # the model id the endpoint said it served ("model" of the response), when it said
    system_fingerprint: str = ""  # OpenAI's fingerprint of the serving configuration, when given

    def to_json(self) -> dict:
        record = {"user_prompt": self.user_prompt, "judgment": self.judgment, "score": self.label,
                  "usage": self.usage, "attempts": self.attempts}
        return _with_present(record, reasoning=self.reasoning, repaired=self.repaired, batch=self.batch,
                             served_model=self.served_model, system_fingerprint=self.system_fingerprint)


@dataclass
class Judgment:
    uid: str
    model: str
    judge: str
    games: list[Game | None]  # None: a game not played (its request failed for good); a rerun plays it
    baseline: str = ""
    category: str = ""
    # what was judged and how (docs/design.md#provenance): the two answers' ans_ids, the judge prompt's hash, the
    # judge's settings; None in files written before it was recorded
    provenance: dict | None = None
    rejudged: int = 0  # how many times this question was judged again because its judgment had gone stale

    def to_json(self) -> dict:
        record = {"uid": self.uid, "category": self.category, "judge": self.judge, "model": self.model,
                  "baseline": self.baseline, "games": [None if g is None else g.to_json() for g in self.games]}
        return _with_present(record, provenance=self.provenance, rejudged=self.rejudged)


def missing_games(record: dict) -> list[int]:
    """Which of the two games a stored judgment lacks: null or absent (0 is game 1, 1 is game 2).

    A record whose ``games`` is not a list is not ours to complete; the readers report it.
    """
    games = record.get("games")
    if not isinstance(games, list):
        return []
    return [g for g in (0, 1) if g >= len(games) or games[g] is None]


# ---------------------------------------------------------------- reading


def _need(obj: dict, key: str, kind: type | tuple, path, line) -> Any:
    if key not in obj:
        raise InputError("missing key", path, line, key)
    value = obj[key]
    if not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise InputError(f"expected {names}, got {type(value).__name__}", path, line, key)
    return value


def record_uid(obj: dict) -> str | None:
    """The question id a stored record is kept under: ``uid``, or the 2024 layout's ``question_id`` (None: neither)."""
    uid = obj.get("uid", obj.get("question_id"))
    return None if uid is None else str(uid)


def _uid(obj: dict, path, line) -> str:
    key = "uid" if "uid" in obj else "question_id"
    value = _need(obj, key, (str, int), path, line)
    return str(value)


def _content_text(content: Any, path, line, key: str) -> str:
    """Message content as text: a string, ``{"answer": ...}``, or a list of text parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict) and isinstance(content.get("answer"), str):
        return content["answer"]
    if isinstance(content, list) and all(isinstance(p, dict) and isinstance(p.get("text"), str) for p in content):
        return "".join(p["text"] for p in content)
    raise InputError("expected text, {\"answer\": text} or a list of text parts", path, line, key)


def question_from_json(obj: Any, path=None, line=None) -> Question:
    obj = json_object(obj, path, line)
    uid = _uid(obj, path, line)
    if "prompt" in obj:
        turns = (_content_text(obj["prompt"], path, line, "prompt"),)
    elif "turns" in obj:
        raw = _need(obj, "turns", list, path, line)
        if not raw:
            raise InputError("a question needs at least one turn", path, line, "turns")
        turns = tuple(_content_text(t.get("content") if isinstance(t, dict) else t, path, line, "turns")
                      for t in raw)
    else:
        raise InputError("missing key (expected 'prompt' or 'turns')", path, line, "prompt")
    cluster = obj.get("cluster", obj.get("subcategory", "")) or ""
    return Question(uid=uid, turns=turns, category=str(obj.get("category", "") or ""), cluster=str(cluster))


def _reasoning_text(content: Any) -> str:
    """The reasoning kept beside an answer: ``{"answer", "reasoning"}``, or the original tool's ``"thought"``."""
    if isinstance(content, dict):
        for key in ("reasoning", "thought"):
            if isinstance(content.get(key), str):
                return content[key]
    return ""


def answer_reasoning(obj: dict) -> list[str]:
    """The reasoning of each assistant turn of a 2025-layout answer record ("" where none was kept)."""
    messages = obj.get("messages")
    if not isinstance(messages, list):
        return []
    return [_reasoning_text(m.get("content")) for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]


def answer_texts(obj: dict, path=None, line=None) -> tuple[list[str], list[str]]:
    """(assistant replies, user turns) of a raw answer record in either layout; replies without reasoning."""
    if "messages" in obj:
        messages = _need(obj, "messages", list, path, line)
        replies, prompts = [], []
        for msg in messages:
            if not isinstance(msg, dict) or "role" not in msg:
                raise InputError("each message needs a role and content", path, line, "messages")
            text = _content_text(msg.get("content"), path, line, "messages")
            (replies if msg["role"] == "assistant" else prompts if msg["role"] == "user" else []).append(text)
        return replies, prompts
    choices = _need(obj, "choices", list, path, line)
    if not choices or not isinstance(choices[0], dict) or not isinstance(choices[0].get("turns"), list):
        raise InputError("expected a list of choices with turns", path, line, "choices")
    return [_content_text(t.get("content") if isinstance(t, dict) else t, path, line, "choices")
            for t in choices[0]["turns"]], []


def answer_from_json(obj: Any, path=None, line=None) -> Answer:
    obj = json_object(obj, path, line)
    replies, prompts = answer_texts(obj, path, line)
    model = obj.get("model", obj.get("model_id"))
    if not isinstance(model, str):
        raise InputError("missing key (expected 'model' or 'model_id')", path, line, "model")
    meta = obj.get("metadata", obj.get("conv_metadata"))
    reasoning = answer_reasoning(obj)
    return Answer(uid=_uid(obj, path, line), model=model, turns=replies, prompts=prompts,
                  ans_id=str(obj.get("ans_id", obj.get("answer_id", "")) or ""),
                  tstamp=float(obj.get("tstamp") or 0.0), metadata=meta if isinstance(meta, dict) else None,
                  usage=obj.get("usage") if isinstance(obj.get("usage"), dict) else None,
                  reasoning=reasoning if any(reasoning) else [],
                  repaired=obj.get("repaired") if isinstance(obj.get("repaired"), dict) else None,
                  generation=obj.get("generation") if isinstance(obj.get("generation"), dict) else None)


def game_from_json(obj: Any, path=None, line=None) -> Game:
    if obj is None:  # 2025 files keep a game whose judge call failed as null: no verdict, no text
        return Game(user_prompt="", judgment="", label=None)
    if not isinstance(obj, dict):
        raise InputError("each game must be a JSON object", path, line, "games")
    prompt = obj.get("user_prompt")
    if prompt is None and isinstance(obj.get("prompt"), list):  # 2025 files keep the message list
        users = [m.get("content") for m in obj["prompt"] if isinstance(m, dict) and m.get("role") == "user"]
        prompt = users[-1] if users else ""
    text = obj.get("judgment", "")
    reasoning = obj.get("reasoning")
    if isinstance(text, dict):
        reasoning = reasoning or _reasoning_text(text)
        text = text.get("answer", "")
    score = obj.get("score")
    return Game(user_prompt=str(prompt or ""), judgment=str(text or ""),
                label=score if isinstance(score, str) else None, usage=obj.get("usage"),
                attempts=int(obj.get("attempts", 1) or 1), reasoning=reasoning if isinstance(reasoning, str) else "",
                repaired=obj.get("repaired") if isinstance(obj.get("repaired"), dict) else None,
                served_model=_text(obj.get("served_model")), system_fingerprint=_text(obj.get("system_fingerprint")))


def _text(value) -> str:
    return value if isinstance(value, str) else ""


def judgment_from_json(obj: Any, path=None, line=None) -> Judgment:
    obj = json_object(obj, path, line)
    games = [game_from_json(g, path, line) for g in _need(obj, "games", list, path, line)]
    model = obj.get("model")  # not a name (absent, null): the reader falls back to the file's name, as battles do
    return Judgment(uid=_uid(obj, path, line), model=model if isinstance(model, str) else "",
                    judge=str(obj.get("judge", "")), games=games, baseline=str(obj.get("baseline", "") or ""),
                    category=str(obj.get("category", "") or ""), provenance=judgment_provenance(obj),
                    rejudged=rejudged(obj))


def judgment_provenance(obj: dict) -> dict | None:
    """A stored judgment's ``provenance`` (None when it was written before provenance was recorded)."""
    value = obj.get("provenance")
    return value if isinstance(value, dict) else None


def rejudged(obj: dict) -> int:
    """How many times a stored judgment's question was judged again after going stale (0: never)."""
    value = obj.get("rejudged")
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def judgment_rank(record: dict) -> tuple[int, int]:
    """Which of two records of one judge, model and question counts: the higher rank, the first among equals.

    A record replacing a stale one (a higher ``rejudged``) outranks it, then a
    more complete record (fewer games missing). The judgment store keeps this
    one (utils/plumbing/store.py), and show_result and check_answers count it
    (utils/ranking/judgments.py), so a file a killed run left with both lines
    counts what the next run's rewrite keeps. show_result ranks every record
    it reads, hence the usual case first: both games there, never re-judged.
    """
    games = record.get("games")
    if games.__class__ is list and len(games) > 1 and games[0] is not None and games[1] is not None \
            and "rejudged" not in record:
        return _WHOLE
    return rejudged(record), -len(missing_games(record))


_WHOLE = (0, 0)  # the rank of a record with both games, never re-judged


def read_questions(path: Path | str) -> list[Question]:
    """All questions of a benchmark in file order; duplicate ids or an empty file are errors."""
    path = Path(path)
    if not path.is_file():
        raise InputError("question file not found", path)
    questions, seen = [], {}
    for line, obj in iter_jsonl(path):
        q = question_from_json(obj, path, line)
        if q.uid in seen:
            raise InputError(f"duplicate question id {q.uid!r} (first on line {seen[q.uid]})", path, line, "uid")
        seen[q.uid] = line
        questions.append(q)
    if not questions:
        raise InputError("the question file has no questions", path)
    return questions


def read_answers(path: Path | str) -> dict[str, Answer]:
    """Answers by question id; a later line for the same question replaces an earlier one."""
    return {a.uid: a for a in (answer_from_json(obj, path, line) for line, obj in iter_jsonl(path))}


def iter_judgments(path: Path | str) -> Iterator[Judgment]:
    """Every judgment record of a file in file order, repeats included (which one counts is the reader's rule)."""
    return (judgment_from_json(obj, path, line) for line, obj in iter_jsonl(path))


def read_judgments(path: Path | str) -> dict[str, Judgment]:
    """Judgments by question id; a later line for the same question replaces an earlier one."""
    return {j.uid: j for j in iter_judgments(path)}
