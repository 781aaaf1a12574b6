"""Hypothesis on TikTok's parsers (issue 12): any answer to a read gives a post or a typed
error; the error decoder never raises; chunking gives a plan within the transfer guide's rules
or a ValidationError."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialkit import SocialkitError, ValidationError
from socialkit.adapters.tiktok import chunking
from socialkit.adapters.tiktok._network import decode_tiktok_error, error_of
from socialkit.testing.fakes import FakeTikTok

MiB = 1024 * 1024
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps({"data": v, "error": {"code": "ok"}}).encode()),
    json_values.map(lambda v: json.dumps({"error": v}).encode()),
    st.binary(max_size=200),
    st.just(b""),
)
STATUSES = [200, 400, 401, 403, 404, 429, 500, 502]


class Intercept(httpx.AsyncBaseTransport):
    def __init__(self, fake: FakeTikTok) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.answer: httpx.Response | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None and request.url.path == "/v2/video/query/":
            return httpx.Response(
                self.answer.status_code, content=self.answer.content, request=request
            )
        return await self.inner.handle_async_request(request)


_FAKE = FakeTikTok()
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
@given(status=st.sampled_from(STATUSES), body=bodies)
def test_decoder_never_raises(status: int, body: bytes) -> None:
    response = httpx.Response(
        status, content=body, request=httpx.Request("GET", "https://x.example")
    )
    decode_tiktok_error(response, "tiktok")
    with contextlib.suppress(ValueError):
        error_of(json.loads(body), status)


@settings(max_examples=500, deadline=None)
@given(size=st.integers(0, 200_000 * MiB), preferred=st.integers(5 * MiB, 64 * MiB))
def test_chunking_keeps_the_rules(size: int, preferred: int) -> None:
    try:
        total, chunk, count = chunking(size, preferred)
    except ValidationError:
        return
    assert total == size
    assert 1 <= count <= 1000
    assert count == size // chunk
    if size < 5 * MiB:
        assert (chunk, count) == (size, 1)
    else:
        assert 5 * MiB <= chunk <= 64 * MiB
        assert size - (count - 1) * chunk <= 128 * MiB


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
