"""YAML configuration: loading with line numbers, ``${ENV_VAR}`` interpolation, validation.

Every config file is checked completely before the first request is sent, and
a problem is reported as one InputError naming the file, the line and the key.
API keys are read here and kept in ``Endpoint.api_key``, whose repr hides it,
so a key can never reach a log line or a traceback through a printed config.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from utils.errors import InputError

API_TYPES = ("openai", "azure", "anthropic")
DEFAULT_KEY_VARS = {"openai": "OPENAI_API_KEY", "azure": "AZURE_OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}
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


def _to_python(node: yaml.Node, path: tuple, lines: dict, doc_path: Path) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = yaml.safe_load(yaml.serialize(key_node))
            if key in out:
                raise InputError("duplicate key", doc_path, key_node.start_mark.line + 1, ".".join(map(str, path + (key,))))
            out[key] = _to_python(value_node, path + (key,), lines, doc_path)
            lines[path + (key,)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(item, path + (i,), lines, doc_path) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def load_yaml(path: Path | str) -> Document:
    path = Path(path)
    if not path.is_file():
        raise InputError("config file not found", path)
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        raise InputError(f"not valid YAML: {err.problem or err.context}", path, mark.line + 1 if mark else None) from None
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
        raise doc.error(f"expected {_type_name(kind)}, got {value!r}", *keys, key)
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


@dataclass(frozen=True)
class Endpoint:
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed
    api_version: str | None = None


@dataclass(frozen=True)
class ModelConfig:
    """One entry of api_config.yaml: how to reach a model and how to ask it."""

    name: str  # the entry name: what answer and judgment files are named after
    model_name: str  # the name the endpoint knows the model by
    api_type: str = "openai"
    endpoints: tuple[Endpoint, ...] = (Endpoint(),)
    parallel: int = 8
    system_prompt: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    extra_body: dict = field(default_factory=dict)  # extra request fields, sent as they are
    timeout: float = 600.0  # seconds per request attempt
    max_retries: int = 6  # attempts after the first, with the SDK's backoff and jitter


_MODEL_KEYS = {"model_name", "endpoints", "api_type", "parallel", "system_prompt", "max_tokens", "temperature",
               "extra_body", "timeout", "max_retries", "tokenizer"}
_ENDPOINT_KEYS = {"api_base", "api_key", "api_version"}


def _endpoint(doc: Document, raw: Any, keys: tuple, api_type: str) -> Endpoint:
    check_keys(doc, raw, keys, _ENDPOINT_KEYS, "an endpoint")
    base = get(doc, raw, keys, "api_base", str, None)
    key = get(doc, raw, keys, "api_key", str, None)
    if key is None:
        key = os.environ.get(DEFAULT_KEY_VARS[api_type])
    if key is None and base is None:
        raise doc.error(f"no API key: set api_key or the environment variable {DEFAULT_KEY_VARS[api_type]}",
                        *keys)
    if api_type == "azure" and base is None:
        raise doc.error("azure endpoints need api_base (the resource URL)", *keys)
    return Endpoint(api_base=base, api_key=key, api_version=get(doc, raw, keys, "api_version", str, None))


def model_config(doc: Document, name: str) -> ModelConfig:
    raw = check_keys(doc, doc.data[name], (name,), _MODEL_KEYS, f"model {name!r}")
    keys = (name,)
    api_type = get(doc, raw, keys, "api_type", str, "openai")
    if api_type not in API_TYPES:
        raise doc.error(f"expected one of {', '.join(API_TYPES)}, got {api_type!r}", name, "api_type")
    endpoints_raw = raw.get("endpoints")
    if endpoints_raw is None:
        endpoints = (_endpoint(doc, {}, keys + ("endpoints",), api_type),)
    elif isinstance(endpoints_raw, list) and endpoints_raw:
        endpoints = tuple(_endpoint(doc, e, keys + ("endpoints", i), api_type) for i, e in enumerate(endpoints_raw))
    else:
        raise doc.error("expected a non-empty list of endpoints (api_base, api_key, api_version) or null",
                        name, "endpoints")
    extra = raw.get("extra_body") or {}
    if not isinstance(extra, dict):
        raise doc.error("expected a mapping of extra request fields", name, "extra_body")
    return ModelConfig(
        name=name,
        model_name=get(doc, raw, keys, "model_name", str, name),
        api_type=api_type,
        endpoints=endpoints,
        parallel=get(doc, raw, keys, "parallel", int, 8, minimum=1),
        system_prompt=get(doc, raw, keys, "system_prompt", str, None),
        max_tokens=get(doc, raw, keys, "max_tokens", int, None, minimum=1),
        temperature=get(doc, raw, keys, "temperature", float, None, minimum=0.0),
        extra_body=extra,
        timeout=get(doc, raw, keys, "timeout", float, 600.0, minimum=0.001),
        max_retries=get(doc, raw, keys, "max_retries", int, 6, minimum=0),
    )


def load_api_config(path: Path | str, wanted: list[str], wanted_from: Document | None = None,
                    wanted_key: str = "model_list") -> dict[str, ModelConfig]:
    """The entries of api_config.yaml named in ``wanted``, validated; an unknown name is an error.

    ``wanted_from`` is the settings file that asked for the names, so an unknown
    model is reported at its line there.
    """
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise doc.error("expected a mapping of model names to their settings")
    out = {}
    for i, name in enumerate(wanted):
        if name not in doc.data:
            where = wanted_from.error if wanted_from else doc.error
            raise where(f"model {name!r} is not defined in {doc.path}", wanted_key, i) if wanted_from else \
                doc.error(f"model {name!r} is not defined here")
        out[name] = model_config(doc, name)
    return out


# ---------------------------------------------------------------- gen_answer_config.yaml


@dataclass(frozen=True)
class AnswerSettings:
    bench_name: str
    model_list: tuple[str, ...]
    temperature: float = 0.0
    max_tokens: int = 4096
    num_choices: int = 1


def model_list(doc: Document, raw: dict, key: str = "model_list") -> tuple[str, ...]:
    from utils.names import check_name

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


def load_answer_settings(path: Path | str) -> tuple[AnswerSettings, Document]:
    doc = load_yaml(path)
    raw = check_keys(doc, doc.data, (), {"bench_name", "temperature", "max_tokens", "num_choices", "model_list"},
                     "the answer settings")
    from utils.names import check_name

    settings = AnswerSettings(
        bench_name=check_name(get(doc, raw, (), "bench_name", str), "bench_name", doc.path, doc.line("bench_name")),
        model_list=model_list(doc, raw),
        temperature=get(doc, raw, (), "temperature", float, 0.0, minimum=0.0),
        max_tokens=get(doc, raw, (), "max_tokens", int, 4096, minimum=1),
        num_choices=get(doc, raw, (), "num_choices", int, 1, minimum=1),
    )
    return settings, doc
