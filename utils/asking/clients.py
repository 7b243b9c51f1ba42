"""Talking to models: one small async interface over every provider's endpoints.

``ModelClient(config).chat(messages, ...)`` sends one chat request and returns
a ``Reply`` (text and token usage) or raises ``RequestFailed`` with a reason
a person can read. What is particular to a provider (its SDK client, request
body, reply shape, errors, batches, tokenizer) is its file under
utils/asking/providers, reached through ``self.provider``; what every
provider shares is here.

Why it is built this way:

* SDK clients made once per endpoint and shared by every request of the
  run. A client made per request (as the predecessor did) pays a new
  connection pool, TLS handshake and SDK set-up every time; at a few hundred
  requests in flight that alone costs more CPU than the rest of the run.
* Retries are the SDKs' own: on 408/409/429/5xx, timeouts and dropped
  connections they back off exponentially with jitter, honour ``Retry-After``
  and stop after ``max_retries``. One tested policy for every provider,
  instead of a loop per provider.
* ``parallel`` requests in flight per model, across all its endpoints, which
  are used round-robin; the connection pools are sized to match so requests
  never queue inside httpx while the semaphore thinks they are running.
* An endpoint's connections are split over several SDK clients ("lanes") of
  at most ``_LANE_CONNECTIONS`` each, sharing one TLS context, and a request
  takes the lane with the most free connections. httpcore walks its whole
  pool twice per request (to hand out a connection and to take it back),
  probing the socket of every idle connection on the way, so one pool of 256
  connections costs O(256) per request on the event loop thread: at parallel
  256 that was a third of the run's CPU (``bench/bench_gen_answer.py``).
* ``timeout`` bounds each attempt as a whole: connecting, sending, waiting
  and reading the entire body. httpx's own timeouts apply to each read alone,
  so a body trickling in a byte at a time would hold a request open for ever;
  the SDK's httpx client is given one deadline per ``send`` instead (one timer
  per attempt, where the attempt is made: no task or thread of its own).
  Connecting gets at most half of it (and ``_CONNECT_TIMEOUT``), so a host
  that never answers is told apart from a slow reply.
* An endpoint that cannot be connected to is given up on: after
  ``GIVE_UP_AFTER`` requests in a row that failed to connect (each after all
  its retries, no answer between), requests still to come are not sent to it
  but go to the model's other endpoints, and when none is left they fail at
  once, with one reason for all of them. Otherwise a dead judge would cost
  each of hundreds of questions its ~20 s of retries.
* ``Retry-After`` is honoured up to ``MAX_RETRY_AFTER`` (the openai SDK's own
  limit; the anthropic SDK would wait any time, even an hour per retry). A
  longer one means the quota is spent for a while: the request fails at once
  saying when to come back, and the endpoint is not asked again before then.
* An API key lives only in the SDK client. Every reason we report is passed
  through ``utils.plumbing.keys.mask`` so a server that echoes a key back in an error
  body (this endpoint's, or any other the environment holds) cannot put it
  into a log line or the run summary.
* A reasoning model's reasoning is kept apart from its answer here, at the
  boundary, whatever shape the provider sends it in (its ``read`` finds
  Anthropic's ``thinking`` blocks or ``reasoning_content`` / ``reasoning``
  beside the content; a ``<think>`` block inside the content is split off
  here, for providers whose text may hold one). Everything after this module
  sees the answer alone (what is judged, measured and sent back in later
  turns) and the reasoning as a separate field.
* A reply can hold lone UTF-16 surrogates (``"\\ud800"`` is valid JSON, yet
  such a string cannot be written as UTF-8). They are replaced with U+FFFD
  here and counted, so a paid-for reply is always storable.
"""
from __future__ import annotations

import asyncio
import contextlib
import email.utils
import functools
import json
import math
import re
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from datetime import datetime

try:  # the SDKs' HTTP layer: httpx2 in openai 3 / anthropic 2, httpx before
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older SDKs
    import httpx

