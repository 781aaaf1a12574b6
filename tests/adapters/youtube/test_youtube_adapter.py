"""YouTube specifics against FakeYouTube (answers shaped by the discovery documents and
https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol): the
resumable upload interrupted and resumed from the server's ``Range``, the daily quota,
scheduling with ``publishAt``, processing, comments, the token refresh and the pre-flight.
Every exchange is checked against the discovery documents (youtube_support.Recorder)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests._specs import youtube_checker
from tests.adapters.youtube.youtube_support import connect

from socialkit import Media, Post
from socialkit._capabilities import Capability
from socialkit._errors import (
    APIError,
    AuthError,
    InvalidPostError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionError,
    RateLimitError,
    TimeoutError,
    ValidationError,
)
from socialkit._store import MemoryStore
from socialkit.adapters.youtube import (
    QUOTA_COSTS,
    YouTubeAdapter,
    YouTubeProcessingError,
    next_quota_reset,
)
from socialkit.adapters.youtube._network import decode_youtube_error
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeYouTube
from socialkit.testing.fakes._base import FakeClock

pytestmark = pytest.mark.anyio

KiB = 1024
CHUNK = 256 * KiB
#: An MP4 head followed by filler: three chunks of 256 KiB and a short last one.
VIDEO = c.MP4_HEAD + bytes(range(256)) * ((3 * CHUNK + 1000 - len(c.MP4_HEAD)) // 256)


def clip(text: str = "a clip\nits description") -> Post:
    return Post(text=text, media=[Media.from_bytes(VIDEO)])


class DroppingTransport(httpx.AsyncBaseTransport):
    """Forwards to the fake; the upload PUT whose range starts at ``at`` reaches the fake with
    only ``keep`` of its bytes stored, then the connection drops (the answer never comes)."""

    def __init__(self, fake: FakeYouTube, at: int, keep: int, drops: int = 1) -> None:
        self.fake = fake
        self.inner = httpx.ASGITransport(app=fake.app)
        self.at = at
        self.keep = keep
        self.drops = drops
        self.ranges: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content_range = request.headers.get("content-range", "")
        if request.method == "PUT":
            self.ranges.append(content_range)
        hit = self.drops > 0 and content_range.startswith(f"bytes {self.at}-")
        if not hit:
            return await self.inner.handle_async_request(request)
        self.drops -= 1
        self.fake.accept_per_put = self.keep
        try:
            response = await self.inner.handle_async_request(request)
            await response.aread()
        finally:
            self.fake.accept_per_put = None
        raise httpx.ReadError("connection reset mid-chunk", request=request)


def session_of(fake: FakeYouTube) -> Any:
    assert len(fake.sessions) == 1, "one upload session"
    return next(iter(fake.sessions.values()))


async def test_an_upload_cut_mid_chunk_resumes_from_the_range() -> None:
    fake = FakeYouTube()
    transport = DroppingTransport(fake, at=CHUNK, keep=100_000)
    youtube, traffic = connect(fake, transport, chunk_size=CHUNK)
    async with youtube:
        posted = await youtube.publish(clip())
    assert fake.own_videos() == [posted.id]
    assert bytes(session_of(fake).received) == VIDEO
    resumed_at = CHUNK + 100_000
    assert transport.ranges == [
        f"bytes 0-{CHUNK - 1}/{len(VIDEO)}",
        f"bytes {CHUNK}-{2 * CHUNK - 1}/{len(VIDEO)}",
        f"bytes */{len(VIDEO)}",  # asked what the server holds
        f"bytes {resumed_at}-{resumed_at + CHUNK - 1}/{len(VIDEO)}",
        f"bytes {resumed_at + CHUNK}-{len(VIDEO) - 1}/{len(VIDEO)}",
    ]
    assert fake.calls.count("videos.insert") == 1
    traffic.verify()


async def test_a_server_that_keeps_part_of_each_chunk() -> None:
    fake = FakeYouTube()
    fake.accept_per_put = 200_000
    youtube, traffic = connect(fake, chunk_size=CHUNK)
    async with youtube:
        posted = await youtube.publish(clip())
    assert bytes(session_of(fake).received) == VIDEO
    assert fake.own_videos() == [posted.id]
    traffic.verify()


async def test_a_publish_again_with_the_key_resumes_the_same_session() -> None:
    fake = FakeYouTube()
    store = MemoryStore()
    transport = DroppingTransport(fake, at=CHUNK, keep=0, drops=100)
    youtube, _ = connect(fake, transport, chunk_size=CHUNK, store=store, retries=2)
    async with youtube:
        with pytest.raises(OutcomeUnknownError) as info:
            await youtube.publish(clip(), idempotency_key="app-key")
    assert info.value.idempotency_key == "app-key"
    assert fake.own_videos() == []
    # Another process, the same store: the session's URI is in the key's record.
    again, traffic = connect(fake, chunk_size=CHUNK, store=store)
    async with again:
        posted = await again.publish(clip(), idempotency_key="app-key")
        same = await again.publish(clip(), idempotency_key="app-key")
    assert same.id == posted.id
    assert fake.own_videos() == [posted.id]
    assert bytes(session_of(fake).received) == VIDEO
    assert fake.calls.count("videos.insert") == 1
    traffic.verify()


async def test_quota_exceeded_is_a_rate_limit_until_midnight_pacific() -> None:
    clock = FakeClock(datetime(2026, 3, 8, 20, 0, tzinfo=timezone.utc))  # 12:00 PDT
    fake = FakeYouTube(clock=clock, daily_quota=2)
    youtube, traffic = connect(fake, quota_guard=False)
    async with youtube:
        await youtube.me()
        await youtube.me()
        with pytest.raises(RateLimitError) as info:
            await youtube.me()
    error = info.value
    assert error.status == 403
    assert error.code == "quotaExceeded"
    midnight = datetime(2026, 3, 9, 7, 0, tzinfo=timezone.utc)  # 00:00 PDT
    assert next_quota_reset(clock.now()) == midnight
    assert error.retry_after == pytest.approx((midnight - clock.now()).total_seconds())
    assert fake.calls.count("channels.list") == 3
    traffic.verify()


_QUOTA = "The request cannot be completed because you have exceeded your quota."


def _error_info(reason: str) -> dict[str, Any]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "youtube.googleapis.com"},
    }


@pytest.mark.parametrize(
    ("status", "error", "cls", "code"),
    [
        # The legacy body of https://developers.google.com/youtube/v3/docs/errors: the reason
        # is the first errors[] entry's.
        (
            403,
            {
                "errors": [
                    {"domain": "youtube.quota", "reason": "quotaExceeded", "message": _QUOTA}
                ],
                "code": 403,
                "message": _QUOTA,
            },
            RateLimitError,
            "quotaExceeded",
        ),
        # The current body: errors[] kept beside status and details (its YouTube reason wins
        # over the generic ErrorInfo).
        (
            403,
            {
                "code": 403,
                "message": _QUOTA,
                "errors": [
                    {"message": _QUOTA, "domain": "youtube.quota", "reason": "quotaExceeded"}
                ],
                "status": "PERMISSION_DENIED",
                "details": [_error_info("RATE_LIMIT_EXCEEDED")],
            },
            RateLimitError,
            "quotaExceeded",
        ),
        (
            403,
            {
                "code": 403,
                "message": "Rate Limit Exceeded",
                "errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded"}],
                "status": "PERMISSION_DENIED",
            },
            RateLimitError,
            "rateLimitExceeded",
        ),
        (
            403,
            {
                "code": 403,
                "message": "Forbidden",
                "errors": [{"message": "Forbidden", "domain": "global", "reason": "forbidden"}],
                "status": "PERMISSION_DENIED",
            },
            PermissionError,
            "forbidden",
        ),
        # Google's error model (https://cloud.google.com/apis/design/errors): with errors[]
        # empty or absent, the reason is the google.rpc.ErrorInfo's in details.
        (
            403,
            {
                "code": 403,
                "message": "Request had insufficient authentication scopes.",
                "errors": [],
                "status": "PERMISSION_DENIED",
                "details": [_error_info("ACCESS_TOKEN_SCOPE_INSUFFICIENT")],
            },
            PermissionError,
            "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
        ),
        (
            403,
            {
                "code": 403,
                "message": "Quota exceeded for quota metric 'Queries'.",
                "status": "PERMISSION_DENIED",
                "details": [
                    {"@type": "type.googleapis.com/google.rpc.Help"},
                    _error_info("RATE_LIMIT_EXCEEDED"),
                ],
            },
            RateLimitError,
            "RATE_LIMIT_EXCEEDED",
        ),
        (
            429,
            {
                "code": 429,
                "message": "Quota exceeded for quota metric 'Queries'.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [_error_info("RATE_LIMIT_EXCEEDED")],
            },
            RateLimitError,
            "RATE_LIMIT_EXCEEDED",
        ),
        (
            401,
            {
                "code": 401,
                "message": "Request had invalid authentication credentials.",
                "errors": [{}],
                "status": "UNAUTHENTICATED",
                "details": [_error_info("ACCESS_TOKEN_EXPIRED")],
            },
            AuthError,
            "ACCESS_TOKEN_EXPIRED",
        ),
        # No reason anywhere: the status names it.
        (
            404,
            {"code": 404, "message": "Not Found", "errors": [], "status": "NOT_FOUND"},
            NotFoundError,
            "NOT_FOUND",
        ),
    ],
)
def test_error_reasons_in_the_legacy_and_current_bodies(
    status: int, error: dict[str, Any], cls: type[APIError], code: str
) -> None:
    response = c.json_response(status, {"error": error})
    decoded = decode_youtube_error(response, "youtube")
    assert type(decoded) is cls
    assert (decoded.status, decoded.code) == (status, code)
    assert decoded.message == error["message"]
    if isinstance(decoded, RateLimitError):
        daily = code == "quotaExceeded"
        assert decoded.retry_after is not None
        assert (decoded.retry_after > 3600) is daily


async def test_the_quota_guard_refuses_before_sending() -> None:
    fake = FakeYouTube()
    youtube, _ = connect(fake, daily_quota=50)
    async with youtube:
        posted = await youtube.publish(clip())  # 1 upload, videos.list polls: 1 unit each
        used = (await youtube.ex_quota())["units"]["used"]
        assert used == fake.used("units")
        with pytest.raises(RateLimitError) as info:
            await youtube.delete(posted.id)  # 50 units: more than is left
    assert info.value.local
    assert info.value.status is None
    assert info.value.reset_at == next_quota_reset(fake.clock.now())
    assert "videos.delete" not in fake.calls


async def test_a_quota_exceeded_answer_spends_the_local_count() -> None:
    fake = FakeYouTube(daily_quota=1)
    youtube, _ = connect(fake)
    async with youtube:
        await youtube.me()
        with pytest.raises(RateLimitError):
            await youtube.me()
        quota = await youtube.ex_quota()
        assert quota["units"]["remaining"] == 0
        sent = len(fake.calls)
        with pytest.raises(RateLimitError) as info:
            await youtube.get_post("abcdefghijk")
        assert info.value.local
        assert len(fake.calls) == sent


@pytest.mark.parametrize(
    ("now", "reset"),
    [
        (datetime(2026, 1, 15, 7, 59, tzinfo=timezone.utc), datetime(2026, 1, 15, 8, 0)),
        (datetime(2026, 1, 15, 8, 0, tzinfo=timezone.utc), datetime(2026, 1, 16, 8, 0)),
        (datetime(2026, 7, 1, 12, 0, tzinfo=timezone.utc), datetime(2026, 7, 2, 7, 0)),
        (datetime(2026, 11, 1, 6, 0, tzinfo=timezone.utc), datetime(2026, 11, 1, 7, 0)),
        (datetime(2026, 11, 1, 12, 0, tzinfo=timezone.utc), datetime(2026, 11, 2, 8, 0)),
    ],
)
def test_next_quota_reset_follows_pacific_time(now: datetime, reset: datetime) -> None:
    assert next_quota_reset(now) == reset.replace(tzinfo=timezone.utc)


def test_every_quota_cost_is_a_method_of_the_discovery_document() -> None:
    document = youtube_checker().routes
    ids = {route.method["id"] for route in document}
    assert {f"youtube.{name}" for name in QUOTA_COSTS} <= ids


async def test_scheduled_publishing_and_keeping_it_in_step() -> None:
    fake = FakeYouTube()
    youtube, traffic = connect(fake)
    at = (fake.clock.now() + timedelta(days=2)).replace(microsecond=0)
    async with youtube:
        assert Capability.NATIVE_SCHEDULING in youtube.capabilities
        posted = await youtube.ex_schedule(clip(), at, idempotency_key="plan-1")
        assert posted.id is not None
        assert posted.scheduled_at == at
        assert posted.is_scheduled
        video = fake.videos[posted.id]
        assert (video.privacy, video.publish_at) == ("private", at.strftime("%Y-%m-%dT%H:%M:%SZ"))
        later = at + timedelta(hours=5)
        moved = await youtube.ex_reschedule(posted.id, later)
        assert moved.scheduled_at == later
        assert video.publish_at == later.strftime("%Y-%m-%dT%H:%M:%SZ")
        assert video.privacy == "private"
        await youtube.ex_cancel_scheduled(posted.id)
        assert posted.id not in fake.videos
    traffic.verify()


async def test_scheduled_outcome_and_the_fake_publishing_at_publish_at() -> None:
    """``ex_scheduled_outcome``: the video while it waits for its ``publishAt``, published
    (public, same id) once FakeYouTube's clock passes it, ``None`` once deleted."""
    fake = FakeYouTube()
    youtube, traffic = connect(fake)
    at = (fake.clock.now() + timedelta(days=1)).replace(microsecond=0)
    async with youtube:
        posted = await youtube.ex_schedule(clip(), at, idempotency_key="plan-1")
        gone = await youtube.ex_schedule(clip("taken back"), at, idempotency_key="plan-2")
        held = await youtube.ex_scheduled_outcome(posted)
        assert held is not None
        assert held.scheduled_at == at
        await youtube.ex_cancel_scheduled(gone.id or "")
        fake.clock.set(at + timedelta(minutes=1))
        live = await youtube.ex_scheduled_outcome(posted)
        assert live is not None
        assert (live.id, live.scheduled_at, live.visibility) == (posted.id, None, "public")
        assert live.url
        assert fake.videos[posted.id or ""].privacy == "public"
        assert await youtube.ex_scheduled_outcome(gone) is None
    traffic.verify()


