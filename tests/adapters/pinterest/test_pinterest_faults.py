"""The fault matrix (socialkit.testing.faults) for Pinterest: the real PinterestAdapter against
FakePinterest through the fault proxy; the create is ``POST /v5/pins`` and the post an image
(a pin cannot be text alone). Plus the video flow's own lost answers: a retry with the key
resumes the registered video instead of uploading it again."""

from __future__ import annotations

from typing import Any, ClassVar

import httpx
import pytest

from socialkit import Media, Post
from socialkit.adapters.pinterest import PinterestAdapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakePinterest
from socialkit.testing.fakes._base import FakeNetwork
from socialkit.testing.faults import FaultSuite, NetworkTarget


def _pins(fake: FakeNetwork) -> list[str]:
    assert isinstance(fake, FakePinterest)
    return fake.pins_of()


TARGET = NetworkTarget(
    "pinterest",
    lambda url: FakePinterest(base_url=f"{url}/v5"),
    lambda method, path: method == "POST" and path == "/v5/pins",
    _pins,
    make_post=lambda text: Post(text=text, media=[Media.from_bytes(c.PNG_1X1, alt="a pixel")]),
)


class TestPinterestFaults(FaultSuite):
    network = "pinterest"
    target: ClassVar[NetworkTarget | None] = TARGET


class LosingTransport(httpx.AsyncBaseTransport):
    """Forwards to the fake; the answers of ``path`` are lost (after the fake acted) while
    ``losses`` lasts."""

    def __init__(self, fake: FakePinterest, method: str, path: str, losses: int = 1) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.method = method
        self.path = path
        self.losses = losses

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if request.method != self.method or request.url.path != self.path or self.losses <= 0:
            return response
        await response.aread()
        self.losses -= 1
        raise httpx.ReadTimeout("the answer never came", request=request)


def connect(fake: FakePinterest, transport: httpx.AsyncBaseTransport, **extra: Any) -> Any:
    adapter = fake.connect(
        http=httpx.AsyncClient(transport=transport), retry_wait=False, retries=2, **extra
    )
    assert isinstance(adapter, PinterestAdapter)

    async def no_sleep(seconds: float) -> None:
        return None

    adapter._sleep = no_sleep
    return adapter


VIDEO = Post(text="one clip only", media=[Media.from_bytes(c.MP4_HEAD, alt="a clip")])


@pytest.mark.anyio
async def test_a_lost_video_pin_answer_is_reconciled_without_a_second_upload() -> None:
    fake = FakePinterest()
    transport = LosingTransport(fake, "POST", "/v5/pins")
    async with connect(fake, transport) as pinterest:
        with pytest.raises(Exception) as info:
            await pinterest.publish(VIDEO, idempotency_key="app-key")
        assert getattr(info.value, "idempotency_key", None) == "app-key"
        posted = await pinterest.publish(VIDEO, idempotency_key="app-key")
    assert fake.pins_of() == [posted.id]
    assert len(fake.media) == 1, "the video was registered and uploaded once"


@pytest.mark.anyio
async def test_a_video_still_processing_resumes_with_the_key() -> None:
    fake = FakePinterest()
    fake.processing_polls = 1000
    async with connect(fake, httpx.ASGITransport(app=fake.app), media_timeout=3) as pinterest:
        with pytest.raises(Exception) as info:
            await pinterest.publish(VIDEO, idempotency_key="k")
        assert type(info.value).__name__ == "OutcomeUnknownError"
        assert fake.pins_of() == []
        media_id = next(iter(fake.media))
        fake.media[media_id].status = "succeeded"
        posted = await pinterest.publish(VIDEO, idempotency_key="k")
    assert fake.pins_of() == [posted.id]
    assert len(fake.media) == 1
