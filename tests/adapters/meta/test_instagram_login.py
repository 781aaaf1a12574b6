"""Instagram Login (Business Login for Instagram, graph.instagram.com) through the real
InstagramAdapter against FakeInstagram, every request checked against Meta's descriptions
(``meta_support.violations``: graph.instagram.com's node specs, IGUserForIGOnlyAPI and the
``ig_`` token grants' IGAccessTokenForIGOnlyAPI / IGRefreshAccessTokenForIGOnlyAPI).

The answers FakeInstagram gives follow the Business Login page
(https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/
business-login): the code exchange's ``{"data": [{access_token, user_id, permissions}]}``
with an Instagram-scoped ``user_id``, its sample rejected response, and ``ig_exchange_token``.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from tests.adapters.meta.meta_support import recording_client, violations

from socialkit import Media, Post
from socialkit._errors import ConfigurationError
from socialkit._store import MemoryStore
from socialkit.adapters.meta import INSTAGRAM_LOGIN, InstagramAdapter
from socialkit.auth import AuthFlowError
from socialkit.testing.fakes import FakeInstagram

pytestmark = pytest.mark.anyio

REDIRECT = "https://app.example/instagram/callback"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _login(fake: FakeInstagram, client: httpx.AsyncClient, **settings: Any) -> Any:
    return InstagramAdapter.connect(
        http=client,
        require_credentials=False,
        **{**fake.instagram_login_settings(), **settings},
    )


async def _browser(fake: FakeInstagram, url: str) -> str:
    """What the user's browser does with the authorization window: the redirect it gets."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)) as browser:
        answer = await browser.get(url)
    assert answer.status_code in (302, 303, 307)
    location: str = answer.headers["location"]
    assert location.startswith(f"{REDIRECT}?")
    return location


async def test_instagram_login_stores_the_accounts_own_token_and_id() -> None:
    fake = FakeInstagram()
    client, recorder = recording_client(fake)
    store = MemoryStore()
    login = _login(fake, client, store=store)
    request = login.ex_authorization_url(redirect_uri=REDIRECT)
    assert recorder.exchanges == []  # building the URL sends nothing
    window = httpx.URL(request.url)
    assert str(window.copy_with(query=None)) == f"{fake.base_url}/oauth/authorize"
    assert window.params["client_id"] == fake.instagram_app_id
    assert window.params["response_type"] == "code"
    assert window.params["scope"].split(",") == list(INSTAGRAM_LOGIN["scopes"])
    assert "code_challenge" not in window.params  # Instagram documents no PKCE
    back = await _browser(fake, request.url)
    # Instagram appends "#_" to the redirect, which is not part of the code.
    token = await login.ex_exchange_code(request, back + "#_")
    await login.aclose()
    calls = [(r.method, r.url.path) for r, _ in recorder.exchanges]
    assert calls == [
        ("POST", "/oauth/access_token"),
        ("GET", "/access_token"),
        ("GET", f"/{fake.version}/me"),
    ]
    exchange = dict(parse_qsl(recorder.exchanges[0][0].content.decode()))
    assert exchange["grant_type"] == "authorization_code"
    assert exchange["redirect_uri"] == REDIRECT
    assert "code_verifier" not in exchange
    assert recorder.exchanges[1][0].url.params["grant_type"] == "ig_exchange_token"
    # The account id of /me, not the app-scoped user_id of the code exchange.
    assert token.extra == {"ig_user_id": fake.owner.id}
    assert token.expires_at is not None
    assert token.expires_at - datetime.now(timezone.utc) > timedelta(days=59)
    assert token.access_token.get_secret_value() not in repr(token)
    # A later adapter of the account, with no token setting, uses the stored login: it reads,
    # publishes and refreshes its token with ig_refresh_token.
    settings = {**fake.instagram_login_settings(), "store": store}
    async with InstagramAdapter.connect(http=client, **settings) as later:
        assert (await later.me()).id == fake.owner.id
        posted = await later.publish(
            Post(text="hello", media=[Media.from_url("https://cdn.example/a.jpg", alt="a")])
        )
        assert posted.author is not None
        assert posted.author.id == fake.owner.id
        refreshed = await later.ex_refresh_token()
        assert refreshed.access_token != token.access_token
    assert fake.refreshes == 1
    await client.aclose()
    found = violations(fake, recorder, instagram_login=True)
    assert not found, "\n".join(found)


async def test_a_code_refused_by_instagram_is_an_auth_flow_error() -> None:
    fake = FakeInstagram()
    client, _ = recording_client(fake)
    login = _login(fake, client)
    request = login.ex_authorization_url(redirect_uri=REDIRECT)
    back = await _browser(fake, request.url)
    await login.ex_exchange_code(request, back)
    with pytest.raises(AuthFlowError, match="already used") as info:
        await login.ex_exchange_code(request, back)  # a code is good once
    assert info.value.code == "OAuthException"
    await login.aclose()
    await client.aclose()


async def test_the_login_names_the_account_when_ig_user_id_is_another() -> None:
    fake = FakeInstagram()
    client, _ = recording_client(fake)
    login = _login(fake, client, ig_user_id="17841400000000000")
    request = login.ex_authorization_url(redirect_uri=REDIRECT)
    back = await _browser(fake, request.url)
    with pytest.raises(ConfigurationError, match=rf"account {fake.owner.id} \(@owner\)"):
        await login.ex_exchange_code(request, back)
    await login.aclose()
    await client.aclose()


async def test_instagram_logins_endpoints_follow_the_api_host() -> None:
    """graph.instagram.com's adapter logs in with Instagram's window and code exchange; the
    default (graph.facebook.com) with Facebook Login's dialog. No request either way."""
    async with httpx.AsyncClient() as client:
        ig = InstagramAdapter.connect(
            http=client,
            require_credentials=False,
            base_url="https://graph.instagram.com",
            app_id="990602627938098",
            app_secret="s",
        )
        window = httpx.URL(ig.ex_authorization_url(redirect_uri=REDIRECT).url)
        assert (window.host, window.path) == ("www.instagram.com", "/oauth/authorize")
        assert ig._oauth().config.token_endpoint == "https://api.instagram.com/oauth/access_token"
        fb = InstagramAdapter.connect(
            http=client, require_credentials=False, app_id="1", app_secret="s"
        )
        dialog = httpx.URL(fb.ex_authorization_url(redirect_uri=REDIRECT).url)
        assert dialog.host == "www.facebook.com"
        assert dialog.params["code_challenge_method"] == "S256"
        forced = InstagramAdapter.connect(
            http=client,
            require_credentials=False,
            base_url="https://graph.instagram.com",
            instagram_login=False,
            app_id="1",
            app_secret="s",
        )
        assert httpx.URL(forced.ex_authorization_url().url).host == "www.facebook.com"
