"""OAuth2Config / OAuth2Client behaviour that needs no server: validation and error mapping.

Token endpoint answers follow RFC 6749 section 5.2 (error responses).
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr
from pydantic import ValidationError as PydanticValidationError

import socialkit
from socialkit._store import MemoryStore
from socialkit.auth import (
    AuthFlowError,
    OAuth2Auth,
    OAuth2Client,
    OAuth2Config,
    RefreshError,
    StateMismatchError,
    Token,
    TokenStore,
)

pytestmark = pytest.mark.anyio

TOKEN_URL = "https://auth.example.test/token"


def config(**changes: object) -> OAuth2Config:
    values: dict[str, object] = {
        "network": "test",
        "authorization_endpoint": "https://auth.example.test/authorize",
        "token_endpoint": TOKEN_URL,
        "client_id": "client-1",
        "scopes": ("read", "write"),
        "redirect_uri": "http://127.0.0.1:8765/callback",
    }
    values.update(changes)
    return OAuth2Config.model_validate(values)


def client_answering(handler: object, **changes: object) -> OAuth2Client:
    transport = httpx.MockTransport(handler)  # type: ignore[arg-type]
    return OAuth2Client(config(**changes), http=httpx.AsyncClient(transport=transport))


def token(refresh: str | None = "r-old") -> Token:
    return Token(
        access_token=SecretStr("a-old-0123456789"),
        refresh_token=SecretStr(refresh) if refresh else None,
    )


def test_config_validation() -> None:
    with pytest.raises(PydanticValidationError, match="absolute http"):
        config(token_endpoint="/token")
    with pytest.raises(PydanticValidationError, match="needs a client_secret"):
        config(token_endpoint_auth_method="client_secret_post")
    with pytest.raises(PydanticValidationError):
        config(client_id="")
    assert config().auth_method == "none"
    assert config(client_secret=SecretStr("s")).auth_method == "client_secret_basic"
    assert "s3cr3t" not in repr(config(client_secret=SecretStr("s3cr3t")))


def test_authorization_url_parameters() -> None:
    client = OAuth2Client(config(scope_separator=",", authorization_params={"prompt": "consent"}))
    url = client.authorization_url("st", "v" * 43, extra="1")
    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    assert query == {
        "response_type": "code",
        "client_id": "client-1",
        "redirect_uri": "http://127.0.0.1:8765/callback",
        "state": "st",
        "scope": "read,write",
        "prompt": "consent",
        "extra": "1",
        "code_challenge": query["code_challenge"],
        "code_challenge_method": "S256",
    }
    with pytest.raises(socialkit.ConfigurationError, match="RFC 7636"):
        client.authorization_url("st", "short")
    with pytest.raises(socialkit.ConfigurationError, match="RFC 7636"):
        client.authorization_url("st", "v" * 42 + "+")
    with pytest.raises(socialkit.ConfigurationError, match="state"):
        client.authorization_url("", "v" * 43)


def test_begin_makes_fresh_secrets() -> None:
    client = OAuth2Client(config())
    one, two = client.begin(), client.begin()
    assert one.state != two.state
    assert one.code_verifier != two.code_verifier
    assert len(one.code_verifier.get_secret_value()) == 64
    assert one.code_verifier.get_secret_value() not in repr(one)


def test_parse_redirect() -> None:
    client = OAuth2Client(config(issuer="https://auth.example.test"))
    base = "http://127.0.0.1:8765/callback?"
    assert client.parse_redirect(base + "code=c&state=s", expected_state="s") == "c"
    with pytest.raises(StateMismatchError):
        client.parse_redirect(base + "code=c&state=x", expected_state="s")
    with pytest.raises(StateMismatchError):
        client.parse_redirect(base + "code=c", expected_state="s")
    with pytest.raises(AuthFlowError, match="access_denied: the user said no"):
        client.parse_redirect(
            base + "error=access_denied&error_description=the+user+said+no&state=s",
            expected_state="s",
        )
    with pytest.raises(AuthFlowError, match="another issuer"):
        client.parse_redirect(base + "code=c&state=s&iss=https://evil.test", expected_state="s")
    with pytest.raises(AuthFlowError, match="no code"):
        client.parse_redirect({"state": "s"}, expected_state="s")


async def test_refresh_sends_the_rfc_6749_request_and_keeps_an_unrotated_refresh_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"access_token": "a-new", "expires_in": 60})

    client = client_answering(handler, client_secret=SecretStr("sec"))
    new = await client.refresh(token())
    body = parse_qs(seen[0].content.decode())
    assert body == {"grant_type": ["refresh_token"], "refresh_token": ["r-old"]}
    assert seen[0].headers["authorization"].startswith("Basic ")
    assert new.access_token.get_secret_value() == "a-new"
    assert new.refresh_token == token().refresh_token


@pytest.mark.parametrize(
    ("status", "payload", "error", "code"),
    [
        (400, {"error": "invalid_grant"}, RefreshError, "invalid_grant"),
        (401, {"error": "invalid_client"}, socialkit.AuthError, "invalid_client"),
        (400, {"error": "invalid_client"}, socialkit.AuthError, "invalid_client"),
        (400, {"error": "invalid_scope"}, socialkit.ValidationError, "invalid_scope"),
        (503, {}, socialkit.ServerError, None),
    ],
)
async def test_token_endpoint_errors_are_typed(
    status: int, payload: dict[str, str], error: type[Exception], code: str | None
) -> None:
    client = client_answering(lambda request: httpx.Response(status, json=payload))
    with pytest.raises(error) as caught:
        await client.refresh(token())
    assert isinstance(caught.value, socialkit.APIError)
    assert caught.value.code == code
    assert "r-old" not in str(caught.value)


async def test_a_malformed_token_answer_does_not_leak_what_it_holds() -> None:
    client = client_answering(
        lambda request: httpx.Response(
            200, json={"access_token": "leaked-0123456789", "expires_in": "soon"}
        )
    )
    with pytest.raises(AuthFlowError) as caught:
        await client.refresh(token())
    assert "leaked" not in str(caught.value)
    client = client_answering(
        lambda request: httpx.Response(200, json={"access_token": ["leaked-0123456789"]})
    )
    with pytest.raises(AuthFlowError, match="no access_token") as caught:
        await client.refresh(token())
    assert "leaked" not in str(caught.value)
    client = client_answering(lambda request: httpx.Response(200, text="<html>"))
    with pytest.raises(AuthFlowError, match="JSON"):
        await client.refresh(token())


async def test_transport_failures_are_typed() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    with pytest.raises(socialkit.TransportError):
        await client_answering(refuse).refresh(token())
    with pytest.raises(socialkit.TimeoutError):
        await client_answering(slow).refresh(token())


async def test_revoke_needs_an_endpoint() -> None:
    with pytest.raises(socialkit.ConfigurationError, match="revocation_endpoint"):
        await OAuth2Client(config()).revoke(token())


async def test_refresh_before_expiry_uses_the_leeway() -> None:
    from datetime import datetime, timedelta, timezone

    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(
            200,
            json={"access_token": f"a-{calls}", "refresh_token": f"r-{calls}", "expires_in": 3600},
        )

    client = client_answering(handler)
    store = TokenStore(MemoryStore())
    soon = datetime.now(timezone.utc) + timedelta(seconds=90)
    await store.put("test", "me", token().model_copy(update={"expires_at": soon}))
    relaxed = OAuth2Auth(client, store, account="me", leeway=60)
    assert (await relaxed.token()).access_token.get_secret_value() == "a-old-0123456789"
    assert calls == 0
    eager = OAuth2Auth(client, store, account="me", leeway=120)
    assert (await eager.token()).access_token.get_secret_value() == "a-1"
    assert calls == 1
    stored = await store.get("test", "me")
    assert stored is not None
    assert stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() == "r-1"
    # A forced refresh through the other object finds its stale token already replaced in the
    # store: it takes that one instead of spending the refresh token again.
    assert (await relaxed.refresh()).access_token.get_secret_value() == "a-1"
    assert calls == 1
    # Forced again, now with the current token: a real refresh.
    assert (await relaxed.refresh()).access_token.get_secret_value() == "a-2"
    assert calls == 2


def expired_token(refresh: str = "r-old") -> Token:
    from datetime import datetime, timedelta, timezone

    return token(refresh).model_copy(
        update={"expires_at": datetime.now(timezone.utc) - timedelta(minutes=1)}
    )


async def test_requests_queued_behind_a_failed_refresh_fail_with_it_once() -> None:
    # A timeout's outcome is unknown: the queued requests get the same typed error instead of
    # each sending the refresh token again; a request that comes later tries again.
    import asyncio

    calls = 0
    gate = asyncio.Event()

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls == 1:
            await gate.wait()
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"access_token": "a-new", "refresh_token": "r-new"})

    store = TokenStore(MemoryStore())
    await store.put("test", "me", expired_token())
    auth = OAuth2Auth(client_answering(handler), store, account="me")
    queued = [asyncio.ensure_future(auth.token()) for _ in range(10)]
    await asyncio.sleep(0.05)
    gate.set()
    results = await asyncio.gather(*queued, return_exceptions=True)
    assert calls == 1
    assert all(isinstance(r, socialkit.TimeoutError) for r in results)
    assert len({id(r) for r in results}) == 10  # one exception object per request
    assert {str(r) for r in results} == {"test: the token endpoint did not answer in time"}
    assert (await auth.token()).access_token.get_secret_value() == "a-new"
    assert calls == 2


async def test_a_refused_refresh_is_remembered_until_a_new_login() -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if parse_qs(request.content.decode())["refresh_token"] == ["r-old"]:
            return httpx.Response(400, json={"error": "invalid_grant", "error_description": "gone"})
        return httpx.Response(200, json={"access_token": "a-new", "refresh_token": "r-2"})

    store = TokenStore(MemoryStore())
    await store.put("test", "me", expired_token())
    client = client_answering(handler)
    with pytest.raises(RefreshError) as first:
        await OAuth2Auth(client, store, account="me").token()
    # Another object (another process, in effect) fails at once with the same error.
    with pytest.raises(RefreshError) as again:
        await OAuth2Auth(client, store, account="me").token()
    assert calls == 1
    assert str(again.value) == str(first.value)
    assert again.value.status == 400
    assert again.value.code == "invalid_grant"
    # The lease record names the refused token by its SHA-256 fingerprint, never by itself.
    leases = str(await store.store.items("socialkit.token-leases"))
    assert "refused" in leases
    assert "r-old" not in leases
    # A new login stores another refresh token: the refusal no longer applies to it.
    await store.put("test", "me", expired_token("r-fresh"))
    assert (
        await OAuth2Auth(client, store, account="me").token()
    ).access_token.get_secret_value() == "a-new"
    assert calls == 2


async def test_a_client_named_otherwise_with_a_hex_challenge() -> None:
    """TikTok's shape: the client is `client_key` in the URL and, with client_secret_post, in
    the token request; the S256 challenge is hex (https://developers.tiktok.com/doc/login-kit-desktop)."""
    import hashlib

    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(parse_qs(request.content.decode()))
        return httpx.Response(200, json={"access_token": "a-new-0123456789", "expires_in": 60})

    client = client_answering(
        handler,
        client_secret=SecretStr("s3cret"),
        token_endpoint_auth_method="client_secret_post",
        client_id_parameter="client_key",
        code_challenge_encoding="hex",
        scope_separator=",",
    )
    request = client.begin()
    query = parse_qs(urlsplit(request.url).query)
    assert query["client_key"] == ["client-1"]
    assert "client_id" not in query
    assert query["scope"] == ["read,write"]
    verifier = request.code_verifier.get_secret_value()
    assert query["code_challenge"] == [hashlib.sha256(verifier.encode()).hexdigest()]
    await client.complete(request, f"{request.redirect_uri}?code=c1&state={request.state}")
    assert seen[0]["client_key"] == ["client-1"]
    assert seen[0]["client_secret"] == ["s3cret"]
    assert "client_id" not in seen[0]
    await client.aclose()


async def test_a_refresh_token_past_its_own_expiry_is_not_sent() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json={"access_token": "a-new-0123456789"})

    client = client_answering(handler)
    spent = Token.from_response(
        {"access_token": "a-old-0123456789", "refresh_token": "r-old", "refresh_expires_in": -1}
    )
    with pytest.raises(RefreshError, match="log in again") as info:
        await client.refresh(spent)
    assert info.value.code == "refresh_token_expired"
    assert calls == []
    await client.aclose()


