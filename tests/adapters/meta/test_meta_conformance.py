"""The respx-backed conformance suites (ErrorSuite, PublishSuite, PreflightSuite, ReadSuite,
MetricsSuite, MessagesSuite) for Facebook, Instagram and Threads.

Fixture bodies follow Meta's descriptions: Graph node fields from ../shared/specs/meta/graph
(``Page``, ``PagePost``, ``Comment``, ``IGMedia``, ``IGComment``, ``InsightsResult``,
``UnifiedThread``), Threads requests from the Postman collection in
../shared/specs/meta/threads, the error object from the Graph API's "Handling errors" page,
paging from "Paginated results" (``data`` + ``paging.cursors.after`` + ``paging.next``), and
batch answers (``[{code, headers, body}]``) from "Batch requests". Every request is checked
against those descriptions after each test (tests/_validation/graph.py).
"""

from __future__ import annotations

import json
import math
from typing import Any, ClassVar
from urllib.parse import parse_qsl

import httpx
import pytest
import respx
from tests._specs import specs_dir
from tests._validation.graph import GraphChecker, ThreadsChecker

from socialkit import Media, Post
from socialkit._errors import InvalidPostError
from socialkit._store import MemoryStore
from socialkit.adapters._base import Adapter
from socialkit.adapters.meta import FacebookAdapter, InstagramAdapter, ThreadsAdapter
from socialkit.testing import conformance as c

pytestmark = pytest.mark.spec

TOKEN = "EAAGm0PX4ZCpsBAKZCtest-token-value"
SECRET = "0f1e2d3c4b5a-app-secret"
GRAPH = "https://graph.facebook.com/v25.0"
THREADS = "https://graph.threads.net/v1.0"
PAGE = "111"
IG_USER = "17841400000000178"
STAMP = "2026-03-0{day}T1{hour}:00:00+0000"


def ok(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body)


def paged(items: list[dict[str, Any]], after: str | None) -> dict[str, Any]:
    body: dict[str, Any] = {"data": items}
    if items:
        paging: dict[str, Any] = {"cursors": {"before": "QVFIUmJ", "after": after or "QVFIUmxast"}}
        if after is not None:
            paging["next"] = f"{GRAPH}/next?after={after}"
        body["paging"] = paging
    return body


_CODES = {400: 100, 401: 190, 403: 200, 404: 803, 422: 100, 429: 4, 500: 1, 502: 2, 503: 2}


class GraphFixtures(c.AdapterFixtures):
    """What the three networks share: the Graph error object and usage headers."""

    api: ClassVar[str] = GRAPH

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        code = _CODES.get(status, 1)
        text = (
            message
            or {
                100: "(#100) Invalid parameter",
                190: "Error validating access token: Session has expired.",
                200: "(#200) Permissions error",
                803: "(#803) Some of the aliases you requested do not exist: nothing",
                4: "(#4) Application request limit reached",
                1: "An unknown error occurred",
                2: "An unexpected error has occurred. Please retry your request later.",
            }[code]
        )
        error: dict[str, Any] = {
            "message": text,
            "type": "OAuthException",
            "code": code,
            "fbtrace_id": "AbCdEfGh",
        }
        if code == 2:
            error["is_transient"] = True
        return ok({"error": error}, status)

    def rate_limit_headers(self, *, remaining: int, reset_in: float) -> dict[str, str]:
        usage = {
            PAGE: [
                {
                    "type": "pages",
                    "call_count": 100 - remaining,
                    "total_cputime": 10,
                    "total_time": 10,
                    "estimated_time_to_regain_access": math.ceil(reset_in / 60),
                }
            ]
        }
        return {"x-business-use-case-usage": json.dumps(usage)}

    def secrets(self) -> list[str]:
        return [TOKEN, SECRET]

    def node_type(self, ref: str) -> str | None:
        raise NotImplementedError

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        checker = GraphChecker(specs_dir("meta", "graph"), self.node_type, version="v25.0")
        problems = checker.request_violations(request)
        assert not problems, problems


