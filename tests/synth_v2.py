"""A small synthetic Arena-Hard v2.0 benchmark with known strengths, for the v2 tests.

    python -m tests.synth_v2 --out DIR [--seed N]

writes DIR/arena-hard-v2.0/ in the 2025 layout: 750 questions (500
hard_prompt, half coding and half math; 250 creative_writing), answers with
style metadata for both baselines and a few models, judgments by two judges
of every model against its category's baseline, and truth.json. The verdicts
come from a known strength per model plus a known preference for longer
answers, and carry the faults real files have: null games, games without a
label, unreadable labels, mirror spellings (``A<B`` for ``B>A``) and strong
verdicts. Same seed, same files.
"""
from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

BENCH = "arena-hard-v2.0"
BASELINES = {"hard_prompt": "o3-mini-2025-01-31", "creative_writing": "gemini-2.0-flash-001"}
JUDGES = ("gpt-4.1", "second-judge")
# model -> (strength in log-odds against the baselines, how much longer its answers are, in log tokens)
MODELS = {"strong-model": (1.0, 0.0), "even-model": (0.0, 0.0), "weak-model": (-1.2, -0.2),
          "verbose-model": (-0.3, 0.8)}
LENGTH_EFFECT = 1.5  # added log-odds per unit of (m - b) / (m + b)

# The verdict from the model's side -> the label game 1 stores (baseline is A) and game 2 (model is A),
# each with its mirror spelling.
LABELS = {"model>>": (("B>>A", "A<<B"), ("A>>B", "B<<A")), "model>": (("B>A", "A<B"), ("A>B", "B<A")),
          "tie": (("A=B", "B=A"), ("A=B", "B=A")),
          "baseline>": (("A>B", "B<A"), ("B>A", "A<B")), "baseline>>": (("A>>B", "B<<A"), ("B>>A", "A<<B"))}
UNREADABLE = ("A>>>B", "B=>A", "AB")


def questions(rng: random.Random) -> list[dict]:
    out = []
    for i in range(750):
        category = "hard_prompt" if i < 500 else "creative_writing"
        sub = ("coding" if i % 2 else "math") if category == "hard_prompt" else "creative_writing"
        out.append({"uid": f"{rng.getrandbits(64):016x}", "category": category, "subcategory": sub,
                    "prompt": f"Question {i} ({sub}): explain something."})
    return out


def answer(rng: random.Random, model: str, q: dict, verbosity: float) -> dict:
    tokens = int(math.exp(rng.gauss(6.0 + verbosity, 0.4)))
    headers, lists, bold = rng.randint(0, 4), rng.randint(0, 10), rng.randint(0, 8)
    meta = {"token_len": tokens, "header_count": {f"h{k}": (headers if k == 2 else 0) for k in range(1, 7)},
            "list_count": {"ordered": lists // 2, "unordered": lists - lists // 2},
            "bold_count": {"**": bold, "__": 0}}
    return {"uid": q["uid"], "ans_id": f"{rng.getrandbits(64):016x}", "model": model, "tstamp": 1.7e9,
            "messages": [{"role": "user", "content": q["prompt"]},
                         {"role": "assistant", "content": {"answer": f"{model} answers {q['uid']}."}}],
            "metadata": meta}


def verdict(rng: random.Random, advantage: float) -> str:
    """The model's result in one game: a logistic draw around its advantage, cut into five verdicts."""
    u = rng.random()
    x = advantage + math.log(u / (1.0 - u))
    return "model>>" if x > 2.5 else "model>" if x > 0.6 else "tie" if x > -0.6 else \
        "baseline>" if x > -2.5 else "baseline>>"


def game(rng: random.Random, index: int, result: str, pad: str = "", faults: bool = True) -> dict | None:
    r = rng.random()
    if r < 0.01:
        return None  # the judge call failed
    label = rng.choice(UNREADABLE) if r < 0.013 else None if r < 0.02 else \
        LABELS[result][index][1 if rng.random() < 0.2 else 0]
    if not faults and label in UNREADABLE:
        label = LABELS[result][index][0]
    text = f"{pad}Reasoning ... [[{label}]]" if label else f"{pad}Reasoning without a verdict."
    return {"score": label, "judgment": {"answer": text},
            "prompt": [{"role": "user", "content": "(the judge's prompt)"}]}


def judgment(rng: random.Random, q: dict, judge: str, model: str, baseline: str, advantage: float, pad: str = "",
             faults: bool = True) -> dict:
    shared = rng.gauss(0.0, 0.5)  # the question's effect, the same in both games
    games = [game(rng, g, verdict(rng, advantage + shared), pad, faults) for g in (0, 1)]
    return {"uid": q["uid"], "category": q["category"], "judge": judge, "model": model, "baseline": baseline,
            "games": games}


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def many_models(n: int, seed: int = 0) -> dict[str, tuple[float, float]]:
    """``n`` models of random strength and verbosity (for benchmarks of a real leaderboard's size)."""
    rng = random.Random(seed)
    return {f"model-{i:03d}": (rng.uniform(-2.0, 1.5), rng.uniform(-0.5, 0.5)) for i in range(n)}


def write_bench(out: Path | str, seed: int = 0, models: dict | None = None, pad: int = 0,
                faults: bool = True) -> Path:
    """Write the benchmark under ``out/arena-hard-v2.0``; returns that directory.

    ``models`` (name -> (strength, verbosity)) replaces the four of MODELS;
    ``pad`` characters of judge reasoning go before each verdict (real judge
    texts run to thousands); ``faults=False`` leaves out the unreadable labels
    (the original tool stops at them), not the null games.
    """
    models = MODELS if models is None else models
    filler = ("The first answer explains the point with care; the second is shorter. " * (pad // 70 + 1))[:pad]
    rng = random.Random(seed)
    bench = Path(out) / BENCH
    qs = questions(rng)
    write_jsonl(bench / "question.jsonl", qs)
    answers = {}
    for model, verbosity in [*((b, 0.0) for b in BASELINES.values()), *((m, v) for m, (_, v) in models.items())]:
        answers[model] = {q["uid"]: answer(rng, model, q, verbosity) for q in qs}
        write_jsonl(bench / "model_answer" / f"{model}.jsonl", list(answers[model].values()))
    for judge in JUDGES:
        for model, (strength, _) in models.items():
            rows = []
            for q in qs:
                baseline = BASELINES[q["category"]]
                m = answers[model][q["uid"]]["metadata"]["token_len"]
                b = answers[baseline][q["uid"]]["metadata"]["token_len"]
                rows.append(judgment(rng, q, judge, model, baseline, strength + LENGTH_EFFECT * (m - b) / (m + b),
                                     filler, faults))
            write_jsonl(bench / "model_judgment" / judge / f"{model}.jsonl", rows)
    truth = {"seed": seed, "strength": {m: s for m, (s, _) in models.items()},
             "verbosity": {m: v for m, (_, v) in models.items()}, "length_effect": LENGTH_EFFECT,
             "baselines": BASELINES, "judges": list(JUDGES)}
    (bench / "truth.json").write_text(json.dumps(truth, indent=1), encoding="utf-8")
    return bench


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--out", required=True, help="data directory: the benchmark goes to OUT/arena-hard-v2.0/")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    print(f"wrote {write_bench(args.out, args.seed)}")


if __name__ == "__main__":
    main()
