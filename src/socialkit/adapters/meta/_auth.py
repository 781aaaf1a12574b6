"""Meta tokens: ``appsecret_proof``, long-lived token exchange and refresh, Page tokens.

The Graph API's token calls, as Meta documents them:

- Facebook: a short-lived user token becomes a long-lived one (about 60 days) with
  ``GET /oauth/access_token?grant_type=fb_exchange_token&client_id&client_secret&
  fb_exchange_token``; Page tokens (which do not expire when obtained from a long-lived user
  token) come from ``GET /me/accounts?fields=id,name,access_token``.
- Instagram (Instagram Login, ``graph.instagram.com``): ``GET /access_token?grant_type=
  ig_exchange_token`` and ``GET /refresh_access_token?grant_type=ig_refresh_token`` (a token at
  least 24 hours old and not expired gets 60 more days).
- Threads (``graph.threads.net``): ``GET /access_token?grant_type=th_exchange_token`` and
  ``GET /refresh_access_token?grant_type=th_refresh_token``.

``appsecret_proof`` (the hex HMAC-SHA256 of the access token keyed with the app secret) goes
with every call when the app secret is configured; apps that require it refuse calls without.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from socialkit._errors import MalformedResponseError, ValidationError

if TYPE_CHECKING:
    from socialkit.adapters.meta._graph import Graph

__all__ = [
    "INSTAGRAM_LOGIN",
    "LOGIN",
    "LongLivedToken",
    "PageToken",
    "appsecret_proof",
    "exchange_token",
    "instagram_login",
    "page_tokens",
    "refresh_token",
]


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """The hex HMAC-SHA256 of ``access_token`` keyed with ``app_secret``."""
    if not access_token or not app_secret:
        raise ValidationError("appsecret_proof needs an access token and an app secret")
    return hmac.new(app_secret.encode(), access_token.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class LongLivedToken:
    """A token from an exchange or a refresh; ``expires_at`` when Meta says when."""

    access_token: SecretStr = field(repr=False)
    expires_at: datetime | None = None
    token_type: str | None = None

    def __repr__(self) -> str:
        return f"LongLivedToken(access_token='**********', expires_at={self.expires_at!r})"


@dataclass(frozen=True)
class PageToken:
    """A Page the user manages, with its Page access token and, when the Page has one, its
    Instagram professional account (the ``ig_user_id`` of the Instagram adapter)."""

    id: str
    name: str | None
    access_token: SecretStr = field(repr=False)
    instagram_account_id: str | None = None

    def __repr__(self) -> str:
        return (
            f"PageToken(id={self.id!r}, name={self.name!r}, access_token='**********', "
            f"instagram_account_id={self.instagram_account_id!r})"
        )


#: The loopback OAuth login of each network (``socialkit auth login <network>``): where the
#: user authorizes, where the code is exchanged (a path on the adapter's ``base_url``), the
#: grant that makes the token long-lived, and the permissions each adapter's calls need (app
#: review grants them). Facebook Login: https://developers.facebook.com/docs/facebook-login/
#: guides/advanced/manual-flow; Threads: https://developers.facebook.com/docs/threads/
#: get-started/get-access-tokens-and-permissions.
LOGIN: dict[str, dict[str, Any]] = {
    "facebook": {
        "authorize": "https://www.facebook.com/{version}/dialog/oauth",
        "token": "/{version}/oauth/access_token",
        "long_lived": "fb_exchange_token",
        "scopes": (
            "pages_show_list",
            "pages_read_engagement",
            "pages_manage_posts",
            "pages_manage_engagement",
            "pages_read_user_content",
            "read_insights",
            "pages_messaging",
        ),
    },
    "instagram": {
        "authorize": "https://www.facebook.com/{version}/dialog/oauth",
        "token": "/{version}/oauth/access_token",
        "long_lived": "fb_exchange_token",
        "scopes": (
            "instagram_basic",
            "instagram_content_publish",
            "instagram_manage_comments",
            "instagram_manage_insights",
            "pages_show_list",
            "pages_read_engagement",
            "business_management",
        ),
    },
    "threads": {
        "authorize": "https://threads.net/oauth/authorize",
        "token": "/oauth/access_token",
        "long_lived": "th_exchange_token",
        "scopes": (
            "threads_basic",
            "threads_content_publish",
            "threads_manage_insights",
            "threads_manage_replies",
            "threads_read_replies",
            "threads_keyword_search",
            "threads_manage_mentions",
            "threads_delete",
        ),
    },
}


#: Instagram's Business Login (Instagram API with Instagram Login, ``graph.instagram.com``): its
#: authorization window, its code exchange (on another host than the API's) and the scopes
#: every call of the adapter needs; no PKCE is documented. ``client_id`` is the app's Instagram
#: App ID (App Dashboard > Instagram > API setup with Instagram login), not the Meta app id.
#: https://developers.facebook.com/docs/instagram-platform/instagram-api-with-instagram-login/
#: business-login
INSTAGRAM_LOGIN: dict[str, Any] = {
    "authorize": "https://www.instagram.com/oauth/authorize",
    "token": "https://api.instagram.com/oauth/access_token",
    "long_lived": "ig_exchange_token",
    "scopes": (
        "instagram_business_basic",
        "instagram_business_content_publish",
        "instagram_business_manage_comments",
        "instagram_business_manage_insights",
    ),
}


def instagram_login(host: str) -> bool:
    """Whether an Instagram host is Instagram Login's (``graph.instagram.com``), whose tokens
    are exchanged and refreshed with the ``ig_`` grants, rather than Facebook Login's."""
    return host == "graph.instagram.com"


