"""TikTok specifics against FakeTikTok, whose answers follow the reference pages:
direct post https://developers.tiktok.com/doc/content-posting-api-reference-direct-post,
upload (inbox) …-reference-upload-video, photos …-reference-photo-post, status
…-reference-get-video-status, chunks …-media-transfer-guide, tokens
https://developers.tiktok.com/doc/oauth-user-access-token-management, errors
https://developers.tiktok.com/doc/tiktok-api-v2-error-handling."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from tests.adapters._reads import count_reads

from socialkit import Media, Post
from socialkit._errors import (
    ConfigurationError,
    InvalidPostError,
    OutcomeUnknownError,
    PermissionError,
    RateLimitError,
    UnsupportedError,
    ValidationError,
)
from socialkit._registry import build_settings
from socialkit.adapters.tiktok import FAIL_REASONS, TikTokAdapter, TikTokPublishError, chunking
from socialkit.auth import RefreshError
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeTikTok

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder:
    def __init__(self) -> None:
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    async def __call__(self, response: httpx.Response) -> None:
        self.exchanges.append((response.request, response))

    def calls(self) -> list[str]:
        return [f"{rq.method} {rq.url.path}" for rq, _ in self.exchanges]


def connect(fake: FakeTikTok, recorder: Recorder | None = None, **overrides: Any) -> TikTokAdapter:
    client = fake.client()
    if recorder is not None:
        client.event_hooks["response"].append(recorder)
    adapter = fake.connect(http=client, retry_wait=False, **overrides)
    assert isinstance(adapter, TikTokAdapter)

    async def no_sleep(seconds: float) -> None:
        return None

    adapter._sleep = no_sleep
    return adapter


def video(size: int = 0) -> Media:
    return Media.from_bytes(c.MP4_HEAD + bytes(size), mime_type="video/mp4")


# -- settings and chunks ----------------------------------------------------------------------


def test_no_credentials_name_the_login() -> None:
    with pytest.raises(ConfigurationError, match="socialkit auth login tiktok"):
        build_settings(TikTokAdapter, {})
    with pytest.raises(ConfigurationError, match="client_key"):
        build_settings(TikTokAdapter, {"refresh_token": "r"})


async def test_login_stores_the_token_and_the_refresh_expiry() -> None:
    from socialkit._store import MemoryStore
    from socialkit.auth import AuthFlowError

    fake = FakeTikTok()
    values = {
        "base_url": fake.base_url,
        "token_url": f"{fake.base_url}/v2/oauth/token/",
        "client_key": fake.client_key,
        "client_secret": fake.client_secret,
        "store": MemoryStore(),
    }
    client = fake.client()
    tiktok = TikTokAdapter(build_settings(TikTokAdapter, values), http=client)
    with pytest.raises(AuthFlowError, match="socialkit auth login tiktok"):
        async with tiktok:
            pass
    request = tiktok.ex_authorization_url(redirect_uri="https://app.example/callback")
    query = dict(parse_qsl(urlsplit(request.url).query))
    assert query["client_key"] == "fake-tiktok-client-key"
    assert "client_id" not in query, "TikTok names the client client_key"
    assert query["scope"].startswith("user.info.basic,user.info.profile,")
    # Login Kit for Desktop: the S256 challenge is the hex SHA-256 of the verifier.
    verifier = request.code_verifier.get_secret_value()
    assert query["code_challenge"] == hashlib.sha256(verifier.encode()).hexdigest()
    with pytest.raises(AuthFlowError, match="state"):
        await tiktok.ex_exchange_code(request, "https://app.example/callback?code=c&state=other")
    await tiktok.aclose()
    await client.aclose()


@pytest.mark.parametrize(
    ("size", "preferred", "expected"),
    [
        (1 * MiB, 10 * MiB, (1 * MiB, 1 * MiB, 1)),
        (5 * MiB, 5 * MiB, (5 * MiB, 5 * MiB, 1)),
        (11 * MiB, 5 * MiB, (11 * MiB, 5 * MiB, 2)),
        (50 * MiB, 64 * MiB, (50 * MiB, 50 * MiB, 1)),
        (200 * MiB, 64 * MiB, (200 * MiB, 64 * MiB, 3)),
    ],
)
def test_chunking_follows_the_transfer_guide(
    size: int, preferred: int, expected: tuple[int, int, int]
) -> None:
    assert chunking(size, preferred) == expected


def test_chunking_refuses_empty_and_oversized() -> None:
    with pytest.raises(ValidationError):
        chunking(0, 5 * MiB)


# -- publishing -------------------------------------------------------------------------------


async def test_chunked_upload_with_every_status() -> None:
    fake = FakeTikTok()
    recorder = Recorder()
    async with connect(fake, recorder, chunk_size=5 * MiB) as tiktok:
        posted = await tiktok.publish(Post(text="a long clip", media=[video(11 * MiB)]))
    publish = next(iter(fake.publishes.values()))
    assert publish.chunks == 2
    assert [len(part) for part in publish.received] == [5 * MiB, 6 * MiB + len(c.MP4_HEAD)]
    assert fake.publish_states(publish.id) == ["PROCESSING_UPLOAD", "PUBLISH_COMPLETE"]
    puts = [(rq, rs) for rq, rs in recorder.exchanges if rq.method == "PUT"]
    total = 11 * MiB + len(c.MP4_HEAD)
    assert [rq.headers["content-range"] for rq, _ in puts] == [
        f"bytes 0-{5 * MiB - 1}/{total}",
        f"bytes {5 * MiB}-{total - 1}/{total}",
    ]
    assert [rs.status_code for _, rs in puts] == [206, 201]
    assert all("authorization" not in rq.headers for rq, _ in puts)
    init = next(rq for rq, _ in recorder.exchanges if rq.url.path.endswith("/video/init/"))
    assert json.loads(init.content)["source_info"] == {
        "source": "FILE_UPLOAD",
        "video_size": total,
        "chunk_size": 5 * MiB,
        "total_chunk_count": 2,
    }
    assert recorder.calls()[0] == "POST /v2/post/publish/creator_info/query/"
    assert posted.id == publish.video_id
    assert posted.text == "a long clip"


class _FailOnce(httpx.AsyncBaseTransport):
    """Answers the ``nth`` chunk PUT with a 503 once, before the fake sees it."""

    def __init__(self, fake: FakeTikTok, nth: int) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.nth = nth
        self.puts = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            self.puts += 1
            if self.puts == self.nth:
                return httpx.Response(503)
        return await self.inner.handle_async_request(request)


async def test_a_video_file_is_read_one_chunk_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Media transfer guide (https://developers.tiktok.com/doc/content-posting-api-media-transfer-guide):
    # FILE_UPLOAD sends chunks of chunk_size in order, the last one taking the trailing bytes,
    # each a PUT with "Content-Range: bytes {FIRST_BYTE}-{LAST_BYTE}/{TOTAL_BYTE_LENGTH}". A
    # file may be 4 GB: it is read one chunk at a time, never whole, and a chunk sent again
    # after a 5xx carries the same bytes.
    path = tmp_path / "clip.mp4"
    content = c.MP4_HEAD + random.Random(7).randbytes(11 * MiB)
    path.write_bytes(content)
    media = Media.from_path(path)
    reads = count_reads(monkeypatch, path)
    fake = FakeTikTok()
    transport = _FailOnce(fake, nth=2)
    recorder = Recorder()
    client = httpx.AsyncClient(transport=transport, event_hooks={"response": [recorder]})
    adapter = fake.connect(http=client, retry_wait=False, chunk_size=5 * MiB)

    async def no_sleep(seconds: float) -> None:
        return None

    adapter._sleep = no_sleep  # type: ignore[attr-defined]
    async with adapter:
        posted = await adapter.publish(Post(text="from a file", media=[media]))
    publish = next(iter(fake.publishes.values()))
    assert posted.id == publish.video_id
    assert b"".join(publish.received) == content
    total = len(content)
    ranges = [rq.headers["content-range"] for rq, _ in recorder.exchanges if rq.method == "PUT"]
    assert ranges == [
        f"bytes 0-{5 * MiB - 1}/{total}",
        f"bytes {5 * MiB}-{total - 1}/{total}",
        f"bytes {5 * MiB}-{total - 1}/{total}",
    ]
    assert transport.puts == 3
    # One read per chunk, each no larger than the chunk: never the whole file.
    assert reads == [5 * MiB, total - 5 * MiB]


async def test_inbox_draft_ends_at_send_to_user_inbox() -> None:
    fake = FakeTikTok()
    async with connect(fake, mode="inbox") as tiktok:
        posted = await tiktok.publish(Post(text="draft", media=[video()]))
    publish = next(iter(fake.publishes.values()))
    assert publish.mode == "inbox"
    assert fake.publish_states(publish.id) == ["PROCESSING_UPLOAD", "SEND_TO_USER_INBOX"]
    assert posted.id == f"publish:{publish.id}"
    assert fake.videos == {}


async def test_pull_from_url_and_photos() -> None:
    fake = FakeTikTok()
    async with connect(fake) as tiktok:
        pulled = await tiktok.publish(
            Post(
                text="pulled",
                media=[
                    Media.from_url(
                        "https://media.example/clip.mp4", kind="video", mime_type="video/mp4"
                    )
                ],
            )
        )
        photos = await tiktok.publish(
            Post(
                text="two photos",
                media=[
                    Media.from_url(
                        f"https://media.example/{n}.jpg", kind="image", mime_type="image/jpeg"
                    )
                    for n in ("a", "b")
                ],
            )
        )
        with pytest.raises(PermissionError, match="verify the ownership"):
            await tiktok.publish(
                Post(
                    text="elsewhere",
                    media=[
                        Media.from_url(
                            "https://other.example/c.mp4", kind="video", mime_type="video/mp4"
                        )
                    ],
                )
            )
    states = [fake.publish_states(p) for p in fake.publishes]
    assert states[:2] == [
        ["PROCESSING_DOWNLOAD", "PUBLISH_COMPLETE"],
        ["PROCESSING_DOWNLOAD", "PUBLISH_COMPLETE"],
    ]
    pull, photo = list(fake.publishes.values())[:2]
    assert (pull.kind, pull.source, photo.kind, photo.source) == (
        "video",
        "PULL_FROM_URL",
        "photo",
        "PULL_FROM_URL",
    )
    assert (pulled.id, photos.id) == (pull.video_id, photo.video_id)
    assert pulled.id in fake.videos
    assert photos.id in fake.videos


async def test_photo_files_and_text_only_are_refused_offline() -> None:
    fake = FakeTikTok()
    recorder = Recorder()
    async with connect(fake, recorder) as tiktok:
        for post, code in [
            (Post(text="just words"), "media_required"),
            (Post(text="p", media=[Media.from_bytes(c.PNG_1X1)]), "photo_needs_url"),
            (Post(text="g", media=[Media.from_bytes(c.GIF_1X1)]), "unsupported_media"),
        ]:
            assert code in [p.code for p in tiktok.check(post)]
            with pytest.raises(InvalidPostError):
                await tiktok.publish(post)
    assert recorder.exchanges == []


async def test_creator_info_is_checked_before_the_init() -> None:
    fake = FakeTikTok(privacy_options=("SELF_ONLY",), max_duration=60)
    recorder = Recorder()
    async with connect(fake, recorder) as tiktok:
        with pytest.raises(ValidationError, match="SELF_ONLY"):
            await tiktok.publish(Post(text="x", media=[video()]))
    async with connect(fake, recorder, privacy_level="SELF_ONLY") as tiktok:
        long = video().model_copy(update={"duration": 90.0})
        with pytest.raises(ValidationError, match="60 s at most"):
            await tiktok.publish(Post(text="x", media=[long]))
        posted = await tiktok.publish(Post(text="private", media=[video()]))
    assert not any("/init/" in call for call in recorder.calls()[:3])
    assert posted.id is not None
    assert posted.id.startswith("publish:"), "a private post has no public id"


@pytest.mark.parametrize("reason", sorted(FAIL_REASONS))
async def test_every_failure_status_is_a_clear_error(reason: str) -> None:
    fake = FakeTikTok()
    fake.fail_next_publish(reason)
    async with connect(fake) as tiktok:
        with pytest.raises(TikTokPublishError) as info:
            await tiktok.publish(Post(text="doomed", media=[video()]), idempotency_key="k")
        again = await tiktok.publish(Post(text="doomed", media=[video()]), idempotency_key="k")
    assert info.value.fail_reason == reason
    assert FAIL_REASONS[reason] in str(info.value)
    assert again.id is not None, "a failed publish leaves the key free for a fresh attempt"


# -- tokens, errors, limits -------------------------------------------------------------------


async def test_refresh_rotates_and_honours_refresh_expires_in() -> None:
    fake = FakeTikTok()
    settings = fake.settings()
    first_refresh = settings["refresh_token"]
    async with connect(fake, **{k: v for k, v in settings.items() if k != "base_url"}) as tiktok:
        await tiktok.me()
        fake.expire_access_tokens()
        await tiktok.me()  # 401, refresh, retry
        stored = await tiktok._tokens().get("tiktok", "default")
        assert stored is not None
        assert stored.refresh_token is not None
        assert stored.refresh_token.get_secret_value() != first_refresh
        assert first_refresh in fake.revoked
        until = stored.refresh_expires_at
        assert until is not None
        assert until.timestamp() > tiktok.now().timestamp() + 364 * 86400
        lapsed = stored.model_copy(
            update={"extra": {**stored.extra, "refresh_expires_at": "2001-01-01T00:00:00+00:00"}}
        )
        await tiktok._tokens().put("tiktok", "default", lapsed)
        fake.expire_access_tokens()
        refreshes = len(fake.revoked)
        with pytest.raises(RefreshError, match="expired on 2001-01-01; log in again"):
            await tiktok.me()
        assert len(fake.revoked) == refreshes, "an expired refresh token is not sent"


async def test_error_envelope_and_per_minute_limit() -> None:
    fake = FakeTikTok(limits={"/v2/user/info/": 2})
    async with connect(fake, rate_limit="raise") as tiktok:
        await tiktok.me()
        await tiktok.me()
        with pytest.raises(RateLimitError) as info:
            await tiktok.me()
    assert info.value.code == "rate_limit_exceeded"
    assert info.value.retry_after == 60.0
    assert info.value.request_id, "TikTok's log_id is kept"


@pytest.mark.parametrize("code", ["spam_risk_too_many_posts", "spam_risk_too_many_pending_share"])
async def test_a_daily_posting_cap_is_not_retried_every_minute(code: str) -> None:
    # The direct post and upload references
    # (https://developers.tiktok.com/doc/content-posting-api-reference-direct-post,
    # …-reference-upload-video) answer 403 with these codes when the user's daily cap of API
    # posts (pending shares) is reached: a wait of a minute cannot lift it.
    fake = FakeTikTok()
    inner = httpx.ASGITransport(app=fake.app)
    inits: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/video/init/"):
            inits.append(request)
            return httpx.Response(
                403,
                json={
                    "error": {
                        "code": code,
                        "message": "The daily post cap from the API is reached.",
                        "log_id": "202601010000000A1B2C3D4E5F",
                    }
                },
            )
        return await inner.handle_async_request(request)

    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    tiktok = fake.connect(http=client, retry_wait=False)
    async with tiktok:
        with pytest.raises(RateLimitError) as info:
            await tiktok.publish(Post(text="one too many", media=[video()]))
    assert len(inits) == 1, "a daily cap is not sent again"
    assert info.value.code == code
    assert info.value.retry_after is None, "no minute's wait is promised"
    assert "daily post cap" in str(info.value)
    assert info.value.request_id == "202601010000000A1B2C3D4E5F"


async def test_bad_ids_and_other_accounts() -> None:
    fake = FakeTikTok()
    recorder = Recorder()
    async with connect(fake, recorder) as tiktok:
        for bad in ("1/../../v2/user/info", "abc", ""):
            with pytest.raises(ValidationError):
                await tiktok.get_post(bad)
            with pytest.raises(ValidationError):
                await tiktok.metrics([bad])
        with pytest.raises(UnsupportedError):
            tiktok.posts(account="someone")
    assert recorder.exchanges == []


async def test_videos_and_stats() -> None:
    fake = FakeTikTok()
    fake.owner.followers = 12
    ids = [fake.publish_as(fake.owner, f"clip {i}") for i in range(25)]
    fake.view(ids[-1], 500)
    fake.like(ids[-1], fake.add_user("fan"))
    async with connect(fake) as tiktok:
        first = tiktok.posts(limit=21)
        got = [p.id async for p in first]
        rest = [p.id async for p in tiktok.posts(cursor=first.cursor)]
        metrics = await tiktok.metrics([ids[-1]])
        stats = {m.name: m.value for m in await tiktok.account_metrics()}
    assert got + rest == ids[::-1]
    assert {m.name: m.value for m in metrics[ids[-1]]} == {
        "views": 500,
        "likes": 1,
        "replies": 0,
        "shares": 0,
    }
    assert stats == {"followers": 12, "following": 0, "likes": 1, "posts": 25}


async def test_two_adapters_sharing_a_store_refresh_once() -> None:
    """The refresh goes through OAuth2Auth: one refresh per account across adapters (and
    processes) sharing the store, so the rotating refresh token is never sent twice."""
    import asyncio

    fake = FakeTikTok()
    settings = fake.settings()
    values = {k: v for k, v in settings.items() if k != "base_url"}
    first, second = connect(fake, **values), connect(fake, **values)
    async with first, second:
        await first.me()
        fake.expire_access_tokens()
        revoked = len(fake.revoked)
        await asyncio.gather(first.me(), second.me())
    assert len(fake.revoked) == revoked + 1, "one refresh, its refresh token rotated once"


async def test_caption_is_counted_in_utf16_units_before_the_init() -> None:
    # Direct post reference: post_info.title is at most 2,200 UTF-16 runes; photo post
    # reference: the description at most 4,000. An emoji outside the BMP is two units.
    fake = FakeTikTok()
    recorder = Recorder()
    photos = [
        Media.from_url(f"https://media.example/{n}.jpg", kind="image", mime_type="image/jpeg")
        for n in ("a", "b")
    ]
    async with connect(fake, recorder) as tiktok:
        for post in (
            Post(text="\N{GRINNING FACE}" * 1101, media=[video()]),  # 2,202 units
            Post(text="\N{GRINNING FACE}" * 2001, media=photos),  # 4,002 units
        ):
            assert "text_too_long" in [p.code for p in tiktok.check(post)]
            with pytest.raises(InvalidPostError, match="UTF-16"):
                await tiktok.publish(post)
    assert recorder.exchanges == [], "nothing is sent"
    assert fake.publishes == {}


async def test_a_photo_description_may_be_longer_than_a_video_title() -> None:
    # Photo post reference: "The maximum length for photo posts is 4000 in UTF-16 runes"
    # (description); the 2,200 of a video's title does not apply to it.
    fake = FakeTikTok()
    photos = [Media.from_url("https://media.example/a.jpg", kind="image", mime_type="image/jpeg")]
    post = Post(text="d" * 3000, media=photos)
    async with connect(fake, Recorder()) as tiktok:
        assert tiktok.check(post) == []
        assert "text_too_long" in [
            p.code for p in tiktok.check(post.model_copy(update={"media": [video()]}))
        ]
        await tiktok.publish(post)
        too_long = post.model_copy(update={"text": "d" * 4001})
        assert [p.limit for p in tiktok.check(too_long) if p.code == "text_too_long"] == [4000]
    [published] = fake.publishes.values()
    assert (published.kind, published.title) == ("photo", "d" * 3000)


async def test_an_init_answered_without_its_publish_id_is_unknown() -> None:
    # A 2xx PULL_FROM_URL init starts the publish (TikTok pulls the video at once): without its
    # publish_id the outcome is unknown, and publishing again under the key sends no second
    # init while TikTok may still be pulling.
    fake = FakeTikTok()
    inits: list[str] = []

    async def no_publish_id(response: httpx.Response) -> None:
        if response.request.url.path.endswith("/video/init/"):
            inits.append(response.request.url.path)
            await response.aread()
            response._content = b'{"data": {}, "error": {"code": "ok", "message": ""}}'

    client = fake.client()
    client.event_hooks["response"].append(no_publish_id)
    adapter = fake.connect(http=client, retry_wait=False)
    pulled = Media.from_url("https://media.example/clip.mp4", kind="video", mime_type="video/mp4")
    async with adapter:
        with pytest.raises(OutcomeUnknownError) as info:
            await adapter.publish(Post(text="pulled", media=[pulled]), idempotency_key="k-1")
        assert info.value.idempotency_key == "k-1"
        with pytest.raises(OutcomeUnknownError):
            await adapter.publish(Post(text="pulled", media=[pulled]), idempotency_key="k-1")
    assert inits == ["/v2/post/publish/video/init/"]