from utils.asking.providers import provider_for
from utils.asking.providers.base import Provider, ReplyParts, Reply, RequestFailed, error_message, split_reasoning
from utils.asking.writer import Room
from utils.plumbing.entry import Endpoint, ModelConfig
from utils.plumbing.keys import mask, mask_counted, remember
from utils.plumbing.store import repair_text
from utils.vocabulary.answer_checks import TRUNCATED_REASONS

_REASON_CHARS = 300  # error bodies can be whole HTML pages; a summary line needs the start
_LANE_CONNECTIONS = 16  # the most connections one SDK client (one httpcore pool) holds; see above
GIVE_UP_AFTER = 3  # requests in a row that failed to connect before their endpoint is given up on
MAX_RETRY_AFTER = 120.0  # seconds: the longest Retry-After waited for
_CONNECT_TIMEOUT = 10.0  # seconds: the longest a connection may take (half the attempt's timeout, when shorter)


# Python 3.11's asyncio.timeout; httpx2, the current SDKs' HTTP layer, needs 3.11 anyway
if hasattr(asyncio, "timeout"):
    _deadline = asyncio.timeout
else:  # pragma: no cover - Python 3.10, with SDKs from before httpx2
    import anyio

    @contextlib.asynccontextmanager
    async def _deadline(delay: float):
        with anyio.fail_after(delay):
            yield


class _NotRetried(httpx.TransportError):
    """An attempt the run's stop kept from being sent: every attempt is paid for, a retry too."""


class _WholeAttempts:
    """Mixed into the SDK's httpx client: each ``send`` (one attempt) ends within ``attempt_timeout`` seconds.

    The SDK reads the whole body inside ``send``, so the deadline covers it.
    A response asking to wait longer than ``MAX_RETRY_AFTER`` gets the
    ``x-should-retry: false`` header both SDKs obey, so neither waits for it.
    Once the run's ``room`` is stopping, no attempt goes: a request is in
    flight then, so this is the SDK retrying it, which ends in ``_NotRetried``.
    """

    attempt_timeout: float
    room: Room | None = None

    async def send(self, request, **kwargs):
        if self.room is not None and self.room.stopping:
            raise _NotRetried(Room.STOPPING, request=request)
        try:
            async with _deadline(self.attempt_timeout):
                response = await super().send(request, **kwargs)
        except TimeoutError:
            raise httpx.ReadTimeout(f"no whole response within {self.attempt_timeout:g} s", request=request) from None
        if _too_long_to_wait(response) is not None:
            response.headers["x-should-retry"] = "false"
        return response


@functools.lru_cache(maxsize=None)
def _http_client_class(sdk_default: type) -> type:
    """The SDK's own default httpx client class (its pool and socket settings) with whole-attempt deadlines."""
    return type(f"WholeAttempt{sdk_default.__name__}", (_WholeAttempts, sdk_default), {})


