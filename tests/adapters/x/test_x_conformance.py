"""The conformance suites for X, with respx fixtures built to openapi.json (see x_bodies)."""

from __future__ import annotations

import time

import httpx
import pytest
import respx
import x_bodies as b
from x_bodies import BASE, ME_ID, OTHER_HANDLE, OTHER_ID
from x_fixtures import ACCESS, CONSUMER_SECRET, TOKEN_SECRET, XFixtures, make_x, oauth1_settings

from socialkit.adapters.x import XAdapter
from socialkit.testing import conformance as c

pytestmark = pytest.mark.spec


class XSuiteFixtures(XFixtures):
    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{BASE}/2/users/me")

    def probe_ok(self) -> httpx.Response:
        # GetUsersMeResponse
        return b.ok(200, b.user_response())

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        if message is not None:
            return b.problem(status, title="Unauthorized", detail=message)
        if status == 400:
            return b.problem(
                400,
                "invalid-request",
                title="Invalid Request",
                detail="One or more parameters to your request was invalid.",
            )
        if status == 404:
            return b.problem(
                404,
                "resource-not-found",
                title="Not Found Error",
                detail="Could not find user with id: [2244994945].",
                resource_type="user",
                resource_id=ME_ID,
                parameter="id",
                value=ME_ID,
            )
        titles = {
            401: ("Unauthorized", "Unauthorized"),
            403: ("Forbidden", "You are not permitted to perform this action."),
            422: ("Unprocessable Entity", "The request could not be processed."),
            429: ("Too Many Requests", "Too Many Requests"),
            500: ("Internal Server Error", "Internal Server Error"),
            503: ("Service Unavailable", "Service Unavailable"),
        }
        title, detail = titles.get(status, ("Error", "Error"))
        return b.problem(status, title=title, detail=detail)

    def rate_limit_headers(self, *, remaining: int, reset_in: float) -> dict[str, str]:
        return {
            "x-rate-limit-limit": "75",
            "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(int(time.time() + reset_in)),
        }

    # -- publishing ----------------------------------------------------------------------------

    def mock_publish_text(self, router: respx.MockRouter, text: str) -> str:
        post_id = b.recent_id(0)
        router.post(f"{BASE}/2/tweets").mock(return_value=b.ok(201, b.created(post_id, text)))
        return post_id

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        media_id = b.recent_id(1, 7)
        post_id = b.recent_id(0)
        router.post(f"{BASE}/2/media/upload/initialize").mock(
            return_value=b.ok(200, b.upload_init(media_id))
        )
        router.post(f"{BASE}/2/media/upload/{media_id}/append").mock(
            return_value=b.ok(200, b.upload_append())
        )
        router.post(f"{BASE}/2/media/upload/{media_id}/finalize").mock(
            return_value=b.ok(200, b.upload_status(media_id))
        )
        router.post(f"{BASE}/2/media/metadata").mock(
            return_value=b.ok(200, b.metadata_set(media_id, alt))
        )
        router.post(f"{BASE}/2/tweets").mock(return_value=b.ok(201, b.created(post_id, text)))
        return post_id

    def mock_publish_thread(self, router: respx.MockRouter, texts: list[str]) -> list[str]:
        ids = [b.recent_id(0, i) for i in range(len(texts))]
        router.post(f"{BASE}/2/tweets").mock(
            side_effect=[b.ok(201, b.created(i, t)) for i, t in zip(ids, texts, strict=True)]
        )
        return ids

    def parent_id(self) -> str:
        return b.recent_id(60)

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        post_id = b.recent_id(0)
        router.post(
            f"{BASE}/2/tweets", json={"text": text, "reply": {"in_reply_to_tweet_id": parent_id}}
        ).mock(return_value=b.ok(201, b.created(post_id, text)))
        return post_id

    # -- reading -------------------------------------------------------------------------------

    def extra_read_calls(self) -> int:
        return 1  # GET /2/users/me for the account's id

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        pages = [[b.recent_id(10 * p + i, i) for i in range(3)] for p in range(3)]
        tokens = [None, "7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i", "7140dibdnow9c7btw3z3"]

        def answer(request: httpx.Request) -> httpx.Response:
            token = request.url.params.get("pagination_token")
            index = tokens.index(token)
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            # GetUsersPostsResponse
            return b.ok(200, b.page([b.post(i) for i in pages[index]], next_token=following))

        router.get(f"{BASE}/2/users/{ME_ID}/tweets").mock(side_effect=answer)
        return pages

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        video_post, text_post = b.recent_id(60), b.recent_id(120)
        media_key = "7_1880028106020515840"
        body = {
            # GetPostsByIdsResponse: Post[] with public/non_public/organic metrics, and the
            # attached video's Media (MediaPublicMetrics.view_count, MediaNonPublicMetrics).
            "data": [
                b.post(
                    video_post,
                    metrics=b.public_metrics(impressions=5000, likes=50, reposts=5, replies=6),
                    attachments={"media_keys": [media_key]},
                    non_public_metrics={
                        "impression_count": 5000,
                        "url_link_clicks": 12,
                        "user_profile_clicks": 9,
                        "engagements": 80,
                    },
                    organic_metrics={
                        "impression_count": 4000,
                        "like_count": 45,
                        "retweet_count": 4,
                        "reply_count": 2,
                        "url_link_clicks": 10,
                        "user_profile_clicks": 8,
                    },
                ),
                b.post(text_post, metrics=b.public_metrics(impressions=70, likes=7, bookmarks=1)),
            ],
            "includes": {
                "media": [
                    {
                        "media_key": media_key,
                        "type": "video",
                        "public_metrics": {"view_count": 1500},
                        "non_public_metrics": {
                            "playback_0_count": 1600,
                            "playback_25_count": 900,
                            "playback_50_count": 600,
                            "playback_75_count": 400,
                            "playback_100_count": 300,
                        },
                    }
                ]
            },
        }
        router.get(f"{BASE}/2/tweets").mock(return_value=b.ok(200, body))
        expected: dict[str, dict[str, int | float]] = {
            video_post: {
                "impressions": 5000,
                "likes": 50,
                "reposts": 5,
                "replies": 6,
                "quotes": 1,
                "bookmarks": 4,
                "link_clicks": 12,
                "profile_clicks": 9,
                "engagements": 80,
                "organic_impressions": 4000,
                "organic_likes": 45,
                "organic_reposts": 4,
                "organic_replies": 2,
                "organic_link_clicks": 10,
                "organic_profile_clicks": 8,
                "video_starts": 1600,
                "video_views": 1500,
                "video_views_50": 600,
                "video_views_75": 400,
                "video_views_25": 900,
                "video_completions": 300,
            },
            text_post: {
                "impressions": 70,
                "likes": 7,
                "bookmarks": 1,
                "reposts": 3,
                "replies": 2,
                "quotes": 1,
            },
        }
        return [video_post, text_post], expected

    def mock_messages(self, router: respx.MockRouter) -> list[tuple[str, str]]:
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        ours = b.recent_id(300, 1)
        reply_id = b.recent_id(5)
        quote_id = b.recent_id(20)
        mention_id = b.recent_id(40)
        dm_in = b.recent_id(10, 3)
        dm_out = b.recent_id(15, 4)
        dm_old = b.recent_id(50, 5)
        mentions = b.page(
            [
                b.post(
                    reply_id,
                    "@XDevelopers thanks!",
                    author_id=OTHER_ID,
                    replied_to=ours,
                    in_reply_to_user_id=ME_ID,
                ),
                b.post(quote_id, "look @XDevelopers", author_id=OTHER_ID, quoted=ours),
                b.post(mention_id, "hi @XDevelopers", author_id=OTHER_ID),
            ],
            users=[b.user(OTHER_ID, OTHER_HANDLE)],
            included_posts=[b.post(ours, "our post")],
        )
        router.get(f"{BASE}/2/users/{ME_ID}/mentions").mock(return_value=b.ok(200, mentions))
        events = b.dm_page(
            [
                b.dm_event(dm_in, "hello there", OTHER_ID),
                b.dm_event(dm_out, "our answer", ME_ID),
                b.dm_event(dm_old, "first message", OTHER_ID),
            ]
        )
        router.get(f"{BASE}/2/dm_events").mock(return_value=b.ok(200, events))
        return [
            (reply_id, "reply"),
            (dm_in, "direct"),
            (quote_id, "quote"),
            (mention_id, "mention"),
            (dm_old, "direct"),
        ]


class TestXErrors(XSuiteFixtures, c.ErrorSuite):
    """With OAuth 1.0a keys: an OAuth 2.0 adapter answers a 401 by refreshing its token and
    sending again (tested in test_x_auth.py), which this suite's one-call 401 check excludes."""

    def make_adapter(self, http: httpx.AsyncClient) -> XAdapter:
        return make_x(http, **oauth1_settings())

    def secrets(self) -> list[str]:
        return [ACCESS, CONSUMER_SECRET, TOKEN_SECRET]


class TestXPublishing(XSuiteFixtures, c.PublishSuite):
    pass


class TestXPreflight(XSuiteFixtures, c.PreflightSuite):
    pass


class TestXReading(XSuiteFixtures, c.ReadSuite):
    pass


class TestXMetrics(XSuiteFixtures, c.MetricsSuite):
    pass


class TestXMessages(XSuiteFixtures, c.MessagesSuite):
    pass
