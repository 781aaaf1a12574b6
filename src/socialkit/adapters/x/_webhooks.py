"""X webhooks (Account Activity API): the CRC challenge answer and the delivery signature.

X checks a webhook URL with a GET carrying ``crc_token``; the answer is the JSON
``{"response_token": "sha256=<base64 of HMAC-SHA256(consumer secret, crc_token)>"}``.
Each delivery (a POST) carries the header ``x-twitter-webhooks-signature: sha256=<base64 of
HMAC-SHA256(consumer secret, raw body)>``; :func:`verify_signature` recomputes it and compares
in constant time (:func:`hmac.compare_digest`). Both use the app's consumer secret (API key
secret), never a user's token.

The signature has no timestamp, so a recorded delivery replayed later still verifies, and X
retries deliveries. :func:`check_delivery` verifies the signature and, given an
:class:`~socialkit.webhooks.EventDeduplicator`, accepts each delivery once: the id is
:func:`delivery_id`, the SHA-256 of the raw body (Account Activity payloads carry no delivery
id, and a replay or a retry repeats the body byte for byte).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TYPE_CHECKING, Literal

from pydantic import SecretStr

from socialkit._errors import ValidationError

if TYPE_CHECKING:
    from socialkit.webhooks import EventDeduplicator

__all__ = [
    "SIGNATURE_HEADER",
    "check_delivery",
    "crc_response",
    "delivery_id",
    "signature",
    "verify_signature",
]

#: The header of a delivery that carries its signature.
SIGNATURE_HEADER = "x-twitter-webhooks-signature"


def _key(consumer_secret: str | SecretStr) -> bytes:
    secret = (
        consumer_secret.get_secret_value()
        if isinstance(consumer_secret, SecretStr)
        else consumer_secret
    )
    if not secret:
        raise ValidationError("the consumer secret must not be empty")
    return secret.encode("utf-8")


def signature(payload: bytes | str, consumer_secret: str | SecretStr) -> str:
    """``sha256=`` + the base64 HMAC-SHA256 of ``payload`` keyed with the consumer secret."""
    data = payload.encode("utf-8") if isinstance(payload, str) else payload
    digest = hmac.new(_key(consumer_secret), data, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def crc_response(crc_token: str, consumer_secret: str | SecretStr) -> dict[str, str]:
    """The JSON body that answers X's CRC check (``GET ...?crc_token=...``)."""
    if not crc_token:
        raise ValidationError("crc_token must not be empty")
    return {"response_token": signature(crc_token, consumer_secret)}


def verify_signature(
    body: bytes | str, header: str | None, consumer_secret: str | SecretStr
) -> bool:
    """Whether ``header`` (the ``x-twitter-webhooks-signature`` value) signs ``body``.

    ``body`` must be the raw bytes as received (not re-serialised JSON). The comparison takes
    the same time whatever the header holds; a missing or malformed header is simply ``False``.
    """
    if not header:
        return False
    expected = signature(body, consumer_secret).encode("ascii")
    try:
        given = header.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(expected, given)


def delivery_id(body: bytes | str) -> str:
    """The id a delivery is deduplicated on: the hex SHA-256 of its raw body."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    return "sha256:" + hashlib.sha256(data).hexdigest()


async def check_delivery(
    body: bytes | str,
    header: str | None,
    consumer_secret: str | SecretStr,
    *,
    deduplicator: EventDeduplicator | None = None,
) -> Literal["new", "duplicate", "invalid"]:
    """Verify a delivery, then (with a ``deduplicator``) claim it.

    ``"invalid"``: the signature does not match (answer 401, handle nothing); ``"duplicate"``:
    a replay or a retry of a delivery accepted within the deduplicator's ttl (answer 200, handle
    nothing); ``"new"``: handle it. If handling fails, call
    ``deduplicator.forget(delivery_id(body))`` so that X's retry is accepted.
    """
    if not verify_signature(body, header, consumer_secret):
        return "invalid"
    if deduplicator is not None and not await deduplicator.first_seen(delivery_id(body)):
        return "duplicate"
    return "new"