async def test_scheduling_in_the_past_sends_nothing() -> None:
    fake = FakeYouTube()
    youtube, _ = connect(fake)
    async with youtube:
        with pytest.raises(InvalidPostError) as info:
            await youtube.ex_schedule(clip(), fake.clock.now() - timedelta(minutes=1))
    assert [p.code for p in info.value.problems] == ["scheduled_in_past"]
    assert fake.calls == []


async def test_processing_failure_then_a_new_upload() -> None:
    fake = FakeYouTube(processing_reads=2)
    fake.fail_next_processing("codec")
    youtube, traffic = connect(fake)
    async with youtube:
        with pytest.raises(YouTubeProcessingError) as info:
            await youtube.publish(clip(), idempotency_key="k")
        assert info.value.reason == "codec"
        posted = await youtube.publish(clip(), idempotency_key="k")
    assert fake.videos[posted.id].upload_status == "processed"
    assert fake.calls.count("videos.insert") == 2
    traffic.verify()


async def test_an_expired_access_token_is_refreshed() -> None:
    fake = FakeYouTube()
    youtube, traffic = connect(fake)
    async with youtube:
        await youtube.me()
        fake.expire_access_tokens()
        account = await youtube.me()
    assert account.id == fake.owner.id
    assert any(r.url.path == "/token" for r, _ in traffic.exchanges)


