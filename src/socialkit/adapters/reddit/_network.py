"""How the pipeline talks to Reddit: the ``X-Ratelimit-*`` headers, error bodies, and the
``RATELIMIT`` error Reddit puts inside a 200 answer.

Reddit's API rules (https://github.com/reddit-archive/reddit/wiki/API, "Rules"; the headers on
https://support.reddithelp.com/hc/en-us/articles/16160319875092-Reddit-Data-API-Wiki) count
requests per OAuth client in a ten-minute window and report it on every answer:
``X-Ratelimit-Used`` (requests made), ``X-Ratelimit-Remaining`` (left, a decimal such as
``"594.0"``) and ``X-Ratelimit-Reset`` (seconds until the window ends). Write actions are also
limited per account: then ``POST /api/submit`` (and ``/api/comment`` …) answer 200 with
``{"json": {"errors": [["RATELIMIT", "Looks like you've been doing that a lot. Take a break for
5 minutes before trying again.", "ratelimit"]]}}`` (older text: "you are doing that too much.
try again in 9 minutes."); :func:`json_errors` turns that into :class:`RateLimitError` with the
wait in ``retry_after``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import httpx

from socialkit._errors import (
    APIError,
    InvalidRequestError,
    RateLimitError,
    error_class_for_status,
)
from socialkit._http import Network, RateLimitUpdate, parse_retry_after, redact_text

__all__ = [
    "decode_reddit_error",
    "json_errors",
    "make_network",
    "parse_reddit_rate_limit",
    "ratelimit_wait",
]

_MAX_MESSAGE = 500
_UNITS = {"millisecond": 0.001, "second": 1.0, "minute": 60.0, "hour": 3600.0}
_WAIT = re.compile(
    r"(?:try again in|take a break for)\s+(?P<n>\d+(?:\.\d+)?)\s+"
    r"(?P<unit>millisecond|second|minute|hour)s?",
    re.IGNORECASE,
)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    if number != number or number < 0 or number > 1e9:  # NaN, negative, absurd
        return None
    return number


def parse_reddit_rate_limit(response: httpx.Response) -> RateLimitUpdate | None:
    """``X-Ratelimit-Used`` + ``-Remaining`` is the window's size; ``-Reset`` is seconds to its
    end. Any header missing or malformed is left out (the others still count)."""
    headers = response.headers
    used = _number(headers.get("x-ratelimit-used"))
    remaining = _number(headers.get("x-ratelimit-remaining"))
    reset = _number(headers.get("x-ratelimit-reset"))
    if used is None and remaining is None and reset is None:
        return None
    limit = int(used + remaining) if used is not None and remaining is not None else None
    return RateLimitUpdate(
        limit=limit,
        remaining=int(remaining) if remaining is not None else None,
        reset_after=reset,
    )


def ratelimit_wait(message: str) -> float | None:
    """Seconds to wait from a ``RATELIMIT`` message ("try again in 9 minutes", "Take a break
    for 5 minutes", "… 30 seconds"), ``None`` when it names no wait."""
    match = _WAIT.search(message)
    if match is None:
        return None
    return float(match.group("n")) * _UNITS[match.group("unit").lower()]


def json_errors(body: Any, network: str = "reddit", status: int | None = 200) -> APIError | None:
    """The error of an ``api_type=json`` answer's ``json.errors`` (``[[code, message, field],
    …]``), ``None`` when it has none. ``RATELIMIT`` is a :class:`RateLimitError` (nothing was
    done; ``retry_after`` from the message); the others are :class:`InvalidRequestError`
    (``SUBREDDIT_NOEXIST``, ``NO_TEXT``, ``SUBMIT_VALIDATION_*`` …), all problems joined."""
    if not isinstance(body, dict):
        return None
    inner = body.get("json")
    errors = inner.get("errors") if isinstance(inner, dict) else None
    if not isinstance(errors, list) or not errors:
        return None
    entries = [e for e in errors if isinstance(e, Sequence) and not isinstance(e, str)]
    if not entries:
        return None
    codes = [str(e[0]) if len(e) > 0 else "" for e in entries]
    texts = []
    for entry in entries:
        message = str(entry[1]) if len(entry) > 1 else ""
        field = str(entry[2]) if len(entry) > 2 and entry[2] else ""
        texts.append(f"{message} ({field})" if field and field not in message else message)
    message = redact_text("; ".join(t.strip() for t in texts if t.strip()))[:_MAX_MESSAGE]
    if "RATELIMIT" in codes:
        index = codes.index("RATELIMIT")
        wait = ratelimit_wait(str(entries[index][1]) if len(entries[index]) > 1 else "")
        return RateLimitError(network, status, "RATELIMIT", message or None, retry_after=wait)
    return InvalidRequestError(network, status, codes[0][:100] or None, message or None)


def decode_reddit_error(response: httpx.Response, network: str) -> APIError:
    """An error answer: ``{"message": "Forbidden", "error": 403}``, ``{"error":
    "invalid_grant"}`` from the token endpoint, ``{"json": {"errors": [...]}}`` (also on 4xx
    since ``validate_on_submit``), or an HTML page from a proxy. The status decides the class."""
    status = response.status_code
    body: Any = None
    if response.content:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
    code: str | None = None
    message: str | None = None
    found = json_errors(body, network, status)
    if found is not None:
        code, message = found.code, found.message
    elif isinstance(body, dict):
        error = body.get("error")
        text = body.get("message") or body.get("error_description") or body.get("explanation")
        if isinstance(error, str):
            code = error
        elif isinstance(error, int) and not isinstance(error, bool):
            code = str(error)
        if isinstance(body.get("reason"), str):
            code = body["reason"]
        if isinstance(text, str) and text.strip():
            message = text.strip()
    if message is None:
        message = response.reason_phrase or None
    if message is not None:
        message = redact_text(message)[:_MAX_MESSAGE]
    if code is not None:
        code = redact_text(code)[:100]
    cls = error_class_for_status(status)
    if cls is RateLimitError or code == "RATELIMIT":
        wait = parse_retry_after(response)
        if wait is None and isinstance(found, RateLimitError):
            wait = found.retry_after
        return RateLimitError(network, status, code, message, None, retry_after=wait)
    return cls(network, status, code, message, None)


def make_network(base_url: str) -> Network:
    """The :class:`~socialkit._http.Network` of Reddit's OAuth API at ``base_url``
    (``https://oauth.reddit.com``). One bucket: Reddit counts every request of a client."""
    return Network(
        name="reddit",
        base_url=base_url,
        rate_limit_parser=parse_reddit_rate_limit,
        error_decoder=decode_reddit_error,
        transient_statuses=frozenset({429, 500, 502, 503, 504}),
        idempotency_header=None,
    )
