"""The conformance suites for TikTok.

respx-backed (fixtures follow https://developers.tiktok.com/doc/tiktok-api-v2-get-user-info,
…/tiktok-api-v2-video-list, …/tiktok-api-v2-video-query and the error envelope of
…/tiktok-api-v2-error-handling): errors, reading, metrics. PublishSuite and PreflightSuite are
not subclassed: both publish text alone, which TikTok cannot (a post is a video or photos);
publishing is tested in test_tiktok_adapter.py. MessagesSuite does not apply: the API has no
comments, mentions or messages for apps.

fake-backed: engagement and people (all unsupported by the API), round trips of a video.
PagingSuite is not subclassed (its messages test needs mentions); the resumable walk over the
user's videos is test_tiktok_adapter.py::test_videos_and_stats."""

from __future__ import annotations

import httpx
import pytest
import respx

from socialkit import Media, Post
from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters._base import Adapter
from socialkit.adapters.tiktok import TikTokAdapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeTikTok
from socialkit.testing.fakes._base import FakeNetwork

pytestmark = pytest.mark.spec

BASE = "https://open.tiktokapis.example"
ACCESS = "act.example-access-token-0123456789"
FIELDS_OK = {"code": "ok", "message": "", "log_id": "20260101000000ABCDEF"}


def envelope(data: object) -> httpx.Response:
    return c.json_response(200, {"data": data, "error": FIELDS_OK})


def video(id_: str, created: int) -> dict[str, object]:
    return {
        "id": id_,
        "create_time": created,
        "cover_image_url": f"https://p16.tiktokcdn.example/{id_}.jpeg",
        "share_url": f"https://www.tiktok.com/@someone/video/{id_}",
        "video_description": "a clip",
        "duration": 12,
        "height": 1920,
        "width": 1080,
        "title": "a clip",
        "embed_link": f"https://www.tiktok.com/embed/v2/{id_}",
        "like_count": 3,
        "comment_count": 2,
        "share_count": 1,
        "view_count": 40,
    }


class TikTokFixtures(c.AdapterFixtures):
    base_url = BASE

    def make_adapter(self, http: httpx.AsyncClient) -> TikTokAdapter:
        values = {
            "base_url": BASE,
            "access_token": ACCESS,
            "store": MemoryStore(),
            "retry_wait": False,
        }
        return TikTokAdapter(build_settings(TikTokAdapter, values), http=http)

    def secrets(self) -> list[str]:
        return [ACCESS]

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        assert request.headers.get("authorization") == f"Bearer {ACCESS}"
        if request.method == "POST":
            assert request.headers["content-type"].startswith("application/json")
        if request.url.path in ("/v2/video/list/", "/v2/video/query/", "/v2/user/info/"):
            assert request.url.params.get("fields"), "the Display API needs fields"

    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{BASE}/v2/user/info/")

    def probe_ok(self) -> httpx.Response:
        return envelope(
            {"user": {"open_id": "-000abc", "username": "someone", "follower_count": 5}}
        )

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        codes = {
            400: "invalid_params",
            401: "access_token_invalid",
            403: "scope_not_authorized",
            404: "not_found",
            422: "invalid_params",
            429: "rate_limit_exceeded",
            500: "internal_error",
            502: "internal_error",
            503: "internal_error",
        }
        return c.json_response(
            status,
            {
                "error": {
                    "code": codes[status],
                    "message": message or f"error {status}",
                    "log_id": "20260101000000ABCDEF",
                }
            },
        )

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        pages = [
            {
                "videos": [video("301", 3000), video("300", 2999)],
                "cursor": 2999000,
                "has_more": True,
            },
            {
                "videos": [video("299", 2998), video("298", 2997)],
                "cursor": 2997000,
                "has_more": True,
            },
            {"videos": [video("297", 2996)], "cursor": 2996000, "has_more": False},
        ]
        router.post(f"{BASE}/v2/video/list/").mock(side_effect=[envelope(p) for p in pages])
        return [["301", "300"], ["299", "298"], ["297"]]

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        router.post(f"{BASE}/v2/video/query/").mock(
            return_value=envelope({"videos": [video("11", 1), video("12", 2)]})
        )
        values = {"views": 40, "likes": 3, "replies": 2, "shares": 1}
        return ["11", "12"], {"11": values, "12": values}


class TestTikTokErrors(TikTokFixtures, c.ErrorSuite):
    pass


class TestTikTokRead(TikTokFixtures, c.ReadSuite):
    pass


class TestTikTokMetrics(TikTokFixtures, c.MetricsSuite):
    pass


class TikTokFakeFixtures(c.FakeFixtures):
    def make_fake(self) -> FakeNetwork:
        return FakeTikTok()

    @pytest.fixture
    async def net(self, fake: FakeNetwork):  # type: ignore[no-untyped-def, override]
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


class TestTikTokEngagement(TikTokFakeFixtures, c.EngagementSuite):
    pass


class TestTikTokPeople(TikTokFakeFixtures, c.PeopleSuite):
    pass


class TestTikTokUpload(TikTokFakeFixtures, c.UploadSuite):
    pass


class TestTikTokRoundTrip(TikTokFakeFixtures):
    @pytest.mark.anyio
    async def test_video_round_trip(self, net: Adapter) -> None:
        posted = await net.publish(
            Post(text="a post with one video", media=[Media.from_bytes(c.MP4_HEAD)])
        )
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.text == "a post with one video"
        assert [m.kind for m in got.media] == ["video"]
        assert got.media[0].url
        assert got.media[0].preview_url
        assert got.media[0].duration is not None
        assert got.id == posted.id
        assert got.network == "tiktok"
