"""Talking to models: one small async interface over OpenAI-compatible, Azure and Anthropic endpoints.

``ModelClient(config).chat(messages, ...)`` sends one chat request and returns
a ``Reply`` (text and token usage) or raises ``RequestFailed`` with a reason
a person can read. Everything provider-specific stays in this module.

Why it is built this way:

* One SDK client per endpoint, made once and shared by every request of the
  run. A client made per request (as the predecessor did) pays a new
  connection pool, TLS handshake and SDK set-up every time; at a few hundred
  requests in flight that alone costs more CPU than the rest of the run.
* Retries are the SDKs' own: on 408/409/429/5xx, timeouts and dropped
  connections they back off exponentially with jitter, honour ``Retry-After``
  and stop after ``max_retries``. One tested policy for every provider,
  instead of a loop per provider.
* ``parallel`` requests in flight per model, across all its endpoints, which
  are used round-robin; the connection pool is sized to match so requests
  never queue inside httpx while the semaphore thinks they are running.
* An API key lives only in the SDK client. Every reason we report is passed
  through ``_scrub`` so a server that echoes the key back in an error body
  cannot put it into a log line or the run summary.
"""
from __future__ import annotations

import asyncio
import importlib
import itertools
import json
from dataclasses import dataclass, field

try:  # the SDKs' HTTP layer: httpx2 in openai 3 / anthropic 2, httpx before
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older SDKs
    import httpx

from utils.config import Endpoint, ModelConfig

_REASON_CHARS = 300  # error bodies can be whole HTML pages; a summary line needs the start


@dataclass
class Reply:
    text: str
    usage: dict = field(default_factory=dict)  # prompt_tokens, completion_tokens, total_tokens
    structured: bool = False  # True when the endpoint honoured the requested response_format


class RequestFailed(Exception):
    """A request that failed for good (after the SDK's retries); ``reason`` is safe to print."""

    def __init__(self, reason: str, status: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.status = status


def _limits(parallel: int) -> httpx.Limits:
    return httpx.Limits(max_connections=parallel, max_keepalive_connections=parallel)


def _sdk(cfg: ModelConfig):
    """The SDK module a model is reached with, imported on first use (anthropic alone takes ~1 s to import)."""
    return importlib.import_module("anthropic" if cfg.api_type == "anthropic" else "openai")


def _make_sdk_client(cfg: ModelConfig, endpoint: Endpoint):
    sdk = _sdk(cfg)
    common = {"api_key": endpoint.api_key or "none", "max_retries": cfg.max_retries, "timeout": cfg.timeout}
    if cfg.api_type == "anthropic":
        return sdk.AsyncAnthropic(base_url=endpoint.api_base, **common,
                                  http_client=sdk.DefaultAsyncHttpxClient(limits=_limits(cfg.parallel)))
    http_client = sdk.DefaultAsyncHttpxClient(limits=_limits(cfg.parallel))
    if cfg.api_type == "azure":
        return sdk.AsyncAzureOpenAI(azure_endpoint=endpoint.api_base, api_version=endpoint.api_version,
                                    http_client=http_client, **common)
    return sdk.AsyncOpenAI(base_url=endpoint.api_base, http_client=http_client, **common)


def _usage(raw) -> dict:
    """Top-level integer token counts, under the OpenAI names whatever the provider."""
    if raw is None:
        return {}
    data = raw.model_dump() if hasattr(raw, "model_dump") else dict(raw)
    usage = {k: v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)}
    if "input_tokens" in usage:  # Anthropic
        usage["prompt_tokens"] = usage.pop("input_tokens")
        usage["completion_tokens"] = usage.pop("output_tokens", 0)
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
    return usage


