"""The authorization pages the fakes serve at their network's path, through the shared
``socialkit.testing.fakes._oauth.CodeGrants``: a ``GET`` the owner (or the Page's admin)
approves at once, redirecting to ``redirect_uri`` with ``code`` and ``state`` (RFC 6749
section 4.1.2), or 400 for a request the network would refuse. ``fake.approve(url)`` is the
same without HTTP. Paths: Facebook Login https://developers.facebook.com/docs/facebook-login/
guides/advanced/manual-flow (``/{version}/dialog/oauth``), Threads https://developers.facebook.com/
docs/threads/get-started/get-access-tokens-and-permissions (``/oauth/authorize``), LinkedIn
https://learn.microsoft.com/linkedin/shared/authentication/authorization-code-flow
(``/oauth/v2/authorization``), Google https://developers.google.com/identity/protocols/oauth2/
native-app (``/o/oauth2/v2/auth``), Pinterest https://developers.pinterest.com/docs/getting-started/
set-up-authentication-and-authorization/ (``/oauth/``).
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from socialkit.testing.fakes import (
    FakeFacebook,
    FakeInstagram,
    FakeLinkedIn,
    FakeNetwork,
    FakePinterest,
    FakeThreads,
    FakeYouTube,
)

pytestmark = pytest.mark.anyio

REDIRECT = "http://127.0.0.1:8765/callback"
#: A PKCE S256 challenge (RFC 7636 appendix B).
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

CASES: list[tuple[type[FakeNetwork], str]] = [
    (FakeFacebook, "/v25.0/dialog/oauth"),
    (FakeInstagram, "/v25.0/dialog/oauth"),
    (FakeThreads, "/oauth/authorize"),
    (FakeLinkedIn, "/oauth/v2/authorization"),
    (FakeYouTube, "/o/oauth2/v2/auth"),
    (FakePinterest, "/oauth/"),
]


def _client_id(fake: FakeNetwork) -> str:
    return str(getattr(fake, "app_id", None) or fake.client_id)  # type: ignore[attr-defined]


def _query(fake: FakeNetwork, **changes: str) -> str:
    query = {
        "client_id": _client_id(fake),
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "a b",
        "state": "st-1",
        "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
        **changes,
    }
    return str(httpx.QueryParams(query))


@pytest.mark.parametrize(("fake_type", "path"), CASES, ids=[c[0].name for c in CASES])
async def test_the_authorization_page_redirects_with_a_code(
    fake_type: type[FakeNetwork], path: str
) -> None:
    fake = fake_type()
    async with fake.client() as client:
        answer = await client.get(f"https://auth.example{path}?{_query(fake)}")
        assert answer.status_code == 302, answer.text
        back = httpx.URL(answer.headers["location"])
        assert str(back.copy_with(query=None)) == REDIRECT
        assert back.params["state"] == "st-1"
        assert back.params["code"]
        refused = await client.get(f"https://auth.example{path}?{_query(fake, client_id='9')}")
        assert refused.status_code == 400
        assert refused.json() == {"error": "invalid_client"}
    approve: Callable[[str], str] = fake.approve  # type: ignore[attr-defined]
    again = httpx.URL(approve(f"https://auth.example{path}?{_query(fake)}"))
    assert again.params["code"] != back.params["code"]
    with pytest.raises(ValueError, match="unsupported_response_type"):
        approve(f"https://auth.example{path}?{_query(fake, response_type='token')}")
