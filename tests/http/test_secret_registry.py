"""Exact secrets are redacted, not only what looks like one (issue 12 #8).

An opaque token (random hex, no ``Bearer``/``token=``/JWT shape) echoed by a server in an
error body used to reach exception text and logs. Every token here is such a value, made fresh
per test, and each test checks the exception's text, its chained traceback and the log records.
"""

from __future__ import annotations

import json
import logging
import secrets
import traceback
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import httpx
import pytest
from pydantic import SecretStr

from socialkit._errors import AuthError, OutcomeUnknownError, PermissionError, TransportError
from socialkit._http import (
    Network,
    RetryPolicy,
    SecretRegistry,
    Session,
    make_client,
    redact_text,
    redact_url,
    register_secret,
)
from socialkit._store import MemoryStore
from socialkit.auth import (
    BearerAuth,
    OAuth1Auth,
    OAuth2Auth,
    OAuth2Client,
    OAuth2Config,
    Token,
    TokenStore,
)

pytestmark = pytest.mark.anyio

BASE = "https://api.example.test"


def opaque() -> str:
    return secrets.token_hex(20)


def texts_of(error: BaseException) -> str:
    parts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    seen = error.__cause__ or error.__context__
    while seen is not None:
        parts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    return "\n".join(parts)


def echoing(status: int) -> httpx.MockTransport:
    """A server that quotes the credential it got back in its error message."""

    def handler(request: httpx.Request) -> httpx.Response:
        sent = request.headers.get("authorization", "").split(" ")[-1]
        return httpx.Response(
            status, json={"error": f"credential {sent} is not valid for {request.url.path}"}
        )

    return httpx.MockTransport(handler)


async def test_an_opaque_token_echoed_in_an_error_body_is_never_shown(
    caplog: pytest.LogCaptureFixture,
):
    token = opaque()
    session = Session(
        Network("example", BASE),
        client=make_client(transport=echoing(401)),
        auth=BearerAuth(token),
        retry=RetryPolicy(wait=False),
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as info:
        await session.request("GET", "/me")
    assert "credential [REDACTED] is not valid for /me" in str(info.value)
    # The application logs what it caught, traceback and all.
    logging.getLogger("app").exception("the call failed: %s", info.value)
    logging.getLogger("socialkit.http").error("failed", exc_info=info.value)
    text = texts_of(info.value) + caplog.text
    assert token not in text
    assert "[REDACTED]" in caplog.text


async def test_a_refreshed_token_is_redacted_too(caplog: pytest.LogCaptureFixture):
    old, refresh, fresh = opaque(), opaque(), opaque()

    def token_endpoint(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={"access_token": fresh, "token_type": "Bearer", "expires_in": 3600},
        )

    config = OAuth2Config(
        network="example",
        authorization_endpoint="https://auth.example.test/authorize",
        token_endpoint="https://auth.example.test/token",
        client_id="client-1",
    )
    client = OAuth2Client(
        config, http=httpx.AsyncClient(transport=httpx.MockTransport(token_endpoint))
    )
    store = TokenStore(MemoryStore())
    expired = datetime.now(timezone.utc) - timedelta(minutes=5)
    await store.put(
        "example",
        "alice",
        Token(access_token=SecretStr(old), refresh_token=SecretStr(refresh), expires_at=expired),
    )
    auth = OAuth2Auth(client, store, account="alice")
    session = Session(
        Network("example", BASE),
        client=make_client(transport=echoing(403)),
        auth=auth,
        retry=RetryPolicy(wait=False),
    )
    caplog.set_level(logging.DEBUG)
    with pytest.raises(PermissionError) as info:
        await session.request("GET", "/me")
    assert auth.refreshes == 1
    logging.getLogger("socialkit.auth").warning("refresh gave %s", fresh)
    text = texts_of(info.value) + caplog.text
    for value in (old, refresh, fresh):
        assert value not in text


async def test_a_create_whose_answer_echoes_the_token_chains_cleanly():
    token = opaque()
    session = Session(
        Network("example", BASE),
        client=make_client(transport=echoing(503)),
        auth=BearerAuth(token),
        retry=RetryPolicy(wait=False),
    )
    with pytest.raises(OutcomeUnknownError) as info:
        await session.request("POST", "/statuses", json={"status": "hi"})
    assert info.value.__cause__ is not None  # the network's 503, kept as the cause
    assert token not in texts_of(info.value)


async def test_a_transport_failure_with_the_token_in_its_url_is_clean():
    token = opaque()
    register_secret(token)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"could not reach {request.url}")

    session = Session(
        Network("example", BASE),
        client=make_client(transport=httpx.MockTransport(refuse)),
        retry=RetryPolicy(wait=False),
    )
    with pytest.raises(TransportError) as info:
        await session.request("GET", f"/hooks/{token}/ping")
    assert "/hooks/[REDACTED]/ping" in str(info.value)
    assert token not in texts_of(info.value)


def test_settings_and_schemes_register_what_they_hold():
    from socialkit.adapters.mastodon import MastodonSettings

    setting, bearer, consumer, token_secret, client_secret = (opaque() for _ in range(5))
    MastodonSettings(instance="https://mastodon.example", access_token=SecretStr(setting))
    BearerAuth(bearer)
    OAuth1Auth("consumer-key", consumer, "token", token_secret)
    OAuth2Client(
        OAuth2Config(
            authorization_endpoint="https://auth.example.test/authorize",
            token_endpoint="https://auth.example.test/token",
            client_id="c",
            client_secret=SecretStr(client_secret),
        )
    )
    for value in (setting, bearer, consumer, token_secret, client_secret):
        assert redact_text(f"echo: {value}.") == "echo: [REDACTED]."
        assert value not in redact_url(f"https://x.example/{value}?q={value}")


def test_encoded_forms_and_short_values():
    registry = SecretRegistry()
    secret = 'abc+/def=ghi"jkl'
    registry.add(SecretStr(secret), None, "short")
    assert registry.redact(f"raw {secret} end") == "raw [REDACTED] end"
    assert registry.redact(f"form {quote(secret, safe='')} end") == "form [REDACTED] end"
    assert registry.redact(json.dumps({"t": secret})) == '{"t": "[REDACTED]"}'
    assert registry.redact("a short word stays") == "a short word stays"  # under 8 characters
    assert secret in registry
    registry.discard(secret)
    assert registry.redact(secret) == secret


def test_the_registry_is_bounded_and_prefers_the_longest_match():
    registry = SecretRegistry(capacity=3)
    registry.add("aaaaaaaa", "aaaaaaaabbbb")
    assert registry.redact("xaaaaaaaabbbbx") == "x[REDACTED]x"
    for index in range(5):
        registry.add(f"value-{index:04d}")
    assert len(registry) == 3
    assert registry.redact("value-0000") == "value-0000"  # the oldest went first
    assert registry.redact("value-0004") == "[REDACTED]"
