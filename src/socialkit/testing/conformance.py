"""The adapter conformance suite: test classes every adapter's tests subclass.

Like fsspec's abstract tests, the suite holds the tests and the adapter's test module holds the
network's knowledge: it subclasses :class:`AdapterFixtures` (how to build the adapter, and the
respx routes with real-shaped bodies for each scenario) together with the suites it wants::

    from socialkit.testing import conformance as c

    class MastodonFixtures(c.AdapterFixtures):
        base_url = "https://mastodon.example"
        def make_adapter(self, http): ...
        def mock_publish_text(self, router, text): ...
        ...

    class TestMastodonErrors(MastodonFixtures, c.ErrorSuite): ...
    class TestMastodonPublishing(MastodonFixtures, c.PublishSuite): ...

Routing is strict: the adapter's client sends through a ``respx`` router used as its transport,
so a request that no route matches fails the test. After each test, every request and response
goes through :meth:`AdapterFixtures.check_exchange`, which adapter tests override to validate
the traffic against the network's official description.

A capability the adapter does not declare is not skipped: the suite asserts that the call raises
:class:`~socialkit.UnsupportedError` (or that ``check`` reports it) instead.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
import pytest
import respx

from socialkit._capabilities import Capability
from socialkit._errors import (
    APIError,
    AuthError,
    InvalidPostError,
    MalformedResponseError,
    NotFoundError,
    PermissionError,
    RateLimitError,
    ServerError,
    TimeoutError,
    TransportError,
    UnsupportedError,
    ValidationError,
)
from socialkit._models import Media, Poll, Post, UploadedMedia
from socialkit.adapters._base import Adapter

if TYPE_CHECKING:
    from socialkit.testing.fakes._base import FakeNetwork, FakeUser

__all__ = [
    "AdapterFixtures",
    "EngagementSuite",
    "ErrorSuite",
    "FakeFixtures",
    "GIF_1X1",
    "MP3_HEAD",
    "MP4_HEAD",
    "MessagesSuite",
    "MetricsSuite",
    "PNG_1X1",
    "PagingSuite",
    "PeopleSuite",
    "PreflightSuite",
    "PublishSuite",
    "ReadSuite",
    "RoundTripSuite",
    "SAMPLE_MEDIA",
    "StreamSuite",
    "UploadSuite",
    "sent_bodies",
]

#: A valid 1x1 transparent PNG (67 bytes), for media tests.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd400000000"
    "49454e44ae426082"
)


def sent_bodies(router: respx.MockRouter) -> str:
    """Every request's URL and body decoded as text, joined (to look for sent values)."""
    parts = []
    for call in router.calls:
        parts.append(str(call.request.url))
        try:
            parts.append(call.request.content.decode("utf-8", "replace"))
        except httpx.RequestNotRead:  # a streamed upload: its content is not needed here
            continue
    return "\n".join(parts)


class AdapterFixtures:
    """What an adapter's test module supplies. Override the hooks its suites use."""

    #: The base URL the adapter is configured with in tests.
    base_url: ClassVar[str] = "https://network.example"

    # -- building ---------------------------------------------------------------------------

    def make_adapter(self, http: httpx.AsyncClient) -> Adapter:
        """The adapter under test, sending through ``http``, with retry waits switched off."""
        raise NotImplementedError

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        """Validate one request/response pair (override with the official description)."""

    # -- fixtures -----------------------------------------------------------------------------

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def router(self) -> Iterator[respx.MockRouter]:
        router = respx.MockRouter(assert_all_mocked=True, assert_all_called=False)
        yield router
        problems = []
        for call in router.calls:
            try:
                self.check_exchange(call.request, call.optional_response)
            except AssertionError as exc:
                problems.append(f"{call.request.method} {call.request.url}: {exc}")
        if problems:
            pytest.fail("traffic does not match the official description:\n" + "\n".join(problems))

    @pytest.fixture
    async def adapter(self, router: respx.MockRouter) -> AsyncIterator[Adapter]:
        client = httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler))
        adapter = self.make_adapter(client)
        try:
            yield adapter
        finally:
            await adapter.aclose()
            assert not client.is_closed, "an adapter closed the http client it was given"
            await client.aclose()

    # -- scenario hooks (return what the test should find) -----------------------------------

    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        """Route for the read call :meth:`probe` makes (``me()`` by default), unmocked."""
        raise NotImplementedError

    def probe_ok(self) -> httpx.Response:
        """A successful answer to the probe call."""
        raise NotImplementedError

    async def probe(self, adapter: Adapter) -> Any:
        return await adapter.me()

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        """The network's own error answer for ``status`` (body shape from its docs), carrying
        ``message`` as the network's message when given."""
        raise NotImplementedError

    def rate_limit_headers(self, *, remaining: int, reset_in: float) -> dict[str, str]:
        """The network's rate-limit headers for a bucket with ``remaining`` calls left."""
        return {}

    def mock_publish_text(self, router: respx.MockRouter, text: str) -> str:
        """Routes to publish a text post; returns the id the adapter should report."""
        raise NotImplementedError

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        """Routes to upload one PNG with ``alt`` and publish it; returns the post id."""
        raise NotImplementedError

    def mock_publish_thread(self, router: respx.MockRouter, texts: list[str]) -> list[str]:
        """Routes to publish ``texts`` as a thread; returns the ids in order."""
        raise NotImplementedError

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        """Routes to reply to ``parent_id``; returns the reply's id."""
        raise NotImplementedError

    def parent_id(self) -> str:
        """An id of an existing post to reply to."""
        return "1"

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        """Routes for three pages of the account's posts; returns each page's ids, in order."""
        raise NotImplementedError

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        """Routes for metrics; returns the post ids to ask for and the expected canonical values."""
        raise NotImplementedError

    def mock_messages(self, router: respx.MockRouter) -> list[tuple[str, str]]:
        """Routes for the messages stream; returns the expected ``(id, kind)`` newest first."""
        raise NotImplementedError


