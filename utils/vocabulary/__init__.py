"""The vocabulary every stage speaks: the records and the words the steps pass between them.

* records.py        questions, answers, games and judgments in both file layouts
* verdicts.py       the judge's five labels, their mirror spellings, winners and outcome words
* style.py          an answer's style features: token length and markdown counts
* provenance.py     what a record was made from, and when a stored judgment is stale
* deciding.py       the defaults of deciding between two models (level, margin, round size)
* benchmarks.py     the official benchmarks' facts: which baseline each question category is judged against
* answer_checks.py  answers unfit to be judged (truncated, empty, refusal, reasoning, mismatched): pure checks
"""