async def test_comments_replies_and_moderation() -> None:
    fake = FakeYouTube()
    fan = fake.add_user("fan")
    youtube, traffic = connect(fake)
    async with youtube:
        posted = await youtube.publish(clip())
        assert posted.id is not None
        top = fake.reply(posted.id, fan, "first!")
        messages = [m async for m in youtube.messages()]
        assert [(m.id, m.kind, m.post_id) for m in messages] == [(top, "comment", posted.id)]
        answer = await youtube.reply(messages[0], "thanks")
        assert answer.reply_to == top
        assert fake.comments[str(answer.id)].parent == top
        on_video = await youtube.reply(posted.id, "pinned info")
        assert fake.comments[str(on_video.id)].video == posted.id
        thread = [m.id async for m in youtube.ex_comments(posted.id)]
        assert set(thread) == {top, answer.id, on_video.id}
        await youtube.hide(top)
        assert fake.comments[top].status == "heldForReview"
        await youtube.ex_moderate(top, "rejected", ban_author=True)
        assert fake.comments[top].status == "rejected"
        assert youtube.limits.max_text is not None
    traffic.verify()


async def test_replies_are_read_past_thread_pages_without_any() -> None:
    # commentThreads.list answers 100 threads a page; with only replies asked for, pages of
    # threads without replies are not the end (nextPageToken goes on). Three in a row used to
    # end the walk before the older thread that has one.
    fake = FakeYouTube()
    fan = fake.add_user("fan")
    youtube, traffic = connect(fake)
    async with youtube:
        posted = await youtube.publish(clip())
        assert posted.id is not None
        top = fake.reply(posted.id, fan, "first!")
        answer = fake.reply(top, fan, "and a reply")
        for n in range(300):
            fake.reply(posted.id, fan, f"comment {n}")
        replies = [m.id async for m in youtube.messages(kinds={"reply"})]
    assert replies == [answer]
    traffic.verify()


