"""How the pipeline talks to TikTok: ``{"error": {"code", "message", "log_id"}}`` and the
per-minute limits.

Every answer of the v2 API carries ``error`` (``code`` is ``"ok"`` on success;
https://developers.tiktok.com/doc/tiktok-api-v2-error-handling). Limits are per user token
and per endpoint, per minute (the reference page of each endpoint: 6 video inits, 30 status
fetches, 20 creator info queries a minute …); past them TikTok answers 429
``rate_limit_exceeded`` without a ``Retry-After``, so the decoder names the next minute as the
wait, and the pipeline waits it (or raises, with ``rate_limit="raise"``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from socialkit._errors import (
    APIError,
    AuthError,
    InvalidRequestError,
    PermissionError,
    RateLimitError,
    error_class_for_status,
)
from socialkit._http import Network, parse_retry_after, redact_text

__all__ = ["decode_tiktok_error", "error_of", "make_network"]

_MAX_MESSAGE = 500
#: A per-minute window: the longest wait a 429 without Retry-After needs.
MINUTE = 60.0

_AUTH = frozenset({"access_token_invalid", "access_token_expired", "token_not_authorized"})
_PERMISSION = frozenset(
    {
        "scope_not_authorized",
        "scope_permission_missed",
        "unaudited_client_can_only_post_to_private_accounts",
        "url_ownership_unverified",
        "privacy_level_option_mismatch",
        "spam_risk_user_banned_from_posting",
        "reached_active_user_cap",
    }
)
#: Daily caps of the Content Posting API (403): a minute's wait does not lift them, and
#: TikTok names no reset, so they carry no ``retry_after`` (and are not sent again).
_DAILY = frozenset({"spam_risk_too_many_posts", "spam_risk_too_many_pending_share"})
_LIMITED = frozenset({"rate_limit_exceeded"}) | _DAILY


def error_of(body: Any, status: int | None, network: str = "tiktok") -> APIError | None:
    """The error of a body's ``error`` object, ``None`` when its code is ``ok``."""
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if not isinstance(error, dict):
        return None
    code = error.get("code")
    if code == "ok" or not isinstance(code, str):
        return None
    message = error.get("message") if isinstance(error.get("message"), str) else None
    log_id = error.get("log_id") if isinstance(error.get("log_id"), str) else None
    text = redact_text(message or code)[:_MAX_MESSAGE]
    code = redact_text(code)[:100]
    if code in _LIMITED:
        wait = None if code in _DAILY else MINUTE
        return RateLimitError(network, status or 429, code, text, log_id, retry_after=wait)
    cls: type[APIError]
    if code in _AUTH:
        cls = AuthError
    elif code in _PERMISSION:
        cls = PermissionError
    elif status is not None and status >= 400:
        cls = error_class_for_status(status)
    else:
        cls = InvalidRequestError
    return cls(network, status, code, text, log_id)


def decode_tiktok_error(response: httpx.Response, network: str) -> APIError:
    """An error answer: the body's ``error`` when it has one, else the status (a proxy's HTML
    page). The HTTP status decides the class where it says more than the code."""
    status = response.status_code
    body: Any = None
    if response.content:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
    found = error_of(body, status, network)
    generic = error_class_for_status(status)
    if found is None:
        message = response.reason_phrase or None
        if generic is RateLimitError:
            wait = parse_retry_after(response)
            return RateLimitError(
                network, status, None, message, None, retry_after=wait if wait else MINUTE
            )
        return generic(network, status, None, message, None)
    if isinstance(found, RateLimitError) or generic is RateLimitError:
        wait = parse_retry_after(response)
        if wait is None and found.code not in _DAILY:
            wait = MINUTE
        return RateLimitError(
            network, status, found.code, found.message, found.request_id, retry_after=wait
        )
    if generic is not APIError and type(found) is not generic and status >= 500:
        return generic(network, status, found.code, found.message, found.request_id)
    if status in (401, 403, 404) and type(found) is InvalidRequestError:
        return generic(network, status, found.code, found.message, found.request_id)
    return found


def make_network(base_url: str) -> Network:
    """The :class:`~socialkit._http.Network` of TikTok's v2 API at ``base_url``
    (``https://open.tiktokapis.com``); a bucket per endpoint, as TikTok counts."""
    return Network(
        name="tiktok",
        base_url=base_url,
        error_decoder=decode_tiktok_error,
        transient_statuses=frozenset({429, 500, 502, 503, 504}),
        idempotency_header=None,
        bucket_for=lambda method, path: f"{method} {path.split('?', 1)[0]}",
    )