def _supported(adapter: Adapter, capability: Capability) -> bool:
    return capability in adapter.capabilities


class ErrorSuite(AdapterFixtures):
    """Errors decoded into the tree; retries on transient failures; rate limits."""

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        ("status", "error"),
        [
            (400, ValidationError),
            (401, AuthError),
            (403, PermissionError),
            (404, NotFoundError),
            (422, ValidationError),
        ],
    )
    async def test_client_error_is_decoded(
        self, adapter: Adapter, router: respx.MockRouter, status: int, error: type[APIError]
    ) -> None:
        route = self.mock_probe(router)
        route.mock(return_value=self.error_response(status))
        with pytest.raises(error) as info:
            await self.probe(adapter)
        assert info.value.status == status
        assert info.value.network == adapter.name
        assert info.value.message, "the network's own message should be decoded"
        assert route.call_count == 1, "a client error must not be retried"

    @pytest.mark.anyio
    async def test_server_error_then_success(
        self, adapter: Adapter, router: respx.MockRouter
    ) -> None:
        route = self.mock_probe(router)
        route.side_effect = [self.error_response(503), self.probe_ok()]
        await self.probe(adapter)
        assert route.call_count == 2

    @pytest.mark.anyio
    async def test_server_error_until_give_up(
        self, adapter: Adapter, router: respx.MockRouter
    ) -> None:
        route = self.mock_probe(router)
        route.mock(return_value=self.error_response(500))
        with pytest.raises(ServerError) as info:
            await self.probe(adapter)
        assert info.value.status == 500
        assert route.call_count == adapter.settings.retries

    @pytest.mark.anyio
    async def test_rate_limited_with_reset_then_success(
        self, adapter: Adapter, router: respx.MockRouter
    ) -> None:
        route = self.mock_probe(router)
        limited = self.error_response(429)
        limited.headers.update(self.rate_limit_headers(remaining=0, reset_in=30))
        route.side_effect = [limited, self.probe_ok()]
        await self.probe(adapter)
        assert route.call_count == 2

    @pytest.mark.anyio
    async def test_rate_limited_without_reset_gives_up(
        self, adapter: Adapter, router: respx.MockRouter
    ) -> None:
        route = self.mock_probe(router)
        route.mock(return_value=self.error_response(429))
        with pytest.raises(RateLimitError) as info:
            await self.probe(adapter)
        assert info.value.status == 429
        assert route.call_count == adapter.settings.retries

    @pytest.mark.anyio
    async def test_malformed_body(self, adapter: Adapter, router: respx.MockRouter) -> None:
        route = self.mock_probe(router)
        route.mock(
            return_value=httpx.Response(
                200, content=b"{not json", headers={"content-type": "application/json"}
            )
        )
        with pytest.raises(MalformedResponseError) as info:
            await self.probe(adapter)
        assert info.value.network == adapter.name
        assert route.call_count == 1

    @pytest.mark.anyio
    async def test_non_json_error_body(self, adapter: Adapter, router: respx.MockRouter) -> None:
        route = self.mock_probe(router)
        route.mock(
            return_value=httpx.Response(
                502,
                content=b"<html><body>Bad gateway</body></html>",
                headers={"content-type": "text/html"},
            )
        )
        with pytest.raises(ServerError) as info:
            await self.probe(adapter)
        assert info.value.status == 502

    @pytest.mark.anyio
    async def test_wrong_shape_body(self, adapter: Adapter, router: respx.MockRouter) -> None:
        route = self.mock_probe(router)
        route.mock(return_value=httpx.Response(200, json={"unexpected": [1, 2, 3]}))
        with pytest.raises(MalformedResponseError):
            await self.probe(adapter)

    @pytest.mark.anyio
    async def test_connection_reset(self, adapter: Adapter, router: respx.MockRouter) -> None:
        route = self.mock_probe(router)
        route.side_effect = httpx.ConnectError("connection reset by peer")
        with pytest.raises(TransportError):
            await self.probe(adapter)
        assert route.call_count == adapter.settings.retries

    @pytest.mark.anyio
    async def test_timeout(self, adapter: Adapter, router: respx.MockRouter) -> None:
        route = self.mock_probe(router)
        route.side_effect = httpx.ReadTimeout("timed out")
        with pytest.raises(TimeoutError):
            await self.probe(adapter)
        assert route.call_count == adapter.settings.retries

    @pytest.mark.anyio
    async def test_errors_carry_no_secret(self, adapter: Adapter, router: respx.MockRouter) -> None:
        # Servers echo what they were sent ("invalid token <token>"): even then, no secret the
        # adapter holds may reach the error, its traceback, the adapter's or settings' repr.
        secrets = self.secrets()
        assert secrets, "override secrets() with the secret values the adapter was built with"
        route = self.mock_probe(router)
        route.mock(
            return_value=self.error_response(401, f"Invalid bearer token {secrets[0]} rejected")
        )
        with pytest.raises(AuthError) as info:
            await self.probe(adapter)
        printed = "".join(traceback.format_exception(info.value))
        text = f"{info.value!s} {info.value!r} {printed} {adapter!r} {adapter.settings!r}"
        for secret in secrets:
            assert secret not in text

    def secrets(self) -> list[str]:
        """The secret values the adapter was built with (must never show up); override it."""
        return []


