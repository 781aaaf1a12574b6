"""PinterestAdapter against FakePinterest: boards and how a pin's board is chosen, the 90-day
analytics window, the video media states, rate limits, the login and the refresh rotation.
Every exchange is validated against ``../shared/specs/pinterest/openapi.json``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tests.adapters.pinterest.pinterest_support import Traffic
from tests.http.fetch_support import (
    LOOPBACK,
    GuardTransport,
    MediaServer,
    Reply,
    StubResolver,
    serve,
)

from socialkit import (
    InvalidPostError,
    Media,
    Post,
    RateLimitError,
    UnsupportedError,
    ValidationError,
)
from socialkit._http import MediaFetcher
from socialkit.adapters.pinterest import PinterestAdapter, PinterestMediaError, bucket_for
from socialkit.auth import TokenStore
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakePinterest

pytestmark = [pytest.mark.anyio, pytest.mark.spec]

IMAGE = Media.from_bytes(c.PNG_1X1, alt="a pixel")
VIDEO = Media.from_bytes(c.MP4_HEAD, alt="a clip")
URL_IMAGE = Media.from_url("https://media.example/a.jpg", kind="image", mime_type="image/jpeg")


async def _no_sleep(seconds: float) -> None:
    return None


@pytest.fixture
def fake() -> FakePinterest:
    return FakePinterest()


@pytest.fixture
async def net(fake: FakePinterest) -> AsyncIterator[PinterestAdapter]:
    traffic = Traffic()
    adapter = fake.connect(http=traffic.attach(fake.client()), retry_wait=False)
    assert isinstance(adapter, PinterestAdapter)

    adapter._sleep = _no_sleep
    async with adapter:
        yield adapter
    if traffic.exchanges:
        traffic.verify()


async def test_pins_go_to_the_board_setting_or_the_one_ex_publish_names(
    net: PinterestAdapter, fake: FakePinterest
) -> None:
    first = await net.publish(Post(text="default board", media=[IMAGE]))
    board = await net.ex_create_board("Recipes", description="Good food", privacy="SECRET")
    other = await net.ex_publish(
        Post(text="on another board", media=[IMAGE]), board_id=board.id, title="Soup"
    )
    assert first.id is not None
    assert other.id is not None
    assert fake.pins[first.id].board_id == fake.board_id
    assert fake.pins[other.id].board_id == board.id
    assert fake.pins[other.id].title == "Soup"
    names = {f.name: f.id async for f in net.ex_boards()}
    assert names == {"My pins": fake.board_id, "Recipes": board.id}
    assert [p.id async for p in net.feed(board)] == [other.id]
    assert [f.id async for f in net.ex_boards(privacy="SECRET")] == [board.id]


async def test_without_a_board_nothing_is_sent(fake: FakePinterest) -> None:
    async with fake.connect(board_id=None) as net:
        with pytest.raises(InvalidPostError) as info:
            await net.publish(Post(text="where to?", media=[IMAGE]))
        assert [p.code for p in info.value.problems] == ["board_required"]
        assert isinstance(net, PinterestAdapter)
        posted = await net.ex_publish(Post(text="here", media=[IMAGE]), board_id=fake.board_id)
    assert fake.pins_of() == [posted.id]


async def test_preflight_limits_before_any_request(net: PinterestAdapter) -> None:
    gif = Media.from_bytes(c.GIF_1X1)
    long_alt = Media.from_bytes(c.PNG_1X1, alt="a" * 501)
    for post, code in [
        (Post(text="a gif", media=[gif]), "unsupported"),
        (Post(text="x", media=[long_alt]), "alt_text_too_long"),
        (Post(text="x", media=[IMAGE], link="https://e.com/" + "a" * 2048), "link_too_long"),
        (Post(text="x", media=[IMAGE] * 6), "too_many_media"),
        (Post(text="x", media=[IMAGE, VIDEO]), "mixed_media"),
        (Post(text="x", media=[IMAGE, IMAGE]), "carousel_alt_text"),
        (Post(text="x", media=[Media.from_bytes(c.PNG_1X1), URL_IMAGE]), "carousel_sources"),
    ]:
        assert code in [p.code for p in net.check(post)], code
    with pytest.raises(InvalidPostError, match="title"):
        await net.ex_publish(Post(text="x", media=[IMAGE]), title="t" * 101)
    with pytest.raises(ValidationError):
        await net.ex_publish(Post(text="x", media=[IMAGE]), board_id="../boards")


async def test_video_goes_through_the_media_states(
    net: PinterestAdapter, fake: FakePinterest
) -> None:
    fake.processing_polls = 3
    posted = await net.publish(Post(text="a clip", media=[VIDEO]))
    media_id = next(iter(fake.media))
    assert fake.media_states(media_id) == ["processing"] * 3 + ["succeeded"]
    assert fake.media[media_id].content == c.MP4_HEAD
    assert posted.media[0].kind == "video"
    assert posted.media[0].alt == "a clip"


async def test_a_video_file_is_streamed_and_sent_whole_again_on_a_retry(
    fake: FakePinterest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A file given by its path is read from disk while it is sent, not loaded first; the S3
    # form upload answered 503 once is sent again from the start of the file.
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(c.MP4_HEAD * 64)

    def whole(self: Media) -> bytes:
        raise AssertionError("the video was read into memory")

    monkeypatch.setattr(Media, "read", whole)
    inner = httpx.ASGITransport(app=fake.app)
    uploads: list[int] = []

    class FirstUploadFails(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith("/_upload/"):
                uploads.append(len(await request.aread()))
                if len(uploads) == 1:
                    return httpx.Response(503, text="SlowDown")
            return await inner.handle_async_request(request)

    async with fake.connect(
        http=httpx.AsyncClient(transport=FirstUploadFails()), retry_wait=False
    ) as pinterest:
        posted = await pinterest.publish(
            Post(text="from disk", media=[Media.from_path(clip, alt="from disk")])
        )
    assert posted.media[0].kind == "video"
    assert len(uploads) == 2
    assert uploads[0] == uploads[1]  # the whole form both times
    [media] = fake.media.values()
    assert media.content == c.MP4_HEAD * 64


async def test_a_failed_video_is_an_error_and_the_key_starts_over(
    net: PinterestAdapter, fake: FakePinterest
) -> None:
    fake.fail_next_media()
    with pytest.raises(PinterestMediaError):
        await net.publish(Post(text="broken", media=[VIDEO]), idempotency_key="k")
    assert fake.pins_of() == []
    posted = await net.publish(Post(text="broken", media=[VIDEO]), idempotency_key="k")
    assert fake.pins_of() == [posted.id]
    assert len(fake.media) == 2


async def test_the_same_key_publishes_once(net: PinterestAdapter, fake: FakePinterest) -> None:
    post = Post(text="once", media=[IMAGE])
    first = await net.publish(post, idempotency_key="k1")
    again = await net.publish(post, idempotency_key="k1")
    assert first.id == again.id
    assert fake.pins_of() == [first.id]


async def test_analytics_window_refused_before_any_request(
    net: PinterestAdapter, fake: FakePinterest
) -> None:
    posted = await net.publish(Post(text="counted", media=[IMAGE]))
    assert posted.id is not None
    fake.engage(posted.id, impressions=7, saves=2, pin_clicks=3, outbound_clicks=1)
    today = net.now()
    for since, until in [
        (today - timedelta(days=91), None),
        (None, today + timedelta(days=1)),
        (today - timedelta(days=2), today - timedelta(days=5)),
    ]:
        with pytest.raises(ValidationError):
            await net.account_metrics(since=since, until=until)
        with pytest.raises(ValidationError):
            await net.ex_pin_analytics(posted.id, since=since, until=until)
    oldest = await net.account_metrics(since=today - timedelta(days=90))
    assert {m.name: m.value for m in oldest}["impressions"] == 7
    got = await net.metrics([posted.id, "1234"])  # 1234: no such pin, left out
    assert set(got) == {posted.id}
    pin_metrics = {m.name: m.value for m in got[posted.id]}
    assert pin_metrics == {"impressions": 7, "saves": 2, "clicks": 3, "link_clicks": 1}


async def test_posts_resume(net: PinterestAdapter, fake: FakePinterest) -> None:
    ids = [fake.publish_as(fake.owner, f"pin {i}") for i in range(5)][::-1]
    first = net.posts(limit=2)
    got = [p.id async for p in first]
    fake.publish_as(fake.owner, "newer")
    rest = [p.id async for p in net.posts(cursor=first.cursor)]
    assert got + rest == ids


async def test_delete_edit_and_unsupported(net: PinterestAdapter, fake: FakePinterest) -> None:
    posted = await net.publish(Post(text="to change", media=[IMAGE]))
    assert posted.id is not None
    edited = await net.edit(posted.id, Post(text="changed", link="https://example.com/new"))
    assert (edited.text, edited.link) == ("changed", "https://example.com/new")
    await net.delete(posted.id)
    assert fake.pins_of() == []
    with pytest.raises(UnsupportedError):
        net.messages()
    with pytest.raises(UnsupportedError):
        net.posts(account="someone")
    with pytest.raises(ValidationError):
        await net.get_post("1/../../user_account")


async def test_rate_limited_category_raises_with_its_headers(fake: FakePinterest) -> None:
    limited = FakePinterest(limits={"org_analytics": 1})
    async with limited.connect(rate_limit="raise", retry_wait=False) as net:
        await net.account_metrics()
        with pytest.raises(RateLimitError) as info:
            await net.account_metrics()
        assert info.value.status == 429 or info.value.status is None
        await net.me()  # another category is not limited
    assert bucket_for("GET", "/pins/123/analytics") == "org_analytics"
    assert bucket_for("POST", "/pins") == "org_write"
    assert bucket_for("GET", "/v5/pins/123") == "org_read"


async def test_refresh_rotates_and_is_saved(fake: FakePinterest) -> None:
    settings = fake.settings()
    old_refresh = settings["refresh_token"]
    traffic = Traffic()
    async with fake.connect(http=traffic.attach(fake.client()), **settings) as net:
        await net.me()
        fake.expire_access_tokens()
        await net.me()
    traffic.verify()  # the refresh (POST /oauth/token, HTTP Basic) included
    assert [r.url.path for r, _ in traffic.exchanges].count("/v5/oauth/token") == 1
    assert old_refresh in fake.revoked
    stored = await TokenStore(settings["store"]).get("pinterest", "default")
    assert stored is not None
    assert stored.refresh_token is not None
    assert stored.refresh_token.get_secret_value() in fake.refresh


async def test_login_exchanges_the_code(fake: FakePinterest) -> None:
    values: dict[str, Any] = {**fake.settings(), "access_token": None, "refresh_token": None}
    values["redirect_uri"] = "http://127.0.0.1:8765/callback"
    traffic = Traffic()
    net = fake.connect(http=traffic.attach(fake.client()), **values)
    assert isinstance(net, PinterestAdapter)
    request = net.ex_authorization_url(scopes=["pins:read", "boards:read"])
    assert "scope=pins%3Aread%2Cboards%3Aread" in request.url
    token = await net.ex_exchange_code(request, fake.approve(request.url))
    assert token.refresh_token is not None
    async with net:
        assert (await net.me()).handle == "owner"
    traffic.verify()


def test_repr_and_errors_hold_no_secret(fake: FakePinterest) -> None:
    settings = fake.settings()
    net = fake.connect(**settings)
    text = f"{net!r} {net.settings!r}"
    assert settings["access_token"] not in text
    assert settings["client_secret"] not in text
    assert isinstance(httpx.URL(settings["base_url"]), httpx.URL)


async def test_bulk_analytics_batches_100_pins_a_call(fake: FakePinterest) -> None:
    pins = [fake.publish_as(fake.owner, f"pin {i}") for i in range(101)]
    fake.engage(pins[0], impressions=3)
    traffic = Traffic()
    async with fake.connect(http=traffic.attach(fake.client()), bulk_analytics=True) as net:
        got = await net.metrics([*pins, "1234"])
    traffic.verify()
    calls = [r.url for r, _ in traffic.exchanges if r.url.path == "/v5/pins/analytics"]
    assert len(calls) == 2
    assert set(got) == set(pins)
    assert {m.name: m.value for m in got[pins[0]]}["impressions"] == 3


async def test_save_search_and_people(net: PinterestAdapter, fake: FakePinterest) -> None:
    other = fake.add_user("chef")
    theirs = fake.publish_as(other, "tomato soup recipe")
    saved = await net.ex_save_pin(theirs)
    assert saved.id is not None
    assert fake.has("repost", fake.owner.id, theirs)
    assert fake.pins[saved.id].board_id == fake.board_id
    mine = await net.publish(Post(text="Tomato salad", media=[IMAGE]))
    found = [p.id async for p in net.ex_search_pins("tomato")]
    assert found == [mine.id, saved.id]
    assert [p.id async for p in net.ex_search_pins(f"{mine.id}")] == [mine.id]
    with pytest.raises(ValidationError):
        net.ex_search_pins(" ")
    fans = [fake.add_user(f"fan{i}") for i in range(3)]
    for fan in fans:
        fake.follow(fan, fake.owner)
    fake.follow(fake.owner, other)
    followers = [a async for a in net.ex_followers()]
    assert sorted(a.handle or "" for a in followers) == ["fan0", "fan1", "fan2"]
    assert [a.id async for a in net.ex_following()] == ["chef"]


async def test_a_video_by_url_is_fetched_then_uploaded(fake: FakePinterest) -> None:
    """Pinterest pulls image URLs itself, but a video goes through POST /media: a
    ``Media.from_url`` video is fetched through the MediaFetcher (a loopback server, allowed
    here) and uploaded."""
    server = MediaServer(
        routes={"/clip.mp4": Reply(headers={"Content-Type": "video/mp4"}, body=c.MP4_HEAD)}
    )
    listener = await serve(server)
    async with listener:
        fetcher = MediaFetcher(
            allow=["127.0.0.1/32"],
            resolver=StubResolver({"media.test": [LOOPBACK]}),
            transport=GuardTransport(),
        )
        url = server.url("media.test", "/clip.mp4")
        video = Media.from_url(url, kind="video", mime_type="video/mp4", alt="pulled")
        async with fake.connect(media_fetcher=fetcher, retry_wait=False) as net:
            net._sleep = _no_sleep  # type: ignore[attr-defined]
            posted = await net.publish(Post(text="from a URL", media=[video]))
        listener.close()
    assert posted.media[0].kind == "video"
    assert fake.media[next(iter(fake.media))].content == c.MP4_HEAD
    assert [path for path, _ in server.received] == ["/clip.mp4"]
