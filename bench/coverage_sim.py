"""How often do the intervals contain the truth? Coverage of show_result's bootstrap intervals.

    python bench/coverage_sim.py [--replicates 200] [--models 10] [--questions 500] [--rounds 1000]
                                 [--check-synth-bench 20000]

Draws benchmarks from the generative model of ../shared/tools/synth_bench.py
(fixed model strengths and verbosity; per question: answer lengths, a
(model, question) effect shared by both games, game noise, ordinal labels,
1 % missing verdicts), computes the leaderboard of each replicate with both
bootstrap units, and reports the share of 95 % intervals that contain the true
win rate.

The truth is what the estimator converges to. synth_bench's truth.json gives
strengths on its own (ordinal, probit-like) scale, not win rates, and the
plain Bradley-Terry fit is not that model, so the truth has to be the limit of
the fit itself. Every model here meets only the baseline, so the fit's win
rate is (3 strong wins + wins + ties / 2) / (3 strong wins + wins + ties +
losses + 3 strong losses), and its limit is the same ratio of expectations.
Given the answer lengths, a game's latent score is normal with mean strength +
length effect and variance 1 + question_effect^2, so the label probabilities
are normal tail areas; only the lengths are integrated, by Monte Carlo over four
million draws per model (error about 0.005 points). As a check, the plain fit on one
very large sample (--truth-questions) is printed beside it.

Both games of a question share the question effect, so battles are not
independent: resampling single battles (the original's method) gives
intervals that are too narrow; resampling whole questions should cover about
95 %.

--check-synth-bench N writes N questions with synth_bench.py itself (its own
random strengths), reads them with show_result's reader and compares the fit
with the exact truth for synth_bench's truth.json: the generator vectorised
here must be the same model.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.special import ndtr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils.ranking.rating import (TINY_RIDGE, battle_kinds, fit_bradley_terry, ratings_from_coefficients,  # noqa: E402
                                  win_rate)
from utils.ranking.battles import Battles, battles_from  # noqa: E402
from utils.ranking.judgments import ReadOptions, read_judgments  # noqa: E402
from utils.ranking.methods.v01 import compute_leaderboard  # noqa: E402
from utils.ranking.settings import RunSettings  # noqa: E402
from utils.vocabulary.verdicts import TARGET, TIE, WINNER_A, WINNER_B  # noqa: E402

# from the model's side, best first: strong win, win, tie, loss, strong loss (synth_bench's thresholds)
THRESHOLDS = (2.0, 0.4, -0.4, -2.0)
WINNER = np.array([WINNER_B, WINNER_B, TIE, WINNER_A, WINNER_A])
STRONG = np.array([True, False, False, False, True])
LOG_TOKENS_MEAN, LOG_TOKENS_SD = 6.2, 0.5


class Generator:
    """synth_bench.py's generative model, vectorised over questions."""

    def __init__(self, n_models: int, seed: int, length_beta=0.6, question_effect=1.0, null_rate=0.01,
                 strength=None, verbosity=None):
        rng = np.random.default_rng(seed)
        self.n_models = n_models  # including the baseline (index 0)
        self.strength = np.r_[0.0, rng.uniform(-2.5, 1.2, n_models - 1)] if strength is None else np.asarray(strength)
        self.verbosity = np.r_[0.0, rng.uniform(-0.6, 0.6, n_models - 1)] if verbosity is None else \
            np.asarray(verbosity)
        self.length_beta, self.question_effect, self.null_rate = length_beta, question_effect, null_rate

    def battles(self, n_questions: int, rng: np.random.Generator, weight: int = 3) -> Battles:
        M, Q = self.n_models, n_questions
        tokens = np.exp(rng.normal(LOG_TOKENS_MEAN + self.verbosity[:, None], LOG_TOKENS_SD, (M, Q))).astype(int)
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

    def exact_win_rates(self, samples: int = 4_000_000, seed: int = 12345, weight: int = 3) -> np.ndarray:
        """The plain fit's limit for every model, in % (see the module's docstring)."""
        rng = np.random.default_rng(seed)
        sd = np.sqrt(1.0 + self.question_effect ** 2)
        out = np.full(self.n_models, 50.0)
        base_tokens = np.exp(rng.normal(LOG_TOKENS_MEAN, LOG_TOKENS_SD, samples)).astype(int)
        for m in range(1, self.n_models):
            tokens = np.exp(rng.normal(LOG_TOKENS_MEAN + self.verbosity[m], LOG_TOKENS_SD, samples)).astype(int)
            mean = self.strength[m] + self.length_beta * (tokens - base_tokens) / (tokens + base_tokens)
            above = [ndtr((mean - t) / sd) for t in THRESHOLDS]  # P(score > threshold), best threshold first
            strong_win, win, tie = above[0], above[1] - above[0], above[2] - above[1]
            loss, strong_loss = above[3] - above[2], 1.0 - above[3]
            won = (weight * strong_win + win + 0.5 * tie).mean()
            total = (weight * strong_win + win + tie + loss + weight * strong_loss).mean()
            out[m] = 100.0 * won / total
        return out


