"""The loopback redirect helper (RFC 8252 section 7.3): the redirect GET is issued with httpx."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from oidc_helpers import OIDCServer, authorize_in_browser

import socialkit
from socialkit._store import MemoryStore
from socialkit.auth import (
    AuthFlowError,
    LoginTimeoutError,
    LoopbackServer,
    OAuth2Auth,
    OAuth2Client,
    OAuth2Config,
    StateMismatchError,
    TokenStore,
    loopback_login,
)

pytestmark = pytest.mark.anyio


async def test_captures_the_code_when_the_state_matches() -> None:
    async with LoopbackServer(network="test") as server:
        assert server.redirect_uri.startswith("http://127.0.0.1:")
        assert server.redirect_uri.endswith("/callback")
        assert server.port
        server.expected_state = "s-123"
        async with httpx.AsyncClient() as browser:
            ignored = await browser.get(f"http://127.0.0.1:{server.port}/favicon.ico")
            response = await browser.get(
                server.redirect_uri, params={"code": "c-1", "state": "s-123"}
            )
            again = await browser.get(server.redirect_uri, params={"code": "c-2", "state": "s-123"})
        params = await server.wait(timeout=5)
    assert ignored.status_code == 404
    assert response.status_code == 200
    assert "close this window" in response.text
    assert "c-1" not in response.text  # nothing from the request is echoed
    assert response.headers["cache-control"] == "no-store"
    assert again.status_code == 409
    assert params == {"code": "c-1", "state": "s-123"}


async def test_a_wrong_state_is_a_typed_error() -> None:
    async with LoopbackServer(network="test") as server:
        server.expected_state = "expected"
        async with httpx.AsyncClient() as browser:
            response = await browser.get(
                server.redirect_uri, params={"code": "c-1", "state": "<script>forged"}
            )
        with pytest.raises(StateMismatchError) as caught:
            await server.wait(timeout=5)
    assert response.status_code == 400
    assert "<script>" not in response.text
    assert isinstance(caught.value, socialkit.AuthError)
    assert "state" in str(caught.value)
    assert "c-1" not in str(caught.value)


async def test_a_missing_state_is_a_typed_error() -> None:
    async with LoopbackServer(network="test") as server:
        server.expected_state = "expected"
        async with httpx.AsyncClient() as browser:
            await browser.get(server.redirect_uri, params={"code": "c-1"})
        with pytest.raises(StateMismatchError):
            await server.wait(timeout=5)


async def test_a_refusal_by_the_user() -> None:
    async with LoopbackServer(network="test") as server:
        server.expected_state = "s"
        async with httpx.AsyncClient() as browser:
            response = await browser.get(
                server.redirect_uri, params={"error": "access_denied", "state": "s"}
            )
        with pytest.raises(AuthFlowError) as caught:
            await server.wait(timeout=5)
    assert response.status_code == 200
    assert caught.value.code == "access_denied"
    assert "not granted" in str(caught.value)


async def test_times_out_cleanly_and_frees_the_port() -> None:
    server = LoopbackServer(network="test")
    async with server:
        port = server.port
        server.expected_state = "s"
        with pytest.raises(LoginTimeoutError, match="no authorization redirect arrived"):
            await server.wait(timeout=0.2)
    assert port is not None
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as browser:
            await browser.get(f"http://127.0.0.1:{port}/callback")


async def test_a_garbage_request_does_not_end_the_wait() -> None:
    async with LoopbackServer(network="test") as server:
        server.expected_state = "s"
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        answer = await reader.read()
        writer.close()
        assert answer.startswith(b"HTTP/1.1 400")
        async with httpx.AsyncClient() as browser:
            await browser.get(server.redirect_uri, params={"code": "c", "state": "s"})
        assert (await server.wait(timeout=5))["code"] == "c"


def test_listens_on_loopback_only() -> None:
    with pytest.raises(socialkit.ConfigurationError):
        LoopbackServer(host="0.0.0.0")
    with pytest.raises(socialkit.ConfigurationError):
        LoopbackServer(path="callback")
    with pytest.raises(socialkit.ConfigurationError):
        _ = LoopbackServer().redirect_uri  # not started


@pytest.mark.integration
async def test_loopback_login_against_the_oauth_server(oidc_server: OIDCServer) -> None:
    config = OAuth2Config(
        network="oidc",
        authorization_endpoint=oidc_server.authorization_endpoint,
        token_endpoint=oidc_server.token_endpoint,
        client_id=oidc_server.public_client_id,
        scopes=("openid", "offline_access"),
        authorization_params={"prompt": "consent"},
        issuer=oidc_server.issuer,
    )
    store = TokenStore(MemoryStore())
    shown: list[str] = []
    tasks: list[asyncio.Task[None]] = []

    async def browser(url: str) -> None:
        # The user logs in and consents; the server sends the browser to the loopback URL.
        query = httpx.URL(url).params
        redirect = await authorize_in_browser(url, query["redirect_uri"])
        async with httpx.AsyncClient() as client:
            landing = await client.get(redirect)
        assert landing.status_code == 200

    def opener(url: str) -> None:
        tasks.append(asyncio.get_running_loop().create_task(browser(url)))

    async with OAuth2Client(config) as client:
        token = await loopback_login(
            client, store=store, account="alice", opener=opener, echo=shown.append, timeout=30
        )
        await asyncio.gather(*tasks)
        assert len(shown) == 1
        assert "http://127.0.0.1:" in shown[0]
        assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A" in shown[0]
        assert token.refresh_token is not None
        assert await store.get("oidc", "alice") == token
        auth = OAuth2Auth(client, store, account="alice")
        async with httpx.AsyncClient(auth=auth) as api:
            me = await api.get(oidc_server.userinfo_endpoint)
        assert me.json()["sub"] == "alice"


async def test_loopback_login_prints_the_url_when_no_browser_opens() -> None:
    config = OAuth2Config(
        network="test",
        authorization_endpoint="https://auth.example.test/authorize",
        token_endpoint="https://auth.example.test/token",
        client_id="cli",
    )

    def broken_opener(url: str) -> None:
        raise RuntimeError("no display")

    shown: list[str] = []
    async with OAuth2Client(config) as client:
        with pytest.raises(LoginTimeoutError):
            await loopback_login(client, opener=broken_opener, echo=shown.append, timeout=0.2)
    assert shown
    assert shown[0].count("https://auth.example.test/authorize?") == 1
