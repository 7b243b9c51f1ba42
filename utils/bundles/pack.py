"""``python -m utils.bundle pack``: a benchmark's questions, the judged models' answers and judgments, the baselines'
answers, the judge config and the table they give, in one bundle.

Everything is read and checked before anything is written: the judge
config, every file the bundle needs (each read once, hashed and summarised
from the same bytes), and the table, computed by show_result.py on exactly
these files (linked into a temporary directory beside a judge config
written out in full, so no default of this checkout is left implicit). The
bundle is then written in one go; its files are hashed again as they are
copied in, so a file that changed meanwhile stops the packing.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from utils.asking.judge_prompts import DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, prompt_hash
from utils.bundles.archive import write_bundle
from utils.bundles.manifest import (CLAIMED_CSV, JUDGE_CONFIG, SCHEMA_VERSION, answer_summary, data_member,
                                    judging_facts, judgment_summary, sha256_hex, software)
from utils.bundles.scoring import check_flags, run_settings, start_scoring, table_rows
from utils.plumbing.config import JudgePrompt, JudgeSettings, load_judge_settings, load_yaml, model_config
from utils.plumbing.errors import InputError
from utils.plumbing.jsonl import json_object, parse_jsonl
from utils.plumbing.names import answer_cost_file, answer_file, judgment_cost_file, judgment_file, question_file
from utils.plumbing.store import check_writable
from utils.vocabulary.records import judgment_provenance, question_from_json, record_uid

# what an api_config.yaml entry says of how a model was asked, recorded for readers (no keys, no addresses)
ENTRY_FIELDS = ("model_name", "api_type", "temperature", "max_tokens", "reasoning_effort", "thinking_budget")


@dataclass
class Packed:
    manifest: dict
    table: str  # what show_result.py printed for the bundle's files


class _Files:
    """The data files going into a bundle: each read once, its bytes hashed and parsed from the same buffer."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.sources: dict[str, Path] = {}
        self.facts: dict[str, dict] = {}

    def take(self, path: Path) -> tuple[str, bytes]:
        data = path.read_bytes()
        member = data_member(self.data_dir, path)
        self.sources[member], self.facts[member] = path, {"sha256": sha256_hex(data), "bytes": len(data)}
        return member, data

    def records(self, path: Path) -> tuple[str, list[dict]]:
        member, data = self.take(path)
        return member, [json_object(obj, path, line) for line, obj in parse_jsonl(data, path)]


def pack_bundle(target: Path, setting_file: Path, data_dir: Path, models: list[str] | None,
                endpoint_file: Path | None, flags: list[str], judges: list[str] | None = None) -> Packed:
    """Write the bundle ``target`` of ``models`` (default: the judge config's model_list) judged as
    ``setting_file`` says (by ``judges`` instead of its judge_model when given, as gen_judgment.py --judge does),
    scored with show_result.py's ``flags``; return its manifest and table."""
    check_writable(target, "bundle")
    check_flags(flags)
    settings, _ = load_judge_settings(setting_file, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE, models, judges)
    if not settings.model_list:
        raise InputError("no model to pack: name them with --model or in model_list", setting_file, key="model_list")
    files = _Files(data_dir)
    path = _needed(question_file(data_dir, settings.bench_name), "questions")
    question_member, data = files.take(path)
    categories = {q.uid: q.category
                  for q in (question_from_json(obj, path, line) for line, obj in parse_jsonl(data, path))}
    judgments, baselines = _judgments(files, settings, categories)
    answers = _answers(files, settings, baselines)
    for model in settings.model_list:
        for path in [answer_cost_file(data_dir, settings.bench_name, model),
                     *(judgment_cost_file(data_dir, settings.bench_name, j, model) for j in settings.judge_models)]:
            if path.is_file():
                files.take(path)
    config = judge_config_text(settings)
    with tempfile.TemporaryDirectory(prefix="arena-bundle-") as tmp:
        stage = _stage(Path(tmp), files, config, settings)
        scoring = start_scoring(stage, settings.bench_name, flags, stage / "work")
        claimed, error = scoring.finish(str(data_dir))
        if claimed is None:
            raise InputError(f"show_result.py cannot score these files: {error}")
        table = scoring.table_text()
    manifest = {
        "schema_version": SCHEMA_VERSION, "bench": settings.bench_name,
        "files": {**files.facts, **{name: {"sha256": sha256_hex(data), "bytes": len(data)}
                                    for name, data in ((JUDGE_CONFIG, config), (CLAIMED_CSV, claimed))}},
        "questions": {"file": question_member, "count": len(categories)},
        "answers": answers, "judgments": judgments,
        "judge_config": {"file": JUDGE_CONFIG, **judging_facts(settings)},
        "endpoints": _entries(endpoint_file, [*settings.judge_models, *answers]),
        "show_result": {"flags": flags, "csv": CLAIMED_CSV, **run_settings(claimed)},
        "claimed": table_rows(claimed),
        "software": software(),
    }
    write_bundle(target, manifest, {**files.sources, JUDGE_CONFIG: config, CLAIMED_CSV: claimed})
    return Packed(manifest, table)


def _needed(path: Path, what: str) -> Path:
    if not path.is_file():
        raise InputError(f"no {what}: file not found", path)
    return path


