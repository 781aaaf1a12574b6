"""Mastodon behaviour beyond the conformance suites. Every test checks all of its traffic
against ``../shared/specs/mastodon/schema.json`` (``assert_conforms``); bodies come from
``bodies.py``, which names the schema each one follows."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import respx
from tests.adapters.mastodon import bodies as b
from tests.adapters.mastodon.support import (
    SUITE_MALFORMED_TEXT,
    TOKEN,
    assert_conforms,
    make,
    rate_headers,
    route_instance,
    route_me,
)
from tests.adapters.mastodon.support import (
    json as respond,
)

from socialkit import (
    InvalidPostError,
    Media,
    Message,
    NotFoundError,
    Poll,
    Post,
    RateLimitError,
    ThreadIncompleteError,
    ValidationError,
)
from socialkit._http import RetryPolicy, Session
from socialkit._store import MemoryStore
from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.auth import BearerAuth
from socialkit.testing.conformance import PNG_1X1

pytestmark = [pytest.mark.spec, pytest.mark.anyio]

STATUSES = f"{b.BASE}/api/v1/statuses"


@pytest.fixture
def router() -> respx.MockRouter:
    return respx.MockRouter(assert_all_mocked=True, assert_all_called=False)


@pytest.fixture
async def http(router: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as client:
        yield client
    assert_conforms(router)


@pytest.fixture
async def adapter(http: httpx.AsyncClient) -> AsyncIterator[MastodonAdapter]:
    async with make(http) as a:
        yield a


def sent_json(route: respx.Route, index: int = -1) -> dict[str, object]:
    body = json.loads(route.calls[index].request.content)
    assert isinstance(body, dict)
    return body


# -- media -------------------------------------------------------------------------------------


async def test_media_waits_for_processing(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    """POST /api/v2/media answers 202 (url null); GET /api/v1/media/:id answers 206 while
    processing, then 200: only then is the status created with the media id."""
    route_instance(router)
    upload = router.post(f"{b.BASE}/api/v2/media").mock(
        return_value=respond(202, b.media_attachment("900", ready=False, description="A pixel"))
    )
    poll = router.get(f"{b.BASE}/api/v1/media/900").mock(
        side_effect=[
            httpx.Response(206, json=b.media_attachment("900", ready=False)),
            respond(200, b.media_attachment("900", description="A pixel")),
        ]
    )
    create = router.post(STATUSES).mock(
        return_value=respond(200, b.status("7", media=[b.media_attachment("900")]))
    )
    posted = await adapter.publish(
        Post(text="pixel", media=[Media.from_bytes(PNG_1X1, alt="A pixel")])
    )
    assert posted.id == "7"
    assert (upload.call_count, poll.call_count, create.call_count) == (1, 2, 1)
    order = [call.request.url.path for call in router.calls]
    assert order.index("/api/v1/statuses") > max(
        i for i, p in enumerate(order) if p == "/api/v1/media/900"
    )
    assert sent_json(create)["media_ids"] == ["900"]
    form = upload.calls[0].request.content
    assert b'name="description"' in form
    assert b"A pixel" in form
    assert PNG_1X1 in form


async def test_media_processing_gives_up(http: httpx.AsyncClient, router: respx.MockRouter) -> None:
    from socialkit import TimeoutError

    route_instance(router)
    router.post(f"{b.BASE}/api/v2/media").mock(
        return_value=respond(202, b.media_attachment("901", ready=False))
    )
    poll = router.get(f"{b.BASE}/api/v1/media/901").mock(
        return_value=httpx.Response(206, json=b.media_attachment("901", ready=False))
    )
    create = router.post(STATUSES)
    async with make(http, media_max_polls=3) as adapter:
        with pytest.raises(TimeoutError, match="still being processed"):
            await adapter.publish(Post(text="x", media=[Media.from_bytes(PNG_1X1, alt="p")]))
    assert poll.call_count == 3
    assert not create.called, "a status must never attach unprocessed media"


# -- scheduling --------------------------------------------------------------------------------


async def test_scheduled_create_list_cancel(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    when = (datetime.now(timezone.utc) + timedelta(hours=2)).replace(microsecond=0)
    stamp = when.isoformat().replace("+00:00", "Z")
    route_instance(router)
    create = router.post(STATUSES).mock(
        return_value=respond(200, b.scheduled_status("3001", "Later", stamp))
    )
    listed = router.get(f"{b.BASE}/api/v1/scheduled_statuses").mock(
        return_value=respond(
            200,
            [b.scheduled_status("3001", "Later", stamp), b.scheduled_status("3000", "x", stamp)],
        )
    )
    cancel = router.delete(f"{b.BASE}/api/v1/scheduled_statuses/3001").mock(
        return_value=respond(200, {})
    )

    posted = await adapter.publish(Post(text="Later", scheduled_at=when))
    assert posted.id == "3001"
    assert posted.is_scheduled
    assert posted.url is None
    assert posted.scheduled_at == when
    assert sent_json(create)["scheduled_at"] == stamp

    found = [p async for p in adapter.ex_scheduled()]
    assert [p.id for p in found] == ["3001", "3000"]
    assert all(p.scheduled_at == when for p in found)
    assert listed.call_count == 1

    await adapter.ex_cancel_scheduled("3001")
    assert cancel.call_count == 1


async def test_schedule_too_soon_is_refused_offline(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    soon = datetime.now(timezone.utc) + timedelta(minutes=2)
    problems = adapter.check(Post(text="x", scheduled_at=soon))
    assert [p.code for p in problems] == ["scheduled_too_soon"]
    thread = Post(
        text="a",
        thread=[Post(text="b")],
        scheduled_at=datetime.now(timezone.utc) + timedelta(hours=1),
    )
    assert [p.code for p in adapter.check(thread)] == ["unsupported"]
    assert not router.calls


# -- idempotency -------------------------------------------------------------------------------


async def test_idempotency_key_reused_on_retry(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    """A 503 after sending: the pipeline re-sends the create with the SAME Idempotency-Key,
    so Mastodon answers with the status it already created instead of posting twice."""
    route_instance(router)
    create = router.post(STATUSES).mock(
        side_effect=[
            respond(503, b.error("Service Unavailable")),
            respond(200, b.status("8", "<p>once</p>")),
            respond(200, b.status("9", "<p>twice</p>")),
        ]
    )
    first = await adapter.publish(Post(text="once"))
    assert first.id == "8"
    keys = [call.request.headers.get("Idempotency-Key") for call in create.calls]
    assert len(keys) == 2
    assert keys[0]
    assert keys[0] == keys[1]
    await adapter.publish(Post(text="twice"))
    assert create.calls[2].request.headers["Idempotency-Key"] != keys[0]


async def test_every_attempt_failing_is_outcome_unknown_with_the_key(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    """503 on every attempt (schema.json lists 503 for POST /api/v1/statuses): the status may
    exist, so the error is OutcomeUnknownError carrying the key every attempt was sent
    under; publishing again with it sends that same key."""
    from socialkit import OutcomeUnknownError

    route_instance(router)
    create = router.post(STATUSES).mock(return_value=respond(503, b.error("Service Unavailable")))
    with pytest.raises(OutcomeUnknownError) as caught:
        await adapter.publish(Post(text="maybe"))
    key = caught.value.idempotency_key
    assert key is not None
    assert caught.value.__cause__ is not None
    assert {c.request.headers["Idempotency-Key"] for c in create.calls} == {key}
    assert create.call_count == 3  # the retries setting of ``make``
    create.mock(return_value=respond(200, b.status("77", "<p>maybe</p>")))
    again = await adapter.publish(Post(text="maybe"), idempotency_key=key)
    assert again.id == "77"
    assert create.calls[-1].request.headers["Idempotency-Key"] == key


async def test_unreadable_success_body_is_outcome_unknown(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    from socialkit import OutcomeUnknownError

    route_instance(router)
    # The support module's deliberately malformed body (exempt from the schema check).
    router.post(STATUSES).mock(
        return_value=httpx.Response(
            200, content=SUITE_MALFORMED_TEXT, headers={"content-type": "application/json"}
        )
    )
    with pytest.raises(OutcomeUnknownError, match="order-9"):
        await adapter.publish(Post(text="cut off"), idempotency_key="order-9")


async def test_a_refusal_is_not_outcome_unknown(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    from socialkit import InvalidRequestError

    route_instance(router)
    router.post(STATUSES).mock(
        return_value=respond(422, b.validation_error("Validation failed: Text can't be blank"))
    )
    with pytest.raises(InvalidRequestError, match="blank"):
        await adapter.publish(Post(text="x"))


async def test_blank_idempotency_key_is_refused(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    route_instance(router)
    with pytest.raises(ValidationError, match="idempotency_key"):
        await adapter.publish(Post(text="x"), idempotency_key="  ")


# -- pagination --------------------------------------------------------------------------------


async def test_hashtag_timeline_three_pages(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    path = f"{b.BASE}/api/v1/timelines/tag/python"
    pages = [["9", "8"], ["7", "6"], ["5"]]

    def page(index: int) -> httpx.Response:
        headers = {}
        if index < 2:
            headers["Link"] = f'<{path}?limit=40&max_id={pages[index][-1]}>; rel="next"'
        return respond(200, [b.status(i) for i in pages[index]], headers)

    second = router.get(path, params={"max_id": "8"}).mock(return_value=page(1))
    third = router.get(path, params={"max_id": "6"}).mock(return_value=page(2))
    first = router.get(path).mock(return_value=page(0))
    got = [p.id async for p in adapter.ex_hashtag_timeline("#python")]
    assert got == ["9", "8", "7", "6", "5"]
    assert first.call_count == second.call_count == third.call_count == 1


async def test_link_to_another_host_is_refused(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    from socialkit import MalformedResponseError

    path = f"{b.BASE}/api/v1/timelines/tag/python"
    router.get(path).mock(
        return_value=respond(
            200, [b.status("9")], {"Link": '<https://evil.example/api/v1/x?max_id=9>; rel="next"'}
        )
    )
    with pytest.raises(MalformedResponseError):
        _ = [p async for p in adapter.ex_hashtag_timeline("python")]


async def test_posts_of_another_account_and_since(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    bob = b.account("2", "bob", domain="remote.example")
    lookup = router.get(f"{b.BASE}/api/v1/accounts/lookup").mock(return_value=respond(200, bob))
    router.get(f"{b.BASE}/api/v1/accounts/2/statuses").mock(
        return_value=respond(
            200,
            [
                b.status("12", author=bob, created_at="2025-05-03T00:00:00.000Z"),
                b.status("11", author=bob, created_at="2025-05-02T00:00:00.000Z"),
                b.status("10", author=bob, created_at="2025-04-01T00:00:00.000Z"),
            ],
        )
    )
    since = datetime(2025, 5, 1, tzinfo=timezone.utc)
    got = [p async for p in adapter.posts(account="@bob@remote.example", since=since)]
    assert [p.id for p in got] == ["12", "11"]
    assert got[0].author is not None
    assert got[0].author.handle == "bob@remote.example"
    assert lookup.calls[0].request.url.params["acct"] == "bob@remote.example"


# -- rate limits -------------------------------------------------------------------------------


async def test_429_wait_mode_waits_for_the_reset(
    adapter: MastodonAdapter, http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    """Wait mode sleeps until X-RateLimit-Reset (an ISO time 30 s ahead), then sends again.
    The session gets an injected sleep and clock, so no time passes."""
    now = [time.time()]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    adapter._session = Session(
        adapter.network,
        client=http,
        auth=BearerAuth(TOKEN),
        rate_limit="wait",
        retry=RetryPolicy(attempts=3),
        sleep=sleep,
        clock=lambda: now[0],
    )
    limited = respond(429, b.error("Too many requests"), rate_headers(0, 30))
    route = route_me(router)
    route.side_effect = [limited, respond(200, b.credential_account(), rate_headers(299, 300))]
    account = await adapter.me()
    assert account.id == b.ME_ID
    assert route.call_count == 2
    assert 28 <= sum(slept) <= 31


async def test_429_raise_mode_raises_with_reset(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    route = route_me(router)
    route.mock(return_value=respond(429, b.error("Too many requests"), rate_headers(0, 60)))
    async with make(http, rate_limit="raise") as adapter:
        with pytest.raises(RateLimitError) as info:
            await adapter.me()
    error = info.value
    assert route.call_count == 1
    assert error.reset_at is not None
    ahead = (error.reset_at - datetime.now(timezone.utc)).total_seconds()
    assert 50 < ahead <= 61
    assert (error.remaining, error.limit, error.bucket) == (0, 300, "default")
    assert error.message == "Too many requests"


async def test_media_and_delete_buckets(adapter: MastodonAdapter, router: respx.MockRouter) -> None:
    route_instance(router)
    router.post(f"{b.BASE}/api/v2/media").mock(
        return_value=respond(200, b.media_attachment("902"), rate_headers(29, 1800, limit=30))
    )
    router.post(STATUSES).mock(return_value=respond(200, b.status("5"), rate_headers(250, 300)))
    router.delete(f"{STATUSES}/5").mock(
        return_value=respond(200, b.status("5"), rate_headers(17, 1800, limit=30))
    )
    await adapter.publish(Post(text="x", media=[Media.from_bytes(PNG_1X1, alt="p")]))
    await adapter.delete("5")
    limits = adapter.session.rate_limits
    assert (limits["media"].limit, limits["media"].remaining) == (30, 29)
    assert (limits["delete"].limit, limits["delete"].remaining) == (30, 17)
    assert limits["default"].remaining == 250


# -- errors ------------------------------------------------------------------------------------


async def test_422_names_the_servers_reason(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    route_instance(router)
    router.post(STATUSES).mock(
        return_value=respond(422, b.validation_error("Validation failed: Text can't be blank"))
    )
    with pytest.raises(ValidationError, match="Text can't be blank") as info:
        await adapter.publish(Post(text="x"))
    assert info.value.status == 422


async def test_404_status(adapter: MastodonAdapter, router: respx.MockRouter) -> None:
    router.get(f"{STATUSES}/404").mock(return_value=respond(404, b.error("Record not found")))
    with pytest.raises(NotFoundError, match="Record not found"):
        await adapter.get_post("404")


# -- pre-flight with the server's limits -----------------------------------------------------------


async def test_instance_limits_apply_to_the_check(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    """A server with 100 characters, URLs counted as 10 and PNG-less media types: publish loads
    them (once) and refuses what a stock server would accept; ``check`` then uses them too."""
    instance = route_instance(
        router, max_characters=100, reserved_per_url=10, mime_types=["image/jpeg"], poll_options=2
    )
    long = "a" * 101
    assert adapter.check(Post(text=long)) == []  # stock limits until the server's are known
    with pytest.raises(InvalidPostError) as info:
        await adapter.publish(Post(text=long))
    assert [p.code for p in info.value.problems] == ["text_too_long"]
    assert info.value.problems[0].limit == 100
    assert instance.call_count == 1
    assert adapter.limits.max_text == 100
    url = "https://example.com/" + "p" * 200
    assert adapter.check(Post(text="b" * 89 + " " + url)) == []  # 89 + 1 + 10
    assert [p.code for p in adapter.check(Post(text="b" * 90 + " " + url))] == ["text_too_long"]
    assert adapter.check(Post(text="hi @someone@far.away.example")) == []
    png = Post(text="x", media=[Media.from_bytes(PNG_1X1, alt="p")])
    assert [p.code for p in adapter.check(png)] == ["media_type_unsupported"]
    poll = Post(text="vote", poll=Poll(options=["a", "b", "c"], duration=3600))
    assert [p.code for p in adapter.check(poll)] == ["too_many_poll_options"]
    # the cache is per server: a second adapter on the same server sends nothing
    second = make(adapter.http, forget=False)
    assert second.limits.max_text == 100
    await second.ex_load_limits()
    assert instance.call_count == 1
    await second.aclose()


async def test_content_warning_and_link_count(adapter: MastodonAdapter) -> None:
    post = Post(text="a" * 490, content_warning="spoiler!!!!")
    assert [p.code for p in adapter.check(post)] == ["text_too_long"]
    assert adapter.check(Post(text="a" * 470, link="https://example.com/x")) == []
    assert [p.code for p in adapter.check(Post(text="a" * 480, link="https://e.com/x"))] == [
        "text_too_long"
    ]


async def test_poll_rules(adapter: MastodonAdapter) -> None:
    both = Post(
        text="x",
        media=[Media.from_bytes(PNG_1X1, alt="p")],
        poll=Poll(options=["a", "b"], duration=600),
    )
    assert "media_and_poll" in [p.code for p in adapter.check(both)]
    short = Post(text="x", poll=Poll(options=["a", "b"], duration=60))
    assert [p.code for p in adapter.check(short)] == ["poll_duration"]


async def test_poll_body(adapter: MastodonAdapter, router: respx.MockRouter) -> None:
    route_instance(router)
    create = router.post(STATUSES).mock(return_value=respond(200, b.status("70")))
    await adapter.publish(
        Post(
            text="Tea or coffee?",
            poll=Poll(options=["Tea", "Coffee"], duration=timedelta(days=1), multiple=True),
            visibility="followers",
            content_warning="drinks",
            language="en",
            sensitive=True,
        )
    )
    body = sent_json(create)
    assert body == {
        "status": "Tea or coffee?",
        "poll": {"options": ["Tea", "Coffee"], "expires_in": 86400, "multiple": True},
        "visibility": "private",
        "sensitive": True,
        "spoiler_text": "drinks",
        "language": "en",
    }


async def test_quote_post(adapter: MastodonAdapter, router: respx.MockRouter) -> None:
    route_instance(router, api_version=7)
    create = router.post(STATUSES).mock(
        return_value=respond(200, b.status("71", "<p>this</p>", quote_of="60"))
    )
    posted = await adapter.publish(Post(text="this", quote_of="60"))
    assert sent_json(create)["quoted_status_id"] == "60"
    assert posted.quote_of == "60"


async def test_quote_refused_before_4_5(adapter: MastodonAdapter, router: respx.MockRouter) -> None:
    route_instance(router, api_version=6)
    create = router.post(STATUSES)
    with pytest.raises(InvalidPostError, match="quote"):
        await adapter.publish(Post(text="this", quote_of="60"))
    assert not create.called


# -- threads -----------------------------------------------------------------------------------


async def test_thread_stops_cleanly(adapter: MastodonAdapter, router: respx.MockRouter) -> None:
    route_instance(router)
    create = router.post(STATUSES).mock(
        side_effect=[
            respond(200, b.status("81", "<p>1/3</p>")),
            respond(422, b.validation_error("Validation failed: Text is too long")),
        ]
    )
    post = Post(text="1/3", thread=[Post(text="2/3"), Post(text="3/3")])
    with pytest.raises(ThreadIncompleteError) as info:
        await adapter.publish(post)
    error = info.value
    assert [p.id for p in error.published] == ["81"]
    assert error.total == 3
    assert isinstance(error.cause, ValidationError)
    assert "Text is too long" in str(error)
    assert create.call_count == 2, "nothing after the failure is sent"
    assert sent_json(create, 1)["in_reply_to_id"] == "81"


# -- reading, metrics, messages ----------------------------------------------------------------


async def test_get_post_maps_the_status(adapter: MastodonAdapter, router: respx.MockRouter) -> None:
    router.get(f"{STATUSES}/90").mock(
        return_value=respond(
            200,
            b.status(
                "90",
                '<p>Hello <a href="https://example.com/a">https://example.com/a</a></p><p>Bye</p>',
                visibility="unlisted",
                replies=1,
                reblogs=2,
                favourites=3,
                quotes=4,
                spoiler_text="cw",
            ),
        )
    )
    post = await adapter.get_post("90")
    assert post.text == "Hello https://example.com/a\n\nBye"
    assert (post.visibility, post.content_warning) == ("unlisted", "cw")
    assert post.metrics == {"replies": 1, "reposts": 2, "likes": 3, "quotes": 4}
    assert post.created_at == datetime(2025, 5, 1, 12, tzinfo=timezone.utc)
    assert post.author is not None
    assert post.author.handle == f"alice@{b.HOST}"


async def test_read_back_audio_video_poll_card_and_boost(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    """Bodies of the schemas MediaAttachment (with MetaDetails), Poll and PreviewCard: audio is
    kept, sizes and durations come from ``meta.original``, hidden poll totals read as None,
    the card gives the link, and a boost reads as the boosted status."""
    audio = b.media_attachment(
        "31",
        type="audio",
        extension="mp3",
        description="a song",
        meta={"original": {"duration": 61.5, "bitrate": 128000}},
    )
    video = b.media_attachment(
        "32",
        type="video",
        extension="mp4",
        meta={"original": {"width": 640, "height": 360, "duration": 4.2}, "small": {"width": 400}},
    )
    status = b.status("40", "<p>listen</p>", media=[audio, video])
    status["card"] = b.card("https://example.com/article")
    status["poll"] = b.poll("7", [("a", None), ("b", None)], expires_at="2025-05-01T13:00:00.000Z")
    router.get(f"{STATUSES}/40").mock(return_value=respond(200, status))
    got = await adapter.get_post("40")
    assert got.text == "listen"
    assert got.link == "https://example.com/article"
    assert [(m.kind, m.mime_type, m.id) for m in got.media] == [
        ("audio", "audio/mpeg", "31"),
        ("video", "video/mp4", "32"),
    ]
    assert got.media[0].alt == "a song"
    assert got.media[0].duration == 61.5
    assert (got.media[1].width, got.media[1].height, got.media[1].duration) == (640, 360, 4.2)
    assert got.media[1].preview_url == f"{b.BASE}/media/32_small.png"
    assert got.poll is not None
    assert got.poll.votes is None  # the server hides the totals until the poll ends
    assert got.poll.duration == timedelta(hours=1)

    boost = b.status("41", "", author=b.account("5", "bob"))
    boost["reblog"] = b.status("40", "<p>listen</p>")
    router.get(f"{STATUSES}/41").mock(return_value=respond(200, boost))
    boosted = await adapter.get_post("41")
    assert boosted.id == "40"
    assert boosted.text == "listen"


async def test_metrics_batches_of_twenty(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    ids = [str(i) for i in range(1, 26)]

    def answer(request: httpx.Request) -> httpx.Response:
        asked = request.url.params.get_list("id[]")
        return respond(200, [b.status(i, favourites=int(i)) for i in asked if i != "25"])

    route = router.get(STATUSES).mock(side_effect=answer)
    got = await adapter.metrics(ids)
    assert route.call_count == 2
    assert [len(c.request.url.params.get_list("id[]")) for c in route.calls] == [20, 5]
    assert set(got) == set(ids) - {"25"}
    likes = {m.name: m for m in got["3"]}["likes"]
    assert (likes.value, likes.native_name) == (3, "favourites_count")


async def test_account_metrics(adapter: MastodonAdapter, router: respx.MockRouter) -> None:
    route_me(router)
    got = {m.name: (m.value, m.native_name) for m in await adapter.account_metrics()}
    assert got == {
        "followers": (120, "followers_count"),
        "following": (80, "following_count"),
        "posts": (42, "statuses_count"),
    }


async def test_context_replies(adapter: MastodonAdapter, router: respx.MockRouter) -> None:
    bob = b.account("2", "bob", domain="remote.example")
    router.get(f"{STATUSES}/40/context").mock(
        return_value=respond(
            200,
            {
                "ancestors": [],
                "descendants": [
                    b.status("41", "<p>first</p>", author=bob, in_reply_to_id="40"),
                    b.status("42", "<p>second</p>", author=bob, in_reply_to_id="41"),
                ],
            },
        )
    )
    replies = await adapter.ex_context("40")
    assert [(m.id, m.kind, m.post_id, m.text) for m in replies] == [
        ("41", "reply", "40", "first"),
        ("42", "reply", "41", "second"),
    ]


async def test_direct_reply_stays_direct_and_mentions(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    route_instance(router)
    create = router.post(STATUSES).mock(
        return_value=respond(200, b.status("95", visibility="direct", in_reply_to_id="497"))
    )
    author = b.account("3", "carol")
    from socialkit.adapters.mastodon import _mapping
    from socialkit.adapters.mastodon._wire import Account as WireAccount

    message = Message(
        id="497",
        network="mastodon",
        kind="direct",
        text="psst",
        author=_mapping.account(WireAccount.model_validate(author), b.HOST),
        created_at=datetime(2025, 5, 2, tzinfo=timezone.utc),
    )
    await adapter.reply(message, "Hi back")
    body = sent_json(create)
    assert body["visibility"] == "direct"
    assert body["in_reply_to_id"] == "497"
    assert body["status"] == f"@carol@{b.HOST} Hi back"


async def test_messages_filter_and_limit(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    route_me(router)
    bob = b.account("2", "bob", domain="remote.example")
    notes = router.get(f"{b.BASE}/api/v1/notifications").mock(
        return_value=respond(
            200,
            [
                b.notification("n2", "mention", b.status("601", author=bob)),
                b.notification("n1", "mention", b.status("600", author=bob)),
            ],
        )
    )
    conversations = router.get(f"{b.BASE}/api/v1/conversations")
    got = [m async for m in adapter.messages(kinds={"mention"}, limit=1)]
    assert [(m.id, m.kind) for m in got] == [("601", "mention")]
    assert notes.calls[0].request.url.params.get_list("types[]") == ["mention"]
    assert not conversations.called


async def test_search_statuses_and_hashtags(
    adapter: MastodonAdapter, router: respx.MockRouter
) -> None:
    tag = {
        "name": "python",
        "url": f"{b.BASE}/tags/python",
        "id": "1",
        "history": [{"day": "1714521600", "uses": "4", "accounts": "3"}],
    }
    search = router.get(f"{b.BASE}/api/v2/search").mock(
        side_effect=[
            respond(
                200, {"accounts": [], "hashtags": [], "statuses": [b.status("1"), b.status("2")]}
            ),
            respond(200, {"accounts": [], "hashtags": [tag], "statuses": []}),
        ]
    )
    got = [p.id async for p in adapter.search("socialkit", limit=2)]
    assert got == ["1", "2"]
    params = search.calls[0].request.url.params
    assert (params["type"], params["resolve"], params["limit"]) == ("statuses", "true", "2")
    tags = await adapter.ex_search_hashtags("#python")
    assert [(t.name, t.uses_recently) for t in tags] == [("python", 4)]


async def test_edit_and_delete(adapter: MastodonAdapter, router: respx.MockRouter) -> None:
    route_instance(router)  # edit checks the text against the server's own limits first
    edit = router.put(f"{STATUSES}/96").mock(
        return_value=respond(200, b.status("96", "<p>fixed</p>"))
    )
    delete = router.delete(f"{STATUSES}/96").mock(return_value=respond(200, b.status("96")))
    edited = await adapter.edit("96", Post(text="fixed", content_warning="cw"))
    assert edited.text == "fixed"
    assert sent_json(edit) == {
        "status": "fixed",
        "sensitive": False,
        "spoiler_text": "cw",
        "media_ids": [],
    }
    await adapter.delete("96")
    assert delete.call_count == 1


# -- login -------------------------------------------------------------------------------------


async def test_register_authorize_exchange_and_stored_token(
    http: httpx.AsyncClient, router: respx.MockRouter
) -> None:
    store = MemoryStore()
    apps = router.post(f"{b.BASE}/api/v1/apps").mock(
        return_value=respond(
            200,
            {
                "id": "563419",
                "name": "socialkit",
                "website": None,
                "scopes": ["read", "write:statuses"],
                "redirect_uri": "http://127.0.0.1:8765/callback",
                "redirect_uris": ["http://127.0.0.1:8765/callback"],
                "vapid_key": (
                    "BCk-QqERU0q-CfYZjcuB6lnyyOYfJ2AifKqfeGIm7Z-HiTU5T9eTG5GxVA0_"
                    "OH5mMlI4UkkDTpaZwozy0TzdZ2M="
                ),
                "client_id": "TWhM-tNSuncnqN7DBJmoyeLnk6K3iJJ71KKXxgL1hPM",
                "client_secret": "ZEaFUFmF0umgBX1qKJDjaU99Q31lDkOU8NutzTOoliw",
                "client_secret_expires_at": 0,
            },
        )
    )
    async with make(http, access_token=None, store=store, require_credentials=False) as anonymous:
        app = await anonymous.ex_register_app("socialkit", ["http://127.0.0.1:8765/callback"])
    assert "Authorization" not in apps.calls[0].request.headers
    assert "ZEaFUF" not in repr(app)
    assert json.loads(apps.calls[0].request.content)["scopes"] == (
        "read write:statuses write:media write:conversations profile"
    )

    token = router.post(f"{b.BASE}/oauth/token").mock(
        return_value=respond(
            200,
            {
                "access_token": "stored-token-123",
                "token_type": "Bearer",
                "scope": "read write:statuses",
                "created_at": 1573979017,
            },
        )
    )
    route_me(router)
    async with make(
        http,
        access_token=None,
        store=store,
        client_id=app.client_id,
        client_secret=app.client_secret,
        require_credentials=False,
    ) as login:
        request = login.ex_authorization_url("http://127.0.0.1:8765/callback")
        url = urlsplit(request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        assert url.path == "/oauth/authorize"
        assert query["code_challenge_method"] == "S256"
        verifier = request.code_verifier.get_secret_value()
        digest = hashlib.sha256(verifier.encode()).digest()
        assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        # the browser's request is in the description too
        from tests.adapters.mastodon.support import checker

        assert checker().request_violations(httpx.Request("GET", request.url)) == []
        redirect = f"http://127.0.0.1:8765/callback?code=abc&state={request.state}"
        await login.ex_exchange_code(request, redirect)
    sent = json.loads(token.calls[0].request.content)
    assert (sent["code_verifier"], sent["grant_type"]) == (verifier, "authorization_code")
    assert "Authorization" not in token.calls[0].request.headers

    async with make(http, access_token=None, store=store) as later:
        await later.me()
    assert router.calls[-1].request.headers["Authorization"] == "Bearer stored-token-123"


async def test_no_token_anywhere_is_a_clear_error(http: httpx.AsyncClient) -> None:
    """Issue 11: connecting without credentials fails at once (on `async with`), with the fix,
    before any request; an adapter made for the login steps opts out and fails at the call."""
    from socialkit import AuthError, AuthFlowError

    adapter = make(http, access_token=None, store=MemoryStore())
    with pytest.raises(AuthFlowError, match="socialkit auth login mastodon --instance") as info:
        async with adapter:
            raise AssertionError("not reached")
    assert info.value.code == "not_logged_in"
    async with make(http, access_token=None, store=MemoryStore(), require_credentials=False) as a:
        with pytest.raises(AuthError, match="log in first"):
            await a.me()


def test_settings_repr_hides_secrets() -> None:
    from socialkit.adapters.mastodon import MastodonSettings

    settings = MastodonSettings(
        instance="https://mastodon.example/", access_token=TOKEN, client_secret="s3cr3t-value"
    )
    assert TOKEN not in repr(settings)
    assert "s3cr3t-value" not in repr(settings)
    assert settings.instance == "https://mastodon.example"
    with pytest.raises(ValueError, match="instance"):
        MastodonSettings(instance="mastodon.example")
