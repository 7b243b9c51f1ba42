"""Model and judge names as file names, and paths that cannot leave the data directory.

Names come from users and from other tools: Hugging Face names contain ``/``
(``org/model``), and a hostile or mistaken name could be ``../../etc`` or an
absolute path. File names are made by percent-encoding every character
outside a small safe set (so ``/`` becomes ``%2F``) and a leading dot, which
gives a single path component that can never be ``.``, ``..`` or hidden, and
``unquote`` turns it back into the exact name. Files written by other tools
(``Nexusflow__Athene-V2-Chat.jsonl``) contain no ``%`` and decode to their
stem unchanged.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from urllib.parse import quote, unquote

from utils.plumbing.errors import InputError

_SAFE = "-_.+=@,~"
_MAX_BYTES = 240  # leaves room for ".jsonl" and a temp suffix within the usual 255-byte limit
# a decision file's stem (two names): with ".json" and atomic_write's temporary name (".<name>.XXXXXXXX.tmp")
# still within 255 bytes
_PAIR_BYTES = 200


def check_name(name: object, what: str = "model name", path: object = None, line: int | None = None) -> str:
    """Return ``name`` if it can name a model or judge, else raise InputError."""
    if not isinstance(name, str) or not name.strip():
        raise InputError(f"{what} must be a non-empty string, got {name!r}", path, line, what)
    if any(ord(c) < 32 or c == "\x7f" for c in name):
        raise InputError(f"{what} {name!r} contains control characters", path, line, what)
    if len(to_filename_unchecked(name).encode()) > _MAX_BYTES:
        raise InputError(f"{what} is too long to be a file name: {name[:60]!r}...", path, line, what)
    return name


def to_filename_unchecked(name: str) -> str:
    stem = quote(name, safe=_SAFE)
    if stem.startswith("."):
        stem = "%2E" + stem[1:]
    return stem


def name_to_stem(name: str) -> str:
    """The file stem for a model or judge name; a single, safe path component."""
    return to_filename_unchecked(check_name(name))


def stem_to_name(stem: str) -> str:
    """The model or judge name a file stem stands for (inverse of ``name_to_stem``)."""
    return unquote(stem)


def inside(base: Path, *parts: str) -> Path:
    """``base/parts...``, refusing any result that is not inside ``base`` (compared as normalised absolute paths,
    in strings: a run asks for hundreds of these)."""
    root = os.path.abspath(base)
    target = os.path.abspath(os.path.join(root, *parts))
    if target != root and not target.startswith(os.path.join(root, "")):
        raise InputError(f"refusing a path outside the data directory: {target}", key="/".join(parts))
    return Path(target)


# The data directory layout: <data>/<bench>/question.jsonl, model_answer/<model>.jsonl,
# model_judgment/<judge>/<model>.jsonl, results/<judges>/ (show_result's battles and bootstrap
# results, docs/design.md#battles-file), costs/answers/<model>.json and costs/judgments/<judge>/<model>.json
# (what each answer and judgment file cost), decisions/<judges>/<A>+vs+<B>.json (gen_judgment.py
# --until-decided's order and rounds). Every path below goes through ``inside``.

def bench_dir(data_dir: Path | str, bench: str) -> Path:
    return inside(Path(data_dir), name_to_stem(check_name(bench, "bench_name")))


def question_file(data_dir: Path | str, bench: str) -> Path:
    return bench_dir(data_dir, bench) / "question.jsonl"


def answer_dir(data_dir: Path | str, bench: str) -> Path:
    return bench_dir(data_dir, bench) / "model_answer"


def answer_file(data_dir: Path | str, bench: str, model: str) -> Path:
    return inside(answer_dir(data_dir, bench), name_to_stem(model) + ".jsonl")


def judgment_dir(data_dir: Path | str, bench: str, judge: str) -> Path:
    return inside(bench_dir(data_dir, bench) / "model_judgment", name_to_stem(check_name(judge, "judge name")))


def diagnostics_file(data_dir: Path | str, bench: str, judge: str) -> Path:
    """The judge's diagnostics per model, written by gen_judgment.py and shown in the HTML report."""
    return judgment_dir(data_dir, bench, judge) / "diagnostics.json"


def judgment_file(data_dir: Path | str, bench: str, judge: str, model: str) -> Path:
    return inside(judgment_dir(data_dir, bench, judge), name_to_stem(model) + ".jsonl")


