"""The conformance suites for YouTube.

respx-backed (every request and fixture checked against the discovery documents
``../shared/specs/youtube/youtube.v3.json`` and ``youtubeAnalytics.v2.json``; fixtures follow
``#/schemas/ChannelListResponse``, ``PlaylistItemListResponse``, ``VideoListResponse``,
``CommentThreadListResponse`` and Google's error body,
https://developers.google.com/youtube/v3/docs/errors): errors, publishing (its text test
publishes a video, which is what a YouTube post is), reading, metrics, messages.
PreflightSuite is not subclassed: it expects a text-only post to break the text limit alone,
and YouTube refuses any post without a video; the pre-flight is tested in
test_youtube_adapter.py.

fake-backed (the traffic checked the same way): engagement, people, upload (unsupported), and
paging (comments for the messages walk), a round trip of each media kind YouTube takes (a
video; an image as its thumbnail). RoundTripSuite is not subclassed: it publishes text posts.
"""

from __future__ import annotations

import httpx
import pytest
import respx
from tests._specs import youtube_checker
from tests.adapters.youtube.youtube_support import Recorder, no_sleep

from socialkit import Media, Post
from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters._base import Adapter
from socialkit.adapters.youtube import YouTubeAdapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeYouTube
from socialkit.testing.fakes._base import FakeNetwork

pytestmark = pytest.mark.spec

BASE = "https://youtube.googleapis.com"
ACCESS = "ya29.example-access-token-0123456789"
CHANNEL = "UCabcdefghijklmnopqrstuv"


def channel_list() -> dict[str, object]:
    """``#/schemas/ChannelListResponse``."""
    return {
        "kind": "youtube#channelListResponse",
        "etag": "e",
        "pageInfo": {"totalResults": 1, "resultsPerPage": 1},
        "items": [
            {
                "kind": "youtube#channel",
                "etag": "e",
                "id": CHANNEL,
                "snippet": {"title": "A channel", "customUrl": "@achannel"},
                "statistics": {
                    "viewCount": "100",
                    "subscriberCount": "7",
                    "hiddenSubscriberCount": False,
                    "videoCount": "5",
                },
                "contentDetails": {
                    "relatedPlaylists": {"likes": "", "uploads": "UU" + CHANNEL[2:]}
                },
            }
        ],
    }


def video(id_: str, published: str, views: str = "40", likes: str = "3", comments: str = "2"):  # type: ignore[no-untyped-def]
    """``#/schemas/Video``."""
    return {
        "kind": "youtube#video",
        "etag": "e",
        "id": id_,
        "snippet": {
            "publishedAt": published,
            "channelId": CHANNEL,
            "title": "a clip",
            "description": "",
            "channelTitle": "A channel",
            "categoryId": "22",
        },
        "status": {"uploadStatus": "processed", "privacyStatus": "public"},
        "statistics": {"viewCount": views, "likeCount": likes, "commentCount": comments},
        "contentDetails": {"duration": "PT12S"},
        "processingDetails": {"processingStatus": "succeeded"},
    }


def comment(id_: str, published: str, parent: str | None = None) -> dict[str, object]:
    """``#/schemas/Comment``."""
    snippet: dict[str, object] = {
        "videoId": "abcdefghijk",
        "textDisplay": "nice",
        "textOriginal": "nice",
        "authorDisplayName": "Fan",
        "authorChannelId": {"value": "UCzyxwvutsrqponmlkjihgfe"},
        "publishedAt": published,
    }
    if parent:
        snippet["parentId"] = parent
    return {"kind": "youtube#comment", "etag": "e", "id": id_, "snippet": snippet}


