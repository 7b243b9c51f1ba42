"""Ranking: from stored judgments to a leaderboard (show_result.py).

Judgments become battles (v0.1) or outcome units (v2.0); the pure rating math fits and
bootstraps them; the leaderboard module assembles the rows, the table and the CSVs.
"""