async def test_edit_and_delete() -> None:
    fake = FakeYouTube()
    youtube, traffic = connect(fake)
    async with youtube:
        posted = await youtube.publish(clip())
        assert posted.id is not None
        edited = await youtube.edit(posted.id, Post(text="a new title\nand words"))
        assert edited.text == "a new title\nand words"
        assert fake.videos[posted.id].category == "22"
        await youtube.delete(posted.id)
    assert fake.own_videos() == []
    traffic.verify()


@pytest.mark.parametrize(
    ("post", "code"),
    [
        (Post(text="text alone"), "media_required"),
        (Post(text="t" * 101, media=[Media.from_bytes(VIDEO)]), "title_too_long"),
        (Post(text="a <b> title", media=[Media.from_bytes(VIDEO)]), "invalid_characters"),
        (
            Post(text="t", media=[Media.from_bytes(VIDEO)], visibility="followers"),
            "unsupported_visibility",
        ),
        (Post(text="t\n" + "é" * 2501, media=[Media.from_bytes(VIDEO)]), "description_too_long"),
        (Post(text="t", media=[Media.from_bytes(c.PNG_1X1)]), "unsupported"),
    ],
)
async def test_preflight_sends_nothing(post: Post, code: str) -> None:
    fake = FakeYouTube()
    youtube, _ = connect(fake)
    async with youtube:
        with pytest.raises(InvalidPostError) as info:
            await youtube.publish(post)
    assert code in [p.code for p in info.value.problems]
    assert fake.calls == []


