"""Telegram (Bot API): ``TelegramAdapter`` (registry name ``telegram``), its settings, the
text entities helper and the webhook secret check.

Webhooks: ``setWebhook`` with a ``secret_token`` makes Telegram send it in the
``X-Telegram-Bot-Api-Secret-Token`` header of every delivery; :func:`verify_secret` compares it
in constant time, and :meth:`TelegramAdapter.ex_handle_webhook` checks it and keeps the update.
See ``docs/networks/telegram.md``.
"""

from __future__ import annotations

from socialkit.adapters.telegram._adapter import (
    LIKE_EMOJI,
    TelegramAdapter,
    TelegramSettings,
    TextEntity,
)
from socialkit.adapters.telegram._webhooks import SECRET_HEADER, verify_secret

__all__ = [
    "LIKE_EMOJI",
    "SECRET_HEADER",
    "TelegramAdapter",
    "TelegramSettings",
    "TextEntity",
    "verify_secret",
]
