"""The cost arithmetic, against values worked out by hand."""
from __future__ import annotations

import pytest

from utils.asking.cost import cost_usd, usage_tokens
from utils.plumbing.config import Price


def test_cost_of_tokens_at_a_price_per_million():
    price = Price(input=2.5, output=10.0)
    # 1200 prompt tokens at $2.50/M = $0.003; 300 completion tokens at $10/M = $0.003; together $0.006
    assert cost_usd(1200, 300, price) == pytest.approx(0.006)
    assert cost_usd(1200, 300, price, batch=True) == pytest.approx(0.003)  # a batch pays half
    assert cost_usd(1200, 300, Price(2.5, 10.0, batch_discount=0.6), batch=True) == pytest.approx(0.0036)


def test_usage_tokens_reads_the_stored_names_and_tolerates_none():
    assert usage_tokens({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}) == (7, 3)
    assert usage_tokens(None) == usage_tokens({}) == (0, 0)


def test_a_tally_counts_every_answer_and_game_and_prices_the_batch_part_at_its_discount():
    from utils.asking.cost import tally_answers, tally_judgments

    answers = [{"uid": "a", "usage": {"prompt_tokens": 1000, "completion_tokens": 500}},
               {"uid": "b", "usage": {"prompt_tokens": 2000, "completion_tokens": 100}, "batch": True},
               {"uid": "c"}]  # another tool's answer, without usage
    tally = tally_answers(answers)
    assert (tally.records, tally.input_tokens, tally.output_tokens, tally.without_usage) == (3, 3000, 600, 1)
    assert (tally.batch_records, tally.batch_input_tokens, tally.batch_output_tokens) == (1, 2000, 100)
    # at $1/M in and $4/M out: a = 0.001 + 0.002 = $0.003; b at half: (0.002 + 0.0004) / 2 = $0.0012
    assert tally.cost(Price(1.0, 4.0)) == pytest.approx(0.0042)
    assert tally.cost(None) is None

    judgments = [{"uid": "a", "games": [{"usage": {"prompt_tokens": 10, "completion_tokens": 5}, "attempts": 2},
                                        None]},  # the second game was never played
                 {"uid": "b", "batch": True, "games": [{"usage": {"prompt_tokens": 20, "completion_tokens": 6}},
                                                       {"usage": {"prompt_tokens": 30, "completion_tokens": 7}}]}]
    tally = tally_judgments(judgments)
    assert (tally.records, tally.requests, tally.input_tokens, tally.output_tokens) == (2, 4, 60, 18)
    assert (tally.batch_records, tally.batch_input_tokens, tally.batch_output_tokens, tally.without_usage) == \
        (1, 50, 13, 0)


def test_expected_output_is_the_mean_of_earlier_records_else_a_typical_count_and_max_tokens_bounds_it():
    from utils.asking.cost import Tally, expected_output

    # 3 requests (say a game asked twice, and one more) wrote 90 tokens: 30 each
    guess = expected_output(Tally(records=2, requests=3, output_tokens=90), 512, "judgment")
    assert (guess.tokens, guess.basis, guess.bound) == (30, "mean of 3 earlier", 512)
    nothing = expected_output(Tally(records=4, without_usage=4), 16000, "judgment")
    assert (nothing.tokens, nothing.basis, nothing.bound) == (700, "typical judgment: no earlier records", 16000)
    answer = expected_output(Tally(), 16000, "answer")
    assert (answer.tokens, answer.basis) == (800, "typical answer: no earlier records")
    short = expected_output(Tally(), 512, "judgment")  # a limit below the typical count: no request writes more
    assert (short.tokens, short.basis, short.bound) == (512, "max_tokens, below a typical judgment's 700", 512)


@pytest.mark.parametrize("model_name, api_type, expected", [
    ("gpt-4o-mini", "openai", ("o200k_base", True)), ("gpt-4.1", "azure", ("o200k_base", True)),
    ("o3-mini-2025-01-31", "openai", ("o200k_base", True)), ("gpt-5", "openai", ("o200k_base", True)),
    ("my-gpt-4o-deployment", "azure", ("o200k_base", True)), ("gpt-4-0314", "openai", ("cl100k_base", True)),
    ("claude-3-5-sonnet-20241022", "anthropic", ("cl100k_base", False)),
    ("Qwen/Qwen2.5-7B-Instruct", "openai", ("cl100k_base", False)), ("solo1", "openai", ("cl100k_base", False)),
])
def test_the_tokenizer_follows_the_model_name(model_name, api_type, expected):
    from utils.asking.cost import request_encoding
    from utils.plumbing.config import ModelConfig

    assert request_encoding(ModelConfig(name="entry", model_name=model_name, api_type=api_type)) == expected
