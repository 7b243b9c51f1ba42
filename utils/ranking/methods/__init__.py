"""The rating methods show_result offers, one module each, and the registry that gives them to it.

    base.py  what a method is (``RatingMethod``), the registry (``@rating_method``) and what the methods share
    v01.py   Arena-Hard v0.1: Bradley-Terry over battles against one baseline; its battles and bootstrap files
    v2.py    Arena-Hard v2.0: per-category weighted win rates, each category against its own baseline

A new method is one new module here, registering its class with
``@rating_method``, plus its import below.
"""
from __future__ import annotations

from utils.ranking.methods import v01, v2  # noqa: F401 - importing a method registers it
from utils.ranking.methods.base import RatingMethod, registered
from utils.ranking.settings import DEFAULT_METHOD


def methods() -> dict[str, RatingMethod]:
    """name -> method, every one registered."""
    return registered()


def method_named(name: str) -> RatingMethod:
    try:
        return registered()[name]
    except KeyError:
        raise ValueError(f"unknown rating method {name!r}") from None


def method_for_bench(bench: str) -> RatingMethod:
    """The method a benchmark is scored with when none is asked for: the one with the longest name prefix it
    starts with (arena-hard-v2* is v2.0's, any other v0.1's)."""
    fitting = [m for m in registered().values() if bench.startswith(m.bench_prefix)]
    return max(fitting, key=lambda m: len(m.bench_prefix)) if fitting else method_named(DEFAULT_METHOD)
