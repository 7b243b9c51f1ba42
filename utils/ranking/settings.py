"""How a leaderboard was made: the settings of one show_result run, printed under each table and kept in the CSV.

The defaults a benchmark's own method gives (its benchmark, judge, baseline,
interval level) are declared by the method (utils/ranking/methods/); the
field defaults here are those of no method in particular.
"""
from __future__ import annotations

from dataclasses import dataclass

DEFAULT_METHOD = "arena-hard-v0.1"  # the method of a run that names neither a method nor a benchmark
# what each style control (``RunSettings.style``) controls for, in the words the footers and the CSV use
CONTROLS = {"style": "length + markdown", "length": "length", "markdown": "markdown"}


@dataclass
class RunSettings:
    bench: str = ""
    judges: tuple[str, ...] = ()
    baseline: str = ""  # "" for a method with a baseline per category
    weight: int = 3  # battles (units) a strong verdict counts as
    first_game_only: bool = False
    style: str | None = None  # None, "style" (length + markdown), "length", "markdown"
    rounds: int = 100
    confidence: float = 95.0
    seed: int = 42
    bootstrap_unit: str = "battle"  # "battle" (the original) or "question"
    poisson: bool = False
    categories: tuple[str, ...] = ()
    bootstrap_loaded_from: str | None = None
    rating_method: str = DEFAULT_METHOD  # the name of its method in utils/ranking/methods