class PublishSuite(AdapterFixtures):
    """Publishing text, media, threads and replies."""

    @pytest.mark.anyio
    async def test_publish_text(self, adapter: Adapter, router: respx.MockRouter) -> None:
        text = "Hello from the socialkit conformance suite"
        expected = self.mock_publish_text(router, text)
        posted = await adapter.publish(Post(text=text))
        assert posted.id == expected
        assert posted.network == adapter.name
        assert posted.url
        assert isinstance(posted.created_at, datetime)
        assert posted.created_at.utcoffset() is not None
        assert text in sent_bodies(router)

    @pytest.mark.anyio
    async def test_publish_image(self, adapter: Adapter, router: respx.MockRouter) -> None:
        post = Post(
            text="A picture", media=[Media.from_bytes(PNG_1X1, alt="One transparent pixel")]
        )
        if not _supported(adapter, Capability.PUBLISH_IMAGE):
            assert any(p.code == "unsupported" for p in adapter.check(post))
            return
        expected = self.mock_publish_image(router, "A picture", "One transparent pixel")
        posted = await adapter.publish(post)
        assert posted.id == expected
        assert "One transparent pixel" in sent_bodies(router)

    @pytest.mark.anyio
    async def test_publish_thread(self, adapter: Adapter, router: respx.MockRouter) -> None:
        texts = ["Thread 1/3", "Thread 2/3", "Thread 3/3"]
        post = Post(text=texts[0], thread=[Post(text=t) for t in texts[1:]])
        if not _supported(adapter, Capability.PUBLISH_THREAD):
            assert any(p.code == "unsupported" for p in adapter.check(post))
            return
        ids = self.mock_publish_thread(router, texts)
        posted = await adapter.publish(post)
        assert [posted.id, *(p.id for p in posted.thread)] == ids

    @pytest.mark.anyio
    async def test_reply(self, adapter: Adapter, router: respx.MockRouter) -> None:
        parent = self.parent_id()
        if not _supported(adapter, Capability.REPLY):
            with pytest.raises(UnsupportedError):
                await adapter.reply(parent, "Thanks!")
            return
        expected = self.mock_reply(router, parent, "Thanks!")
        posted = await adapter.reply(parent, "Thanks!")
        assert posted.id == expected
        assert "Thanks!" in sent_bodies(router)


class PreflightSuite(AdapterFixtures):
    """The offline pre-flight: invalid posts are refused before any request."""

    @pytest.mark.anyio
    async def test_text_too_long_sends_nothing(
        self, adapter: Adapter, router: respx.MockRouter
    ) -> None:
        limit = adapter.limits.max_text
        assert limit is not None, "every network limits text length"
        post = Post(text="a" * (limit + 1))
        problems = adapter.check(post)
        assert [p.code for p in problems] == ["text_too_long"]
        assert problems[0].limit == limit
        with pytest.raises(InvalidPostError) as info:
            await adapter.publish(post)
        assert info.value.problems == tuple(problems)
        assert not router.calls, "nothing may be sent for an invalid post"

    @pytest.mark.anyio
    async def test_text_at_limit_is_fine(self, adapter: Adapter) -> None:
        limit = adapter.limits.max_text
        assert limit is not None
        assert adapter.check(Post(text="a" * limit)) == []

    @pytest.mark.anyio
    async def test_too_many_media_sends_nothing(
        self, adapter: Adapter, router: respx.MockRouter
    ) -> None:
        count = adapter.limits.max_media + 1
        post = Post(text="x", media=[Media.from_bytes(PNG_1X1, alt=str(i)) for i in range(count)])
        problems = adapter.check(post)
        assert problems
        with pytest.raises(InvalidPostError):
            await adapter.publish(post)
        assert not router.calls

    @pytest.mark.anyio
    async def test_thread_posts_are_checked(self, adapter: Adapter) -> None:
        limit = adapter.limits.max_text
        assert limit is not None
        post = Post(text="fine", thread=[Post(text="b" * (limit + 1))])
        fields = [p.field for p in adapter.check(post)]
        if _supported(adapter, Capability.PUBLISH_THREAD):
            assert fields == ["thread[0].text"]
        else:
            assert "thread" in fields