def _batch_calls(request: httpx.Request) -> list[dict[str, Any]]:
    form = dict(parse_qsl(request.content.decode()))
    calls: list[dict[str, Any]] = json.loads(form["batch"])
    return calls


def _batch_answer(bodies: list[Any]) -> httpx.Response:
    return ok([{"code": 200, "headers": [], "body": json.dumps(b)} for b in bodies])


def insights(object_id: str, values: dict[str, int], period: str = "lifetime") -> dict[str, Any]:
    """An insights edge answer (InsightsResult: name, period, values[{value}], title, id)."""
    return {
        "data": [
            {
                "name": name,
                "period": period,
                "values": [{"value": value}],
                "title": name,
                "description": name,
                "id": f"{object_id}/insights/{name}/{period}",
            }
            for name, value in values.items()
        ]
    }


# -- Facebook --------------------------------------------------------------------------------------


class FacebookFixtures(GraphFixtures):
    base_url = "https://graph.facebook.com"

    def make_adapter(self, http: httpx.AsyncClient) -> Adapter:
        return FacebookAdapter.connect(
            http=http,
            access_token=TOKEN,
            app_secret=SECRET,
            page_id=PAGE,
            retry_wait=False,
            store=MemoryStore(),
        )

    def node_type(self, ref: str) -> str | None:
        if ref == PAGE:
            return "Page"
        if ref.startswith("t_"):
            return "UnifiedThread"
        if ref.startswith(f"{PAGE}_") or ref == "1":
            return "PagePost"
        return "Comment" if "_" in ref else "Photo"

    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{GRAPH}/{PAGE}")

    def probe_ok(self) -> httpx.Response:
        return ok({"id": PAGE, "name": "Acme", "username": "acme", "fan_count": 10})

    def mock_publish_text(self, router: respx.MockRouter, text: str) -> str:
        router.post(f"{GRAPH}/{PAGE}/feed").mock(return_value=ok({"id": f"{PAGE}_900"}))
        return f"{PAGE}_900"

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        router.post(f"{GRAPH}/{PAGE}/photos").mock(
            return_value=ok({"id": "901", "post_id": f"{PAGE}_901"})
        )
        return f"{PAGE}_901"

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        router.post(f"{GRAPH}/{parent_id}/comments").mock(return_value=ok({"id": "1_7701"}))
        return "1_7701"

    def _post(self, number: int) -> dict[str, Any]:
        return {
            "id": f"{PAGE}_{number}",
            "message": f"post {number}",
            "created_time": STAMP.format(day=9 - number // 10, hour=number % 10),
            "permalink_url": f"https://www.facebook.com/{PAGE}_{number}",
            "from": {"id": PAGE, "name": "Acme"},
        }

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        pages = [
            [self._post(n) for n in (59, 58)],
            [self._post(n) for n in (49, 48)],
            [self._post(47)],
        ]
        cursors = [None, "QVFIUmE", "QVFIUmI"]

        def answer(request: httpx.Request) -> httpx.Response:
            index = cursors.index(request.url.params.get("after"))
            after = cursors[index + 1] if index + 1 < len(cursors) else None
            return ok(paged(pages[index], after))

        router.get(f"{GRAPH}/{PAGE}/posts").mock(side_effect=answer)
        return [[p["id"] for p in page] for page in pages]

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        ids = [f"{PAGE}_900", f"{PAGE}_901"]
        values = {
            ids[0]: {
                "post_media_view": 500,
                "post_total_media_view_unique": 320,
                "post_reactions_like_total": 12,
                "post_clicks": 4,
            },
            ids[1]: {
                "post_media_view": 50,
                "post_total_media_view_unique": 30,
                "post_reactions_like_total": 1,
                "post_clicks": 0,
            },
        }

        def answer(request: httpx.Request) -> httpx.Response:
            calls = _batch_calls(request)
            return _batch_answer(
                [
                    insights(
                        c["relative_url"].split("/")[0], values[c["relative_url"].split("/")[0]]
                    )
                    for c in calls
                ]
            )

        router.post(f"{GRAPH}/").mock(side_effect=answer)
        return ids, {
            ids[0]: {"views": 500, "reach": 320, "likes": 12, "clicks": 4},
            ids[1]: {"views": 50, "reach": 30, "likes": 1, "clicks": 0},
        }

    def mock_messages(self, router: respx.MockRouter) -> list[tuple[str, str]]:
        fan = {"id": "5550001", "name": "A Fan"}
        router.get(f"{GRAPH}/{PAGE}/posts").mock(
            return_value=ok(
                paged([{"id": f"{PAGE}_900", "created_time": STAMP.format(day=1, hour=0)}], None)
            )
        )
        router.get(f"{GRAPH}/{PAGE}/tagged").mock(
            return_value=ok(
                paged(
                    [
                        {
                            "id": "222_1",
                            "message": "@Acme hi",
                            "created_time": STAMP.format(day=4, hour=0),
                            "from": fan,
                        }
                    ],
                    None,
                )
            )
        )
        router.get(f"{GRAPH}/{PAGE}/conversations").mock(
            return_value=ok(
                paged([{"id": "t_10", "updated_time": STAMP.format(day=5, hour=0)}], None)
            )
        )
        comments = {
            "data": [
                {
                    "id": "900_3",
                    "message": "nice",
                    "created_time": STAMP.format(day=3, hour=0),
                    "from": fan,
                },
                {
                    "id": "900_2",
                    "message": "our own answer",
                    "created_time": STAMP.format(day=2, hour=5),
                    "from": {"id": PAGE, "name": "Acme"},
                },
                {
                    "id": "900_1",
                    "message": "first",
                    "created_time": STAMP.format(day=2, hour=0),
                    "from": fan,
                    "parent": {"id": "900_0"},
                },
            ]
        }
        messages = {
            "data": [
                {
                    "id": "m_1",
                    "message": "hello",
                    "created_time": STAMP.format(day=5, hour=0),
                    "from": fan,
                }
            ]
        }

        def batch(request: httpx.Request) -> httpx.Response:
            calls = _batch_calls(request)
            return _batch_answer(
                [messages if c["relative_url"].startswith("t_") else comments for c in calls]
            )

        router.post(f"{GRAPH}/").mock(side_effect=batch)
        return [("m_1", "direct"), ("222_1", "mention"), ("900_3", "comment"), ("900_1", "reply")]


class TestFacebookErrors(FacebookFixtures, c.ErrorSuite):
    pass


class TestFacebookPublishing(FacebookFixtures, c.PublishSuite):
    pass


class TestFacebookPreflight(FacebookFixtures, c.PreflightSuite):
    pass


class TestFacebookRead(FacebookFixtures, c.ReadSuite):
    pass


class TestFacebookMetrics(FacebookFixtures, c.MetricsSuite):
    pass


class TestFacebookMessages(FacebookFixtures, c.MessagesSuite):
    pass


# -- Instagram -------------------------------------------------------------------------------------


class URLMediaPublishing(c.PublishSuite):
    """Networks that take media by URL only: bytes are refused up front, a URL is published."""

    @pytest.mark.anyio
    async def test_publish_image(self, adapter: Adapter, router: respx.MockRouter) -> None:
        refused = Post(
            text="A picture", media=[Media.from_bytes(c.PNG_1X1, alt="One transparent pixel")]
        )
        with pytest.raises(InvalidPostError):
            await adapter.publish(refused)
        assert not router.calls
        expected = self.mock_publish_image(router, "A picture", "One transparent pixel")
        post = Post(
            text="A picture",
            media=[Media.from_url("https://media.example/p.jpg", alt="One transparent pixel")],
        )
        posted = await adapter.publish(post)
        assert posted.id == expected
        assert "One transparent pixel" in c.sent_bodies(router)


class InstagramFixtures(GraphFixtures):
    base_url = "https://graph.facebook.com"

    def make_adapter(self, http: httpx.AsyncClient) -> Adapter:
        return InstagramAdapter.connect(
            http=http,
            access_token=TOKEN,
            app_secret=SECRET,
            ig_user_id=IG_USER,
            retry_wait=False,
            poll_interval=0,
            store=MemoryStore(),
        )

    def node_type(self, ref: str) -> str | None:
        if ref == IG_USER:
            return "IGUser"
        if ref.startswith("1790"):
            return "ShadowIGMediaBuilder"
        if ref.startswith("1780"):
            return "IGComment"
        return "IGMedia"

    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{GRAPH}/{IG_USER}")

    def probe_ok(self) -> httpx.Response:
        return ok({"id": IG_USER, "username": "acme", "followers_count": 10, "media_count": 3})

    def _publish_routes(self, router: respx.MockRouter, media_id: str) -> None:
        router.get(f"{GRAPH}/{IG_USER}/content_publishing_limit").mock(
            return_value=ok(
                {
                    "data": [
                        {"quota_usage": 3, "config": {"quota_total": 100, "quota_duration": 86400}}
                    ]
                }
            )
        )
        router.post(f"{GRAPH}/{IG_USER}/media").mock(return_value=ok({"id": "17900001"}))
        router.get(f"{GRAPH}/17900001").mock(
            side_effect=[
                ok({"id": "17900001", "status_code": "IN_PROGRESS", "status": "In Progress"}),
                ok({"id": "17900001", "status_code": "FINISHED", "status": "Finished"}),
            ]
        )
        router.post(f"{GRAPH}/{IG_USER}/media_publish").mock(return_value=ok({"id": media_id}))

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        self._publish_routes(router, "18000000000000001")
        return "18000000000000001"

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        router.post(f"{GRAPH}/{parent_id}/comments").mock(
            return_value=ok({"id": "17800000000000009"})
        )
        return "17800000000000009"

    def _media(self, number: int) -> dict[str, Any]:
        return {
            "id": f"1800000000000{number:04d}",
            "caption": f"post {number}",
            "media_type": "IMAGE",
            "media_url": f"https://scontent.cdninstagram.com/{number}.jpg",
            "permalink": f"https://www.instagram.com/p/{number}/",
            "timestamp": STAMP.format(day=9 - number // 10, hour=number % 10),
            "username": "acme",
        }

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        pages = [
            [self._media(n) for n in (59, 58)],
            [self._media(n) for n in (49, 48)],
            [self._media(47)],
        ]
        cursors = [None, "QVFIUmE", "QVFIUmI"]

        def answer(request: httpx.Request) -> httpx.Response:
            index = cursors.index(request.url.params.get("after"))
            after = cursors[index + 1] if index + 1 < len(cursors) else None
            return ok(paged(pages[index], after))

        router.get(f"{GRAPH}/{IG_USER}/media").mock(side_effect=answer)
        return [[p["id"] for p in page] for page in pages]

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        ids = ["18000000000000001", "18000000000000002"]
        values = {
            "views": 900,
            "reach": 700,
            "saved": 5,
            "shares": 2,
            "likes": 40,
            "comments": 3,
            "total_interactions": 50,
        }

        def answer(request: httpx.Request) -> httpx.Response:
            return _batch_answer(
                [insights(c["relative_url"].split("/")[0], values) for c in _batch_calls(request)]
            )

        router.post(f"{GRAPH}/").mock(side_effect=answer)
        expected = {
            "views": 900,
            "reach": 700,
            "saves": 5,
            "shares": 2,
            "likes": 40,
            "replies": 3,
            "engagements": 50,
        }
        return ids, {i: dict(expected) for i in ids}

    def mock_messages(self, router: respx.MockRouter) -> list[tuple[str, str]]:
        router.get(f"{GRAPH}/{IG_USER}/media").mock(
            return_value=ok(
                paged([{"id": "18000000000000001", "timestamp": STAMP.format(day=1, hour=0)}], None)
            )
        )
        router.get(f"{GRAPH}/{IG_USER}/tags").mock(
            return_value=ok(
                paged(
                    [
                        {
                            "id": "18000000000000777",
                            "caption": "look @acme",
                            "timestamp": STAMP.format(day=4, hour=0),
                            "username": "fan",
                        }
                    ],
                    None,
                )
            )
        )
        fan = {"id": "17841400000000555", "username": "fan"}
        # GET /{ig-media-id}/comments: the top-level comments only; a reply is read from its
        # comment's GET /{ig-comment-id}/replies (IG Comment Replies reference; the GET
        # replies edge of meta/graph/IGComment.json), where it names its ``parent_id``.
        comments = {
            "data": [
                {
                    "id": "17800000000000003",
                    "text": "so cute",
                    "timestamp": STAMP.format(day=3, hour=0),
                    "username": "fan",
                    "from": fan,
                },
                {
                    "id": "17800000000000002",
                    "text": "thanks!",
                    "timestamp": STAMP.format(day=2, hour=5),
                    "username": "acme",
                    "from": {"id": IG_USER, "username": "acme"},
                },
            ]
        }
        replies = {
            "data": [
                {
                    "id": "17800000000000001",
                    "text": "agreed",
                    "timestamp": STAMP.format(day=2, hour=6),
                    "username": "fan",
                    "from": fan,
                    "parent_id": "17800000000000002",
                },
            ]
        }

        def answer(call: dict[str, Any]) -> dict[str, Any]:
            url = str(call["relative_url"])
            if "/replies" in url:
                return replies if url.startswith("17800000000000002/") else {"data": []}
            return comments

        router.post(f"{GRAPH}/").mock(
            side_effect=lambda request: _batch_answer([answer(c) for c in _batch_calls(request)])
        )
        return [
            ("18000000000000777", "mention"),
            ("17800000000000003", "comment"),
            ("17800000000000001", "reply"),
        ]


class TestInstagramErrors(InstagramFixtures, c.ErrorSuite):
    pass


class TestInstagramPublishing(InstagramFixtures, URLMediaPublishing):
    @pytest.mark.anyio
    async def test_publish_text(self, adapter: Adapter, router: respx.MockRouter) -> None:
        with pytest.raises(InvalidPostError, match="needs an image or a video"):
            await adapter.publish(Post(text="Hello from the socialkit conformance suite"))
        assert not router.calls


class TestInstagramPreflight(InstagramFixtures, c.PreflightSuite):
    @pytest.mark.anyio
    async def test_text_too_long_sends_nothing(
        self, adapter: Adapter, router: respx.MockRouter
    ) -> None:
        post = Post(text="a" * 2201, media=[Media.from_url("https://media.example/p.jpg")])
        assert [p.code for p in adapter.check(post)] == ["text_too_long"]
        with pytest.raises(InvalidPostError):
            await adapter.publish(post)
        assert not router.calls

    @pytest.mark.anyio
    async def test_text_at_limit_is_fine(self, adapter: Adapter) -> None:
        post = Post(text="a" * 2200, media=[Media.from_url("https://media.example/p.jpg")])
        assert adapter.check(post) == []


class TestInstagramRead(InstagramFixtures, c.ReadSuite):
    pass


class TestInstagramMetrics(InstagramFixtures, c.MetricsSuite):
    pass


class TestInstagramMessages(InstagramFixtures, c.MessagesSuite):
    pass


# -- Threads ---------------------------------------------------------------------------------------


class ThreadsFixtures(GraphFixtures):
    base_url = "https://graph.threads.net"

    def make_adapter(self, http: httpx.AsyncClient) -> Adapter:
        return ThreadsAdapter.connect(
            http=http,
            access_token=TOKEN,
            app_secret=SECRET,
            retry_wait=False,
            poll_interval=0,
            store=MemoryStore(),
        )

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        checker = ThreadsChecker(
            specs_dir("meta", "threads", "threads-api.postman_collection.json")
        )
        problems = checker.request_violations(request)
        assert not problems, problems

    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{THREADS}/me")

    def probe_ok(self) -> httpx.Response:
        return ok({"id": "7001", "username": "acme", "name": "Acme"})

    def _limit(self, router: respx.MockRouter) -> None:
        router.get(f"{THREADS}/me/threads_publishing_limit").mock(
            return_value=ok(
                {
                    "data": [
                        {"quota_usage": 4, "config": {"quota_total": 250, "quota_duration": 86400}}
                    ]
                }
            )
        )

    def mock_publish_text(self, router: respx.MockRouter, text: str) -> str:
        self._limit(router)
        router.post(f"{THREADS}/me/threads").mock(return_value=ok({"id": "5001"}))
        router.post(f"{THREADS}/me/threads_publish").mock(return_value=ok({"id": "6001"}))
        return "6001"

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        self._limit(router)
        router.post(f"{THREADS}/me/threads").mock(return_value=ok({"id": "5002"}))
        router.get(f"{THREADS}/5002").mock(
            side_effect=[
                ok({"id": "5002", "status": "IN_PROGRESS"}),
                ok({"id": "5002", "status": "FINISHED"}),
            ]
        )
        router.post(f"{THREADS}/me/threads_publish").mock(return_value=ok({"id": "6002"}))
        return "6002"

    def mock_publish_thread(self, router: respx.MockRouter, texts: list[str]) -> list[str]:
        self._limit(router)
        containers = [ok({"id": f"510{i}"}) for i in range(len(texts))]
        posts = [ok({"id": f"610{i}"}) for i in range(len(texts))]
        router.post(f"{THREADS}/me/threads").mock(side_effect=containers)
        router.post(f"{THREADS}/me/threads_publish").mock(side_effect=posts)
        return [f"610{i}" for i in range(len(texts))]

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        return self.mock_publish_text(router, text)

    def _post(self, number: int) -> dict[str, Any]:
        return {
            "id": f"1800{number}",
            "text": f"post {number}",
            "media_type": "TEXT_POST",
            "permalink": f"https://www.threads.net/@acme/post/{number}",
            "timestamp": STAMP.format(day=9 - number // 10, hour=number % 10),
            "username": "acme",
            "owner": {"id": "7001"},
        }

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        pages = [
            [self._post(n) for n in (59, 58)],
            [self._post(n) for n in (49, 48)],
            [self._post(47)],
        ]
        cursors = [None, "QVFIUmE", "QVFIUmI"]

        def answer(request: httpx.Request) -> httpx.Response:
            index = cursors.index(request.url.params.get("after"))
            after = cursors[index + 1] if index + 1 < len(cursors) else None
            return ok(paged(pages[index], after))

        router.get(f"{THREADS}/me/threads").mock(side_effect=answer)
        return [[p["id"] for p in page] for page in pages]

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        ids = ["18001", "18002"]
        values = {"views": 300, "likes": 20, "replies": 4, "reposts": 2, "quotes": 1, "shares": 0}
        for post_id in ids:
            router.get(f"{THREADS}/{post_id}/insights").mock(
                return_value=ok(insights(post_id, values))
            )
        return ids, {i: dict(values) for i in ids}

    def mock_messages(self, router: respx.MockRouter) -> list[tuple[str, str]]:
        items = [
            {**self._post(n), "username": "fan", "owner": {"id": "7002"}, "text": f"@acme {n}"}
            for n in (39, 38)
        ]
        router.get(f"{THREADS}/me/mentions").mock(return_value=ok(paged(items, None)))
        return [(i["id"], "mention") for i in items]


class TestThreadsErrors(ThreadsFixtures, c.ErrorSuite):
    pass


class TestThreadsPublishing(ThreadsFixtures, URLMediaPublishing):
    pass


class TestThreadsPreflight(ThreadsFixtures, c.PreflightSuite):
    pass


class TestThreadsRead(ThreadsFixtures, c.ReadSuite):
    pass


class TestThreadsMetrics(ThreadsFixtures, c.MetricsSuite):
    pass


class TestThreadsMessages(ThreadsFixtures, c.MessagesSuite):
    pass