def plain_fit_win_rates(battles: Battles, baseline: int = 0) -> np.ndarray:
    """The plain fit's win rates (%) on given battles, without a bootstrap."""
    kinds = battle_kinds(battles.model_a, battles.model_b, battles.winner, battles.question, battles.count,
                         by_question=False)
    M = len(battles.models)
    theta = fit_bradley_terry(kinds.model_a, kinds.model_b, np.take(TARGET, kinds.winner), 2 * kinds.count, M,
                              l2=TINY_RIDGE, fixed=baseline)
    return 100 * win_rate(ratings_from_coefficients(theta, M, baseline))


def large_sample_win_rates(gen: Generator, n_questions: int, seed: int, chunk: int = 20000) -> np.ndarray:
    """The plain fit on one very large sample, accumulated in chunks of questions (in %)."""
    rng = np.random.default_rng(seed)
    totals: dict[tuple, float] = {}
    for start in range(0, n_questions, chunk):
        b = gen.battles(min(chunk, n_questions - start), rng)
        kinds = battle_kinds(b.model_a, b.model_b, b.winner, b.question, b.count, by_question=False)
        for key in zip(kinds.model_a.tolist(), kinds.model_b.tolist(), kinds.winner.tolist(), kinds.count.tolist()):
            totals[key[:3]] = totals.get(key[:3], 0.0) + key[3]
    a, b, w = (np.array(col) for col in zip(*totals))
    count = np.array(list(totals.values()))
    theta = fit_bradley_terry(a, b, np.take(TARGET, w), 2 * count, gen.n_models, l2=TINY_RIDGE, fixed=0)
    return 100 * win_rate(ratings_from_coefficients(theta, gen.n_models, 0))


