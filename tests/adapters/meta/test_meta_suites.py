"""The fake-backed conformance suites (socialkit.testing.conformance) for Facebook, Instagram
and Threads: the real adapters against FakeFacebook, FakeInstagram and FakeThreads. Every
request of every test is recorded and checked against Meta's descriptions (the Graph node
specs in ../shared/specs/meta/graph, the Threads Postman collection in
../shared/specs/meta/threads; see tests/_validation/graph.py).

Instagram and Threads take media only by public URL (they fetch it themselves), and Instagram
needs media on every post: their round trips publish URL media, and the suite's cases that
publish bytes or text alone are replaced by ones that check the pre-flight refusal.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.adapters.meta.meta_support import Recorder, recording_client, violations

from socialkit import Media, Post
from socialkit._errors import InvalidPostError
from socialkit.adapters._base import Adapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeFacebook, FakeInstagram, FakeThreads
from socialkit.testing.fakes._base import FakeNetwork
from socialkit.testing.fakes._graph import GraphFake

pytestmark = pytest.mark.spec


class MetaFakeFixtures(c.FakeFixtures):
    fake_class: type[GraphFake]

    def make_fake(self) -> FakeNetwork:
        return self.fake_class()

    def client_for(self, fake: FakeNetwork) -> httpx.AsyncClient:
        assert isinstance(fake, GraphFake)
        client, recorder = recording_client(fake)
        self._recorder: Recorder = recorder
        self._fake = fake
        return client

    def check_traffic(self, client: httpx.AsyncClient) -> None:
        found = violations(self._fake, self._recorder)
        assert not found, "traffic departs from Meta's description:\n" + "\n".join(found)


class FacebookFixtures(MetaFakeFixtures):
    fake_class = FakeFacebook


class InstagramFixtures(MetaFakeFixtures):
    fake_class = FakeInstagram


class ThreadsFixtures(MetaFakeFixtures):
    fake_class = FakeThreads


class URLMediaRoundTrip(c.RoundTripSuite):
    """Round trips with URL media, for networks that fetch media themselves."""

    #: Whether alt text comes back for each kind (Instagram takes alt text on images only).
    alt_kinds: frozenset[str] = frozenset({"image", "video"})

    @pytest.mark.anyio
    @pytest.mark.parametrize("kind", ["image", "video"])
    async def test_media_round_trip(self, net: Adapter, kind: str) -> None:  # type: ignore[override]
        url = f"https://media.example/{kind}.{'jpg' if kind == 'image' else 'mp4'}"
        mime = "image/jpeg" if kind == "image" else "video/mp4"
        media = Media.from_url(url, alt=f"the {kind}'s alt text", mime_type=mime)
        posted = await net.publish(Post(text=f"a post with one {kind}", media=[media]))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.id == posted.id
        assert got.network == net.name
        assert got.text == f"a post with one {kind}"
        assert [m.kind for m in got.media] == [kind]
        assert got.media[0].url == url
        assert got.media[0].id
        if kind in self.alt_kinds:
            assert got.media[0].alt == f"the {kind}'s alt text"

    @pytest.mark.anyio
    async def test_bytes_are_refused_before_sending(self, net: Adapter) -> None:
        post = Post(text="bytes", media=[Media.from_bytes(c.PNG_1X1, alt="a pixel")])
        # (Instagram also refuses the PNG itself: "JPEG is the only image format supported")
        assert "media_url_required" in [p.code for p in net.check(post)]
        with pytest.raises(InvalidPostError):
            await net.publish(post)

    @pytest.mark.anyio
    async def test_carousel_round_trip(self, net: Adapter) -> None:
        media = [
            Media.from_url(f"https://media.example/{i}.jpg", alt=f"picture {i}") for i in range(3)
        ]
        posted = await net.publish(Post(text="three pictures", media=media))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert [m.alt for m in got.media] == ["picture 0", "picture 1", "picture 2"]
        assert [m.url for m in got.media] == [m.url for m in media]


class TestFacebookEngagement(FacebookFixtures, c.EngagementSuite):
    pass


class TestFacebookPeople(FacebookFixtures, c.PeopleSuite):
    pass


class TestFacebookPaging(FacebookFixtures, c.PagingSuite):
    pass


class TestFacebookRoundTrip(FacebookFixtures, c.RoundTripSuite):
    @pytest.mark.anyio
    async def test_several_photos_round_trip(self, net: Adapter) -> None:
        media = [Media.from_bytes(c.PNG_1X1, alt=f"pixel {i}") for i in range(3)]
        posted = await net.publish(Post(text="three pixels", media=media))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.text == "three pixels"
        assert [m.kind for m in got.media] == ["image"] * 3
        assert [m.alt for m in got.media] == ["pixel 0", "pixel 1", "pixel 2"]
        assert all(m.url and m.width == 1 and m.height == 1 for m in got.media)


class TestFacebookUpload(FacebookFixtures, c.UploadSuite):
    pass


class TestInstagramEngagement(InstagramFixtures, c.EngagementSuite):
    pass


class TestInstagramPeople(InstagramFixtures, c.PeopleSuite):
    pass


class TestInstagramPaging(InstagramFixtures, c.PagingSuite):
    pass


class TestInstagramRoundTrip(InstagramFixtures, URLMediaRoundTrip):
    alt_kinds = frozenset({"image"})

    @pytest.mark.anyio
    async def test_reply_and_quote_round_trip(self, net: Adapter, fake: FakeNetwork) -> None:
        image = Media.from_url("https://media.example/parent.jpg", alt="parent")
        parent = await net.publish(Post(text="the first word", media=[image]))
        assert parent.id is not None
        reply = await net.publish(Post(text="a comment", reply_to=parent.id))
        assert reply.id is not None
        got = await net.get_post(reply.id)
        assert got.reply_to == parent.id
        assert got.text == "a comment"

    @pytest.mark.anyio
    async def test_link_round_trip(self, net: Adapter) -> None:
        # Instagram captions carry no links, and a post needs media: refused up front.
        post = Post(text="read this https://example.com/a")
        assert "media_required" in [p.code for p in net.check(post)]

    @pytest.mark.anyio
    async def test_video_bytes_round_trip(self, net: Adapter, fake: Any) -> None:
        """Video bytes go up resumably (rupload) and come back as the reel's URL."""
        media = Media.from_bytes(c.MP4_HEAD, alt="ignored: reels take no alt text")
        posted = await net.publish(Post(text="a reel", media=[media]))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert [m.kind for m in got.media] == ["video"]
        assert got.media[0].url
        assert list(fake.uploads.values()) == [c.MP4_HEAD]


class TestInstagramUpload(InstagramFixtures, c.UploadSuite):
    pass


class TestThreadsEngagement(ThreadsFixtures, c.EngagementSuite):
    pass


class TestThreadsPeople(ThreadsFixtures, c.PeopleSuite):
    pass


class TestThreadsPaging(ThreadsFixtures, c.PagingSuite):
    pass


class TestThreadsRoundTrip(ThreadsFixtures, URLMediaRoundTrip):
    pass


class TestThreadsUpload(ThreadsFixtures, c.UploadSuite):
    pass
