"""API keys and other secrets: read them clean, and never show them.

* ``clean_key`` is how every key is read (from the config or the
  environment): surrounding whitespace goes, since a key pasted with its line
  break (``export KEY="$(cat key.txt)"``, a YAML block scalar) is otherwise
  sent as an illegal header, and the HTTP library's complaint quotes it.
  A key that still holds a control character (a line break inside it) is
  ``unsendable``: the config refuses it before any request, in a line that
  does not show it (the HTTP library's complaint would show it escaped,
  which no masking of the key itself catches).
* ``mask`` replaces every secret we know of with ``***`` (``mask_counted``
  also says how many it replaced: a reply that echoes a key is stored
  masked, and says so): the keys read for
  the run's endpoints, and the value of every environment variable whose name
  says it holds one (``*_API_KEY``, ``*_KEY``, ``*_TOKEN``, ``*_SECRET``,
  ``*_PASSWORD``), since a server may echo any key it was ever given. Values
  shorter than ``MIN_SECRET_CHARS`` are left alone: they are not real keys
  (``api_key: local``, ``EMPTY``), and masking them would garble ordinary words.
* ``masked_output`` passes everything the scripts write to stdout and
  stderr (our messages, the progress bars, SDK log lines, a traceback)
  through ``mask``, so a secret that reaches a message by a path no one
  foresaw is still not shown.
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
from typing import Iterator

MIN_SECRET_CHARS = 8
# the provider defaults end in _API_KEY too; they are named for whoever greps for them
PROVIDER_KEY_VARS = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY")
_SECRET_NAME = re.compile(r"(^|_)(API_KEY|KEY|TOKEN|SECRET|PASSWORD)$", re.IGNORECASE)
MASK = "***"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_configured: set[str] = set()
_known: list[str] | None = None  # every secret, longest first; None: to be worked out again


def clean_key(value: str | None) -> str | None:
    """A key as it is to be sent: without surrounding whitespace, and from now on masked wherever shown."""
    if value is None:
        return None
    value = value.strip()
    remember(value)
    return value


def unsendable(key: str) -> bool:
    """Whether a (stripped) key holds a control character, which no HTTP header can carry."""
    return _CONTROL.search(key) is not None


def remember(secret: str) -> None:
    """Mask ``secret`` from now on (when it is long enough to be one)."""
    global _known
    if len(secret) >= MIN_SECRET_CHARS and secret not in _configured:
        _configured.add(secret)
        _known = None


def _secrets() -> list[str]:
    global _known
    if _known is None:
        # the environment is read once: the scripts do not change their own
        found = set(_configured)
        for name, value in os.environ.items():
            value = value.strip()
            if (name in PROVIDER_KEY_VARS or _SECRET_NAME.search(name)) and len(value) >= MIN_SECRET_CHARS:
                found.add(value)
        _known = sorted(found, key=len, reverse=True)  # a key holding another is masked whole
    return _known


def mask(text: str) -> str:
    for secret in _secrets():
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_counted(text: str) -> tuple[str, int]:
    """``text`` masked, and how many secrets were replaced in it."""
    count = 0
    for secret in _secrets():
        found = text.count(secret)
        if found:
            text = text.replace(secret, MASK)
            count += found
    return text, count


class _MaskedStream:
    """A text stream that masks what is written to it; everything else is the wrapped stream's."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._stream.write(mask(text))

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextlib.contextmanager
def masked_output() -> Iterator[None]:
    """Mask secrets in whatever is written to sys.stdout and sys.stderr until the block ends."""
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _MaskedStream(sys.stdout), _MaskedStream(sys.stderr)
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
