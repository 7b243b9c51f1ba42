"""A provider that exists only in the tests, to show that adding one is this file and one ``register`` line.

It speaks OpenAI's chat wire format (so the scripted server answers it) but
in a dialect of its own that a test can see: the token limit goes in
``max_new_tokens``, every body says ``"dialect": "fake"``, the key comes
from ``FAKE_API_KEY``, the served model is read back as ``fake:<model>``,
and it has no batch API.

Run a step through it as ``python -m tests.fake_provider gen_answer.py ARGS``:
the provider is registered in that process, then the script runs as usual.
"""
from __future__ import annotations

import runpy
import sys
from pathlib import Path

from utils.asking.providers import register
from utils.asking.providers.base import Provider, ReplyParts, openai_usage


class FakeProvider(Provider):
    api_type = "fake"
    key_variable = "FAKE_API_KEY"

    def _base_error(self) -> type:
        return self.sdk.OpenAIError

    def client(self, endpoint, http_client, **common):
        return self.sdk.AsyncOpenAI(base_url=endpoint.api_base, http_client=http_client, **common)

    def sent_settings(self, temperature, max_tokens) -> dict:
        return {"temperature": temperature, "max_tokens": self.cfg.max_tokens or max_tokens}

    def body(self, messages, temperature, max_tokens, response_format) -> dict:
        return {"model": self.cfg.model_name, "messages": messages, "temperature": temperature,
                "max_new_tokens": max_tokens, "dialect": "fake"}

    async def send(self, client, body):
        return await client.post("/chat/completions", body=body, cast_to=self.sdk.types.chat.ChatCompletion)

    def read(self, response) -> ReplyParts:
        choice = response.choices[0]
        return ReplyParts(text=choice.message.content, usage=openai_usage(response.usage),
                          finish_reason=choice.finish_reason, served_model=f"fake:{response.model}")


register(FakeProvider)

if __name__ == "__main__":
    script = Path(__file__).resolve().parent.parent / sys.argv[1]
    sys.argv = [str(script), *sys.argv[2:]]
    runpy.run_path(str(script), run_name="__main__")
