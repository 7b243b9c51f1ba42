"""The cost arithmetic, against values worked out by hand."""
from __future__ import annotations

import pytest

from utils.asking.cost import cost_usd, usage_tokens
from utils.config import Price


def test_cost_of_tokens_at_a_price_per_million():
    price = Price(input=2.5, output=10.0)
    # 1200 prompt tokens at $2.50/M = $0.003; 300 completion tokens at $10/M = $0.003; together $0.006
    assert cost_usd(1200, 300, price) == pytest.approx(0.006)
    assert cost_usd(1200, 300, price, batch=True) == pytest.approx(0.003)  # a batch pays half
    assert cost_usd(1200, 300, Price(2.5, 10.0, batch_discount=0.6), batch=True) == pytest.approx(0.0036)


def test_usage_tokens_reads_the_stored_names_and_tolerates_none():
    assert usage_tokens({"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}) == (7, 3)
    assert usage_tokens(None) == usage_tokens({}) == (0, 0)
