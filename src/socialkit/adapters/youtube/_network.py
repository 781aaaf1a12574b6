"""How the pipeline talks to YouTube: Google's error body, the daily quota, the resumable
upload's ``308 Resume Incomplete``.

Google APIs answer errors as ``{"error": {"code", "message", "errors": [{"domain", "reason",
"message"}], "status", "details"}}`` (https://developers.google.com/youtube/v3/docs/errors).
The reason is the first ``errors`` entry's (YouTube's own reasons); where that list is empty or
absent, the ``reason`` of a ``google.rpc.ErrorInfo`` in ``details`` (Google's error model,
https://cloud.google.com/apis/design/errors); else the ``status`` name. The reason decides
the class: ``quotaExceeded`` (403, domain ``youtube.quota``) is a
:class:`~socialkit.RateLimitError` whose reset is the next midnight Pacific time, when Google
resets the daily quota (https://developers.google.com/youtube/v3/determine_quota_cost);
``rateLimitExceeded`` / ``userRateLimitExceeded`` (ErrorInfo: ``RATE_LIMIT_EXCEEDED``) are
short-term limits (a minute's wait).

A resumable upload's ``PUT`` answers ``308`` while bytes are missing, with the ``Range`` the
server holds (https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol):
the decoder turns it into :class:`ResumeIncomplete`, which the adapter catches to resume.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx

from socialkit._errors import (
    APIError,
    AuthError,
    ConfigurationError,
    NotFoundError,
    PermissionError,
    RateLimitError,
    error_class_for_status,
)
from socialkit._http import Network, parse_retry_after, redact_text

__all__ = [
    "ResumeIncomplete",
    "decode_youtube_error",
    "make_network",
    "next_quota_reset",
    "pacific",
    "quota_day",
]

_MAX_MESSAGE = 500
#: Short-term limits (per user, per 100 seconds in Google's console): wait a minute.
MINUTE = 60.0
_QUOTA = frozenset({"quotaExceeded", "dailyLimitExceeded"})
_SHORT = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
_AUTH = frozenset({"authError", "unauthorized", "invalidCredentials"})
_PERMISSION = frozenset(
    {"forbidden", "insufficientPermissions", "youtubeSignupRequired", "channelClosed"}
)
_NOT_FOUND = frozenset(
    {"videoNotFound", "commentNotFound", "channelNotFound", "playlistNotFound", "notFound"}
)


@functools.cache
def pacific() -> ZoneInfo:
    """America/Los_Angeles, where Google's quota day ends (the system's time zone data, or
    the ``tzdata`` package where the system has none, as on Windows)."""
    try:
        return ZoneInfo("America/Los_Angeles")
    except ZoneInfoNotFoundError:
        raise ConfigurationError(
            "youtube: no time zone data for America/Los_Angeles: pip install tzdata"
        ) from None


def quota_day(now: datetime) -> str:
    """The Pacific date of ``now``: the day Google counts quota in."""
    return now.astimezone(pacific()).date().isoformat()


def next_quota_reset(now: datetime) -> datetime:
    """The next midnight in America/Los_Angeles (UTC), when the daily quota resets."""
    zone = pacific()
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), time(0), tzinfo=zone)
    return midnight.astimezone(timezone.utc)


class ResumeIncomplete(APIError):
    """``308 Resume Incomplete``: the server holds bytes ``0..received-1`` of the upload."""

    def __init__(self, network: str, received: int) -> None:
        self.received = received
        super().__init__(network, 308, "resumeIncomplete", f"{received} bytes received")


def received_of(response: httpx.Response) -> int:
    """The byte count a ``Range: bytes=0-N`` header says the server holds (0 without one)."""
    match = re.fullmatch(r"\s*bytes=0-(\d+)\s*", response.headers.get("range", ""))
    return int(match.group(1)) + 1 if match else 0


def reason_of(body: Any) -> tuple[str | None, str | None]:
    """(reason, message) of a Google error body."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return None, None
    error = body["error"]
    message = error.get("message") if isinstance(error.get("message"), str) else None
    reason = None
    errors = error.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        reason = _text(first.get("reason"))
        if message is None:
            message = _text(first.get("message"))
    if reason is None:
        reason = _error_info_reason(error.get("details"))
    if reason is None:
        reason = _text(error.get("status"))
    return reason, message


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _error_info_reason(details: object) -> str | None:
    """The ``reason`` of the first ``google.rpc.ErrorInfo`` among ``details``."""
    if not isinstance(details, list):
        return None
    for detail in details:
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(
            "/google.rpc.ErrorInfo"
        ):
            reason = _text(detail.get("reason"))
            if reason is not None:
                return reason
    return None


def decode_youtube_error(
    response: httpx.Response, network: str, *, clock: Callable[[], datetime] | None = None
) -> APIError:
    """The error of a Google answer (see the module docs)."""
    status = response.status_code
    if status == 308:
        return ResumeIncomplete(network, received_of(response))
    body: Any = None
    if response.content:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
    reason, message = reason_of(body)
    text = redact_text(message or response.reason_phrase or "")[:_MAX_MESSAGE] or None
    code = redact_text(reason)[:100] if reason else None
    if reason in _QUOTA:
        now = clock() if clock is not None else datetime.now(timezone.utc)
        reset = next_quota_reset(now)
        return RateLimitError(
            network,
            status,
            code,
            text,
            None,
            retry_after=max(0.0, (reset - now).total_seconds()),
            reset_at=reset,
            remaining=0,
            bucket="daily-quota",
        )
    if reason in _SHORT or status == 429:
        wait = parse_retry_after(response)
        return RateLimitError(
            network, status, code, text, None, retry_after=wait if wait is not None else MINUTE
        )
    cls: type[APIError] = error_class_for_status(status)
    if status < 500:
        if reason in _AUTH and status == 401:
            cls = AuthError
        elif reason in _PERMISSION and status == 403:
            cls = PermissionError
        elif reason in _NOT_FOUND and status == 404:
            cls = NotFoundError
    return cls(network, status, code, text, None)


def make_network(base_url: str, clock: Callable[[], datetime] | None = None) -> Network:
    """The :class:`~socialkit._http.Network` of a Google API at ``base_url``."""
    return Network(
        name="youtube",
        base_url=base_url,
        error_decoder=lambda response, network: decode_youtube_error(
            response, network, clock=clock
        ),
        transient_statuses=frozenset({429, 500, 502, 503, 504}),
        idempotency_header=None,
    )
