"""Meta webhooks (Facebook Pages, Instagram, Threads): verification and delivery signatures.

Subscribing a callback URL, Meta sends ``GET ?hub.mode=subscribe&hub.verify_token=...&
hub.challenge=...``: answer the challenge as plain text when the verify token is the one the
app configured (:func:`verify_subscription`). Each delivery is a POST whose
``X-Hub-Signature-256`` header is ``sha256=`` + the hex HMAC-SHA256 of the raw body keyed with
the app secret; :func:`verify_signature` recomputes it and compares in constant time
(:func:`hmac.compare_digest`). The signature carries no timestamp and Meta retries deliveries,
so :func:`check_delivery` can, opt-in, accept each delivery once through an
:class:`~socialkit.webhooks.EventDeduplicator` (the id is the SHA-256 of the raw body).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr

from socialkit._errors import ValidationError

if TYPE_CHECKING:
    from socialkit.webhooks import EventDeduplicator

__all__ = [
    "SIGNATURE_HEADER",
    "check_delivery",
    "delivery_id",
    "signature",
    "verify_signature",
    "verify_subscription",
]

#: The header of a delivery that carries its signature.
SIGNATURE_HEADER = "x-hub-signature-256"


def _secret(app_secret: str | SecretStr) -> bytes:
    value = app_secret.get_secret_value() if isinstance(app_secret, SecretStr) else app_secret
    if not value:
        raise ValidationError("the app secret must not be empty")
    return value.encode("utf-8")


def signature(body: bytes | str, app_secret: str | SecretStr) -> str:
    """``sha256=`` + the hex HMAC-SHA256 of ``body`` keyed with the app secret."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return "sha256=" + hmac.new(_secret(app_secret), data, hashlib.sha256).hexdigest()


def verify_signature(body: bytes | str, header: str | None, app_secret: str | SecretStr) -> bool:
    """Whether ``header`` (the ``X-Hub-Signature-256`` value) signs the raw ``body``; the
    comparison takes the same time whatever the header holds."""
    if not header:
        return False
    expected = signature(body, app_secret).encode("ascii")
    try:
        given = header.strip().lower().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)


def verify_subscription(params: Mapping[str, str], verify_token: str | SecretStr) -> str | None:
    """The ``hub.challenge`` to answer (HTTP 200, plain text) when the query is a
    subscription check carrying the app's verify token; ``None`` (answer 403) otherwise."""
    expected = (
        verify_token.get_secret_value() if isinstance(verify_token, SecretStr) else verify_token
    )
    if not expected:
        raise ValidationError("the verify token must not be empty")
    if params.get("hub.mode") != "subscribe":
        return None
    given = params.get("hub.verify_token") or ""
    if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
        return None
    challenge = params.get("hub.challenge")
    return challenge if challenge else None


def delivery_id(body: bytes | str) -> str:
    """The id a delivery is deduplicated on: the hex SHA-256 of its raw body."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def check_delivery(
    body: bytes | str,
    header: str | None,
    app_secret: str | SecretStr,
    *,
    deduplicator: EventDeduplicator | None = None,
) -> Literal["new", "duplicate", "invalid"]:
    """Verify a delivery, then (with a ``deduplicator``) claim it: ``"invalid"`` (answer 403,
    handle nothing), ``"duplicate"`` (a replay or Meta's retry: answer 200, handle nothing) or
    ``"new"``. If handling fails, ``deduplicator.forget(delivery_id(body))`` lets the retry in."""
    if not verify_signature(body, header, app_secret):
        return "invalid"
    if deduplicator is not None and not await deduplicator.first_seen(delivery_id(body)):
        return "duplicate"
    return "new"
