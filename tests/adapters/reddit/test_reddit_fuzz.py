"""Hypothesis on Reddit's parsers (issue 12): any answer to a read gives a post or a typed
error; the headers parser, the error decoders and the RATELIMIT wait never raise."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialkit import SocialkitError
from socialkit.adapters.reddit import (
    decode_reddit_error,
    json_errors,
    parse_reddit_rate_limit,
    ratelimit_wait,
)
from socialkit.testing.fakes import FakeReddit

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps({"json": {"errors": v}}).encode()),
    json_values.map(lambda v: json.dumps({"kind": "Listing", "data": {"children": v}}).encode()),
    st.binary(max_size=200),
    st.just(b""),
)
header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=20),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.integers(-(10**12), 10**12).map(str),
)
headers = st.dictionaries(
    st.sampled_from(
        ["x-ratelimit-used", "x-ratelimit-remaining", "x-ratelimit-reset", "retry-after"]
    ),
    header_values,
    max_size=4,
)
STATUSES = [200, 400, 401, 403, 404, 429, 500, 502]


class Intercept(httpx.AsyncBaseTransport):
    def __init__(self, fake: FakeReddit) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.answer: httpx.Response | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None and request.url.path == "/api/info":
            return httpx.Response(
                self.answer.status_code,
                headers=self.answer.headers,
                content=self.answer.content,
                request=request,
            )
        return await self.inner.handle_async_request(request)


_FAKE = FakeReddit()
_POST = _FAKE.publish_as(_FAKE.owner, "a post to read")
_TRANSPORT = Intercept(_FAKE)


@pytest.mark.anyio
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(status=st.sampled_from(STATUSES), extra=headers, body=bodies)
async def test_any_answer_to_a_read_is_a_post_or_a_typed_error(
    status: int, extra: dict[str, str], body: bytes
) -> None:
    _TRANSPORT.answer = httpx.Response(status, headers=extra, content=body)
    async with (
        httpx.AsyncClient(transport=_TRANSPORT) as client,
        _FAKE.connect(
            http=client, retries=1, rate_limit="raise", max_wait=0, retry_wait=False
        ) as net,
    ):
        with contextlib.suppress(SocialkitError):
            await net.get_post(_POST)
    _TRANSPORT.answer = None


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from(STATUSES), extra=headers, body=bodies, text=st.text(max_size=80))
def test_parsers_never_raise(status: int, extra: dict[str, str], body: bytes, text: str) -> None:
    response = httpx.Response(
        status, headers=extra, content=body, request=httpx.Request("GET", "https://x.example")
    )
    parse_reddit_rate_limit(response)
    decode_reddit_error(response, "reddit")
    with contextlib.suppress(ValueError):
        json_errors(json.loads(body))
    ratelimit_wait(text)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
