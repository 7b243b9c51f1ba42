"""The official benchmarks' facts every stage shares: which baseline each question category is judged against.

Kept apart from the configuration (utils/plumbing/config.py, which loads
YAML) so that show_result, which only needs these tables, starts without
loading a YAML parser.
"""
from __future__ import annotations

# The official benchmarks' baselines, per question category: the original tool hard-codes them and
# its own judge configs name none. The first entry of a benchmark also serves categories not listed.
OFFICIAL_BASELINES: dict[str, dict[str, str]] = {
    "arena-hard-v0.1": {"arena-hard-v0.1": "gpt-4-0314"},
    "arena-hard-v2.0": {"hard_prompt": "o3-mini-2025-01-31", "coding": "o3-mini-2025-01-31",
                        "math": "o3-mini-2025-01-31", "creative_writing": "gemini-2.0-flash-001"},
}
# Official baselines whose answers the original project does not publish: users generate them.
UNPUBLISHED_BASELINES: dict[str, frozenset[str]] = {"arena-hard-v2.0": frozenset({"gemini-2.0-flash-001"})}
