"""YAML configuration: loading with line numbers, ``${ENV_VAR}`` interpolation, validation.

Every config file is checked completely before the first request is sent, and
a problem is reported as one InputError naming the file, the line and the key.
API keys are read here, without surrounding whitespace, and kept in
``Endpoint.api_key``, whose repr hides it, so a key can never reach a log line
or a traceback through a printed config; ``utils.plumbing.keys`` masks them wherever
else they might show. What an entry may hold that depends on its provider
(the allowed ``api_type``s, the key's environment variable, the endpoint
fields it needs, its reasoning keys) comes from the provider registry,
utils/asking/providers; the entry's shape is utils/plumbing/entry.py.
"""
from __future__ import annotations

import math
import os
import re
import string
import urllib.parse
import warnings
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from utils.asking.providers import PROVIDERS
from utils.asking.providers.base import PROVIDER_KEYS, Provider
from utils.plumbing.entry import Endpoint, ModelConfig, Price
from utils.plumbing.errors import InputError, known_names
from utils.plumbing.keys import clean_key, unsendable
from utils.plumbing.names import check_name
from utils.vocabulary.answer_checks import CHECKS, MISMATCHED, POLICIES
from utils.vocabulary.benchmarks import OFFICIAL_BASELINES, UNPUBLISHED_BASELINES  # noqa: F401 - named here too
from utils.vocabulary.style import ENCODINGS
from utils.vocabulary.verdicts import DEFAULT_LABEL_PATTERN

_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


# ---------------------------------------------------------------- YAML with line numbers


@dataclass
class Document:
    """A parsed YAML file and the line of every key path in it, for error messages."""

    path: Path
    data: Any
    lines: dict[tuple, int]

    def line(self, *keys) -> int | None:
        while keys:
            if keys in self.lines:
                return self.lines[keys]
            keys = keys[:-1]
        return None

    def error(self, message: str, *keys) -> InputError:
        return InputError(message, self.path, self.line(*keys), ".".join(str(k) for k in keys) or None)


def _scalar(node: yaml.Node) -> Any:
    # YAML's own constructor: serialising an empty value (``key:`` alone) and parsing it again fails
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def _to_python(node: yaml.Node, path: tuple, lines: dict, doc_path: Path) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise InputError("a key must be a plain name, not a list or mapping", doc_path,
                                 key_node.start_mark.line + 1, ".".join(map(str, path)) or None)
            key = _scalar(key_node)
            if key in out:
                raise InputError("duplicate key", doc_path, key_node.start_mark.line + 1, ".".join(map(str, path + (key,))))
            out[key] = _to_python(value_node, path + (key,), lines, doc_path)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, path + (i,), lines, doc_path) for i, item in enumerate(node.value)]
    return _scalar(node)


# PyYAML's words for a line indented too far or not far enough (the mistake is often on the line before)
_INDENT_PROBLEMS = ("mapping values are not allowed", "expected <block end>", "could not find expected ':'",
                    "did not find expected key")
INDENT_HINT = (" (check the indentation of this line and the one before: the keys of one entry line up, "
               "indented with spaces, never tabs)")


def load_yaml(path: Path | str) -> Document:
    path = Path(path)
    if not path.is_file():
        raise InputError("config file not found", path)
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or ""
        hint = INDENT_HINT if any(words in problem for words in _INDENT_PROBLEMS) else ""
        raise InputError(f"not valid YAML: {problem}{hint}", path, mark.line + 1 if mark else None) from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:
        raise InputError(f"not valid YAML: {err}", path) from None
    lines: dict[tuple, int] = {}
    data = _to_python(node, (), lines, path) if node is not None else None
    return Document(path, data, lines)


def interpolate(value: str, doc: Document, *keys) -> str:
    """Replace ``${NAME}`` with the environment variable NAME; an unset variable is an error."""
    def sub(match: re.Match) -> str:
        name = match.group(1)
        if name not in os.environ:
            raise doc.error(f"environment variable {name} is not set", *keys)
        return os.environ[name]
    return _ENV_REF.sub(sub, value)