class ReadSuite(AdapterFixtures):
    """Reading the account's posts, lazily across pages."""

    @pytest.mark.anyio
    async def test_pages_in_order(self, adapter: Adapter, router: respx.MockRouter) -> None:
        pages = self.mock_posts(router)
        assert len(pages) >= 3, "the fixture should serve three pages"
        got = [p.id async for p in adapter.posts()]
        assert got == [i for page in pages for i in page]

    @pytest.mark.anyio
    async def test_limit_stops_early(self, adapter: Adapter, router: respx.MockRouter) -> None:
        pages = self.mock_posts(router)
        first = len(pages[0])
        got = [p.id async for p in adapter.posts(limit=first)]
        assert got == pages[0]
        assert len(router.calls) == 1 + self.extra_read_calls(), "fetched more pages than needed"

    def extra_read_calls(self) -> int:
        """Calls made before the first page (looking up the account id, say)."""
        return 0


class MetricsSuite(AdapterFixtures):
    """Post metrics under canonical names."""

    @pytest.mark.anyio
    async def test_metrics(self, adapter: Adapter, router: respx.MockRouter) -> None:
        ids, expected = self.mock_metrics(router)
        got = await adapter.metrics(ids)
        assert set(got) == set(expected)
        for post_id, values in expected.items():
            by_name = {m.name: m.value for m in got[post_id]}
            for name, value in values.items():
                assert by_name.get(name) == value, f"{post_id} {name}"
            for metric in got[post_id]:
                assert metric.post_id == post_id
                assert metric.network == adapter.name
                assert metric.native_name


