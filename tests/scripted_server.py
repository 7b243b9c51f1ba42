"""A small OpenAI-compatible HTTP server on 127.0.0.1 that does exactly what a test tells it to.

It speaks enough HTTP/1.1 (keep-alive, Content-Length bodies) for the openai
and anthropic SDKs: ``POST /v1/chat/completions``, ``POST /v1/messages`` and
``GET /v1/models``. Each request is recorded (arrival time, path, headers,
JSON body) and answered by an *action*, chosen by, in order:

1. the next entry of ``script`` (a queue tests fill for "the next requests"),
2. ``rules``: (predicate on the request, action) pairs, first match wins
   (e.g. "every request whose prompt mentions FAIL gets a 500"),
3. the default: an answer that quotes the last user message.

Actions answer, wait, return any status with an optional ``Retry-After``,
send a body that is not JSON, trickle an answer's body byte by byte (a
server that is slow to finish; it stops when the client hangs up), or drop
the connection without a reply;
``held`` keeps every reply waiting until the test lets them go. An answer can
carry what reasoning models send: ``reasoning_content`` or ``reasoning``
beside the content, Anthropic ``thinking`` and ``redacted_thinking`` blocks
before the text, a ``finish_reason``, and the served ``model`` id and
``system_fingerprint`` a provider names its reply with. Text is sent as JSON escapes
(``json.dumps``), so a lone surrogate in it goes out as ``"\\ud800"``, which
is valid JSON. The server runs its own event loop in a thread, so a test can
drive it while the code under test runs in another process;
``python -m tests.scripted_server`` runs it alone (the benchmarks use that
with a fixed latency).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
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


Action = Answer | Status | Malformed | Drop | Trickle
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

    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.method == "POST"]

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
                req = Request(time.monotonic(), method, path, headers, body)
                self.requests.append(req)
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
        if req.method == "GET":
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
        for key in ("reasoning_content", "reasoning"):
            if getattr(action, key) is not None:
                message[key] = getattr(action, key)
        reply = {"id": "chatcmpl-scripted", "object": "chat.completion", "created": int(time.time()),
                 "model": action.model or body.get("model", ""), "usage": usage,
                 "choices": [{"index": 0, "finish_reason": action.finish_reason, "message": message}]}
        if action.system_fingerprint is not None:
            reply["system_fingerprint"] = action.system_fingerprint
        return reply


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
