"""Step 2: a judge compares each model's answer with the baseline's, in two position-swapped games.

Game 1 shows the baseline's answer as assistant A and the model's as B;
game 2 swaps them. The judge ends its text with one of the five labels
(utils/verdicts.py), written ``[[label]]`` in our prompt, found by the
configured patterns. No label: the judge is asked to finish, up to the
attempt limit. Two different labels: the verdict is missing (null), as is a
label still absent after the last attempt; show_result counts such a game
zero times and the run summary counts it here.

With ``structured_verdicts: true`` the judge is asked for a JSON object
``{"reasoning": ..., "verdict": <label>}`` through ``response_format``
(OpenAI's json_schema first, then the json_object-with-schema form that
llama.cpp and vLLM accept); an endpoint that refuses both is judged by the
patterns alone, and a JSON verdict is also read when it was not enforced.

The pure parts (prompt rendering, label extraction, diagnostics) are plain
functions so they can be checked on recorded judge texts.
"""
from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass, replace
from pathlib import Path

from utils.asking.clients import ModelClient, RequestFailed, add_usage, split_reasoning
from utils.asking.runs import Job, Outcome, Summary, run_jobs
from utils.config import JudgePrompt, JudgeSettings, ModelConfig, compile_pattern
from utils.errors import InputError
from utils.names import diagnostics_file, judgment_file
from utils.records import Answer, Game, Judgment, Question, missing_games, record_uid
from utils.store import JsonlStore, atomic_write, closed_on_error
from utils.verdicts import LABELS, TIE, WINNER_A, is_label, label_verdict

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


# ---------------------------------------------------------------- one judgment


@dataclass
class Pairing:
    """One (judge, model, question) to judge, with everything the two games need."""
    question: Question
    answer: Answer
    baseline: Answer
    reference: Answer | None
    prompt: JudgePrompt
    stored: dict | None = None  # an earlier run's judgment that lacks a game: only that game is played

    @property
    def uid(self) -> str:
        return self.question.uid

    def games_to_play(self) -> list[int]:
        return [0, 1] if self.stored is None else missing_games(self.stored)

    def record(self, judgment: Judgment) -> dict:
        """What to store: the new judgment, or the stored one with the games just played filled in."""
        if self.stored is None:
            return judgment.to_json()
        games = list(self.stored["games"]) + [None] * (2 - len(self.stored["games"]))
        for g, game in enumerate(judgment.games):
            if game is not None:
                games[g] = game.to_json()
        return {**self.stored, "games": games}


async def play_game(client: ModelClient, settings: JudgeSettings, prompt: JudgePrompt, fields: dict) -> Game:
    messages = render_game(prompt, fields, settings.structured)
    formats = RESPONSE_FORMATS if settings.structured else ()
    texts: list[str] = []
    thoughts: list[str] = []
    usage: dict[str, int] = {}
    repaired = 0
    label = None
    for attempt in range(1, settings.attempts + 1):
        reply = await client.chat(messages, temperature=settings.temperature, max_tokens=settings.max_tokens,
                                  response_formats=formats)
        texts.append(reply.text)
        thoughts.append(reply.reasoning)
        add_usage(usage, reply.usage)
        repaired += reply.repaired
        # from the answers alone, even under reasoning_policy keep: a judge's reasoning may quote labels
        label, distinct = extract_label("\n\n".join(split_reasoning(t)[0] for t in texts), prompt.regex_patterns)
        if distinct or attempt == settings.attempts:
            break
        messages = [*messages, {"role": "assistant", "content": reply.text}, {"role": "user", "content": FINISH_REQUEST}]
    user_prompt = next(m["content"] for m in messages if m["role"] == "user")
    return Game(user_prompt=user_prompt, judgment="\n\n".join(texts), label=label, usage=usage, attempts=len(texts),
                reasoning="\n\n".join(t for t in thoughts if t),
                repaired={"lone_surrogates": repaired} if repaired else None)


async def judge_pairing(client: ModelClient, judge: str, settings: JudgeSettings,
                        p: Pairing) -> tuple[Judgment, dict[int, BaseException]]:
    """The games a pairing still needs, sent together: game 1 baseline first, game 2 the model first.

    Returns the judgment, with None for each game not played, and the error of
    each game that failed: one game failing does not throw the other away.
    """
    orders = ((p.baseline, p.answer), (p.answer, p.baseline))
    wanted = p.games_to_play()
    results = await asyncio.gather(
        *(play_game(client, settings, p.prompt, prompt_fields(p.question, *orders[g], p.reference)) for g in wanted),
        return_exceptions=True)
    games: list[Game | None] = [None, None]
    errors: dict[int, BaseException] = {}
    for g, result in zip(wanted, results):
        if isinstance(result, BaseException):
            errors[g] = result
        else:
            games[g] = result
    judgment = Judgment(uid=p.question.uid, model=p.answer.model, judge=judge, games=games,
                        baseline=p.baseline.model, category=p.question.category)
    return judgment, errors


