"""How the pipeline talks to Telegram: the error envelope, ``retry_after`` and per-chat pacing.

The Bot API sends no rate-limit headers. Its limits are documented in the bots FAQ
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this): about one
message per second in a chat, 20 messages per minute in a group, 30 per second overall; beyond
them it answers 429 with ``parameters.retry_after``. The adapter sends every message into a
chat under that chat's bucket (``chat <id>``), and :func:`parse_telegram_rate_limit` reads the
chat's type from each answer to tell the pipeline when the chat's next message may go: the
pipeline then waits (or paces, or raises) like for any other network.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from socialkit._errors import (
    APIError,
    RateLimitError,
    error_class_for_status,
)
from socialkit._http import Network, RateLimitUpdate, parse_retry_after, redact_text

__all__ = [
    "CHANNEL_INTERVAL",
    "GROUP_INTERVAL",
    "chat_bucket",
    "decode_telegram_error",
    "make_network",
    "parse_telegram_rate_limit",
]

_MAX_MESSAGE = 500

#: Seconds between two messages into one private chat or channel (about one per second).
CHANNEL_INTERVAL = 1.0
#: Seconds between two messages into one group (20 per minute).
GROUP_INTERVAL = 3.0

_SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendVideo",
        "sendAnimation",
        "sendAudio",
        "sendDocument",
        "sendMediaGroup",
        "sendPoll",
        "copyMessage",
        "forwardMessage",
    }
)


def chat_bucket(chat: str) -> str:
    """The bucket of the messages sent into ``chat`` (its numeric id or ``@username``)."""
    return f"chat {chat}"


def _method(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def parse_telegram_rate_limit(response: httpx.Response) -> RateLimitUpdate | None:
    """After a message went into a chat: the chat's bucket is empty until its next slot
    (:data:`CHANNEL_INTERVAL`, or :data:`GROUP_INTERVAL` in a group; an album counts each of
    its messages). Other answers say nothing about limits."""
    if response.status_code != 200:
        return None
    try:
        method = _method(response.request.url.path)
    except RuntimeError:
        return None
    if method not in _SEND_METHODS:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    result = body.get("result") if isinstance(body, dict) else None
    messages = result if isinstance(result, list) else [result]
    first = messages[0] if messages else None
    chat = first.get("chat") if isinstance(first, dict) else None
    kind = chat.get("type") if isinstance(chat, dict) else None
    if not isinstance(kind, str):
        return None
    interval = GROUP_INTERVAL if kind in ("group", "supergroup") else CHANNEL_INTERVAL
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    return RateLimitUpdate(
        limit=1,
        remaining=0,
        reset_after=interval * max(1, len(messages)),
        # The chat by its id, also when the request named it by @username.
        bucket=chat_bucket(str(chat_id)) if isinstance(chat_id, int) else None,
    )


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def decode_telegram_error(response: httpx.Response, network: str) -> APIError:
    """``{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 5",
    "parameters": {"retry_after": 5}}`` into the socialkit error tree. The HTTP status decides
    the class (the pipeline's retry rules rely on it); ``description`` is the message, its
    prefix before the colon (``Bad Request``, ``Forbidden`` …) is not repeated as the code."""
    status = response.status_code
    body: Any = None
    if response.content:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
    message: str | None = None
    code: str | None = None
    retry_after: float | None = None
    if isinstance(body, dict):
        message = _text(body.get("description"))
        error_code = body.get("error_code")
        if isinstance(error_code, int) and not isinstance(error_code, bool):
            code = str(error_code)
        parameters = body.get("parameters")
        if isinstance(parameters, dict):
            value = parameters.get("retry_after")
            if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
                retry_after = float(value)
    if message is None:
        message = response.reason_phrase or None
    if message is not None:
        message = redact_text(message)[:_MAX_MESSAGE]
    cls = error_class_for_status(status)
    if cls is RateLimitError or retry_after is not None:
        header = parse_retry_after(response)
        return RateLimitError(
            network,
            status,
            code,
            message,
            None,
            retry_after=header if header is not None else retry_after,
        )
    return cls(network, status, code, message, None)


def make_network(base_url: str) -> Network:
    """The :class:`~socialkit._http.Network` of the Bot API at ``base_url``.

    Requests go to ``<base_url>/bot/<method>``; the adapter's auth puts the bot token into the
    path when the request is sent (so the token is in no ``Network``, path or bucket name).
    Telegram has no idempotency key: a send whose answer is lost is never resent by the
    pipeline (``OutcomeUnknownError``), and the adapter reconciles it.
    """
    return Network(
        name="telegram",
        base_url=base_url,
        rate_limit_parser=parse_telegram_rate_limit,
        error_decoder=decode_telegram_error,
        transient_statuses=frozenset({429, 500, 502, 503, 504}),
        idempotency_header=None,
        bucket_for=lambda method, path: _method(path),
    )