async def test_login_asks_for_offline_access() -> None:
    youtube = YouTubeAdapter.connect(
        client_id="id.apps.googleusercontent.com",
        client_secret="s3cret-value",
        require_credentials=False,
        store=MemoryStore(),
    )
    request = youtube.ex_authorization_url(redirect_uri="http://127.0.0.1:8765/callback")
    query = parse_qs(urlsplit(request.url).query)
    assert query["access_type"] == ["offline"]
    assert query["code_challenge_method"] == ["S256"]
    assert "https://www.googleapis.com/auth/youtube.upload" in query["scope"][0].split()
    assert "s3cret-value" not in repr(youtube.settings)
    await youtube.aclose()


def test_the_checker_finds_what_is_wrong() -> None:
    checker = youtube_checker()
    base = "https://youtube.googleapis.com/youtube/v3"

    def problems(method: str, url: str, **kwargs: Any) -> list[str]:
        return checker.request_violations(httpx.Request(method, url, **kwargs))

    assert problems("GET", f"{base}/videos?part=snippet&id=abc") == []
    assert any(
        "unknown query parameter 'colour'" in p
        for p in problems("GET", f"{base}/videos?part=id&colour=1")
    )
    assert any("required parameter 'part'" in p for p in problems("GET", f"{base}/videos?id=a"))
    assert any("not one of" in p for p in problems("POST", f"{base}/videos/rate?id=a&rating=love"))
    assert any(
        "not an integer" in p for p in problems("GET", f"{base}/videos?part=id&maxResults=x")
    )
    assert any(
        "unknown field 'titel'" in p
        for p in problems("PUT", f"{base}/videos?part=snippet", json={"snippet": {"titel": "x"}})
    )
    assert any("no method" in p for p in problems("GET", f"{base}/tweets"))
    upload = "https://youtube.googleapis.com/upload/youtube/v3/videos"
    assert (
        problems(
            "POST", f"{upload}?uploadType=resumable&part=snippet", json={"snippet": {"title": "t"}}
        )
        == []
    )
    assert any(
        "Content-Range" in p
        for p in problems(
            "PUT", f"{upload}?uploadType=resumable&upload_id=x&part=snippet", content=b"x"
        )
    )
    assert (
        problems(
            "POST", "https://youtube.googleapis.com/resumable/upload/youtube/v3/videos?part=snippet"
        )
        == []
    )


