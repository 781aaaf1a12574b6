"""The respx-backed conformance suites for Reddit (fixtures: reddit_fixtures, each following
the reference page named there)."""

from __future__ import annotations

import httpx
import pytest
import respx
from reddit_fixtures import BASE, ME, RedditFixtures, form, link, listing, submitted

from socialkit import Media, Post
from socialkit.adapters.reddit import RedditAdapter
from socialkit.testing import conformance as c

pytestmark = pytest.mark.spec


class RedditSuiteFixtures(RedditFixtures):
    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{BASE}/api/v1/me")

    def probe_ok(self) -> httpx.Response:
        return c.json_response(200, ME)

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        default = {
            400: "Bad Request",
            401: "Unauthorized",
            403: "Forbidden",
            404: "Not Found",
            422: "Unprocessable Entity",
            429: "Too Many Requests",
            500: "Internal Server Error",
            502: "Bad Gateway",
            503: "Service Unavailable",
        }
        return c.json_response(status, {"message": message or default[status], "error": status})

    def rate_limit_headers(self, *, remaining: int, reset_in: float) -> dict[str, str]:
        return {
            "x-ratelimit-used": str(600 - remaining),
            "x-ratelimit-remaining": f"{remaining:.1f}",
            "x-ratelimit-reset": str(int(reset_in)),
        }

    def mock_publish_text(self, router: respx.MockRouter, text: str) -> str:
        router.post(f"{BASE}/api/submit").mock(
            return_value=c.json_response(200, submitted("t3_abc1"))
        )
        router.get(f"{BASE}/api/info").mock(
            return_value=c.json_response(200, listing([link("abc1", text)]))
        )
        return "t3_abc1"

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        lease = {
            "args": {
                "action": "//reddit-uploaded-media.s3-accelerate.example",
                "fields": [{"name": "key", "value": "rte_images/a1/media.png"}],
            },
            "asset": {"asset_id": "a1", "processing_state": "incomplete"},
        }
        router.post(f"{BASE}/api/media/asset.json").mock(return_value=c.json_response(200, lease))
        location = "https://reddit-uploaded-media.s3-accelerate.example/rte_images/a1/media.png"
        router.post("https://reddit-uploaded-media.s3-accelerate.example").mock(
            return_value=httpx.Response(
                201,
                content=f"<PostResponse><Location>{location}</Location></PostResponse>".encode(),
            )
        )
        # Image posts answer with a websocket URL, not an id
        # (https://www.reddit.com/dev/api#POST_api_submit, kind=image).
        router.post(f"{BASE}/api/submit").mock(
            return_value=c.json_response(
                200,
                {
                    "json": {
                        "errors": [],
                        "data": {
                            "user_submitted_page": "https://www.reddit.com/user/tester/submitted/",
                            "websocket_url": "wss://ws.redditmedia.example/rte_images/a1",
                        },
                    }
                },
            )
        )
        router.get(f"{BASE}/api/v1/me").mock(return_value=c.json_response(200, ME))
        router.get(f"{BASE}/user/tester/submitted").mock(
            return_value=c.json_response(
                200,
                listing(
                    [
                        link(
                            "img1",
                            text,
                            created=9_999_999_999.0,
                            is_self=False,
                            post_hint="image",
                            url="https://i.redd.it/a1.png",
                        )
                    ]
                ),
            )
        )
        return "t3_img1"

    def mock_publish_thread(self, router: respx.MockRouter, texts: list[str]) -> list[str]:
        router.post(f"{BASE}/api/submit").mock(
            return_value=c.json_response(200, submitted("t3_th1"))
        )
        router.get(f"{BASE}/api/info").mock(
            return_value=c.json_response(200, listing([link("th1", texts[0])]))
        )
        comments = [
            {
                "json": {
                    "errors": [],
                    "data": {
                        "things": [
                            {
                                "kind": "t1",
                                "data": {
                                    "id": f"c{i}",
                                    "name": f"t1_c{i}",
                                    "body": t,
                                    "author": "tester",
                                    "parent_id": "t3_th1" if i == 1 else f"t1_c{i - 1}",
                                    "link_id": "t3_th1",
                                    "created_utc": 1765000000.0 + i,
                                    "permalink": f"/r/socialkit/comments/th1/x/c{i}/",
                                },
                            }
                        ]
                    },
                }
            }
            for i, t in enumerate(texts[1:], start=1)
        ]
        router.post(f"{BASE}/api/comment").mock(
            side_effect=[c.json_response(200, body) for body in comments]
        )
        return ["t3_th1", "t1_c1", "t1_c2"]

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        router.post(f"{BASE}/api/comment").mock(
            return_value=c.json_response(
                200,
                {
                    "json": {
                        "errors": [],
                        "data": {
                            "things": [
                                {
                                    "kind": "t1",
                                    "data": {
                                        "id": "r1",
                                        "name": "t1_r1",
                                        "body": text,
                                        "author": "tester",
                                        "parent_id": parent_id,
                                        "link_id": parent_id,
                                        "created_utc": 1765000000.0,
                                    },
                                }
                            ]
                        },
                    }
                },
            )
        )
        return "t1_r1"

    def parent_id(self) -> str:
        return "t3_parent1"

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        router.get(f"{BASE}/api/v1/me").mock(return_value=c.json_response(200, ME))
        pages = [
            listing([link("p1", "one", 300), link("p2", "two", 299)], after="t3_p2"),
            listing([link("p3", "three", 298), link("p4", "four", 297)], after="t3_p4"),
            listing([link("p5", "five", 296)]),
        ]
        router.get(f"{BASE}/user/tester/submitted").mock(
            side_effect=[c.json_response(200, page) for page in pages]
        )
        return [["t3_p1", "t3_p2"], ["t3_p3", "t3_p4"], ["t3_p5"]]

    def extra_read_calls(self) -> int:
        return 1  # /api/v1/me: the username of the listing's path

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        router.get(f"{BASE}/api/info").mock(
            return_value=c.json_response(
                200,
                listing(
                    [
                        link("m1", "a", score=42, upvote_ratio=0.93, num_comments=7),
                        link("m2", "b", score=3, upvote_ratio=0.5, num_comments=0),
                    ]
                ),
            )
        )
        return ["t3_m1", "t3_m2"], {
            "t3_m1": {"likes": 42, "replies": 7, "upvote_ratio": 0.93},
            "t3_m2": {"likes": 3, "replies": 0, "upvote_ratio": 0.5},
        }

    def mock_messages(self, router: respx.MockRouter) -> list[tuple[str, str]]:
        def comment(id_: str, kind: str, created: float) -> dict[str, object]:
            return {
                "kind": "t1",
                "data": {
                    "id": id_,
                    "name": f"t1_{id_}",
                    "body": "hello",
                    "author": "fan",
                    "author_fullname": "t2_fan1",
                    "parent_id": "t3_p1",
                    "link_id": "t3_p1",
                    "created_utc": created,
                    "was_comment": True,
                    "type": kind,
                    "context": f"/r/socialkit/comments/p1/x/{id_}/?context=3",
                },
            }

        page = listing(
            [
                {
                    "kind": "t4",
                    "data": {
                        "id": "pm1",
                        "name": "t4_pm1",
                        "body": "a private hello",
                        "author": "fan",
                        "subject": "hi",
                        "created_utc": 400.0,
                        "was_comment": False,
                    },
                },
                comment("m1", "username_mention", 300.0),
                comment("r1", "comment_reply", 200.0),
                comment("c1", "post_reply", 100.0),
            ]
        )
        router.get(f"{BASE}/message/inbox").mock(return_value=c.json_response(200, page))
        return [
            ("t4_pm1", "direct"),
            ("t1_m1", "mention"),
            ("t1_r1", "reply"),
            ("t1_c1", "comment"),
        ]


