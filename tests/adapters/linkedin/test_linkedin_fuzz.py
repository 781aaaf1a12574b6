"""Hypothesis on LinkedIn's parsers: any answer to a read gives a result or a typed error
(SocialkitError), never another exception; the error decoder never raises; the little format
round-trips any text."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialkit import SocialkitError
from socialkit.adapters.linkedin import decode_linkedin_error, escape_little, unescape_little
from socialkit.testing.fakes import FakeLinkedIn

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
post_like = st.fixed_dictionaries(
    {"id": st.just("urn:li:share:1"), "author": st.text(max_size=30)},
    optional={
        "commentary": st.text(max_size=40),
        "createdAt": st.integers(),
        "publishedAt": st.integers(),
        "content": json_values,
        "reshareContext": json_values,
    },
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps({"elements": [v], "paging": {"start": 0}}).encode()),
    post_like.map(lambda v: json.dumps(v).encode()),
    post_like.map(lambda v: json.dumps({"elements": [v], "paging": {"total": 1}}).encode()),
    st.binary(max_size=200),
    st.just(b""),
)
STATUSES = [200, 201, 400, 401, 403, 404, 422, 429, 500, 502]


class Intercept(httpx.AsyncBaseTransport):
    """Every /rest read answers ``answer``; the rest goes to the fake (tokens)."""

    def __init__(self, fake: FakeLinkedIn) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.answer: httpx.Response | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None and request.url.path.startswith("/rest/"):
            return httpx.Response(
                self.answer.status_code, content=self.answer.content, request=request
            )
        return await self.inner.handle_async_request(request)


_FAKE = FakeLinkedIn()
_POST = _FAKE.publish_as(_FAKE.owner, "a post to read")
_TRANSPORT = Intercept(_FAKE)


@pytest.mark.anyio
@settings(
    max_examples=80,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(status=st.sampled_from(STATUSES), body=bodies, call=st.sampled_from(range(4)))
async def test_any_answer_to_a_read_is_a_result_or_a_typed_error(
    status: int, body: bytes, call: int
) -> None:
    _TRANSPORT.answer = httpx.Response(status, content=body)
    async with (
        httpx.AsyncClient(transport=_TRANSPORT) as client,
        _FAKE.connect(
            http=client, retries=1, rate_limit="raise", max_wait=0, retry_wait=False
        ) as net,
    ):
        with contextlib.suppress(SocialkitError):
            if call == 0:
                await net.get_post(_POST)
            elif call == 1:
                [p async for p in net.posts(limit=3)]
            elif call == 2:
                await net.metrics([_POST])
            else:
                [m async for m in net.messages(limit=3)]
    _TRANSPORT.answer = None


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@settings(max_examples=300, deadline=None)
@given(status=st.sampled_from(STATUSES), body=bodies)
def test_decoder_never_raises(status: int, body: bytes) -> None:
    response = httpx.Response(
        status, content=body, request=httpx.Request("GET", "https://api.linkedin.example")
    )
    error = decode_linkedin_error(response, "linkedin")
    assert error.status == status


@settings(max_examples=300, deadline=None)
@given(text=st.text())
def test_the_little_format_round_trips(text: str) -> None:
    assert unescape_little(escape_little(text)) == text
