"""How the pipeline talks to LinkedIn: its error bodies and its daily limits.

LinkedIn's error body is ``{"status", "serviceErrorCode", "code", "message"}``
(https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/error-handling); a 422
adds ``errorDetailType`` and ``errorDetails``. Its limits are daily, per application and per
member, reset at midnight UTC, and unpublished
(https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/rate-limits): past them
LinkedIn answers 429 with no header saying how long to wait. The pipeline backs off and tries
again a few times (a 429 can also be a short burst limit); once it gives up, the
:class:`~socialkit.RateLimitError` says that the window is LinkedIn's day.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from socialkit._errors import APIError, RateLimitError, error_class_for_status
from socialkit._http import Network, redact_text

__all__ = ["DAILY_LIMIT_HINT", "decode_linkedin_error", "make_network", "next_reset"]

_MAX_MESSAGE = 500

#: What a 429 from LinkedIn means, appended to its message.
DAILY_LIMIT_HINT = (
    "LinkedIn's limits are daily, per application and per member, and reset at midnight UTC; "
    "LinkedIn sends no reset time (the Developer Portal's Analytics tab shows the usage)"
)


def next_reset(now: datetime | None = None) -> datetime:
    """The next midnight UTC, when LinkedIn's daily limits reset."""
    moment = (now or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return datetime.combine(moment.date() + timedelta(days=1), datetime.min.time(), timezone.utc)


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


def decode_linkedin_error(response: httpx.Response, network: str) -> APIError:
    """An error answer: ``code`` (or ``serviceErrorCode``) and ``message`` of LinkedIn's body
    when it has one, else the status (a gateway's HTML page). The request id is LinkedIn's
    ``x-li-uuid`` header."""
    status = response.status_code
    body: Any = None
    if response.content:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
    code = message = None
    if isinstance(body, dict):
        code = _text(body.get("code")) or _text(body.get("serviceErrorCode"))
        message = _text(body.get("message"))
    message = redact_text(message or response.reason_phrase or f"HTTP {status}")[:_MAX_MESSAGE]
    code = redact_text(code)[:100] if code is not None else None
    request_id = response.headers.get("x-li-uuid") or None
    cls = error_class_for_status(status)
    if cls is RateLimitError:
        return RateLimitError(
            network,
            status,
            code,
            f"{message} ({DAILY_LIMIT_HINT})",
            request_id,
            retry_after=None,
        )
    return cls(network, status, code, message, request_id)


def _bucket(method: str, path: str) -> str:
    # LinkedIn counts calls per resource (/rest/posts, /rest/images …), not per id.
    parts = path.split("?", 1)[0].split("/")
    return f"{method} {'/'.join(parts[:3])}"


def make_network(base_url: str) -> Network:
    """The :class:`~socialkit._http.Network` of LinkedIn's API at ``base_url``
    (``https://api.linkedin.com``); a bucket per resource."""
    return Network(
        name="linkedin",
        base_url=base_url,
        error_decoder=decode_linkedin_error,
        transient_statuses=frozenset({429, 500, 502, 503, 504}),
        idempotency_header=None,
        bucket_for=_bucket,
    )