class MessagesSuite(AdapterFixtures):
    """Mentions, replies, quotes, comments and direct messages as Messages."""

    @pytest.mark.anyio
    async def test_messages(self, adapter: Adapter, router: respx.MockRouter) -> None:
        expected = self.mock_messages(router)
        got = [m async for m in adapter.messages()]
        assert [(m.id, m.kind) for m in got] == expected
        for message in got:
            assert message.network == adapter.name
            assert message.author.id
            assert message.created_at.utcoffset() is not None

    @pytest.mark.anyio
    async def test_unknown_kind_is_refused(self, adapter: Adapter) -> None:
        with pytest.raises(ValueError, match="unknown message kinds"):
            async for _ in adapter.messages(kinds={"gossip"}):  # type: ignore[arg-type]
                pass


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON response with the exact bytes of ``body`` (for fixtures)."""
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
    )


# -- fake-backed suites ---------------------------------------------------------------------
#
# The suites below run the real adapter against the network's fake server
# (``socialkit.testing.fakes``), which keeps state: an action is checked by what the fake
# holds afterwards (``FakeNetwork.has``), and paging by items that arrive between two runs.

#: A valid 1x1 GIF (43 bytes).
GIF_1X1 = bytes.fromhex(
    "47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b"
)
#: The head of an MP4 file (an ``ftyp`` box and an empty ``free`` box): sniffed as video/mp4.
MP4_HEAD = bytes.fromhex("00000018667479706d70343200000000") + b"mp42isom"
MP4_HEAD += bytes.fromhex("00000008") + b"free"
#: An ID3 tag and one MPEG-1 Layer III frame header, padded: sniffed as audio/mpeg.
MP3_HEAD = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes.fromhex("fffb9064") + bytes(100)

#: Sample content per media kind, for round trips.
SAMPLE_MEDIA: dict[str, bytes] = {
    "image": PNG_1X1,
    "gif": GIF_1X1,
    "video": MP4_HEAD,
    "audio": MP3_HEAD,
}

_KIND_CAPABILITY = {
    "image": Capability.PUBLISH_IMAGE,
    "gif": Capability.PUBLISH_GIF,
    "video": Capability.PUBLISH_VIDEO,
    "audio": Capability.PUBLISH_AUDIO,
}


class FakeFixtures:
    """What a fake-backed suite needs: the network's fake, and the adapter connected to it.

    Override :meth:`make_fake`; override :meth:`client_for` to record the traffic and validate
    it against the network's official description (as the adapter tests of this package do).
    """

    def make_fake(self) -> FakeNetwork:
        """A fresh fake of the network under test."""
        raise NotImplementedError

    def client_for(self, fake: FakeNetwork) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient`` the adapter sends through (default: in-process)."""
        return fake.client()

    def check_traffic(self, client: httpx.AsyncClient) -> None:
        """Called after each test with the client :meth:`client_for` gave (validate here)."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def fake(self) -> FakeNetwork:
        return self.make_fake()

    @pytest.fixture
    async def net(self, fake: FakeNetwork) -> AsyncIterator[Adapter]:
        client = self.client_for(fake)
        adapter = fake.connect(http=client)
        try:
            yield adapter
        finally:
            await adapter.aclose()
            await client.aclose()
        self.check_traffic(client)

    # -- helpers -------------------------------------------------------------------------------

    @staticmethod
    def someone(fake: FakeNetwork, handle: str = "someone") -> FakeUser:
        """A user of the fake other than the owner (created on first use)."""
        full = fake.full_handle(handle)
        for user in fake.users.values():
            if user.handle == full:
                return user
        return fake.add_user(handle)

    @staticmethod
    def own_posts(fake: FakeNetwork, count: int, prefix: str = "post") -> list[str]:
        """``count`` posts by the owner, a minute apart; their ids, newest first."""
        ids = []
        for index in range(count):
            fake.clock.advance(minutes=1)
            ids.append(fake.publish_as(fake.owner, f"{prefix} {index}"))
        return ids[::-1]


async def _collect(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


def _ids(items: list[Any]) -> list[str]:
    return [item.id for item in items]


class EngagementSuite(FakeFixtures):
    """like, repost, bookmark (posts) and follow, block, mute (accounts), each with its
    reverse, idempotent both ways; ``hide`` on a reply. A capability the adapter does not
    declare must raise UnsupportedError."""

    POST_ACTIONS: ClassVar[list[tuple[Capability, str, str, str]]] = [
        (Capability.LIKE, "like", "unlike", "like"),
        (Capability.REPOST, "repost", "unrepost", "repost"),
        (Capability.BOOKMARK, "bookmark", "unbookmark", "bookmark"),
    ]
    ACCOUNT_ACTIONS: ClassVar[list[tuple[Capability, str, str, str]]] = [
        (Capability.FOLLOW, "follow", "unfollow", "follow"),
        (Capability.BLOCK, "block", "unblock", "block"),
        (Capability.MUTE, "mute", "unmute", "mute"),
    ]

    @pytest.mark.anyio
    @pytest.mark.parametrize("action", POST_ACTIONS, ids=lambda a: a[1])
    async def test_post_action_and_reverse(
        self, net: Adapter, fake: FakeNetwork, action: tuple[Capability, str, str, str]
    ) -> None:
        capability, do, undo, relation = action
        post_id = fake.publish_as(self.someone(fake), "something worth a like")
        if capability not in net.capabilities:
            with pytest.raises(UnsupportedError):
                await getattr(net, do)(post_id)
            return
        owner = fake.owner.id
        await getattr(net, do)(post_id)
        assert fake.has(relation, owner, post_id)
        await getattr(net, do)(post_id)  # again: idempotent
        assert fake.has(relation, owner, post_id)
        await getattr(net, undo)(post_id)
        assert not fake.has(relation, owner, post_id)
        await getattr(net, undo)(post_id)  # again: idempotent
        assert not fake.has(relation, owner, post_id)

    @pytest.mark.anyio
    @pytest.mark.parametrize("action", ACCOUNT_ACTIONS, ids=lambda a: a[1])
    async def test_account_action_and_reverse(
        self, net: Adapter, fake: FakeNetwork, action: tuple[Capability, str, str, str]
    ) -> None:
        capability, do, undo, relation = action
        other = self.someone(fake)
        if capability not in net.capabilities:
            with pytest.raises(UnsupportedError):
                await getattr(net, do)(other.id)
            return
        owner = fake.owner.id
        await getattr(net, do)(other.id)
        assert fake.has(relation, owner, other.id)
        await getattr(net, do)(other.id)
        assert fake.has(relation, owner, other.id)
        await getattr(net, undo)(other.id)
        assert not fake.has(relation, owner, other.id)
        await getattr(net, undo)(other.id)
        assert not fake.has(relation, owner, other.id)

    @pytest.mark.anyio
    async def test_account_action_takes_an_account(self, net: Adapter, fake: FakeNetwork) -> None:
        other = self.someone(fake)
        if Capability.FOLLOW not in net.capabilities or Capability.ACCOUNTS not in (
            net.capabilities
        ):
            return
        account = await net.account(other.id)
        await net.follow(account)
        assert fake.has("follow", fake.owner.id, other.id)

    @pytest.mark.anyio
    async def test_hide_and_unhide_a_reply(self, net: Adapter, fake: FakeNetwork) -> None:
        mine = fake.publish_as(fake.owner, "my post")
        rude = fake.reply(mine, self.someone(fake), "a rude reply")
        if Capability.HIDE not in net.capabilities:
            with pytest.raises(UnsupportedError):
                await net.hide(rude)
            return
        await net.hide(rude)
        assert fake.has("hide", fake.owner.id, rude)
        await net.unhide(rude)
        assert not fake.has("hide", fake.owner.id, rude)

    @pytest.mark.anyio
    async def test_action_on_a_bad_id_sends_nothing(self, net: Adapter, fake: FakeNetwork) -> None:
        """An id that would change the request's path is refused before any request."""
        for capability, do, _, _ in self.POST_ACTIONS:
            if capability in net.capabilities:
                with pytest.raises(ValidationError):
                    await getattr(net, do)("1/../../users/me")
                return


