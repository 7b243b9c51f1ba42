"""Ranking: from stored judgments to a leaderboard (show_result.py, python -m utils.benchmark_quality).

    flags.py           show_result's command line: the flags, each method's defaults for them, the checks
    methods/           the rating methods, one module each, and their registry (v01.py, v2.py; base.py)
    settings.py        RunSettings: how a run's numbers are made
    run.py             a run's inputs read once: questions, judgments, answers, saved results, costs
    judgments.py       the one judgment reader: every counted record parsed once, in columns, with its checks
    answer_info.py     the answers' average lengths, style features and ids (their texts for the report)
    battles.py         records -> battles (v0.1) and outcome rows (v2.0); the battles file
    categories.py      v2.0's categories, their questions and baselines
    judgment_checks.py what the tables say about judgments besides verdicts: stale, wrongly filed ones
    rating.py          v0.1's math: Bradley-Terry fits, style control, bootstrap weights, intervals
    rating_v2.py       v2.0's math: weighted win rates, its bootstrap and style features
    fitting.py         Bradley-Terry fits with their bootstrap, for v0.1 and both methods' style control
    results.py         what a method computes: Leaderboard, ModelResult, PairedData
    memory.py          whether a bootstrap fits in this machine's memory
    tables.py          printing the table and writing the CSVs
    missing.py         v2.0's categories without a table: why, and the commands that fix it
    bootstrap_file.py  the bootstrap results file, written and read, and reference leaderboards
    quality.py         the benchmark quality metrics (separability, agreement, Brier, rank correlations)
    comparison.py      head-to-head comparisons (paired differences, questions needed) and Cohen's kappa
    judges.py          pooled judges: each judge's own table, score shifts, kappa, self-preference; judges.json
    sequential.py      anytime-valid confidence sequences for deciding between two models
"""