class TestRedditErrors(RedditSuiteFixtures, c.ErrorSuite):
    pass


class TestRedditPublishing(RedditSuiteFixtures, c.PublishSuite):
    """Reddit takes writes as forms (https://www.reddit.com/dev/api: "POST ... application/
    x-www-form-urlencoded"), so the text is checked in the decoded form, not the raw body."""

    @pytest.mark.anyio
    async def test_publish_text(self, adapter: RedditAdapter, router: respx.MockRouter) -> None:
        text = "Hello from the socialkit conformance suite"
        expected = self.mock_publish_text(router, text)
        posted = await adapter.publish(Post(text=text))
        assert posted.id == expected
        assert posted.url
        assert posted.created_at is not None
        submit = next(
            call.request for call in router.calls if call.request.url.path == "/api/submit"
        )
        assert form(submit)["title"] == [text]
        assert form(submit)["kind"] == ["self"]
        assert form(submit)["sr"] == ["socialkit"]

    @pytest.mark.anyio
    async def test_reply(self, adapter: RedditAdapter, router: respx.MockRouter) -> None:
        expected = self.mock_reply(router, "t3_parent1", "Thanks!")
        posted = await adapter.reply("t3_parent1", "Thanks!")
        assert posted.id == expected
        assert form(router.calls.last.request) == {
            "api_type": ["json"],
            "thing_id": ["t3_parent1"],
            "text": ["Thanks!"],
        }

    @pytest.mark.anyio
    async def test_publish_image(self, adapter: RedditAdapter, router: respx.MockRouter) -> None:
        """Reddit image posts have no alt text (only gallery items carry a caption, see
        test_reddit_adapter::test_gallery_captions_are_the_alt_texts): the image goes to the
        media lease's storage, and the post is found among the account's submissions."""
        expected = self.mock_publish_image(router, "A picture", "One transparent pixel")
        posted = await adapter.publish(
            Post(text="A picture", media=[Media.from_bytes(c.PNG_1X1, alt="ignored")])
        )
        assert posted.id == expected
        assert [m.kind for m in posted.media] == ["image"]
        submit = next(
            call.request for call in router.calls if call.request.url.path == "/api/submit"
        )
        body = submit.content.decode()
        assert "kind=image" in body
        assert "rte_images%2Fa1%2Fmedia.png" in body


class TestRedditPreflight(RedditSuiteFixtures, c.PreflightSuite):
    @pytest.mark.anyio
    async def test_text_at_limit_is_fine(self, adapter: RedditAdapter) -> None:
        """A Reddit text is a title (the first line, at most 300 characters) and a body (at
        most 40,000): the longest text has both."""
        limit = adapter.limits.max_text
        assert limit == 300 + 1 + 40_000
        assert adapter.check(Post(text="t" * 300 + "\n" + "b" * 40_000)) == []
        assert [p.code for p in adapter.check(Post(text="t" * 301))] == ["title_too_long"]


class TestRedditRead(RedditSuiteFixtures, c.ReadSuite):
    pass


class TestRedditMetrics(RedditSuiteFixtures, c.MetricsSuite):
    pass


class TestRedditMessages(RedditSuiteFixtures, c.MessagesSuite):
    pass
