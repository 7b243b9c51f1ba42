"""A small OpenAI-compatible HTTP server on 127.0.0.1 that does exactly what a test tells it to.

It speaks enough HTTP/1.1 (keep-alive, Content-Length bodies) for the openai
and anthropic SDKs: ``POST /v1/chat/completions``, ``POST /v1/messages`` and
``GET /v1/models``, and the batch endpoints (below). Each request is recorded
(arrival time, path, headers, JSON body) and answered by an *action*, chosen
by, in order:

1. the next entry of ``script`` (a queue tests fill for "the next requests"),
2. ``rules``: (predicate on the request, action) pairs, first match wins
   (e.g. "every request whose prompt mentions FAIL gets a 500"),
3. the default: an answer that quotes the last user message.

Actions answer, wait, return any status with an optional ``Retry-After``,
send a body that is not JSON, trickle an answer's body byte by byte (a
server that is slow to finish; it stops when the client hangs up), or drop
the connection without a reply;
``held`` keeps every reply waiting until the test lets them go, and ``wave``
keeps each one waiting until that many wait together, then lets the whole
wave go (``waves`` records each wave's size: a test of how many requests a
client keeps in flight counts them instead of timing them). A test waits for
requests to arrive with ``wait_for`` (no polling, no sleeps). An answer can
carry what reasoning models send: ``reasoning_content`` or ``reasoning``
beside the content (which may come as a list of text parts), Anthropic ``thinking`` and ``redacted_thinking`` blocks
before the text, a ``finish_reason``, and the served ``model`` id and
``system_fingerprint`` a provider names its reply with. Text is sent as JSON escapes
(``json.dumps``), so a lone surrogate in it goes out as ``"\\ud800"``, which
is valid JSON. The server runs its own event loop in a thread, so a test can
drive it while the code under test runs in another process;
``python -m tests.scripted_server`` runs it alone (the benchmarks use that
with a fixed latency).

Batches, as the providers' API references describe them: OpenAI's Files and
Batch API (``POST /v1/files`` multipart with ``purpose=batch``, ``GET
/v1/files/{id}/content``, ``POST /v1/batches``, ``GET /v1/batches/{id}``; the
same under Azure's ``/openai/...`` paths) and Anthropic's Message Batches
(``POST /v1/messages/batches``, ``GET /v1/messages/batches/{id}`` and
``.../results``). Each line of a batch is answered at creation by the same
choice of action as a direct request (``script``, ``rules``, default), seen
as a ``Request`` with ``batch`` set to the batch id and recorded in
``batch_lines``; an ``Answer`` becomes a succeeded line, a ``Status`` a
failed one, ``Expired()`` and ``Canceled()`` a line the batch never got to.
A batch reports itself in progress (with request counts growing) for its
first ``batch_polls`` looks, then ended, unless ``batches_held`` keeps every
batch running; an OpenAI batch with an expired line ends as ``expired``. The
next ``batch_looks_failing`` GETs of the batch endpoints are answered 503,
the next ``batch_looks_html`` looks at an OpenAI batch with an HTML page, and
``result_file_damage`` goes before the lines of each OpenAI result file.
``GET /v1/batches`` and ``GET /v1/messages/batches`` list the batches of
their kind, newest first (an OpenAI batch keeps the ``metadata`` it was
created with); the next ``batch_replies_lost`` OpenAI batches are created
but answered 500; ``batch_create_delay`` holds every creation's reply back
that long after the batch exists (a slow reply); ``result_duplicate`` adds a
second result line, answered by that action, for each batch's first
request. ``chat_everywhere`` answers every request, batch endpoints
included, with a chat completion (a wrong URL that answers anything).
``batches`` lists the batches created, in order.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import re
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Callable


@dataclass
class Request:
    time: float  # time.monotonic() at arrival
    method: str
    path: str
    headers: dict[str, str]
    body: dict | None
    body_bytes_sent: int | None = None  # of a trickled reply: how many body bytes went out before it ended
    body_bytes: int | None = None  # and how many there were
    raw: bytes = b""  # the body as it came (a multipart upload is not JSON)
    batch: str | None = None  # a line of this batch (recorded in batch_lines, not requests)

    @property
    def last_user_text(self) -> str:
        messages = (self.body or {}).get("messages") or []
        users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        text = users[-1] if users else ""
        return text if isinstance(text, str) else json.dumps(text)


@dataclass
class Answer:
    text: str | None = None  # None: quote the last user message
    delay: float = 0.0
    usage: dict | None = None
    reasoning_content: str | None = None  # OpenAI shape: message.reasoning_content (vLLM, llama.cpp, DeepSeek)
    reasoning: str | None = None  # OpenAI shape: message.reasoning (newer vLLM)
    thinking: str | None = None  # Anthropic: a thinking block before the text block
    redacted_thinking: bool = False  # Anthropic: a redacted_thinking block before the text block
    finish_reason: str = "stop"  # OpenAI's names; "length" becomes Anthropic's stop_reason "max_tokens"
    model: str | None = None  # the model id the reply says it comes from (None: the one asked for)
    system_fingerprint: str | None = None  # OpenAI: sent only when set
    as_parts: bool = False  # OpenAI shape: the content as a list of {"type": "text", "text"} parts, one per line


@dataclass
class Status:
    code: int
    retry_after: float | None = None
    message: str = "scripted error"
    delay: float = 0.0


@dataclass
class Malformed:
    delay: float = 0.0
    body: bytes = b'{"choices": [ this is not json'


@dataclass
class Drop:
    delay: float = 0.0


@dataclass
class Trickle:
    """An ordinary answer whose body goes out one byte every ``interval`` seconds (the headers at once)."""
    interval: float = 0.3
    delay: float = 0.0


@dataclass
class Expired:
    """A batch line the batch did not get to before it expired."""


@dataclass
class Canceled:
    """A batch line canceled before it was processed (Anthropic's ``canceled`` result)."""


@dataclass
class ServerBatch:
    """A batch this server was asked to run: its lines, each with the action that answers it."""
    id: str
    kind: str  # "openai" or "anthropic"
    lines: list[tuple[str, Request, "Action"]]  # custom_id, the line as a request, its action
    created: float
    endpoint: str = ""
    input_file_id: str = ""
    metadata: dict | None = None  # OpenAI: what the creation asked to keep with the batch
    polls: int = 0
    output_file_id: str | None = None
    error_file_id: str | None = None
    ended: bool = False


Action = Answer | Status | Malformed | Drop | Trickle | Expired | Canceled
_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 408: "Request Timeout",
            422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error",
            502: "Bad Gateway", 503: "Service Unavailable"}


