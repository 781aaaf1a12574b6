"""X adapter behaviour beyond the conformance suites. Every request these tests send, and every
fixture response, is validated against openapi.json (XFixtures.check_exchange, at teardown)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
import respx
import x_bodies as b
from x_bodies import BASE, ME_HANDLE, ME_ID, OTHER_HANDLE, OTHER_ID
from x_fixtures import (
    ACCESS,
    BEARER,
    CONSUMER_SECRET,
    REFRESH,
    XFixtures,
    make_x,
    oauth1_settings,
    oauth2_settings,
)

from socialkit import (
    ConfigurationError,
    DuplicateError,
    Media,
    Message,
    NotFoundError,
    OutcomeUnknownError,
    Poll,
    Post,
    RateLimitError,
)
from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters.x import UserContextRequiredError, XAdapter
from socialkit.adapters.x import _mapping as mapping
from socialkit.adapters.x import _wire as wire
from socialkit.auth import TokenStore
from socialkit.testing.conformance import PNG_1X1
from socialkit.text import count_x

pytestmark = pytest.mark.spec


class XTest(XFixtures):
    @pytest.fixture
    async def client(self, router: respx.MockRouter) -> AsyncIterator[httpx.AsyncClient]:
        client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
        yield client
        await client.aclose()


def _json(request: httpx.Request) -> dict[str, object]:
    body = json.loads(request.content)
    assert isinstance(body, dict)
    return body


class TestMedia(XTest):
    @pytest.mark.anyio
    async def test_chunked_video_upload_with_processing_states(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client, **oauth2_settings(chunk_size=64 * 1024))
        video = bytes(range(256)) * 600  # 153,600 bytes: three chunks of at most 65,536
        media_id = b.recent_id(1, 9)
        post_id = b.recent_id(0)
        init = router.post(f"{BASE}/2/media/upload/initialize").mock(
            return_value=b.ok(200, b.upload_init(media_id))
        )
        append = router.post(f"{BASE}/2/media/upload/{media_id}/append").mock(
            return_value=b.ok(200, b.upload_append())
        )
        router.post(f"{BASE}/2/media/upload/{media_id}/finalize").mock(
            return_value=b.ok(200, b.upload_status(media_id, "pending", 3, size=len(video)))
        )
        status = router.get(f"{BASE}/2/media/upload").mock(
            side_effect=[
                b.ok(200, b.upload_status(media_id, "in_progress", 5, size=len(video))),
                b.ok(200, b.upload_status(media_id, "succeeded", size=len(video))),
            ]
        )
        meta = router.post(f"{BASE}/2/media/metadata").mock(
            return_value=b.ok(200, b.metadata_set(media_id, "A test pattern"))
        )
        create = router.post(f"{BASE}/2/tweets").mock(
            return_value=b.ok(201, b.created(post_id, "Video"))
        )
        media = Media.from_bytes(video, mime_type="video/mp4", alt="A test pattern")
        posted = await adapter.publish(Post(text="Video", media=[media]))

        assert posted.id == post_id
        assert _json(init.calls[0].request) == {
            "media_category": "tweet_video",
            "media_type": "video/mp4",
            "total_bytes": len(video),
        }
        assert append.call_count == 3
        received = b""
        for index, call in enumerate(append.calls):
            request = call.request
            assert request.headers["content-type"].startswith("multipart/form-data")
            body = request.content
            assert f'name="segment_index"\r\n\r\n{index}\r\n'.encode() in body
            start = body.index(b"Content-Type: application/octet-stream\r\n\r\n") + 42
            end = body.rindex(b"\r\n--")
            received += body[start:end]
        assert received == video, "the chunks reassemble into the video, in order"
        assert status.call_count == 2
        assert dict(status.calls[0].request.url.params) == {
            "media_id": media_id,
            "command": "STATUS",
        }
        assert adapter.slept == [3.0, 5.0], "waits follow check_after_secs"  # type: ignore[attr-defined]
        assert _json(meta.calls[0].request) == {
            "id": media_id,
            "metadata": {"alt_text": {"text": "A test pattern"}},
        }
        assert _json(create.calls[0].request) == {
            "text": "Video",
            "media": {"media_ids": [media_id]},
        }

    @pytest.mark.anyio
    async def test_processing_failure_and_timeout(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        from socialkit import APIError, TimeoutError

        adapter = make_x(client, **oauth2_settings(media_timeout=10))
        media_id = b.recent_id(1, 9)
        router.post(f"{BASE}/2/media/upload/initialize").mock(
            return_value=b.ok(200, b.upload_init(media_id))
        )
        router.post(f"{BASE}/2/media/upload/{media_id}/append").mock(
            return_value=b.ok(200, b.upload_append())
        )
        router.post(f"{BASE}/2/media/upload/{media_id}/finalize").mock(
            side_effect=[
                b.ok(200, b.upload_status(media_id, "pending", 6)),
                b.ok(200, b.upload_status(media_id, "failed")),
            ]
        )
        router.get(f"{BASE}/2/media/upload").mock(
            return_value=b.ok(200, b.upload_status(media_id, "in_progress", 6))
        )
        tweets = router.post(f"{BASE}/2/tweets")
        gif = Media.from_bytes(b"GIF89a" + bytes(40), mime_type="image/gif")
        with pytest.raises(TimeoutError, match="still processing"):
            await adapter.publish(Post(text="gif", media=[gif]))
        assert adapter.slept == [6.0]  # type: ignore[attr-defined]  # 6 + 6 > 10: gave up
        with pytest.raises(APIError, match="could not process"):
            await adapter.publish(Post(text="gif", media=[gif]))
        assert not tweets.called


class TestPreflight(XTest):
    def _adapter(self) -> XAdapter:
        return XAdapter(build_settings(XAdapter, oauth2_settings()))

    def test_media_rules(self) -> None:
        adapter = self._adapter()
        png = Media.from_bytes(PNG_1X1)
        gif = Media.from_bytes(b"GIF89a" + bytes(20), mime_type="image/gif")
        mp4 = Media.from_bytes(bytes(100), mime_type="video/mp4")
        assert adapter.check(Post(text="x", media=[png] * 4)) == []
        codes = {p.code for p in adapter.check(Post(text="x", media=[png, gif]))}
        assert "mixed_media" in codes
        assert "too_many_videos" in {
            p.code for p in adapter.check(Post(text="x", media=[mp4, mp4]))
        }
        assert "too_many_gifs" in {p.code for p in adapter.check(Post(text="x", media=[gif, gif]))}
        heic = Media.from_bytes(bytes(10), mime_type="image/heic")
        assert "media_type_unsupported" in {
            p.code for p in adapter.check(Post(text="x", media=[heic]))
        }

    def test_weighted_length_and_exclusive_fields(self) -> None:
        adapter = self._adapter()
        assert adapter.check(Post(text="界" * 140)) == []  # CJK weighs 2: 280
        assert [p.code for p in adapter.check(Post(text="界" * 141))] == ["text_too_long"]
        url = "https://example.com/" + "a" * 300  # a URL counts 23 whatever its length
        assert adapter.check(Post(text=url)) == []
        poll = Poll(options=["yes", "no"], duration=timedelta(minutes=60))
        problems = adapter.check(Post(text="q", poll=poll, quote_of="20"))
        assert [p.code for p in problems] == ["conflicting_fields"]
        short = Poll(options=["a", "b"], duration=timedelta(minutes=2))
        assert [p.code for p in adapter.check(Post(text="q", poll=short))] == ["poll_duration"]
        assert {p.field for p in adapter.check(Post(text="q", visibility="followers"))} == {
            "visibility"
        }

    def test_a_post_that_surely_fits_is_not_counted(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # The pre-flight judges a post from a cheap upper bound of its weight; URLs are looked
        # for (twitter-text's rules) only when the bound is over 280.
        import socialkit.text.x as text_x

        adapter = self._adapter()
        searched: list[str] = []
        extract = text_x.extract_urls

        def spy(text: str, **options: Any) -> Any:
            searched.append(text)
            return extract(text, **options)

        monkeypatch.setattr(text_x, "extract_urls", spy)
        count_x.cache_clear()  # texts counted by an earlier test are not counted again
        assert adapter.check(Post(text="Read https://example.com/a/b 🚀 today")) == []
        assert searched == []
        # Short links weigh 23 each: 12 of them (4 code points each, with spaces) are 287.
        crowded = " ".join(f"a{i % 10}.co" for i in range(12)) + " " + "x" * 1
        problems = adapter.check(Post(text=crowded))
        assert [(p.code, p.actual) for p in problems] == [("text_too_long", count_x(crowded))]
        assert count_x(crowded) > 280
        assert searched  # counted exactly for the message

    def test_split_thread_respects_the_weighted_limit(self) -> None:
        adapter = self._adapter()
        # Distinct words: parts that repeat a text would fail check (X refuses duplicates).
        text = " ".join(f"数据{i}" for i in range(120)) + " https://example.com/" + "p" * 100
        parts = adapter.ex_split_thread(text)
        assert len(parts) > 1
        assert all(adapter.limits.count(part) <= 280 for part in parts)
        assert parts[-1].endswith("p" * 100), "a URL is never cut"
        assert adapter.check(Post(text=parts[0], thread=[Post(text=t) for t in parts[1:]])) == []


class TestPublishing(XTest):
    @pytest.mark.anyio
    async def test_reply_quote_and_poll_bodies(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        ids = [b.recent_id(0, i) for i in range(2)]
        route = router.post(f"{BASE}/2/tweets").mock(
            side_effect=[b.ok(201, b.created(ids[0], "q")), b.ok(201, b.created(ids[1], "p"))]
        )
        quoted = b.recent_id(100)
        await adapter.publish(Post(text="q", quote_of=quoted, reply_to=quoted))
        poll = Poll(options=["yes", "no", "maybe"], duration=timedelta(days=1))
        await adapter.publish(Post(text="p", poll=poll))
        assert _json(route.calls[0].request) == {
            "text": "q",
            "reply": {"in_reply_to_tweet_id": quoted},
            "quote_tweet_id": quoted,
        }
        assert _json(route.calls[1].request) == {
            "text": "p",
            "poll": {"options": ["yes", "no", "maybe"], "duration_minutes": 1440},
        }

    @pytest.mark.anyio
    async def test_duplicate_is_a_duplicate_error(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        route = router.post(f"{BASE}/2/tweets").mock(
            return_value=b.problem(
                403,
                title="Forbidden",
                detail="You are not allowed to create a Tweet with duplicate content.",
            )
        )
        with pytest.raises(DuplicateError) as info:
            await adapter.publish(Post(text="same again"))
        assert info.value.status == 403
        assert "duplicate content" in (info.value.message or "")
        assert route.call_count == 1

    @pytest.mark.anyio
    async def test_unknown_outcome_found_in_timeline_is_not_sent_again(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        parent = b.recent_id(90)
        text = "Launch day! Details at https://example.com/launch & more"
        create = router.post(f"{BASE}/2/tweets").mock(side_effect=httpx.ReadTimeout("lost"))
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        landed = b.recent_id(0, 5)
        timeline = router.get(f"{BASE}/2/users/{ME_ID}/tweets").mock(
            return_value=b.ok(
                200,
                b.page(
                    [
                        # X stores links as t.co and escapes "&" (GetUsersPostsResponse).
                        b.post(
                            landed,
                            "Launch day! Details at https://t.co/abc123 &amp; more",
                            replied_to=parent,
                            in_reply_to_user_id=ME_ID,
                        ),
                        b.post(b.recent_id(0, 6), "Launch day! Details at https://t.co/x & more"),
                    ]
                ),
            )
        )
        posted = await adapter.publish(Post(text=text, reply_to=parent))
        assert posted.id == landed
        assert create.call_count == 1, "found: not sent again"
        params = timeline.calls[0].request.url.params
        assert "start_time" in params

    @pytest.mark.anyio
    async def test_unknown_outcome_of_a_media_only_post_is_never_resent(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        # No text means X's duplicate check cannot catch a second copy: not found in the
        # timeline (which may lag), the adapter raises instead of publishing it twice.
        adapter = make_x(client)
        media_id = b.recent_id(1, 7)
        router.post(f"{BASE}/2/media/upload/initialize").mock(
            return_value=b.ok(200, b.upload_init(media_id))
        )
        router.post(f"{BASE}/2/media/upload/{media_id}/append").mock(
            return_value=b.ok(200, b.upload_append())
        )
        router.post(f"{BASE}/2/media/upload/{media_id}/finalize").mock(
            return_value=b.ok(200, b.upload_status(media_id))
        )
        create = router.post(f"{BASE}/2/tweets").mock(side_effect=httpx.ReadTimeout("lost"))
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        router.get(f"{BASE}/2/users/{ME_ID}/tweets").mock(
            return_value=b.ok(200, b.page([b.post(b.recent_id(0, 3), "Something else")]))
        )
        with pytest.raises(OutcomeUnknownError):
            await adapter.publish(Post(media=[Media.from_bytes(PNG_1X1)]))
        assert create.call_count == 1

    @pytest.mark.anyio
    async def test_unknown_outcome_not_found_is_sent_once_more(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        post_id = b.recent_id(0)
        create = router.post(f"{BASE}/2/tweets").mock(
            side_effect=[
                b.problem(503, title="Service Unavailable", detail="Service Unavailable"),
                b.ok(201, b.created(post_id, "Hello")),
            ]
        )
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        router.get(f"{BASE}/2/users/{ME_ID}/tweets").mock(
            return_value=b.ok(200, b.page([b.post(b.recent_id(0, 3), "Something else")]))
        )
        posted = await adapter.publish(Post(text="Hello"))
        assert posted.id == post_id
        assert create.call_count == 2, "not found: sent exactly once more"

    @pytest.mark.anyio
    async def test_a_created_answer_without_data_is_reconciled_not_an_error(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        # A 201 without ``data`` (CreatePostsResponse makes it optional): the post may well
        # exist, so the outcome is unknown and the timeline is read; it is not a refusal
        # (which would drop the key's record and let a retry publish a second copy).
        adapter = make_x(client)
        create = router.post(f"{BASE}/2/tweets").mock(return_value=b.ok(201, {}))
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        landed = b.recent_id(0, 5)
        router.get(f"{BASE}/2/users/{ME_ID}/tweets").mock(
            return_value=b.ok(200, b.page([b.post(landed, "Hello")]))
        )
        posted = await adapter.publish(Post(text="Hello"), idempotency_key="k1")
        assert posted.id == landed
        assert create.call_count == 1

    @pytest.mark.anyio
    async def test_app_only_bearer_cannot_publish(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client, bearer_token=BEARER)
        with pytest.raises(UserContextRequiredError) as info:
            await adapter.publish(Post(text="hello"))
        assert "OAuth 2.0 user token" in str(info.value)
        assert info.value.operation == "publishing"
        with pytest.raises(UserContextRequiredError):
            await adapter.delete("20")
        with pytest.raises(UserContextRequiredError):
            await adapter.me()
        with pytest.raises(UserContextRequiredError):
            adapter.messages(kinds={"direct"})
        assert not router.calls, "refused before sending"

    @pytest.mark.anyio
    async def test_delete(self, router: respx.MockRouter, client: httpx.AsyncClient) -> None:
        adapter = make_x(client)
        post_id = b.recent_id(5)
        route = router.delete(f"{BASE}/2/tweets/{post_id}").mock(
            return_value=b.ok(200, {"data": {"deleted": True}})  # DeletePostsResponse
        )
        await adapter.delete(post_id)
        assert route.called


def _refreshed() -> httpx.Response:
    """X's token endpoint answering a refresh: RFC 6749 section 5.1, a rotated refresh token."""
    return httpx.Response(
        200,
        json={
            "token_type": "bearer",
            "expires_in": 7200,
            "access_token": "new-access-token",
            "scope": "tweet.read tweet.write users.read offline.access",
            "refresh_token": "rotated-refresh-token",
        },
    )


