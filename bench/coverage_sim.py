"""How often do the intervals contain the truth? Coverage of show_result's bootstrap intervals.

    python bench/coverage_sim.py [--replicates 200] [--models 10] [--questions 500] [--rounds 1000]

Draws benchmarks from the generative model of ../shared/tools/synth_bench.py
(fixed model strengths and verbosity; per question: answer lengths, a
(model, question) effect shared by both games, game noise, ordinal labels,
1 % missing verdicts), computes the leaderboard of each replicate with both
bootstrap units, and reports the share of 95 % intervals that contain the true
win rate. The truth is what the same estimator converges to: the plain fit on
one very large sample (--truth-questions) of the same generator.

Both games of a question share the question effect, so battles are not
independent: resampling single battles (the original's method) gives
intervals that are too narrow; resampling whole questions should cover about
95 %.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from utils import rating as rt  # noqa: E402
from utils.battles import Battles  # noqa: E402
from utils.leaderboard import RunSettings, compute_leaderboard  # noqa: E402

# from the model's side, best first: strong win, win, tie, loss, strong loss (synth_bench's thresholds)
THRESHOLDS = (2.0, 0.4, -0.4, -2.0)
WINNER = np.array([rt.WINNER_B, rt.WINNER_B, rt.TIE, rt.WINNER_A, rt.WINNER_A])
STRONG = np.array([True, False, False, False, True])


class Generator:
    """synth_bench.py's generative model, vectorised over questions."""

    def __init__(self, n_models: int, seed: int, length_beta=0.6, question_effect=1.0, null_rate=0.01):
        rng = np.random.default_rng(seed)
        self.n_models = n_models  # including the baseline (index 0)
        self.strength = np.r_[0.0, rng.uniform(-2.5, 1.2, n_models - 1)]
        self.verbosity = np.r_[0.0, rng.uniform(-0.6, 0.6, n_models - 1)]
        self.length_beta, self.question_effect, self.null_rate = length_beta, question_effect, null_rate

    def battles(self, n_questions: int, rng: np.random.Generator, weight: int = 3) -> Battles:
        M, Q = self.n_models, n_questions
        tokens = np.exp(rng.normal(6.2 + self.verbosity[:, None], 0.5, (M, Q))).astype(int)
        lm, lb = tokens[1:], tokens[:1]
        z = self.strength[1:, None] + self.length_beta * (lm - lb) / (lm + lb) + \
            rng.normal(0.0, self.question_effect, (M - 1, Q))
        s = z[..., None] + rng.normal(0.0, 1.0, (M - 1, Q, 2))  # two games share z
        label = np.searchsorted(-np.array(THRESHOLDS), -s, side="left")  # 0 = strong win ... 4 = strong loss
        counted = rng.random((M - 1, Q, 2)) >= self.null_rate
        model, question, _ = np.nonzero(counted)
        label = label[counted]
        return Battles(models=[f"m{i}" for i in range(M)], questions=[f"q{i}" for i in range(Q)],
                       model_a=np.zeros(len(model), np.int64), model_b=model + 1, winner=WINNER[label],
                       question=question, count=np.where(STRONG[label], weight, 1))


def true_win_rates(gen: Generator, n_questions: int, seed: int, chunk: int = 20000) -> np.ndarray:
    """The plain fit on one very large sample, accumulated in chunks of questions (in %)."""
    rng = np.random.default_rng(seed)
    totals: dict[tuple, float] = {}
    for start in range(0, n_questions, chunk):
        b = gen.battles(min(chunk, n_questions - start), rng)
        kinds = rt.battle_kinds(b.model_a, b.model_b, b.winner, b.question, b.count, by_question=False)
        for key in zip(kinds.model_a.tolist(), kinds.model_b.tolist(), kinds.winner.tolist(), kinds.count.tolist()):
            totals[key[:3]] = totals.get(key[:3], 0.0) + key[3]
    a, b, w = (np.array(col) for col in zip(*totals))
    count = np.array(list(totals.values()))
    theta = rt.fit_bradley_terry(a, b, rt.TARGET[w], 2 * count, gen.n_models, l2=rt.TINY_RIDGE, fixed=0)
    return 100 * rt.win_rate(rt.ratings_from_coefficients(theta, gen.n_models, 0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--models", type=int, default=10, help="including the baseline")
    ap.add_argument("--questions", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--truth-questions", type=int, default=400_000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    started = time.perf_counter()
    gen = Generator(a.models, a.seed)
    truth = true_win_rates(gen, a.truth_questions, a.seed + 1)
    print(f"true win rates (fit on {a.truth_questions} questions): "
          + ", ".join(f"{x:.1f}" for x in truth[1:]))
    rng = np.random.default_rng(a.seed + 2)
    hits = {"question": [], "battle": []}
    widths = {"question": [], "battle": []}
    for rep in range(a.replicates):
        battles = gen.battles(a.questions, rng)
        for unit in hits:
            settings = RunSettings(baseline="m0", rounds=a.rounds, seed=rep, bootstrap_unit=unit)
            board = compute_leaderboard(battles, settings)
            for row in board.rows:
                if row.is_baseline:
                    continue
                true = truth[int(row.model[1:])]
                hits[unit].append(row.lower <= true <= row.upper)
                widths[unit].append(row.upper - row.lower)
    n = len(hits["question"])
    print(f"{a.replicates} replicates x {a.models - 1} models x {a.questions} questions, {a.rounds} rounds each "
          f"({time.perf_counter() - started:.0f} s)")
    for unit in ("question", "battle"):
        cover = 100 * np.mean(hits[unit])
        se = 100 * np.sqrt(np.mean(hits[unit]) * (1 - np.mean(hits[unit])) / n)
        target = "  (target 92-98 %: " + ("ok)" if 92 <= cover <= 98 else "MISSED)") if unit == "question" else ""
        print(f"coverage of the 95 % interval, {unit:>8} unit: {cover:5.1f} % (+-{se:.1f}), "
              f"mean width {np.mean(widths[unit]):.2f} points{target}")


if __name__ == "__main__":
    main()
