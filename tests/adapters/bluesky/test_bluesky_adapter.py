"""Bluesky adapter behaviour beyond the conformance suite (respx, lexicon-validated traffic).

Fixture bodies follow the lexicons named in ``bluesky_support``; every request sent and every
response fixture of these tests is validated against ../shared/specs/bluesky/lexicons by the
``router`` fixture of ``BlueskyFixtures`` at teardown.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
import respx
from bluesky_support import (
    BOB,
    BOB_HANDLE,
    CID,
    DID,
    HANDLE,
    PASSWORD,
    SERVICE,
    BlueskyFixtures,
    body,
    created,
    error,
    make_jwt,
    post_record,
    post_uri,
    post_view,
    profile_detailed,
    session_body,
    thread_tid,
    tid,
    xrpc,
)
from tests._specs import specs_dir
from tests._validation.lexicon import is_valid_format

from socialkit import (
    InvalidPostError,
    Media,
    MemoryStore,
    NotFoundError,
    OutcomeUnknownError,
    Post,
    RateLimitError,
    ThreadIncompleteError,
    TokenExpiredError,
    UnsupportedError,
    ValidationError,
)
from socialkit._http import MediaFetcher
from socialkit.adapters.bluesky import (
    GET_POSTS_MAX,
    IMAGE_MAX_SIZE,
    MAX_BYTES,
    MAX_GRAPHEMES,
    MAX_IMAGES,
    THUMB_MAX_SIZE,
    BlueskyAdapter,
)
from socialkit.adapters.bluesky._auth import jwt_expiry
from socialkit.adapters.bluesky._tid import TidClock, decode_tid, encode_tid, is_tid
from socialkit.adapters.bluesky._wire import PostView
from socialkit.auth import Token, TokenStore
from socialkit.testing.conformance import GIF_1X1, MP4_HEAD, PNG_1X1, json_response

pytestmark = pytest.mark.spec


def _lines(path: Any) -> list[str]:
    return [
        line.strip()
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def _created_records(router: respx.MockRouter) -> list[dict[str, Any]]:
    return [
        body(call.request)
        for call in router.calls
        if call.request.url.path.endswith("com.atproto.repo.createRecord")
    ]


def _calls(router: respx.MockRouter, nsid: str) -> list[httpx.Request]:
    return [call.request for call in router.calls if call.request.url.path.endswith(nsid)]


# -- TIDs (https://atproto.com/specs/tid; interop vectors) --------------------------------------


def test_tid_syntax_matches_interop_vectors() -> None:
    folder = specs_dir() / "bluesky" / "interop-tests" / "syntax"
    valid = _lines(folder / "tid_syntax_valid.txt")
    invalid = _lines(folder / "tid_syntax_invalid.txt")
    assert valid
    assert invalid
    assert all(is_tid(v) for v in valid)
    assert not any(is_tid(v) for v in invalid)
    for value in valid:  # decoding and encoding again gives the same text
        assert encode_tid(*decode_tid(value)) == value


def test_generated_tids_are_valid_and_increasing() -> None:
    clock = TidClock()
    made = [clock.next() for _ in range(2000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    for value in made[:50]:
        assert is_tid(value)
        assert is_valid_format("tid", value)
        assert value[0] in "234567abcdefghij"  # the top bit is 0
    micros, clock_id = decode_tid(made[0])
    assert abs(micros / 1e6 - time.time()) < 60
    assert clock_id == clock.clock_id
    # a clock that stands still still gives increasing keys
    frozen = TidClock(clock=lambda: 1_700_000_000_000_000, clock_id=3)
    a, b = frozen.next(), frozen.next()
    assert a < b
    assert decode_tid(b)[0] == decode_tid(a)[0] + 1
    with pytest.raises(ValueError):
        encode_tid(1 << 53, 0)


def test_limits_match_the_lexicons() -> None:
    lex = specs_dir() / "bluesky" / "lexicons"

    def load(name: str) -> dict[str, Any]:
        return json.loads((lex / name).read_text())["defs"]  # type: ignore[no-any-return]

    text = load("app/bsky/feed/post.json")["main"]["record"]["properties"]["text"]
    assert (text["maxGraphemes"], text["maxLength"]) == (MAX_GRAPHEMES, MAX_BYTES)
    images = load("app/bsky/embed/images.json")
    assert images["main"]["properties"]["images"]["maxLength"] == MAX_IMAGES
    assert images["image"]["properties"]["image"]["maxSize"] == IMAGE_MAX_SIZE
    external = load("app/bsky/embed/external.json")
    assert external["external"]["properties"]["thumb"]["maxSize"] == THUMB_MAX_SIZE
    get_posts = load("app/bsky/feed/getPosts.json")["main"]["parameters"]["properties"]["uris"]
    assert get_posts["maxLength"] == GET_POSTS_MAX


def test_jwt_expiry_is_read_without_verifying() -> None:
    token = make_jwt(1_800_000_000)
    assert jwt_expiry(token) == datetime.fromtimestamp(1_800_000_000, timezone.utc)
    assert jwt_expiry("not-a-jwt") is None


class TestPublishing(BlueskyFixtures):
    @pytest.mark.anyio
    async def test_facets_have_utf8_byte_offsets_with_emoji(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        resolve = router.get(
            xrpc("com.atproto.identity.resolveHandle"), params={"handle": BOB_HANDLE}
        ).mock(return_value=json_response(200, {"did": BOB}))
        router.get(
            xrpc("com.atproto.identity.resolveHandle"), params={"handle": "nobody.example.com"}
        ).mock(return_value=error(400, "HandleNotFound", "Unable to resolve handle"))
        self.echo_create(router)
        text = (
            "👋🏽 café @bob.example.com, see https://example.com/a?b=1. "
            "#socialkit 🇫🇷 @nobody.example.com @bob.example.com"
        )
        await adapter.publish(Post(text=text))
        (sent,) = _created_records(router)
        record = sent["record"]
        assert record["text"] == text
        encoded = text.encode("utf-8")
        found = []
        for facet in record["facets"]:
            index = facet["index"]
            piece = encoded[index["byteStart"] : index["byteEnd"]].decode("utf-8")
            found.append((piece, facet["features"][0]))
        assert found == [
            ("@bob.example.com", {"$type": "app.bsky.richtext.facet#mention", "did": BOB}),
            (
                "https://example.com/a?b=1",
                {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/a?b=1"},
            ),
            ("#socialkit", {"$type": "app.bsky.richtext.facet#tag", "tag": "socialkit"}),
            ("@bob.example.com", {"$type": "app.bsky.richtext.facet#mention", "did": BOB}),
        ]
        # the emoji before the first facet take 8 + 1 bytes: offsets are bytes, not characters
        assert record["facets"][0]["index"]["byteStart"] == len("👋🏽 café ".encode())
        assert resolve.call_count == 1, "each handle is resolved once"

    @pytest.mark.anyio
    async def test_text_limits_are_graphemes_and_bytes(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        flags = "🇫🇷" * MAX_GRAPHEMES  # 300 graphemes, 2,400 bytes
        assert adapter.check(Post(text=flags)) == []
        heavy = ("e" + "\u0301" * 14) * 200  # 200 graphemes, 5,800 bytes
        problems = adapter.check(Post(text=heavy))
        assert [(p.code, p.limit) for p in problems] == [("text_too_long", MAX_BYTES)]
        with pytest.raises(InvalidPostError):
            await adapter.publish(Post(text=heavy))
        assert not router.calls

    @pytest.mark.anyio
    async def test_other_refusals_before_sending(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        big = Media.from_bytes(PNG_1X1 + b"\0" * IMAGE_MAX_SIZE, alt="big", mime_type="image/png")
        codes = {p.code for p in adapter.check(Post(text="x", media=[big]))}
        assert "media_too_large" in codes
        codes = {p.code for p in adapter.check(Post(text="x", visibility="followers"))}
        assert codes == {"visibility_unsupported"}
        codes = {p.code for p in adapter.check(Post(text="x", content_warning="cw"))}
        assert codes == {"content_warning_unsupported"}
        webm = Media(kind="video", data=b"\x1aE\xdf\xa3" + b"\0" * 10, mime_type="video/webm")
        codes = {p.code for p in adapter.check(Post(text="x", media=[webm]))}
        assert codes == {"media_type_unsupported"}  # app.bsky.embed.video accepts video/mp4
        mp4 = Media.from_bytes(MP4_HEAD)
        codes = {p.code for p in adapter.check(Post(text="x", media=[mp4, mp4]))}
        assert "too_many_media" in codes or "too_many_videos" in codes
        gif = Media.from_bytes(GIF_1X1)
        assert {p.code for p in adapter.check(Post(text="x", media=[gif]))} == {"unsupported"}
        assert not router.calls

    @pytest.mark.anyio
    async def test_image_with_alt_and_aspect_ratio(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        upload = self.mock_upload(router)
        self.echo_create(router)
        image = Media.from_bytes(PNG_1X1, alt="a pixel")
        assert (image.width, image.height) == (1, 1)
        await adapter.publish(Post(text="pic", media=[image], language="en_US", sensitive=True))
        assert upload.calls[0].request.content == PNG_1X1
        assert upload.calls[0].request.headers["content-type"] == "image/png"
        record = _created_records(router)[0]["record"]
        assert record["embed"]["$type"] == "app.bsky.embed.images"
        (entry,) = record["embed"]["images"]
        assert entry["alt"] == "a pixel"
        assert entry["aspectRatio"] == {"width": 1, "height": 1}
        assert entry["image"]["ref"] == {
            "$link": "bafkreibwmrhbspamsz3u4rbxc4ad22wonf3nkpvwepzrynxervzcudj7u4"
        }
        assert record["langs"] == ["en-US"]
        assert record["labels"]["values"] == [{"val": "graphic-media"}]

    @pytest.mark.anyio
    async def test_oversized_image_fetched_from_url_is_refused_before_upload(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        # The media host resolves (stub resolver) to a loopback address the allow-list names;
        # the fetcher connects to that pinned address, which the router answers.
        fetch = router.get("https://127.0.0.1/big.png").mock(
            return_value=httpx.Response(
                200,
                content=b"\0" * (IMAGE_MAX_SIZE + 1),
                headers={"Content-Type": "image/png"},
            )
        )
        upload = self.mock_upload(router)

        async def resolve(host: str, port: int) -> list[str]:
            assert host == "cdn.example"
            return ["127.0.0.1"]

        fetcher = MediaFetcher(
            allow=["127.0.0.1/32"],
            resolver=resolve,
            transport=httpx.MockTransport(router.async_handler),
        )
        adapter = self.make_adapter(adapter.http, media_fetcher=fetcher)
        media = Media.from_url("https://cdn.example/big.png", alt="big")
        with pytest.raises(InvalidPostError) as info:
            await adapter.publish(Post(text="big", media=[media]))
        assert fetch.calls[0].request.headers["host"] == "cdn.example"
        assert info.value.problems[0].code == "media_too_large"
        assert fetch.call_count == 1
        assert upload.call_count == 0

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        if request.headers.get("host") == "cdn.example":
            return  # the image's own host, not an XRPC call
        super().check_exchange(request, response)

    @pytest.mark.anyio
    async def test_link_card_and_quote_with_media(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        self.echo_create(router)
        self.mock_upload(router)
        quoted = post_uri("3kquotedaaa22", BOB)
        self.mock_get_record(router, quoted, post_record("quoted"), cid=CID)
        await adapter.publish(Post(text="read this", link="https://example.com/article"))
        await adapter.publish(Post(text="look", quote_of=quoted))
        await adapter.publish(
            Post(
                text="both",
                quote_of=quoted,
                media=[Media.from_bytes(PNG_1X1, alt="x")],
                link="https://example.com/x",
            )
        )
        card, quote, mixed = (r["record"] for r in _created_records(router))
        assert card["embed"] == {
            "$type": "app.bsky.embed.external",
            "external": {
                "uri": "https://example.com/article",
                "title": "https://example.com/article",
                "description": "",
            },
        }
        assert quote["embed"] == {
            "$type": "app.bsky.embed.record",
            "record": {"uri": quoted, "cid": CID},
        }
        assert mixed["embed"]["$type"] == "app.bsky.embed.recordWithMedia"
        assert mixed["embed"]["record"]["record"] == {"uri": quoted, "cid": CID}
        assert mixed["embed"]["media"]["$type"] == "app.bsky.embed.images"
        # images take the embed, so the link goes into the text, as a link facet
        assert mixed["text"] == "both\nhttps://example.com/x"
        assert mixed["facets"][0]["features"][0]["uri"] == "https://example.com/x"

    @pytest.mark.anyio
    async def test_link_card_with_title_and_thumbnail(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        self.echo_create(router)
        self.mock_upload(router)
        await adapter.ex_publish_link_card(
            Post(text="", link="https://example.com/a"),
            title="An article",
            description="About things",
            thumb=Media.from_bytes(PNG_1X1),
        )
        external = _created_records(router)[0]["record"]["embed"]["external"]
        assert external["title"] == "An article"
        assert external["description"] == "About things"
        assert external["thumb"]["mimeType"] == "image/png"

    @pytest.mark.anyio
    async def test_reply_refs_come_from_the_parent(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        parent = self.parent_id()
        self.mock_reply(router, parent, "Thanks!")
        root_of_parent = post_uri(self.ROOT_RKEY, BOB)
        await adapter.reply(parent, "Thanks!")
        reply = _created_records(router)[0]["record"]["reply"]
        assert reply["parent"] == {
            "uri": parent,
            "cid": "bafyreieox2qgzqh2vmfvfabgljtywbmvdfgdhkjkomsruxnmxxqvbfdqcy",
        }
        assert reply["root"] == {"uri": root_of_parent, "cid": CID}

    @pytest.mark.anyio
    async def test_reply_to_a_top_level_post_uses_it_as_root(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        parent = post_uri("3ktoplevelaa2", BOB)
        self.mock_get_record(router, parent, post_record("top"), cid=CID)
        self.echo_create(router)
        await adapter.publish(Post(text="hi", reply_to=parent))
        reply = _created_records(router)[0]["record"]["reply"]
        assert reply["root"] == reply["parent"] == {"uri": parent, "cid": CID}

    @pytest.mark.anyio
    async def test_thread_uses_root_and_parent_without_extra_reads(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_publish_thread(router, ["1", "2", "3"])
        posted = await adapter.publish(Post(text="1", thread=[Post(text="2"), Post(text="3")]))
        records = [r["record"] for r in _created_records(router)]
        first = {"uri": post_uri(tid(0)), "cid": CID}
        assert "reply" not in records[0]
        assert records[1]["reply"] == {"root": first, "parent": first}
        assert records[2]["reply"] == {
            "root": first,
            "parent": {"uri": post_uri(thread_tid(1)), "cid": CID},
        }
        assert [p.reply_to for p in posted.thread] == [post_uri(tid(0)), post_uri(thread_tid(1))]
        assert not _calls(router, "getRecord")

    @pytest.mark.anyio
    async def test_thread_failure_reports_what_was_published(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        first = json_response(200, created(post_uri(tid(0))))
        refused = error(400, "InvalidRequest", "Invalid app.bsky.feed.post record")
        router.post(xrpc("com.atproto.repo.createRecord")).mock(side_effect=[first, refused])
        router.get(xrpc("com.atproto.repo.getRecord")).mock(
            return_value=error(400, "RecordNotFound", "Could not locate record")
        )
        with pytest.raises(ThreadIncompleteError) as info:
            await adapter.publish(Post(text="1", thread=[Post(text="2")]))
        assert [p.id for p in info.value.published] == [post_uri(tid(0))]
        assert isinstance(info.value.cause, ValidationError)

    @pytest.mark.anyio
    async def test_retried_create_is_recognised_not_duplicated(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        """The first attempt reaches the PDS but its answer is lost; the retry (same rkey) is
        refused like the real PDS does (500 for a key that exists); the adapter reads the record
        back and returns it."""
        self.mock_login(router)
        sent: list[dict[str, Any]] = []

        def create(request: httpx.Request) -> httpx.Response:
            sent.append(body(request))
            if len(sent) == 1:
                raise httpx.ReadTimeout("the answer was lost", request=request)
            return error(500, "InternalServerError", "Internal Server Error")

        router.post(xrpc("com.atproto.repo.createRecord")).mock(side_effect=create)

        def get_record(request: httpx.Request) -> httpx.Response:
            params = request.url.params
            assert params["rkey"] == sent[0]["rkey"]
            uri = post_uri(params["rkey"])
            return json_response(200, {"uri": uri, "cid": CID, "value": sent[0]["record"]})

        router.get(xrpc("com.atproto.repo.getRecord")).mock(side_effect=get_record)
        posted = await adapter.publish(Post(text="only once"))
        assert posted.id == post_uri(tid(0))
        assert len(sent) == adapter.settings.retries
        assert {s["rkey"] for s in sent} == {tid(0)}, "every retry reuses the record key"

    @pytest.mark.anyio
    async def test_retry_refused_as_existing_record_is_recognised(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        sent: list[dict[str, Any]] = []

        def create(request: httpx.Request) -> httpx.Response:
            sent.append(body(request))
            if len(sent) == 1:
                return error(503, "InternalServerError", "try again")
            return error(400, "InvalidRequest", "Record already exists")

        router.post(xrpc("com.atproto.repo.createRecord")).mock(side_effect=create)
        router.get(xrpc("com.atproto.repo.getRecord")).mock(
            side_effect=lambda request: json_response(
                200, {"uri": post_uri(sent[0]["rkey"]), "cid": CID, "value": sent[0]["record"]}
            )
        )
        posted = await adapter.publish(Post(text="once"))
        assert posted.id == post_uri(tid(0))
        assert len(sent) == 2

    @pytest.mark.anyio
    async def test_a_different_record_under_the_key_is_not_taken_for_ours(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        router.post(xrpc("com.atproto.repo.createRecord")).mock(
            return_value=error(400, "InvalidRequest", "Record already exists")
        )
        router.get(xrpc("com.atproto.repo.getRecord")).mock(
            return_value=json_response(
                200, {"uri": post_uri(tid(0)), "cid": CID, "value": post_record("another")}
            )
        )
        with pytest.raises(ValidationError):
            await adapter.publish(Post(text="mine"))

    @pytest.mark.anyio
    async def test_delete(self, adapter: BlueskyAdapter, router: respx.MockRouter) -> None:
        self.mock_login(router)
        route = router.post(xrpc("com.atproto.repo.deleteRecord")).mock(
            return_value=json_response(200, {"commit": {"cid": CID2, "rev": "3n3ip62mu722e"}})
        )
        await adapter.delete(post_uri("3kdeleteaaaa2"))
        await adapter.delete("3kdeleteaaaa3")  # a record key of the account
        assert [body(r.request) for r in route.calls] == [
            {"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3kdeleteaaaa2"},
            {"repo": DID, "collection": "app.bsky.feed.post", "rkey": "3kdeleteaaaa3"},
        ]
        with pytest.raises(ValidationError):
            await adapter.delete(post_uri("3kdeleteaaaa2", BOB))


CID2 = "bafyreieox2qgzqh2vmfvfabgljtywbmvdfgdhkjkomsruxnmxxqvbfdqcy"


class TestSessions(BlueskyFixtures):
    @pytest.mark.anyio
    async def test_session_is_reused_across_adapters_sharing_a_store(
        self, router: respx.MockRouter
    ) -> None:
        login = self.mock_login(router)
        profile = router.get(xrpc("app.bsky.actor.getProfile")).mock(
            return_value=json_response(200, profile_detailed())
        )
        store = MemoryStore()
        async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http:
            for _ in range(2):
                async with self.make_adapter(http, store=store) as adapter:
                    assert (await adapter.me()).handle == HANDLE
            # a TokenStore over the same store works too
            async with self.make_adapter(http, store=TokenStore(store)) as adapter:
                await adapter.me()
        assert login.call_count == 1, "createSession must run once, then the stored session"
        assert {c.request.headers["authorization"] for c in profile.calls} == {
            f"Bearer {self.access}"
        }
        stored = await TokenStore(store).get("bluesky", HANDLE)
        assert stored is not None
        assert stored.extra["did"] == DID

    @pytest.mark.anyio
    async def test_expired_token_refreshes_once_and_retries(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        new_access = make_jwt(time.time() + 7200, tag="access2")
        new_refresh = make_jwt(time.time() + 90 * 86400, tag="refresh2")
        refresh = router.post(xrpc("com.atproto.server.refreshSession")).mock(
            return_value=json_response(200, session_body(new_access, new_refresh))
        )
        seen: list[str] = []  # the same request object is re-sent: record its header per send

        def answer(request: httpx.Request) -> httpx.Response:
            seen.append(request.headers["authorization"])
            if len(seen) == 1:
                return error(400, "ExpiredToken", "Token has expired")
            return json_response(200, profile_detailed())

        router.get(xrpc("app.bsky.actor.getProfile")).mock(side_effect=answer)
        await adapter.me()
        assert refresh.call_count == 1
        assert refresh.calls[0].request.headers["authorization"] == f"Bearer {self.refresh}"
        assert seen == [
            f"Bearer {self.access}",
            f"Bearer {new_access}",
        ]
        stored = await adapter.auth.store.get("bluesky", HANDLE)
        assert stored is not None
        assert stored.refresh_token is not None
        assert stored.refresh_token.get_secret_value() == new_refresh

    @pytest.mark.anyio
    async def test_still_expired_after_one_refresh_is_an_error(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        refresh = router.post(xrpc("com.atproto.server.refreshSession")).mock(
            return_value=json_response(
                200, session_body(make_jwt(time.time() + 7200, tag="x"), self.refresh)
            )
        )
        profile = router.get(xrpc("app.bsky.actor.getProfile")).mock(
            return_value=error(400, "ExpiredToken", "Token has expired")
        )
        with pytest.raises(TokenExpiredError):
            await adapter.me()
        assert refresh.call_count == 1
        assert profile.call_count == 2

    @pytest.mark.anyio
    async def test_refresh_before_expiry_and_login_when_refresh_is_refused(
        self, router: respx.MockRouter
    ) -> None:
        store = MemoryStore()
        soon = Token.from_response(
            {
                "access_token": make_jwt(time.time() + 10, tag="old"),
                "refresh_token": make_jwt(time.time() + 3600, tag="oldrefresh"),
                "expires_at": time.time() + 10,
            }
        ).model_copy(
            update={
                "extra": {"did": DID, "handle": HANDLE, "endpoint": SERVICE, "service": SERVICE}
            }
        )
        await TokenStore(store).put("bluesky", HANDLE, soon)
        refresh = router.post(xrpc("com.atproto.server.refreshSession")).mock(
            return_value=error(400, "ExpiredToken", "Token has been revoked")
        )
        login = self.mock_login(router)
        router.get(xrpc("app.bsky.actor.getProfile")).mock(
            return_value=json_response(200, profile_detailed())
        )
        http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
        async with http, self.make_adapter(http, store=store) as adapter:
            await adapter.me()
        assert refresh.call_count == 1
        assert login.call_count == 1
        stored = await TokenStore(store).get("bluesky", HANDLE)
        assert stored is not None
        assert stored.access_token.get_secret_value() == self.access

    @pytest.mark.anyio
    async def test_login_rate_limit_is_raised_with_reset(self, router: respx.MockRouter) -> None:
        reset = int(time.time()) + 284
        router.post(xrpc("com.atproto.server.createSession")).mock(
            return_value=error(
                429,
                "RateLimitExceeded",
                "Rate Limit Exceeded",
                {
                    "ratelimit-limit": "30",
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(reset),
                    "ratelimit-policy": "30;w=300",
                    "retry-after": "284",
                },
            )
        )
        http = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
        async with http, self.make_adapter(http, rate_limit="raise") as adapter:
            with pytest.raises(RateLimitError) as info:
                await adapter.me()
        assert info.value.retry_after == pytest.approx(284, abs=2)
        assert info.value.limit == 30
        assert info.value.bucket == "login"
        assert info.value.reset_at is not None

    @pytest.mark.anyio
    async def test_secrets_never_logged(
        self, adapter: BlueskyAdapter, router: respx.MockRouter, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        self.mock_publish_text(router, "x")
        await adapter.publish(Post(text="hello"))
        text = caplog.text + repr(adapter) + repr(adapter.auth) + repr(adapter.settings)
        assert "createSession" in caplog.text or "logged in" in caplog.text
        for secret in self.secrets():
            assert secret not in text


class TestReading(BlueskyFixtures):
    NO_APPVIEW = "No service configured for app.bsky.feed.getAuthorFeed"

    @pytest.mark.anyio
    async def test_posts_fall_back_to_list_records_without_appview(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        feed = router.get(xrpc("app.bsky.feed.getAuthorFeed")).mock(
            return_value=error(400, "InvalidRequest", self.NO_APPVIEW)
        )
        pages = {
            None: (["3krecordaaa25", "3krecordaaa24"], "c1"),
            "c1": (["3krecordaaa23"], None),
        }

        def listing(request: httpx.Request) -> httpx.Response:
            keys, cursor = pages[request.url.params.get("cursor")]
            out: dict[str, Any] = {
                "records": [{"uri": post_uri(k), "cid": CID, "value": post_record(k)} for k in keys]
            }
            if cursor:
                out["cursor"] = cursor
            return json_response(200, out)

        records = router.get(xrpc("com.atproto.repo.listRecords")).mock(side_effect=listing)
        got = [p.id async for p in adapter.posts()]
        assert got == [
            post_uri("3krecordaaa25"),
            post_uri("3krecordaaa24"),
            post_uri("3krecordaaa23"),
        ]
        again = [p.text async for p in adapter.posts(limit=1)]
        assert again == ["3krecordaaa25"]
        assert feed.call_count == 1, "the missing AppView is detected once and remembered"
        assert records.calls[0].request.url.params["collection"] == "app.bsky.feed.post"
        with pytest.raises(UnsupportedError):
            await adapter.metrics([post_uri("3krecordaaa25")])
        with pytest.raises(UnsupportedError):
            [m async for m in adapter.messages(kinds={"mention"})]

    @pytest.mark.anyio
    async def test_get_post_by_uri_or_rkey(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        uri = post_uri("3kgetpostaaa2")
        route = router.get(xrpc("app.bsky.feed.getPosts")).mock(
            return_value=json_response(200, {"posts": [post_view(uri, counts={"likeCount": 4})]})
        )
        by_uri = await adapter.get_post(uri)
        by_key = await adapter.get_post("3kgetpostaaa2")
        by_url = await adapter.get_post(f"https://bsky.app/profile/{DID}/post/3kgetpostaaa2")
        assert by_uri.id == by_key.id == by_url.id == uri
        assert by_uri.metrics == {"likes": 4}
        assert by_uri.url == f"https://bsky.app/profile/{HANDLE}/post/3kgetpostaaa2"
        assert {c.request.url.params["uris"] for c in route.calls} == {uri}

    @pytest.mark.anyio
    async def test_missing_record_is_not_found(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        router.get(xrpc("app.bsky.feed.getPosts")).mock(
            return_value=error(
                400, "InvalidRequest", "No service configured for app.bsky.feed.getPosts"
            )
        )
        router.get(xrpc("com.atproto.repo.getRecord")).mock(
            return_value=error(400, "RecordNotFound", "Could not locate record")
        )
        with pytest.raises(NotFoundError):
            await adapter.get_post("3kmissingaaa2")

    @pytest.mark.anyio
    async def test_metrics_are_batched_to_25(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)

        def answer(request: httpx.Request) -> httpx.Response:
            uris = request.url.params.get_list("uris")
            views = [post_view(u, counts={"likeCount": 1, "repostCount": 2}) for u in uris]
            return json_response(200, {"posts": views})

        route = router.get(xrpc("app.bsky.feed.getPosts")).mock(side_effect=answer)
        ids = [post_uri(encode_tid(1_700_000_000_000_000 + i, 1)) for i in range(60)]
        got = await adapter.metrics(ids)
        assert [len(c.request.url.params.get_list("uris")) for c in route.calls] == [25, 25, 10]
        assert set(got) == set(ids)
        assert {m.name: m.value for m in got[ids[59]]} == {"likes": 1, "reposts": 2}

    @pytest.mark.anyio
    async def test_account_metrics(self, adapter: BlueskyAdapter, router: respx.MockRouter) -> None:
        self.mock_login(router)
        router.get(xrpc("app.bsky.actor.getProfile")).mock(
            return_value=json_response(200, profile_detailed())
        )
        got = {(m.name, m.native_name): m.value for m in await adapter.account_metrics()}
        assert got == {
            ("followers", "followersCount"): 120,
            ("following", "followsCount"): 80,
            ("posts", "postsCount"): 42,
        }
        with pytest.raises(UnsupportedError):
            await adapter.account_metrics(since=datetime(2026, 1, 1, tzinfo=timezone.utc))

    @pytest.mark.anyio
    async def test_another_accounts_feed_and_search(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_login(router)
        bob_post = post_uri("3kbobfeedaaa2", BOB)
        feed = router.get(xrpc("app.bsky.feed.getAuthorFeed")).mock(
            return_value=json_response(
                200,
                {
                    "feed": [
                        {"post": post_view(bob_post, author={"did": BOB, "handle": BOB_HANDLE})}
                    ]
                },
            )
        )
        got = [p async for p in adapter.posts(account=BOB_HANDLE)]
        assert [p.id for p in got] == [bob_post]
        assert got[0].author is not None
        assert feed.calls[0].request.url.params["actor"] == BOB_HANDLE

        pages = {None: (["3ksearchaaa23", "3ksearchaaa22"], "s1"), "s1": (["3ksearchaaa21"], None)}

        def search(request: httpx.Request) -> httpx.Response:
            keys, cursor = pages[request.url.params.get("cursor")]
            out: dict[str, Any] = {"posts": [post_view(post_uri(k)) for k in keys]}
            if cursor:
                out["cursor"] = cursor
            return json_response(200, out)

        route = router.get(xrpc("app.bsky.feed.searchPosts")).mock(side_effect=search)
        since = datetime(2026, 1, 1, tzinfo=timezone.utc)
        posts = [p async for p in adapter.search("socialkit", since=since)]
        assert [p.id for p in posts] == [
            post_uri("3ksearchaaa23"),
            post_uri("3ksearchaaa22"),
            post_uri("3ksearchaaa21"),
        ]
        # ``raw`` is kept as the page's body and reads as the post's view (decoded once).
        assert type(posts[1].__dict__["raw"]).__name__ == "LazyRaw"
        raw = posts[1].raw
        assert isinstance(raw, PostView)
        assert raw == PostView.model_validate(post_view(post_uri("3ksearchaaa22")))
        assert posts[1].raw is raw
        params = route.calls[0].request.url.params
        assert params["q"] == "socialkit"
        assert params["since"] == "2026-01-01T00:00:00.000Z"
        assert params["sort"] == "latest"


class TestMessages(BlueskyFixtures):
    @pytest.mark.anyio
    async def test_chat_goes_through_the_proxy_header_and_dm_reply(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_messages(router)
        sent = router.post(xrpc("chat.bsky.convo.sendMessage")).mock(
            return_value=json_response(
                200,
                {
                    "id": "m4",
                    "rev": "rev4",
                    "text": "Thanks!",
                    "sender": {"did": DID},
                    "sentAt": "2026-01-07T00:00:00.000Z",
                },
            )
        )
        got = [m async for m in adapter.messages(kinds={"direct"})]
        assert [(m.id, m.conversation_id) for m in got] == [("m2", "convo1"), ("m1", "convo1")]
        assert got[0].author.handle == BOB_HANDLE
        for call in router.calls:
            if "/chat.bsky." in call.request.url.path:
                assert call.request.headers["atproto-proxy"] == "did:web:api.bsky.chat#bsky_chat"
        answer = await adapter.reply(got[0], "Thanks!")
        assert answer.id == "m4"
        assert body(sent.calls[0].request) == {"convoId": "convo1", "message": {"text": "Thanks!"}}
        assert sent.calls[0].request.headers["atproto-proxy"] == "did:web:api.bsky.chat#bsky_chat"

    @pytest.mark.anyio
    async def test_notification_fields_and_reply_to_a_mention(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        expected = self.mock_messages(router)
        self.echo_create(router)
        got = [m async for m in adapter.messages(kinds={"mention", "reply", "quote"}, limit=3)]
        assert [(m.id, m.kind) for m in got] == [e for e in expected if e[1] != "direct"]
        mention, reply, quote = got
        mine = post_uri("3kmineaaaaa22")
        assert mention.post_id is None
        assert mention.conversation_id == mention.id
        assert reply.post_id == mine
        assert reply.conversation_id == mine
        assert quote.post_id == mine
        params = _calls(router, "listNotifications")[0].url.params
        assert sorted(params.get_list("reasons")) == ["mention", "quote", "reply"]
        await adapter.reply(reply, "Thank you")
        record = _created_records(router)[0]["record"]
        assert record["reply"] == {
            "root": {"uri": mine, "cid": CID},
            "parent": {"uri": reply.id, "cid": CID},
        }
        assert not _calls(router, "getRecord"), "the notification carries the refs"

    @pytest.mark.anyio
    async def test_dm_reply_too_long_is_refused(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_messages(router)
        (first, *_) = [m async for m in adapter.messages(kinds={"direct"})]
        calls = len(router.calls)
        with pytest.raises(InvalidPostError):
            await adapter.reply(first, "x" * 1001)
        # chat.bsky.convo.sendMessage sends at once: a scheduled DM would go out now.
        later = datetime.now(timezone.utc) + timedelta(days=1)
        with pytest.raises(InvalidPostError, match="schedule"):
            await adapter.reply(first, Post(text="later", scheduled_at=later))
        assert len(router.calls) == calls

    @pytest.mark.anyio
    async def test_dm_reply_whose_answer_cannot_be_read_is_outcome_unknown(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        # A 2xx to sendMessage means the message was sent: an unreadable body leaves the
        # outcome unknown (sendMessage has no key, so a "definite" error invites a resend).
        self.mock_messages(router)
        sent = router.post(xrpc("chat.bsky.convo.sendMessage")).mock(
            return_value=httpx.Response(200, content=b'{"unexpected": [1, 2, 3]}')
        )
        (first, *_) = [m async for m in adapter.messages(kinds={"direct"})]
        with pytest.raises(OutcomeUnknownError):
            await adapter.reply(first, "Thanks!")
        assert sent.call_count == 1

    @pytest.mark.anyio
    async def test_reply_to_a_mention_publishes_its_whole_thread(
        self, adapter: BlueskyAdapter, router: respx.MockRouter
    ) -> None:
        self.mock_messages(router)
        self.echo_create(router)
        got = [m async for m in adapter.messages(kinds={"reply"}, limit=1)]
        answer = Post(text="First part", thread=[Post(text="Second part")])
        published = await adapter.reply(got[0], answer)
        records = [sent["record"] for sent in _created_records(router)]
        assert [r["text"] for r in records] == ["First part", "Second part"]
        mine = post_uri("3kmineaaaaa22")
        assert records[0]["reply"]["root"] == {"uri": mine, "cid": CID}
        assert records[1]["reply"]["root"] == {"uri": mine, "cid": CID}
        assert records[1]["reply"]["parent"]["uri"] == published.id
        assert [p.text for p in published.thread] == ["Second part"]


def test_settings_reject_bad_values() -> None:
    from pydantic import ValidationError as SettingsError

    from socialkit.adapters.bluesky import BlueskySettings

    with pytest.raises(SettingsError):
        BlueskySettings(service="pds.example", identifier=HANDLE, password=PASSWORD)  # type: ignore[arg-type]
    with pytest.raises(SettingsError):
        BlueskySettings(identifier=HANDLE, password=PASSWORD, chat_service="api.bsky.chat")  # type: ignore[arg-type]
    settings = BlueskySettings(identifier=HANDLE, password=PASSWORD)  # type: ignore[arg-type]
    assert PASSWORD not in repr(settings)
    assert settings.service == "https://bsky.social"
