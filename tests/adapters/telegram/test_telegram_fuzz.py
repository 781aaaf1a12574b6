"""Hypothesis on Telegram's parsers (issue 12): any answer to a send gives a post or a typed
error; the rate-limit parser, the error decoder and the UTF-16 entity mapping never raise."""

from __future__ import annotations

import contextlib
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialkit import Post, SocialkitError
from socialkit.adapters.telegram import _mapping as mapping
from socialkit.adapters.telegram import _wire as wire
from socialkit.adapters.telegram._network import decode_telegram_error, parse_telegram_rate_limit
from socialkit.testing.fakes import FakeTelegram

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps({"ok": True, "result": v}).encode()),
    json_values.map(lambda v: json.dumps({"ok": False, "parameters": v}).encode()),
    st.binary(max_size=200),
    st.just(b""),
)
STATUSES = [200, 400, 401, 403, 404, 409, 429, 500, 502]


class Intercept(httpx.AsyncBaseTransport):
    def __init__(self, fake: FakeTelegram) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.answer: httpx.Response | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None and request.url.path.endswith("/sendMessage"):
            return httpx.Response(
                self.answer.status_code, content=self.answer.content, request=request
            )
        return await self.inner.handle_async_request(request)


_FAKE = FakeTelegram()
_TRANSPORT = Intercept(_FAKE)


@pytest.mark.anyio
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(status=st.sampled_from(STATUSES), body=bodies)
async def test_any_answer_to_a_send_is_a_post_or_a_typed_error(status: int, body: bytes) -> None:
    _TRANSPORT.answer = httpx.Response(status, content=body)
    async with (
        httpx.AsyncClient(transport=_TRANSPORT) as client,
        _FAKE.connect(
            http=client, retries=1, rate_limit="raise", max_wait=0, retry_wait=False
        ) as net,
    ):
        with contextlib.suppress(SocialkitError):
            await net.publish(Post(text="hello"))
    _TRANSPORT.answer = None


@settings(max_examples=200, deadline=None)
@given(status=st.sampled_from(STATUSES), body=bodies)
def test_decoder_and_parser_never_raise(status: int, body: bytes) -> None:
    request = httpx.Request(
        "POST", "https://api.telegram.org/bot1:abcdefghijklmnopqrstu/sendMessage"
    )
    response = httpx.Response(status, content=body, request=request)
    decode_telegram_error(response, "telegram")
    parse_telegram_rate_limit(response)


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=40), offset=st.integers(-5, 100), length=st.integers(-5, 100))
def test_entity_spans_never_raise(text: str, offset: int, length: int) -> None:
    span = mapping.entity_span(text, offset, length)
    if span is not None:
        start, end = span
        assert len(text[start:end].encode("utf-16-le")) // 2 == length
    entity = wire.MessageEntity(type="url", offset=offset, length=length)
    mapping.link_of(text, [entity])


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
