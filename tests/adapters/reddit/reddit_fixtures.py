"""What the Reddit respx tests share. Reddit publishes no machine-readable description; every
fixture follows a page of Reddit's API reference, named beside it:

- ``GET /api/v1/me``: https://www.reddit.com/dev/api#GET_api_v1_me
- ``POST /api/submit``: https://www.reddit.com/dev/api#POST_api_submit (``api_type=json``:
  ``{"json": {"errors": [], "data": {"url", "id", "name", "drafts_count"}}}``)
- ``POST /api/comment``: https://www.reddit.com/dev/api#POST_api_comment
- ``GET /api/info``: https://www.reddit.com/dev/api#GET_api_info (a Listing)
- ``GET /user/{username}/submitted``: https://www.reddit.com/dev/api#GET_user_{username}_{where}
- ``GET /message/inbox``: https://www.reddit.com/dev/api#GET_message_{where}
- ``GET /best`` (the front page, a Listing): https://www.reddit.com/dev/api#GET_best
- ``GET /api/multi/mine`` (an array of ``LabeledMulti``):
  https://www.reddit.com/dev/api#GET_api_multi_mine; a multi's listing
  ``GET /user/{username}/m/{multiname}/new``: https://www.reddit.com/dev/api#GET_new
- Listings and things: https://github.com/reddit-archive/reddit/wiki/JSON
- Errors: ``{"message": "Forbidden", "error": 403}`` as the OAuth API answers
  (https://github.com/reddit-archive/reddit/wiki/OAuth2); rate-limit headers from
  https://support.reddithelp.com/hc/en-us/articles/16160319875092-Reddit-Data-API-Wiki.

``check_exchange`` checks what the reference pages require of every request: the descriptive
User-Agent, the bearer token, ``api_type=json`` on writes that answer JSON errors, fullnames.
"""

from __future__ import annotations

import json
import re
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx
import pytest

from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters.reddit import RedditAdapter
from socialkit.testing import conformance as c

BASE = "https://oauth.reddit.example"
ACCESS = "reddit-access-0123456789abcdef"
AGENT = "python:com.example.tests:1.0 (by /u/tester)"
ME = {
    "id": "4pwg7",
    "name": "tester",
    "icon_img": "https://styles.redditmedia.com/t5_x/styles/profileIcon_x.png",
    "total_karma": 120,
    "link_karma": 100,
    "comment_karma": 20,
    "created_utc": 1500000000.0,
    "subreddit": {"display_name": "u_tester", "subscribers": 12},
}


def settings(**extra: Any) -> dict[str, Any]:
    return {
        "base_url": BASE,
        "app_type": "installed",
        "client_id": "client-id",
        "access_token": ACCESS,
        "user_agent": AGENT,
        "subreddit": "socialkit",
        "store": MemoryStore(),
        "retry_wait": False,
        **extra,
    }


def make_reddit(http: httpx.AsyncClient, **extra: Any) -> RedditAdapter:
    adapter = RedditAdapter(build_settings(RedditAdapter, settings(**extra)), http=http)

    async def no_sleep(seconds: float) -> None:
        return None

    adapter._sleep = no_sleep
    return adapter


def link(id_: str, title: str, created: float = 1765000000.0, **extra: Any) -> dict[str, Any]:
    """A ``t3`` thing (https://github.com/reddit-archive/reddit/wiki/JSON#link-implements-votable--created)."""
    data = {
        "id": id_,
        "name": f"t3_{id_}",
        "title": title,
        "subreddit": "socialkit",
        "author": "tester",
        "author_fullname": "t2_4pwg7",
        "selftext": "",
        "url": f"https://www.reddit.com/r/socialkit/comments/{id_}/x/",
        "permalink": f"/r/socialkit/comments/{id_}/x/",
        "created_utc": created,
        "score": 1,
        "upvote_ratio": 1.0,
        "num_comments": 0,
        "over_18": False,
        "spoiler": False,
        "is_self": True,
        "is_video": False,
    }
    data.update(extra)
    return {"kind": "t3", "data": data}


def listing(children: list[dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    return {"kind": "Listing", "data": {"children": children, "after": after, "before": None}}


def labeled_multi(owner: str, name: str, subreddits: list[str]) -> dict[str, Any]:
    """A ``LabeledMulti`` (https://www.reddit.com/dev/api#GET_api_multi_mine; its attributes as
    https://praw.readthedocs.io/en/stable/code_overview/models/multireddit.html lists them)."""
    return {
        "kind": "LabeledMulti",
        "data": {
            "name": name,
            "display_name": name.title(),
            "path": f"/user/{owner}/m/{name}",
            "owner": owner,
            "description_md": f"the {name} subreddits",
            "description_html": "",
            "visibility": "public",
            "subreddits": [{"name": sr} for sr in subreddits],
            "created_utc": 1600000000.0,
            "can_edit": True,
            "over_18": False,
            "copied_from": None,
        },
    }


def submitted(name: str) -> dict[str, Any]:
    id_ = name.split("_", 1)[1]
    return {
        "json": {
            "errors": [],
            "data": {
                "url": f"https://www.reddit.com/r/socialkit/comments/{id_}/x/",
                "drafts_count": 0,
                "id": id_,
                "name": name,
            },
        }
    }


def form(request: httpx.Request) -> dict[str, list[str]]:
    return parse_qs(request.content.decode())


class RedditFixtures(c.AdapterFixtures):
    base_url: ClassVar[str] = BASE
    pytestmark = pytest.mark.spec

    def make_adapter(self, http: httpx.AsyncClient) -> RedditAdapter:
        return make_reddit(http)

    def secrets(self) -> list[str]:
        return [ACCESS]

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        assert request.headers.get("user-agent") == AGENT, "Reddit requires the app's User-Agent"
        if request.url.host == httpx.URL(BASE).host:
            assert request.headers.get("authorization") == f"Bearer {ACCESS}"
        if request.method == "POST" and request.url.path in (
            "/api/submit",
            "/api/comment",
            "/api/editusertext",
        ):
            body = form(request)
            assert body.get("api_type") == ["json"], "writes ask for api_type=json"
        for value in re.findall(r"(?:id|thing_id|parent)=([^&]+)", request.url.query.decode()):
            for item in value.split("%2C"):
                assert re.fullmatch(r"t[1-6]_[0-9a-z]+", item), item
        if response is not None and response.status_code == 200 and request.method == "GET":
            try:
                body = json.loads(response.content)
            except ValueError:
                return
            if isinstance(body, dict) and body.get("kind") == "Listing":
                assert isinstance(body["data"]["children"], list)
