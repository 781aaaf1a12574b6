"""Secrets never reach logs, reprs or exceptions; event hooks see every attempt."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import httpx
import pytest
import respx

import socialkit
from socialkit._errors import OutcomeUnknownError, SocialkitError
from socialkit._http import (
    Network,
    RequestEvent,
    RetryPolicy,
    Session,
    redact_headers,
    redact_text,
    redact_url,
)

BASE = "https://graph.example.test/v19.0"
TOKEN = "EAAB-super-secret-bearer-7f3a9"
PASSWORD = "hunter2-correct-horse"
QUERY_TOKEN = "qs-access-token-55c1d0"
SECRETS = (TOKEN, PASSWORD, QUERY_TOKEN)

pytestmark = pytest.mark.anyio


class Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._token = token

    def __repr__(self) -> str:
        return "Bearer(***)"

    def auth_flow(self, request: httpx.Request):  # type: ignore[override]
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def exception_texts(error: BaseException) -> list[str]:
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    seen = error.__cause__ or error.__context__
    while seen is not None:
        texts += [str(seen), repr(seen)]
        seen = seen.__cause__ or seen.__context__
    return texts


def assert_clean(texts: list[str]) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, f"secret leaked into: {text[:300]}"


@respx.mock
async def test_no_secret_in_logs_reprs_or_errors(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)  # every logger, httpx's own included
    # The server echoes the body back in its error, as some do.
    respx.post(f"{BASE}/oauth/access_token").mock(
        side_effect=[
            httpx.Response(500, json={"error": {"message": f"boom password={PASSWORD}"}}),
        ]
    )
    respx.get(f"{BASE}/me").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, json={"id": "1"}),
            httpx.ReadTimeout(f"timed out GET {BASE}/me?access_token={QUERY_TOKEN}"),
            httpx.ReadTimeout("again"),
            httpx.ReadTimeout("again"),
            httpx.ReadTimeout("again"),
        ]
    )
    errors: list[BaseException] = []
    events: list[RequestEvent] = []
    async with httpx.AsyncClient() as client:
        session = Session(
            Network("graph", BASE),
            client=client,
            auth=Bearer(TOKEN),
            retry=RetryPolicy(wait=False),
            hooks=[events.append],
        )
        form = {"username": "me", "password": PASSWORD, "grant_type": "password"}
        try:
            await session.request("POST", "/oauth/access_token", data=form)
        except SocialkitError as exc:
            errors.append(exc)
        await session.request("GET", "/me", params={"access_token": QUERY_TOKEN})
        try:
            await session.request("GET", f"/me?access_token={QUERY_TOKEN}")
        except SocialkitError as exc:
            errors.append(exc)
        texts = [repr(session), str(session)]
    assert len(errors) == 2
    assert isinstance(errors[0], OutcomeUnknownError)
    # The logs did happen (so the test can fail): requests, statuses and retries are there.
    messages = [record.getMessage() for record in caplog.records]
    assert any("/oauth/access_token" in m for m in messages)
    assert any("HTTP Request" in m for m in messages)  # httpx's own line, filtered
    assert any("[REDACTED]" in m for m in messages)
    assert len(events) == 7
    texts += [*messages, caplog.text]
    texts += [repr(e) for e in events]
    for error in errors:
        texts += exception_texts(error)
    assert_clean(texts)


def test_redact_helpers():
    url = f"https://u:{PASSWORD}@x.test/p?a=1&access_token={QUERY_TOKEN}&client_secret=s3"
    text = redact_url(url)
    assert PASSWORD not in text
    assert QUERY_TOKEN not in text
    assert "s3" not in text
    assert "a=1" in text
    assert redact_url("https://x.test/plain") == "https://x.test/plain"
    # Signed URLs (an upload URL, a pre-signed media URL): what redact_text hides in free
    # text, redact_url hides too; the other parameters stay legible.
    signed = redact_url(
        "https://b.s3.amazonaws.com/a.jpg?X-Amz-Date=20261206T000000Z&X-Amz-Expires=60"
        f"&X-Amz-Signature={QUERY_TOKEN}&X-Amz-Security-Token=FQoG{QUERY_TOKEN}"
        f"&X-Goog-Signature={QUERY_TOKEN}&pageToken=keep&x-key-id=kept"
    )
    assert QUERY_TOKEN not in signed
    assert "X-Amz-Signature=[REDACTED]" in signed
    assert "X-Amz-Date=20261206T000000Z&X-Amz-Expires=60" in signed
    assert "pageToken=keep&x-key-id=kept" in signed
    assert redact_text(f"password={PASSWORD}&x=1") == "password=[REDACTED]&x=1"
    assert redact_text(f"Authorization: Bearer {TOKEN}") == "Authorization: Bearer [REDACTED]"
    assert redact_text(f'{{"refresh_token": "{TOKEN}"}}') == '{"refresh_token": "[REDACTED]"}'
    headers = redact_headers({"Authorization": f"Bearer {TOKEN}", "Cookie": "sid=1", "A": "b"})
    assert headers == {"Authorization": "[REDACTED]", "Cookie": "[REDACTED]", "A": "b"}


@respx.mock
async def test_event_hooks_sync_and_async():
    respx.get(f"{BASE}/x").mock(side_effect=[httpx.Response(500), httpx.Response(200)])
    respx.post(f"{BASE}/p").mock(side_effect=httpx.ReadTimeout("slow"))
    sync_events: list[RequestEvent] = []
    async_events: list[RequestEvent] = []

    async def record(event: RequestEvent) -> None:
        async_events.append(event)

    def broken(event: RequestEvent) -> Any:
        raise RuntimeError("metrics backend down")

    async with httpx.AsyncClient() as client:
        session = Session(
            Network("graph", BASE),
            client=client,
            account="acct-1",
            retry=RetryPolicy(wait=False),
            hooks=[sync_events.append, record, broken],
        )
        await session.request("GET", "/x", params={"access_token": QUERY_TOKEN})
        with pytest.raises(OutcomeUnknownError):
            await session.request("POST", "/p", json={})
    assert sync_events == async_events
    first, second, third = sync_events
    assert (first.attempt, first.status, first.error) == (1, 500, "ServerError")
    assert (second.attempt, second.status, second.error) == (2, 200, None)
    assert (third.method, third.kind, third.status, third.error) == (
        "POST",
        "create",
        None,
        "ReadTimeout",
    )
    assert first.network == "graph"
    assert first.account == "acct-1"
    assert first.bucket == "default"
    assert first.elapsed >= 0.0
    assert QUERY_TOKEN not in first.url
    assert "access_token=" in first.url


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # Servers echo credentials back in error messages in many shapes.
        (
            "Invalid bearer token AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid",
            "AAAAAAAAAAAAAAAAAAAAAMLhe",
        ),
        (
            "Token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl is expired",
            "eyJhbGciOiJIUzI1NiJ9",
        ),
        ('{"accessJwt": "opaque-session-value", "did": "did:plc:x"}', "opaque-session-value"),
        ("{'access_token': 'tok_12345678'}", "tok_12345678"),
        ("redirect to https://app.example/cb#access_token=FRAGSECRET&state=1", "FRAGSECRET"),
        ("DPoP proof-value-1234567 rejected", "proof-value-1234567"),
        ("Error connecting to redis://:pw-in-url-1@127.0.0.1:6379/0", "pw-in-url-1"),
        ("could not connect: postgresql://app:pw-in-url-2@db.local/app", "pw-in-url-2"),
        (
            "PUT https://open-upload.tiktokapis.com/video/?upload_id=67890&upload_token=up-Tok-9x7",
            "up-Tok-9x7",
        ),
    ],
)
def test_redact_text_covers_echoed_credentials(text: str, secret: str) -> None:
    from socialkit._http import redact_text, redact_url

    assert secret not in redact_text(text)
    for word in text.split():
        if "://" in word:
            assert secret not in redact_url(word)


def test_redact_text_keeps_ordinary_words() -> None:
    from socialkit._http import redact_text

    assert redact_text("error code: 190; the password was wrong") == (
        "error code: 190; the password was wrong"
    )
    # An address with no user info, and a mention, stay as they are.
    assert redact_text("write to team@example.com or https://example.com/@alice") == (
        "write to team@example.com or https://example.com/@alice"
    )


@pytest.mark.anyio
async def test_a_printed_traceback_of_a_transport_error_shows_no_token() -> None:
    import traceback

    router = respx.MockRouter(assert_all_mocked=True)
    router.get("https://tb.example/me").mock(
        side_effect=httpx.ReadTimeout("timed out on /me?access_token=QTOKEN-123")
    )
    network = Network("tb", "https://tb.example")
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as client:
        session = Session(network, client=client, retry=RetryPolicy(attempts=1, wait=False))
        with pytest.raises(socialkit.TimeoutError) as info:
            await session.request("GET", "/me")
    printed = "".join(traceback.format_exception(info.value))
    assert "QTOKEN-123" not in printed
    assert "ReadTimeout" in printed


def test_api_errors_clean_what_the_server_echoed() -> None:
    error = socialkit.AuthError("x", 401, "invalid", "Invalid bearer token abcdef0123456789")
    assert "abcdef0123456789" not in str(error)
    assert "abcdef0123456789" not in (error.message or "")
