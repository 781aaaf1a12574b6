"""Telegram webhooks: the secret token header of each delivery.

``setWebhook(secret_token=...)`` makes Telegram send the header
``X-Telegram-Bot-Api-Secret-Token: <secret>`` with every delivery (1–256 characters of
``A-Z a-z 0-9 _ -``, https://core.telegram.org/bots/api#setwebhook). :func:`verify_secret`
compares it in constant time (:func:`hmac.compare_digest`). Each delivery is one ``Update``
whose ``update_id`` identifies it: Telegram repeats a delivery that was not answered with a
2xx, and the adapter's :meth:`~socialkit.adapters.telegram.TelegramAdapter.ex_handle_webhook`
accepts each ``update_id`` once.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping

from pydantic import SecretStr

from socialkit._errors import ValidationError

__all__ = ["SECRET_HEADER", "SECRET_PATTERN", "verify_secret"]

#: The header of a delivery that carries the webhook's secret token.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
#: What Telegram accepts as a secret token.
SECRET_PATTERN = r"[A-Za-z0-9_-]{1,256}"


def _secret(value: str | SecretStr) -> str:
    secret = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not re.fullmatch(SECRET_PATTERN, secret):
        raise ValidationError("a Telegram webhook secret is 1-256 characters of A-Z a-z 0-9 _ -")
    return secret


def verify_secret(headers: Mapping[str, str], secret: str | SecretStr) -> bool:
    """Whether the delivery's ``X-Telegram-Bot-Api-Secret-Token`` header is ``secret``
    (header names compared case-insensitively, the value in constant time)."""
    expected = _secret(secret).encode("utf-8")
    given: str | None = None
    for name, value in headers.items():
        if name.lower() == SECRET_HEADER.lower():
            given = value
            break
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected)