class PeopleSuite(FakeFixtures):
    """account lookup by handle and id, followers, following and the home timeline."""

    @pytest.mark.anyio
    async def test_account_by_handle_and_by_id(self, net: Adapter, fake: FakeNetwork) -> None:
        other = self.someone(fake)
        if Capability.ACCOUNTS not in net.capabilities:
            with pytest.raises(UnsupportedError):
                await net.account(other.id)
            return
        by_id = await net.account(other.id)
        by_handle = await net.account(other.handle)
        by_at = await net.account("@" + other.handle)
        assert by_id.id == by_handle.id == by_at.id == other.id
        assert by_id.network == net.name

    @pytest.mark.anyio
    async def test_unknown_account(self, net: Adapter, fake: FakeNetwork) -> None:
        if Capability.ACCOUNTS not in net.capabilities:
            return
        with pytest.raises(NotFoundError):
            await net.account("@" + fake.full_handle("nobodyhere"))

    @pytest.mark.anyio
    async def test_followers_and_following(self, net: Adapter, fake: FakeNetwork) -> None:
        fans = [self.someone(fake, f"fan{i}") for i in range(3)]
        idols = [self.someone(fake, f"idol{i}") for i in range(2)]
        if Capability.FOLLOWERS not in net.capabilities:
            with pytest.raises(UnsupportedError):
                net.followers()
            return
        for fan in fans:
            fake.follow(fan, fake.owner)
        for idol in idols:
            fake.follow(fake.owner, idol)
        followers = {a.id for a in await _collect(net.followers())}
        following = {a.id for a in await _collect(net.following())}
        assert followers == {f.id for f in fans}
        assert following == {i.id for i in idols}
        of_other = {a.id for a in await _collect(net.followers(idols[0].id))}
        assert fake.owner.id in of_other

    @pytest.mark.anyio
    async def test_followers_resume(self, net: Adapter, fake: FakeNetwork) -> None:
        if Capability.FOLLOWERS not in net.capabilities:
            return
        fans = [self.someone(fake, f"fan{i}") for i in range(5)]
        for fan in fans:
            fake.follow(fan, fake.owner)
        first = net.followers(limit=2)
        got = await _collect(first)
        assert len(got) == 2
        rest = await _collect(net.followers(cursor=first.cursor))
        ids = _ids(got) + _ids(rest)
        assert len(ids) == len(set(ids)) == 5

    @pytest.mark.anyio
    async def test_timeline(self, net: Adapter, fake: FakeNetwork) -> None:
        idol = self.someone(fake, "idol")
        if Capability.TIMELINE not in net.capabilities:
            with pytest.raises(UnsupportedError):
                net.timeline()
            return
        fake.follow(fake.owner, idol)
        fake.clock.advance(minutes=1)
        post_id = fake.publish_as(idol, "news from someone I follow")
        got = _ids(await _collect(net.timeline(limit=20)))
        assert post_id in got


