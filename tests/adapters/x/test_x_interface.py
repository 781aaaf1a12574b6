"""The X adapter's side of issues 11 and 12 against recorded answers (respx): what publish
does when its outcome is unknown, how media and polls read back from the description's
``Media`` / ``Poll`` schemas, and X's error documents. Every request and fixture response is
validated against ``../shared/specs/x/openapi.json`` (XFixtures.check_exchange, at teardown).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
import respx
import x_bodies as b
from x_bodies import BASE, ME_ID
from x_fixtures import XFixtures, make_x, oauth2_settings

from socialkit import (
    ConfigurationError,
    DuplicateError,
    Media,
    OutcomeUnknownError,
    PermissionError,
    Post,
    RateLimitError,
)
from socialkit._registry import build_settings
from socialkit.adapters.x import XAdapter

pytestmark = pytest.mark.spec


class XTest(XFixtures):
    @pytest.fixture
    async def client(self, router: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
        client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
        yield client
        await client.aclose()


def _duplicate() -> httpx.Response:
    # X's duplicate refusal: a 403 about:blank problem (docs.x.com "Response codes and errors").
    return b.problem(
        403,
        title="Forbidden",
        detail="You are not allowed to create a Tweet with duplicate content.",
    )


class TestOutcomeUnknown(XTest):
    @pytest.mark.anyio
    async def test_a_duplicate_after_a_lost_answer_is_the_own_post(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        # The first create landed but its answer was lost; the timeline lagged, so the post
        # was sent again and X refused the copy: that refusal means the first one exists.
        adapter = make_x(client)
        landed = b.recent_id(0, 5)
        create = router.post(f"{BASE}/2/tweets").mock(
            side_effect=[httpx.ReadTimeout("lost"), _duplicate()]
        )
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        timeline = router.get(f"{BASE}/2/users/{ME_ID}/tweets").mock(
            side_effect=[
                b.ok(200, b.page([])),
                b.ok(200, b.page([b.post(landed, "Big news")])),
            ]
        )
        posted = await adapter.publish(Post(text="Big news"))
        assert posted.id == landed
        assert create.call_count == 2
        assert timeline.call_count == 2

    @pytest.mark.anyio
    async def test_a_duplicate_never_found_stays_unknown_not_duplicate(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        router.post(f"{BASE}/2/tweets").mock(side_effect=[httpx.ReadTimeout("lost"), _duplicate()])
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        router.get(f"{BASE}/2/users/{ME_ID}/tweets").mock(return_value=b.ok(200, b.page([])))
        with pytest.raises(OutcomeUnknownError) as info:
            await adapter.publish(Post(text="Big news"), idempotency_key="k-1")
        assert not isinstance(info.value, DuplicateError)
        assert info.value.idempotency_key == "k-1"

    @pytest.mark.anyio
    async def test_reconciliation_rate_limited_is_unknown_not_rate_limit(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client, **oauth2_settings(rate_limit="raise"))
        create = router.post(f"{BASE}/2/tweets").mock(side_effect=httpx.ReadTimeout("lost"))
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        reset = int(datetime.now(timezone.utc).timestamp()) + 600
        # X's 429: an about:blank problem with the bucket's x-rate-limit-* headers.
        limited = httpx.Response(
            429,
            content=json.dumps(
                {
                    "title": "Too Many Requests",
                    "detail": "Too Many Requests",
                    "type": "about:blank",
                    "status": 429,
                }
            ).encode(),
            headers={
                "content-type": "application/problem+json",
                "x-rate-limit-limit": "900",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset),
            },
        )
        router.get(f"{BASE}/2/users/{ME_ID}/tweets").mock(return_value=limited)
        with pytest.raises(OutcomeUnknownError) as info:
            await adapter.publish(Post(text="Hello"))
        assert not isinstance(info.value, RateLimitError)
        assert isinstance(info.value.__cause__, RateLimitError), "the cause is kept"
        assert info.value.idempotency_key, "a key is made per publish call"
        assert create.call_count == 1

    @pytest.mark.anyio
    async def test_an_unreadable_2xx_is_reconciled(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        landed = b.recent_id(0, 2)
        create = router.post(f"{BASE}/2/tweets").mock(
            return_value=httpx.Response(
                201, content=b'{"data": {"tex', headers={"content-type": "application/json"}
            )
        )
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        router.get(f"{BASE}/2/users/{ME_ID}/tweets").mock(
            return_value=b.ok(200, b.page([b.post(landed, "Truncated answer")]))
        )
        posted = await adapter.publish(Post(text="Truncated answer"))
        assert posted.id == landed
        assert create.call_count == 1

    @pytest.mark.anyio
    async def test_reconciliation_reads_every_page_of_the_window(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        """A busy account: the lost post is on the second page of the window (the timeline
        pages through ``pagination_token``, GetUsersPostsResponse's ``meta.next_token``)."""
        adapter = make_x(client)
        landed = b.recent_id(0, 2)
        others = [b.post(b.recent_id(i + 1, 1), f"Other {i}") for i in range(100)]
        create = router.post(f"{BASE}/2/tweets").mock(side_effect=httpx.ReadTimeout("lost"))
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        timeline = router.get(f"{BASE}/2/users/{ME_ID}/tweets").mock(
            side_effect=[
                b.ok(200, b.page(others, next_token="page-2")),
                b.ok(200, b.page([b.post(landed, "Busy day")])),
            ]
        )
        posted = await adapter.publish(Post(text="Busy day"))
        assert posted.id == landed
        assert create.call_count == 1
        assert timeline.call_count == 2
        assert timeline.calls[1].request.url.params["pagination_token"] == "page-2"

    @pytest.mark.anyio
    async def test_a_key_already_published_is_not_sent_again(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        post_id = b.recent_id(0)
        create = router.post(f"{BASE}/2/tweets").mock(
            return_value=b.ok(201, b.created(post_id, "Once"))
        )
        router.get(f"{BASE}/2/tweets/{post_id}").mock(
            return_value=b.ok(200, {"data": b.post(post_id, "Once")})
        )
        first = await adapter.publish(Post(text="Once"), idempotency_key="app-42")
        again = await adapter.publish(Post(text="Once"), idempotency_key="app-42")
        assert first.id == again.id == post_id
        assert create.call_count == 1


class TestReadBack(XTest):
    @pytest.mark.anyio
    async def test_video_gif_and_photo_media_map_into_post_media(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        post_id = b.recent_id(5)
        # includes.media as #/components/schemas/Media (variants: MediaVariants).
        media = [
            {
                "media_key": "7_1",
                "type": "video",
                "duration_ms": 12345,
                "width": 1280,
                "height": 720,
                "alt_text": "a clip",
                "preview_image_url": "https://pbs.twimg.com/ext_tw_video_thumb/1/pu/img/a.jpg",
                "variants": [
                    {"content_type": "application/x-mpegURL", "url": "https://v.example/pl.m3u8"},
                    {"bit_rate": 256000, "content_type": "video/mp4", "url": "https://v/low.mp4"},
                    {"bit_rate": 2176000, "content_type": "video/mp4", "url": "https://v/hi.mp4"},
                ],
            },
            {
                "media_key": "3_2",
                "type": "photo",
                "url": "https://pbs.twimg.com/media/b.png",
                "width": 640,
                "height": 480,
            },
        ]
        body = {
            "data": b.post(
                post_id, "clip https://t.co/m", attachments={"media_keys": ["7_1", "3_2"]}
            )
            | {
                "entities": {
                    "urls": [
                        {
                            "start": 5,
                            "end": 18,
                            "url": "https://t.co/m",
                            "expanded_url": "https://x.com/XDevelopers/status/1/video/1",
                            "media_key": "7_1",
                        }
                    ]
                }
            },
            "includes": {"media": media, "users": [b.user()]},
        }
        router.get(f"{BASE}/2/tweets/{post_id}").mock(return_value=b.ok(200, body))
        got = await adapter.get_post(post_id)
        video, photo = got.media
        assert got.text == "clip", "the link X appends for media is not text"
        assert got.link is None
        assert (video.kind, video.url, video.mime_type) == (
            "video",
            "https://v/hi.mp4",
            "video/mp4",
        )
        assert (video.duration, video.width, video.height, video.alt) == (
            12.345,
            1280,
            720,
            "a clip",
        )
        assert video.preview_url is not None
        assert (photo.kind, photo.mime_type, photo.width, photo.id) == (
            "image",
            "image/png",
            640,
            "3_2",
        )
        params = router.calls[0].request.url.params
        assert "attachments.media_keys" in params["expansions"]
        assert "variants" in params["media.fields"]
        assert "options" in params["poll.fields"]

    @pytest.mark.anyio
    async def test_poll_reads_back_with_votes_and_end(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        post_id = b.recent_id(5)
        end = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
        body = {
            "data": b.post(post_id, "Which?", attachments={"poll_ids": ["99"]}),
            "includes": {
                "polls": [
                    {
                        "id": "99",
                        "options": [
                            {"position": 2, "label": "B", "votes": 7},
                            {"position": 1, "label": "A", "votes": 3},
                        ],
                        "duration_minutes": 240,
                        "end_datetime": b.iso(end),
                        "voting_status": "open",
                    }
                ],
                "users": [b.user()],
            },
        }
        router.get(f"{BASE}/2/tweets/{post_id}").mock(return_value=b.ok(200, body))
        poll = (await adapter.get_post(post_id)).poll
        assert poll is not None
        assert (poll.options, poll.votes) == (["A", "B"], [3, 7])
        assert poll.duration == timedelta(hours=4)
        assert poll.expires_at == end


class TestErrors(XTest):
    @pytest.mark.anyio
    async def test_about_blank_never_shows(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        router.get(f"{BASE}/2/users/me").mock(
            return_value=b.problem(403, title="Forbidden", detail="You cannot see this.")
        )
        with pytest.raises(PermissionError) as info:
            await adapter.me()
        assert "about:blank" not in str(info.value)
        assert info.value.code is None
        assert "You cannot see this" in str(info.value)

    def test_no_credentials_names_the_login_command(self) -> None:
        with pytest.raises(ConfigurationError, match="socialkit auth login x"):
            build_settings(XAdapter, {"base_url": BASE})

    @pytest.mark.anyio
    async def test_an_expired_upload_is_refused_before_sending(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        from socialkit import UploadedMedia, ValidationError

        adapter = make_x(client)
        old = UploadedMedia(
            id="123",
            network="x",
            kind="image",
            mime_type="image/png",
            expires_at=datetime.now(timezone.utc) - timedelta(minutes=1),
        )
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        with pytest.raises(ValidationError, match="expired"):
            await adapter.publish(Post(text="late", media=[Media.from_upload(old)]))
        assert not [c for c in router.calls if c.request.method == "POST"]
