"""Will a bootstrap fit in this machine's memory? Refused before it starts when not, with the rounds that fit."""
from __future__ import annotations

import os

from utils.plumbing.errors import InputError

# What a bootstrap holds in memory. Each round leaves one number per model and table, kept in a few arrays,
# the rows' lists of results and (v0.1) their JSON text: measured at about 80 bytes a number with 21 models
# (v0.1, 20 000 to 80 000 rounds) and 40 (v2). The rest is bounded whatever the rounds: the data and the
# fits, which run in chunks of about 2**23 numbers (several arrays of 64 MB).
BYTES_PER_ROUND_AND_MODEL = 100

BOUNDED_BYTES = 512 << 20

def bootstrap_memory(rounds: int, models: int, tables: int = 1) -> int:
    """Bytes a run of ``rounds`` bootstrap rounds over ``models`` models in ``tables`` tables will need, about."""
    return BOUNDED_BYTES + rounds * models * tables * BYTES_PER_ROUND_AND_MODEL

def physical_memory() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):  # not a POSIX system that says
        return None

def check_bootstrap_memory(rounds: int, models: int, tables: int = 1, physical: int | None = None) -> str | None:
    """Refuse (InputError) a bootstrap whose estimated memory exceeds the machine's physical memory.

    Returns a warning when it would take half of it or 1 GiB or more, else
    None. ``physical`` defaults to this machine's.
    """
    physical = physical_memory() if physical is None else physical
    need = bootstrap_memory(rounds, models, tables)
    if not physical or not models:
        return None
    per_round = models * tables * BYTES_PER_ROUND_AND_MODEL
    fit = max(0, (physical - BOUNDED_BYTES) // per_round)
    size = f"{rounds} rounds of {models} models{f' in {tables} tables' if tables > 1 else ''}"
    if need > physical:
        raise InputError(f"{size} would need about {_gb(need)} of memory, more than this machine's {_gb(physical)}: "
                         f"at most {fit} rounds fit", key="--num-rounds")
    if need >= min(physical // 2, 1 << 30):
        return (f"warning: --num-rounds: {size} will need about {_gb(need)} of memory (this machine has "
                f"{_gb(physical)}; at most {fit} rounds fit)")
    return None

def _gb(n: int) -> str:
    return f"{n / 2 ** 30:.1f} GiB"


def check_memory(rounds: int, models: int, tables: int, warn) -> None:
    """Refuse a bootstrap that cannot fit in this machine's memory; ``warn`` about one that takes much of it."""
    warning = check_bootstrap_memory(rounds, models, tables)
    if warning:
        warn(warning)
