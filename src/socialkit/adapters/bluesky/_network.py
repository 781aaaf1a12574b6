"""What the pipeline needs to know about Bluesky: errors, rate-limit headers, buckets."""

from __future__ import annotations

import json

import httpx

from socialkit._errors import (
    APIError,
    AuthError,
    InvalidRequestError,
    NotFoundError,
    RateLimitError,
    TokenExpiredError,
    error_class_for_status,
)
from socialkit._http import (
    Network,
    RateLimitUpdate,
    header_rate_limit_parser,
    parse_retry_after,
    redact_text,
)

__all__ = [
    "bucket_for",
    "decode_error",
    "error_name",
    "is_no_service",
    "make_network",
    "parse_rate_limit",
]

_MAX_MESSAGE = 500

#: XRPC error names (https://atproto.com/specs/xrpc#error-responses, the PDS's own names) that
#: say more than the status does.
_BY_NAME: dict[str, type[APIError]] = {
    "AuthRequired": AuthError,
    "AuthenticationRequired": AuthError,
    "AuthMissing": AuthError,
    "InvalidToken": AuthError,
    "AccountTakedown": AuthError,
    "AccountDeactivated": AuthError,
    "AuthFactorTokenRequired": AuthError,
    "ExpiredToken": TokenExpiredError,
    "RecordNotFound": NotFoundError,
    "NotFound": NotFoundError,
    "HandleNotFound": NotFoundError,
    "RepoNotFound": NotFoundError,  # describeRepo / getRecord of a repo the PDS does not know
    "InvalidConvo": NotFoundError,
    "RateLimitExceeded": RateLimitError,
}

_headers = header_rate_limit_parser(
    limit="ratelimit-limit",
    remaining="ratelimit-remaining",
    reset="ratelimit-reset",
    reset_kind="epoch",
)


def parse_rate_limit(response: httpx.Response) -> RateLimitUpdate | None:
    """``ratelimit-limit`` / ``-remaining`` / ``-reset`` (Unix seconds); when only
    ``ratelimit-policy`` (``30;w=300``) is sent, its quota is the limit."""
    update = _headers(response)
    if update is None or update.limit is not None:
        return update
    policy = response.headers.get("ratelimit-policy", "")
    head = policy.split(",")[0].split(";")[0].strip()
    if head.isdigit():
        return RateLimitUpdate(
            limit=int(head),
            remaining=update.remaining,
            reset_at=update.reset_at,
            reset_after=update.reset_after,
        )
    return update


def _nsid(path: str) -> str:
    return path.rsplit("/xrpc/", 1)[-1].split("?", 1)[0]


_WRITES = frozenset(
    {
        "com.atproto.repo.createRecord",
        "com.atproto.repo.putRecord",
        "com.atproto.repo.deleteRecord",
        "com.atproto.repo.applyWrites",
    }
)


def bucket_for(method: str, path: str) -> str:
    """``login`` for createSession (30 per 5 minutes per account), ``repo-write`` for record
    writes (5,000 points per hour), ``global`` for the rest (3,000 requests per 5 minutes)."""
    nsid = _nsid(path)
    if nsid == "com.atproto.server.createSession":
        return "login"
    if nsid in _WRITES:
        return "repo-write"
    return "global"


def error_name(response: httpx.Response) -> tuple[str | None, str | None]:
    """``(error, message)`` of an XRPC error body, or ``(None, None)``."""
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        return None, None
    if not isinstance(body, dict):
        return None, None
    name, message = body.get("error"), body.get("message")
    return (
        name if isinstance(name, str) and name else None,
        message if isinstance(message, str) and message else None,
    )


def decode_error(response: httpx.Response, network: str) -> APIError:
    """``{"error": Name, "message": text}`` -> the error class for the name (or the status)."""
    status = response.status_code
    name, message = error_name(response)
    plain = response.headers.get("content-type", "").startswith("text/plain")
    if message is None and name is None and response.content and plain:
        message = response.content[:_MAX_MESSAGE].decode("utf-8", "replace").strip() or None
    if message is None:
        message = name or response.reason_phrase or None
    if message is not None:
        message = redact_text(message)[:_MAX_MESSAGE]
    if name is not None:
        name = redact_text(name)[:100]
    cls = _BY_NAME.get(name or "") or error_class_for_status(status)
    if cls is APIError and status == 400:
        cls = InvalidRequestError
    if cls is RateLimitError:
        return RateLimitError(
            network, status, name, message, None, retry_after=parse_retry_after(response)
        )
    return cls(network, status, name, message, None)


def is_no_service(error: APIError) -> bool:
    """Whether the PDS answered that it has no AppView (or chat service) for the method:
    ``InvalidRequest: No service configured for app.bsky.…`` or 501 Not Implemented."""
    if error.status == 501 or error.code == "MethodNotImplemented":
        return True
    return bool(error.message and error.message.startswith("No service configured"))


def make_network(service: str) -> Network:
    return Network(
        name="bluesky",
        base_url=service,
        rate_limit_parser=parse_rate_limit,
        error_decoder=decode_error,
        # 501 (MethodNotImplemented) is permanent: never retried.
        transient_statuses=frozenset({429, 500, 502, 503, 504}),
        idempotency_header=None,
        bucket_for=bucket_for,
    )
