"""Asking models: the steps that pay for requests (gen_answer.py, gen_judgment.py).

* clients.py        ModelClient: one model's endpoints through its provider's SDK, retries, lanes, pauses, the
                    response-format fallback, reasoning kept apart, the rules every reply follows
* providers/        one file per provider (openai, azure, anthropic) and the registry of them; base.py is the
                    contract each keeps, batches.py what their batch APIs share (see providers/__init__.py)
* jobs.py           Job / LeftOut / Outcome: one output file and its work, what asking for one item gave
* runs.py           Summary and run_jobs: every item asked concurrently, failures reported, the run summary's
                    lines; SIGTERM and SIGHUP handled as Ctrl-C
* writer.py         the Writer, the one task that stores results, and the Room requests wait for while the disk
                    is full (what is held then goes to a recovery file if the run must end)
* budget.py         --max-cost: the run's spending, and the requests it lets go (a MeteredClient per job)
* batching.py       batch mode: requests queued into provider batches, the state files, polling, collecting
* progress.py       progress on stderr: tqdm bars on a terminal, plain lines in a log
* answering.py      step 1: plan the answer files, answer a question turn by turn
* judging.py        step 2: plan the judgment files, play a pairing's two games
* judge_prompts.py  what the judge is shown (prompts/), how its label is read, template checks
* judge_inputs.py   the answers judging needs, what waits for missing ones (utils/plumbing/fix_commands.py: the command
                    that makes them), a dry run's stand-ins for a model not answered yet
* judge_checks.py   what planning finds: stale judgments, answers failing a check; --stale, --allow-mismatch
* drift.py          --drift-check: stored games asked again, the labels that changed
* diagnostics.py    how each judge behaved: diagnostics.json and its printed table
* cost.py           the arithmetic of costs: prices, tallies of stored usage, prompt tokens counted before sending
* accounts.py       each output file's cost after a run: the cost files under <bench>/costs/, the summary lines
* dry_run.py        --dry-run: the requests still to make, their tokens and cost, as text or one JSON object
* prompts/          what the judge is sent as text files: its default system prompt and template, the request to
                    finish, the request for a structured verdict
"""