async def test_search_finds_public_videos_newest_first() -> None:
    fake = FakeYouTube()
    other = fake.add_user("other")
    old = fake.publish_as(other, "cats and dogs")
    new = fake.publish_as(fake.owner, "more cats")
    fake.publish_as(other, "only dogs")
    hidden = fake.publish_as(other, "secret cats")
    fake.videos[hidden].privacy = "private"
    youtube, traffic = connect(fake)
    async with youtube:
        found = [p.id async for p in youtube.search("cats")]
        assert found == [new, old]
        since = fake.videos[new].published
        assert [p.id async for p in youtube.search("cats", since=since)] == [new]
        quota = await youtube.ex_quota()
    assert quota["searches"]["used"] == 2
    assert fake.used("searches") == 2
    traffic.verify()


async def test_a_video_file_is_read_a_chunk_at_a_time(tmp_path: Any) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(VIDEO)
    fake = FakeYouTube()
    youtube, traffic = connect(fake, chunk_size=CHUNK)
    async with youtube:
        posted = await youtube.publish(Post(text="from a file", media=[Media.from_path(path)]))
    assert fake.own_videos() == [posted.id]
    assert bytes(session_of(fake).received) == VIDEO
    puts = [r for r, _ in traffic.exchanges if r.method == "PUT"]
    assert [len(r.content) for r in puts] == [CHUNK, CHUNK, CHUNK, len(VIDEO) - 3 * CHUNK]
    traffic.verify()


