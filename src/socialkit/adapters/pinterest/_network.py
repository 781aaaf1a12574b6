"""How the pipeline talks to Pinterest: rate-limit categories and headers, ``{code, message}``
error bodies.

Every endpoint of API v5 belongs to a rate-limit category (``x-ratelimit-category`` of each
operation in the official ``openapi.json``; https://developers.pinterest.com/docs/reference/rate-limits/):
the ones this adapter calls are ``org_read``, ``org_write``, ``org_analytics`` and ``ads_read``
(``GET /user_account/followers``), each counted
per user per app per minute (Standard access) or per day (Trial access). A category is one
bucket of the pipeline. Answers carry ``x-ratelimit-limit``, ``x-ratelimit-remaining`` and
``x-ratelimit-reset`` (seconds until the window ends); the limit may come as
``"100, 100;w=60"`` (the IETF RateLimit draft's form), read as its first number. A 429 answers
``{"code": 8, "message": "This request exceeded a rate limit…"}``.

Errors are ``{"code": <int>, "message": <str>}`` (``#/components/schemas/Error`` and
``#/components/schemas/Pinterest.Lib.Error``); the HTTP status decides the class.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from socialkit._errors import APIError, RateLimitError, error_class_for_status
from socialkit._http import Network, RateLimitUpdate, parse_retry_after, redact_text

__all__ = ["CATEGORIES", "bucket_for", "decode_pinterest_error", "make_network", "parse_rate_limit"]

_MAX_MESSAGE = 500

#: The rate-limit category of each (method, path template) the adapter calls, as
#: ``openapi.json`` gives it (``x-ratelimit-category``).
CATEGORIES: dict[tuple[str, str], str] = {
    ("GET", "/user_account"): "org_read",
    ("GET", "/user_account/analytics"): "org_analytics",
    ("GET", "/user_account/followers"): "ads_read",
    ("GET", "/user_account/following"): "org_read",
    ("GET", "/search/pins"): "org_read",
    ("POST", "/pins/{pin_id}/save"): "org_write",
    ("GET", "/boards"): "org_read",
    ("POST", "/boards"): "org_write",
    ("GET", "/boards/{board_id}/pins"): "org_read",
    ("GET", "/pins"): "org_read",
    ("POST", "/pins"): "org_write",
    ("GET", "/pins/{pin_id}"): "org_read",
    ("DELETE", "/pins/{pin_id}"): "org_write",
    ("GET", "/pins/{pin_id}/analytics"): "org_analytics",
    ("GET", "/pins/analytics"): "org_analytics",
    ("POST", "/media"): "org_write",
    ("GET", "/media/{media_id}"): "org_read",
}

_TEMPLATE = re.compile(r"/[0-9]+(?=/|$)")
_TEMPLATES = {
    "/boards/{id}/pins": "/boards/{board_id}/pins",
    "/pins/{id}": "/pins/{pin_id}",
    "/pins/{id}/analytics": "/pins/{pin_id}/analytics",
    "/pins/{id}/save": "/pins/{pin_id}/save",
    "/media/{id}": "/media/{media_id}",
}


def bucket_for(method: str, path: str) -> str:
    """The rate-limit category of a request (``org_read`` for anything not listed)."""
    bare = path.split("?", 1)[0]
    if bare.startswith(("https://", "http://")):
        bare = httpx.URL(bare).path
    bare = re.sub(r"^/v5(?=/)", "", bare)
    template = _TEMPLATE.sub("/{id}", bare)
    template = _TEMPLATES.get(template, template)
    return CATEGORIES.get((method.upper(), template), "org_read")


def _first_number(value: str | None) -> float | None:
    if value is None:
        return None
    match = re.match(r"\s*([0-9]+(?:\.[0-9]+)?)", value)
    if match is None:
        return None
    number = float(match.group(1))
    return number if number <= 1e9 else None


def parse_rate_limit(response: httpx.Response) -> RateLimitUpdate | None:
    """``x-ratelimit-limit`` / ``-remaining`` / ``-reset`` (seconds to the window's end) of
    the request's category; a header missing or malformed is left out (the others count)."""
    headers = response.headers
    limit = _first_number(headers.get("x-ratelimit-limit"))
    remaining = _first_number(headers.get("x-ratelimit-remaining"))
    reset = _first_number(headers.get("x-ratelimit-reset"))
    if limit is None and remaining is None and reset is None:
        return None
    return RateLimitUpdate(
        limit=int(limit) if limit is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset_after=reset,
    )


def decode_pinterest_error(response: httpx.Response, network: str) -> APIError:
    """An error answer ``{"code", "message"}`` (or a gateway's HTML page) as the error of its
    status, Pinterest's numeric code kept as ``code``."""
    status = response.status_code
    body: Any = None
    if response.content:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
    code: str | None = None
    message: str | None = None
    if isinstance(body, dict):
        raw_code = body.get("code")
        if isinstance(raw_code, int | str) and not isinstance(raw_code, bool):
            code = str(raw_code)
        text = body.get("message") or body.get("error_description") or body.get("error")
        if isinstance(text, str) and text.strip():
            message = text.strip()
    if message is None:
        message = response.reason_phrase or None
    if message is not None:
        message = redact_text(message)[:_MAX_MESSAGE]
    if code is not None:
        code = redact_text(code)[:100]
    request_id = response.headers.get("x-pinterest-rid") or response.headers.get("x-request-id")
    cls = error_class_for_status(status)
    if cls is RateLimitError:
        return RateLimitError(
            network, status, code, message, request_id, retry_after=parse_retry_after(response)
        )
    return cls(network, status, code, message, request_id)


def make_network(base_url: str) -> Network:
    """The :class:`~socialkit._http.Network` of Pinterest API v5 at ``base_url``
    (``https://api.pinterest.com/v5``): one bucket per rate-limit category."""
    return Network(
        name="pinterest",
        base_url=base_url,
        rate_limit_parser=parse_rate_limit,
        error_decoder=decode_pinterest_error,
        transient_statuses=frozenset({429, 500, 502, 503, 504}),
        idempotency_header=None,
        bucket_for=bucket_for,
    )
