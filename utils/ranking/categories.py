"""Arena-Hard v2.0's categories: which a run has, the questions of each, and each one's baseline.

One table per category, each against its own baseline (docs/design.md#v2-categories):
``category_index`` collects the categories of the question file and of the
judgment rows, ``v2_categories`` picks those shown and resolves their
baselines from --baseline, the judge config and v2.0's own table.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from utils.plumbing.errors import InputError
from utils.plumbing.names import question_file
from utils.vocabulary.benchmarks import OFFICIAL_BASELINES

if TYPE_CHECKING:
    from utils.plumbing.config import JudgeSettings
    from utils.ranking.battles import OutcomeRows
    from utils.vocabulary.records import Question

# v2.0's baseline of each category (utils.vocabulary.benchmarks.OFFICIAL_BASELINES), for categories that neither --baseline nor a
# judge config names
V2_BASELINES = {**OFFICIAL_BASELINES["arena-hard-v2.0"], **OFFICIAL_BASELINES["arena-hard-v0.1"]}

@dataclass
class CategoryIndex:
    """The categories of a v2 run: which exist, which have judgments, and the questions of each."""
    present: list[str]  # categories with judgment rows: question-file order, then any only the rows name
    known: list[str]  # every category and subcategory that can be asked for
    parent: dict[str, str]  # subcategory -> the category of its first question
    questions: dict[str, list[str]]  # category or subcategory -> its question ids, in file order
    subcategory_of: dict[str, str]  # question id -> its subcategory (cluster)
    every: list[str] = field(default_factory=list)  # every category: the question file's, then any only rows name

def category_index(questions: list[Question], rows: OutcomeRows) -> CategoryIndex:
    """Categories from the question file and the judgment rows (a row's own category comes first)."""
    by_name: dict[str, list[str]] = {}
    parent: dict[str, str] = {}
    for q in questions:
        by_name.setdefault(q.category, []).append(q.uid)
        if q.cluster and q.cluster != q.category:
            by_name.setdefault(q.cluster, []).append(q.uid)
            parent.setdefault(q.cluster, q.category)
    row_categories = [rows.categories[c] for c in np.unique(rows.category).tolist()]
    for name in row_categories:  # categories only the rows name: their questions are the rows'
        if name not in by_name:
            in_category = rows.category == rows.categories.index(name)
            by_name[name] = list(dict.fromkeys(rows.questions[q] for q in rows.question[in_category].tolist()))
    order = [q.category for q in questions] + row_categories
    present = [c for c in dict.fromkeys(order) if c in row_categories and c]
    return CategoryIndex(present, [c for c in by_name if c], parent, by_name, {q.uid: q.cluster for q in questions},
                         [c for c in dict.fromkeys(order) if c])

def v2_categories(index: CategoryIndex, asked: tuple[str, ...], explicit: dict[str, str], everyone: str | None,
                  config: JudgeSettings | None, data_dir, bench: str) -> tuple[list[str], dict[str, str | None]]:
    """The categories to show (``asked`` by --category, or every one of the benchmark) and the baseline of each.

    ``explicit`` and ``everyone`` are the --baseline CATEGORY=MODEL and
    --baseline MODEL flags, ``config`` the judge config of --setting-file (see
    ``category_baselines``). A category that was neither asked for nor judged
    may have no baseline known (None): it has no table either way.
    """
    wanted = list(dict.fromkeys(asked or index.every))
    if not wanted:
        raise InputError("no judgment row names a category, and no question file gives one (expected "
                         f"{question_file(data_dir, bench)})", key="category")
    for flag, names in (("--category", wanted), ("--baseline", list(explicit))):
        unknown = [c for c in names if c not in index.known]
        if unknown:
            raise InputError(f"unknown category {unknown[0]!r} (categories here: {', '.join(index.known) or 'none'})",
                             key=flag)
    needed = [c for c in wanted if c in asked or c in index.present]
    baselines = category_baselines(needed, index, explicit, everyone, config)
    for category in wanted:
        if category not in baselines:
            try:
                baselines[category] = category_baselines([category], index, explicit, everyone, config)[category]
            except InputError:
                baselines[category] = None
    return wanted, {c: baselines[c] for c in wanted}

def category_baselines(wanted: list[str], index: CategoryIndex, explicit: dict[str, str], everyone: str | None,
                       config: JudgeSettings | None) -> dict[str, str]:
    """The baseline of each wanted category.

    In order: ``--baseline CATEGORY=MODEL``, a plain ``--baseline MODEL``, the
    judge config's entry for the category, the baseline of the category a
    subcategory belongs to (coding and math are judged as hard_prompt), the
    judge config's top-level ``baseline_model``, v2.0's own table.
    """
    def resolve(category: str) -> str:
        if category in explicit:
            return explicit[category]
        if everyone:
            return everyone
        if config is not None and category in config.categories:
            return config.prompt_for(category).baseline_model
        up = index.parent.get(category)
        if up and up != category:
            return resolve(up)
        if config is not None and config.prompt.baseline_model:
            return config.prompt.baseline_model
        if category in V2_BASELINES:
            return V2_BASELINES[category]
        raise InputError(f"no baseline known for category {category!r}: give --baseline {category}=MODEL",
                         key="--baseline")
    return {c: resolve(c) for c in wanted}
