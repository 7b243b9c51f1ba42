"""The contract a provider keeps: what ModelClient, batch mode, costs and config validation ask of it.

A provider is one way of talking to models (an API and the SDK that speaks
it). Its class says, in one file under this package, everything that is
particular to it; the rest of the run (endpoints, lanes, slots, retries,
pauses, the response-format fallback: utils/asking/clients.py) is common.
What a provider says and does:

* **Config** (class attributes, read while api_config.yaml is validated,
  before any SDK is imported): ``api_type``, the value that selects it;
  ``key_variable``, the environment variable its key comes from when the
  entry names none; ``needs``, the endpoint fields it cannot do without;
  ``field_variables``, environment variables read for a field the entry
  leaves out; ``entry_keys``, which of the provider-dependent entry keys
  (``PROVIDER_KEYS``) it takes, and ``instead``, what to tell a user who
  gives one it does not take; ``entry_problem`` for rules between keys.
* **A request**: ``client`` makes the SDK client of one endpoint;
  ``sent_settings`` the temperature and token limit a request goes out with
  (its rules: which temperature reasoning models take, a limit always sent);
  ``body`` the JSON body of a chat (the token-limit field, reasoning_effort or
  thinking, ``response_format`` when ``takes_response_format``); ``send`` it.
* **A reply**: ``read`` takes the answer's text, the reasoning apart, the
  usage under OpenAI's names (``openai_usage``), the finish reason, the
  served model and the fingerprint out of a response (``ReplyParts``).
  ``inline_reasoning``: a ``<think>`` block in the text may be reasoning.
* **Errors**: ``errors`` names the SDK's exception classes; ModelClient turns
  them into ``RequestFailed`` the same way for every provider (a status, a
  timeout, a failed connection, a malformed response).
* **Batches**: ``batches`` gives its batch API for one SDK client (submit,
  poll, collect: utils/asking/providers/batches.py), or None when it has none;
  ``batch_response`` reads a batch line's result as a direct response.
* **Tokens**: ``encoding`` names the tiktoken encoding that counts its prompt
  tokens before sending, and whether that count is the provider's own.

Instances are made per model entry (``Provider(cfg)``); the registry
(utils/asking/providers/__init__.py) maps ``api_type`` to the class.
The shape follows inspect_ai's ``ModelAPI`` and its provider registry, and
the original Arena-Hard's ``@register_api`` table of completion functions.
"""
from __future__ import annotations

import functools
import importlib
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple

from utils.plumbing.entry import Endpoint, ModelConfig

# The entry keys whose meaning depends on the provider: a provider takes some of them (``entry_keys``)
PROVIDER_KEYS = ("reasoning_effort", "max_tokens_field", "thinking")
_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"


@dataclass
class Reply:
    text: str  # the answer (under reasoning_policy strip, without inline reasoning)
    usage: dict = field(default_factory=dict)  # prompt_tokens, completion_tokens, total_tokens
    structured: bool = False  # True when the endpoint honoured the requested response_format
    reasoning: str = ""  # the model's reasoning, apart from the answer; "" when it showed none
    repaired: int = 0  # lone surrogates replaced with U+FFFD in text and reasoning
    masked: int = 0  # secrets (our keys, secret-looking environment values) the reply echoed, replaced with ***
    batch: bool = False  # True when it came back from a provider batch (billed at the batch price)
    finish_reason: str = ""  # why the endpoint stopped: "stop", "length" (Anthropic: "end_turn", "max_tokens"), ...
    served_model: str = ""  # the model id the endpoint says it served (``model`` of the response)
    system_fingerprint: str = ""  # OpenAI's fingerprint of the serving configuration, when sent


@dataclass
class ReplyParts:
    """What a provider reads out of one response, before the rules every reply follows (clients.py)."""
    text: Any  # the answer's text as sent (None or another type counts as no text)
    reasoning: Any = None  # reasoning sent apart from the text
    usage: dict = field(default_factory=dict)  # under OpenAI's names
    finish_reason: Any = None
    served_model: Any = None
    fingerprint: Any = None


