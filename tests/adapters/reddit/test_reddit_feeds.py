"""The front page (``timeline``: ``GET /best``) and multireddits (``feeds``: ``GET
/api/multi/mine``; ``feed``: ``GET /user/{owner}/m/{name}/new``), against FakeReddit and
against respx answers shaped after the reference pages named in reddit_fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import httpx
import pytest
import respx
from reddit_fixtures import BASE, RedditFixtures, labeled_multi, link, listing, make_reddit

from socialkit import Feed
from socialkit._errors import MalformedResponseError, PermissionError, ValidationError
from socialkit.adapters.reddit import RedditAdapter
from socialkit.testing.fakes import FakeReddit

pytestmark = [pytest.mark.anyio, pytest.mark.spec]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _all(paged: object) -> list[str]:
    return [post.id async for post in paged]  # type: ignore[attr-defined]


# -- against the fake ------------------------------------------------------------------------


async def test_front_page_has_joined_subreddits_and_followed_profiles() -> None:
    fake = FakeReddit()
    idol, stranger = fake.add_user("idol"), fake.add_user("stranger")
    fake.add_subreddit("python")
    fake.follow(fake.owner, idol)
    fake.join(fake.owner, "python")
    followed = fake.publish_as(idol, "from someone I follow")
    unrelated = fake.publish_as(stranger, "not for me")
    joined = fake.publish_as(stranger, "in a joined subreddit", subreddit="python")
    async with fake.connect(retry_wait=False) as reddit:
        got = await _all(reddit.timeline())
        first = reddit.timeline(limit=1)
        one = await _all(first)
        rest = await _all(reddit.timeline(cursor=first.cursor))
    assert set(got) == {followed, joined}
    assert unrelated not in got
    assert len(one) == 1
    assert sorted(one + rest) == sorted(got), "resumed with after: nothing repeated or skipped"


async def test_multireddits_are_feeds_and_list_their_posts() -> None:
    fake = FakeReddit()
    someone = fake.add_user("someone")
    for name in ("python", "rust", "cats"):
        fake.add_subreddit(name)
    path = fake.add_multi(fake.owner, "code", ["python", "rust"], display_name="Code")
    in_python = fake.publish_as(someone, "a python post", subreddit="python")
    fake.clock.advance(minutes=1)
    in_rust = fake.publish_as(someone, "a rust post", subreddit="rust")
    outside = fake.publish_as(someone, "a cat post", subreddit="cats")
    async with fake.connect(retry_wait=False) as reddit:
        feeds = [f async for f in reddit.feeds()]
        by_feed = await _all(reddit.feed(feeds[0]))
        by_name = await _all(reddit.feed("code"))
        by_path = await _all(reddit.feed(path))
    assert [(f.id, f.name, f.kind, f.members_count) for f in feeds] == [(path, "Code", "feed", 2)]
    assert feeds[0].owner is not None
    assert feeds[0].owner.handle == fake.owner.handle
    assert by_feed == by_name == by_path == [in_rust, in_python], "newest first"
    assert outside not in by_feed


async def test_another_users_private_multi_is_forbidden() -> None:
    fake = FakeReddit()
    other = fake.add_user("other")
    path = fake.add_multi(other, "secret", ["socialkit"])
    async with fake.connect(retry_wait=False) as reddit:
        with pytest.raises(PermissionError):
            await _all(reddit.feed(path))


# -- against respx ---------------------------------------------------------------------------


class _Checked(RedditFixtures):
    """check_exchange of the other respx tests, applied to every request here."""


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_mocked=True, assert_all_called=False)


@pytest.fixture
async def reddit(router: respx.MockRouter) -> AsyncIterator[RedditAdapter]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
    adapter = make_reddit(client)
    yield adapter
    await adapter.aclose()
    await client.aclose()
    for call in router.calls:
        _Checked().check_exchange(call.request, call.response)


async def test_best_is_paged_with_after_and_filtered_by_time(
    reddit: RedditAdapter, router: respx.MockRouter
) -> None:
    # GET /best, a Listing (https://www.reddit.com/dev/api#GET_best); "best" order is not by
    # time, so an old post before a newer one must not end the walk.
    old, new, newer = 1_700_000_000.0, 1_765_000_000.0, 1_765_000_100.0
    route = router.get(f"{BASE}/best").mock(
        side_effect=[
            httpx.Response(200, json=listing([link("a1", "old", old)], after="t3_a1")),
            httpx.Response(200, json=listing([link("b2", "new", new), link("c3", "newer", newer)])),
        ]
    )
    since = datetime.fromtimestamp(new - 10, timezone.utc)
    got = await _all(reddit.timeline(since=since))
    assert got == ["t3_b2", "t3_c3"]
    assert route.calls[1].request.url.params["after"] == "t3_a1"


async def test_multi_mine_and_a_multis_listing(
    reddit: RedditAdapter, router: respx.MockRouter
) -> None:
    router.get(f"{BASE}/api/multi/mine").mock(
        return_value=httpx.Response(
            200, json=[labeled_multi("tester", "news", ["worldnews", "europe"])]
        )
    )
    posts = router.get(f"{BASE}/user/tester/m/news/new").mock(
        return_value=httpx.Response(200, json=listing([link("d4", "headline")]))
    )
    feeds = [f async for f in reddit.feeds()]
    assert len(feeds) == 1
    feed = feeds[0]
    assert feed.id == "/user/tester/m/news"
    assert (feed.name, feed.description, feed.members_count) == ("News", "the news subreddits", 2)
    assert feed.url == "https://www.reddit.com/user/tester/m/news"
    assert await _all(reddit.feed(feed)) == ["t3_d4"]
    assert posts.call_count == 1


async def test_a_malformed_multi_is_a_malformed_response(
    reddit: RedditAdapter, router: respx.MockRouter
) -> None:
    broken = labeled_multi("tester", "news", [])
    broken["data"]["path"] = "/r/news"
    router.get(f"{BASE}/api/multi/mine").mock(return_value=httpx.Response(200, json=[broken]))
    with pytest.raises(MalformedResponseError):
        [f async for f in reddit.feeds()]


@pytest.mark.parametrize(
    "given",
    ["/r/python", "../../api/v1/me", "/user/x/m/a", "/user/tester/m/a/../../b", "bad name", ""],
)
async def test_bad_feeds_are_refused_before_any_request(
    reddit: RedditAdapter, router: respx.MockRouter, given: str
) -> None:
    with pytest.raises(ValidationError):
        reddit.feed(given)
    assert not router.calls


async def test_a_feed_of_another_network_is_refused(
    reddit: RedditAdapter, router: respx.MockRouter
) -> None:
    with pytest.raises(ValidationError, match="mastodon"):
        reddit.feed(Feed(id="/user/someone/m/code", network="mastodon", name="x"))
    assert not router.calls
