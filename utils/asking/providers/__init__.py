"""The providers a model entry can name with ``api_type``, one file each, and the registry of them.

* base.py       the contract every provider keeps (what a request, a reply, an error, a batch, a token count is
                for it), Reply and RequestFailed, the reasoning and usage helpers they share
* batches.py    what a provider's batch API gives the batch coordinator; the batch types and helpers they share
* openai.py     OpenAI's Chat Completions API and Batch API (also any server that speaks them: vLLM, llama.cpp)
* azure.py      Azure OpenAI: OpenAI's API at a resource URL with an API version
* anthropic.py  Anthropic's Messages API and Message Batches

``PROVIDERS`` maps each ``api_type`` to its class; utils/plumbing/config.py
validates entries against it (the allowed api_types, each provider's key
variable, required endpoint fields and entry keys), and ``provider_for``
gives the run a model's provider. Adding one is a file here (or anywhere)
and one ``register`` line; nothing else names a provider.
"""
from __future__ import annotations

from utils.asking.providers.anthropic import AnthropicProvider
from utils.asking.providers.azure import AzureProvider
from utils.asking.providers.base import Provider
from utils.asking.providers.openai import OpenAIProvider
from utils.plumbing.entry import ModelConfig

PROVIDERS: dict[str, type[Provider]] = {}


def register(provider: type[Provider]) -> type[Provider]:
    """Make ``provider`` the one its ``api_type`` names (usable as a class decorator)."""
    PROVIDERS[provider.api_type] = provider
    return provider


register(OpenAIProvider)
register(AzureProvider)
register(AnthropicProvider)


def provider_for(cfg: ModelConfig) -> Provider:
    """The provider of a validated entry."""
    return PROVIDERS[cfg.api_type](cfg)
