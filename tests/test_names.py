"""Model names become file names that round-trip and can never point outside the data directory."""
from __future__ import annotations

import pytest

from utils.plumbing.errors import InputError
from utils.plumbing.names import (answer_file, battles_file, bootstrap_results_file, inside, judgment_file, name_to_stem,
                         results_dir, stem_to_name)

NAMES = ["gpt-4-0314", "org/model", "meta-llama/Llama-3.1-8B-Instruct", "../../etc/passwd", "/abs/path", "..",
         ".", ".hidden", "a%2Fb", "name with spaces", "Nexusflow__Athene-V2-Chat", "模型/中文", "a\\b"]


@pytest.mark.parametrize("name", NAMES)
def test_name_round_trips_through_a_single_safe_component(name):
    stem = name_to_stem(name)
    assert "/" not in stem and "\\" not in stem
    assert stem not in (".", "..") and not stem.startswith(".")
    assert stem_to_name(stem) == name


@pytest.mark.parametrize("name", NAMES)
def test_answer_and_judgment_files_stay_inside_the_data_directory(tmp_path, name):
    data = (tmp_path / "data").resolve()
    for path in (answer_file(data, "bench", name), judgment_file(data, "bench", name, name)):
        assert data in path.resolve().parents
        assert path.suffix == ".jsonl"


def test_files_written_by_other_tools_keep_their_names():
    assert stem_to_name("Nexusflow__Athene-V2-Chat") == "Nexusflow__Athene-V2-Chat"
    assert name_to_stem("gpt-4-0314") == "gpt-4-0314"


def test_distinct_names_never_share_a_file():
    stems = [name_to_stem(n) for n in NAMES]
    assert len(set(stems)) == len(stems)


@pytest.mark.parametrize("bad", ["", "   ", "tab\tname", None, 42])
def test_unusable_names_are_input_errors(bad):
    with pytest.raises(InputError):
        name_to_stem(bad)


def test_inside_refuses_escapes(tmp_path):
    with pytest.raises(InputError):
        inside(tmp_path, "..", "x")
    with pytest.raises(InputError):
        inside(tmp_path, "/etc/passwd")
    assert inside(tmp_path, "a", "b") == tmp_path / "a" / "b"


def test_results_files_are_per_benchmark_and_judges_and_stay_inside(tmp_path):
    data = (tmp_path / "data").resolve()
    assert battles_file(data, "b", ["gpt-4.1"]) == data / "b" / "results" / "gpt-4.1" / "arena_hard_battles.jsonl"
    assert bootstrap_results_file(data, "b", ["j1", "j2"]) == data / "b" / "results" / "j1+j2" / "bootstrapping_results.jsonl"
    for name in NAMES:
        assert data / "b" / "results" in results_dir(data, "b", [name, "other"]).parents
    # no two lists of judges share a directory, whatever their names hold
    judge_lists = [["a+b"], ["a", "b"], ["b", "a"], ["a"], ["a%2Bb"], ["a/b"], ["a", "b+c"], ["a+b", "c"]]
    assert len({results_dir(data, "b", judges) for judges in judge_lists}) == len(judge_lists)


def test_too_many_judges_for_a_directory_name_is_an_input_error(tmp_path):
    with pytest.raises(InputError) as err:
        results_dir(tmp_path, "b", [f"judge-number-{i}" for i in range(20)])
    assert err.value.key == "--judge-names"
