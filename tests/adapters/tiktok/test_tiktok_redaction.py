"""The ``upload_token`` of TikTok's ``upload_url`` stays out of errors and logs.

The init answer's ``upload_url`` (https://developers.tiktok.com/doc/content-posting-api-
reference-direct-post) carries ``upload_id`` and ``upload_token``; the chunks are PUT there
without the user's access token, so the URL itself is the credential of the upload."""

from __future__ import annotations

import logging
import re
import traceback

import httpx
import pytest

from socialkit import Media, Post
from socialkit._errors import TransportError
from socialkit.adapters.tiktok import TikTokAdapter
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeTikTok

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class RefusedUploads(httpx.AsyncBaseTransport):
    """Forwards to the fake, but every upload ``PUT`` fails to connect (the transport's
    message quoting the URL, as transports do)."""

    def __init__(self, fake: FakeTikTok) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.uploads: list[str] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            self.uploads.append(str(request.url))
            raise httpx.ConnectError(f"cannot connect to {request.url}", request=request)
        return await self.inner.handle_async_request(request)


async def test_the_upload_token_stays_out_of_errors_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTikTok()
    transport = RefusedUploads(fake)
    adapter = fake.connect(http=httpx.AsyncClient(transport=transport), retry_wait=False)
    assert isinstance(adapter, TikTokAdapter)
    post = Post(text="a clip", media=[Media.from_bytes(c.MP4_HEAD, mime_type="video/mp4")])
    with caplog.at_level(logging.DEBUG):
        async with adapter:
            with pytest.raises(TransportError) as info:
                await adapter.publish(post)
    assert transport.uploads, "the upload was attempted"
    found = re.search(r"upload_token=([^&]+)", transport.uploads[0])
    assert found is not None
    token = found.group(1)
    printed = "".join(traceback.format_exception(info.value))
    assert "upload_token=" in str(info.value), "the URL is still shown, its token hidden"
    for text in (str(info.value), printed, caplog.text):
        assert token not in text
