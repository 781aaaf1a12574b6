"""Webhook helpers: the CRC answer and the delivery signature, against values computed here
independently with hmac / hashlib / base64 from fixed inputs."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from pydantic import SecretStr

from socialkit.adapters.x import SIGNATURE_HEADER, crc_response, verify_signature

SECRET = "consumer-secret-for-webhooks"
CRC_TOKEN = "9b4507b3-8c2d-4c1f-9d2b-5f4e2a1c0b7d"
BODY = b'{"for_user_id":"2244994945","tweet_create_events":[{"id_str":"1"}]}'


def _expected(message: bytes) -> str:
    digest = hmac.new(SECRET.encode(), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode()


def test_crc_response() -> None:
    answer = crc_response(CRC_TOKEN, SECRET)
    assert answer == {"response_token": _expected(CRC_TOKEN.encode())}
    assert crc_response(CRC_TOKEN, SecretStr(SECRET)) == answer
    # A fixed vector, written out: HMAC-SHA256(key="secret", msg="token"), base64.
    assert crc_response("token", "secret") == {
        "response_token": "sha256="
        + base64.b64encode(hmac.new(b"secret", b"token", hashlib.sha256).digest()).decode()
    }


def test_signature_check() -> None:
    assert SIGNATURE_HEADER == "x-twitter-webhooks-signature"
    good = _expected(BODY)
    assert verify_signature(BODY, good, SECRET)
    assert verify_signature(BODY.decode(), good, SecretStr(SECRET))
    assert not verify_signature(BODY + b" ", good, SECRET)
    assert not verify_signature(BODY, good, SECRET + "x")
    assert not verify_signature(BODY, good[:-2] + "AA", SECRET)
    assert not verify_signature(BODY, None, SECRET)
    assert not verify_signature(BODY, "", SECRET)
    assert not verify_signature(BODY, "sha256=é", SECRET)


def test_compare_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from socialkit.adapters.x import _webhooks as webhooks

    seen: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        seen.append((a, b))
        return real(a, b)

    monkeypatch.setattr(webhooks.hmac, "compare_digest", spy)
    assert verify_signature(BODY, _expected(BODY), SECRET)
    assert seen, "the signature is compared with hmac.compare_digest"


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError):
        crc_response(CRC_TOKEN, "")
