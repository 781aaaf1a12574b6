"""TikTok's account stats under the canonical names the other adapters use.

The answer follows TikTok's Get User Info reference
(https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info: ``{"data": {"user": {…}},
"error": {"code": "ok", "message": "", "log_id": …}}``; ``follower_count``,
``following_count``, ``likes_count`` and ``video_count`` need ``user.info.stats``).
``video_count`` is the number of the user's posts: canonically ``posts``, as X's
``tweet_count``, Mastodon's ``statuses_count`` and Bluesky's ``postsCount`` are (and as
``Account.posts_count`` already reads it).
"""

from __future__ import annotations

import httpx
import pytest
import respx

from socialkit import CANONICAL_METRICS
from socialkit._store import MemoryStore
from socialkit.adapters.tiktok import TikTokAdapter

pytestmark = pytest.mark.anyio

API = "https://open.tiktokapis.com"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_video_count_is_posts() -> None:
    body = {
        "data": {
            "user": {
                "open_id": "723f24d7-e717-40f8-a2b6-cb8464cd23b4",
                "union_id": "c9c60f44-a68e-4f5d-84dd-ce22faeb0ba1",
                "avatar_url": "https://p19-sign.tiktokcdn-us.com/tos-useast5-avt-0068-tx/b17f0e4b.jpeg",
                "display_name": "Tik Toker",
                "username": "tiktoker",
                "bio_description": "my bio",
                "profile_deep_link": "https://vm.tiktok.com/ZMhvqjqjq/",
                "follower_count": 1200,
                "following_count": 30,
                "likes_count": 5400,
                "video_count": 87,
            }
        },
        "error": {"code": "ok", "message": "", "log_id": "20220829194722CBE87ED59D524E727021"},
    }
    with respx.mock(assert_all_called=True) as router:
        router.get(f"{API}/v2/user/info/").mock(return_value=httpx.Response(200, json=body))
        async with httpx.AsyncClient() as http:
            net = TikTokAdapter.connect(
                http=http, access_token="act.example12345", retry_wait=False, store=MemoryStore()
            )
            metrics = await net.account_metrics()
            me = await net.me()
    by_native = {m.native_name: (m.name, m.value) for m in metrics}
    assert by_native == {
        "follower_count": ("followers", 1200),
        "following_count": ("following", 30),
        "likes_count": ("likes", 5400),
        "video_count": ("posts", 87),
    }
    assert {"followers", "following", "posts"} <= CANONICAL_METRICS
    assert me.posts_count == 87
