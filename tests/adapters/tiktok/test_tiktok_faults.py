"""A lost answer on TikTok, counted at FakeTikTok.

The shared fault matrix (socialkit.testing.faults) runs with a video post (TikTok takes no
text-only post: the target's ``make_post``), its faults applied to the create (the video init)
over real sockets. The tests below add what the matrix does not reach: lost answers of the
status polling, and a lost init of a video TikTok pulls from a URL. The fake does the work,
then the answer is lost (a read timeout, a 502 from a gateway, a body cut short), the
application retries once with the key, and the fake holds exactly one video."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import pytest

from socialkit import (
    MalformedResponseError,
    Media,
    Post,
    ServerError,
    SocialkitError,
    TimeoutError,
)
from socialkit._errors import OutcomeUnknownError
from socialkit.adapters.tiktok import TikTokAdapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeTikTok
from socialkit.testing.fakes._base import FakeNetwork
from socialkit.testing.faults import FaultSuite, NetworkTarget

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class LosingTransport(httpx.AsyncBaseTransport):
    """Forwards to the fake; the answers of ``path`` are lost (after the fake acted) while
    ``losses`` lasts, in the way ``fault`` says."""

    def __init__(self, fake: FakeTikTok, path: str, fault: str, losses: int = 1) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.path = path
        self.fault = fault
        self.losses = losses

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.url.path != self.path or self.losses <= 0:
            return response
        await response.aread()
        self.losses -= 1
        if self.fault == "read_timeout":
            raise httpx.ReadTimeout("the answer never came", request=request)
        if self.fault == "lost_answer_502":
            return httpx.Response(502, content=b"<html>bad gateway</html>")
        return httpx.Response(200, content=response.content[: len(response.content) // 2])


def connect(
    fake: FakeTikTok, transport: httpx.AsyncBaseTransport, **overrides: Any
) -> TikTokAdapter:
    client = httpx.AsyncClient(transport=transport)
    adapter = fake.connect(http=client, retry_wait=False, retries=2, **overrides)
    assert isinstance(adapter, TikTokAdapter)

    async def no_sleep(seconds: float) -> None:
        return None

    adapter._sleep = no_sleep
    return adapter


def own_videos(fake: FakeTikTok) -> list[str]:
    return [v.id for v in fake.videos.values() if v.user.id == fake.owner.id]


POST = Post(text="one clip only", media=[Media.from_bytes(c.MP4_HEAD)])


def _video_post(text: str) -> Post:
    return Post(text=text, media=[Media.from_bytes(c.MP4_HEAD)])


def _own_videos(fake: FakeNetwork) -> list[str]:
    assert isinstance(fake, FakeTikTok)
    return own_videos(fake)


class _QuickTikTok(FakeTikTok):
    """The matrix's adapter polls the publish status without waiting (its settings)."""

    def connect(self, *, http: httpx.AsyncClient | None = None, **overrides: Any) -> Any:
        adapter = super().connect(http=http, **overrides)

        async def no_sleep(seconds: float) -> None:
            return None

        adapter._sleep = no_sleep  # type: ignore[attr-defined]
        return adapter


TARGET = NetworkTarget(
    "tiktok",
    lambda url: _QuickTikTok(base_url=url),
    lambda method, path: method == "POST" and path == "/v2/post/publish/video/init/",
    _own_videos,
    make_post=_video_post,
)


class TestTikTokFaults(FaultSuite):
    network: ClassVar[str] = "tiktok"
    target: ClassVar[NetworkTarget | None] = TARGET


@pytest.mark.parametrize("fault", ["read_timeout", "lost_answer_502", "truncated"])
async def test_lost_init_answer_then_one_retry(fault: str) -> None:
    fake = FakeTikTok()
    transport = LosingTransport(fake, "/v2/post/publish/video/init/", fault)
    async with connect(fake, transport) as tiktok:
        with pytest.raises(OutcomeUnknownError) as info:
            await tiktok.publish(POST, idempotency_key="app-key")
        assert info.value.idempotency_key == "app-key"
        assert own_videos(fake) == []  # the file never reached TikTok
        posted = await tiktok.publish(POST, idempotency_key="app-key")
    assert own_videos(fake) == [posted.id]


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ("read_timeout", TimeoutError),
        ("lost_answer_502", ServerError),
        ("truncated", MalformedResponseError),
    ],
)
async def test_lost_status_answers_resume_the_same_publish(
    fault: str, error: type[SocialkitError]
) -> None:
    fake = FakeTikTok()
    transport = LosingTransport(fake, "/v2/post/publish/status/fetch/", fault, losses=10)
    async with connect(fake, transport) as tiktok:
        # Each lost poll surfaces as its own typed error, never a bare httpx/JSON exception.
        with pytest.raises(error):
            await tiktok.publish(POST, idempotency_key="app-key")
        transport.losses = 0
        posted = await tiktok.publish(POST, idempotency_key="app-key")
        again = await tiktok.publish(POST, idempotency_key="app-key")
    assert len(fake.publishes) == 1, "the retry polled the first publish instead of a new init"
    assert own_videos(fake) == [posted.id]
    assert again.id == posted.id


async def test_a_lost_pull_init_is_not_sent_again() -> None:
    fake = FakeTikTok()
    transport = LosingTransport(fake, "/v2/post/publish/video/init/", "read_timeout")
    pulled = Post(
        text="pulled",
        media=[
            Media.from_url("https://media.example/clip.mp4", kind="video", mime_type="video/mp4")
        ],
    )
    async with connect(fake, transport) as tiktok:
        with pytest.raises(OutcomeUnknownError):
            await tiktok.publish(pulled, idempotency_key="k")
        with pytest.raises(OutcomeUnknownError):
            await tiktok.publish(pulled, idempotency_key="k")
    assert len(fake.publishes) == 1, "never a second init while TikTok may be pulling"
