"""One api_config.yaml entry as the rest of the code reads it: ``ModelConfig``, its ``Endpoint``s, its ``Price``.

Kept apart from the loader (utils/plumbing/config.py) because both sides of
the provider seam need these shapes: the loader makes them, checking each
entry against its provider (utils/asking/providers), and the providers read
them when they build a request. Here they are plain frozen records; the
rules of a provider (which field the token limit goes in, which temperature
is sent) live in its own file.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Endpoint:
    api_base: str | None = None
    api_key: str | None = field(default=None, repr=False)  # never printed
    api_version: str | None = None


@dataclass(frozen=True)
class Price:
    """What a provider charges for a model, in US dollars per million tokens (an entry's ``price:``)."""
    input: float  # prompt tokens
    output: float  # completion tokens (reasoning included, as providers bill it)
    batch_discount: float = 0.5  # the share of the price a batch job pays (OpenAI, Azure, Anthropic: half)


@dataclass(frozen=True)
class ModelConfig:
    """One entry of api_config.yaml: how to reach a model and how to ask it."""

    name: str  # the entry name: what answer and judgment files are named after
    model_name: str  # the name the endpoint knows the model by
    api_type: str = "openai"  # its provider (utils/asking/providers)
    endpoints: tuple[Endpoint, ...] = (Endpoint(),)
    parallel: int = 8
    system_prompt: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    extra_body: dict = field(default_factory=dict)  # extra request fields, sent as they are
    timeout: float = 600.0  # seconds per request attempt, whole: connecting, sending, waiting, reading the body
    max_retries: int = 6  # attempts after the first, with the SDK's backoff and jitter
    reasoning_effort: str | None = None  # OpenAI-style reasoning models: low, medium or high
    max_tokens_field: str | None = None  # how the token limit is sent; None: derived from reasoning_effort
    thinking_budget: int | None = None  # Anthropic extended thinking: budget_tokens
    reasoning_policy: str = "strip"  # strip: the answer leaves out inline <think> reasoning; keep: as produced
    price: Price | None = None  # None: costs are counted in tokens only
    family: str | None = None  # the model family, for a judge's self-preference (e.g. "gpt", "claude")
    batch: bool = False  # send this model's requests through its provider's batch API
