"""How socialkit's HTTP pipeline talks to Chirp: rate-limit headers, error bodies, idempotency.

The pipeline (``socialkit._http.Session``) does the retries, the rate-limit waits and the
secret redaction for every adapter; an adapter only describes its network once, here.
"""

from __future__ import annotations

import httpx
from socialkit import APIError, RateLimitError
from socialkit._errors import error_class_for_status
from socialkit._http import Network, header_rate_limit_parser, parse_retry_after, redact_text

__all__ = ["decode_error", "make_network"]


def decode_error(response: httpx.Response, network: str) -> APIError:
    """Chirp's error body ``{"error": {"code": "...", "message": "..."}}`` as an APIError."""
    code: str | None = None
    message: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        raw_code, raw_message = body["error"].get("code"), body["error"].get("message")
        code = raw_code if isinstance(raw_code, str) else None
        message = raw_message if isinstance(raw_message, str) else None
    # The server may echo what it was sent: never let a token reach an error message.
    message = redact_text(message or response.reason_phrase or f"HTTP {response.status_code}")
    request_id = response.headers.get("x-request-id")
    cls = error_class_for_status(response.status_code)
    if cls is RateLimitError:
        return RateLimitError(
            network,
            response.status_code,
            code,
            message,
            request_id,
            retry_after=parse_retry_after(response),
        )
    return cls(network, response.status_code, code, message, request_id)


def make_network(base_url: str) -> Network:
    """Chirp's description for the pipeline."""
    return Network(
        name="chirp",
        base_url=base_url,
        # RateLimit-Reset is "seconds from now".
        rate_limit_parser=header_rate_limit_parser(
            "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", reset_kind="delta"
        ),
        error_decoder=decode_error,
        # Chirp keeps a create's answer for 24 hours under its Idempotency-Key: a create
        # retried with the same key never publishes twice.
        idempotency_header="Idempotency-Key",
        idempotent_paths=frozenset({"/v1/posts"}),
    )
