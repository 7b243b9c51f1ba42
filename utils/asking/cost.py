"""What requests cost: token usage times an entry's ``price`` (utils.plumbing.config.Price), and token counts before sending.

Pure functions. Usage is what an endpoint reported, under the OpenAI names
(``prompt_tokens``, ``completion_tokens``; each provider's ``read`` translates
its own). A batch job pays ``batch_discount`` of the price; a record
sent through a batch says so with ``"batch": true`` (on an answer, a
judgment, or one of its games).

* ``Tally``: what the records of one output file used, split by how they
  were sent; ``tally_answers`` / ``tally_judgments`` make one from records.
* ``expected_output``: the completion tokens to expect of a request, from
  earlier records (their mean) or else a typical count; the token limit is
  the bound for the worst case.
* ``chat_tokens``: prompt tokens of chat requests counted with tiktoken
  before they are sent (``request_encoding``: the encoding the model's provider names).
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from utils.asking.providers import provider_for
from utils.plumbing.entry import ModelConfig, Price
from utils.vocabulary.style import token_lengths

PER_TOKENS = 1_000_000  # prices are per million tokens

# OpenAI's chat format wraps each message in a few tokens of its own, and primes the reply with a few more
# (the count OpenAI documents for its gpt-3.5/gpt-4 family): content and role tokens come on top of these.
TOKENS_PER_MESSAGE = 3
TOKENS_REPLY_PRIMING = 3

def cost_usd(input_tokens: float, output_tokens: float, price: Price, batch: bool = False) -> float:
    """US dollars for so many prompt and completion tokens at ``price`` (discounted when sent as a batch)."""
    full = (input_tokens * price.input + output_tokens * price.output) / PER_TOKENS
    return full * price.batch_discount if batch else full


def usage_tokens(usage: dict | None) -> tuple[int, int]:
    """(prompt tokens, completion tokens) of one stored usage record; (0, 0) when none was reported."""
    usage = usage or {}
    return int(usage.get("prompt_tokens", 0) or 0), int(usage.get("completion_tokens", 0) or 0)


# ---------------------------------------------------------------- what stored records used


@dataclass
class Tally:
    """What the records of one output file used: tokens, and the part of them sent as a batch."""
    records: int = 0  # answers, or judgments
    requests: int = 0  # requests whose usage is known (answer turns, game attempts): the mean's divisor
    input_tokens: int = 0  # all of them, batch included
    output_tokens: int = 0
    batch_records: int = 0  # records sent (in whole or in part) through a batch
    batch_input_tokens: int = 0  # the part of the tokens sent through a batch
    batch_output_tokens: int = 0
    without_usage: int = 0  # answers or games stored without usage (other tools' files): their tokens are unknown

    def add(self, usage: dict | None, requests: int, batch: bool) -> None:
        """Count one answer's or game's usage (``requests``: the requests it took)."""
        if not isinstance(usage, dict) or not any(usage_tokens(usage)):
            self.without_usage += 1
            return
        prompt, completion = usage_tokens(usage)
        self.requests += requests
        self.input_tokens += prompt
        self.output_tokens += completion
        if batch:
            self.batch_input_tokens += prompt
            self.batch_output_tokens += completion

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def __sub__(self, other: "Tally") -> "Tally":
        return Tally(*(getattr(self, f.name) - getattr(other, f.name) for f in fields(self)))

    def cost(self, price: Price | None) -> float | None:
        """US dollars at ``price``, the batch part at its discount; None without a price."""
        if price is None:
            return None
        live_in, live_out = self.input_tokens - self.batch_input_tokens, self.output_tokens - self.batch_output_tokens
        return cost_usd(live_in, live_out, price) + cost_usd(self.batch_input_tokens, self.batch_output_tokens,
                                                             price, batch=True)


def _answer_turns(record: dict) -> int:
    """How many requests an answer took: one per assistant turn (either layout)."""
    messages = record.get("messages")
    if isinstance(messages, list):
        return max(1, sum(isinstance(m, dict) and m.get("role") == "assistant" for m in messages))
    choices = record.get("choices")
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return max(1, len(choices[0].get("turns") or []))
    return 1


def tally_answers(records) -> Tally:
    """The tally of answer records as stored (a record's ``usage`` is summed over its turns)."""
    tally = Tally()
    for record in records:
        tally.records += 1
        batch = record.get("batch") is True
        tally.batch_records += batch
        tally.add(record.get("usage"), _answer_turns(record), batch)
    return tally


def tally_judgments(records) -> Tally:
    """The tally of judgment records as stored: each game's ``usage`` (summed over its attempts); null games
    were not played and cost nothing."""
    tally = Tally()
    for record in records:
        tally.records += 1
        games = [g for g in (record.get("games") or [])[:2] if isinstance(g, dict)]
        batched = [record.get("batch") is True or g.get("batch") is True for g in games]
        tally.batch_records += any(batched)
        for game, batch in zip(games, batched):
            attempts = game.get("attempts")
            tally.add(game.get("usage"), attempts if isinstance(attempts, int) and attempts > 0 else 1, batch)
    return tally


# ---------------------------------------------------------------- before sending


# The completion tokens a request usually takes, for a model or judge without earlier records to take the mean
# of; measured (o200k_base) on the real files of ../shared. A judge's game: the GPT-4-class judges' texts
# average 640 (gpt-4-1106-preview) and 801 (gpt-4o) tokens (gpt-3.5-turbo's 336, gemini-1.5-pro's 280). An
# answer: Arena-Hard v2.0's published answers average 818 (llama3.1-8b-instruct) and 938 (o3-mini) tokens
# (v0.1's, of older models, 330 to 423). A reasoning model also bills its hidden reasoning, which these leave
# out; the records of its first run then give its own mean.
TYPICAL_OUTPUT = {"judgment": 700, "answer": 800}


@dataclass(frozen=True)
class OutputGuess:
    """The completion tokens expected of one request, what the number rests on, and the most it can be."""
    tokens: float
    basis: str  # "mean of N earlier", "typical judgment (no earlier records)", ...
    bound: int  # max_tokens: no request writes more, so N requests cost at most their prompts and N x bound


def expected_output(earlier: Tally, max_tokens: int, unit: str) -> OutputGuess:
    """The mean completion tokens per request of ``earlier`` records, or without any the typical count of a
    ``unit`` ("answer" or "judgment") request (``TYPICAL_OUTPUT``), never above ``max_tokens``."""
    if earlier.requests and earlier.output_tokens:
        return OutputGuess(earlier.output_tokens / earlier.requests, f"mean of {earlier.requests} earlier",
                           max_tokens)
    typical = TYPICAL_OUTPUT[unit]
    if max_tokens < typical:
        return OutputGuess(float(max_tokens), f"max_tokens, below a typical {unit}'s {typical}", max_tokens)
    return OutputGuess(float(typical), f"typical {unit}: no earlier records", max_tokens)


def request_encoding(cfg: ModelConfig) -> tuple[str, bool]:
    """(tiktoken encoding, whether it is the model's own) for counting a model's prompt tokens: its provider's
    word (utils/asking/providers: OpenAI's by model name; others' tokenizers, not available offline, have
    cl100k_base stand in, an approximation: counts typically differ by some percent)."""
    return provider_for(cfg).encoding()


def chat_tokens(requests: list[list[dict]], encoding: str) -> list[int]:
    """The prompt tokens of each request (a list of chat messages) in OpenAI's chat format.

    Per message ``TOKENS_PER_MESSAGE`` plus its role's and its content's
    tokens, and ``TOKENS_REPLY_PRIMING`` per request. All texts go to
    tiktoken in one batch.
    """
    texts = [str(m.get(key) or "") for messages in requests for m in messages for key in ("role", "content")]
    lengths = iter(token_lengths(texts, encoding))
    return [TOKENS_REPLY_PRIMING + sum(TOKENS_PER_MESSAGE + next(lengths) + next(lengths) for _ in messages)
            for messages in requests]
