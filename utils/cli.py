"""What every entry point shares: running ``main`` with the one way errors are reported, and the steps' flags.

``run_cli`` turns an ``InputError`` into one line on stderr and exit status 2 (a
``StorageError``: status 1), so a user never meets a traceback for a mistake
they can fix. The two steps that ask models (gen_answer.py, gen_judgment.py)
take the same flags, with the same default files, from ``parse_step_arguments``.
"""
from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path
from typing import Callable

from utils.errors import EXIT_INPUT_ERROR, EXIT_STORAGE_ERROR, InputError, StorageError
from utils.keys import mask, masked_output

# The files the two steps read when no flag names others (paths relative to the working directory).
ANSWER_SETTINGS = "config/gen_answer_config.yaml"
JUDGE_SETTINGS = "config/judge_config.yaml"
ENDPOINTS = "config/api_config.yaml"
DATA_DIR = Path("data")


def run_cli(main: Callable[[], int | None]) -> None:
    """Run an entry point, turning an InputError into one line on stderr and exit 2 (a StorageError: exit 1).

    Everything it prints, a traceback included, has its secrets masked (``utils.keys``).
    """
    with masked_output():
        try:
            code = main()
        except InputError as err:
            print(f"error: {mask(str(err))}", file=sys.stderr)
            sys.exit(EXIT_INPUT_ERROR)
        except StorageError as err:
            print(f"error: {mask(str(err))}", file=sys.stderr)
            sys.exit(EXIT_STORAGE_ERROR)
        except KeyboardInterrupt:
            print("interrupted: completed work is saved; run again to resume", file=sys.stderr)
            sys.exit(130)
        except Exception:  # a bug: its traceback, printed while the output is still masked
            traceback.print_exc()
            sys.exit(1)
    sys.exit(code or 0)


def parse_step_arguments(description: str, settings_file: str,
                         more: Callable[[argparse.ArgumentParser], None] | None = None) -> argparse.Namespace:
    """The flags of the two steps that ask models (those of the original tool, plus --data-dir and --model);
    ``more`` adds a step's own."""
    parser = argparse.ArgumentParser(description=description,
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--setting-file", default=settings_file, help="the step's settings (YAML)")
    parser.add_argument("--endpoint-file", default=ENDPOINTS, help="how to reach each model (YAML)")
    parser.add_argument("--data-dir", default=DATA_DIR, type=Path, help="where the benchmarks live")
    parser.add_argument("--model", action="append", metavar="NAME",
                        help="run this model instead of the settings' model_list (repeat for several)")
    if more is not None:
        more(parser)
    return parser.parse_args()