class YouTubeFixtures(c.AdapterFixtures):
    base_url = BASE

    def make_adapter(self, http: httpx.AsyncClient) -> YouTubeAdapter:
        values = {
            "base_url": BASE,
            "analytics_url": "https://youtubeanalytics.googleapis.com",
            "access_token": ACCESS,
            "store": MemoryStore(),
            "retry_wait": False,
        }
        return YouTubeAdapter(build_settings(YouTubeAdapter, values), http=http)

    def secrets(self) -> list[str]:
        return [ACCESS]

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        assert request.headers.get("authorization") == f"Bearer {ACCESS}"
        checker = youtube_checker()
        assert not checker.request_violations(request), checker.request_violations(request)
        if response is not None and response.status_code in (200, 201) and response.content:
            try:
                response.json()
            except ValueError:
                return  # the malformed-body tests send what is not JSON on purpose
            if set(response.json()) <= {"unexpected"}:
                return  # the wrong-shape test's body
            found = checker.response_violations(request, response)
            assert not found, found

    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{BASE}/youtube/v3/channels")

    def probe_ok(self) -> httpx.Response:
        return c.json_response(200, channel_list())

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        reasons = {
            400: ("badRequest", "INVALID_ARGUMENT"),
            401: ("authError", "UNAUTHENTICATED"),
            403: ("forbidden", "PERMISSION_DENIED"),
            404: ("channelNotFound", "NOT_FOUND"),
            422: ("invalidValue", "INVALID_ARGUMENT"),
            429: ("rateLimitExceeded", "RESOURCE_EXHAUSTED"),
            500: ("backendError", "INTERNAL"),
            502: ("backendError", "UNAVAILABLE"),
            503: ("backendError", "UNAVAILABLE"),
        }
        reason, name = reasons[status]
        text = message or f"error {status}"
        return c.json_response(
            status,
            {
                "error": {
                    "code": status,
                    "message": text,
                    "errors": [{"message": text, "domain": "youtube", "reason": reason}],
                    "status": name,
                }
            },
        )

    def rate_limit_headers(self, *, remaining: int, reset_in: float) -> dict[str, str]:
        return {"Retry-After": str(int(reset_in))}

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        router.get(f"{BASE}/youtube/v3/channels").mock(return_value=self.probe_ok())
        ids = [["vid00000301", "vid00000300"], ["vid00000299", "vid00000298"], ["vid00000297"]]
        pages = []
        for index, page in enumerate(ids):
            body: dict[str, object] = {
                "kind": "youtube#playlistItemListResponse",
                "etag": "e",
                "items": [
                    {
                        "kind": "youtube#playlistItem",
                        "etag": "e",
                        "id": f"PLI{i}",
                        "contentDetails": {"videoId": i},
                    }
                    for i in page
                ],
            }
            if index < 2:
                body["nextPageToken"] = f"TOKEN{index + 1}"
            pages.append(c.json_response(200, body))
        router.get(f"{BASE}/youtube/v3/playlistItems").mock(side_effect=pages)
        router.get(f"{BASE}/youtube/v3/videos").mock(
            side_effect=[
                c.json_response(
                    200,
                    {
                        "kind": "youtube#videoListResponse",
                        "items": [video(i, f"2026-01-0{9 - n}T00:00:00Z") for n, i in enumerate(p)],
                    },
                )
                for p in ids
            ]
        )
        return ids

    def extra_read_calls(self) -> int:
        return 2  # the channel (its uploads playlist), then the page's videos

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        router.get(f"{BASE}/youtube/v3/videos").mock(
            return_value=c.json_response(
                200,
                {
                    "kind": "youtube#videoListResponse",
                    "items": [
                        {"kind": "youtube#video", "id": i, "statistics": s}
                        for i, s in (
                            (
                                "vid00000011",
                                {"viewCount": "40", "likeCount": "3", "commentCount": "2"},
                            ),
                            (
                                "vid00000012",
                                {"viewCount": "50", "likeCount": "6", "commentCount": "1"},
                            ),
                        )
                    ],
                },
            )
        )
        return ["vid00000011", "vid00000012"], {
            "vid00000011": {"views": 40, "likes": 3, "replies": 2},
            "vid00000012": {"views": 50, "likes": 6, "replies": 1},
        }

    def mock_messages(self, router: respx.MockRouter) -> list[tuple[str, str]]:
        router.get(f"{BASE}/youtube/v3/channels").mock(return_value=self.probe_ok())
        top = "UgxTopLevelComment0123456789"
        threads = {
            "kind": "youtube#commentThreadListResponse",
            "etag": "e",
            "items": [
                {
                    "kind": "youtube#commentThread",
                    "etag": "e",
                    "id": top,
                    "snippet": {
                        "videoId": "abcdefghijk",
                        "topLevelComment": comment(top, "2026-01-02T00:00:00Z"),
                        "totalReplyCount": 1,
                    },
                    "replies": {
                        "comments": [comment(f"{top}.8abcdefgh", "2026-01-03T00:00:00Z", top)]
                    },
                }
            ],
        }
        router.get(f"{BASE}/youtube/v3/commentThreads").mock(
            return_value=c.json_response(200, threads)
        )
        return [(top, "comment"), (f"{top}.8abcdefgh", "reply")]


class TestYouTubeErrors(YouTubeFixtures, c.ErrorSuite):
    pass


