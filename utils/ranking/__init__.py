"""Ranking: from stored judgments to a leaderboard (show_result.py, python -m utils.benchmark_quality).

    inputs.py          what a show_result run reads: questions, battles or outcome rows, answers, saved results
    battles.py         judgment files -> battles (v0.1) and outcome rows (v2.0); the battles file
    answer_info.py     the answers' average lengths and style features
    rating.py          v0.1's math: Bradley-Terry fits, style control, bootstrap weights, intervals
    rating_v2.py       v2.0's math: weighted win rates, its bootstrap and style features
    leaderboard.py     computing a Leaderboard (both methods) and the settings that made it
    tables.py          printing the table and writing the CSVs
    missing.py         v2.0's categories without a table: why, and the commands that fix it
    bootstrap_file.py  the bootstrap results file, written and read, and reference leaderboards
    quality.py         the benchmark quality metrics (separability, agreement, Brier, rank correlations)
    comparison.py      head-to-head comparisons (paired differences, questions needed) and Cohen's kappa
    judges.py          pooled judges: each judge's own table, score shifts, kappa, self-preference; judges.json
"""