def _token_from(body: dict[str, Any], network: str, now: datetime) -> LongLivedToken:
    token = body.get("access_token")
    if not isinstance(token, str) or not token:
        raise MalformedResponseError(network, None, "malformed_response", "no access_token")
    expires = body.get("expires_in")
    expires_at = (
        now + timedelta(seconds=int(expires))
        if isinstance(expires, int) and not isinstance(expires, bool) and expires > 0
        else None
    )
    kind = body.get("token_type")
    return LongLivedToken(SecretStr(token), expires_at, kind if isinstance(kind, str) else None)


def _root(graph: Graph) -> str:
    """The host of the Graph session without its version (``/access_token`` and
    ``/refresh_access_token`` of Threads and Instagram Login are not versioned)."""
    url = graph.session.network.url
    return f"{url.scheme}://{url.netloc.decode()}"


async def _token_call(graph: Graph, url: str, params: dict[str, str]) -> dict[str, Any]:
    # The token travels in these parameters: the session's own auth stays off the request.
    import json

    response = await graph.session.request("GET", url, params=params, auth=None)
    try:
        body = json.loads(response.content)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise MalformedResponseError(graph.network, None, "malformed_response", "not a token")
    return body


async def exchange_token(
    graph: Graph,
    network: str,
    short_lived: str,
    *,
    app_id: str | None,
    app_secret: str,
    now: datetime,
    ig_login: bool = False,
) -> LongLivedToken:
    """A long-lived token for a short-lived one: ``fb_exchange_token`` (Facebook, and Instagram
    with Facebook Login) or ``th_exchange_token`` / ``ig_exchange_token`` (Threads, Instagram
    Login: ``ig_login``)."""
    if not short_lived:
        raise ValidationError(f"{network}: the token to exchange must not be empty")
    if network == "facebook" or (network == "instagram" and not ig_login):
        if not app_id:
            raise ValidationError(f"{network}: exchanging a token needs app_id")
        body = await _token_call(
            graph,
            "/oauth/access_token",
            {
                "grant_type": "fb_exchange_token",
                "client_id": app_id,
                "client_secret": app_secret,
                "fb_exchange_token": short_lived,
            },
        )
    else:
        grant = "th_exchange_token" if network == "threads" else "ig_exchange_token"
        body = await _token_call(
            graph,
            f"{_root(graph)}/access_token",
            {"grant_type": grant, "client_secret": app_secret, "access_token": short_lived},
        )
    return _token_from(body, network, now)


async def refresh_token(
    graph: Graph, network: str, current: str, *, now: datetime
) -> LongLivedToken:
    """A refreshed long-lived token (``ig_refresh_token`` / ``th_refresh_token``): the current
    token, at least a day old and not expired, gets a new 60-day lifetime."""
    grant = "th_refresh_token" if network == "threads" else "ig_refresh_token"
    body = await _token_call(
        graph,
        f"{_root(graph)}/refresh_access_token",
        {"grant_type": grant, "access_token": current},
    )
    return _token_from(body, network, now)


async def page_tokens(graph: Graph) -> list[PageToken]:
    """The Pages the user token manages, with their Page tokens and linked Instagram accounts
    (``GET /me/accounts``)."""
    pages: list[PageToken] = []
    after: str | None = None
    from socialkit.adapters.meta._graph import next_cursor

    while True:
        params: dict[str, Any] = {
            "fields": "id,name,access_token,instagram_business_account",
            "limit": 100,
        }
        if after is not None:
            params["after"] = after
        body = await graph.get("/me/accounts", params)
        for item in body.get("data") or []:
            if isinstance(item, dict) and item.get("id") and item.get("access_token"):
                name = item.get("name")
                linked = item.get("instagram_business_account")
                instagram = linked.get("id") if isinstance(linked, dict) else None
                pages.append(
                    PageToken(
                        str(item["id"]),
                        name if isinstance(name, str) else None,
                        SecretStr(str(item["access_token"])),
                        str(instagram) if instagram else None,
                    )
                )
        after = next_cursor(body)
        if after is None:
            return pages
