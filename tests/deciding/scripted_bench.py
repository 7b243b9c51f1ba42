"""The scripted benchmark the --until-decided tests judge: who wins is decided by the scripted judge.

m-one wins both games of every question strongly (score 100), m-two ties
both (score 50): a paired difference of 50 points on each question, so the
round a run must stop at is the sequence's on those differences along the
order the seed draws.
"""
from __future__ import annotations

import re

from tests.helpers import JUDGED_BENCH, JUDGING_BASE as BASE, JUDGING_JUDGE as JUDGE, lay_out_judging, run_script
from tests.scripted_server import Answer

N, ROUND, SEED = 40, 5, 7
A, B = "m-one", "m-two"
USAGE = {"prompt_tokens": 1000, "completion_tokens": 100, "total_tokens": 1100}
PRICE = "  price: {input: 2, output: 8}\n"  # USD per million tokens: 1000 in and 100 out cost $0.0028 a game


def user_text(req) -> str:
    return next(m["content"] for m in req.body["messages"] if m["role"] == "user")


def which_game(req) -> int:
    """1 when the baseline's answer is shown first (assistant A), else 2."""
    text = user_text(req)
    return 1 if text.index(f"{BASE} answers") < text.index(f"{judged_model(req)} answers") else 2


def judged_model(req) -> str:
    """The model whose answer the request shows beside the baseline's (answers read '<model> answers <uid>')."""
    shown = re.findall(r"(\S+) answers q\d+", user_text(req))
    return next(name for name in shown if name != BASE)


def script_judge(server, strong: str = A) -> None:
    """``strong``: a strong win in both games; every other model: a tie in both."""
    server.rules = [
        (lambda r: judged_model(r) == strong and which_game(r) == 1, Answer("[[B>>A]]", usage=USAGE)),
        (lambda r: judged_model(r) == strong, Answer("[[A>>B]]", usage=USAGE)),
        (lambda r: True, Answer("[[A=B]]", usage=USAGE))]


def lay_out(tmp_path, server, n: int = N, **kwargs) -> list:
    """n questions q00, q01, ... answered by the baseline and the models; gen_judgment's arguments."""
    questions = [{"uid": f"q{i:02d}", "category": "general", "prompt": f"Question {i}?"} for i in range(n)]
    kwargs.setdefault("models", (A, B))
    return lay_out_judging(tmp_path, server, questions=questions, **kwargs)


def decisions_dir(tmp_path, judges: str = JUDGE):
    return tmp_path / "data" / JUDGED_BENCH / "decisions" / judges


def show_compare(tmp_path, a: str, b: str, *judges: str):
    """show_result.py --compare a b with these judges (default: the one judge)."""
    who = ["--judge-names", *judges] if judges else ["--judge-name", JUDGE]
    return run_script("show_result.py", "--bench-name", JUDGED_BENCH, *who, "--baseline", BASE,
                      "--data-dir", tmp_path / "data", "--compare", a, b)
