"""What --max-cost costs in time: a first run of gen_answer.py with a cap, beside the same run without one.

    python bench/bench_max_cost.py [--questions 200] [--parallel 16] [--latency 0.2] [--max-tokens 4096]
                                   [--cap 0.10]

A capped run prices each request before sending it and keeps this run's
spending plus the requests in flight under the cap (utils/asking/budget.py).
On a first run there are no earlier records to take the expected output
from: it is a typical answer's (utils.asking.cost.TYPICAL_OUTPUT), where it
once was max_tokens, which left room under a small cap for only a request or
two in flight. Both runs answer the same questions from the scripted server
(bench/bench_gen_answer.py's ``Server``, its own process, a fixed latency),
with a price of $2 / $8 per million tokens; its replies bill a few tokens,
so the cap is never reached and both runs answer everything. The script
prints each run's wall seconds and the ratio capped / uncapped (1.0: the cap
costs no time).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gen_answer import ROOT, Server, run_process  # noqa: E402  (a sibling script, not a package)

BENCH, MODEL = "bench-max-cost", "bench-model"


def lay_out(run_dir: Path, server: Server, args: argparse.Namespace) -> list[str]:
    """A fresh data directory, settings and api config; returns gen_answer.py's command line."""
    qfile = run_dir / "data" / BENCH / "question.jsonl"
    qfile.parent.mkdir(parents=True)
    qfile.write_text("".join(json.dumps({"uid": f"q{i:05d}", "category": "bench", "prompt": f"Question {i}?"}) + "\n"
                             for i in range(args.questions)))
    (run_dir / "api.yaml").write_text(
        f"{MODEL}:\n  model_name: {MODEL}\n  parallel: {args.parallel}\n  max_retries: 2\n  timeout: 60\n"
        f"  price: {{input: 2, output: 8}}\n  endpoints:\n    - api_base: {server.url}\n      api_key: sk-bench\n")
    (run_dir / "settings.yaml").write_text(f"bench_name: {BENCH}\nmax_tokens: {args.max_tokens}\n"
                                           f"model_list: [{MODEL}]\n")
    return [sys.executable, str(ROOT / "gen_answer.py"), "--setting-file", str(run_dir / "settings.yaml"),
            "--endpoint-file", str(run_dir / "api.yaml"), "--data-dir", str(run_dir / "data")]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--parallel", type=int, default=16)
    p.add_argument("--latency", type=float, default=0.2, help="seconds the server takes per reply")
    p.add_argument("--max-tokens", type=int, default=4096)
    p.add_argument("--cap", type=float, default=0.10, help="USD: what --max-cost allows")
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-max-cost-") as tmp, Server(args.latency, Path(tmp) / "server.log") \
            as server:
        walls = {}
        for name, extra in (("uncapped", []), ("capped", ["--max-cost", str(args.cap)])):
            run_dir = Path(tmp) / name
            cmd = lay_out(run_dir, server, args) + extra
            walls[name] = run_process(cmd, run_dir / "stdout.txt", run_dir / "stderr.txt", server)[0]
            answers = run_dir / "data" / BENCH / "model_answer" / f"{MODEL}.jsonl"
            if len(answers.read_text().splitlines()) != args.questions:
                sys.exit(f"{name}: not every question was answered (see {run_dir})")
            time.sleep(0.5)
    ideal = args.questions / args.parallel * args.latency
    print(f"{args.questions} questions, parallel {args.parallel}, latency {args.latency:g} s, max_tokens "
          f"{args.max_tokens}, cap ${args.cap:g} (ideal {ideal:.1f} s)")
    for name, wall in walls.items():
        print(f"{name:>9}: {wall:6.2f} s")
    print(f"capped / uncapped: {walls['capped'] / walls['uncapped']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
