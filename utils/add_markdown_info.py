"""Add or recompute the style metadata of answer files.

    python -m utils.add_markdown_info --dir DIR --output-dir OUT [--encoding auto|cl100k_base|o200k_base]

Every ``*.jsonl`` answer file in DIR is written to OUT under the same name
(OUT may be DIR itself). Each record keeps its layout: a 2024-layout record
(``question_id`` / ``choices``) gets ``conv_metadata``, a 2025-layout record
(``uid`` / ``messages``) gets ``metadata``, computed by
``utils.vocabulary.style.style_metadata`` from the assistant's turns. An existing
metadata field is replaced where it stands; every other field and the order
of the records are kept. ``token_len`` is counted in the encoding of the
benchmark DIR belongs to (``data/<bench>/model_answer``: o200k_base for
Arena-Hard v2, cl100k_base otherwise) unless ``--encoding`` names one.

All input files are read and checked before the first output is written, so
a bad line in the last file leaves OUT untouched; each output file is then
replaced atomically (temporary file + rename).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from utils.plumbing.cli import run_cli
from utils.plumbing.errors import InputError
from utils.plumbing.jsonl import iter_jsonl, json_object
from utils.vocabulary.records import answer_texts
from utils.plumbing.store import atomic_write, dump_line
from utils.vocabulary.style import ENCODINGS, benchmark_encoding, style_metadata_many

BATCH = 1000  # answers whose turns go to tiktoken in one encode_batch call


def metadata_key(record: object, path: Path, line: int) -> str:
    """The field the record's layout keeps its style metadata in."""
    if "messages" in json_object(record, path, line):
        return "metadata"
    if "choices" in record:
        return "conv_metadata"
    raise InputError("not an answer record: expected 'messages' (2025 layout) or 'choices' (2024 layout)",
                     path, line, "messages")


def read_answer_file(path: Path) -> tuple[list[dict], list[str], list[list[str]]]:
    """(records, metadata key of each, assistant turns of each); any bad record is an InputError."""
    records, keys, turns = [], [], []
    for line, record in iter_jsonl(path):
        keys.append(metadata_key(record, path, line))
        turns.append(answer_texts(record, path, line)[0])
        records.append(record)
    return records, keys, turns


def answer_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        raise InputError("answer directory not found", directory, key="--dir")
    files = sorted(p for p in directory.glob("*.jsonl") if p.is_file())
    if not files:
        raise InputError("no answer files (*.jsonl) in this directory", directory, key="--dir")
    return files


def prepare_output_dir(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError("exists and is not a directory", out, key="--output-dir")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"cannot create the output directory ({err.strerror})", out, key="--output-dir") from None


def chosen_encoding(choice: str, directory: Path) -> str:
    """``--encoding``, where ``auto`` is the encoding of the benchmark whose ``model_answer`` directory this is."""
    if choice != "auto":
        return choice
    directory = directory.resolve()
    return benchmark_encoding(directory.parent.name if directory.name == "model_answer" else "")


def add_metadata(records: list[dict], keys: list[str], turns: list[list[str]], encoding: str,
                 progress: tqdm) -> None:
    """Set each record's metadata field in place, tokenizing ``BATCH`` answers at a time."""
    for start in range(0, len(records), BATCH):
        stop = start + BATCH
        metadata = style_metadata_many(turns[start:stop], encoding)
        for record, key, meta in zip(records[start:stop], keys[start:stop], metadata):
            record[key] = meta
        progress.update(len(records[start:stop]))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m utils.add_markdown_info",
        description="Add or recompute the style metadata (token_len, header/list/bold counts) of every "
                    "answer file (*.jsonl) in --dir, writing each file to --output-dir under the same name.")
    parser.add_argument("--dir", required=True, type=Path, help="directory of answer files (*.jsonl)")
    parser.add_argument("--output-dir", required=True, type=Path,
                        help="where to write the files (created if missing; may be --dir to update in place)")
    parser.add_argument("--encoding", choices=("auto", *ENCODINGS), default="auto",
                        help="tokenizer of token_len; auto: o200k_base when --dir is data/arena-hard-v2*/model_answer "
                             "(Arena-Hard v2.0), else cl100k_base (v0.1)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    files = answer_files(args.dir)
    # Check every file before writing anything; the answers are counted on the way.
    counts = [len(read_answer_file(path)[0]) for path in files]
    prepare_output_dir(args.output_dir)
    encoding = chosen_encoding(args.encoding, args.dir)
    print(f"token_len in {encoding} tokens", file=sys.stderr)

    with tqdm(total=sum(counts), unit="answer", desc="style metadata", file=sys.stderr) as progress:
        for path in files:
            records, keys, turns = read_answer_file(path)
            add_metadata(records, keys, turns, encoding, progress)
            target = args.output_dir / path.name
            atomic_write(target, b"".join(dump_line(record) for record in records))
            progress.write(f"{path.name}: {len(records)} answers -> {target}", file=sys.stdout)
    return 0


if __name__ == "__main__":
    run_cli(main)
