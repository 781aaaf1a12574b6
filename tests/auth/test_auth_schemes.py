"""Bearer tokens, the AuthScheme hook and OAuth 1.0a signing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import authlib.oauth1.rfc5849.client_auth as authlib_client_auth
import httpx
import pytest
from pydantic import SecretStr

from socialkit import ConfigurationError
from socialkit.auth import AuthScheme, BearerAuth, OAuth1Auth

pytestmark = pytest.mark.anyio


def echo(request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "authorization": request.headers.get("authorization"),
            "body": request.content.decode(),
            "content_type": request.headers.get("content-type"),
        },
    )


async def test_bearer_auth_async_and_sync() -> None:
    auth = BearerAuth("bot-token-1234567890")
    async with httpx.AsyncClient(auth=auth, transport=httpx.MockTransport(echo)) as client:
        sent = (await client.get("https://api.example.test/")).json()
    assert sent["authorization"] == "Bearer bot-token-1234567890"
    assert "bot-token" not in repr(auth)
    assert isinstance(auth, httpx.Auth)
    custom = BearerAuth(SecretStr("t"), header="X-Api-Key", scheme="")
    async with httpx.AsyncClient(auth=custom, transport=httpx.MockTransport(echo)) as client:
        response = await client.get("https://api.example.test/")
    assert response.request.headers["x-api-key"] == "t"
    with pytest.raises(ConfigurationError):
        BearerAuth("")


class Session(AuthScheme):
    """A scheme whose session token is renewed after a 401, like a Bluesky session."""

    network = "test"

    def __init__(self) -> None:
        self.session = "old"
        self.renewals = 0

    async def authorize(self, request: httpx.Request) -> None:
        request.headers["Authorization"] = f"Bearer {self.session}"

    async def on_unauthorized(self, request: httpx.Request, response: httpx.Response) -> bool:
        self.renewals += 1
        self.session = f"new{self.renewals}"
        return True


def accept_only(token: str) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers.get("authorization") == f"Bearer {token}":
            return httpx.Response(200, json={"body": request.content.decode()})
        return httpx.Response(401)

    return httpx.MockTransport(handler)


async def test_auth_scheme_renews_once_after_401_and_resends_the_body() -> None:
    scheme = Session()
    async with httpx.AsyncClient(auth=scheme, transport=accept_only("new1")) as client:
        response = await client.post("https://api.example.test/x", json={"text": "hi"})
    assert response.status_code == 200
    assert json.loads(response.json()["body"]) == {"text": "hi"}
    assert scheme.renewals == 1


async def test_auth_scheme_does_not_loop_on_repeated_401() -> None:
    scheme = Session()
    async with httpx.AsyncClient(auth=scheme, transport=accept_only("never")) as client:
        response = await client.get("https://api.example.test/x")
    assert response.status_code == 401
    assert scheme.renewals == 1


async def test_auth_scheme_does_not_resend_a_streamed_body() -> None:
    scheme = Session()
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(401)

    async def chunks() -> AsyncIterator[bytes]:
        yield b"part"

    async with httpx.AsyncClient(auth=scheme, transport=httpx.MockTransport(handler)) as client:
        response = await client.post("https://api.example.test/upload", content=chunks())
    assert response.status_code == 401
    assert calls == 1
    assert scheme.renewals == 1  # renewed for the next request, not resent
    assert scheme.session == "new1"


def test_bearer_auth_works_with_a_sync_client() -> None:
    with httpx.Client(auth=BearerAuth("t-1"), transport=httpx.MockTransport(echo)) as sync:
        assert sync.get("https://api.example.test/").json()["authorization"] == "Bearer t-1"


def test_auth_scheme_refuses_sync_clients() -> None:
    with (
        httpx.Client(auth=Session(), transport=httpx.MockTransport(echo)) as client,
        pytest.raises(ConfigurationError, match="AsyncClient"),
    ):
        client.get("https://api.example.test/")


# X's documented example: developer.x.com, "Creating a signature" (OAuth 1.0a, HMAC-SHA1;
# the page signs POST https://api.twitter.com/1.1/statuses/update.json with these dummy keys).
X_CONSUMER_KEY = "xvz1evFS4wEEPTGEFPHBog"
X_CONSUMER_SECRET = "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw"
X_TOKEN = "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb"
X_TOKEN_SECRET = "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE"
X_NONCE = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
X_TIMESTAMP = "1318622958"
X_SIGNATURE = "hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"  # hCtSmYh+iHYCEqBWrE7C7hYmtUk=, percent-encoded


@pytest.fixture
def fixed_nonce(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(authlib_client_auth, "generate_nonce", lambda: X_NONCE)
    monkeypatch.setattr(authlib_client_auth, "generate_timestamp", lambda: X_TIMESTAMP)


def x_auth() -> OAuth1Auth:
    return OAuth1Auth(X_CONSUMER_KEY, X_CONSUMER_SECRET, X_TOKEN, X_TOKEN_SECRET)


@pytest.mark.usefixtures("fixed_nonce")
async def test_oauth1_matches_x_documented_signature() -> None:
    async with httpx.AsyncClient(auth=x_auth(), transport=httpx.MockTransport(echo)) as client:
        response = await client.post(
            "https://api.twitter.com/1.1/statuses/update.json",
            params={"include_entities": "true"},
            data={"status": "Hello Ladies + Gentlemen, a signed OAuth request!"},
        )
    header = response.json()["authorization"]
    assert header.startswith("OAuth ")
    assert f'oauth_signature="{X_SIGNATURE}"' in header
    assert f'oauth_consumer_key="{X_CONSUMER_KEY}"' in header
    assert 'oauth_signature_method="HMAC-SHA1"' in header
    # The form body is sent unchanged.
    assert response.json()["body"] == (
        "status=Hello+Ladies+%2B+Gentlemen%2C+a+signed+OAuth+request%21"
    )


@pytest.mark.usefixtures("fixed_nonce")
async def test_oauth1_keeps_json_bodies_and_signs_without_them() -> None:
    async with httpx.AsyncClient(auth=x_auth(), transport=httpx.MockTransport(echo)) as client:
        one = await client.post("https://api.x.com/2/tweets", json={"text": "one"})
        two = await client.post("https://api.x.com/2/tweets", json={"text": "two"})
    assert json.loads(one.json()["body"]) == {"text": "one"}
    assert one.json()["content_type"] == "application/json"
    # JSON is not part of an OAuth 1 signature: same URL, nonce and time, same signature.
    assert one.json()["authorization"] == two.json()["authorization"]
    assert "oauth_body_hash" not in one.json()["authorization"]


def test_oauth1_repr_and_validation() -> None:
    auth = x_auth()
    text = repr(auth)
    assert X_CONSUMER_KEY in text
    for secret in (X_CONSUMER_SECRET, X_TOKEN, X_TOKEN_SECRET):
        assert secret not in text
    with pytest.raises(ConfigurationError, match="both"):
        OAuth1Auth(X_CONSUMER_KEY, X_CONSUMER_SECRET, X_TOKEN)
    with pytest.raises(ConfigurationError, match="signature method"):
        OAuth1Auth(X_CONSUMER_KEY, X_CONSUMER_SECRET, signature_method="RSA-SHA1")


def test_public_names_load_lazily() -> None:
    import socialkit.auth as auth

    for name in auth.__all__:
        assert getattr(auth, name) is not None
    assert sorted(auth.__all__) == sorted(auth._LAZY)
    with pytest.raises(AttributeError):
        _ = auth.NoSuchThing
