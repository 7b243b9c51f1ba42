"""Before the packages are there: a script started without them says how to get them, and `make install` says
what it is doing while it compiles llama.cpp."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

import utils
from tests.helpers import ROOT, one_line_error

ENTRY_POINTS = [["gen_answer.py", "--help"], ["gen_judgment.py"], ["show_result.py", "--method", "arena-hard-v2"],
                ["-m", "utils.check_answers", "--bench-name", "arena-hard-v0.1"], ["-m", "utils.demo"],
                ["-m", "utils.local_server", "--help"]]
# The SDKs' own HTTP layer: openai and anthropic install it, and the code imports it only after them.
COMES_WITH_THE_SDKS = {"httpx", "httpx2", "anyio"}


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> str:
    """An interpreter without any of the project's packages: a fresh venv, as a shell without .venv has."""
    where = tmp_path_factory.mktemp("bare") / "venv"
    venv.create(where, with_pip=False)
    return str(where / "bin" / "python")


def started_with(python: str, argv: list[str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([python, *argv], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={"HOME": os.environ.get("HOME", "/tmp"), "PATH": "/usr/local/bin:/usr/bin:/bin"})


@pytest.mark.parametrize("argv", ENTRY_POINTS, ids=lambda argv: " ".join(argv))
def test_an_entry_point_without_the_packages_says_how_to_install_them(bare_python, argv):
    line = one_line_error(started_with(bare_python, argv))
    assert line.startswith(f"error: {bare_python} lacks the project's packages (no module named ")
    assert "run `make install` once" in line and "`source .venv/bin/activate`" in line
    assert f"`.venv/bin/python {' '.join(argv)}`" in line  # the same command, started the right way


def test_from_another_directory_the_commands_name_the_checkout(bare_python, tmp_path):
    line = one_line_error(started_with(bare_python, [str(ROOT / "gen_answer.py")], cwd=tmp_path))
    assert f"`make -C {ROOT} install`" in line and f"`source {ROOT}/.venv/bin/activate`" in line
    assert f"`{ROOT}/.venv/bin/python {ROOT}/gen_answer.py`" in line


def test_every_package_the_code_imports_is_checked_first():
    """A package the code imports but the check misses would bring back the traceback."""
    imported = set()
    for path in [*ROOT.glob("*.py"), *(ROOT / "utils").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"utils"} - COMES_WITH_THE_SDKS
    assert third_party <= set(utils.REQUIRED_MODULES), third_party - set(utils.REQUIRED_MODULES)


def test_make_install_says_llama_cpp_is_compiling_and_how_long_before_it_starts(tmp_path):
    """The recipe as make runs it, with the interpreter replaced by `echo` so that nothing is installed."""
    (tmp_path / "venv").mkdir()
    result = subprocess.run(["make", "--no-print-directory", "install", f"VENV={tmp_path / 'venv'}",
                             "PYTHON=true", "PY=echo"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout.splitlines()
    # the pip command as it ran (make first prints the command line itself, starting with "echo")
    [compile_step] = [i for i, line in enumerate(out) if line.startswith("-m pip") and "requirements-local" in line]
    said = [i for i, line in enumerate(out) if line.startswith("== ") and "llama.cpp" in line]
    assert said and said[0] < compile_step - 1, out
    assert "about 9 minutes" in out[said[0]] and "only the first time" in out[said[0]]
    assert " -q" not in out[compile_step], "pip is quiet for minutes during the compilation"
    assert "source" in out[-1] and "bin/activate" in out[-1]  # and then how to use what was installed


def test_the_demo_says_to_fix_a_bad_input_and_to_run_again_after_anything_else():
    from utils.demo import StepFailed
    bad_input, failed = StepFailed("gen_answer.py", 2), StepFailed("gen_judgment.py", 1)
    assert "exit code 2" in str(bad_input) and bad_input.advice.startswith("fix what the error above names")
    assert "resume" not in bad_input.advice
    assert failed.advice.endswith("run `make demo` again to resume")