def _one_record_each(records: list[dict], path: Path) -> None:
    """A bundle holds one judgment per question: two (a run killed while it judged a question again, before
    its final rewrite) would be read one way by show_result and another by verify, so the file is settled first."""
    seen: set = set()
    for line, record in enumerate(records, 1):
        uid = record_uid(record)
        if uid in seen:
            raise InputError(f"question {uid} has two judgments (a run stopped while judging it again): run "
                             "gen_judgment.py once more, which keeps the newer and rewrites the file, then pack",
                             path, line)
        seen.add(uid)


def _judged_with(settings: JudgeSettings, records: list[dict], categories: dict[str, str], path: Path) -> None:
    """Refuse judgments whose provenance records another judge prompt than the judge config's (verify would find
    the bundle differing from itself): they were made with another config, or are stale under this one."""
    for line, record in enumerate(records, 1):
        recorded = (judgment_provenance(record) or {}).get("prompt_hash")
        if recorded is None:  # written before provenance was recorded: nothing to hold it to
            continue
        prompt = settings.prompt_for(categories.get(record_uid(record) or "", ""))
        if recorded != prompt_hash(prompt, settings.structured):
            raise InputError(f"question {record_uid(record)} was judged with another judge prompt than "
                             f"{settings.path}'s: pack with the judge config the judgments were made with, or judge "
                             f"them again with this one (python gen_judgment.py --setting-file {settings.path})",
                             path, line, "provenance.prompt_hash")


def _judgments(files: _Files, settings: JudgeSettings, categories: dict[str, str]) -> tuple[dict, set[str]]:
    """Each judge's judgment file of each model, summarised, and the baselines its records were judged against."""
    judgments: dict[str, dict] = {}
    baselines: set[str] = set()
    for judge in settings.judge_models:
        for model in settings.model_list:
            path = judgment_file(files.data_dir, settings.bench_name, judge, model)
            member, records = files.records(_needed(path, f"judgments of {model} by {judge}"))
            _one_record_each(records, path)
            _judged_with(settings, records, categories, path)
            judgments.setdefault(judge, {})[model] = {"file": member, "summary": judgment_summary(records)}
            for record in records:
                category = categories.get(record_uid(record) or "", "")
                baselines.add(record.get("baseline") or settings.prompt_for(category).baseline_model)
    return judgments, baselines


def _answers(files: _Files, settings: JudgeSettings, baselines: set[str]) -> dict[str, dict]:
    """The answer file of every judged model, baseline and reference model, summarised, with its role."""
    roles = {**{m: "judged" for m in settings.model_list}, **{b: "baseline" for b in sorted(baselines)},
             **({settings.ref_model: "reference"} if settings.ref_model else {})}
    out = {}
    for model, role in roles.items():
        path = answer_file(files.data_dir, settings.bench_name, model)
        member, records = files.records(_needed(path, f"answers of {model} ({role})"))
        out[model] = {"file": member, "role": role, "summary": answer_summary(records)}
    return out


def _prompt_keys(prompt: JudgePrompt) -> dict:
    return {"baseline_model": prompt.baseline_model, "system_prompt": prompt.system_prompt,
            "prompt_template": list(prompt.prompt_template), "regex_patterns": list(prompt.regex_patterns)}


class _Readable(yaml.SafeDumper):
    """Prompts as blocks of text a reader can read (PyYAML quotes a text a block cannot hold exactly)."""


_Readable.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def judge_config_text(settings: JudgeSettings) -> bytes:
    """The judge settings written out in full (every prompt's text, every category's entry), so the bundle's
    judge config loads to the same settings on any checkout, whatever its defaults."""
    doc = {"bench_name": settings.bench_name, "judge_model": list(settings.judge_models), "baseline": True,
           "pairwise": True, **_prompt_keys(settings.prompt), "reference": settings.ref_model is not None,
           "ref_model": settings.ref_model, "temperature": settings.temperature, "max_tokens": settings.max_tokens,
           "number_of_judgment_attempts": settings.attempts, "structured_verdicts": settings.structured,
           "categories": {name: _prompt_keys(p) for name, p in sorted(settings.categories.items())},
           "model_list": list(settings.model_list)}
    text = "# The judge settings of this bundle's judgments, written out in full by python -m utils.bundle pack\n"
    return (text + yaml.dump(doc, Dumper=_Readable, sort_keys=False, allow_unicode=True, width=1 << 20)).encode("utf-8")


def _stage(root: Path, files: _Files, config: bytes, settings: JudgeSettings) -> Path:
    """The bundle as verify will unpack it, in ``root``: the data files linked, the judge config written out."""
    for member, source in files.sources.items():
        target = root.joinpath(*member.split("/"))
        target.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(source.resolve(), target)
    (root / JUDGE_CONFIG).write_bytes(config)
    written, _ = load_judge_settings(root / JUDGE_CONFIG, DEFAULT_SYSTEM_PROMPT, DEFAULT_TEMPLATE)
    if judging_facts(written) != judging_facts(settings):  # the YAML writer must keep every text as it is
        raise RuntimeError(f"{JUDGE_CONFIG} does not load back to the judge settings it was written from")
    return root


def _entries(path: Path | None, names: list[str]) -> dict[str, dict]:
    """What api_config.yaml says of how each judge and model was asked (ENTRY_FIELDS), for the names it has."""
    if path is None:
        return {}
    doc = load_yaml(path)
    found = [name for name in dict.fromkeys(names) if isinstance(doc.data, dict) and name in doc.data]
    entries = {name: model_config(doc, name, key_needed=False) for name in found}
    return {name: {key: getattr(cfg, key) for key in ENTRY_FIELDS} for name, cfg in entries.items()}