class ModelClient:
    """Chat requests to one configured model, ``parallel`` at a time, round-robin over its endpoints."""

    def __init__(self, cfg: ModelConfig):
        self.cfg = cfg
        self._sdk = _sdk(cfg)
        self._clients = [_make_sdk_client(cfg, e) for e in cfg.endpoints]
        self._next = itertools.cycle(self._clients)
        self._slots = asyncio.Semaphore(cfg.parallel)
        self._secrets = [e.api_key for e in cfg.endpoints if e.api_key]
        self.refused_formats: set[str] = set()  # response_format types the endpoints rejected

    async def chat(self, messages: list[dict], *, temperature: float | None = None, max_tokens: int | None = None,
                   response_formats: tuple[dict, ...] = ()) -> Reply:
        """One completion for ``messages`` (a leading system message is allowed).

        The model's own ``system_prompt`` is added when the messages carry
        none. ``response_formats`` are ways to ask for structured output
        (OpenAI's ``response_format`` shapes), best first: an endpoint that
        refuses one with a 400/422 is asked with the next, and at last with
        none; a refusal confirmed by a later success is remembered, so later
        requests skip it.
        """
        if self.cfg.system_prompt and not (messages and messages[0]["role"] == "system"):
            messages = [{"role": "system", "content": self.cfg.system_prompt}, *messages]
        if self.cfg.temperature is not None:
            temperature = self.cfg.temperature
        max_tokens = self.cfg.max_tokens or max_tokens
        async with self._slots:
            client = next(self._next)
            # read only now: a refusal learnt while this request waited for its slot already counts
            formats = [] if self.cfg.api_type == "anthropic" else \
                [f for f in response_formats if f["type"] not in self.refused_formats]
            refused = []
            for fmt in [*formats, None]:
                try:
                    text, usage = await self._send(client, messages, temperature, max_tokens, fmt)
                except RequestFailed as err:
                    if fmt is None or err.status not in (400, 422):
                        raise
                    refused.append(fmt["type"])
                    continue
                self.refused_formats.update(refused)
                return Reply(text, usage, structured=fmt is not None)
        raise AssertionError("unreachable: the last try has no format and re-raises")

    async def _send(self, client, messages, temperature, max_tokens, response_format) -> tuple[str, dict]:
        sdk = self._sdk
        base_error = sdk.AnthropicError if self.cfg.api_type == "anthropic" else sdk.OpenAIError
        try:
            if self.cfg.api_type == "anthropic":
                return await self._send_anthropic(client, messages, temperature, max_tokens)
            return await self._send_openai(client, messages, temperature, max_tokens, response_format)
        except sdk.APIStatusError as err:
            raise RequestFailed(self._scrub(f"HTTP {err.status_code}: {_error_message(err)}"),
                                err.status_code) from None
        except sdk.APITimeoutError:
            raise RequestFailed(f"timed out ({self.cfg.timeout:g} s per attempt, "
                                f"{self.cfg.max_retries + 1} attempts)") from None
        except sdk.APIConnectionError as err:
            cause = err.__cause__ or err
            raise RequestFailed(self._scrub(f"connection failed after {self.cfg.max_retries + 1} attempts: "
                                            f"{type(cause).__name__}: {cause}")) from None
        except (base_error, json.JSONDecodeError, ValueError, TypeError, AttributeError, KeyError, IndexError) as err:
            raise RequestFailed(self._scrub(f"malformed response: {type(err).__name__}: {err}")) from None

    async def _send_openai(self, client, messages, temperature, max_tokens, response_format):
        kwargs = {"model": self.cfg.model_name, "messages": messages}
        if temperature is not None:
            kwargs["temperature"] = temperature
        if max_tokens is not None:
            kwargs["max_tokens"] = max_tokens
        if response_format is not None:
            kwargs["response_format"] = response_format
        if self.cfg.extra_body:
            kwargs["extra_body"] = self.cfg.extra_body
        resp = await client.chat.completions.create(**kwargs)
        if not getattr(resp, "choices", None):
            raise ValueError("the response has no choices")
        text = resp.choices[0].message.content
        if not isinstance(text, str) or not text.strip():
            raise RequestFailed("empty answer (the endpoint returned no text)")
        return text, _usage(resp.usage)

    async def _send_anthropic(self, client, messages, temperature, max_tokens):
        system = [m["content"] for m in messages if m["role"] == "system"]
        kwargs = {"model": self.cfg.model_name, "messages": [m for m in messages if m["role"] != "system"],
                  "max_tokens": max_tokens or 4096}
        if system:
            kwargs["system"] = "\n\n".join(system)
        extra = dict(self.cfg.extra_body)
        # Current Claude models take no sampling settings and the SDK no longer has the argument:
        # send a temperature only when this model's own entry asks for one.
        if self.cfg.temperature is not None:
            extra["temperature"] = self.cfg.temperature
        if extra:
            kwargs["extra_body"] = extra
        resp = await client.messages.create(**kwargs)
        text = "".join(block.text for block in resp.content if getattr(block, "type", "") == "text")
        if not text.strip():
            raise RequestFailed("empty answer (the endpoint returned no text)")
        return text, _usage(resp.usage)

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:  # before shortening, so no half of a key survives the cut
            text = text.replace(secret, "***")
        return text[:_REASON_CHARS] + ("..." if len(text) > _REASON_CHARS else "")

    async def aclose(self) -> None:
        for client in self._clients:
            await client.close()


def _error_message(err) -> str:
    """The server's own message when its error body has one, else the SDK's text."""
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
        if isinstance(inner, str):
            return inner
    return str(err)
