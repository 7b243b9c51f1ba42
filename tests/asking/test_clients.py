"""ModelClient on its own, against the scripted server: what a reply holds and how requests are sent.

The steps' tests run gen_answer.py and gen_judgment.py whole; these call the
client directly, as the library's users do, so each checks one promise of
utils/asking/clients.py: a reply's text, usage and reasoning, the settings
that win, the response-format fallback, and ``parallel`` requests in flight
(also after failures).
"""
from __future__ import annotations

import asyncio
import time

import pytest

from tests.scripted_server import Answer, Status
from utils.asking.clients import ModelClient, RequestFailed, sent_settings
from utils.plumbing.config import Endpoint, ModelConfig

KEY = "sk-client-test-5e1b7d-do-not-leak"


def model(server, **settings) -> ModelConfig:
    api_type = settings.get("api_type", "openai")
    base = server.root_url if api_type == "anthropic" else server.url
    return ModelConfig(**{"name": "m", "model_name": "m-served", "max_retries": 0, "timeout": 10.0,
                          "endpoints": (Endpoint(api_base=base, api_key=KEY),), **settings})


def ask(cfg: ModelConfig, *messages_lists, **chat_settings) -> list:
    """One client, one chat request per list of messages, all at once; the replies or the RequestFailed errors."""
    async def run():
        client = ModelClient(cfg)
        try:
            return await asyncio.gather(*(client.chat(messages, **chat_settings) for messages in messages_lists),
                                        return_exceptions=True)
        finally:
            await client.aclose()
    return asyncio.run(run())


def user(text: str) -> list[dict]:
    return [{"role": "user", "content": text}]


# ---------------------------------------------------------------- what a reply holds


def test_a_reply_has_the_answer_its_usage_and_the_inline_reasoning_apart(scripted_server):
    usage = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    scripted_server.rules = [(lambda r: True, Answer("<think>six times seven</think>\n\nForty-two.", usage=usage))]
    reply, = ask(model(scripted_server), user("What is six times seven?"))
    assert (reply.text, reply.reasoning, reply.usage) == ("Forty-two.", "six times seven", usage)
    assert not reply.structured and reply.repaired == 0

    kept, = ask(model(scripted_server, reasoning_policy="keep"), user("Again?"))
    assert (kept.text, kept.reasoning) == ("<think>six times seven</think>\n\nForty-two.", "")


def test_reasoning_sent_beside_the_content_is_kept_apart_whatever_the_policy(scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("Paris.", reasoning_content="The capital is Paris."))]
    for policy in ("strip", "keep"):
        reply, = ask(model(scripted_server, reasoning_policy=policy), user("Capital of France?"))
        assert (reply.text, reply.reasoning) == ("Paris.", "The capital is Paris.")


def test_anthropic_usage_comes_under_the_openai_names_and_thinking_blocks_are_the_reasoning(scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("Blue.", thinking="Sky colour.",
                                                     usage={"input_tokens": 5, "output_tokens": 3}))]
    reply, = ask(model(scripted_server, api_type="anthropic"), user("Colour of the sky?"), max_tokens=64)
    assert reply.text == "Blue." and reply.reasoning == "Sky colour."
    assert reply.usage == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 5 + 3}


def test_an_empty_reply_at_the_token_limit_fails_saying_to_raise_max_tokens(scripted_server):
    scripted_server.rules = [(lambda r: True, Answer("", finish_reason="length"))]
    error, = ask(model(scripted_server), user("Write a long essay."), max_tokens=32)
    assert isinstance(error, RequestFailed)
    assert error.reason == "empty answer: the token limit (32) ran out before any text; raise max_tokens"


def test_an_error_that_echoes_the_key_is_reported_with_the_key_masked(scripted_server):
    scripted_server.rules = [(lambda r: True, Status(401, message=f"Incorrect API key provided: {KEY}"))]
    error, = ask(model(scripted_server), user("Hello?"))
    assert isinstance(error, RequestFailed) and error.status == 401
    assert error.reason == "HTTP 401: Incorrect API key provided: ***"
    assert scripted_server.chat_requests()[0].headers["authorization"] == f"Bearer {KEY}"


# ---------------------------------------------------------------- what is sent


def test_the_models_own_system_prompt_temperature_and_max_tokens_win_over_the_steps(scripted_server):
    cfg = model(scripted_server, system_prompt="Be brief.", temperature=0.3, max_tokens=50)
    ask(cfg, user("Hi"), [{"role": "system", "content": "Judge fairly."}, *user("Hi")], temperature=0.9,
        max_tokens=10)
    bodies = sorted((r.body for r in scripted_server.chat_requests()), key=lambda b: b["messages"][0]["content"])
    # the entry's system prompt comes first unless the messages bring their own
    assert [b["messages"][0] for b in bodies] == [{"role": "system", "content": "Be brief."},
                                                  {"role": "system", "content": "Judge fairly."}]
    assert all((b["temperature"], b["max_tokens"]) == (0.3, 50) for b in bodies)

    scripted_server.requests.clear()
    ask(model(scripted_server), user("Hi"), temperature=0.9, max_tokens=10)
    body = scripted_server.chat_requests()[0].body
    assert body["messages"] == user("Hi") and (body["temperature"], body["max_tokens"]) == (0.9, 10)