class LosingTransport(httpx.AsyncBaseTransport):
    """Forwards to the fake; the answers to ``method path`` are lost after the fake acted."""

    def __init__(self, fake: FakeYouTube, method: str, path: str, losses: int = 1) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.method = method
        self.path = path
        self.losses = losses

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if (request.method, request.url.path) != (self.method, self.path) or self.losses <= 0:
            return response
        await response.aread()
        self.losses -= 1
        raise httpx.ReadTimeout("the answer never came", request=request)


@pytest.mark.parametrize("on", ["video", "comment"])
async def test_a_lost_comment_answer_is_found_not_sent_again(on: str) -> None:
    fake = FakeYouTube()
    video = fake.publish_as(fake.owner, "mine")
    top = fake.reply(video, fake.add_user("fan"), "first")
    path = "/youtube/v3/commentThreads" if on == "video" else "/youtube/v3/comments"
    transport = LosingTransport(fake, "POST", path)
    youtube, traffic = connect(fake, transport)
    target = video if on == "video" else top
    async with youtube:
        with pytest.raises(OutcomeUnknownError) as info:
            await youtube.publish(Post(text="thanks!", reply_to=target), idempotency_key="k")
        assert info.value.idempotency_key == "k"
        posted = await youtube.publish(Post(text="thanks!", reply_to=target), idempotency_key="k")
    mine = [c.id for c in fake.comments.values() if c.author.id == fake.owner.id]
    assert mine == [posted.id]
    traffic.verify()


async def test_a_failed_thumbnail_is_set_by_the_retry_without_a_new_upload() -> None:
    fake = FakeYouTube()
    transport = LosingTransport(fake, "POST", "/upload/youtube/v3/thumbnails/set", losses=10)
    youtube, _ = connect(fake, transport, retries=2)
    post = clip("with a thumbnail")
    async with youtube:
        with pytest.raises(TimeoutError):
            await youtube.ex_publish(
                post, thumbnail=Media.from_bytes(c.PNG_1X1), idempotency_key="k"
            )
        transport.losses = 0
        posted = await youtube.ex_publish(
            post, thumbnail=Media.from_bytes(c.PNG_1X1), idempotency_key="k"
        )
    assert fake.own_videos() == [posted.id]
    assert fake.videos[str(posted.id)].thumbnail == c.PNG_1X1


async def test_adapters_sharing_a_store_count_the_quota_together() -> None:
    fake = FakeYouTube()
    store = MemoryStore()
    first, _ = connect(fake, store=store)
    second, _ = connect(fake, store=store)
    async with first, second:
        await first.me()
        await second.me()
        assert (await first.ex_quota())["units"]["used"] == 2


async def test_playlists_are_feeds() -> None:
    fake = FakeYouTube()
    first = fake.publish_as(fake.owner, "first")
    second = fake.publish_as(fake.owner, "second")
    playlist = fake.add_playlist(fake.owner, "Best of", [first, second], "the best")
    fake.add_playlist(fake.add_user("other"), "not mine")
    youtube, traffic = connect(fake)
    async with youtube:
        feeds = [f async for f in youtube.feeds()]
        assert [(f.id, f.name, f.members_count) for f in feeds] == [(playlist, "Best of", 2)]
        assert feeds[0].url == f"https://www.youtube.com/playlist?list={playlist}"
        assert [p.id async for p in youtube.feed(feeds[0])] == [first, second]
        assert [p.id async for p in youtube.feed(playlist, limit=1)] == [first]
    traffic.verify()


async def test_statistics_are_read_50_ids_a_call() -> None:
    fake = FakeYouTube()
    ids = [fake.publish_as(fake.owner, f"video {n}") for n in range(60)]
    fake.view(ids[59], 7)
    youtube, traffic = connect(fake)
    async with youtube:
        metrics = await youtube.metrics(ids)
    assert fake.calls.count("videos.list") == 2
    assert len(metrics) == 60
    assert {m.name: m.value for m in metrics[ids[59]]} == {"views": 7, "likes": 0, "replies": 0}
    traffic.verify()