class TestAuth(XTest):
    @pytest.mark.anyio
    async def test_oauth1_signs_requests(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client, **oauth1_settings())
        post_id = b.recent_id(0)
        route = router.post(f"{BASE}/2/tweets").mock(
            return_value=b.ok(201, b.created(post_id, "signed"))
        )
        await adapter.publish(Post(text="signed"))
        header = route.calls[0].request.headers["authorization"]
        assert header.startswith("OAuth ")
        for part in ("oauth_consumer_key=", "oauth_signature=", "oauth_nonce=", "oauth_token="):
            assert part in header
        assert 'oauth_signature_method="HMAC-SHA1"' in header
        assert CONSUMER_SECRET not in header

    @pytest.mark.anyio
    async def test_oauth2_refresh_on_401_with_rotation(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        store = MemoryStore()
        adapter = make_x(client, **oauth2_settings(store=store))
        seen: list[str] = []
        answers = [
            b.problem(401, title="Unauthorized", detail="Unauthorized"),
            b.ok(200, b.user_response()),
        ]

        def answer(request: httpx.Request) -> httpx.Response:
            # The auth flow re-sends the same request object: record its header as sent.
            seen.append(request.headers["authorization"])
            return answers[len(seen) - 1]

        me = router.get(f"{BASE}/2/users/me").mock(side_effect=answer)
        token = router.post(f"{BASE}/2/oauth2/token").mock(return_value=_refreshed())
        account = await adapter.me()
        assert account.handle == ME_HANDLE
        assert me.call_count == 2
        assert seen == [f"Bearer {ACCESS}", "Bearer new-access-token"]
        form = parse_qs(token.calls[0].request.content.decode())
        assert form["grant_type"] == ["refresh_token"]
        assert form["refresh_token"] == [REFRESH]
        assert token.calls[0].request.headers["authorization"].startswith("Basic ")
        stored = await TokenStore(store).get("x", "default")
        assert stored is not None
        assert stored.refresh_token is not None
        assert stored.refresh_token.get_secret_value() == "rotated-refresh-token"

    @pytest.mark.anyio
    async def test_a_refresh_token_alone_is_refreshed_before_the_first_call(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        """XSettings accepts client_id + refresh_token without an access token; the adapter
        used to pass ``ensure_credentials`` only with an access token and never seeded the
        store from a refresh token alone."""
        store = MemoryStore()
        settings = oauth2_settings(store=store)
        del settings["access_token"]
        adapter = make_x(client, **settings)
        token = router.post(f"{BASE}/2/oauth2/token").mock(return_value=_refreshed())
        me = router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        async with adapter:  # ensure_credentials: the refresh token is a credential
            account = await adapter.me()
        assert account.handle == ME_HANDLE
        assert token.call_count == 1
        form = parse_qs(token.calls[0].request.content.decode())
        assert form["grant_type"] == ["refresh_token"]
        assert form["refresh_token"] == [REFRESH]
        assert me.calls[0].request.headers["authorization"] == "Bearer new-access-token"

    @pytest.mark.anyio
    async def test_authorization_url_and_code_exchange(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        store = MemoryStore()
        settings = {
            "client_id": "client-id-123",
            "redirect_uri": "http://127.0.0.1:8765/callback",
            "scopes": ("tweet.read", "users.read"),
            "store": store,
        }
        adapter = make_x(client, **settings)
        request = adapter.ex_authorization_url()
        url = httpx.URL(request.url)
        assert str(url).startswith("https://x.com/i/oauth2/authorize?")
        assert url.params["scope"] == "tweet.read users.read offline.access"
        assert url.params["code_challenge_method"] == "S256"
        assert url.params["client_id"] == "client-id-123"
        router.post(f"{BASE}/2/oauth2/token").mock(
            return_value=httpx.Response(
                200,
                json={
                    "token_type": "bearer",
                    "expires_in": 7200,
                    "access_token": "fresh-access",
                    "refresh_token": "fresh-refresh",
                    "scope": "tweet.read users.read offline.access",
                },
            )
        )
        redirect = f"http://127.0.0.1:8765/callback?state={request.state}&code=abc"
        await adapter.ex_exchange_code(request, redirect)
        me = router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        await adapter.me()
        assert me.calls[0].request.headers["authorization"] == "Bearer fresh-access"

    def test_settings_need_one_consistent_set(self) -> None:
        with pytest.raises(ConfigurationError, match="no credentials"):
            build_settings(XAdapter, {})
        with pytest.raises(ConfigurationError, match="consumer_secret"):
            build_settings(XAdapter, {"consumer_key": "k", "access_token": "a"})
        with pytest.raises(ConfigurationError, match="app-only"):
            build_settings(XAdapter, {"bearer_token": "b", "access_token": "a"})
        with pytest.raises(ConfigurationError, match="client_id"):
            build_settings(XAdapter, {"access_token": "a", "refresh_token": "r"})
        settings = build_settings(XAdapter, oauth1_settings())
        assert CONSUMER_SECRET not in repr(settings)


class TestReading(XTest):
    @pytest.mark.anyio
    async def test_get_post_and_missing_post(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        post_id, missing = b.recent_id(30), b.recent_id(40)
        route = router.get(f"{BASE}/2/tweets/{post_id}").mock(
            return_value=b.ok(
                200,
                {"data": b.post(post_id, "Hi &amp; welcome"), "includes": {"users": [b.user()]}},
            )
        )
        router.get(f"{BASE}/2/tweets/{missing}").mock(
            return_value=b.ok(
                200,
                {
                    "errors": [
                        {
                            "value": missing,
                            "detail": f"Could not find tweet with id: [{missing}].",
                            "title": "Not Found Error",
                            "resource_type": "tweet",
                            "parameter": "id",
                            "resource_id": missing,
                            "type": "https://api.x.com/2/problems/resource-not-found",
                        }
                    ]
                },
            )
        )
        post = await adapter.get_post(post_id)
        assert post.text == "Hi & welcome"
        assert post.author is not None
        assert post.author.handle == ME_HANDLE
        assert post.url == f"https://x.com/{ME_HANDLE}/status/{post_id}"
        assert post.metrics["likes"] == 10
        assert "author_id" in route.calls[0].request.url.params["expansions"]
        with pytest.raises(NotFoundError, match="Could not find"):
            await adapter.get_post(missing)

    @pytest.mark.anyio
    async def test_other_account_and_since(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client, bearer_token=BEARER)
        lookup = router.get(f"{BASE}/2/users/by/username/{OTHER_HANDLE}").mock(
            return_value=b.ok(200, b.user_response(id=OTHER_ID, username=OTHER_HANDLE))
        )
        timeline = router.get(f"{BASE}/2/users/{OTHER_ID}/tweets").mock(
            return_value=b.ok(
                200,
                b.page(
                    [b.post(b.recent_id(1), "theirs", author_id=OTHER_ID)],
                    users=[b.user(OTHER_ID, OTHER_HANDLE)],
                ),
            )
        )
        since = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
        got = [p async for p in adapter.posts(account="@" + OTHER_HANDLE, since=since)]
        assert [p.text for p in got] == ["theirs"]
        assert lookup.calls[0].request.headers["authorization"] == f"Bearer {BEARER}"
        assert timeline.calls[0].request.url.params["start_time"] == "2025-01-02T03:04:05Z"

    @pytest.mark.anyio
    async def test_search_passes_operators(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client, bearer_token=BEARER)
        first, second = b.recent_id(1), b.recent_id(2)
        route = router.get(f"{BASE}/2/tweets/search/recent").mock(
            side_effect=[
                b.ok(200, b.page([b.post(first)], next_token="b26v89c19zqg8o3fpds")),
                b.ok(200, b.page([b.post(second)])),
            ]
        )
        query = '"socialkit" from:XDevelopers -is:retweet'
        got = [p.id async for p in adapter.search(query)]
        assert got == [first, second]
        params = route.calls[1].request.url.params
        assert params["query"] == query
        assert params["next_token"] == "b26v89c19zqg8o3fpds"

    @pytest.mark.anyio
    async def test_a_page_shares_its_authors_and_keeps_raw_once(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client, bearer_token=BEARER)
        ids = [b.recent_id(1, i) for i in range(4)]
        authors = [ME_ID, OTHER_ID, ME_ID, OTHER_ID]
        body = b.page(
            [b.post(i, f"post {i}", author_id=a) for i, a in zip(ids, authors, strict=True)],
            users=[b.user(ME_ID, ME_HANDLE), b.user(OTHER_ID, OTHER_HANDLE)],
        )
        router.get(f"{BASE}/2/tweets/search/recent").mock(return_value=b.ok(200, body))
        got = [p async for p in adapter.search("socialkit")]
        assert [p.id for p in got] == ids
        # One Account per author per page, shared by that author's posts.
        assert got[0].author is got[2].author
        assert got[1].author is got[3].author
        assert got[0].author is not None
        assert got[0].author.handle == ME_HANDLE
        # ``raw`` reads as the wire post (decoded from the page's body on first access) and
        # as the user for an account; equality and dumps do not change.
        raw = got[1].raw
        assert isinstance(raw, wire.WirePost)
        assert raw == wire.WirePost.model_validate(body["data"][1])
        assert got[1].raw is raw
        assert got[1].author is not None
        assert isinstance(got[1].author.raw, wire.WireUser)
        assert got[1].author.raw.username == OTHER_HANDLE
        eager = mapping.post_from(
            wire.WirePost.model_validate(body["data"][3]),
            wire.Includes.model_validate(body["includes"]),
        )
        assert got[3] == eager
        assert got[3].model_dump() == eager.model_dump()
        assert repr(got[3]) == repr(eager)


class TestMetrics(XTest):
    @pytest.mark.anyio
    async def test_250_posts_in_three_batches(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        ids = [b.recent_id(60, i) for i in range(250)]

        def answer(request: httpx.Request) -> httpx.Response:
            asked = request.url.params["ids"].split(",")
            # GetPostsByIdsResponse
            return b.ok(200, {"data": [b.post(i) for i in asked]})

        route = router.get(f"{BASE}/2/tweets").mock(side_effect=answer)
        got = await adapter.metrics(ids)
        assert route.call_count == 3
        sizes = [len(call.request.url.params["ids"].split(",")) for call in route.calls]
        assert sizes == [100, 100, 50]
        sent = [i for call in route.calls for i in call.request.url.params["ids"].split(",")]
        assert sent == ids
        assert set(got) == set(ids)
        fields = route.calls[0].request.url.params["post.fields"].split(",")
        assert {"public_metrics", "non_public_metrics", "organic_metrics"} <= set(fields)

    @pytest.mark.anyio
    async def test_deleted_post_is_left_out_with_a_warning(
        self,
        router: respx.MockRouter,
        client: httpx.AsyncClient,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        adapter = make_x(client, bearer_token=BEARER)
        old, gone = "20", "1346889436626259968"
        route = router.get(f"{BASE}/2/tweets").mock(
            return_value=b.ok(
                200,
                {
                    "data": [b.post(old, metrics=b.public_metrics(likes=99))],
                    "errors": [
                        {
                            "value": gone,
                            "detail": f"Could not find tweet with ids: [{gone}].",
                            "title": "Not Found Error",
                            "resource_type": "tweet",
                            "parameter": "ids",
                            "resource_id": gone,
                            "type": "https://api.x.com/2/problems/resource-not-found",
                        }
                    ],
                },
            )
        )
        with caplog.at_level(logging.WARNING, logger="socialkit.adapters.x"):
            got = await adapter.metrics([old, gone])
        assert set(got) == {old}
        assert {m.name: m.value for m in got[old]}["likes"] == 99
        assert any(gone in record.getMessage() for record in caplog.records)
        fields = route.calls[0].request.url.params["post.fields"]
        assert "non_public_metrics" not in fields, "app-only: public metrics only"

    @pytest.mark.anyio
    async def test_account_metrics(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        got = {m.name: m.value for m in await adapter.account_metrics()}
        assert got == {"followers": 1200, "following": 80, "posts": 4321, "listed": 7}


class TestMessages(XTest):
    @pytest.mark.anyio
    async def test_reply_to_a_dm_is_a_dm(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        conversation = f"{OTHER_ID}-{ME_ID}"
        event = b.recent_id(0, 2)
        route = router.post(f"{BASE}/2/dm_conversations/{conversation}/messages").mock(
            return_value=b.ok(201, b.dm_sent(event, conversation))
        )
        sent = await adapter.reply(_dm(conversation), "Hi back")
        assert sent.id == event
        assert _json(route.calls[0].request) == {"text": "Hi back"}

    @pytest.mark.anyio
    async def test_a_dm_with_audio_or_a_schedule_is_refused_before_sending(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        """A DM's attachment is an image, a GIF or a video (dm_image, dm_gif, dm_video: the
        media upload's categories in openapi.json); audio raised a KeyError. X schedules no
        DM: one with ``scheduled_at`` would have gone out at once."""
        from socialkit import UnsupportedError
        from socialkit.testing.conformance import MP3_HEAD

        adapter = make_x(client)
        conversation = f"{OTHER_ID}-{ME_ID}"
        for post in (
            Post(text="listen", media=[Media.from_bytes(MP3_HEAD)]),
            Post(text="later", scheduled_at=datetime.now(timezone.utc) + timedelta(days=1)),
        ):
            with pytest.raises(UnsupportedError):
                await adapter.reply(_dm(conversation), post)
        assert not router.calls

    @pytest.mark.anyio
    async def test_a_dm_whose_answer_is_lost_is_found_among_the_events_not_sent_again(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        """The send's answer is lost: the account's DM events (GetDmEventsResponse) show the
        message (its own, in that conversation, same text with the link as t.co), which is
        returned; the send went out once."""
        adapter = make_x(client)
        conversation = f"{OTHER_ID}-{ME_ID}"
        send = router.post(f"{BASE}/2/dm_conversations/{conversation}/messages").mock(
            side_effect=httpx.ReadTimeout("lost")
        )
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        delivered = b.recent_id(0, 4)
        events = router.get(f"{BASE}/2/dm_events").mock(
            return_value=b.ok(
                200,
                b.dm_page(
                    [  # newest first: the same text from the other side, and in another
                        # conversation, come before the one sent
                        b.dm_event(b.recent_id(0, 6), "Thanks, see https://t.co/q1", OTHER_ID),
                        b.dm_event(
                            b.recent_id(0, 5),
                            "Thanks, see https://t.co/q1",
                            ME_ID,
                            conversation_id=f"{ME_ID}-999999",
                        ),
                        b.dm_event(delivered, "Thanks, see https://t.co/q1", ME_ID),
                    ]
                ),
            )
        )
        sent = await adapter.reply(_dm(conversation), "Thanks, see https://example.com/faq")
        assert sent.id == delivered
        assert sent.url == f"https://x.com/messages/{conversation}"
        assert send.call_count == 1
        params = events.calls[0].request.url.params
        assert params["event_types"] == "MessageCreate"
        assert "attachments" in params["dm_event.fields"]

    @pytest.mark.anyio
    async def test_a_dm_answer_without_data_is_looked_for_not_an_error(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        # A 201 without ``data``: the message may well have been sent (no duplicate check
        # for DMs), so it is looked for among the events, never reported as a refusal.
        adapter = make_x(client)
        conversation = f"{OTHER_ID}-{ME_ID}"
        send = router.post(f"{BASE}/2/dm_conversations/{conversation}/messages").mock(
            return_value=b.ok(201, {})
        )
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        delivered = b.recent_id(0, 4)
        router.get(f"{BASE}/2/dm_events").mock(
            return_value=b.ok(200, b.dm_page([b.dm_event(delivered, "Hi back", ME_ID)]))
        )
        sent = await adapter.reply(_dm(conversation), "Hi back")
        assert sent.id == delivered
        assert send.call_count == 1

    @pytest.mark.anyio
    async def test_a_first_dm_whose_answer_is_lost_is_found_in_the_one_to_one_conversation(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        router.post(f"{BASE}/2/dm_conversations/with/{OTHER_ID}/messages").mock(
            return_value=b.problem(503, title="Service Unavailable", detail="Service Unavailable")
        )
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        delivered = b.recent_id(0, 3)
        router.get(f"{BASE}/2/dm_events").mock(
            return_value=b.ok(
                200,
                b.dm_page([b.dm_event(delivered, "Welcome!", ME_ID, f"{OTHER_ID}-{ME_ID}")]),
            )
        )
        sent = await adapter.reply(_dm(None), "Welcome!")
        assert sent.id == delivered

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        "events",
        [
            pytest.param([], id="no event"),
            pytest.param([("Another text", 0)], id="other text"),
            pytest.param([("Hi back", 1)], id="an attachment more"),
            pytest.param([("Hi back", 0, 90)], id="before the send"),
            pytest.param(None, id="events unreadable"),
        ],
    )
    async def test_a_dm_whose_answer_is_lost_and_not_found_stays_unknown(
        self,
        router: respx.MockRouter,
        client: httpx.AsyncClient,
        events: list[tuple[Any, ...]] | None,
    ) -> None:
        """Not among the events (or they cannot be read: a 403 problem): OutcomeUnknownError,
        never a second send (X has no duplicate check for DMs)."""
        adapter = make_x(client)
        conversation = f"{OTHER_ID}-{ME_ID}"
        send = router.post(f"{BASE}/2/dm_conversations/{conversation}/messages").mock(
            side_effect=httpx.ReadTimeout("lost")
        )
        router.get(f"{BASE}/2/users/me").mock(return_value=b.ok(200, b.user_response()))
        router.get(f"{BASE}/2/dm_events").mock(
            return_value=b.problem(403, title="Forbidden", detail="Forbidden")
            if events is None
            else b.ok(
                200,
                b.dm_page(
                    [
                        b.dm_event(
                            b.recent_id(*(e[2:] or (0,)), 5),
                            e[0],
                            ME_ID,
                            media_keys=[f"3_{b.recent_id(1, n)}" for n in range(e[1])],
                        )
                        for e in events
                    ]
                ),
            )
        )
        with pytest.raises(OutcomeUnknownError):
            await adapter.reply(_dm(conversation), "Hi back")
        assert send.call_count == 1

    @pytest.mark.anyio
    async def test_replies_of_a_post(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client)
        root = b.recent_id(100)
        reply = b.recent_id(10)
        route = router.get(f"{BASE}/2/tweets/search/recent").mock(
            return_value=b.ok(
                200,
                b.page(
                    [b.post(reply, "nice", author_id=OTHER_ID, replied_to=root)],
                    users=[b.user(OTHER_ID, OTHER_HANDLE)],
                ),
            )
        )
        got = [m async for m in adapter.ex_replies(root)]
        assert [(m.id, m.kind, m.post_id) for m in got] == [(reply, "reply", root)]
        assert route.calls[0].request.url.params["query"] == f"conversation_id:{root}"


def _dm(conversation: str | None) -> Message:
    """A direct message from OTHER to this account (in ``conversation``, or a first one)."""
    return Message(
        id=b.recent_id(3),
        network="x",
        kind="direct",
        text="hello",
        author=b_account(),  # type: ignore[arg-type]
        created_at=datetime.now(timezone.utc),
        conversation_id=conversation,
    )


def b_account() -> object:
    from socialkit import Account

    return Account(id=OTHER_ID, handle=OTHER_HANDLE, network="x")


class TestRateLimits(XTest):
    @pytest.mark.anyio
    async def test_buckets_per_endpoint_and_usage_cap(
        self, router: respx.MockRouter, client: httpx.AsyncClient
    ) -> None:
        adapter = make_x(client, **oauth2_settings(retries=1))
        reset = int(datetime.now(timezone.utc).timestamp()) + 600
        router.get(f"{BASE}/2/users/me").mock(
            return_value=b.ok(
                200,
                b.user_response(),
                headers={
                    "x-rate-limit-limit": "75",
                    "x-rate-limit-remaining": "74",
                    "x-rate-limit-reset": str(reset),
                },
            )
        )
        await adapter.me()
        session = await adapter._api()
        state = session.rate_limits["GET /2/users/me"]
        assert (state.limit, state.remaining, int(state.reset or 0)) == (75, 74, reset)
        router.get(f"{BASE}/2/users/{ME_ID}/mentions").mock(
            return_value=b.problem(
                429,
                "usage-capped",
                title="UsageCapExceeded",
                detail="Usage cap exceeded: Monthly product cap",
            )
        )
        with pytest.raises(RateLimitError) as info:
            _ = [m async for m in adapter.messages(kinds={"mention"})]
        assert info.value.code == "usage-capped"
        assert info.value.bucket == "GET /2/users/{id}/mentions"