# ---------------------------------------------------------------- typed getters


def _type_name(kind) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false", list: "a list",
            dict: "a mapping"}.get(kind, kind.__name__)


def get(doc: Document, mapping: dict, keys: tuple, key: str, kind, default=..., *, minimum=None):
    """``mapping[key]`` checked against ``kind`` (ints are accepted as floats), or ``default`` when absent."""
    if key not in mapping or mapping[key] is None:
        if default is ...:
            raise doc.error(f"missing key (expected {_type_name(kind)})", *keys, key)
        return default
    value = mapping[key]
    ok = isinstance(value, kind) and not (kind in (int, float) and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        shown = "a value that is hidden here" if key == "api_key" else repr(value)  # a key is never echoed
        raise doc.error(f"expected {_type_name(kind)}, got {shown}", *keys, key)
    if kind is float and not math.isfinite(value):  # YAML's .nan and .inf: every number here must be a real one
        raise doc.error(f"must be a finite number, got {value!r}", *keys, key)
    if minimum is not None and value < minimum:
        raise doc.error(f"must be at least {minimum}, got {value!r}", *keys, key)
    if isinstance(value, str):
        value = interpolate(value, doc, *keys, key)
    return value


def check_keys(doc: Document, mapping: Any, keys: tuple, known: set[str], what: str) -> dict:
    if not isinstance(mapping, dict):
        raise doc.error(f"{what} must be a mapping of keys to values", *keys)
    for key in mapping:
        if key not in known:
            raise doc.error(f"unknown key in {what} (expected one of: {', '.join(sorted(known))})", *keys, key)
    return mapping


# ---------------------------------------------------------------- api_config.yaml


_MODEL_KEYS = {"model_name", "endpoints", "api_type", "parallel", "system_prompt", "max_tokens", "temperature",
               "extra_body", "timeout", "max_retries", "tokenizer", "reasoning_policy", "price", "family", "batch",
               *PROVIDER_KEYS}
_PRICE_KEYS = {"input", "output", "batch_discount"}
REASONING_EFFORTS = ("low", "medium", "high")
MAX_TOKENS_FIELDS = ("max_tokens", "max_completion_tokens")
REASONING_POLICIES = ("strip", "keep")
MIN_THINKING_BUDGET = 1024  # the smallest budget_tokens Anthropic accepts
_ENDPOINT_KEYS = {"api_base", "api_key", "api_version"}


def _endpoint(doc: Document, raw: Any, keys: tuple, provider: type[Provider], key_needed: bool = True) -> Endpoint:
    check_keys(doc, raw, keys, _ENDPOINT_KEYS, "an endpoint")
    base = get(doc, raw, keys, "api_base", str, None)
    # stripped: a key read with its line break would be an illegal header, which the HTTP library quotes
    try:
        key = clean_key(get(doc, raw, keys, "api_key", str, None)) or None
    except InputError:  # ${VAR} of a variable not set: a dry run, which sends nothing, does without
        if key_needed:
            raise
        key = None
    variable, where = provider.key_variable, (*keys, "api_key")
    if key is None and variable:
        key = clean_key(os.environ.get(variable)) or None
        where = keys
    if key is None and base is None and key_needed:
        raise doc.error(f"no API key: set api_key or the environment variable {variable}", *keys)
    if key is not None and unsendable(key):
        holder = "this key" if len(where) > len(keys) else f"the key in the environment variable {variable}"
        raise doc.error(f"{holder} holds a line break or another control character inside it, which no request can "
                        "carry; fix it where it is set (it is not shown here)", *where)
    if base is not None and not is_url(base):
        raise doc.error("not a URL: expected http:// or https:// and a host, e.g. http://127.0.0.1:8000/v1 (the "
                        "value is not shown: it may hold a password)", *keys, "api_base")
    fields = {"api_base": base, "api_version": get(doc, raw, keys, "api_version", str, None)}
    for name, what in provider.needs.items():
        fields[name] = fields[name] or os.environ.get(provider.field_variables.get(name, "")) or None
        if fields[name] is None:
            also = f"; or set {provider.field_variables[name]}" if name in provider.field_variables else ""
            raise doc.error(f"{provider.api_type} endpoints need {name} ({what}{also})", *keys)
    return Endpoint(api_key=key, **fields)


def is_url(text: str) -> bool:
    """Whether ``text`` is an http(s) URL with a host: what an endpoint's api_base must be."""
    try:
        parts = urllib.parse.urlsplit(text)
        host, _ = parts.hostname, parts.port  # the port is checked when read
    except ValueError:  # a port that is no number (or out of range), a malformed IPv6 address
        return False
    return parts.scheme in ("http", "https") and bool(host) and not any(c.isspace() for c in text)


def model_config(doc: Document, name: str, key_needed: bool = True) -> ModelConfig:
    raw = check_keys(doc, doc.data[name], (name,), _MODEL_KEYS, f"model {name!r}")
    keys = (name,)
    api_type = get(doc, raw, keys, "api_type", str, "openai")
    if api_type not in PROVIDERS:
        raise doc.error(f"expected one of {', '.join(PROVIDERS)}, got {api_type!r}", name, "api_type")
    provider = PROVIDERS[api_type]
    endpoints_raw = raw.get("endpoints")
    if endpoints_raw is None:
        endpoints = (_endpoint(doc, {}, keys + ("endpoints",), provider, key_needed),)
    elif isinstance(endpoints_raw, list) and endpoints_raw:
        endpoints = tuple(_endpoint(doc, e, keys + ("endpoints", i), provider, key_needed)
                          for i, e in enumerate(endpoints_raw))
    else:
        raise doc.error("expected a non-empty list of endpoints (api_base, api_key, api_version) or null",
                        name, "endpoints")
    extra = raw.get("extra_body") or {}
    if not isinstance(extra, dict):
        raise doc.error("expected a mapping of extra request fields", name, "extra_body")
    reasoning = _reasoning_settings(doc, raw, name, provider)
    batch = get(doc, raw, keys, "batch", bool, False)
    if batch and provider.batch_api is None:
        raise doc.error(f"{api_type} endpoints have no batch API; remove batch: true", name, "batch")
    return ModelConfig(
        name=name,
        model_name=get(doc, raw, keys, "model_name", str, name),
        api_type=api_type,
        endpoints=endpoints,
        parallel=get(doc, raw, keys, "parallel", int, ModelConfig.parallel, minimum=1),
        system_prompt=get(doc, raw, keys, "system_prompt", str, None),
        max_tokens=get(doc, raw, keys, "max_tokens", int, None, minimum=1),
        temperature=get(doc, raw, keys, "temperature", float, None, minimum=0.0),
        extra_body=extra,
        timeout=get(doc, raw, keys, "timeout", float, ModelConfig.timeout, minimum=0.001),
        max_retries=get(doc, raw, keys, "max_retries", int, ModelConfig.max_retries, minimum=0),
        price=_price(doc, raw, name),
        family=get(doc, raw, keys, "family", str, None),
        batch=batch,
        **reasoning,
    )


def _price(doc: Document, raw: dict, name: str) -> Price | None:
    """``price: {input, output, batch_discount}`` of one entry, in USD per million tokens."""
    if raw.get("price") is None:
        return None
    keys = (name, "price")
    table = check_keys(doc, raw["price"], keys, _PRICE_KEYS, "price")
    discount = get(doc, table, keys, "batch_discount", float, Price.batch_discount, minimum=0.0)
    if discount > 1:
        raise doc.error(f"the share of the price a batch pays, at most 1 (0.5 = half), got {discount:g}",
                        *keys, "batch_discount")
    return Price(input=get(doc, table, keys, "input", float, minimum=0.0),
                 output=get(doc, table, keys, "output", float, minimum=0.0), batch_discount=discount)


def one_of(doc: Document, raw: dict, keys: tuple, key: str, choices: tuple[str, ...], default):
    value = get(doc, raw, keys, key, str, default)
    if value is not None and value not in choices:
        raise doc.error(f"expected one of {', '.join(choices)}, got {value!r}", *keys, key)
    return value


def _reasoning_settings(doc: Document, raw: dict, name: str, provider: type[Provider]) -> dict:
    """The reasoning keys of one entry, each checked, then against the provider (what it takes, and its rules)."""
    keys = (name,)
    effort = one_of(doc, raw, keys, "reasoning_effort", REASONING_EFFORTS, None)
    field_ = one_of(doc, raw, keys, "max_tokens_field", MAX_TOKENS_FIELDS, None)
    policy = one_of(doc, raw, keys, "reasoning_policy", REASONING_POLICIES, "strip")
    budget = None
    if raw.get("thinking") is not None:
        thinking = check_keys(doc, raw["thinking"], (name, "thinking"), {"budget_tokens"}, "thinking")
        budget = get(doc, thinking, (name, "thinking"), "budget_tokens", int, minimum=MIN_THINKING_BUDGET)
    for key in PROVIDER_KEYS:
        if key not in provider.entry_keys and raw.get(key) is not None:
            raise doc.error(provider.instead.get(key, f"{provider.api_type} models do not take {key}"), name, key)
    problem = provider.entry_problem(raw, budget)
    if problem is not None:
        raise doc.error(problem[1], name, problem[0])
    return {"reasoning_effort": effort, "max_tokens_field": field_, "thinking_budget": budget,
            "reasoning_policy": policy}


def check_thinking_budgets(models: dict[str, ModelConfig], step_max_tokens: int, settings: Document) -> None:
    """Before any request: a thinking model whose entry sets no max_tokens gets the step's, which must
    exceed its thinking budget (Anthropic refuses the request otherwise)."""
    for cfg in models.values():
        if cfg.thinking_budget is not None and cfg.max_tokens is None and step_max_tokens <= cfg.thinking_budget:
            raise settings.error(f"max_tokens ({step_max_tokens}) must exceed the thinking budget_tokens "
                                 f"({cfg.thinking_budget}) of model {cfg.name!r}; raise it here or set max_tokens "
                                 "in that model's entry", "max_tokens")


def load_api_config(path: Path | str, wanted: list[str], wanted_from: Document | str | None = None,
                    wanted_key: str = "model_list", keys_needed: bool = True,
                    other_choice: str = "") -> dict[str, ModelConfig]:
    """The entries of api_config.yaml named in ``wanted``, validated; an unknown name is an error.

    ``wanted_from`` says who asked for the names, so an unknown model is
    reported there: the settings file (at the line of ``wanted_key``), or a
    command-line flag such as ``"--model"``. Without ``keys_needed`` (a dry
    run, which sends nothing) an endpoint may lack its API key.
    ``other_choice``: the flag that picks other entries, said after an error in
    an entry the user did not name (the settings' judge lacking a key, say).
    """
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.error("expected a mapping of model names to their settings")
    out = {}
    for i, name in enumerate(wanted):
        if name not in doc.data:
            hint = known_names(name, (k for k in doc.data if isinstance(k, str)))
            if isinstance(wanted_from, Document):
                raise wanted_from.error(f"model {name!r} is not defined in {doc.path} ({hint})", wanted_key, i)
            if isinstance(wanted_from, str):
                raise InputError(f"model {name!r} is not defined in {doc.path} ({hint})", key=wanted_from)
            raise doc.error(f"model {name!r} is not defined here ({hint})")
        try:
            out[name] = model_config(doc, name, keys_needed)
        except InputError as err:
            if other_choice and isinstance(wanted_from, Document):
                err.message += (f" ({name} is the {wanted_key} of {wanted_from.path}; {other_choice} with another "
                                f"entry of {doc.path})")
            raise
    return out


# ---------------------------------------------------------------- gen_answer_config.yaml


@dataclass(frozen=True)
class AnswerSettings:
    bench_name: str
    model_list: tuple[str, ...]
    temperature: float = 0.0
    max_tokens: int = 4096
    num_choices: int = 1
    style_encoding: str | None = None  # the tokenizer of token_len; None: the benchmark's own (utils.vocabulary.style)


def model_list(doc: Document, raw: dict, key: str = "model_list") -> tuple[str, ...]:
    value = get(doc, raw, (), key, list)
    if not value:
        raise doc.error("expected a non-empty list of model names", key)
    seen = set()
    for i, name in enumerate(value):
        check_name(name, "model name", doc.path, doc.line(key, i))
        if name in seen:
            raise doc.error(f"model {name!r} is listed twice", key, i)
        seen.add(name)
    return tuple(value)


def models_to_run(doc: Document, raw: dict, chosen: list[str] | None, needed: bool = True) -> tuple[str, ...]:
    """The settings' ``model_list``, or the models named with ``--model``, which replace it for this run.

    ``needed``: whether a run without models is an error (the asking steps); show_result ranks the models that
    have judgments, so an empty list is no error there, though a list that is given is still checked."""
    if not chosen:
        if not raw.get("model_list"):
            if not needed:
                return ()
            raise doc.error("no models to run: list them under model_list, or name them with --model NAME",
                            "model_list")
        return model_list(doc, raw)
    return flag_names(chosen, "--model")


def flag_names(chosen: list[str], flag: str) -> tuple[str, ...]:
    """Model names given on the command line with ``flag``, checked as names in a settings file are."""
    for i, name in enumerate(chosen):
        check_name(name, flag)
        if name in chosen[:i]:
            raise InputError(f"model {name!r} is given twice", key=flag)
    return tuple(chosen)


def bench_name(doc: Document, raw: dict) -> str:
    return check_name(get(doc, raw, (), "bench_name", str), "bench_name", doc.path, doc.line("bench_name"))


def load_answer_settings(path: Path | str, models: list[str] | None = None) -> tuple[AnswerSettings, Document]:
    """gen_answer_config.yaml (the original's ``name`` is accepted and unused); ``models`` replace model_list."""
    doc = load_yaml(path)
    raw = check_keys(doc, doc.data, (), {"name", "bench_name", "temperature", "max_tokens", "num_choices",
                                         "model_list", "style_encoding"}, "the answer settings")
    settings = AnswerSettings(
        bench_name=bench_name(doc, raw),
        model_list=models_to_run(doc, raw, models),
        temperature=get(doc, raw, (), "temperature", float, AnswerSettings.temperature, minimum=0.0),
        max_tokens=get(doc, raw, (), "max_tokens", int, AnswerSettings.max_tokens, minimum=1),
        num_choices=get(doc, raw, (), "num_choices", int, AnswerSettings.num_choices, minimum=1),
        style_encoding=one_of(doc, raw, (), "style_encoding", ENCODINGS, None),
    )
    if settings.num_choices != 1:
        raise doc.error(f"only num_choices: 1 is supported (a judgment compares one answer per question), "
                        f"got {settings.num_choices}", "num_choices")
    return settings, doc


# ---------------------------------------------------------------- judge_config.yaml

# Placeholders a judge prompt template may use: the original's numbered ones
# ({question_1}, {answer_1}, {answer_2}, {ref_answer_1}, ...) and the newer
# named ones. Anything else in braces is a mistake we report before judging.
_PLACEHOLDER = re.compile(r"(question|answer|ref_answer)_[1-9][0-9]*|QUESTION|ANSWER_A|ANSWER_B|REF_ANSWER")
_REF_PLACEHOLDER = re.compile(r"ref_answer_[0-9]+|REF_ANSWER")
_NUMBERED_ANSWER = re.compile(r"answer_([1-9][0-9]*)")


def _left_out(used: set[str]) -> list[tuple[str, str]]:
    """What templates using the placeholders ``used`` never show the judge, each with the placeholder to add.

    Numbered answers run on from A's turns to B's ({answer_1} is A's first turn, {answer_2} B's
    for single-turn questions, A's second for two-turn ones), so only a placeholder set that
    cannot show both sides whatever the turns is refused here; utils.asking.judge_prompts.TemplateCheck
    checks the rest once the turns are known.
    """
    numbered = [int(m.group(1)) for m in map(_NUMBERED_ANSWER.fullmatch, used) if m]
    shows = {
        "the question": "QUESTION" in used or any(name.startswith("question_") for name in used),
        "assistant A's answer": "ANSWER_A" in used or bool(numbered),
        "assistant B's answer": "ANSWER_B" in used or (max(numbered, default=1) >= 2
                                                       and ("ANSWER_A" in used or len(numbered) >= 2)),
    }
    hints = {"the question": "{QUESTION} (or {question_1})", "assistant A's answer": "{ANSWER_A} (or {answer_1})",
             "assistant B's answer": "{ANSWER_B} (or {answer_2})"}
    return [(what, hints[what]) for what, shown in shows.items() if not shown]


@dataclass(frozen=True)
class JudgePrompt:
    """How one kind of question is judged: against which baseline, with which prompt and label patterns."""
    baseline_model: str
    system_prompt: str
    prompt_template: tuple[str, ...]  # one user message per entry, as the original config's list
    regex_patterns: tuple[str, ...]


@dataclass(frozen=True)
class JudgeSettings:
    bench_name: str
    judge_models: tuple[str, ...]
    model_list: tuple[str, ...]
    prompt: JudgePrompt  # for questions whose category has no entry of its own
    categories: dict = field(default_factory=dict)  # category -> JudgePrompt
    ref_model: str | None = None
    temperature: float = 0.0
    max_tokens: int = 4096
    attempts: int = 2  # number_of_judgment_attempts
    structured: bool = False  # ask for a JSON verdict through response_format
    path: str = ""  # the file these settings were read from, for messages
    # check -> "judge" or "skip", for every check of utils.vocabulary.answer_checks.CHECKS (answer_checks: in the file)
    answer_checks: dict = field(default_factory=lambda: dict.fromkeys(CHECKS, "judge"))

    def prompt_for(self, category: str) -> JudgePrompt:
        return self.categories.get(category, self.prompt)


_PROMPT_KEYS = {"baseline_model", "system_prompt", "system_prompt_file", "prompt_template", "regex_pattern",
                "regex_patterns"}
_JUDGE_KEYS = _PROMPT_KEYS | {"name", "bench_name", "judge_model", "reference", "ref_model", "baseline", "pairwise",
                              "temperature", "max_tokens", "number_of_judgment_attempts", "model_list",
                              "structured_verdicts", "categories", "answer_checks"}


def _names(doc: Document, raw: dict, key: str) -> tuple[str, ...]:
    """A model name or a list of them (``judge_model: a`` or ``judge_model: [a, b]``)."""
    value = raw.get(key)
    if isinstance(value, str):
        return (check_name(value, key, doc.path, doc.line(key)),)
    if value is None:
        raise doc.error("missing key (expected a model name or a list of them)", key)
    if not isinstance(value, list):
        raise doc.error(f"expected a model name or a list of them, got {value!r}", key)
    return model_list(doc, raw, key)


def _templates(doc: Document, raw: dict, keys: tuple, default: tuple[str, ...], reference: bool) -> tuple[str, ...]:
    value = raw.get("prompt_template")
    if value is None:
        return default
    templates = [value] if isinstance(value, str) else value
    if not isinstance(templates, list) or not templates or not all(isinstance(t, str) for t in templates):
        raise doc.error("expected a template string or a non-empty list of them", *keys, "prompt_template")
    used: set[str] = set()
    for i, template in enumerate(templates):
        where = (*keys, "prompt_template") + ((i,) if isinstance(value, list) else ())
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as err:
            raise doc.error(f"not a valid template ({err}); write a literal brace as {{{{ or }}}}", *where) from None
        for name in fields:
            if not _PLACEHOLDER.fullmatch(name):
                raise doc.error(f"unknown placeholder {{{name}}} (use {{question_1}}, {{answer_1}}, {{answer_2}}, "
                                "{ref_answer_1} or {QUESTION}, {ANSWER_A}, {ANSWER_B}; a literal brace is {{ or }})",
                                *where)
            if _REF_PLACEHOLDER.fullmatch(name) and not reference:
                raise doc.error(f"{{{name}}} needs a reference answer: set reference: true and ref_model", *where)
            used.add(name)
    left_out = _left_out(used)
    if left_out:  # a judge asked about answers it is not shown still returns verdicts, all of them worthless
        raise doc.error("the prompt never shows the judge " + " and ".join(what for what, _ in left_out)
                        + ": use " + " and ".join(hint for _, hint in left_out), *keys, "prompt_template")
    return tuple(templates)


def _patterns(doc: Document, raw: dict, keys: tuple, default: tuple[str, ...]) -> tuple[str, ...]:
    if "regex_pattern" in raw and "regex_patterns" in raw:
        raise doc.error("give regex_pattern or regex_patterns, not both", *keys, "regex_patterns")
    if raw.get("regex_patterns") is not None:
        key, value = "regex_patterns", raw["regex_patterns"]
        if not isinstance(value, list) or not value or not all(isinstance(p, str) for p in value):
            raise doc.error("expected a non-empty list of regular expressions", *keys, key)
    elif raw.get("regex_pattern") is not None:
        key, value = "regex_pattern", [get(doc, raw, keys, "regex_pattern", str)]
    else:
        return default
    for pattern in value:
        try:
            compiled = compile_pattern(pattern)
        except re.error as err:
            raise doc.error(f"not a valid regular expression: {err}", *keys, key) from None
        if compiled.groups != 1:
            raise doc.error("the pattern needs exactly one capturing group, around the label", *keys, key)
    return tuple(value)


@lru_cache(maxsize=64)
def compile_pattern(pattern: str) -> re.Pattern:
    """A user's label pattern; Python's hints about future regex syntax are not the user's business here."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(pattern)


def _system_prompt(doc: Document, raw: dict, keys: tuple, fallback: str) -> str:
    """``system_prompt``, or the text of ``system_prompt_file`` (relative to this YAML file's folder).

    The file's text is used as it is, less one final line break (editors add
    one), so a prompt kept in a file can match a prompt written in code exactly.
    """
    if raw.get("system_prompt") is not None and raw.get("system_prompt_file") is not None:
        raise doc.error("give system_prompt or system_prompt_file, not both", *keys, "system_prompt_file")
    name = get(doc, raw, keys, "system_prompt_file", str, None)
    if name is None:
        return get(doc, raw, keys, "system_prompt", str, fallback)
    path = doc.path.parent / Path(name).expanduser()
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as err:
        raise doc.error(f"cannot read the system prompt file {path}: {err.strerror or err}",
                        *keys, "system_prompt_file") from None
    except UnicodeDecodeError:
        raise doc.error(f"the system prompt file {path} is not UTF-8 text", *keys, "system_prompt_file") from None
    return text.removesuffix("\n").removesuffix("\r")


def _judge_prompt(doc: Document, raw: dict, keys: tuple, fallback: JudgePrompt, reference: bool) -> JudgePrompt:
    baseline = get(doc, raw, keys, "baseline_model", str, fallback.baseline_model)
    return JudgePrompt(
        baseline_model=check_name(baseline, "baseline_model", doc.path, doc.line(*keys, "baseline_model")),
        system_prompt=_system_prompt(doc, raw, keys, fallback.system_prompt),
        prompt_template=_templates(doc, raw, keys, fallback.prompt_template, reference),
        regex_patterns=_patterns(doc, raw, keys, fallback.regex_patterns),
    )


def load_judge_settings(path: Path | str, default_system_prompt: str, default_template: tuple[str, ...],
                        models: list[str] | None = None, judges: list[str] | None = None, *,
                        models_needed: bool = True) -> tuple[JudgeSettings, Document]:
    """judge_config.yaml in the shape of the original tool's, plus ``structured_verdicts`` and ``categories``.

    Without ``baseline_model``, an official benchmark is judged against its
    official baselines (``OFFICIAL_BASELINES``), as the original tool does.
    ``models`` (from ``--model``) replace the file's model_list, ``judges``
    (from ``--judge``) its judge_model. ``models_needed``: models_to_run's ``needed``.
    """
    doc = load_yaml(path)
    raw = check_keys(doc, doc.data, (), _JUDGE_KEYS, "the judge settings")
    for flag, why in (("pairwise", "judging compares each answer with a baseline's, two games per question"),
                      ("baseline", "every game needs the baseline's answer")):
        if get(doc, raw, (), flag, bool, True) is not True:
            raise doc.error(f"only {flag}: true is supported ({why})", flag)
    reference = get(doc, raw, (), "reference", bool, False)
    ref_model = get(doc, raw, (), "ref_model", str, None)
    if reference and not ref_model:
        raise doc.error("reference: true needs ref_model (the model whose answers are the reference)", "ref_model")
    bench = bench_name(doc, raw)
    official = OFFICIAL_BASELINES.get(bench, {}) if raw.get("baseline_model") is None else {}
    if raw.get("baseline_model") is None and not official:
        raise doc.error("missing key (expected the baseline model's name)", "baseline_model")
    start = JudgePrompt(next(iter(official.values()), ""), default_system_prompt, default_template,
                        (DEFAULT_LABEL_PATTERN,))
    prompt = _judge_prompt(doc, raw, (), start, reference)
    categories = {category: replace(prompt, baseline_model=baseline) for category, baseline in official.items()}
    table = raw.get("categories") or {}
    if not isinstance(table, dict):
        raise doc.error("expected a mapping of category name to its settings", "categories")
    for name, entry in table.items():
        check_keys(doc, entry, ("categories", name), _PROMPT_KEYS, f"category {name!r}")
        fallback = categories.get(str(name), prompt)
        categories[str(name)] = _judge_prompt(doc, entry, ("categories", name), fallback, reference)
    settings = JudgeSettings(
        bench_name=bench,
        judge_models=flag_names(judges, "--judge") if judges else _names(doc, raw, "judge_model"),
        model_list=models_to_run(doc, raw, models, models_needed),
        prompt=prompt,
        categories=categories,
        ref_model=check_name(ref_model, "ref_model", doc.path, doc.line("ref_model")) if reference else None,
        temperature=get(doc, raw, (), "temperature", float, JudgeSettings.temperature, minimum=0.0),
        max_tokens=get(doc, raw, (), "max_tokens", int, JudgeSettings.max_tokens, minimum=1),
        attempts=get(doc, raw, (), "number_of_judgment_attempts", int, JudgeSettings.attempts, minimum=1),
        structured=get(doc, raw, (), "structured_verdicts", bool, JudgeSettings.structured),
        path=str(doc.path),
        answer_checks=_answer_checks(doc, raw),
    )
    return settings, doc


def _answer_checks(doc: Document, raw: dict) -> dict[str, str]:
    """``answer_checks: {truncated: judge|skip, ...}``: what to do with answers that fail a check (default: judge)."""
    table = raw.get("answer_checks")
    if table is None:
        return dict.fromkeys(CHECKS, "judge")
    if isinstance(table, dict) and MISMATCHED in table:
        raise doc.error("mismatched answers (made for another question) are never judged; gen_judgment.py "
                        "--allow-mismatch judges the other answers", "answer_checks", MISMATCHED)
    check_keys(doc, table, ("answer_checks",), set(CHECKS), "answer_checks")
    return {check: one_of(doc, table, ("answer_checks",), check, POLICIES, "judge") for check in CHECKS}
