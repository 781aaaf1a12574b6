"""Hypothesis on Pinterest's parsers: any answer to a read (a pin, a page of pins, analytics)
gives a result or a typed error; the error decoder and the rate-limit header parser never
raise; the bucket of any path is one of the categories."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialkit import SocialkitError
from socialkit.adapters.pinterest import bucket_for, decode_pinterest_error, parse_rate_limit
from socialkit.testing.fakes import FakePinterest

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
pin_like = st.fixed_dictionaries(
    {"id": st.sampled_from(["1", "x", ""]) | st.integers()},
    optional={
        "created_at": st.sampled_from(["2026-01-01T00:00:00Z", "2026-01-01T00:00:00", "nope"]),
        "media": json_values,
        "description": json_values,
        "link": json_values,
    },
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    pin_like.map(lambda v: json.dumps(v).encode()),
    st.lists(pin_like, max_size=3).map(lambda v: json.dumps({"items": v}).encode()),
    json_values.map(lambda v: json.dumps({"all": v}).encode()),
    st.binary(max_size=200),
    st.just(b""),
)
STATUSES = [200, 400, 401, 403, 404, 429, 500, 502]
READS = ["get_post", "posts", "metrics"]


class Intercept(httpx.AsyncBaseTransport):
    def __init__(self, fake: FakePinterest) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.answer: httpx.Response | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None and request.url.path.startswith("/v5/pins"):
            return httpx.Response(
                self.answer.status_code, content=self.answer.content, request=request
            )
        return await self.inner.handle_async_request(request)


_FAKE = FakePinterest()
_PIN = _FAKE.publish_as(_FAKE.owner, "a pin to read")
_TRANSPORT = Intercept(_FAKE)


@pytest.mark.anyio
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(status=st.sampled_from(STATUSES), body=bodies, read=st.sampled_from(READS))
async def test_any_answer_to_a_read_is_a_result_or_a_typed_error(
    status: int, body: bytes, read: str
) -> None:
    _TRANSPORT.answer = httpx.Response(status, content=body)
    async with (
        httpx.AsyncClient(transport=_TRANSPORT) as client,
        _FAKE.connect(
            http=client, retries=1, rate_limit="raise", max_wait=0, retry_wait=False
        ) as net,
    ):
        with contextlib.suppress(SocialkitError):
            if read == "get_post":
                await net.get_post(_PIN)
            elif read == "posts":
                [p async for p in net.posts(limit=5)]
            else:
                await net.metrics([_PIN])
    _TRANSPORT.answer = None


@settings(max_examples=300, deadline=None)
@given(
    status=st.sampled_from(STATUSES),
    body=bodies,
    headers=st.dictionaries(
        st.sampled_from(["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"]),
        st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=12),
    ),
)
def test_decoder_and_header_parser_never_raise(
    status: int, body: bytes, headers: dict[str, str]
) -> None:
    response = httpx.Response(
        status,
        content=body,
        headers=headers,
        request=httpx.Request("GET", "https://api.pinterest.example/v5/pins"),
    )
    error = decode_pinterest_error(response, "pinterest")
    assert error.status == status
    parse_rate_limit(response)


@settings(max_examples=200, deadline=None)
@given(
    method=st.sampled_from(["GET", "POST", "PATCH", "DELETE"]),
    path=st.text(alphabet="/abcdefghijklmnopqrstuvwxyz_0123456789{}", max_size=40),
)
def test_every_path_has_a_category(method: str, path: str) -> None:
    assert bucket_for(method, path) in ("org_read", "org_write", "org_analytics", "ads_read")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
