"""Every adapter fetches URL-sourced media through the MediaFetcher (issue 12, item 1).

The real Mastodon, Bluesky and X adapters publish against their fakes (in-process); the media
URL is fetched through a fetcher with a stub resolver and a :class:`GuardTransport`, so a media
URL at an internal address is refused with nothing sent to it and nothing published, and an
allowed one is fetched from a loopback server and uploaded.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.http.fetch_support import (
    LOOPBACK,
    GuardTransport,
    MediaServer,
    Reply,
    StubResolver,
    serve,
)

from socialkit import Media, Post
from socialkit._http import MediaFetcher, MediaFetchError
from socialkit.testing.faults import TARGETS

pytestmark = pytest.mark.anyio

NETWORKS = sorted(TARGETS)


@pytest.fixture
async def media_server() -> AsyncIterator[MediaServer]:
    server = MediaServer(routes={"/pixel.png": Reply()})
    listener = await serve(server)
    async with listener:
        yield server
        listener.close()


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize(
    ("url", "table"),
    [
        ("http://169.254.169.254/latest/meta-data/pixel.png", {}),
        ("http://metadata.test/pixel.png", {"metadata.test": ["169.254.169.254"]}),
        ("http://intranet.test/pixel.png", {"intranet.test": ["10.1.2.3"]}),
        ("http://2130706433/pixel.png", {}),
        ("http://[::ffff:7f00:1]/pixel.png", {}),
    ],
)
async def test_internal_media_urls_are_refused_and_nothing_is_published(
    network: str, url: str, table: dict[str, list[str]]
) -> None:
    target = TARGETS[network]
    fake = target.make_fake(f"https://{network}.example")
    guard = GuardTransport(expected=set())
    fetcher = MediaFetcher(resolver=StubResolver(table), transport=guard)
    async with fake.connect(media_fetcher=fetcher, retry_wait=False) as adapter:
        with pytest.raises(MediaFetchError) as info:
            await adapter.publish(Post(text="a pixel", media=[Media.from_url(url, alt="px")]))
    assert info.value.reason == "address"
    assert guard.sent == []
    assert guard.refused == []
    assert target.count_posts(fake) == []


@pytest.mark.parametrize("network", NETWORKS)
async def test_allowed_media_url_is_fetched_and_published(
    network: str, media_server: MediaServer
) -> None:
    target = TARGETS[network]
    fake = target.make_fake(f"https://{network}.example")
    guard = GuardTransport()
    fetcher = MediaFetcher(
        allow=["127.0.0.1/32"], resolver=StubResolver({"media.test": [LOOPBACK]}), transport=guard
    )
    media = Media.from_url(media_server.url("media.test", "/pixel.png"), alt="One pixel")
    settings = {"media_fetcher": fetcher, "retry_wait": False}
    if network == "mastodon":
        settings["media_poll_interval"] = 0.01
    async with fake.connect(**settings) as adapter:
        posted = await adapter.publish(Post(text="a pixel", media=[media]))
        assert posted.id is not None
        fetched = await adapter.get_post(posted.id)
    if network == "bluesky":  # the fake's post view carries no image alt: read the record
        (record,) = fake.records(fake.owner)  # type: ignore[attr-defined]
        images = record["value"]["embed"]["images"]
        assert [i["alt"] for i in images] == ["One pixel"]
    elif network == "x":  # the post view needs media expansions: read the fake's state
        (uploaded,) = fake.media.values()  # type: ignore[attr-defined]
        assert uploaded.alt_text == "One pixel"
        assert fake.posts[posted.id].media_keys == [uploaded.key]  # type: ignore[attr-defined]
    else:
        assert [(m.kind, m.alt) for m in fetched.media] == [("image", "One pixel")]
    assert len(target.count_posts(fake)) == 1
    assert [r.url.host for r in guard.sent] == [LOOPBACK]
    assert media_server.received == [("/pixel.png", f"media.test:{media_server.port}")]
