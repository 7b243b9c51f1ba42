"""Azure OpenAI (``api_type: azure``): OpenAI's API at a resource of one's own, with an API version.

What differs from OpenAI (utils/asking/providers/openai.py), and nothing else:

* the endpoint is the resource URL (``api_base``, e.g.
  ``https://my-resource.openai.azure.com/``) and an ``api_version`` (from the
  entry, else ``OPENAI_API_VERSION``, the SDK's own variable); both are
  required, so a missing one is reported when the config is read rather
  than by the SDK at the first request;
* the key comes from ``AZURE_OPENAI_API_KEY`` when the entry names none;
* ``model_name`` is the deployment's name;
* batch input lines and the batch itself name Azure's own chat completions
  path, ``/chat/completions`` (OpenAI's is ``/v1/chat/completions``), and a
  batch is created without metadata: a stopped run's batch is found by its
  input file alone.
"""
from __future__ import annotations

from utils.asking.providers.openai import OpenAIBatches, OpenAIProvider


class AzureBatches(OpenAIBatches):
    endpoint = "/chat/completions"
    tags_batches = False  # not every Azure API version takes batch metadata; the input file id alone finds one


class AzureProvider(OpenAIProvider):
    api_type = "azure"
    key_variable = "AZURE_OPENAI_API_KEY"
    needs = {"api_base": "the resource URL", "api_version": "the API version, e.g. '2024-10-21'"}
    field_variables = {"api_version": "OPENAI_API_VERSION"}
    batch_api = AzureBatches

    def client(self, endpoint, http_client, **common):
        return self.sdk.AsyncAzureOpenAI(azure_endpoint=endpoint.api_base, api_version=endpoint.api_version,
                                         http_client=http_client, **common)
