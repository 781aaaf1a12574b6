"""OAuth 2.0 against a real authorization server: oidc-provider (tests/servers/oidc/server.mjs).

The protocol rules checked here are the server's, not a mock's: RFC 6749 (code grant, refresh),
RFC 7636 (PKCE S256), RFC 7009 (revocation) and refresh token rotation with reuse detection
(RFC 9700 section 4.14.2). The resource requests go to the server's userinfo endpoint, which
answers 401 to an invalid or revoked access token.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from oidc_helpers import OIDCServer, authorize_in_browser, captured_logs
from pydantic import SecretStr

import socialkit
from socialkit._store import MemoryStore, SQLiteStore
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

pytestmark = [pytest.mark.anyio, pytest.mark.integration]

HERE = Path(__file__).parent
NETWORK = "oidc"


class Counter:
    """Counts the requests an httpx client sends to the token endpoint."""

    def __init__(self, token_endpoint: str) -> None:
        self.token_endpoint = token_endpoint
        self.token_requests = 0
        self.grants: list[str] = []

    async def __call__(self, request: httpx.Request) -> None:
        if str(request.url) == self.token_endpoint:
            self.token_requests += 1
            body = parse_qs(request.content.decode())
            self.grants.append(body.get("grant_type", ["?"])[0])


@pytest.fixture
async def counter(oidc_server: OIDCServer) -> Counter:
    return Counter(oidc_server.token_endpoint)


@pytest.fixture
async def http(counter: Counter) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(event_hooks={"request": [counter]}, timeout=10) as client:
        yield client


def public_config(server: OIDCServer, **changes: Any) -> OAuth2Config:
    values: dict[str, Any] = {
        "network": NETWORK,
        "authorization_endpoint": server.authorization_endpoint,
        "token_endpoint": server.token_endpoint,
        "revocation_endpoint": server.revocation_endpoint,
        "client_id": server.public_client_id,
        "scopes": ("openid", "offline_access"),
        "redirect_uri": server.public_redirect_uri,
        "authorization_params": {"prompt": "consent"},
        "issuer": server.issuer,
    }
    values.update(changes)
    return OAuth2Config(**values)


@pytest.fixture
def client(oidc_server: OIDCServer, http: httpx.AsyncClient) -> OAuth2Client:
    return OAuth2Client(public_config(oidc_server), http=http)


async def login(client: OAuth2Client, redirect_prefix: str | None = None) -> Token:
    request = client.begin()
    prefix = redirect_prefix or request.redirect_uri or ""
    redirect = await authorize_in_browser(request.url, prefix)
    return await client.complete(request, redirect)


def expired(token: Token) -> Token:
    return token.model_copy(update={"expires_at": datetime.now(timezone.utc) - timedelta(1)})


async def userinfo(server: OIDCServer, auth: httpx.Auth) -> httpx.Response:
    async with httpx.AsyncClient(auth=auth, timeout=10) as api:
        return await api.get(server.userinfo_endpoint)


# -- the code flow -------------------------------------------------------------------------


async def test_full_code_flow_with_pkce(
    oidc_server: OIDCServer, client: OAuth2Client, counter: Counter
) -> None:
    request = client.begin()
    query = parse_qs(urlsplit(request.url).query)
    verifier = request.code_verifier.get_secret_value()
    assert query["code_challenge_method"] == ["S256"]
    assert query["code_challenge"] == [create_s256_code_challenge(verifier)]
    assert query["state"] == [request.state]
    assert query["scope"] == ["openid offline_access"]
    assert query["client_id"] == [oidc_server.public_client_id]
    assert "code_verifier" not in request.url
    assert verifier not in request.url

    redirect = await authorize_in_browser(request.url, oidc_server.public_redirect_uri)
    before = datetime.now(timezone.utc)
    token = await client.complete(request, redirect)

    assert counter.grants == ["authorization_code"]
    assert token.refresh_token is not None  # offline_access + prompt=consent
    assert token.token_type.lower() == "bearer"
    assert token.scope is not None
    assert set(token.scope.split()) == {"openid", "offline_access"}
    assert token.expires_at is not None
    assert timedelta(seconds=3590) < token.expires_at - before < timedelta(seconds=3610)
    assert "id_token" in token.extra

    store = TokenStore(MemoryStore())
    await store.put(NETWORK, "alice", token)
    response = await userinfo(oidc_server, OAuth2Auth(client, store, account="alice"))
    assert response.status_code == 200
    assert response.json()["sub"] == "alice"


async def test_the_code_cannot_be_exchanged_with_another_verifier(
    oidc_server: OIDCServer, client: OAuth2Client
) -> None:
    request = client.begin()
    redirect = await authorize_in_browser(request.url, oidc_server.public_redirect_uri)
    code = client.parse_redirect(redirect, expected_state=request.state)
    with pytest.raises(AuthFlowError) as caught:
        await client.exchange_code(
            code,
            state=request.state,
            expected_state=request.state,
            code_verifier="x" * 64,
            redirect_uri=request.redirect_uri,
        )
    assert caught.value.code == "invalid_grant"
    assert "PKCE verifier" in str(caught.value)
    assert code not in str(caught.value)


async def test_confidential_client_flow(oidc_server: OIDCServer, http: httpx.AsyncClient) -> None:
    config = public_config(
        oidc_server,
        client_id=oidc_server.confidential_client_id,
        client_secret=SecretStr(oidc_server.confidential_secret),
        redirect_uri=oidc_server.confidential_redirect_uri,
    )
    assert config.auth_method == "client_secret_basic"
    client = OAuth2Client(config, http=http)
    token = await login(client)
    assert token.refresh_token is not None
    refreshed = await client.refresh(token)
    assert not refreshed.same_access(token)

    wrong = OAuth2Client(
        config.model_copy(update={"client_secret": SecretStr("not-the-secret")}), http=http
    )
    with pytest.raises(socialkit.AuthError) as caught:
        await wrong.refresh(refreshed)
    assert caught.value.code == "invalid_client"
    assert "not-the-secret" not in str(caught.value)


async def test_wrong_state_is_refused_before_anything_is_sent(
    oidc_server: OIDCServer, client: OAuth2Client, counter: Counter
) -> None:
    request = client.begin()
    redirect = await authorize_in_browser(request.url, oidc_server.public_redirect_uri)
    forged = redirect.replace(f"state={request.state}", "state=forged-state")
    with pytest.raises(StateMismatchError) as caught:
        await client.complete(request, forged)
    assert isinstance(caught.value, socialkit.AuthError)
    assert "state" in str(caught.value)
    code = client.parse_redirect(redirect, expected_state=request.state)
    with pytest.raises(StateMismatchError):
        await client.exchange_code(
            code,
            state="forged-state",
            expected_state=request.state,
            code_verifier=request.code_verifier,
        )
    assert counter.token_requests == 0
    # The genuine redirect still works: nothing was spent by the refused attempts.
    token = await client.complete(request, redirect)
    assert token.refresh_token is not None


# -- refresh -------------------------------------------------------------------------------


class RecordingStore(MemoryStore):
    """A MemoryStore that records every token it writes, in order, into a shared event list."""

    def __init__(self, events: list[tuple[str, str]]) -> None:
        super().__init__()
        self.events = events

    async def put(self, namespace: str, key: str, value: str) -> None:
        await super().put(namespace, key, value)
        if namespace == TokenStore.namespace:
            self.events.append(("stored", json.loads(value)["access_token"]))

    async def compare_and_set(
        self, namespace: str, key: str, expected: str | None, value: str
    ) -> bool:
        done = await super().compare_and_set(namespace, key, expected, value)
        if done and namespace == TokenStore.namespace:
            self.events.append(("stored", json.loads(value)["access_token"]))
        return done


async def test_refresh_rotates_and_persists_before_use(
    oidc_server: OIDCServer, client: OAuth2Client, counter: Counter
) -> None:
    first = await login(client)
    events: list[tuple[str, str]] = []
    store = TokenStore(RecordingStore(events))
    await store.put(NETWORK, "alice", expired(first))
    auth = OAuth2Auth(client, store, account="alice")

    async def on_request(request: httpx.Request) -> None:
        if str(request.url) == oidc_server.userinfo_endpoint:
            events.append(("used", request.headers["authorization"].removeprefix("Bearer ")))

    async with httpx.AsyncClient(auth=auth, event_hooks={"request": [on_request]}) as api:
        response = await api.get(oidc_server.userinfo_endpoint)
    assert response.status_code == 200

    stored = await store.get(NETWORK, "alice")
    assert stored is not None
    assert stored.refresh_token is not None
    assert first.refresh_token is not None
    new_access = stored.access_token.get_secret_value()
    assert not stored.same_access(first)
    assert stored.refresh_token.get_secret_value() != first.refresh_token.get_secret_value()
    assert stored.expires_at is not None
    assert stored.expires_at > datetime.now(timezone.utc)
    assert counter.grants == ["authorization_code", "refresh_token"]
    assert auth.refreshes == 1
    # The rotated token reached the store before the new access token was first sent.
    assert events.index(("stored", new_access)) < events.index(("used", new_access))
    # The previous refresh token is now spent: the stored one is the only one that works.
    again = await client.refresh(stored)
    assert not again.same_access(stored)


async def test_401_triggers_one_refresh_and_one_retry(
    oidc_server: OIDCServer, client: OAuth2Client, counter: Counter
) -> None:
    token = await login(client)
    store = TokenStore(MemoryStore())
    # An access token the server does not know, not expired on our clock: only the 401 tells.
    bogus = token.model_copy(update={"access_token": SecretStr("not-a-valid-access-token")})
    await store.put(NETWORK, "alice", bogus)
    auth = OAuth2Auth(client, store, account="alice")
    response = await userinfo(oidc_server, auth)
    assert response.status_code == 200
    assert auth.refreshes == 1
    assert counter.grants == ["authorization_code", "refresh_token"]
    assert response.history
    assert response.history[0].status_code == 401


async def test_a_401_after_refresh_is_returned_without_a_second_refresh(
    client: OAuth2Client, counter: Counter
) -> None:
    token = await login(client)
    store = TokenStore(MemoryStore())
    await store.put(NETWORK, "alice", token)
    auth = OAuth2Auth(client, store, account="alice")
    seen: list[str] = []

    def always_401(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(401, json={"error": "invalid_token"})

    async with httpx.AsyncClient(auth=auth, transport=httpx.MockTransport(always_401)) as api:
        response = await api.get("https://api.example.test/v1/me")
    assert response.status_code == 401
    assert auth.refreshes == 1
    assert counter.grants == ["authorization_code", "refresh_token"]
    assert len(seen) == 2
    assert seen[0] != seen[1]  # the retry carried the refreshed token


async def test_reusing_an_old_refresh_token_fails_clearly_and_keeps_the_stored_token(
    oidc_server: OIDCServer, client: OAuth2Client, counter: Counter
) -> None:
    old = await login(client)
    newer = await client.refresh(old)  # rotates: old.refresh_token is now spent
    assert newer.refresh_token is not None
    # A stale copy (say, a backup restored) still holds the spent refresh token.
    store = TokenStore(MemoryStore())
    stale = expired(old)
    await store.put(NETWORK, "alice", stale)
    auth = OAuth2Auth(client, store, account="alice")

    with captured_logs() as logs, pytest.raises(RefreshError) as caught:
        await userinfo(oidc_server, auth)

    error = caught.value
    assert isinstance(error, socialkit.AuthError)
    assert isinstance(error, socialkit.TokenExpiredError)
    assert error.code == "invalid_grant"
    text = str(error)
    assert "'alice'" in text
    assert "already used, revoked or expired" in text
    assert "log in again" in text
    assert "stored token was left unchanged" in text
    # Not clobbered: byte for byte what was there.
    kept = await store.get(NETWORK, "alice")
    assert kept is not None
    assert kept.dumps() == stale.dumps()
    assert auth.refreshes == 0
    # The server revoked the whole grant on reuse: the newer refresh token is dead too.
    with pytest.raises(RefreshError):
        await client.refresh(newer)
    for secret in _secrets(old, newer):
        assert secret not in text
        assert not any(secret in line for line in logs)


async def test_a_revoked_refresh_token(
    oidc_server: OIDCServer, client: OAuth2Client, counter: Counter
) -> None:
    token = await login(client)
    store = TokenStore(MemoryStore())
    await store.put(NETWORK, "alice", token)
    await client.revoke(token)  # RFC 7009; oidc-provider revokes the grant with it
    auth = OAuth2Auth(client, store, account="alice")
    with pytest.raises(RefreshError) as caught:
        await userinfo(oidc_server, auth)  # 401 -> refresh -> invalid_grant
    assert "log in again" in str(caught.value)
    kept = await store.get(NETWORK, "alice")
    assert kept is not None
    assert kept.dumps() == token.dumps()
    assert counter.grants == ["authorization_code", "refresh_token"]


async def test_no_refresh_token_means_no_refresh(
    oidc_server: OIDCServer, http: httpx.AsyncClient, counter: Counter
) -> None:
    client = OAuth2Client(public_config(oidc_server, scopes=("openid",)), http=http)
    token = await login(client)
    assert token.refresh_token is None  # no offline_access: the server issues none
    with pytest.raises(RefreshError) as caught:
        await client.refresh(token)
    assert "no refresh token" in str(caught.value)
    assert counter.grants == ["authorization_code"]


async def test_100_concurrent_requests_cause_exactly_one_refresh(
    oidc_server: OIDCServer, client: OAuth2Client, counter: Counter
) -> None:
    token = await login(client)
    store = TokenStore(MemoryStore())
    await store.put(NETWORK, "alice", expired(token))
    auth = OAuth2Auth(client, store, account="alice")
    limits = httpx.Limits(max_connections=100)
    async with httpx.AsyncClient(auth=auth, limits=limits, timeout=30) as api:
        responses = await asyncio.gather(
            *(api.get(oidc_server.userinfo_endpoint) for _ in range(100))
        )
    assert [r.status_code for r in responses] == [200] * 100
    assert counter.grants.count("refresh_token") == 1
    assert auth.refreshes == 1
    sent = {r.request.headers["authorization"] for r in responses}
    assert len(sent) == 1  # every request used the one refreshed token


async def test_two_auth_objects_for_one_account_share_one_refresh(
    oidc_server: OIDCServer, client: OAuth2Client, counter: Counter
) -> None:
    token = await login(client)
    store = TokenStore(MemoryStore())
    await store.put(NETWORK, "alice", expired(token))
    one = OAuth2Auth(client, store, account="alice")
    two = OAuth2Auth(client, store, account="alice")
    results = await asyncio.gather(*(userinfo(oidc_server, auth) for auth in [one, two] * 10))
    assert {r.status_code for r in results} == {200}
    assert counter.grants.count("refresh_token") == 1
    assert one.refreshes + two.refreshes == 1


async def test_two_processes_sharing_a_sqlite_store_refresh_once(
    oidc_server: OIDCServer, client: OAuth2Client, tmp_path: Path
) -> None:
    token = await login(client)
    path = tmp_path / "tokens.db"
    store = TokenStore(SQLiteStore(path))
    await store.put(NETWORK, "alice", expired(token))
    await store.aclose()
    start = tmp_path / "go"
    config = public_config(oidc_server).model_dump(mode="json", exclude={"client_secret"})
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "_refresh_worker.py"),
            json.dumps(
                {
                    "config": config,
                    "store": {"backend": "sqlite", "path": str(path)},
                    "url": oidc_server.userinfo_endpoint,
                    "start": str(start),
                }
            ),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(2)
    ]
    start.touch()
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 120)
    reports = []
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err.decode()[-3000:]
        reports.append(json.loads(out))
    assert [r["statuses"] for r in reports] == [[200] * 20, [200] * 20]
    assert sum(r["refreshes"] for r in reports) == 1
    assert sum(r["token_requests"] for r in reports) == 1
    final = await TokenStore(SQLiteStore(path)).get(NETWORK, "alice")
    assert final is not None
    assert not final.same_access(token)


# -- secrets stay out of logs, reprs and errors --------------------------------------------


def _secrets(*tokens: Token) -> list[str]:
    found: list[str] = []
    for token in tokens:
        found.append(token.access_token.get_secret_value())
        if token.refresh_token is not None:
            found.append(token.refresh_token.get_secret_value())
    return found


async def test_no_secret_in_logs_reprs_or_errors(
    oidc_server: OIDCServer, http: httpx.AsyncClient
) -> None:
    config = public_config(
        oidc_server,
        client_id=oidc_server.confidential_client_id,
        client_secret=SecretStr(oidc_server.confidential_secret),
        redirect_uri=oidc_server.confidential_redirect_uri,
    )
    client = OAuth2Client(config, http=http)
    texts: list[str] = []
    request = client.begin()
    # The stand-in browser is not socialkit (httpcore logs its redirects): outside the capture.
    redirect = await authorize_in_browser(request.url, oidc_server.confidential_redirect_uri)
    with captured_logs() as logs:
        code = client.parse_redirect(redirect, expected_state=request.state)
        token = await client.complete(request, redirect)
        store = TokenStore(MemoryStore())
        await store.put(NETWORK, "alice", expired(token))
        auth = OAuth2Auth(client, store, account="alice")
        assert (await userinfo(oidc_server, auth)).status_code == 200
        refreshed = await store.get(NETWORK, "alice")
        assert refreshed is not None
        try:
            await client.refresh(token)  # spent: invalid_grant
        except socialkit.AuthError as exc:
            texts.append(str(exc))
            texts.append(repr(exc))
        texts += [repr(token), str(token), repr(refreshed), repr(request), str(request)]
        texts += [repr(config), str(config), repr(client), repr(auth), repr(store)]
        texts.append(config.model_dump_json())
        texts.append(token.model_dump_json())
    assert len(texts) == 14
    secrets = [
        *_secrets(token, refreshed),
        request.code_verifier.get_secret_value(),
        code,
        oidc_server.confidential_secret,
    ]
    assert logs, "the flow logged nothing at all: the scan would prove nothing"
    for secret in secrets:
        assert len(secret) >= 16
        for text in texts + logs:
            assert secret not in text


async def test_not_logged_in_is_a_clear_error(client: OAuth2Client) -> None:
    auth = OAuth2Auth(client, TokenStore(MemoryStore()), account="nobody")
    with pytest.raises(AuthFlowError, match="no token is stored for account 'nobody'"):
        await auth.token()
