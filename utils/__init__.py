"""The library behind gen_answer.py, gen_judgment.py and show_result.py: one module per concern.

The top level holds only the ``python -m utils.<name>`` commands (add_markdown_info,
benchmark_quality, check_answers, demo, local_server); the rest is grouped by what it is:

* plumbing/    errors, the command-line runner, configuration, names and paths, stores, secrets
* vocabulary/  records, labels, style features, provenance, answer checks
* asking/      the steps that pay for requests: gen_answer.py and gen_judgment.py
* ranking/     from stored judgments to a leaderboard: show_result.py and benchmark_quality
* report/      the self-contained HTML report

Every entry point (the three scripts and the ``python -m utils.*`` commands)
imports this package before anything else, so this is where an interpreter
without the project's packages is caught: typically ``python3 gen_answer.py``
in a shell where ``.venv`` is not activated. Instead of a traceback ending in
``ModuleNotFoundError``, the user gets one line saying how to install the
packages and how to use them, and exit status 2. The check only looks the
modules up (``find_spec`` imports nothing), so it costs about a millisecond
and imports none of the heavy packages itself.
"""
import os
import sys
from importlib.util import find_spec

from utils.plumbing.errors import EXIT_INPUT_ERROR

# The import names of the packages in requirements.txt that the code imports (pyyaml is ``yaml``,
# scikit-learn ``sklearn``); tests/test_install.py checks that each requirement is covered.
REQUIRED_MODULES = ("yaml", "numpy", "sklearn", "tqdm", "tiktoken", "bpe_openai", "threadpoolctl", "orjson",
                    "matplotlib", "openai", "anthropic", "comrak", "nh3", "isal")


def _missing_module():
    """The first required module this interpreter cannot find, or None."""
    for name in REQUIRED_MODULES:
        if find_spec(name) is None:
            return name
    return None


def _shown(path):
    """A path as the user would type it from here: relative when it lies below the working directory."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else "" if relative == "." else relative


def how_to_install(missing):
    """One line: which module is missing, and the commands that install the packages and use them."""
    import shlex

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    venv = os.path.join(_shown(root), ".venv")
    make = "make install" if os.path.abspath(os.getcwd()) == root else f"make -C {shlex.quote(root)} install"
    started = getattr(sys, "orig_argv", None) or [sys.executable, *sys.argv]  # orig_argv: Python 3.10+
    again = " ".join(shlex.quote(part) for part in [os.path.join(venv, "bin", "python"), *started[1:]])
    return (f"error: {sys.executable or 'this python'} lacks the project's packages (no module named "
            f"{missing!r}): run `{make}` once (the first time about 9 minutes: it compiles llama.cpp), then "
            f"`source {os.path.join(venv, 'bin', 'activate')}` in this shell, or run `{again}`")


_missing = _missing_module()
if _missing is not None:
    print(how_to_install(_missing), file=sys.stderr)
    raise SystemExit(EXIT_INPUT_ERROR)  # like a bad input: the user sets it right and runs again
