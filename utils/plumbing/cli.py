"""What every entry point shares: running ``main`` with the one way errors are reported, and the steps' flags.

``run_cli`` turns an ``InputError`` into one line on stderr and exit status 2 (a
``StorageError``: status 1), so a user never meets a traceback for a mistake
they can fix. The two steps that ask models (gen_answer.py, gen_judgment.py)
take the same flags, with the same default files, from ``parse_step_arguments``.
"""
from __future__ import annotations

import argparse
import atexit
import math
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, NoReturn

from utils.plumbing.errors import (EXIT_BROKEN_PIPE, EXIT_COST_CAP, EXIT_INPUT_ERROR, EXIT_STORAGE_ERROR, InputError,
                                   StorageError, Stopped)
from utils.plumbing.keys import mask, masked_output
from utils.vocabulary.provenance import STALE_POLICIES

# The files the two steps read when no flag names others (paths relative to the working directory).
ANSWER_SETTINGS = "config/gen_answer_config.yaml"
JUDGE_SETTINGS = "config/judge_config.yaml"
ENDPOINTS = "config/api_config.yaml"
DATA_DIR = Path("data")


def run_cli(main: Callable[[], int | None], quick_exit: bool = False) -> None:
    """Run an entry point, turning an InputError into one line on stderr and exit 2 (a StorageError: exit 1).

    ``quick_exit``: once ``main`` has returned, end the process with ``end_process`` rather than by freeing
    every object it holds (a show_result run's last 30 to 70 ms, for memory the process is about to give back).

    Everything it prints, a traceback included, has its secrets masked (``utils.plumbing.keys``). SIGTERM and
    SIGHUP stop every command as Ctrl-C does, so its clean-up runs (temporary directories, a child process)
    where their default would end it on the spot; a run that asks models handles them its own way meanwhile.
    """
    with masked_output():
        try:
            _stop_on_signals()
            code = main()
            sys.stdout.flush()
        except BrokenPipeError:  # the reader left (``| head``): what the step did is done; nothing more to say
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_BROKEN_PIPE)
        except InputError as err:
            print(f"error: {mask(str(err))}", file=sys.stderr)
            sys.exit(EXIT_INPUT_ERROR)
        except StorageError as err:
            print(f"error: {mask(str(err))}", file=sys.stderr)
            sys.exit(EXIT_STORAGE_ERROR)
        except KeyboardInterrupt as err:  # Ctrl-C, or a Stopped by SIGTERM / SIGHUP
            print("interrupted: completed work is saved; run again to resume", file=sys.stderr)
            sys.exit(getattr(err, "exit_status", 130))
        except Exception:  # a bug: its traceback, printed while the output is still masked
            import traceback  # loaded only for a bug: every run of every command would pay for it
            traceback.print_exc()
            sys.exit(1)
    if quick_exit:
        end_process(code or 0)
    sys.exit(code or 0)


def end_process(status: int, signum: int | None = None) -> NoReturn:
    """End this process as the interpreter's exit does (the threads that are not daemons joined, the atexit
    functions run, the standard streams flushed), but without freeing each object first. ``signum``: end by that
    signal instead, as the interpreter does after an uncaught KeyboardInterrupt (SIGINT)."""
    threading._shutdown()  # the interpreter's first step at exit
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing more can be said on it
            pass
    if signum is not None:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
    os._exit(status)


def _stop_on_signals() -> None:
    def stop(signum, _frame):
        raise Stopped(signum)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, stop)


def judging_flags(parser: argparse.ArgumentParser) -> None:
    """gen_judgment.py's own flags (for ``parse_step_arguments``'s ``more``)."""
    parser.add_argument("--judge", action="extend", nargs="+", metavar="NAME",
                        help="judge with these api_config entries instead of the settings' judge_model (one or "
                             "several)")
    parser.add_argument("--stale", choices=STALE_POLICIES, default="rejudge",
                        help="stored judgments whose answers or judge prompt changed since: judge them again, keep "
                             "them (with a warning), or stop before any request")
    parser.add_argument("--allow-mismatch", action="store_true",
                        help="judge the other answers when some were made for another question (those are still "
                             "skipped and listed)")
    parser.add_argument("--drift-check", type=_at_least_one, metavar="N",
                        help="instead of judging: ask each judge again N stored games (a fixed sample) and report "
                             "how many labels changed; nothing is stored")