@pytest.mark.parametrize(
    "answer",
    [
        # Business Login for Instagram's documented answer (a one-item ``data`` list) ...
        # https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/business-login
        {"data": [{"access_token": "a-new-0123456789", "user_id": "1020", "permissions": "x,y"}]},
        # ... and its reference page's flat one (user_id an integer).
        # https://developers.facebook.com/docs/instagram-platform/reference/oauth-access-token
        {"access_token": "a-new-0123456789", "user_id": 1020},
    ],
)
async def test_a_server_without_pkce_and_instagrams_token_answers(answer: object) -> None:
    seen: list[dict[str, list[str]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(parse_qs(request.content.decode()))
        return httpx.Response(200, json=answer)

    client = client_answering(
        handler,
        client_secret=SecretStr("s3cret"),
        token_endpoint_auth_method="client_secret_post",
        pkce=False,
    )
    request = client.begin()
    query = parse_qs(urlsplit(request.url).query)
    assert "code_challenge" not in query
    assert "code_challenge_method" not in query
    got = await client.complete(request, f"{request.redirect_uri}?code=c1&state={request.state}")
    assert got.access_token.get_secret_value() == "a-new-0123456789"
    assert str(got.extra["user_id"]) == "1020"
    assert "code_verifier" not in seen[0]
    assert seen[0]["code"] == ["c1"]
    await client.aclose()


async def test_instagrams_refusal_of_a_code_is_an_auth_flow_error() -> None:
    """Business Login for Instagram's sample rejected response."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={
                "error_type": "OAuthException",
                "code": 400,
                "error_message": "Matching code was not found or was already used",
            },
        )

    client = client_answering(handler, pkce=False)
    request = client.begin()
    with pytest.raises(AuthFlowError, match="Matching code was not found") as info:
        await client.complete(request, f"{request.redirect_uri}?code=c1&state={request.state}")
    assert info.value.code == "OAuthException"
    await client.aclose()
