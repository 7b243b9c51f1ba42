#!/usr/bin/env python3
"""Step 1: generate answers for every model in the answer settings (see README)."""
from __future__ import annotations

from utils.asking.answering import estimate_answers, generate_answers
from utils.asking.batching import BatchOptions
from utils.asking.runs import print_summary
from utils.plumbing.cli import ANSWER_SETTINGS, parse_step_arguments, run_cli
from utils.plumbing.config import check_thinking_budgets, load_answer_settings, load_api_config
from utils.plumbing.names import question_file
from utils.vocabulary.records import read_questions


def main() -> int:
    args = parse_step_arguments(__doc__, ANSWER_SETTINGS)

    settings, settings_doc = load_answer_settings(args.setting_file, args.model)
    models = load_api_config(args.endpoint_file, list(settings.model_list),
                             wanted_from="--model" if args.model else settings_doc, keys_needed=not args.dry_run)
    check_thinking_budgets(models, settings.max_tokens, settings_doc)
    questions = read_questions(question_file(args.data_dir, settings.bench_name))[:args.first]
    if args.dry_run:
        print(estimate_answers(settings, models, questions, args.data_dir, args.max_cost).render(args.json))
        return 0
    batch = BatchOptions(every_model=args.batch, fallback=args.batch_fallback, wait=args.batch_wait)
    summary = generate_answers(settings, models, questions, args.data_dir, args.max_cost, batch)
    return print_summary(summary, "answer", notes=[])


if __name__ == "__main__":
    run_cli(main)