def _at_least_one(text: str) -> int:
    if not text.strip().lstrip("-").isdigit() or int(text) < 1:
        raise InputError(f"must be a whole number, at least 1; got {text}", key="--drift-check")
    return int(text)


class DefaultsShown(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` with each flag's default, except where there is none to show or its help already gives it."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        if action.default is None or action.default is False or "default" in text:
            return text
        return super()._get_help_string(action)


def parse_step_arguments(description: str, settings_file: str,
                         more: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """The flags of the two steps that ask models (the original tool's, plus --data-dir, --model, --dry-run,
    --json, --max-cost and batch mode), checked; ``more`` adds a step's own."""
    parser = argparse.ArgumentParser(description=description, formatter_class=DefaultsShown)
    parser.add_argument("--setting-file", default=settings_file, help="the step's settings (YAML)")
    parser.add_argument("--endpoint-file", default=ENDPOINTS, help="how to reach each model (YAML)")
    parser.add_argument("--data-dir", default=DATA_DIR, type=Path, help="where the benchmarks live")
    parser.add_argument("--model", action="extend", nargs="+", metavar="NAME",
                        help="run these models instead of the settings' model_list (--model A B, or --model A "
                             "--model B)")
    parser.add_argument("--first", type=int, metavar="N",
                        help="a trial: only the first N questions of the question file (a later run without it "
                             "asks for the rest; show_result marks the partial coverage)")
    parser.add_argument("--dry-run", action="store_true",
                        help="send nothing, write nothing: print the requests still to make, their tokens and cost")
    parser.add_argument("--json", action="store_true", help="with --dry-run or --until-decided: print the estimate or the decision as one JSON object")
    parser.add_argument("--max-cost", type=float, metavar="USD",
                        help="stop sending requests once this run's cost reaches USD (every model asked needs a "
                             f"price); exit status {EXIT_COST_CAP}")
    batch = parser.add_argument_group("batch mode (docs/costs.md: Pay half: batch mode)")
    batch.add_argument("--batch", action="store_true",
                       help="send every model's requests through its provider's batch API (half the price, up to "
                            "24 h); without it, only models whose api_config entry says batch: true")
    batch.add_argument("--batch-fallback", choices=("batch", "direct"), default="batch",
                       help="where a request that failed or expired in a batch is sent again")
    parser.set_defaults(batch_wait=True)  # before the flags, so that help does not say both default to True
    waiting = batch.add_mutually_exclusive_group()
    waiting.add_argument("--batch-wait", dest="batch_wait", action="store_true", default=argparse.SUPPRESS,
                         help="wait for the batches and store their results (the default)")
    waiting.add_argument("--no-wait", dest="batch_wait", action="store_false", default=argparse.SUPPRESS,
                         help="submit the batches (or report how far they are) and stop; run again later to collect")
    if more is not None:
        more(parser)
    args = parser.parse_args()
    if args.json and not args.dry_run and not getattr(args, "until_decided", None):
        raise InputError("only with --dry-run or --until-decided (a run prints its summary as text)", key="--json")
    if args.first is not None and args.first < 1:
        raise InputError(f"must be a positive number of questions, got {args.first}", key="--first")
    if args.first is not None and getattr(args, "until_decided", None):
        raise InputError("cannot be combined with --until-decided, which draws its questions from the whole "
                         "benchmark itself", key="--first")
    if args.max_cost is not None and not (args.max_cost > 0 and math.isfinite(args.max_cost)):
        raise InputError(f"must be a positive number of US dollars, got {args.max_cost:g}", key="--max-cost")
    if getattr(args, "drift_check", None) is not None:
        taken = [flag for flag, given in (("--dry-run", args.dry_run), ("--max-cost", args.max_cost is not None),
                                          ("--batch", args.batch)) if given]
        if taken:  # its few requests go directly, unmetered: better refused than silently ignored
            raise InputError(f"cannot be combined with {', '.join(taken)}: it asks the judges directly and "
                             "stores nothing", key="--drift-check")
    return args
