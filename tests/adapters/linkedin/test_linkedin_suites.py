"""The fake-backed suites for LinkedIn, against FakeLinkedIn (whose answers follow the
reference pages named in socialkit/testing/fakes/linkedin.py), every request checked by
tests/_validation/linkedin.py: engagement (likes; the rest unsupported), people
(unsupported), paging, uploads, round trips of every media kind LinkedIn takes, and the
little format's reserved characters on the wire and back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests._validation.linkedin import linkedin_violations

from socialkit import Media, Post
from socialkit.adapters._base import Adapter
from socialkit.adapters.linkedin import RESERVED, LinkedInAdapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeLinkedIn
from socialkit.testing.fakes._base import FakeNetwork

pytestmark = pytest.mark.spec

HOST = "api.linkedin.fake"


class LinkedInFakeFixtures(c.FakeFixtures):
    def make_fake(self) -> FakeNetwork:
        return FakeLinkedIn()

    def client_for(self, fake: FakeNetwork) -> httpx.AsyncClient:
        client = fake.client()
        sent: list[httpx.Request] = []

        async def record(request: httpx.Request) -> None:
            sent.append(request)

        client.event_hooks["request"].append(record)
        client.sent = sent  # type: ignore[attr-defined]
        return client

    def check_traffic(self, client: httpx.AsyncClient) -> None:
        problems = [
            f"{r.method} {r.url}: {p}"
            for r in client.sent  # type: ignore[attr-defined]
            for p in linkedin_violations(r, base_host=HOST)
        ]
        assert not problems, problems

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


class TestLinkedInEngagement(LinkedInFakeFixtures, c.EngagementSuite):
    pass


class TestLinkedInPeople(LinkedInFakeFixtures, c.PeopleSuite):
    pass


class TestLinkedInUpload(LinkedInFakeFixtures, c.UploadSuite):
    pass


class TestLinkedInRoundTrip(LinkedInFakeFixtures, c.RoundTripSuite):
    pass


class TestLinkedInPaging(LinkedInFakeFixtures, c.PagingSuite):
    @pytest.mark.anyio
    async def test_messages_resume(self, net: Adapter, fake: FakeNetwork) -> None:
        """LinkedIn's messages are comments on the author's posts (no mentions)."""
        assert isinstance(fake, FakeLinkedIn)
        fan = self.someone(fake, "fan")
        mine = fake.publish_as(fake.owner, "comment on this")
        for index in range(5):
            fake.clock.advance(minutes=1)
            fake.reply(mine, fan, f"comment number {index}")
        first = net.messages(kinds={"comment"}, limit=2)
        got = [m.id async for m in first]
        assert len(got) == 2
        fake.clock.advance(minutes=1)
        fake.reply(mine, fan, "a newer comment")
        rest = [m.id async for m in net.messages(kinds={"comment"}, cursor=first.cursor)]
        ids = got + rest
        assert len(ids) == len(set(ids)) == 5

    @pytest.mark.anyio
    async def test_mentions_are_not_messages(self, net: Adapter, fake: FakeNetwork) -> None:
        fake.mention(self.someone(fake, "fan"), "hello")
        assert [m async for m in net.messages(kinds={"mention"})] == []


class TestLinkedInMediaRoundTrips(LinkedInFakeFixtures):
    """publish, get_post, compare: one per kind of LinkedIn content."""

    @pytest.mark.anyio
    async def test_text(self, net: Adapter) -> None:
        posted = await net.publish(Post(text="plain words"))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert (got.id, got.text, got.media, got.network) == (
            posted.id,
            "plain words",
            [],
            "linkedin",
        )
        assert got.url == f"https://www.linkedin.com/feed/update/{posted.id}/"

    @pytest.mark.anyio
    async def test_image(self, net: Adapter) -> None:
        post = Post(text="one image", media=[Media.from_bytes(c.PNG_1X1, alt="a pixel")])
        posted = await net.publish(post)
        assert posted.id is not None
        assert posted.id.startswith("urn:li:share:")
        got = await net.get_post(posted.id)
        assert got.text == "one image"
        assert [(m.kind, m.alt) for m in got.media] == [("image", "a pixel")]
        assert got.media[0].id == posted.media[0].uploaded.id  # type: ignore[union-attr]
        assert got.media[0].url

    @pytest.mark.anyio
    async def test_several_images(self, net: Adapter) -> None:
        media = [Media.from_bytes(c.PNG_1X1, alt=f"pixel {i}") for i in range(3)]
        posted = await net.publish(Post(text="three images", media=media))
        assert posted.id is not None
        assert posted.id.startswith("urn:li:ugcPost:")
        got = await net.get_post(posted.id)
        assert [(m.kind, m.alt) for m in got.media] == [("image", f"pixel {i}") for i in range(3)]
        assert all(m.url for m in got.media)

    @pytest.mark.anyio
    async def test_video(self, net: Adapter) -> None:
        posted = await net.publish(Post(text="one video", media=[Media.from_bytes(c.MP4_HEAD)]))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.text == "one video"
        assert [m.kind for m in got.media] == ["video"]
        assert got.media[0].url
        assert got.media[0].preview_url
        assert got.media[0].duration == 12.0

    @pytest.mark.anyio
    async def test_article(self, net: Adapter, fake: FakeNetwork) -> None:
        url = "https://example.com/an/article"
        posted = await net.publish(Post(text="worth reading", link=url))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert (got.text, got.link) == ("worth reading", url)
        assert isinstance(fake, FakeLinkedIn)
        assert fake.posts[posted.id].content == {"article": {"source": url, "title": url}}

    @pytest.mark.anyio
    async def test_reshare(self, net: Adapter, fake: FakeNetwork) -> None:
        original = fake.publish_as(self.someone(fake), "worth sharing")
        posted = await net.publish(Post(text="my take", quote_of=original))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert (got.text, got.quote_of) == ("my take", original)

    @pytest.mark.anyio
    async def test_comment(self, net: Adapter, fake: FakeNetwork) -> None:
        mine = fake.publish_as(fake.owner, "my post")
        reply = await net.reply(mine, "thanks (all) of you")
        assert reply.id is not None
        got = await net.get_post(reply.id)
        assert (got.text, got.reply_to) == ("thanks (all) of you", mine)


class TestReservedCharacters(LinkedInFakeFixtures):
    """Every reserved character of the little format, escaped on the wire, read back as is."""

    TEXT = "Pipes | braces { } at @ brackets [ ] parens ( ) angles < > hash # " + (
        "backslash \\ star * underscore _ tilde ~ — the end"
    )

    def test_the_text_has_every_reserved_character(self) -> None:
        assert set(RESERVED) == set("|{}@[]()<>#\\*_~")
        assert set(RESERVED) <= set(self.TEXT)

    @pytest.mark.anyio
    async def test_escaped_on_the_wire_and_read_back(self, fake: FakeNetwork) -> None:
        assert isinstance(fake, FakeLinkedIn)
        bodies: list[dict[str, Any]] = []

        async def record(request: httpx.Request) -> None:
            if request.method == "POST" and request.url.path == "/rest/posts":
                import json

                bodies.append(json.loads(request.content))

        client = fake.client(event_hooks={"request": [record]})
        async with fake.connect(http=client) as net:
            assert isinstance(net, LinkedInAdapter)
            posted = await net.publish(Post(text=self.TEXT))
            assert posted.id is not None
            got = await net.get_post(posted.id)
            listed = [p async for p in net.posts(limit=1)]
        await client.aclose()
        sent = bodies[0]["commentary"]
        for char in RESERVED:
            # Each reserved character goes out preceded by a backslash, never bare.
            bare = [
                i
                for i, ch in enumerate(sent)
                if ch == char and (i == 0 or sent[i - 1] != "\\") and char != "\\"
            ]
            assert not bare, f"{char!r} sent unescaped"
        assert sent.count("\\") == 2 * self.TEXT.count("\\") + sum(
            self.TEXT.count(ch) for ch in RESERVED if ch != "\\"
        )
        assert fake.posts[posted.id].commentary == sent, "LinkedIn kept the whole text"
        assert got.text == self.TEXT
        assert listed[0].text == self.TEXT

    @pytest.mark.anyio
    async def test_unescaped_text_would_be_cut(self, fake: FakeNetwork) -> None:
        """Why escaping matters: the fake, like LinkedIn, cuts a bare reserved character."""
        from socialkit.testing.fakes.linkedin import little_cut

        assert little_cut("before (after") == "before "
        assert little_cut("ok \\(kept\\)") == "ok \\(kept\\)"
        assert little_cut("@[Acme](urn:li:organization:1) {hashtag|\\#|tag} ok") == (
            "@[Acme](urn:li:organization:1) {hashtag|\\#|tag} ok"
        )
