"""Reddit specifics against FakeReddit (answers shaped after the reference pages named in
reddit_fixtures): app types and the User-Agent rule, the RATELIMIT body error, galleries,
videos with a poster, flair / NSFW / spoiler, crossposts, edits, ids checked before any request,
the inbox and search, the rate-limit headers."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from socialkit import Media, Post
from socialkit._errors import (
    AuthError,
    ConfigurationError,
    InvalidPostError,
    InvalidRequestError,
    RateLimitError,
    ServerError,
    ValidationError,
)
from socialkit._registry import build_settings
from socialkit.adapters.reddit import RedditAdapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeReddit

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    async def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def paths(self) -> list[str]:
        return [f"{r.method} {r.url.path}" for r in self.requests]


def connect(fake: FakeReddit, recorder: Recorder | None = None, **overrides: Any) -> RedditAdapter:
    client = fake.client()
    if recorder is not None:
        client.event_hooks["request"].append(recorder)
    adapter = fake.connect(http=client, retry_wait=False, **overrides)
    assert isinstance(adapter, RedditAdapter)

    async def no_sleep(seconds: float) -> None:
        return None

    adapter._sleep = no_sleep
    return adapter


# -- settings --------------------------------------------------------------------------------

AGENT = "python:com.example.bot:1.0 (by /u/example)"


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (
            {"client_id": "x", "client_secret": "s", "username": "abc", "password": "p"},
            "user_agent",
        ),
        ({"user_agent": "my-bot"}, "user_agent"),
        ({"user_agent": AGENT}, "socialkit auth login reddit"),
        ({"user_agent": AGENT, "client_id": "x"}, "client_secret, username, password"),
        (
            {"user_agent": AGENT, "client_id": "x", "app_type": "web", "refresh_token": "r"},
            "client_secret",
        ),
    ],
)
def test_settings_name_what_is_missing(values: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        build_settings(RedditAdapter, values)
    assert words in str(info.value)


async def test_installed_app_without_a_token_fails_on_async_with() -> None:
    from socialkit._store import MemoryStore
    from socialkit.auth import AuthFlowError

    values = {
        "user_agent": AGENT,
        "client_id": "x",
        "app_type": "installed",
        "store": MemoryStore(),
    }
    reddit = RedditAdapter(build_settings(RedditAdapter, values))
    with pytest.raises(AuthFlowError, match="socialkit auth login reddit"):
        async with reddit:
            pass
    login_only = RedditAdapter(
        build_settings(RedditAdapter, {**values, "require_credentials": False})
    )
    request = login_only.ex_authorization_url(redirect_uri="http://127.0.0.1:8765/callback")
    assert "duration=permanent" in request.url
    assert "client_id=x" in request.url
    await login_only.aclose()


async def test_generic_user_agent_is_what_reddit_refuses() -> None:
    fake = FakeReddit()
    response = await fake.client().get(f"{fake.base_url}/api/v1/me")
    assert response.status_code == 429


async def test_wrong_password_is_an_auth_error() -> None:
    fake = FakeReddit()
    async with connect(fake, password="wrong") as reddit:
        with pytest.raises(AuthError) as info:
            await reddit.me()
    assert info.value.code == "invalid_grant"
    assert "wrong" not in str(info.value)


@pytest.mark.parametrize(
    ("answer", "cls"),
    [
        # The token endpoint throttles like the API (429 "Too Many Requests" from
        # www.reddit.com/api/v1/access_token: reddit-archive/reddit issues #1738 and #1793;
        # the body is the API's {"message", "error"} one, the wait in Retry-After).
        (
            httpx.Response(
                429,
                json={"message": "Too Many Requests", "error": 429},
                headers={"retry-after": "7"},
            ),
            RateLimitError,
        ),
        # An outage answers a proxy's HTML page.
        (
            httpx.Response(503, content=b"<html><body>Service Unavailable</body></html>"),
            ServerError,
        ),
    ],
)
async def test_a_throttled_or_failing_token_endpoint_is_not_an_auth_error(
    answer: httpx.Response, cls: type[Exception]
) -> None:
    fake = FakeReddit()
    inner = httpx.ASGITransport(app=fake.app)

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/access_token":
            return answer
        return await inner.handle_async_request(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    reddit = fake.connect(http=client, retry_wait=False)
    async with reddit:
        with pytest.raises(cls) as info:
            await reddit.me()
    assert not isinstance(info.value, AuthError)
    assert "password" not in str(info.value)
    if isinstance(info.value, RateLimitError):
        assert info.value.retry_after == 7


async def test_installed_app_refreshes_its_token() -> None:
    fake = FakeReddit()
    settings = {
        **fake.settings(),
        "app_type": "installed",
        "client_secret": None,
        "username": None,
        "password": None,
        "refresh_token": fake.refresh_token_for(),
    }
    # An installed app has no secret: the fake's token endpoint takes the client id alone.
    fake.client_secret = ""
    client = fake.client()
    reddit = RedditAdapter(
        build_settings(RedditAdapter, {**settings, "retry_wait": False}), http=client
    )
    async with reddit:
        me = await reddit.me()
    await client.aclose()
    assert me.handle == fake.owner.handle


# -- publishing --------------------------------------------------------------------------------


async def test_ratelimit_body_error_publishes_nothing_and_says_how_long() -> None:
    fake = FakeReddit()
    recorder = Recorder()
    async with connect(fake, recorder) as reddit:
        fake.ratelimit_next(minutes=9)
        with pytest.raises(RateLimitError) as info:
            await reddit.publish(Post(text="too soon"), idempotency_key="k1")
        assert info.value.retry_after == 540.0
        assert info.value.code == "RATELIMIT"
        assert fake.submissions() == []
        posted = await reddit.publish(Post(text="too soon"), idempotency_key="k1")
    assert fake.submissions() == [posted.id]
    assert recorder.paths().count("POST /api/submit") == 2


async def test_flair_nsfw_spoiler_and_another_subreddit() -> None:
    fake = FakeReddit()
    flair = "3f1c9a2e-1111-4a5b-9c3d-0123456789ab"
    fake.add_subreddit("announcements", flairs={flair: "News"})
    recorder = Recorder()
    async with connect(fake, recorder) as reddit:
        posted = await reddit.ex_publish(
            Post(text="Big news\nThe body.", content_warning="spoilers ahead", sensitive=True),
            subreddit="announcements",
            flair_id=flair,
        )
        with pytest.raises(InvalidRequestError, match="flair"):
            await reddit.ex_publish(
                "Other", subreddit="announcements", flair_id="00000000-0000-0000-0000-000000000000"
            )
        with pytest.raises(ValidationError):
            await reddit.ex_publish("x", subreddit="no/such")
    assert posted.sensitive
    assert posted.content_warning == "spoiler"
    assert posted.text == "Big news\nThe body."
    assert "/r/announcements/" in (posted.url or "")
    thing = fake.things[str(posted.id)]
    assert (thing.flair, thing.nsfw, thing.spoiler) == ("News", True, True)


async def test_video_has_a_poster_and_gallery_captions_are_the_alt_texts() -> None:
    fake = FakeReddit()
    recorder = Recorder()
    async with connect(fake, recorder) as reddit:
        video = await reddit.publish(Post(text="A video", media=[Media.from_bytes(c.MP4_HEAD)]))
        gallery = await reddit.publish(
            Post(
                text="Two pictures",
                media=[
                    Media.from_bytes(c.PNG_1X1, alt="left"),
                    Media.from_bytes(c.PNG_1X1, alt="right"),
                ],
            )
        )
    assert [m.kind for m in video.media] == ["video"]
    assert [m.alt for m in gallery.media] == ["left", "right"]
    submit = next(r for r in recorder.requests if r.url.path == "/api/submit")
    body = parse_qs(submit.content.decode())
    assert body["kind"] == ["video"]
    assert body["video_poster_url"][0].startswith(fake.base_url)
    leases = recorder.paths().count("POST /api/media/asset.json")
    assert leases == 4, "video, its poster, and two gallery images"


async def test_crosspost_and_link_posts() -> None:
    fake = FakeReddit()
    original = fake.publish_as(fake.add_user("fan0"), "Original post")
    async with connect(fake) as reddit:
        cross = await reddit.publish(Post(text="Worth a look", quote_of=original))
        link = await reddit.publish(Post(text="An article", link="https://example.com/a?b=1"))
    assert cross.quote_of == original
    assert link.link == "https://example.com/a?b=1"


@pytest.mark.parametrize(
    ("post", "code"),
    [
        (Post(text="\nno title"), "title_missing"),
        (Post(text="title\nand a body", link="https://example.com"), "body_not_allowed"),
        (
            Post(text="both", media=[Media.from_bytes(c.MP4_HEAD), Media.from_bytes(c.PNG_1X1)]),
            "video_alone",
        ),
        (Post(text="x", quote_of="t3_abc", link="https://example.com"), "crosspost_alone"),
        # A comment is markdown text only (/api/comment): media and crossposts are refused,
        # not dropped.
        (
            Post(text="a comment", reply_to="t3_abc", media=[Media.from_bytes(c.PNG_1X1)]),
            "unsupported",
        ),
        (Post(text="a comment", reply_to="t1_abc", quote_of="t3_def"), "unsupported"),
        (
            Post(text="Title", thread=[Post(text="", media=[Media.from_bytes(c.PNG_1X1)])]),
            "unsupported",
        ),
        (Post(text=" ", reply_to="t3_abc"), "text_missing"),
    ],
)
async def test_reddit_rules_are_checked_offline(post: Post, code: str) -> None:
    fake = FakeReddit()
    recorder = Recorder()
    async with connect(fake, recorder) as reddit:
        assert code in [p.code for p in reddit.check(post)]
        with pytest.raises(InvalidPostError):
            await reddit.publish(post)
    assert recorder.requests == []


@pytest.mark.parametrize("bad", ["t3_../../api/v1/me", "T3_abc", "t9_abc", "", "abc/def"])
async def test_bad_ids_are_refused_before_any_request(bad: str) -> None:
    fake = FakeReddit()
    recorder = Recorder()
    async with connect(fake, recorder) as reddit:
        for call in (reddit.like, reddit.unlike, reddit.bookmark, reddit.delete, reddit.get_post):
            with pytest.raises(ValidationError):
                await call(bad)
        with pytest.raises((ValidationError, InvalidPostError)):
            await reddit.reply(bad, "hi")
        with pytest.raises(ValidationError):
            await reddit.account("not a name!")
    assert recorder.requests == []


async def test_edit_keeps_the_title() -> None:
    fake = FakeReddit()
    async with connect(fake) as reddit:
        posted = await reddit.publish(Post(text="Title\nold body"))
        assert posted.id is not None
        edited = await reddit.edit(posted.id, Post(text="Title\nnew body"))
        with pytest.raises(ValidationError, match="titles cannot be edited"):
            await reddit.edit(posted.id, Post(text="Another title\nbody"))
        comment = await reddit.reply(posted.id, "first words")
        assert comment.id is not None
        changed = await reddit.edit(comment.id, Post(text="second words"))
    assert edited.text == "Title\nnew body"
    assert changed.text == "second words"


async def test_a_comments_link_is_a_paragraph_of_its_text() -> None:
    # /api/comment takes markdown text only: the post's link goes in it (once).
    fake = FakeReddit()
    async with connect(fake) as reddit:
        posted = await reddit.publish(Post(text="My post"))
        assert posted.id is not None
        linked = await reddit.reply(posted.id, Post(text="see", link="https://example.com/a"))
        held = await reddit.reply(
            posted.id, Post(text="see https://example.com/b", link="https://example.com/b")
        )
    assert linked.text == "see\n\nhttps://example.com/a"
    assert held.text == "see https://example.com/b"


# -- reading ---------------------------------------------------------------------------------


async def test_inbox_search_and_comments() -> None:
    fake = FakeReddit()
    fan = fake.add_user("fan0")
    fake.publish_as(fan, "Searching for socialkit\nbody")
    async with connect(fake) as reddit:
        posted = await reddit.publish(Post(text="My post"))
        assert posted.id is not None
        fake.reply(posted.id, fan, "a comment")
        fake.direct(fan, "a private message")
        found = [p.text async for p in reddit.ex_search("socialkit", subreddit="socialkit")]
        direct = [m async for m in reddit.messages(kinds={"direct"})]
        answer = await reddit.reply(direct[0], "thanks")
        mine = [p.id async for p in reddit.ex_comments()]
    assert found == ["Searching for socialkit\nbody"]
    assert [m.text for m in direct] == ["a private message"]
    assert answer.id is not None
    assert answer.id.startswith("t4_")
    assert mine == []  # a reply to a private message is a message, not a comment


async def test_a_kinds_filter_reads_past_inbox_pages_it_filters_out() -> None:
    # The inbox mixes comment replies and private messages; a ``kinds`` filter keeps some on
    # our side. Pages of only other kinds are not the end of the inbox (``after`` goes on):
    # with ``limit=1`` (pages of one) three of them in a row used to end the walk empty.
    fake = FakeReddit()
    fan = fake.add_user("fan0")
    recorder = Recorder()
    async with connect(fake, recorder) as reddit:
        fake.direct(fan, "a private message")
        posted = await reddit.publish(Post(text="My post"))
        assert posted.id is not None
        for n in range(4):
            fake.reply(posted.id, fan, f"comment {n}")
        recorder.requests.clear()
        direct = [m.text async for m in reddit.messages(kinds={"direct"}, limit=1)]
    assert direct == ["a private message"]
    inbox = [r for r in recorder.requests if r.url.path == "/message/inbox"]
    assert len(inbox) <= 3  # after a page of others, full pages, not one item at a time


async def test_read_back_counts_use_the_common_names_metrics_uses() -> None:
    """A post's ``metrics`` on read carry the names ``metrics()`` reports (the score is the
    like count, ``num_comments`` the replies), so workflows compare networks alike."""
    fake = FakeReddit()
    fan = fake.add_user("fan0")
    async with connect(fake) as reddit:
        posted = await reddit.publish(Post(text="Counted"))
        assert posted.id is not None
        fake.like(posted.id, fan)
        fake.reply(posted.id, fan, "a comment")
        read = await reddit.get_post(posted.id)
        measured = {m.name: m.value for m in (await reddit.metrics([posted.id]))[posted.id]}
    assert set(read.metrics) == {"likes", "replies"}
    assert read.metrics["replies"] == 1
    assert read.metrics["likes"] == measured["likes"]
    assert read.metrics["replies"] == measured["replies"]


async def test_rate_limit_headers_reach_the_pipeline() -> None:
    fake = FakeReddit(rate_limit=3, rate_window=600)
    async with connect(fake, rate_limit="raise") as reddit:
        await reddit.me()
        await reddit.get_post(fake.publish_as(fake.owner, "one"))
        state = reddit._session.rate_limits["default"]  # type: ignore[union-attr]
        assert state.limit == 3
        assert state.remaining is not None
        assert state.remaining <= 1
        await reddit.get_post(fake.publish_as(fake.owner, "two"))
        with pytest.raises(RateLimitError) as info:
            await reddit.get_post(fake.publish_as(fake.owner, "three"))
    assert info.value.local
    assert info.value.retry_after is not None
    assert 500 < info.value.retry_after <= 600
