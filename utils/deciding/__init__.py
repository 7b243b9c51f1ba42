"""Deciding between two models with part of a benchmark: ``gen_judgment.py --until-decided A B`` and what
``show_result.py --compare A B`` says of such a run (docs/deciding.md).

    flags.py      the command's flags, the combinations it refuses, the procedure they ask for
    judgeable.py  before any request: every question can be judged for both models
    order.py      the order of the questions, drawn before any verdict, and checked when read back
    state.py      the small file a run keeps beside the judgments: its order, settings and rounds
    scores.py     stored judgments -> each question's paired difference, the rating method's own unit
    procedure.py  what the sequence says after a prefix of the order
    rounds.py     the run: judge a round through the normal judging, look, stop when decided
    report.py     the lines and the JSON a run prints, and show_result's block

The math is utils/ranking/sequential.py.
"""
