"""What an answer or a judgment was made from, and whether a stored judgment still judges what is there now.

An answer records under ``generation`` how it was made; a judgment records
under ``provenance`` the ``ans_id`` of each answer it compared and a hash of
the judge prompt (docs/design.md#provenance). A judgment whose answers or
prompt have changed since is *stale*: its verdicts are about texts that are
no longer the ones in the files. A record written before provenance existed
cannot be told either way: it is *unknown*, never stale.
"""
from __future__ import annotations

import hashlib
import json

STALE_POLICIES = ("rejudge", "keep", "fail")  # gen_judgment.py --stale: what a stale judgment gets

HASH_CHARS = 16  # of a sha256 in hex: enough to tell prompts apart, short enough to read in a record

# why a stored judgment no longer judges the current inputs: the provenance key that differs -> words
STALE_REASONS = {
    "ans_id": "the model's answer changed",
    "baseline_ans_id": "the baseline's answer changed",
    "reference_ans_id": "the reference answer changed",
    "prompt_hash": "the judge prompt changed",
    "answer_digest": "the model's answer text changed",
    "baseline_digest": "the baseline's answer text changed",
    "reference_digest": "the reference answer text changed",
}
# an answer's id and the digest of its text (``turns_digest``): where both sides have the digest, the content
# decides and the id is only a label (a regenerated answer with the same text is not stale, an edited one is)
DIGEST_OF = {"ans_id": "answer_digest", "baseline_ans_id": "baseline_digest", "reference_ans_id": "reference_digest"}


def text_hash(*parts) -> str:
    """A short, stable hash of some texts (or other JSON values), in order; None counts as a value."""
    data = json.dumps(parts, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hashlib.sha256(data).hexdigest()[:HASH_CHARS]


def turns_digest(turns) -> str:
    """The content key of an answer: 16 hex digits of the sha256 of its reply turns (the texts a judge is shown,
    without reasoning), UTF-8 encoded (a lone surrogate as itself) and joined by U+001E."""
    return hashlib.sha256("\x1e".join(turns).encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]


def stale_reasons(provenance: dict | None, current: dict[str, str | None]) -> list[str] | None:
    """The keys of ``STALE_REASONS`` in which a stored judgment's provenance differs from ``current``.

    ``current`` holds what a judgment made now would record (``ans_id``,
    ``answer_digest``, ``baseline_ans_id``, ..., any subset). A key only
    counts when both sides have a value: an answer file without ids, or a
    reader that does not know the prompt (show_result), cannot make a
    judgment stale. Where both sides have an answer's digest, its id is not
    compared (``DIGEST_OF``). None: the record has no provenance, so whether
    it is stale is unknown.
    """
    if provenance is None:
        return None
    labels_only = {key for key, digest in DIGEST_OF.items() if provenance.get(digest) and current.get(digest)}
    return [key for key in STALE_REASONS if key not in labels_only
            and provenance.get(key) and current.get(key) and provenance.get(key) != current.get(key)]


def reasons_text(counts: dict[str, int]) -> str:
    """``{"ans_id": 2, ...}`` as "the model's answer changed: 2, ..." (in ``STALE_REASONS`` order)."""
    return ", ".join(f"{STALE_REASONS[key]}: {counts[key]}" for key in STALE_REASONS if counts.get(key))
