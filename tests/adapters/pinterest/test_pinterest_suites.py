"""The conformance suites for Pinterest.

respx-backed: errors, publishing, pre-flight, reading, metrics. Fixtures follow the official
description, ``../shared/specs/pinterest/openapi.json`` (schema named beside each), and every
request and fixture answer is validated against it (``check_exchange``). MessagesSuite does
not apply: API v5 has no comments, mentions or messages for apps (``messages`` raises
UnsupportedError, tested in test_pinterest_adapter.py).

fake-backed (every exchange validated against openapi.json too): engagement and people (all
unsupported by API v5), upload (unsupported: see ``unsupported_reasons``), and the round trip
of each media kind Pinterest takes. PagingSuite is not subclassed (its messages test needs
mentions); resuming the pins walk is test_pinterest_adapter.py::test_posts_resume.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import respx
from tests.adapters.pinterest.pinterest_support import BASE, Traffic, check_exchange
from tests.adapters.pinterest.pinterest_support import pinterest_checker as checker

from socialkit import Capability, InvalidPostError, Media, Post
from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters._base import Adapter
from socialkit.adapters.pinterest import PinterestAdapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakePinterest
from socialkit.testing.fakes._base import FakeNetwork

pytestmark = pytest.mark.spec

ACCESS = "pina_example-access-token-0123456789"
BOARD = "549755885175"
#: ``Pinterest.Lib.Error`` / ``Error`` codes by status (the examples of openapi.json's answers).
CODES = {400: 1, 401: 2, 403: 3, 404: 50, 422: 1, 429: 8, 500: 5, 502: 5, 503: 5}


def pin(id_: str, created: str = "2026-01-02T10:00:00Z", **extra: Any) -> dict[str, Any]:
    """A pin (``#/components/schemas/Pin``) with an image (``PinMediaWithImage``)."""
    body: dict[str, Any] = {
        "id": id_,
        "created_at": created,
        "link": "https://example.com/recipe",
        "title": None,
        "description": f"pin {id_}",
        "alt_text": None,
        "board_id": BOARD,
        "board_section_id": None,
        "board_owner": {"username": "someone"},
        "is_owner": True,
        "is_standard": True,
        "has_been_promoted": False,
        "creative_type": "REGULAR",
        "dominant_color": "#6E7874",
        "parent_pin_id": None,
        "media": {
            "media_type": "image",
            "images": {
                "600x": {
                    "width": 600,
                    "height": 600,
                    "url": f"https://i.pinimg.com/600x/{id_}.jpg",
                },
                "1200x": {
                    "width": 1200,
                    "height": 1200,
                    "url": f"https://i.pinimg.com/1200x/{id_}.jpg",
                },
            },
        },
    }
    body.update(extra)
    return body


def analytics(values: dict[str, int]) -> dict[str, Any]:
    """``#/components/schemas/PinAnalyticsResponse``: the ``all`` entry, no split."""
    return {
        "all": {
            "daily_metrics": [
                {"data_status": "READY", "date": "2026-01-02", "metrics": dict(values)}
            ],
            "summary_metrics": dict(values),
        }
    }


class PinterestFixtures(c.AdapterFixtures):
    base_url = BASE

    def make_adapter(self, http: httpx.AsyncClient) -> PinterestAdapter:
        values = {
            "base_url": BASE,
            "access_token": ACCESS,
            "board_id": BOARD,
            "store": MemoryStore(),
            "retry_wait": False,
        }
        return PinterestAdapter(build_settings(PinterestAdapter, values), http=http)

    def secrets(self) -> list[str]:
        return [ACCESS]

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        assert request.headers.get("authorization") == f"Bearer {ACCESS}"
        check_exchange(checker(), request, response)

    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{BASE}/user_account")

    def probe_ok(self) -> httpx.Response:
        # #/components/schemas/Account
        return c.json_response(
            200, {"id": "2783136121146311751", "username": "someone", "account_type": "BUSINESS"}
        )

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        # #/components/schemas/Error
        return c.json_response(
            status, {"code": CODES[status], "message": message or f"error {status}"}
        )

    def rate_limit_headers(self, *, remaining: int, reset_in: float) -> dict[str, str]:
        return {
            "x-ratelimit-limit": "1000",
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": str(int(reset_in)),
        }

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        router.post(f"{BASE}/pins").mock(
            return_value=c.json_response(201, pin("1001", description=text, alt_text=alt))
        )
        return "1001"

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        pages = [
            {"items": [pin("301", "2026-01-03T10:00:00Z"), pin("300")], "bookmark": "Ym0x"},
            {"items": [pin("299"), pin("298")], "bookmark": "Ym0y"},
            {"items": [pin("297")], "bookmark": None},
        ]
        router.get(f"{BASE}/pins").mock(side_effect=[c.json_response(200, p) for p in pages])
        return [["301", "300"], ["299", "298"], ["297"]]

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        first = {"IMPRESSION": 240, "SAVE": 20, "PIN_CLICK": 37, "OUTBOUND_CLICK": 11}
        video = {**first, "IMPRESSION": 500, "VIDEO_MRC_VIEW": 29}
        router.get(f"{BASE}/pins/11/analytics").mock(
            return_value=c.json_response(200, analytics(first))
        )
        router.get(f"{BASE}/pins/12/analytics").mock(
            return_value=c.json_response(200, analytics(video))
        )
        names = {"impressions": 240, "saves": 20, "clicks": 37, "link_clicks": 11}
        return ["11", "12"], {
            "11": dict(names),
            "12": {**names, "impressions": 500, "video_views": 29},
        }


class TestPinterestErrors(PinterestFixtures, c.ErrorSuite):
    pass


class TestPinterestPublishing(PinterestFixtures, c.PublishSuite):
    @pytest.mark.anyio
    async def test_publish_text(self, adapter: Adapter, router: respx.MockRouter) -> None:
        """A pin is an image or a video: a text post is refused before any request."""
        with pytest.raises(InvalidPostError) as info:
            await adapter.publish(Post(text="Hello from the socialkit conformance suite"))
        assert [p.code for p in info.value.problems] == ["media_required"]
        assert not router.calls


class TestPinterestPreflight(PinterestFixtures, c.PreflightSuite):
    """The suite's length tests use text-only posts, which Pinterest refuses for having no
    media: they run here with one image, so that the text is the only problem."""

    @pytest.mark.anyio
    async def test_text_too_long_sends_nothing(
        self, adapter: Adapter, router: respx.MockRouter
    ) -> None:
        post = Post(text="a" * 801, media=[Media.from_bytes(c.PNG_1X1)])
        problems = adapter.check(post)
        assert [p.code for p in problems] == ["text_too_long"]
        assert problems[0].limit == 800
        with pytest.raises(InvalidPostError):
            await adapter.publish(post)
        assert not router.calls

    @pytest.mark.anyio
    async def test_text_at_limit_is_fine(self, adapter: Adapter) -> None:
        assert adapter.check(Post(text="a" * 800, media=[Media.from_bytes(c.PNG_1X1)])) == []


class TestPinterestRead(PinterestFixtures, c.ReadSuite):
    pass


class TestPinterestMetrics(PinterestFixtures, c.MetricsSuite):
    pass


class TestPinterestBulkMetrics(PinterestFixtures, c.MetricsSuite):
    """The ``bulk_analytics`` setting: ``GET /pins/analytics``, many pins a call
    (``#/components/schemas/BulkPinAnalyticsResponse``)."""

    def make_adapter(self, http: httpx.AsyncClient) -> PinterestAdapter:
        values = {
            "base_url": BASE,
            "access_token": ACCESS,
            "board_id": BOARD,
            "bulk_analytics": True,
            "store": MemoryStore(),
            "retry_wait": False,
        }
        return PinterestAdapter(build_settings(PinterestAdapter, values), http=http)

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        first = {"IMPRESSION": 240, "SAVE": 20, "PIN_CLICK": 37, "OUTBOUND_CLICK": 11}
        video = {**first, "IMPRESSION": 500, "VIDEO_MRC_VIEW": 29}
        route = router.get(f"{BASE}/pins/analytics")
        route.mock(
            return_value=c.json_response(200, {"11": analytics(first), "12": analytics(video)})
        )
        names = {"impressions": 240, "saves": 20, "clicks": 37, "link_clicks": 11}
        return ["11", "12"], {
            "11": dict(names),
            "12": {**names, "impressions": 500, "video_views": 29},
        }


class PinterestFakeFixtures(c.FakeFixtures):
    def make_fake(self) -> FakeNetwork:
        return FakePinterest()

    def client_for(self, fake: FakeNetwork) -> httpx.AsyncClient:
        self._traffic = Traffic()
        return self._traffic.attach(fake.client())

    def check_traffic(self, client: httpx.AsyncClient) -> None:
        if self._traffic.exchanges:
            self._traffic.verify()

    @pytest.fixture
    async def net(self, fake: FakeNetwork) -> AsyncIterator[Adapter]:
        client = self.client_for(fake)
        adapter = fake.connect(http=client, retry_wait=False)

        async def no_sleep(seconds: float) -> None:
            return None

        adapter._sleep = no_sleep  # type: ignore[attr-defined]
        try:
            yield adapter
        finally:
            await adapter.aclose()
            await client.aclose()
        self.check_traffic(client)


class TestPinterestEngagement(PinterestFakeFixtures, c.EngagementSuite):
    pass


class TestPinterestPeople(PinterestFakeFixtures, c.PeopleSuite):
    pass


class TestPinterestUpload(PinterestFakeFixtures, c.UploadSuite):
    pass


class TestPinterestRoundTrip(PinterestFakeFixtures, c.RoundTripSuite):
    """The suite's media round trips (image and video uploads); its link, reply and quote
    round trips publish text alone, which Pinterest refuses: the link one runs here with an
    image, and Pinterest has no replies or quotes."""

    @pytest.mark.anyio
    async def test_reply_and_quote_round_trip(self, net: Adapter, fake: FakeNetwork) -> None:
        assert not {Capability.REPLY, Capability.QUOTE} & net.capabilities

    @pytest.mark.anyio
    async def test_link_round_trip(self, net: Adapter) -> None:
        url = "https://example.com/a/long/path/that/networks/like/to/shorten?x=1"
        posted = await net.publish(
            Post(text="read this", link=url, media=[Media.from_bytes(c.PNG_1X1, alt="a pixel")])
        )
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.link == url
        assert got.text == "read this"

    @pytest.mark.anyio
    async def test_image_by_url_round_trip(self, net: Adapter) -> None:
        url = "https://media.example/cat.jpg"
        media = Media.from_url(url, kind="image", mime_type="image/jpeg", alt="a cat")
        posted = await net.publish(Post(text="a pin from a URL", media=[media]))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.text == "a pin from a URL"
        assert [m.kind for m in got.media] == ["image"]
        assert got.media[0].alt == "a cat"
        assert got.media[0].url
        assert got.id == posted.id
        assert got.network == "pinterest"

    @pytest.mark.anyio
    @pytest.mark.parametrize("source", ["upload", "url"])
    async def test_carousel_round_trip(self, net: Adapter, source: str) -> None:
        def image(n: int) -> Media:
            alt = "the carousel" if n == 0 else None
            if source == "url":
                url = f"https://media.example/{n}.jpg"
                return Media.from_url(url, kind="image", mime_type="image/jpeg", alt=alt)
            return Media.from_bytes(c.PNG_1X1, alt=alt)

        posted = await net.publish(Post(text="three images", media=[image(n) for n in range(3)]))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.text == "three images"
        assert [m.kind for m in got.media] == ["image"] * 3
        assert [m.alt for m in got.media] == ["the carousel", None, None]
        assert len({m.url for m in got.media}) == 3