class RequestFailed(Exception):
    """A request that failed for good (after the SDK's retries); ``reason`` is safe to print.

    ``group``, when set, is what the failure has in common with others (an
    endpoint given up on, or one that asked to wait too long), worded to follow
    "<count> request(s) " in the run summary, which shows the group once.
    ``unreachable``: how the endpoint failed to connect, when it did.
    ``fails_again``: asking again unchanged would fail the same way (a prompt
    longer than the model's context), which the reason says how to change.
    """

    def __init__(self, reason: str, status: int | None = None, *, group: str | None = None,
                 unreachable: str | None = None, fails_again: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.group = group
        self.unreachable = unreachable
        self.fails_again = fails_again


class SdkErrors(NamedTuple):
    """An SDK's exception classes, as ModelClient tells failures apart."""
    status: type  # the server answered with an error status
    timeout: type
    connection: type  # no answer: the connection failed or dropped
    base: type  # anything else the SDK raises (a response it could not read)


def split_reasoning(text: str) -> tuple[str, str]:
    """(answer, reasoning) of a reply that may open with a ``<think>`` block.

    Reasoning models served by vLLM, SGLang or llama.cpp without a reasoning
    parser put their thoughts inline. Often the chat template has already
    opened ``<think>``, so the content only holds the closing tag. A block
    never closed (the token limit hit while thinking) is all reasoning.
    """
    stripped = text.lstrip()
    if stripped.startswith(_THINK_OPEN):
        inner, closed, answer = stripped[len(_THINK_OPEN):].partition(_THINK_CLOSE)
        return (answer.lstrip(), inner.strip()) if closed else ("", inner.strip())
    before, closed, answer = text.partition(_THINK_CLOSE)
    if closed and _THINK_OPEN not in before:
        return answer.lstrip(), before.strip()
    return text, ""


def openai_usage(raw) -> dict:
    """Top-level integer token counts, under OpenAI's names (``prompt_tokens``, ...) whatever the provider."""
    if raw is None:
        return {}
    data = raw.model_dump() if hasattr(raw, "model_dump") else dict(raw)
    usage = {k: v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)}
    if "input_tokens" in usage:  # Anthropic's names
        usage["prompt_tokens"] = usage.pop("input_tokens")
        usage["completion_tokens"] = usage.pop("output_tokens", 0)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage


def error_message(err) -> str:
    """The server's own message when its error body has one, else the SDK's text."""
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(inner, str):
            return inner
    return str(err)


class Provider:
    """One provider, bound to one model entry; see the module's docstring for what each part is for."""

    api_type: ClassVar[str] = ""
    key_variable: ClassVar[str | None] = None
    needs: ClassVar[dict[str, str]] = {}  # endpoint field -> what to write there (for the message)
    field_variables: ClassVar[dict[str, str]] = {}  # endpoint field -> environment variable read when it is absent
    entry_keys: ClassVar[frozenset[str]] = frozenset()  # of PROVIDER_KEYS
    instead: ClassVar[dict[str, str]] = {}  # a key of PROVIDER_KEYS it does not take -> what to say
    sdk_name: ClassVar[str] = "openai"  # the module imported on first use (anthropic alone takes ~1 s)
    takes_response_format: ClassVar[bool] = False
    inline_reasoning: ClassVar[bool] = False
    batch_api: ClassVar[type | None] = None  # its batch API's class, made with one SDK client; None: no batches

    def __init__(self, cfg: ModelConfig):
        self.cfg = cfg

    @classmethod
    def entry_problem(cls, raw: dict, thinking_budget: int | None) -> tuple[str, str] | None:
        """(key, message) of a rule between an entry's keys that it breaks, or None (the keys each checked)."""
        return None

    @functools.cached_property
    def sdk(self):
        return importlib.import_module(self.sdk_name)

    @property
    def errors(self) -> SdkErrors:
        sdk = self.sdk
        return SdkErrors(sdk.APIStatusError, sdk.APITimeoutError, sdk.APIConnectionError, self._base_error())

    def _base_error(self) -> type:
        raise NotImplementedError

    def client(self, endpoint: Endpoint, http_client, **common):
        """The SDK client of one endpoint (``common``: api_key, max_retries, timeout)."""
        raise NotImplementedError

    def sent_settings(self, temperature: float | None, max_tokens: int | None) -> dict:
        """{"temperature", "max_tokens"} a request goes out with when a step asks for these (None: not sent)."""
        raise NotImplementedError

    def body(self, messages: list[dict], temperature: float | None, max_tokens: int | None,
             response_format: dict | None) -> dict:
        """The JSON body of a chat request (settled arguments): what is sent, directly or in a batch."""
        raise NotImplementedError

    async def send(self, client, body: dict):
        """Send one chat request; the SDK's response object."""
        raise NotImplementedError

    def read(self, response) -> ReplyParts:
        """The parts of a response (ValueError and the like for one that is not a reply)."""
        raise NotImplementedError

    def batch_response(self, payload):
        """A batch line's result as the response object ``read`` takes."""
        return payload

    def batches(self, client):
        """The batch API reached through SDK client ``client``, or None when the provider has none."""
        return None if self.batch_api is None else self.batch_api(client)

    def encoding(self) -> tuple[str, bool]:
        """(tiktoken encoding, whether its counts are the provider's own) for a prompt's tokens before sending.

        Other providers' tokenizers are not available offline: cl100k_base
        stands in for them (counts typically differ by some percent).
        """
        return "cl100k_base", False
