"""What requests cost: token usage times an entry's ``price`` (utils.config.Price).

Pure functions. Usage is what an endpoint reported, under the OpenAI names
(``prompt_tokens``, ``completion_tokens``; utils.asking.clients translates
Anthropic's). A batch job pays ``batch_discount`` of the price.
"""
from __future__ import annotations

from utils.config import Price

PER_TOKENS = 1_000_000  # prices are per million tokens


def cost_usd(input_tokens: float, output_tokens: float, price: Price, batch: bool = False) -> float:
    """US dollars for so many prompt and completion tokens at ``price`` (discounted when sent as a batch)."""
    full = (input_tokens * price.input + output_tokens * price.output) / PER_TOKENS
    return full * price.batch_discount if batch else full


def usage_tokens(usage: dict | None) -> tuple[int, int]:
    """(prompt tokens, completion tokens) of one stored usage record; (0, 0) when none was reported."""
    usage = usage or {}
    return int(usage.get("prompt_tokens", 0) or 0), int(usage.get("completion_tokens", 0) or 0)