def without_credentials(url: str) -> str:
    """``url`` without a ``user:password@`` part or a query, which may hold a secret: files name endpoints so."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query=""))


def retry_after(headers) -> float | None:
    """Seconds a response asks to wait before the next request (``retry-after-ms``, or Retry-After: seconds
    or an HTTP date), or None when it says nothing readable."""
    for name, unit in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * unit
        except ValueError:
            try:
                seconds = email.utils.parsedate_to_datetime(value).timestamp() - time.time()
            except (TypeError, ValueError, OverflowError):
                continue
        if math.isfinite(seconds):
            return seconds
    return None


def _too_long_to_wait(response) -> float | None:
    """The wait a response to be retried asks for, when it is longer than MAX_RETRY_AFTER (else None)."""
    if response.status_code in (408, 409, 429) or response.status_code >= 500:  # what both SDKs retry
        wait = retry_after(response.headers)
        if wait is not None and wait > MAX_RETRY_AFTER:
            return wait
    return None


def _come_back_at(moment: float) -> str:
    """A local time, rounded up to the minute: HH:MM, with the date when it is not today."""
    when = datetime.fromtimestamp(math.ceil(moment / 60) * 60)
    return when.strftime("%H:%M" if when.date() == datetime.now().date() else "%Y-%m-%d %H:%M")


@dataclass(eq=False, slots=True)
class _Lane:
    """One SDK client of an endpoint (one connection pool), and how many of its connections are free."""

    client: object  # openai.AsyncOpenAI, AsyncAzureOpenAI or anthropic.AsyncAnthropic
    free: int


@dataclass(eq=False)
class _Endpoint:
    """One endpoint of a model: its lanes, and whether it is still worth asking."""

    url: str
    lanes: list[_Lane]
    refused: int = 0  # requests in a row that could not connect, each after its retries
    down: str = ""  # why it was given up on for the rest of the run ("" while it is not)
    paused_until: float = 0.0  # time.time() before which it is not asked (it sent a long Retry-After)
    pause: str = ""  # what it asked, in words


def _limits(connections: int) -> httpx.Limits:
    return httpx.Limits(max_connections=connections, max_keepalive_connections=connections)


def lane_sizes(parallel: int) -> list[int]:
    """Connections of each lane of one endpoint: ``parallel`` in all, at most ``_LANE_CONNECTIONS`` each.

    A request takes the lane with the most free connections; with at most
    ``parallel`` requests in flight that lane always has one.
    """
    lanes = -(-parallel // _LANE_CONNECTIONS)
    return [parallel // lanes + (i < parallel % lanes) for i in range(lanes)]


def _make_sdk_client(provider: Provider, endpoint: Endpoint, connections: int, tls: ssl.SSLContext, room: Room):
    cfg = provider.cfg
    timeout = httpx.Timeout(cfg.timeout, connect=min(cfg.timeout / 2, _CONNECT_TIMEOUT))
    http_client = _http_client_class(provider.sdk.DefaultAsyncHttpxClient)(limits=_limits(connections), verify=tls)
    http_client.attempt_timeout = cfg.timeout
    http_client.room = room
    return provider.client(endpoint, http_client, api_key=endpoint.api_key or "none", max_retries=cfg.max_retries,
                           timeout=timeout)


def mended(replies: list[Reply]) -> dict | None:
    """What was changed in ``replies`` to store them (docs/design.md#reasoning-and-repaired): the record's
    ``repaired``, with only the counts that are not zero, or None."""
    counts = {"lone_surrogates": sum(r.repaired for r in replies), "secrets_masked": sum(r.masked for r in replies)}
    return {key: n for key, n in counts.items() if n} or None


def add_usage(total: dict[str, int], usage: dict[str, int]) -> None:
    """Add one reply's token counts to ``total`` (the turns of an answer, the attempts of a game)."""
    for key, value in usage.items():
        total[key] = total.get(key, 0) + value


def sent_messages(cfg: ModelConfig, messages: list[dict]) -> list[dict]:
    """The messages a request sends: with the model's own ``system_prompt`` first when they carry none."""
    if cfg.system_prompt and not (messages and messages[0]["role"] == "system"):
        return [{"role": "system", "content": cfg.system_prompt}, *messages]
    return messages


def sent_settings(cfg: ModelConfig, temperature: float | None, max_tokens: int | None) -> dict:
    """The temperature and max_tokens a request goes out with when a step asks for these (None: not sent):
    the model's own entry wins, and its provider's rules apply (reasoning models, a token limit it requires)."""
    return provider_for(cfg).sent_settings(temperature, max_tokens)


class ModelClient:
    """Chat requests to one configured model, ``parallel`` at a time, round-robin over its endpoints."""

    def __init__(self, cfg: ModelConfig, room: Room | None = None):
        self.cfg = cfg
        self.provider = provider_for(cfg)
        # a run's Room (utils/asking/writer.py): nothing is sent while its disk is full or once it is stopping
        self.room = room or Room()
        # httpx's default TLS set-up (certifi, or SSL_CERT_FILE / SSL_CERT_DIR), made once: it takes ~50 ms
        tls = httpx.create_ssl_context()
        self._endpoints: list[_Endpoint] = []
        for endpoint in cfg.endpoints:
            lanes = [_Lane(client=_make_sdk_client(self.provider, endpoint, size, tls, self.room), free=size)
                     for size in lane_sizes(cfg.parallel)]
            url = endpoint.api_base or str(lanes[0].client.base_url).rstrip("/")  # the SDK's default, when none
            self._endpoints.append(_Endpoint(url=url, lanes=lanes))
            if endpoint.api_key:
                remember(endpoint.api_key)
        self._turn = 0  # the endpoint whose turn is next
        self._slots = asyncio.Semaphore(cfg.parallel)
        self.refused_formats: set[str] = set()  # response_format types the endpoints rejected
        self.accepted_formats: set[str] = set()  # and those they answered

    async def chat(self, messages: list[dict], *, temperature: float | None = None, max_tokens: int | None = None,
                   response_formats: tuple[dict, ...] = ()) -> Reply:
        """One completion for ``messages`` (a leading system message is allowed).

        The model's own ``system_prompt`` is added when the messages carry
        none. ``response_formats`` are ways to ask for structured output
        (OpenAI's ``response_format`` shapes), best first: an endpoint that
        refuses one is asked with the next, and at last with none; a refusal
        confirmed by a later success is remembered, so later requests skip it.
        """
        messages, temperature, max_tokens = self.settled(messages, temperature, max_tokens)
        self._pick(advance=False)  # when no endpoint is left, fail now rather than after waiting for a slot
        async with self._slots, self.room.sending():
            endpoint = self._pick()
            lane = max(endpoint.lanes, key=lambda lane: lane.free)
            lane.free -= 1
            try:
                reply = await self._chat(endpoint, lane.client, messages, temperature, max_tokens, response_formats)
            except RequestFailed as err:
                self._count(endpoint, err.unreachable)
                raise
            finally:
                lane.free += 1
            endpoint.refused = 0
            return reply

    def settled(self, messages: list[dict], temperature: float | None,
                max_tokens: int | None) -> tuple[list[dict], float | None, int | None]:
        """What a request is sent with once the model's own entry has had its say: its system prompt when
        the messages carry none, its temperature and token limit over the step's. Settling twice changes nothing."""
        sent = self.provider.sent_settings(temperature, max_tokens)
        return sent_messages(self.cfg, messages), sent["temperature"], sent["max_tokens"]

    def endpoint_clients(self) -> list[tuple[str, object]]:
        """(URL, SDK client) of each endpoint still worth asking, for the requests that are not chats (batches)."""
        return [(without_credentials(e.url), e.lanes[0].client) for e in self._endpoints if not e.down]

    def _pick(self, advance: bool = True) -> _Endpoint:
        """The next endpoint in turn that may be asked; RequestFailed (not sent) when there is none."""
        now = time.time()
        for i in range(len(self._endpoints)):
            turn = (self._turn + i) % len(self._endpoints)
            endpoint = self._endpoints[turn]
            if not endpoint.down and endpoint.paused_until <= now:
                if advance:
                    self._turn = (turn + 1) % len(self._endpoints)
                return endpoint
        paused = [e for e in self._endpoints if not e.down]
        if paused:  # the one to come back to first
            endpoint = min(paused, key=lambda e: e.paused_until)
            group = f"to {self.cfg.name} at {endpoint.url}: {endpoint.pause}"
            reason = f"not sent: {endpoint.pause}"
        else:
            group = "not sent: " + "; ".join(e.down for e in self._endpoints)
            reason = group + "; given up on for this run"
        raise RequestFailed(mask(reason), group=mask(group))

    def _count(self, endpoint: _Endpoint, unreachable: str | None) -> None:
        """Count a failed request against its endpoint; the GIVE_UP_AFTER-th in a row to connect gives it up."""
        if unreachable is None:  # it answered, if only with an error
            endpoint.refused = 0
            return
        endpoint.refused += 1
        if endpoint.refused >= GIVE_UP_AFTER and not endpoint.down:
            endpoint.down = f"{self.cfg.name} at {endpoint.url} {unreachable} ({endpoint.refused} in a row)"

    def _paused(self, endpoint: _Endpoint, wait: float, status: int) -> RequestFailed:
        """The failure of a request told to wait ``wait`` s, longer than we do; the endpoint rests until then."""
        until = time.time() + wait
        if until > endpoint.paused_until:
            endpoint.paused_until = until
            if _come_back_at(until) not in endpoint.pause:  # one wording for all, unless the time moves on
                endpoint.pause = (f"the server asked to wait {wait:.0f} s before retrying (Retry-After); not waiting "
                                  f"that long: run again after {_come_back_at(until)} (local time)")
        group = mask(f"to {self.cfg.name} at {endpoint.url}: {endpoint.pause}")  # as _pick words it
        return RequestFailed(endpoint.pause, status, group=group)

    async def _chat(self, endpoint, client, messages, temperature, max_tokens, response_formats) -> Reply:
        # read only now: a refusal learnt while this request waited for its slot already counts
        formats = self.usable_formats(response_formats)
        refused = []
        for fmt in [*formats, None]:
            result = await self._send_with_format(endpoint, client, messages, temperature, max_tokens, fmt)
            if result is None:
                refused.append(fmt["type"])
                continue
            if fmt is not None:
                self.accepted_formats.add(fmt["type"])
            self.refused_formats.update(refused)  # confirmed: a request without them went through
            result.structured = fmt is not None
            return result
        raise AssertionError("unreachable: without a format a failure is raised")

    async def _send_with_format(self, endpoint, client, messages, temperature, max_tokens, fmt) -> Reply | None:
        """The reply, or None when the endpoint refuses the response format ``fmt``.

        A format not yet known to work is first tried once without retries:
        llama-cpp-python refuses an unknown format with a 500, which the SDK
        would otherwise retry with backoff for half a minute. If that quick
        try fails for another reason, the request is sent again as usual
        (unless the server asked to wait longer than we do).
        """
        quick = fmt is not None and fmt["type"] not in self.accepted_formats
        for sdk_client in (client.with_options(max_retries=0), client) if quick else (client,):
            try:
                return await self._send(endpoint, sdk_client, messages, temperature, max_tokens, fmt)
            except RequestFailed as err:
                if fmt is not None and refuses_format(err):
                    return None
                if sdk_client is client or err.group:
                    raise
        raise AssertionError("unreachable: the last try returns or raises")

    def usable_formats(self, response_formats) -> list[dict]:
        """The response formats worth trying: none when the provider takes none, else those not refused."""
        if not self.provider.takes_response_format:
            return []
        return [f for f in response_formats if f["type"] not in self.refused_formats]

    async def _send(self, endpoint, client, messages, temperature, max_tokens, response_format) -> Reply:
        provider = self.provider
        errors = provider.errors
        attempts = client.max_retries + 1
        try:
            response = await provider.send(client, provider.body(messages, temperature, max_tokens, response_format))
            return self._reply(provider.read(response), max_tokens)
        except errors.status as err:
            wait = _too_long_to_wait(err.response)
            if wait is not None:
                raise self._paused(endpoint, wait, err.status_code) from None
            said = error_message(err)
            too_long = err.status_code == 400 and bool(_CONTEXT_EXCEEDED.search(said))
            raise RequestFailed(self._scrub(f"HTTP {err.status_code}: {said}") + (CONTEXT_HINT if too_long else ""),
                                err.status_code, fails_again=too_long) from None
        except errors.timeout as err:
            if isinstance(err.__cause__, httpx.ConnectTimeout):
                raise RequestFailed(f"could not connect within {client.timeout.connect:g} s ({attempts} attempts)",
                                    unreachable="did not accept connections in time") from None
            raise RequestFailed(f"timed out ({self.cfg.timeout:g} s per attempt, {attempts} attempts)") from None
        except errors.connection as err:
            cause = err.__cause__ or err
            if isinstance(cause, _NotRetried):
                raise RequestFailed(Room.STOPPING, group=Room.STOPPING) from None
            raise RequestFailed(self._scrub(f"connection failed after {attempts} attempts: "
                                            f"{type(cause).__name__}: {cause}"),
                                unreachable="refused connections" if isinstance(cause, httpx.ConnectError) else None
                                ) from None
        except (errors.base, json.JSONDecodeError, ValueError, TypeError, AttributeError, KeyError, IndexError) as err:
            raise RequestFailed(self._scrub(f"malformed response: {type(err).__name__}: {err}")) from None

    def batch_reply(self, payload, max_tokens) -> Reply:
        """The reply in one batch line's result, read as a direct reply is; RequestFailed when it holds no answer."""
        try:
            reply = self._reply(self.provider.read(self.provider.batch_response(payload)), max_tokens)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as err:
            raise RequestFailed(self._scrub(f"malformed response: {type(err).__name__}: {err}")) from None
        reply.batch = True
        return reply

    def _reply(self, parts: ReplyParts, max_tokens) -> Reply:
        """The reply as the rest of the run sees it: repaired, reasoning apart (per the policy), secrets masked.

        A reply with no text fails (it is not stored, and a rerun asks
        again), unless the model stopped of its own accord after reasoning:
        a ``<think>`` block never closed, or reasoning sent apart with no
        content. That reply was paid for and asking again would most likely
        pay for the same again, so it is kept: the reasoning apart, the answer
        empty (the answer checks flag it as ``empty``).
        """
        text, repaired_text = repair_text(parts.text if isinstance(parts.text, str) else "")
        reasoning, repaired_reasoning = repair_text(parts.reasoning if isinstance(parts.reasoning, str) else "")
        finish_reason = parts.finish_reason
        if self.cfg.reasoning_policy == "strip" and self.provider.inline_reasoning:
            text, inline = split_reasoning(text)
            reasoning = "\n\n".join(part for part in (reasoning, inline) if part)
        if not text.strip():
            if finish_reason in TRUNCATED_REASONS:
                raise RequestFailed(f"empty answer: the token limit ({max_tokens}) ran out "
                                    + ("while the model was still reasoning" if reasoning else "before any text")
                                    + "; raise max_tokens")
            if not reasoning.strip():
                raise RequestFailed("empty answer (the endpoint returned no text)")
            text = ""
        text, masked_text = mask_counted(text)  # a reply that echoes a key is stored, and shown, without it
        reasoning, masked_reasoning = mask_counted(reasoning)
        model, fingerprint = parts.served_model, parts.fingerprint
        return Reply(text=text, usage=parts.usage, reasoning=reasoning, repaired=repaired_text + repaired_reasoning,
                     masked=masked_text + masked_reasoning,
                     finish_reason=finish_reason if isinstance(finish_reason, str) else "",
                     served_model=model if isinstance(model, str) else "",
                     system_fingerprint=fingerprint if isinstance(fingerprint, str) else "")

    @staticmethod
    def _scrub(text: str) -> str:
        text = mask(text)  # before shortening, so no half of a key survives the cut
        return text[:_REASON_CHARS] + ("..." if len(text) > _REASON_CHARS else "")

    async def aclose(self) -> None:
        for endpoint in self._endpoints:
            for lane in endpoint.lanes:
                await lane.client.close()


# How servers say that the prompt and max_tokens exceed the model's context (vLLM, llama.cpp, OpenAI, Anthropic,
# Gemini's OpenAI-compatible endpoint)
_CONTEXT_EXCEEDED = re.compile(r"context length|context window|context limit|context_length_exceeded|"
                               r"prompt is too long|exceeds? the (?:available )?context|"
                               r"exceeds the maximum number of tokens", re.IGNORECASE)
CONTEXT_HINT = (" -> asked again unchanged, it fails again: lower max_tokens (in the settings file, or in the "
                "model's api_config entry when it sets one), or serve the model with a longer context "
                "(python -m utils.local_server --n-ctx 8192; vLLM: --max-model-len)")


def refuses_format(err: RequestFailed) -> bool:
    """Whether a failure says the endpoint does not take the requested response format.

    400 and 422 are the usual answers; llama-cpp-python's server reports its
    request validation as a 500 whose message names the field.
    """
    return err.status in (400, 422) or (err.status is not None and "response_format" in err.reason)