def answer_cost_file(data_dir: Path | str, bench: str, model: str) -> Path:
    """What the answers of ``model`` cost; kept out of model_answer/, where every file is read as answers."""
    return inside(bench_dir(data_dir, bench) / "costs" / "answers", name_to_stem(model) + ".json")


def judgment_cost_file(data_dir: Path | str, bench: str, judge: str, model: str) -> Path:
    """What the judgments of ``model`` by ``judge`` cost (``judgments/`` apart from ``answers/``: a judge may
    be called anything)."""
    judge_stem = name_to_stem(check_name(judge, "judge name"))
    return inside(bench_dir(data_dir, bench) / "costs" / "judgments" / judge_stem, name_to_stem(model) + ".json")


def results_dir(data_dir: Path | str, bench: str, judges) -> Path:
    """Where show_result keeps what it computed from the judgments of ``judges`` (one, or several pooled).

    The directory is named after the judge, or the judges joined by ``+``
    (a ``+`` inside a name is encoded, so that no two lists of judges share a
    directory): ``results/gpt-4.1``, ``results/gpt-4.1+second-judge``.
    """
    return inside(bench_dir(data_dir, bench) / "results", _judges_stem(judges))


def _judges_stem(judges) -> str:
    stem = "+".join(name_to_stem(check_name(judge, "judge name")).replace("+", "%2B") for judge in judges)
    if not stem or len(stem.encode()) > _MAX_BYTES:
        raise InputError(f"{len(judges)} judge names do not make a directory name of at most {_MAX_BYTES} bytes",
                         key="--judge-names")
    return stem


def decision_file(data_dir: Path | str, bench: str, judges, model_a: str, model_b: str) -> Path:
    """What ``gen_judgment.py --until-decided A B`` did with ``judges``: its order, settings and rounds, which
    show_result reads to recompute the same sequence.

    One file per pair of models and set of judges, however each is ordered
    (``B A``, or the judges listed the other way round, must find the decision
    ``A B`` started, or a second seed could be tried on the same pair): the two
    names sorted and joined by ``+vs+``, a ``+`` inside a name encoded, so that
    no two pairs share a file (``decisions/<judges>/<A>+vs+<B>.json``, the
    judges sorted and named as ``results_dir``'s). A name too long for a file
    keeps its start and ends in a digest of the whole (``_shortened``).
    """
    pair = "+vs+".join(_plus_free(check_name(name)) for name in sorted((model_a, model_b)))
    return inside(bench_dir(data_dir, bench) / "decisions" / _judges_stem(sorted(judges)), _shortened(pair) + ".json")


def _plus_free(name: str) -> str:
    """The file stem of a name with its ``+`` encoded: a ``+`` then only ever joins names."""
    return name_to_stem(name).replace("+", "%2B")


_DIGEST_CHARS = 16  # hex digits of sha256 that tell two long names apart


def _shortened(stem: str) -> str:
    """``stem``, or, when it would not fit a file name, its start, ``#`` and a digest of all of it: the digest
    keeps apart two pairs whose names share their start, and ``#``, which a stem only holds encoded, keeps a
    shortened stem from ever being another pair's whole one."""
    if len(stem.encode()) <= _PAIR_BYTES:
        return stem
    digest = hashlib.sha256(stem.encode()).hexdigest()[:_DIGEST_CHARS]
    return f"{stem[:_PAIR_BYTES - _DIGEST_CHARS - 1]}#{digest}"


def battles_file(data_dir: Path | str, bench: str, judges) -> Path:
    """The battles of the last v0.1 show_result run on ``bench`` with ``judges`` (read by --load-battles)."""
    return results_dir(data_dir, bench, judges) / "arena_hard_battles.jsonl"


def bootstrap_results_file(data_dir: Path | str, bench: str, judges) -> Path:
    """Its bootstrap results (read by --load-bootstrap and python -m utils.benchmark_quality)."""
    return results_dir(data_dir, bench, judges) / "bootstrapping_results.jsonl"


def user_cache(folder: str) -> Path | None:
    """``folder`` of this project in the user's cache ($XDG_CACHE_HOME/arena-bench, else ~/.cache/arena-bench);
    None when there is no absolute place for it (no home directory)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "arena-bench" / folder if os.path.isabs(base) else None
