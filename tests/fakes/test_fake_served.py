"""Every fake served with ``/_socialkit/received`` (``FakeNetwork.served_app``): the hooks each
fake gives the server (``unlimited_settings``, ``created_post``), through the real adapters
in-process (``httpx.ASGITransport`` on the served app)."""

from __future__ import annotations

import inspect
from typing import Any

import httpx
import pytest

from socialkit import Media, Post
from socialkit._store import MemoryStore
from socialkit.testing import conformance as c
from socialkit.testing import fakes
from socialkit.testing.fakes import (
    FakeFacebook,
    FakeNetwork,
    FakeReddit,
    FakeTelegram,
    FakeYouTube,
)
from socialkit.testing.fakes._serve import FAKES, fake_classes, make_fakes


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def served(fake: FakeNetwork) -> Any:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.served_app()))
    return fake.connect(http=http, store=MemoryStore())


def received(fake: FakeNetwork) -> dict[str, Any]:
    report: dict[str, Any] = fake.served_app().log.report()
    return report


def test_every_fake_of_the_package_is_served() -> None:
    exported = {
        getattr(fakes, name)
        for name in fakes.__all__
        if inspect.isclass(getattr(fakes, name))
        and issubclass(getattr(fakes, name), FakeNetwork)
        and getattr(fakes, name) is not FakeNetwork
    }
    assert set(fake_classes().values()) == exported
    assert len(FAKES) == 12
    for name, cls in fake_classes().items():
        assert cls.__module__ == f"socialkit.testing.fakes.{name}"


def test_rate_limits_off_builds_every_fake_with_its_own_settings() -> None:
    built = make_fakes({name: f"http://127.0.0.1:{9000 + i}" for i, name in enumerate(FAKES)})
    lifted = make_fakes({name: "http://127.0.0.1:9100" for name in FAKES}, rate_limits="off")
    for name in FAKES:
        assert type(built[name]) is type(lifted[name])
        assert lifted[name].base_url == "http://127.0.0.1:9100"
        assert fake_classes()[name].unlimited_settings(), f"{name} has limits to lift"
    with pytest.raises(ValueError, match="no fake named 'myspace'"):
        make_fakes({"myspace": "http://127.0.0.1:9000"})


@pytest.mark.anyio
async def test_facebook_multi_photo_post_counts_once() -> None:
    """Unpublished photos (``published=false``) make no post; the feed post with them does."""
    fake = FakeFacebook()
    pixel = Media.from_bytes(c.PNG_1X1, alt="a pixel")
    async with served(fake) as net:
        posted = await net.publish(Post(text="two photos", media=[pixel, pixel]))
    report = received(fake)
    assert report["by_route"][f"POST /{fake.version}/{fake.owner.id}/photos"] == 2
    assert [(p["id"], p["text"]) for p in report["posts"]] == [(posted.id, "two photos")]


@pytest.mark.anyio
async def test_telegram_album_counts_as_one_post() -> None:
    fake = FakeTelegram()
    pixel = Media.from_bytes(c.PNG_1X1, alt="a pixel")
    async with served(fake) as net:
        posted = await net.publish(Post(text="an album", media=[pixel, pixel]))
    [created] = received(fake)["posts"]
    assert created["id"] == posted.id
    assert created["text"] == "an album"


@pytest.mark.anyio
async def test_reddit_submit_and_comment() -> None:
    fake = FakeReddit()
    async with served(fake) as net:
        posted = await net.publish(Post(text="A title\nthe body"))
        answer = await net.publish(Post(text="a comment", reply_to=posted.id))
    kinds = {p["id"]: p["kind"] for p in received(fake)["posts"]}
    assert kinds == {posted.id: "post", answer.id: "comment"}


@pytest.mark.anyio
async def test_youtube_resumable_upload_counts_the_final_put_only() -> None:
    fake = FakeYouTube()
    clip = Media.from_bytes(c.MP4_HEAD + bytes(1024), mime_type="video/mp4")
    async with served(fake) as net:
        posted = await net.publish(Post(text="a clip", media=[clip]))
    report = received(fake)
    assert [p["id"] for p in report["posts"]] == [posted.id]
    # The session start answers without a video: it made none.
    assert fake.created_post("POST", "/upload/youtube/v3/videos", b"{}", None, {}) is None