def check_against_synth_bench(shared: Path, n_models: int, n_questions: int, seed: int) -> None:
    """synth_bench.py's own files, read by show_result's reader, against the exact truth of its parameters."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "bench"
        subprocess.run([sys.executable, str(shared / "tools" / "synth_bench.py"), "--out", str(out),
                        "--models", str(n_models), "--questions", str(n_questions), "--seed", str(seed),
                        "--pad", "0"], check=True)
        truth = json.loads((out / "truth.json").read_text())
        files = sorted((out / "model_judgment" / truth["judge"]).glob("*.jsonl"))
        records = read_judgments([truth["judge"]], [(0, f) for f in files], ReadOptions())
        battles = battles_from(records, truth["baseline"])
    models = [truth["baseline"]] + [m for m in battles.models if m != truth["baseline"]]
    gen = Generator(len(models), 0, length_beta=truth["length_beta"],
                    strength=[truth["strength"][m] for m in models], verbosity=[truth["verbosity"][m] for m in models])
    exact = gen.exact_win_rates()
    fitted = plain_fit_win_rates(battles, battles.models.index(truth["baseline"]))
    fitted = np.array([fitted[battles.models.index(m)] for m in models])
    # the fit's own sampling error: binomial-like, inflated by the question effect shared by two games
    print(f"synth_bench.py check ({n_models} models x {n_questions} questions, seed {seed}): "
          f"fit on its files - exact truth of its truth.json, per model (points):")
    print("  " + ", ".join(f"{d:+.2f}" for d in (fitted - exact)[1:]))
    print(f"  largest difference {np.abs(fitted - exact).max():.2f} points "
          f"(three standard errors of the fit at this size: about {200 / np.sqrt(n_questions):.2f} points)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicates", type=int, default=200)
    ap.add_argument("--models", type=int, default=10, help="including the baseline")
    ap.add_argument("--questions", type=int, default=500)
    ap.add_argument("--rounds", type=int, default=1000)
    ap.add_argument("--truth-questions", type=int, default=400_000, help="size of the large-sample check of the truth")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--check-synth-bench", type=int, metavar="QUESTIONS", default=0,
                    help="also compare synth_bench.py's own files of this many questions with the exact truth")
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    a = ap.parse_args()

    started = time.perf_counter()
    if a.check_synth_bench:
        check_against_synth_bench(a.shared, a.models, a.check_synth_bench, a.seed)
    gen = Generator(a.models, a.seed)
    truth = gen.exact_win_rates()
    large = large_sample_win_rates(gen, a.truth_questions, a.seed + 1)
    print("true win rates (exact limit of the plain fit): " + ", ".join(f"{x:.2f}" for x in truth[1:]))
    print(f"plain fit on {a.truth_questions} questions:        " + ", ".join(f"{x:.2f}" for x in large[1:]))
    print(f"largest difference: {np.abs(large - truth).max():.3f} points")

    rng = np.random.default_rng(a.seed + 2)
    units = ("question", "battle")
    hits = {u: np.zeros((a.replicates, a.models - 1), bool) for u in units}
    widths = {u: np.zeros((a.replicates, a.models - 1)) for u in units}
    below = {u: np.zeros((a.replicates, a.models - 1), bool) for u in units}  # truth under the interval
    scores = np.zeros((a.replicates, a.models - 1))
    for rep in range(a.replicates):
        battles = gen.battles(a.questions, rng)
        for unit in units:
            settings = RunSettings(baseline="m0", rounds=a.rounds, seed=rep, bootstrap_unit=unit)
            board = compute_leaderboard(battles, settings)
            for row in board.rows:
                if row.is_baseline:
                    continue
                m = int(row.model[1:]) - 1
                true = truth[m + 1]
                hits[unit][rep, m] = row.lower <= true <= row.upper
                below[unit][rep, m] = true < row.lower
                widths[unit][rep, m] = row.upper - row.lower
                scores[rep, m] = row.score
    n = hits["question"].size
    print(f"\n{a.replicates} replicates x {a.models - 1} models x {a.questions} questions, {a.rounds} rounds each "
          f"({time.perf_counter() - started:.0f} s)\n")
    print(f"{'model':<7}{'truth %':>9}{'mean score':>12}{'question unit':>15}{'width':>7}{'battle unit':>13}{'width':>7}")
    for m in range(a.models - 1):
        print(f"m{m + 1:<6}{truth[m + 1]:>9.2f}{scores[:, m].mean():>12.2f}"
              f"{100 * hits['question'][:, m].mean():>14.1f}%{widths['question'][:, m].mean():>7.2f}"
              f"{100 * hits['battle'][:, m].mean():>12.1f}%{widths['battle'][:, m].mean():>7.2f}")
    print()
    for unit in units:
        cover = hits[unit].mean()
        se = np.sqrt(cover * (1 - cover) / n)
        target = "  (target 92-98 %: " + ("ok)" if 0.92 <= cover <= 0.98 else "MISSED)") if unit == "question" else ""
        print(f"coverage of the 95 % interval, {unit:>8} unit: {100 * cover:5.1f} % (+-{100 * se:.1f}), "
              f"truth below / above the interval {100 * below[unit].mean():.1f} / "
              f"{100 * (1 - cover - below[unit].mean()):.1f} %, mean width {widths[unit].mean():.2f} points{target}")


if __name__ == "__main__":
    main()
