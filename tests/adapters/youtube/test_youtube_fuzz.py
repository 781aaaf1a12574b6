"""Hypothesis on YouTube's parsers: any answer to a read gives a post or a typed error; the
error decoder never raises; any ``Range`` a 308 carries is read as a byte count or none; the
ISO 8601 durations of ``contentDetails`` parse or give None."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialkit import SocialkitError
from socialkit.adapters.youtube._mapping import iso_duration
from socialkit.adapters.youtube._network import decode_youtube_error, received_of
from socialkit.testing.fakes import FakeYouTube

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(
        lambda v: json.dumps({"kind": "youtube#videoListResponse", "items": v}).encode()
    ),
    json_values.map(lambda v: json.dumps({"error": v}).encode()),
    json_values.map(lambda v: json.dumps({"error": {"code": 403, "errors": [v]}}).encode()),
    st.binary(max_size=200),
    st.just(b""),
)
STATUSES = [200, 308, 400, 401, 403, 404, 429, 500, 502]


class Intercept(httpx.AsyncBaseTransport):
    def __init__(self, fake: FakeYouTube) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.answer: httpx.Response | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None and request.url.path == "/youtube/v3/videos":
            return httpx.Response(
                self.answer.status_code, content=self.answer.content, request=request
            )
        return await self.inner.handle_async_request(request)


_FAKE = FakeYouTube(daily_quota=10**9)
_VIDEO = _FAKE.publish_as(_FAKE.owner, "a video to read")
_TRANSPORT = Intercept(_FAKE)


@pytest.mark.anyio
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(status=st.sampled_from(STATUSES), body=bodies)
async def test_any_answer_to_a_read_is_a_post_or_a_typed_error(status: int, body: bytes) -> None:
    _TRANSPORT.answer = httpx.Response(status, content=body)
    async with (
        httpx.AsyncClient(transport=_TRANSPORT) as client,
        _FAKE.connect(
            http=client, retries=1, rate_limit="raise", max_wait=0, retry_wait=False
        ) as net,
    ):
        with contextlib.suppress(SocialkitError):
            await net.get_post(_VIDEO)
    _TRANSPORT.answer = None


@settings(max_examples=300, deadline=None)
@given(
    status=st.sampled_from(STATUSES),
    body=bodies,
    range_=st.text(max_size=30) | st.from_regex(r"bytes=0-[0-9]{1,12}", fullmatch=True),
)
def test_decoder_never_raises(status: int, body: bytes, range_: str) -> None:
    headers = {"range": range_} if range_.isascii() else {}
    response = httpx.Response(
        status, content=body, headers=headers, request=httpx.Request("PUT", "https://x.example")
    )
    decode_youtube_error(response, "youtube")
    assert received_of(response) >= 0


@settings(max_examples=300, deadline=None)
@given(
    value=st.text(max_size=20)
    | st.from_regex(r"P([0-9]+D)?T([0-9]+H)?([0-9]+M)?([0-9]+S)?", fullmatch=True)
)
def test_durations_parse_or_give_none(value: str) -> None:
    seconds = iso_duration(value)
    assert seconds is None or seconds >= 0


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