class PagingSuite(FakeFixtures):
    """Cursors resume a walk where it stopped, even mid-page and with new items arriving
    between the two runs: nothing repeated, nothing skipped. ``since``/``until`` bound it."""

    @pytest.mark.anyio
    async def test_posts_resume_with_items_arriving_between(
        self, net: Adapter, fake: FakeNetwork
    ) -> None:
        ids = self.own_posts(fake, 7)
        first = net.posts(limit=3)
        got = _ids(await _collect(first))
        assert got == ids[:3]
        assert first.cursor is not None
        self.own_posts(fake, 2, prefix="newer")  # arrive between the two runs
        rest = _ids(await _collect(net.posts(cursor=first.cursor)))
        assert got + rest == ids

    @pytest.mark.anyio
    async def test_pages_carry_their_cursor(self, net: Adapter, fake: FakeNetwork) -> None:
        ids = self.own_posts(fake, 4)
        seen: list[str] = []
        async for page in net.posts().pages():
            seen.extend(_ids(page.items))
            if page.cursor is not None and not page.last:
                resumed = _ids(await _collect(net.posts(cursor=page.cursor)))
                assert seen + resumed == ids
        assert seen == ids

    @pytest.mark.anyio
    async def test_since_and_until(self, net: Adapter, fake: FakeNetwork) -> None:
        ids = self.own_posts(fake, 5)
        everything = await _collect(net.posts())
        assert _ids(everything) == ids
        times = [p.created_at for p in everything]
        window = await _collect(net.posts(since=times[3], until=times[1]))
        assert _ids(window) == ids[1:4]

    @pytest.mark.anyio
    async def test_messages_resume(self, net: Adapter, fake: FakeNetwork) -> None:
        fan = self.someone(fake, "fan")
        for index in range(5):
            fake.clock.advance(minutes=1)
            fake.mention(fan, f"hello @{fake.owner.handle} number {index}")
        first = net.messages(kinds={"mention"}, limit=2)
        got = _ids(await _collect(first))
        assert len(got) == 2
        fake.clock.advance(minutes=1)
        fake.mention(fan, f"a newer mention of @{fake.owner.handle}")
        rest = _ids(await _collect(net.messages(kinds={"mention"}, cursor=first.cursor)))
        ids = got + rest
        assert len(ids) == len(set(ids)) == 5

    @pytest.mark.anyio
    async def test_a_foreign_cursor_is_refused(self, net: Adapter) -> None:
        with pytest.raises(ValidationError):
            await _collect(net.posts(cursor="not-a-cursor"))


class RoundTripSuite(FakeFixtures):
    """What ``publish`` accepted, ``get_post`` returns: text, media of every kind the network
    takes (with alt text), link, reply, quote and poll."""

    @pytest.mark.anyio
    @pytest.mark.parametrize("kind", ["image", "gif", "video", "audio"])
    async def test_media_round_trip(self, net: Adapter, kind: str) -> None:
        if _KIND_CAPABILITY[kind] not in net.capabilities:
            return
        media = Media.from_bytes(SAMPLE_MEDIA[kind], alt=f"the {kind}'s alt text")
        posted = await net.publish(Post(text=f"a post with one {kind}", media=[media]))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.text == f"a post with one {kind}"
        assert [m.kind for m in got.media] == [kind]
        assert got.media[0].alt == f"the {kind}'s alt text"
        assert got.media[0].url, "media read back carry the network's URL"
        assert got.id == posted.id
        assert got.network == net.name

    @pytest.mark.anyio
    async def test_reply_and_quote_round_trip(self, net: Adapter, fake: FakeNetwork) -> None:
        parent = await net.publish(Post(text="the first word"))
        assert parent.id is not None
        if Capability.REPLY in net.capabilities:
            reply = await net.publish(Post(text="a reply", reply_to=parent.id))
            assert reply.id is not None
            assert (await net.get_post(reply.id)).reply_to == parent.id
        if Capability.QUOTE in net.capabilities:
            quote = await net.publish(Post(text="a quote", quote_of=parent.id))
            assert quote.id is not None
            assert (await net.get_post(quote.id)).quote_of == parent.id

    @pytest.mark.anyio
    async def test_link_round_trip(self, net: Adapter) -> None:
        url = "https://example.com/a/long/path/that/networks/like/to/shorten?x=1"
        posted = await net.publish(Post(text=f"read this {url}"))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert url in got.text
        assert got.link == url

    @pytest.mark.anyio
    async def test_poll_round_trip(self, net: Adapter) -> None:
        if Capability.PUBLISH_POLL not in net.capabilities:
            return
        poll = Poll(options=["yes", "no"], duration=timedelta(days=1))
        posted = await net.publish(Post(text="a question", poll=poll))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.poll is not None
        assert got.poll.options == ["yes", "no"]
        assert got.poll.votes == [0, 0]
        assert got.poll.expires_at is not None


class UploadSuite(FakeFixtures):
    """``upload`` on its own, then the upload attached to a post (twice where reusable)."""

    @pytest.mark.anyio
    async def test_upload_then_attach(self, net: Adapter) -> None:
        media = Media.from_bytes(PNG_1X1, alt="uploaded first")
        if Capability.UPLOAD not in net.capabilities:
            with pytest.raises(UnsupportedError):
                await net.upload(media)
            return
        uploaded = await net.upload(media)
        assert uploaded.network == net.name
        assert uploaded.id
        assert uploaded.kind == "image"
        posted = await net.publish(Post(text="with an upload", media=[Media.from_upload(uploaded)]))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert [m.kind for m in got.media] == ["image"]
        assert got.media[0].alt == "uploaded first"
        if uploaded.reusable:
            again = await net.publish(
                Post(text="the same upload again", media=[Media.from_upload(uploaded)])
            )
            assert again.id is not None
            assert len((await net.get_post(again.id)).media) == 1

    @pytest.mark.anyio
    async def test_foreign_upload_is_refused_before_sending(self, net: Adapter) -> None:
        foreign = UploadedMedia(id="1", network="elsewhere", kind="image", mime_type="image/png")
        with pytest.raises(InvalidPostError, match="elsewhere"):
            await net.publish(Post(text="x", media=[Media.from_upload(foreign)]))