# ---------------------------------------------------------------- diagnostics


def diagnostics(records: list[dict]) -> dict:
    """How a judge behaved on one model's judgments (both layouts, as stored).

    * ``missing_share``: games without a usable label, over all games played
      (a null game, whose request failed, is left out of every figure);
    * ``tie_rate``: ties over games with a label;
    * ``position_consistency``: over questions whose two games both have a
      label, the share where they name the same winner once game 2 is
      un-swapped (a judge that always prefers the first answer scores 0);
    * ``first_position_share``: decisive games won by whichever answer was
      shown first (0.5 for a judge without position bias).
    """
    games = missing = ties = decisive = first_won = both = agree = 0
    for rec in records:
        outcomes = []
        for g, game in enumerate((rec.get("games") or [])[:2]):
            if game is None:  # not played (its request failed): nothing the judge did
                continue
            games += 1
            label = game.get("score") if isinstance(game, dict) else None
            verdict = label_verdict(g, label)
            outcomes.append(None if verdict is None else verdict[0])
            if verdict is None:
                missing += 1
                continue
            if verdict[0] == TIE:
                ties += 1
            else:
                decisive += 1
                first_won += label_verdict(0, label)[0] == WINNER_A  # the label says A won, whoever A was
        if len(outcomes) == 2 and None not in outcomes:
            both += 1
            agree += outcomes[0] == outcomes[1]

    def share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    return {"judgments": len(records), "games": games, "missing_labels": missing,
            "missing_share": share(missing, games), "tie_rate": share(ties, games - missing),
            "position_consistency": share(agree, both), "first_position_share": share(first_won, decisive)}


def write_diagnostics(path: Path, per_model: dict[str, dict]) -> Path:
    atomic_write(path, (json.dumps({"models": per_model}, indent=2) + "\n").encode())  # in diagnostics() order
    return path


# ---------------------------------------------------------------- the run


def baselines_of(settings: JudgeSettings, questions: list[Question]) -> dict[str, list[Question]]:
    """Each baseline the questions need, with the questions it is the baseline of (in question order)."""
    out: dict[str, list[Question]] = {}
    for q in questions:
        out.setdefault(settings.prompt_for(q.category).baseline_model, []).append(q)
    return out


def plan(settings: JudgeSettings, questions: list[Question], answers: dict[str, dict[str, Answer]],
         data_dir: Path) -> list[Job]:
    """Lock every output file and list what is still to judge; all before the first request.

    A question whose baseline has no answer (or whose baseline is the model
    itself) is counted, not judged: the rest of the run goes ahead.
    """
    reference = answers.get(settings.ref_model, {}) if settings.ref_model else {}
    jobs: list[Job] = []
    rendered: set[tuple] = set()
    with closed_on_error([]) as opened:
        for judge in settings.judge_models:
            for model in settings.model_list:
                store = JsonlStore(judgment_file(data_dir, settings.bench_name, judge, model), key=record_uid,
                                   rank=lambda record: -len(missing_games(record))).open()
                opened.append(store)
                job = Job(model=model, store=store, todo=[], done_before=0, judge=judge)
                jobs.append(job)
                for q in questions:
                    prompt = settings.prompt_for(q.category)
                    baseline = prompt.baseline_model
                    stored = store.records.get(q.uid)
                    left_out = job.left_out
                    if stored is not None and not _completable(stored, baseline):
                        job.done_before += 1
                    elif model == baseline:
                        left_out.own_baseline += 1
                    elif q.uid not in answers.get(model, {}):
                        left_out.no_answer += 1
                    elif q.uid not in answers.get(baseline, {}):
                        left_out.no_baseline[baseline] = left_out.no_baseline.get(baseline, 0) + 1
                    elif settings.ref_model and q.uid not in reference:
                        left_out.no_reference += 1
                    else:
                        pairing = Pairing(q, answers[model][q.uid], answers[prompt.baseline_model][q.uid],
                                          reference.get(q.uid), prompt, stored)
                        _check_renders(pairing, rendered, settings.path)
                        job.todo.append(pairing)
    return jobs


