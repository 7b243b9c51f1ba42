"""``show_result.py --from-bundles A B ...``: several bundles scored as one leaderboard.

Bundles can share a table only when their numbers mean the same thing, so
their manifests must agree on the benchmark, the question file, the
baselines' answer files, the judges (as configured and as asked for) and
every judge prompt; the first disagreement refuses the lot, naming both
bundles and what differs. Each bundle is then unpacked (its members must
match its manifest: a changed bundle is refused, ``verify`` says more), and
their data files are linked into one temporary data directory, where a file
two bundles both hold (the questions, a baseline's answers) must be the
same file. show_result.py then runs on that directory as on any other.
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path, PurePosixPath

from utils.bundles.archive import Unpacked, read_manifest, unpack
from utils.bundles.checks import differences, files_check
from utils.bundles.manifest import DATA, JUDGE_CONFIG
from utils.bundles.reading import bundle_settings
from utils.plumbing.errors import InputError

FLAG = "--from-bundles"


def _facts(manifest: dict) -> dict[str, object]:
    """What bundles must share to be scored together, by the name a refusal gives it."""
    files = manifest["files"]
    sent = {judge: _asked_for(entries) for judge, entries in manifest["judgments"].items()}
    return {
        "benchmark": manifest["bench"],
        "question file": files[manifest["questions"]["file"]]["sha256"],
        "baseline answers": {model: files[entry["file"]]["sha256"] for model, entry in manifest["answers"].items()
                             if entry["role"] == "baseline"},
        "judge": {"judges": manifest["judge_config"].get("judges"), "asked for": sent},
        "judge prompt": {
            "structured verdicts": manifest["judge_config"].get("structured"),
            "reference answers": manifest["judge_config"].get("ref_model"),
            **{category: {"system prompt": p.get("system_prompt_sha256"), "template": p.get("prompt_template_sha256"),
                          "label patterns": p.get("regex_patterns"), "baseline": p.get("baseline_model")}
               for category, p in (manifest["judge_config"].get("prompts") or {}).items()}},
    }


def _asked_for(entries: dict) -> list[str]:
    """The model names a judge's judgment files say it was asked for (their summaries' ``sent``)."""
    names = set()
    for entry in entries.values():
        summary = entry.get("summary") if isinstance(entry.get("summary"), dict) else {}
        sent = summary.get("sent") if isinstance(summary.get("sent"), list) else []
        names |= {str(s["model_name"]) for s in sent if isinstance(s, dict) and s.get("model_name")}
    return sorted(names)


def check_agreement(bundles: list[tuple[Path, dict]]) -> None:
    """An InputError naming the first pair of bundles that disagree, and on what."""
    first_path, first = bundles[0]
    ours = _facts(first)
    for path, manifest in bundles[1:]:
        theirs = _facts(manifest)
        for what, value in ours.items():
            found = differences(value, theirs[what], (f"in {first_path}", f"in {path}"))
            if found:
                raise InputError(f"disagrees with {first_path} on the {what} ({found[0]}); bundles scored "
                                 "together need the same questions, baselines, judge and prompt", path, key=FLAG)


def merged_data(paths: list[Path], work: Path) -> tuple[Path, Path]:
    """Unpack ``paths`` below ``work`` into one data directory: (that directory, the first bundle's judge config)."""
    check_agreement([(path, read_manifest(path)) for path in paths])
    data = work / DATA
    holder: dict[str, tuple[Path, str]] = {}  # data member -> (the bundle that brought it, its hash)
    first = None
    for i, path in enumerate(paths):
        unpacked = unpack(path, work / f"bundle-{i}")
        bundle_settings(unpacked)  # its judge config loads, naming no file of this machine
        if files_check(unpacked).outcome != "ok":
            raise InputError(f"its files do not match its manifest ({files_check(unpacked).detail}); python -m "
                             "utils.bundle verify says more", path, key=FLAG)
        first = first or unpacked
        _link_data(unpacked, data, holder)
    return data, first.path(JUDGE_CONFIG)


def _link_data(unpacked: Unpacked, data: Path, holder: dict[str, tuple[Path, str]]) -> None:
    for member, sha in unpacked.hashes.items():
        parts = PurePosixPath(member).parts
        if parts[0] != DATA:
            continue
        if member in holder:
            if holder[member][1] != sha:
                raise InputError(f"{member} is also in {holder[member][0]}, with other contents", unpacked.bundle,
                                 key=FLAG)
            continue
        holder[member] = (unpacked.bundle, sha)
        target = data.joinpath(*parts[1:])
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(unpacked.path(member), target)


def open_bundles(args: argparse.Namespace) -> None:
    """Point show_result's ``args`` at the bundles of ``args.from_bundles``: their merged data directory, and the
    first one's judge config unless --setting-file names another. The directory lives as long as ``args``."""
    if str(args.data_dir) != "data":
        raise InputError("reads the bundles' own data: leave out --data-dir", key=FLAG)
    for flag, value in (("--load-battles", args.load_battles), ("--load-bootstrap", args.load_bootstrap)):
        if value == "":  # the file of an earlier run of the same data: bundles are unpacked anew, and none is kept
            raise InputError(f"with {FLAG}, give the file's PATH: no run on bundles keeps one where {flag} looks",
                             key=flag)
    work = tempfile.TemporaryDirectory(prefix="arena-bundles-")
    args.bundle_dir = work  # removed when the run ends
    data, config = merged_data([Path(p) for p in args.from_bundles], Path(work.name))
    args.data_dir = str(data)
    if not args.setting_file:  # the first bundle's, under a name that outlives the run
        args.setting_file, args.setting_shown = str(config), f"the judge config of {args.from_bundles[0]}"
