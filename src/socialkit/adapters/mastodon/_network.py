"""How the pipeline talks to a Mastodon server: rate-limit headers (reset as an ISO time),
the ``media`` and ``delete`` buckets, ``{"error": ...}`` bodies and the ``Idempotency-Key`` that
makes a retried ``POST /api/v1/statuses`` safe."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx

from socialkit._errors import APIError, RateLimitError, error_class_for_status

if TYPE_CHECKING:
    from socialkit._http import Network

__all__ = ["bucket_for", "decode_error", "make_network"]


def make_network(name: str, base_url: str) -> Network:
    """The pipeline's description of the server at ``base_url``."""
    from socialkit._http import Network, header_rate_limit_parser

    return Network(
        name=name,
        base_url=base_url,
        rate_limit_parser=header_rate_limit_parser(reset_kind="iso"),
        error_decoder=decode_error,
        # Only status creation honours the key (schema.json); media uploads, app
        # registration and the token exchange are therefore never resent blindly.
        idempotency_header="Idempotency-Key",
        idempotent_paths=frozenset({"/api/v1/statuses"}),
        bucket_for=bucket_for,
    )


def bucket_for(method: str, path: str) -> str:
    """Mastodon's separate limits: media uploads and deletions (30 per 30 minutes each)."""
    if path.startswith(("https://", "http://")):
        path = httpx.URL(path).path
    path = path.rstrip("/")
    if method == "POST" and path.endswith("/api/v2/media"):
        return "media"
    if method == "DELETE" and "/api/v1/statuses/" in path:
        return "delete"
    return "default"


def decode_error(response: httpx.Response, network: str) -> APIError:
    """Mastodon's error body ``{"error": "...", "error_description"?: "..."}`` (schema
    ``Error``; ``ValidationError`` adds ``details``) as the matching :class:`APIError`.

    ``error`` is a sentence ("Validation failed: Text can't be blank", "Record not found"),
    except on the OAuth endpoints, where it is a code (``invalid_grant``) and
    ``error_description`` the sentence."""
    from socialkit._http import parse_retry_after, redact_text

    status = response.status_code
    code: str | None = None
    message: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        description = body.get("error_description")
        if isinstance(description, str) and description.strip():
            code = error if isinstance(error, str) else None
            message = description.strip()
        elif isinstance(error, str) and error.strip():
            message = error.strip()
    if message is None:
        message = response.reason_phrase or f"HTTP {status}"
    message = redact_text(message)[:500]
    request_id = response.headers.get("x-request-id")
    cls = error_class_for_status(status)
    if cls is RateLimitError:
        return RateLimitError(
            network, status, code, message, request_id, retry_after=parse_retry_after(response)
        )
    return cls(network, status, code, message, request_id)