class TestYouTubePublishing(YouTubeFixtures, c.PublishSuite):
    """Images and threads are refused by ``check`` (the suite asserts it); a reply is a
    comment; a YouTube post is a video, so the text test publishes one: the resumable start
    (``Location``), one ``PUT`` (``201``, ``#/schemas/Video``), then ``videos.list`` until
    processed."""

    SESSION = (
        f"{BASE}/upload/youtube/v3/videos"
        "?uploadType=resumable&upload_id=xa298sd_f&part=snippet,status"
    )

    def parent_id(self) -> str:
        return "UgxTopLevelComment0123456789"

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        reply = comment(f"{parent_id}.8reply0001", "2026-01-03T00:00:00Z", parent_id)
        router.post(f"{BASE}/youtube/v3/comments").mock(return_value=c.json_response(200, reply))
        return f"{parent_id}.8reply0001"

    @pytest.mark.anyio
    async def test_publish_text(self, adapter: Adapter, router: respx.MockRouter) -> None:
        text = "Hello from the socialkit conformance suite"
        start = router.post(f"{BASE}/upload/youtube/v3/videos").mock(
            return_value=httpx.Response(200, headers={"Location": self.SESSION})
        )
        uploaded = video("vid00000042", "2026-01-01T00:00:00Z")
        router.put(f"{BASE}/upload/youtube/v3/videos").mock(
            return_value=c.json_response(201, uploaded)
        )
        router.get(f"{BASE}/youtube/v3/videos").mock(
            return_value=c.json_response(
                200, {"kind": "youtube#videoListResponse", "items": [uploaded]}
            )
        )
        posted = await adapter.publish(Post(text=text, media=[Media.from_bytes(c.MP4_HEAD)]))
        assert posted.id == "vid00000042"
        assert posted.network == "youtube"
        assert posted.url == "https://www.youtube.com/watch?v=vid00000042"
        assert posted.created_at is not None
        assert text in c.sent_bodies(router)
        sent = start.calls[0].request
        assert sent.headers["x-upload-content-length"] == str(len(c.MP4_HEAD))
        assert sent.headers["x-upload-content-type"] == "video/mp4"


class TestYouTubeRead(YouTubeFixtures, c.ReadSuite):
    pass


class TestYouTubeMetrics(YouTubeFixtures, c.MetricsSuite):
    pass


class TestYouTubeMessages(YouTubeFixtures, c.MessagesSuite):
    pass


class YouTubeFakeFixtures(c.FakeFixtures):
    def make_fake(self) -> FakeNetwork:
        return FakeYouTube()

    def client_for(self, fake: FakeNetwork) -> httpx.AsyncClient:
        self._recorder = Recorder(httpx.ASGITransport(app=fake.app))
        return httpx.AsyncClient(transport=self._recorder)

    def check_traffic(self, client: httpx.AsyncClient) -> None:
        self._recorder.verify()

    @pytest.fixture
    async def net(self, fake: FakeNetwork):  # type: ignore[no-untyped-def, override]
        client = self.client_for(fake)
        adapter = fake.connect(http=client, retry_wait=False)
        adapter._sleep = no_sleep  # type: ignore[attr-defined]
        try:
            yield adapter
        finally:
            await adapter.aclose()
            await client.aclose()
        self.check_traffic(client)


class TestYouTubeEngagement(YouTubeFakeFixtures, c.EngagementSuite):
    pass


class TestYouTubePeople(YouTubeFakeFixtures, c.PeopleSuite):
    pass


class TestYouTubeUpload(YouTubeFakeFixtures, c.UploadSuite):
    pass


class TestYouTubePaging(YouTubeFakeFixtures, c.PagingSuite):
    """The uploads playlist resumes by its page token (FakeYouTube's tokens name the next
    item). YouTube has no mentions: the messages walk is tested on comments instead."""

    @pytest.mark.anyio
    async def test_messages_resume(self, net: Adapter, fake: FakeNetwork) -> None:
        video = fake.publish_as(fake.owner, "a video")
        fan = self.someone(fake, "fan")
        for index in range(5):
            fake.clock.advance(minutes=1)
            fake.reply(video, fan, f"comment {index}")
        first = net.messages(kinds={"comment"}, limit=2)
        got = [m.id async for m in first]
        assert len(got) == 2
        fake.clock.advance(minutes=1)
        fake.reply(video, fan, "a newer comment")
        rest = [m.id async for m in net.messages(kinds={"comment"}, cursor=first.cursor)]
        ids = got + rest
        assert len(ids) == len(set(ids)) == 5


class TestYouTubeRoundTrip(YouTubeFakeFixtures):
    """One round trip per media kind YouTube takes: a video, and an image (its thumbnail)."""

    @pytest.mark.anyio
    async def test_video_round_trip(self, net: Adapter) -> None:
        posted = await net.publish(
            Post(
                text="a post with one video\nand its description",
                media=[Media.from_bytes(c.MP4_HEAD)],
            )
        )
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.text == "a post with one video\nand its description"
        assert [m.kind for m in got.media] == ["video"]
        assert got.media[0].url == f"https://www.youtube.com/watch?v={posted.id}"
        assert got.media[0].preview_url
        assert got.media[0].duration == 12.0
        assert got.id == posted.id
        assert got.network == "youtube"

    @pytest.mark.anyio
    async def test_image_round_trip_as_thumbnail(self, net: Adapter, fake: FakeNetwork) -> None:
        assert isinstance(net, YouTubeAdapter)
        assert isinstance(fake, FakeYouTube)
        posted = await net.ex_publish(
            Post(text="with a thumbnail", media=[Media.from_bytes(c.MP4_HEAD)]),
            thumbnail=Media.from_bytes(c.PNG_1X1),
            tags=["socialkit", "tests"],
        )
        assert posted.id is not None
        assert fake.videos[posted.id].thumbnail == c.PNG_1X1
        assert fake.videos[posted.id].tags == ["socialkit", "tests"]
        got = await net.get_post(posted.id)
        assert got.media[0].preview_url