def default_text(req: Request) -> str:
    return f"Scripted answer to: {req.last_user_text[:200]}"


@dataclass
class ScriptedServer:
    latency: float = 0.0  # added to every action's own delay
    held: bool = False  # while True, chat replies wait (after their delay) until the test sets it back
    script: deque = field(default_factory=deque)
    rules: list[tuple[Callable[[Request], bool], Action]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    port: int = 0
    in_flight: int = 0  # chat requests being answered right now
    max_in_flight: int = 0  # the most there ever were at once
    batch_polls: int = 1  # looks at a batch that find it still in progress before it ends
    batches_held: bool = False  # while True, no batch ends
    batch_looks_failing: int = 0  # the next so many looks at a batch (GET) are answered 503
    batch_looks_html: int = 0  # the next so many looks at an OpenAI batch get a proxy's HTML page (200)
    result_file_damage: bytes = b""  # put before the lines of each OpenAI result file (a damaged line)
    batch_replies_lost: int = 0  # the next so many OpenAI batches are created but answered 500 (a reply lost)
    batch_create_delay: float = 0.0  # seconds between creating a batch (either kind) and replying that it was
    result_duplicate: Answer | None = None  # a second result line for each batch's first request, answered so
    chat_everywhere: bool = False  # every POST, batch endpoints too, answered with a chat completion (a wrong URL)
    batches: list[ServerBatch] = field(default_factory=list)
    batch_lines: list[Request] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    wave: int = 0  # when set, each chat reply waits until this many wait together, then the wave goes at once
    wave_timeout: float = 20.0  # a wave still short this long after its first request goes as it is
    waves: list[int] = field(default_factory=list)  # the size of each wave let go, in order
    _arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _wave: "asyncio.Future | None" = field(default=None, repr=False)
    _wave_size: int = field(default=0, repr=False)

    # ------------------------------------------------------------ lifecycle

    def start(self) -> "ScriptedServer":
        self._loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run():
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._serve, "127.0.0.1", self.port, backlog=4096))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, daemon=True, name="scripted-server")
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        async def close():
            self._server.close()
            handlers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in handlers:  # connections still open (keep-alive) end here, not at loop teardown
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        """The OpenAI-style base URL (``.../v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def root_url(self) -> str:
        """The base URL the anthropic SDK wants (it adds ``/v1`` itself)."""
        return f"http://127.0.0.1:{self.port}"

    def wait_for(self, condition: Callable[["ScriptedServer"], bool], timeout: float = 60.0) -> bool:
        """Block until ``condition(server)`` holds, checked at each request's arrival; False at the timeout."""
        with self._arrived:
            return self._arrived.wait_for(lambda: condition(self), timeout)

    def _record(self, req: Request, into: list[Request]) -> None:
        """Keep a request that arrived and wake the tests waiting for one."""
        with self._arrived:
            into.append(req)
            self._arrived.notify_all()

    def chat_requests(self) -> list[Request]:
        """The direct chat requests (not the batch endpoints')."""
        return [r for r in self.requests if r.method == "POST" and _CHAT.search(r.path.split("?", 1)[0])]

    # ------------------------------------------------------------ HTTP

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.strip().lower(): v.strip() for k, v in
                           (line.split(":", 1) for line in lines[1:] if ":" in line)}
                raw = await reader.readexactly(int(headers.get("content-length", 0)))
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                req = Request(time.monotonic(), method, path, headers, body, raw=raw)
                self._record(req, self.requests)
                if not await self._respond(req, reader, writer):
                    return
                if headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    def _choose(self, req: Request) -> Action:
        if req.method == "GET":
            return Answer()
        if self.script:
            return self.script.popleft()
        for matches, action in self.rules:
            if matches(req):
                return action
        return Answer()

    async def _respond(self, req: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Answer one request; False when the connection was dropped on purpose."""
        batch_reply = None if self.chat_everywhere else self._batch_api(req)
        if batch_reply is not None:
            status, payload, kind = batch_reply
            if self.latency:
                await asyncio.sleep(self.latency)
            if req.method == "POST" and re.search(r"/batches$", req.path.split("?", 1)[0]):
                await asyncio.sleep(self.batch_create_delay)
            writer.write((f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}\r\nContent-Type: {kind}\r\n"
                          f"Content-Length: {len(payload)}\r\nConnection: keep-alive\r\n\r\n").encode("latin-1")
                         + payload)
            await writer.drain()
            return True
        try:
            action = self._choose(req)
        except Exception as err:  # a broken rule in a test: say so instead of hanging up silently
            traceback.print_exc()
            action = Status(599, message=f"scripted server: a rule raised {err!r}")
        delay = self.latency + action.delay
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if delay:
                await asyncio.sleep(delay)
            while self.held and req.method == "POST":
                await asyncio.sleep(0.01)
            if self.wave and req.method == "POST":
                await self._join_wave()
        finally:
            self.in_flight -= 1
        extra = {}
        if isinstance(action, Drop):
            writer.transport.abort()
            return False
        if isinstance(action, Malformed):
            status, payload = 200, action.body
        elif isinstance(action, Status):
            status = action.code
            payload = json.dumps({"error": {"message": action.message, "type": "scripted", "code": action.code}}
                                 ).encode()
            if action.retry_after is not None:
                extra["Retry-After"] = f"{action.retry_after:g}"
        else:
            status, payload = 200, json.dumps(self._success(req, action if isinstance(action, Answer) else Answer())
                                              ).encode()
        header = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}", "Content-Type: application/json",
                  f"Content-Length: {len(payload)}", "Connection: keep-alive"]
        header += [f"{k}: {v}" for k, v in extra.items()]
        head = ("\r\n".join(header) + "\r\n\r\n").encode("latin-1")
        if isinstance(action, Trickle):
            return await self._trickle(req, reader, writer, head, payload, action.interval)
        writer.write(head + payload)
        await writer.drain()
        return True

    async def _join_wave(self) -> None:
        """Wait until ``wave`` requests wait here together (or the wave times out), then go with them."""
        if self._wave is None or self._wave.done():
            self._wave, self._wave_size = self._loop.create_future(), 0
            self._loop.call_later(self.wave_timeout, self._let_wave_go, self._wave)
        wave = self._wave
        self._wave_size += 1
        if self._wave_size >= self.wave:
            self._let_wave_go(wave)
        await wave

    def _let_wave_go(self, wave: "asyncio.Future") -> None:
        if not wave.done():
            self.waves.append(self._wave_size)
            wave.set_result(None)

    @staticmethod
    async def _trickle(req: Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes,
                       payload: bytes, interval: float) -> bool:
        """Send ``payload`` a byte at a time; stop (False) as soon as the client has hung up."""
        req.body_bytes, req.body_bytes_sent = len(payload), 0
        writer.write(head)
        try:
            for i in range(len(payload)):
                await writer.drain()
                if reader.at_eof() or writer.is_closing():
                    return False
                writer.write(payload[i:i + 1])
                req.body_bytes_sent = i + 1
                await asyncio.sleep(interval)
            await writer.drain()
        except ConnectionError:
            return False
        return True

    def _success(self, req: Request, action: Answer) -> dict:
        if req.method == "GET" and not self.chat_everywhere:
            return {"object": "list", "data": [{"id": "scripted", "object": "model"}]}
        text = default_text(req) if action.text is None else action.text
        body = req.body or {}
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        completion_tokens = len(text.split())
        if req.path.endswith("/messages"):  # Anthropic
            usage = action.usage or {"input_tokens": prompt_tokens, "output_tokens": completion_tokens}
            content = []
            if action.redacted_thinking:
                content.append({"type": "redacted_thinking", "data": "c2NyaXB0ZWQ="})
            if action.thinking is not None:
                content.append({"type": "thinking", "thinking": action.thinking, "signature": "scripted"})
            content.append({"type": "text", "text": text})
            stop = {"stop": "end_turn", "length": "max_tokens"}.get(action.finish_reason, action.finish_reason)
            return {"id": "msg_scripted", "type": "message", "role": "assistant",
                    "model": action.model or body.get("model", ""),
                    "content": content, "stop_reason": stop, "stop_sequence": None, "usage": usage}
        usage = action.usage or {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                                 "total_tokens": prompt_tokens + completion_tokens}
        message = {"role": "assistant", "content": text}
        if action.as_parts:
            message["content"] = [{"type": "text", "text": line} for line in text.splitlines(keepends=True)]
        for key in ("reasoning_content", "reasoning"):
            if getattr(action, key) is not None:
                message[key] = getattr(action, key)
        reply = {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
                 "model": action.model or body.get("model", ""), "usage": usage,
                 "choices": [{"index": 0, "finish_reason": action.finish_reason, "message": message}]}
        if action.system_fingerprint is not None:
            reply["system_fingerprint"] = action.system_fingerprint
        return reply


    # ------------------------------------------------------------ batches

    def _batch_api(self, req: Request) -> tuple[int, bytes, str] | None:
        """(status, body, content type) for a request to a batch endpoint; None for any other request."""
        path = req.path.split("?", 1)[0]
        for method, pattern, handler in (
                ("POST", r"/messages/batches$", self._create_message_batch),
                ("GET", r"/messages/batches$", self._list_message_batches),
                ("GET", r"/messages/batches/([^/]+)$", self._message_batch),
                ("GET", r"/messages/batches/([^/]+)/results$", self._message_batch_results),
                ("POST", r"/files$", self._upload),
                ("GET", r"/files/([^/]+)/content$", self._file_content),
                ("POST", r"/batches$", self._create_batch),
                ("GET", r"/batches$", self._list_batches),
                ("GET", r"/batches/([^/]+)$", self._batch)):
            match = re.search(pattern, path)
            if match and req.method == method:
                if method == "GET" and self.batch_looks_failing > 0:
                    self.batch_looks_failing -= 1
                    return 503, json.dumps({"error": {"message": "scripted: batches unavailable"}}).encode(), \
                        "application/json"
                try:
                    return handler(req, *match.groups())
                except _Refused as err:
                    return err.status, json.dumps({"type": "error", "error": {
                        "type": "invalid_request_error", "message": err.message}}).encode(), "application/json"
        return None

    def _line(self, batch_id: str, path: str, custom_id: str, body: dict) -> tuple[str, Request, Action]:
        line = Request(time.monotonic(), "POST", path, {}, body, batch=batch_id)
        self._record(line, self.batch_lines)
        try:
            action = self._choose(line)
        except Exception as err:  # a broken rule in a test: say so in the line
            traceback.print_exc()
            action = Status(599, message=f"scripted server: a rule raised {err!r}")
        return custom_id, line, action

    def _look(self, batch: ServerBatch) -> float:
        """Count one look at a batch; how far it has come (1.0: it has ended)."""
        batch.polls += 1
        if not self.batches_held and batch.polls > self.batch_polls:
            batch.ended = True
        return 1.0 if batch.ended else batch.polls / (self.batch_polls + 1)

    # OpenAI: files and batches

    def _upload(self, req: Request) -> tuple[int, bytes, str]:
        parts = _multipart(req)
        if parts.get("purpose", b"").decode() != "batch" or "file" not in parts:
            raise _Refused(400, "expected a file and purpose=batch")
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = parts["file"]
        return 200, json.dumps({"id": file_id, "object": "file", "bytes": len(parts["file"]),
                                "created_at": int(time.time()), "filename": "requests.jsonl", "purpose": "batch",
                                "status": "processed"}).encode(), "application/json"

    def _file_content(self, req: Request, file_id: str) -> tuple[int, bytes, str]:
        if file_id not in self.files:
            raise _Refused(404, f"no file {file_id}")
        return 200, self.files[file_id], "application/octet-stream"

    def _create_batch(self, req: Request) -> tuple[int, bytes, str]:
        body = req.body or {}
        data = self.files.get(body.get("input_file_id", ""))
        if data is None or body.get("completion_window") != "24h":
            raise _Refused(400, "expected an uploaded input_file_id and completion_window 24h")
        batch = ServerBatch(id=f"batch_{len(self.batches) + 1}", kind="openai", lines=[], created=time.time(),
                            endpoint=body.get("endpoint", ""), input_file_id=body["input_file_id"],
                            metadata=body.get("metadata"))
        seen = set()
        for raw in data.splitlines():
            line = json.loads(raw)
            if line.get("method") != "POST" or line.get("url") != batch.endpoint or line["custom_id"] in seen:
                raise _Refused(400, f"bad input line {line.get('custom_id')!r}")
            seen.add(line["custom_id"])
            batch.lines.append(self._line(batch.id, batch.endpoint, line["custom_id"], line["body"]))
        self.batches.append(batch)
        if self.batch_replies_lost > 0:
            self.batch_replies_lost -= 1
            return 500, json.dumps({"error": {"message": "scripted: the reply was lost"}}).encode(), \
                "application/json"
        return 200, json.dumps(self._batch_object(batch, 0.0)).encode(), "application/json"

    def _list_batches(self, req: Request) -> tuple[int, bytes, str]:
        mine = [b for b in reversed(self.batches) if b.kind == "openai"]  # newest first, one page
        data = [self._batch_object(b, 1.0 if b.ended else 0.0) for b in mine]
        return 200, json.dumps({"object": "list", "data": data, "has_more": False,
                                "first_id": data[0]["id"] if data else None,
                                "last_id": data[-1]["id"] if data else None}).encode(), "application/json"

    def _batch(self, req: Request, batch_id: str) -> tuple[int, bytes, str]:
        batch = self._find(batch_id, "openai")
        if self.batch_looks_html > 0:
            self.batch_looks_html -= 1
            return 200, b"<html>gateway says hello</html>", "text/html"
        return 200, json.dumps(self._batch_object(batch, self._look(batch))).encode(), "application/json"

    def _batch_object(self, batch: ServerBatch, done: float) -> dict:
        ok = [(cid, line, a) for cid, line, a in batch.lines if isinstance(a, Answer)]
        failed = [(cid, line, a) for cid, line, a in batch.lines if not isinstance(a, Answer)]
        expired = any(isinstance(a, (Expired, Canceled)) for _, _, a in batch.lines)
        status = "validating" if done == 0.0 else "in_progress"
        if batch.ended:
            status = "expired" if expired else "completed"
            if batch.output_file_id is None and batch.error_file_id is None:
                answered = [(cid, line, a) for cid, line, a in ok]
                if self.result_duplicate is not None and answered:
                    answered.append((answered[0][0], answered[0][1], self.result_duplicate))
                batch.output_file_id = self._result_file(
                    {"id": f"batch_req_{cid}", "custom_id": cid, "error": None,
                     "response": {"status_code": 200, "request_id": f"req_{cid}",
                                  "body": self._success(line, a)}} for cid, line, a in answered)
                batch.error_file_id = self._result_file(_openai_error_line(cid, a) for cid, _, a in failed)
        return {"id": batch.id, "object": "batch", "endpoint": batch.endpoint, "errors": None,
                "input_file_id": batch.input_file_id, "metadata": batch.metadata, "completion_window": "24h", "status": status,
                "output_file_id": batch.output_file_id, "error_file_id": batch.error_file_id,
                "created_at": int(batch.created), "expires_at": int(batch.created) + 86400,
                "request_counts": {"total": len(batch.lines), "completed": int(len(ok) * done),
                                   "failed": int(len(failed) * done)}}

    def _result_file(self, lines) -> str | None:
        data = b"".join(json.dumps(line).encode() + b"\n" for line in lines)
        if not data:
            return None
        data = self.result_file_damage + data
        file_id = f"file-{len(self.files) + 1}"
        self.files[file_id] = data
        return file_id

    # Anthropic: message batches

    def _create_message_batch(self, req: Request) -> tuple[int, bytes, str]:
        requests = (req.body or {}).get("requests")
        if not isinstance(requests, list) or not 1 <= len(requests) <= 100_000:
            raise _Refused(400, "requests: expected 1 to 100,000 requests")
        ids = [r.get("custom_id", "") for r in requests]
        if len(set(ids)) != len(ids) or not all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", i) for i in ids):
            raise _Refused(400, "custom_id: each must be unique and match ^[a-zA-Z0-9_-]{1,64}$")
        batch = ServerBatch(id=f"msgbatch_{len(self.batches) + 1}", kind="anthropic", lines=[], created=time.time())
        batch.lines = [self._line(batch.id, "/v1/messages", r["custom_id"], r["params"]) for r in requests]
        self.batches.append(batch)
        return 200, json.dumps(self._message_batch_object(batch)).encode(), "application/json"

    def _message_batch(self, req: Request, batch_id: str) -> tuple[int, bytes, str]:
        batch = self._find(batch_id, "anthropic")
        self._look(batch)
        return 200, json.dumps(self._message_batch_object(batch)).encode(), "application/json"

    def _message_batch_object(self, batch: ServerBatch) -> dict:
        kinds = [_anthropic_result_type(a) for _, _, a in batch.lines]
        counts = {k: (kinds.count(k) if batch.ended else 0) for k in ("succeeded", "errored", "canceled", "expired")}
        created = datetime.fromtimestamp(batch.created, timezone.utc)
        return {"id": batch.id, "type": "message_batch", "processing_status": "ended" if batch.ended else "in_progress",
                "request_counts": {"processing": 0 if batch.ended else len(kinds), **counts},
                "created_at": created.isoformat(), "expires_at": (created + timedelta(days=1)).isoformat(),
                "ended_at": datetime.now(timezone.utc).isoformat() if batch.ended else None,
                "cancel_initiated_at": None, "archived_at": None,
                "results_url": f"{self.root_url}/v1/messages/batches/{batch.id}/results" if batch.ended else None}

    def _message_batch_results(self, req: Request, batch_id: str) -> tuple[int, bytes, str]:
        batch = self._find(batch_id, "anthropic")
        if not batch.ended:
            raise _Refused(400, "the batch is still in progress")
        lines = []
        for cid, line, action in batch.lines:
            kind = _anthropic_result_type(action)
            result: dict = {"type": kind}
            if kind == "succeeded":
                result["message"] = self._success(line, action)
            elif kind == "errored":
                status = action.code if isinstance(action, Status) else 500
                message = action.message if isinstance(action, Status) else "not a batch action"
                result["error"] = {"type": "error", "error": {"type": _anthropic_error_type(status), "message": message}}
            lines.append({"custom_id": cid, "result": result})
        if self.result_duplicate is not None and lines:
            first_cid, first_line, _ = batch.lines[0]
            lines.append({"custom_id": first_cid, "result": {"type": "succeeded",
                                                             "message": self._success(first_line, self.result_duplicate)}})
        return 200, b"".join(json.dumps(line).encode() + b"\n" for line in lines), "application/binary"

    def _list_message_batches(self, req: Request) -> tuple[int, bytes, str]:
        mine = [b for b in reversed(self.batches) if b.kind == "anthropic"]  # newest first, one page
        data = [self._message_batch_object(b) for b in mine]
        return 200, json.dumps({"data": data, "has_more": False, "first_id": data[0]["id"] if data else None,
                                "last_id": data[-1]["id"] if data else None}).encode(), "application/json"

    def _find(self, batch_id: str, kind: str) -> ServerBatch:
        for batch in self.batches:
            if batch.id == batch_id and batch.kind == kind:
                return batch
        raise _Refused(404, f"no batch {batch_id}")


_CHAT = re.compile(r"/(chat/completions|messages)$")


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _multipart(req: Request) -> dict[str, bytes]:
    """The fields of a multipart/form-data body, by name."""
    boundary = re.search(r"boundary=([^;]+)", req.headers.get("content-type", ""))
    if boundary is None:
        raise _Refused(400, "expected multipart/form-data")
    fields = {}
    for part in req.raw.split(b"--" + boundary.group(1).strip('"').encode()):
        head, sep, content = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if sep and name:
            fields[name.group(1).decode()] = content.removesuffix(b"\r\n")
    return fields


def _openai_error_line(custom_id: str, action: Action) -> dict:
    if isinstance(action, (Expired, Canceled)):
        code = "batch_expired" if isinstance(action, Expired) else "batch_cancelled"
        return {"id": f"batch_req_{custom_id}", "custom_id": custom_id, "response": None,
                "error": {"code": code, "message": "the batch ended before this request was processed"}}
    status = action.code if isinstance(action, Status) else 500
    message = action.message if isinstance(action, Status) else "not a batch action"
    return {"id": f"batch_req_{custom_id}", "custom_id": custom_id, "error": None,
            "response": {"status_code": status, "request_id": f"req_{custom_id}",
                         "body": {"error": {"message": message, "type": "scripted", "code": status}}}}


def _anthropic_result_type(action: Action) -> str:
    if isinstance(action, Answer):
        return "succeeded"
    return "expired" if isinstance(action, Expired) else "canceled" if isinstance(action, Canceled) else "errored"


def _anthropic_error_type(status: int) -> str:
    return {400: "invalid_request_error", 429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the scripted server alone (answers every request).")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before every reply")
    args = parser.parse_args()
    server = ScriptedServer(latency=args.latency, port=args.port).start()
    print(server.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
