"""Identifiers and tokens of the fake Bluesky: DIDs, TIDs, CIDs, JWTs and the XRPC error.

Written here rather than taken from a library: the atproto SDK is deliberately not a dependency
of socialkit, and each of these is a few lines over ``hashlib``/``base64``/``hmac``.

- DIDs: ``did:plc:`` + 24 base32 characters of a SHA-256, the shape of a real did:plc
  (https://web.plc.directory/spec/v0.1/did-plc).
- TIDs (record keys, chat ids and revisions): https://atproto.com/specs/tid.
- CIDs: CIDv1, base32 multibase, SHA-256 multihash; codec dag-cbor (0x71, ``bafyrei…``) for
  records and commits, raw (0x55, ``bafkrei…``) for blobs (https://atproto.com/specs/data-model).
  The fake hashes canonical JSON instead of DAG-CBOR: the CIDs have the right shape and are
  content-addressed, but are not the CIDs a real PDS computes for the same record.
- JWTs: HS256 over a secret of the fake, with ``scope``, ``sub``, ``aud``, ``iat``, ``exp`` and
  ``jti`` claims, as the reference PDS issues for app-password sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "ACCESS_SCOPE",
    "REFRESH_SCOPE",
    "TID_ALPHABET",
    "XrpcError",
    "encode_tid",
    "is_handle",
    "is_nsid",
    "is_record_key",
    "is_tid",
    "iso",
    "jwt_decode",
    "jwt_encode",
    "make_cid",
    "make_did",
    "parse_datetime",
    "record_cid",
]

ACCESS_SCOPE = "com.atproto.appPass"
REFRESH_SCOPE = "com.atproto.refresh"
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"

_TID = re.compile(r"^[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}$")
_RECORD_KEY = re.compile(r"^[a-zA-Z0-9_~.:-]{1,512}$")
_NSID = re.compile(
    r"^[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+"
    r"(\.[a-zA-Z]([a-zA-Z0-9]{0,62})?)$"
)
_HANDLE = re.compile(
    r"^([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"
)
_DATETIME = re.compile(
    r"^[0-9]{4}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-6][0-9]:[0-6][0-9](\.[0-9]{1,20})?"
    r"(Z|([+-][0-2][0-9]:[0-5][0-9]))$"
)
_FRACTION = re.compile(r"\.(\d+)")


class XrpcError(Exception):
    """An XRPC error answer: ``{"error": name, "message": text}`` with an HTTP status."""

    def __init__(self, status: int, error: str, message: str) -> None:
        super().__init__(f"{status} {error}: {message}")
        self.status = status
        self.error = error
        self.message = message


def _b32(data: bytes) -> str:
    return base64.b32encode(data).decode("ascii").lower().rstrip("=")


def make_did(seed: str) -> str:
    """A did:plc identifier derived from ``seed`` (deterministic)."""
    return "did:plc:" + _b32(hashlib.sha256(seed.encode("utf-8")).digest())[:24]


def make_cid(data: bytes, codec: int) -> str:
    """CIDv1 (base32 multibase ``b``) of ``data`` with a SHA-256 multihash."""
    digest = hashlib.sha256(data).digest()
    return "b" + _b32(bytes([0x01, codec, 0x12, 0x20]) + digest)


def record_cid(value: Any) -> str:
    """The CID of a record value (dag-cbor codec; canonical JSON hashed, see the module doc)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return make_cid(canonical.encode("utf-8"), 0x71)


def encode_tid(micros: int, clock_id: int) -> str:
    """A TID: 53 bits of microseconds since the epoch and 10 bits of clock id, base32-sortable."""
    value = ((micros & ((1 << 53) - 1)) << 10) | (clock_id & 1023)
    chars = []
    for _ in range(13):
        chars.append(TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def is_tid(value: str) -> bool:
    return bool(_TID.match(value))


def is_record_key(value: str) -> bool:
    return value not in (".", "..") and bool(_RECORD_KEY.match(value))


def is_nsid(value: str) -> bool:
    return len(value) <= 317 and bool(_NSID.match(value))


def is_handle(value: str) -> bool:
    return len(value) <= 253 and bool(_HANDLE.match(value))


def iso(moment: datetime) -> str:
    """An AT Protocol datetime with milliseconds and ``Z``."""
    text = moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def parse_datetime(value: str) -> datetime | None:
    """An RFC 3339 datetime as aware UTC, or ``None`` when ``value`` is not one."""
    if not isinstance(value, str) or not _DATETIME.match(value):
        return None
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc)
    except ValueError:
        return None


def _part(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def jwt_encode(claims: dict[str, Any], secret: bytes) -> str:
    """An HS256 JWT of ``claims``."""
    head = _part(
        {"typ": "at+jwt" if claims.get("scope") != REFRESH_SCOPE else "refresh+jwt", "alg": "HS256"}
    )
    body = _part(claims)
    signature = hmac.new(secret, f"{head}.{body}".encode("ascii"), hashlib.sha256).digest()
    return f"{head}.{body}." + base64.urlsafe_b64encode(signature).decode("ascii").rstrip("=")


def jwt_decode(token: str, secret: bytes) -> dict[str, Any]:
    """The claims of a JWT this fake signed; :class:`XrpcError` (400 InvalidToken) otherwise."""
    parts = token.split(".")
    if len(parts) != 3:
        raise XrpcError(400, "InvalidToken", "Malformed token")
    head, body, signature = parts
    expected = hmac.new(secret, f"{head}.{body}".encode("ascii"), hashlib.sha256).digest()
    try:
        given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except ValueError:
        raise XrpcError(400, "InvalidToken", "Malformed token") from None
    if not hmac.compare_digest(given, expected) or not isinstance(claims, dict):
        raise XrpcError(400, "InvalidToken", "Token could not be verified")
    return claims