@pytest.mark.parametrize("api_type", ["openai", "anthropic"])
def test_a_reply_names_why_it_stopped_and_which_model_served_it(scripted_server, api_type):
    scripted_server.script.extend([Answer("cut sh", finish_reason="length", model="m-2024-06-01",
                                          system_fingerprint="fp_abc123"), Answer("done")])
    cfg = model(scripted_server, api_type=api_type)
    cut, done = ask(cfg, user("Hi"))[0], ask(cfg, user("Hi"))[0]
    if api_type == "anthropic":  # Anthropic's names, as sent; it has no fingerprint
        assert (cut.finish_reason, cut.served_model, cut.system_fingerprint) == ("max_tokens", "m-2024-06-01", "")
        assert (done.finish_reason, done.served_model) == ("end_turn", "m-served")
    else:
        assert (cut.finish_reason, cut.served_model, cut.system_fingerprint) == ("length", "m-2024-06-01", "fp_abc123")
        assert (done.finish_reason, done.served_model, done.system_fingerprint) == ("stop", "m-served", "")


def test_what_a_request_is_sent_with_is_told_before_it_is_sent(scripted_server):
    # the settings recorded with an answer are those in the request body, whichever side set them
    for cfg, wanted in ((model(scripted_server, temperature=0.3, max_tokens=50), (0.3, 50)),
                        (model(scripted_server), (0.9, 10)),
                        (model(scripted_server, reasoning_effort="low"), (None, 10))):
        scripted_server.requests.clear()
        ask(cfg, user("Hi"), temperature=0.9, max_tokens=10)
        body = scripted_server.chat_requests()[0].body
        sent = (body.get("temperature"), body.get("max_tokens", body.get("max_completion_tokens")))
        assert sent == wanted
        told = sent_settings(cfg, 0.9, 10)
        assert (told["temperature"], told["max_tokens"]) == sent


SCHEMA = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
OBJECT = {"type": "json_object"}


def sent_formats(server) -> list:
    return [(r.body.get("response_format") or {}).get("type") for r in server.chat_requests()]


def test_response_formats_are_tried_best_first_and_a_confirmed_refusal_is_not_tried_again(scripted_server):
    scripted_server.rules = [
        (lambda r: (r.body.get("response_format") or {}).get("type") == "json_schema", Status(400, message="no")),
        (lambda r: True, Answer('{"verdict": "A>B"}'))]
    cfg = model(scripted_server, parallel=1)

    async def two_in_turn():
        client = ModelClient(cfg)
        try:
            return [await client.chat(user("first"), response_formats=(SCHEMA, OBJECT)),
                    await client.chat(user("second"), response_formats=(SCHEMA, OBJECT))]
        finally:
            await client.aclose()

    first, second = asyncio.run(two_in_turn())
    assert first.structured and second.structured
    assert sent_formats(scripted_server) == ["json_schema", "json_object", "json_object"]


def test_an_endpoint_that_refuses_every_format_is_asked_without_one(scripted_server):
    scripted_server.rules = [(lambda r: "response_format" in r.body, Status(422, message="unsupported")),
                             (lambda r: True, Answer("plain [[A>B]]"))]
    reply, = ask(model(scripted_server), user("Judge"), response_formats=(SCHEMA, OBJECT))
    assert reply.text == "plain [[A>B]]" and not reply.structured
    assert sent_formats(scripted_server) == ["json_schema", "json_object", None]


def test_anthropic_is_never_sent_a_response_format(scripted_server):
    reply, = ask(model(scripted_server, api_type="anthropic"), user("Judge"), response_formats=(SCHEMA, OBJECT),
                 max_tokens=64)
    assert not reply.structured
    assert [r.path for r in scripted_server.chat_requests()] == ["/v1/messages"]
    assert "response_format" not in scripted_server.chat_requests()[0].body


# ---------------------------------------------------------------- requests in flight


@pytest.mark.parametrize("parallel", [5, 40])  # one lane, and three (at most 16 connections each)
def test_parallel_requests_are_all_in_flight_at_once_also_after_failed_ones(scripted_server, parallel):
    cfg = model(scripted_server, parallel=parallel)

    async def rounds():
        client = ModelClient(cfg)
        try:
            # failures first, one after another: each must give its slot and its connection back (a lane
            # that lost count would look fuller than it is, and a request would then wait for a free one)
            scripted_server.rules = [(lambda r: True, Status(400, message="bad request"))]
            for i in range(5):
                with pytest.raises(RequestFailed, match="HTTP 400: bad request"):
                    await client.chat(user(f"f{i}"))
            scripted_server.rules = []
            scripted_server.max_in_flight = 0
            scripted_server.latency = 0.5
            start = time.monotonic()
            replies = await asyncio.gather(*(client.chat(user(f"q{i}")) for i in range(2 * parallel)))
            return replies, time.monotonic() - start
        finally:
            await client.aclose()

    replies, elapsed = asyncio.run(rounds())
    assert len(replies) == 2 * parallel
    # exactly ``parallel`` at once: never more, and none left queued behind a pool that thinks it is full
    assert scripted_server.max_in_flight == parallel
    assert elapsed < 3 * 0.5 + 1.0, elapsed  # two waves of 0.5 s, not three or more
