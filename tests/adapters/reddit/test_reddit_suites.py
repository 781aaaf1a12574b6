"""The fake-backed conformance suites for Reddit: the real RedditAdapter against FakeReddit
(whose answers follow the reference pages named in reddit_fixtures)."""

from __future__ import annotations

import pytest

from socialkit import Media, Post
from socialkit.adapters._base import Adapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeReddit
from socialkit.testing.fakes._base import FakeNetwork

pytestmark = pytest.mark.spec


class RedditFakeFixtures(c.FakeFixtures):
    def make_fake(self) -> FakeNetwork:
        return FakeReddit()


class TestRedditEngagement(RedditFakeFixtures, c.EngagementSuite):
    pass


class TestRedditPeople(RedditFakeFixtures, c.PeopleSuite):
    pass


class TestRedditPaging(RedditFakeFixtures, c.PagingSuite):
    pass


class TestRedditRoundTrip(RedditFakeFixtures, c.RoundTripSuite):
    @pytest.mark.anyio
    @pytest.mark.parametrize("kind", ["image", "gif", "video"])
    async def test_media_round_trip(self, net: Adapter, kind: str) -> None:
        """Reddit keeps no alt text on a single image or video (only gallery captions, see
        the gallery test below); kind, URL and text come back. Reddit has no audio posts."""
        media = Media.from_bytes(c.SAMPLE_MEDIA[kind], alt="not kept")
        posted = await net.publish(Post(text=f"a post with one {kind}", media=[media]))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert got.text == f"a post with one {kind}"
        assert [m.kind for m in got.media] == [kind]
        assert got.media[0].url
        assert got.id == posted.id
        assert got.network == "reddit"

    @pytest.mark.anyio
    async def test_gallery_round_trip(self, net: Adapter) -> None:
        media = [
            Media.from_bytes(c.PNG_1X1, alt="the first caption"),
            Media.from_bytes(c.GIF_1X1, alt="the second caption"),
        ]
        posted = await net.publish(Post(text="a gallery", media=media))
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert [(m.kind, m.alt) for m in got.media] == [
            ("image", "the first caption"),
            ("gif", "the second caption"),
        ]
        assert all(m.url for m in got.media)


class TestRedditUpload(RedditFakeFixtures, c.UploadSuite):
    @pytest.mark.anyio
    async def test_upload_then_attach(self, net: Adapter) -> None:
        """An upload is attached once (``reusable`` is false); a single image keeps no alt
        text on Reddit, two uploads in a gallery keep theirs as captions."""
        first = await net.upload(Media.from_bytes(c.PNG_1X1, alt="uploaded first"))
        second = await net.upload(Media.from_bytes(c.PNG_1X1, alt="uploaded second"))
        assert first.network == "reddit"
        assert first.kind == "image"
        assert first.url
        assert not first.reusable
        posted = await net.publish(
            Post(text="with uploads", media=[Media.from_upload(first), Media.from_upload(second)])
        )
        assert posted.id is not None
        got = await net.get_post(posted.id)
        assert [m.alt for m in got.media] == ["uploaded first", "uploaded second"]