class StreamSuite:
    """``stream()`` against the network's fake, served on a loopback port (a stream needs a
    real connection: ``httpx.ASGITransport`` reads whole responses). A burst planted on the
    fake arrives once and in order although the connection drops in its middle, and a new
    stream given the first one's cursor resumes without a gap or a repeat.

    Override :meth:`make_fake`, :meth:`served_settings` (the settings that point the adapter at
    the served fake, and the credentials its stream needs), :meth:`plant` (make one item the
    stream asked for by :meth:`stream_arguments` carries, and return the id its event has) and,
    where the fake counts its connections otherwise, :meth:`opened`.
    """

    #: Items of the planted burst.
    BURST: ClassVar[int] = 8

    def make_fake(self) -> FakeNetwork:
        raise NotImplementedError

    def served_settings(self, fake: FakeNetwork, url: str) -> dict[str, Any]:
        """Settings for ``fake.connect`` that reach the fake served at ``url``."""
        raise NotImplementedError

    def stream_arguments(self) -> dict[str, Any]:
        """Keyword arguments of ``stream()`` (``kinds``, ``query`` …)."""
        return {}

    def plant(self, fake: FakeNetwork, index: int) -> str:
        """Make one item the stream carries; return the id its event's post or message has."""
        raise NotImplementedError

    def opened(self, fake: FakeNetwork) -> int:
        """Stream connections the fake has accepted so far."""
        count = getattr(fake, "stream_connections", 0)
        return len(count) if isinstance(count, list) else int(count)

    def policy(self) -> Any:
        from socialkit._stream import StreamPolicy

        return StreamPolicy(initial_backoff=0.05, max_backoff=0.2, max_attempts=5, stall=5.0)

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"

    @pytest.fixture
    def fake(self) -> FakeNetwork:
        return self.make_fake()

    @pytest.fixture
    async def net(self, fake: FakeNetwork) -> AsyncIterator[Adapter]:
        with fake.serve() as url:
            async with httpx.AsyncClient() as client:
                adapter = fake.connect(http=client, **self.served_settings(fake, url))
                try:
                    yield adapter
                finally:
                    await adapter.aclose()

    async def _read(self, fake: FakeNetwork, events: Any, count: int, plant: Any) -> list[str]:
        import anyio

        got: list[str] = []

        async def read() -> None:
            async with events:
                async for event in events:
                    item = event.post if event.post is not None else event.message
                    if item is not None and item.id is not None:
                        got.append(item.id)
                    if len(got) >= count:
                        return

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(read)
                await plant(got)
        return got

    @staticmethod
    async def _until(condition: Any) -> None:
        import anyio

        while True:
            if condition():
                return
            await anyio.sleep(0.02)

    @pytest.mark.anyio
    async def test_declares_the_capability(self, net: Adapter) -> None:
        assert Capability.STREAM in net.capabilities

    @pytest.mark.anyio
    async def test_a_burst_arrives_once_in_order_across_a_drop(
        self, net: Adapter, fake: FakeNetwork
    ) -> None:
        events = net.stream(**self.stream_arguments(), policy=self.policy())
        sent: list[str] = []

        async def plant(got: list[str]) -> None:
            await self._until(lambda: self.opened(fake) >= 1)
            half = self.BURST // 2
            sent.extend(self.plant(fake, i) for i in range(half))
            await self._until(lambda: len(got) >= 1)
            fake.drop_streams()  # type: ignore[attr-defined]
            sent.extend(self.plant(fake, i) for i in range(half, self.BURST))

        got = await self._read(fake, events, self.BURST, plant)
        assert got == sent
        assert events.reconnects >= 1

    @pytest.mark.anyio
    async def test_a_restart_with_the_cursor_resumes(self, net: Adapter, fake: FakeNetwork) -> None:
        first = net.stream(**self.stream_arguments(), policy=self.policy())

        async def one(got: list[str]) -> None:
            await self._until(lambda: self.opened(fake) >= 1)
            self.plant(fake, 0)

        await self._read(fake, first, 1, one)
        assert first.cursor is not None
        missed = [self.plant(fake, i) for i in (1, 2)]
        again = net.stream(**self.stream_arguments(), cursor=first.cursor, policy=self.policy())
        live: list[str] = []

        async def more(got: list[str]) -> None:
            await self._until(lambda: len(got) >= 2)
            live.append(self.plant(fake, 3))

        assert await self._read(fake, again, 3, more) == [*missed, *live]