def identical_answers(answers: dict[str, dict[str, Answer]], models: list[str],
                      judged: set[str]) -> list[tuple[str, str, int]]:
    """(model, model, questions shared) for every pair whose answers are the same text on every shared question.

    Only pairs that include a model to be judged count (two baselines may agree). Such a pair
    usually means an answer file was copied under another model's name.
    """
    out = []
    for i, first in enumerate(models):
        for second in models[i + 1:]:
            if first not in judged and second not in judged:
                continue
            mine, theirs = answers.get(first, {}), answers.get(second, {})
            shared = mine.keys() & theirs.keys()
            if shared and all(mine[uid].turns == theirs[uid].turns for uid in shared):
                out.append((first, second, len(shared)))
    return out


def _completable(stored: dict, baseline: str) -> bool:
    """Whether a stored judgment lacks a game we can play now (against the same baseline)."""
    return bool(missing_games(stored)) and stored.get("baseline", baseline) in (baseline, "", None)


def _check_renders(p: Pairing, seen: set[tuple], settings_path: str) -> None:
    """Fail before any request if the template asks for a turn this pairing lacks.

    Whether a template renders depends only on the prompt and the number of
    turns of each text, so each such shape is rendered once.
    """
    shape = (id(p.prompt), len(p.question.turns), len(p.answer.turns), len(p.baseline.turns),
             len(p.reference.turns) if p.reference else -1)
    if shape not in seen:
        try:
            render_game(p.prompt, prompt_fields(p.question, p.baseline, p.answer, p.reference), False)
        except InputError as err:
            raise InputError(f"{err.message} (question {p.question.uid}, model {p.answer.model})",
                             settings_path, key=err.key) from None
        left_out = _left_out(p)
        if left_out:
            raise InputError(f"the prompt never shows the judge {' and '.join(left_out)} of question "
                             f"{p.question.uid} ({len(p.question.turns)} turns; numbered answers count A's turns "
                             "first, then B's)", settings_path, key="prompt_template")
        seen.add(shape)


def _left_out(p: Pairing) -> list[str]:
    """What game 1's prompt would not show for this pairing's numbers of turns (the config checked the names)."""
    marks = {"the question": "\0question\0", "assistant A's answer": "\0A\0", "assistant B's answer": "\0B\0"}
    question = replace(p.question, turns=tuple(marks["the question"] for _ in p.question.turns))
    first = replace(p.baseline, turns=[marks["assistant A's answer"]] * len(p.baseline.turns))
    second = replace(p.answer, turns=[marks["assistant B's answer"]] * len(p.answer.turns))
    shown = "".join(m["content"] for m in render_game(p.prompt, prompt_fields(question, first, second, p.reference),
                                                      False))
    empty = {"the question": not p.question.turns, "assistant A's answer": not first.turns,
             "assistant B's answer": not second.turns}  # nothing to show is not left out
    return [what for what, mark in marks.items() if mark not in shown and not empty[what]]


async def _ask_judgment(settings: JudgeSettings, client: ModelClient, job: Job, pairing: Pairing) -> Outcome:
    """Play the games a pairing still needs; what they give is stored even when one of them failed."""
    judgment, errors = await judge_pairing(client, job.asks, settings, pairing)
    outcome = Outcome(error=_game_error(errors))
    played = [g for g in judgment.games if g is not None]
    if played:  # paid for: stored even when the other game failed, which a rerun then plays alone
        outcome.record = pairing.record(judgment)
        outcome.whole = not missing_games(outcome.record)
        outcome.completes = pairing.stored is not None
        outcome.unlabeled = sum(g.label is None for g in played)
    return outcome


def _game_error(errors: dict[int, BaseException]) -> BaseException | None:
    """The one error to report for a pairing's failed games: a bug's as it is, else which game failed and why."""
    for err in errors.values():
        if not isinstance(err, RequestFailed):
            return err
    if not errors:
        return None
    g, err = next(iter(errors.items()))
    if len(errors) == 2:
        return err
    return RequestFailed(f"game {g + 1}: {err.reason}", err.status, group=err.group)


def generate_judgments(settings: JudgeSettings, judges: dict[str, ModelConfig], questions: list[Question],
                       answers: dict[str, dict[str, Answer]], data_dir: Path) -> Summary:
    """Judge every missing (judge, model, question); store judgments and each judge's diagnostics."""
    jobs = plan(settings, questions, answers, data_dir)
    summary = run_jobs(jobs, judges, functools.partial(_ask_judgment, settings), unit="judgment",
                       order=[q.uid for q in questions])
    for job in jobs:
        summary.diagnostics.setdefault(job.judge, {})[job.model] = diagnostics(list(job.store.records.values()))
    for judge, per_model in summary.diagnostics.items():
        path = diagnostics_file(data_dir, settings.bench_name, judge)
        previous = _read_json(path).get("models", {})
        write_diagnostics(path, {**previous, **per_model})  # models judged in earlier runs stay
    return summary


def _read_json(path: Path) -> dict:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}
