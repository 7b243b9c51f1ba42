"""Both published layouts read into the same records; we write the 2025 layout and read it back."""
from __future__ import annotations

import pytest

from tests.helpers import write_jsonl
from utils.plumbing.errors import InputError
from utils.vocabulary.records import Answer, read_answers, read_judgments, read_questions

OLD_Q = {"question_id": "q1", "category": "c", "cluster": "k", "turns": [{"content": "hi"}, {"content": "again"}]}
NEW_Q = {"uid": "q1", "category": "c", "subcategory": "k", "prompt": "hi"}
OLD_A = {"question_id": "q1", "answer_id": "a1", "model_id": "m", "tstamp": 1.0,
         "choices": [{"index": 0, "turns": [{"content": "one", "token_len": 1}, {"content": "two", "token_len": 1}]}],
         "conv_metadata": {"token_len": 2}}
NEW_A = {"uid": "q1", "ans_id": "a1", "model": "m", "tstamp": 1.0, "metadata": {"token_len": 2},
         "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": {"answer": "one"}},
                      {"role": "user", "content": "again"}, {"role": "assistant", "content": {"answer": "two"}}]}


def test_questions_of_both_layouts_agree(tmp_path):
    old = read_questions(write_jsonl(tmp_path / "old.jsonl", [OLD_Q]))[0]
    new = read_questions(write_jsonl(tmp_path / "new.jsonl", [NEW_Q]))[0]
    assert old.uid == new.uid == "q1" and old.cluster == new.cluster == "k"
    assert old.turns == ("hi", "again") and new.turns == ("hi",)


def test_answers_of_both_layouts_agree_and_multi_turn_is_kept(tmp_path):
    old = read_answers(write_jsonl(tmp_path / "old.jsonl", [OLD_A]))["q1"]
    new = read_answers(write_jsonl(tmp_path / "new.jsonl", [NEW_A]))["q1"]
    for a in (old, new):
        assert a.turns == ["one", "two"] and a.model == "m" and a.metadata == {"token_len": 2}
    assert new.prompts == ["hi", "again"]


def test_written_answer_reads_back_identically(tmp_path):
    answer = Answer(uid="q9", model="org/m", turns=["x", "y"], prompts=["p1", "p2"], ans_id="id", tstamp=2.0,
                    metadata={"token_len": 3}, usage={"prompt_tokens": 5, "completion_tokens": 7})
    path = write_jsonl(tmp_path / "a.jsonl", [answer.to_json()])
    assert read_answers(path)["q9"] == answer


def test_judgments_of_both_layouts(tmp_path):
    old = {"question_id": "q1", "model": "m", "judge": "j",
           "games": [{"user_prompt": "p", "judgment": "t [[A>B]]", "score": "A>B"}, {"user_prompt": "p2", "judgment": "u", "score": None}]}
    new = {"uid": "q1", "model": "m", "judge": "j", "baseline": "b", "category": "c",
           "games": [{"prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "p"}],
                      "judgment": {"answer": "t [[A>B]]"}, "score": "A>B"}, {"prompt": [], "judgment": "u", "score": None}]}
    a = read_judgments(write_jsonl(tmp_path / "old.jsonl", [old]))["q1"]
    b = read_judgments(write_jsonl(tmp_path / "new.jsonl", [new]))["q1"]
    for j in (a, b):
        assert [g.label for g in j.games] == ["A>B", None]
        assert j.games[0].user_prompt == "p" and j.games[0].judgment == "t [[A>B]]"


def test_answer_without_model_names_the_key(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [NEW_A, {k: v for k, v in NEW_A.items() if k != "model"}])
    with pytest.raises(InputError) as err:
        read_answers(path)
    assert err.value.line == 2 and err.value.key == "model"


def test_real_files_of_both_layouts_hold_the_same_answers(data_source):
    """The extract of ../shared (100 questions) and, where it is present, ../shared itself (500)."""
    questions = read_questions(data_source / "data/arena-hard-v0.1/question.jsonl")
    assert questions == read_questions(data_source / "data/arena-hard-v0.1-2024fmt/question.jsonl")
    assert len(questions) >= 100
    for name in ("gpt-4-0314", "gpt-3.5-turbo-0125"):
        new = read_answers(data_source / "data/arena-hard-v0.1/model_answer" / f"{name}.jsonl")
        old = read_answers(data_source / "data/arena-hard-v0.1-2024fmt/model_answer" / f"{name}.jsonl")
        assert new.keys() == old.keys() == {q.uid for q in questions}
        assert all(new[k].turns == old[k].turns and new[k].model == old[k].model == name for k in new)