async def test_analytics_reports() -> None:
    fake = FakeYouTube()
    video = fake.publish_as(fake.owner, "watched")
    other = fake.publish_as(fake.owner, "less watched")
    fake.view(video, 100)
    fake.view(other, 10)
    fake.follow(fake.add_user("fan"), fake.owner)
    youtube, traffic = connect(fake)
    async with youtube:
        channel = {m.name: m.value for m in await youtube.account_metrics()}
        one = await youtube.ex_video_analytics(video)
    assert channel["views"] == 110
    assert channel["watch_time_minutes"] == 55
    assert channel["average_view_duration"] == 30
    assert channel["followers_gained"] == 1
    assert {m.name: m.value for m in one}["views"] == 100
    assert all(m.post_id == video and m.native_name for m in one)
    assert "reports.query" in fake.calls
    assert (await youtube.ex_quota())["units"]["used"] == 0  # Analytics has its own quota
    traffic.verify()


async def test_a_session_that_takes_nothing_ends_in_outcome_unknown() -> None:
    fake = FakeYouTube()
    fake.accept_per_put = 0
    youtube, _ = connect(fake, chunk_size=CHUNK, retries=2)
    async with youtube:
        with pytest.raises(OutcomeUnknownError) as info:
            await youtube.publish(clip(), idempotency_key="stuck")
    assert info.value.idempotency_key == "stuck"
    assert fake.own_videos() == []


async def test_a_login_stores_the_token_the_adapter_then_uses() -> None:
    fake = FakeYouTube()
    store = MemoryStore()
    settings = {
        k: v for k, v in fake.settings().items() if k not in ("access_token", "refresh_token")
    }
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app))
    login = YouTubeAdapter.connect(
        **{**settings, "store": store, "require_credentials": False}, http=client
    )
    request = login.ex_authorization_url(redirect_uri="http://127.0.0.1:8765/callback")
    token = await login.ex_exchange_code(request, fake.approve(request.url))
    assert token.refresh_token is not None
    await login.aclose()
    youtube = YouTubeAdapter.connect(**{**settings, "store": store}, http=client)
    async with youtube:
        assert (await youtube.me()).id == fake.owner.id
    await client.aclose()


def test_the_checker_checks_fixtures_against_the_response_schema() -> None:
    checker = youtube_checker()
    request = httpx.Request("GET", "https://youtube.googleapis.com/youtube/v3/videos?part=id&id=a")

    def problems(body: Any, status: int = 200) -> list[str]:
        return checker.response_violations(request, httpx.Response(status, json=body))

    good = {
        "kind": "youtube#videoListResponse",
        "items": [{"id": "a", "statistics": {"viewCount": "1"}}],
    }
    assert problems(good) == []
    assert any(
        "viewCount: expected a string" in p
        for p in problems({"items": [{"id": "a", "statistics": {"viewCount": 1}}]})
    )
    assert any("unknown field 'views'" in p for p in problems({"items": [{"id": "a", "views": 1}]}))
    assert any(
        "not one of" in p for p in problems({"items": [{"status": {"privacyStatus": "secret"}}]})
    )
    assert (
        problems({"error": {"code": 403, "message": "m", "errors": [{"reason": "forbidden"}]}}, 403)
        == []
    )
    assert problems({"message": "not google's shape"}, 400) == [
        "an error body without an 'error' object"
    ]


async def test_a_published_video_is_not_rescheduled_nor_cancelled() -> None:
    fake = FakeYouTube()
    public = fake.publish_as(fake.owner, "already out")
    youtube, _ = connect(fake)
    async with youtube:
        with pytest.raises(ValidationError, match="not scheduled"):
            await youtube.ex_reschedule(public, fake.clock.now() + timedelta(days=1))
        with pytest.raises(ValidationError, match="not scheduled"):
            await youtube.ex_cancel_scheduled(public)
    assert fake.videos[public].privacy == "public"
    assert "videos.update" not in fake.calls
    assert "videos.delete" not in fake.calls
