"""Hypothesis on the Meta adapters' parsers (issue 12): whatever the Graph API answers — any
status, usage headers with any values, any JSON or any bytes — reading a post, a page of posts
or the messages raises only socialkit's typed errors, and the Graph error decoder, the
timestamp and ``fields=`` parsers never raise anything else. The adapters run against their
fakes; the requests under test are answered by Hypothesis (the whole path is exercised:
transport, pipeline, usage headers, error decoding, mapping). A megabyte of junk goes through
too (a super-linear parser would hang the test)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialkit import SocialkitError
from socialkit._errors import APIError
from socialkit.adapters.meta import decode_graph_error
from socialkit.adapters.meta._common import parse_time
from socialkit.testing.fakes import FakeFacebook, FakeInstagram, FakeThreads
from socialkit.testing.fakes._graph import GraphError, GraphFake, parse_fields

STATUSES = [200, 400, 401, 403, 404, 429, 500, 502, 503]
usage = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    st.just('{"call_count": 100, "total_time": "x"}'),
    st.just('{"1": [{"call_count": 95, "estimated_time_to_regain_access": 3}]}'),
)
headers = st.dictionaries(
    st.sampled_from(["x-app-usage", "x-business-use-case-usage", "retry-after"]), usage, max_size=3
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
graph_shaped = st.fixed_dictionaries(
    {},
    optional={
        "id": st.text(max_size=10) | st.integers(),
        "data": st.lists(json_values, max_size=3) | json_values,
        "paging": json_values,
        "error": st.fixed_dictionaries(
            {},
            optional={
                "code": st.integers(-5, 90000) | st.text(max_size=5),
                "error_subcode": json_values,
                "message": json_values,
                "is_transient": json_values,
                "fbtrace_id": json_values,
            },
        ),
        "message": json_values,
        "created_time": st.text(max_size=30) | st.integers(),
        "attachments": json_values,
        "children": json_values,
        "metadata": json_values,
    },
)
bodies = st.one_of(
    graph_shaped.map(lambda v: json.dumps(v).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=100),
    st.just(b""),
)


class Intercept(httpx.AsyncBaseTransport):
    def __init__(self, fake: GraphFake, target: Callable[[httpx.Request], bool]) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.target = target
        self.answer: httpx.Response | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None and self.target(request):
            return httpx.Response(
                self.answer.status_code,
                headers=self.answer.headers,
                content=self.answer.content,
                request=request,
            )
        return await self.inner.handle_async_request(request)


FAKES: dict[str, Callable[[], GraphFake]] = {
    "facebook": FakeFacebook,
    "instagram": FakeInstagram,
    "threads": FakeThreads,
}
_ENVS: dict[str, tuple[GraphFake, Intercept, str]] = {}


def _env(network: str) -> tuple[GraphFake, Intercept, str]:
    if network not in _ENVS:
        fake = FAKES[network]()
        owner = fake.owner.id
        # Every read of a node or edge but the account itself (me() stays healthy).
        transport = Intercept(
            fake, lambda r: r.method == "GET" and r.url.path.rstrip("/").split("/")[-1] != owner
        )
        _ENVS[network] = (fake, transport, fake.publish_as(fake.owner, "a post to read"))
    return _ENVS[network]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.parametrize("network", sorted(FAKES))
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(status=st.sampled_from(STATUSES), extra=headers, body=bodies)
async def test_any_answer_gives_a_result_or_a_typed_error(
    network: str, status: int, extra: dict[str, str], body: bytes
) -> None:
    fake, transport, post_id = _env(network)
    transport.answer = httpx.Response(status, headers=extra, content=body)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        fake.connect(
            http=client, retries=1, rate_limit="raise", max_wait=0, retry_wait=False
        ) as net,
    ):
        with contextlib.suppress(SocialkitError):
            await net.get_post(post_id)
        with contextlib.suppress(SocialkitError):
            [p async for p in net.posts(limit=3)]
        with contextlib.suppress(SocialkitError):
            [m async for m in net.messages(limit=3)]
    transport.answer = None


@pytest.mark.anyio
@pytest.mark.parametrize("network", sorted(FAKES))
async def test_a_megabyte_of_junk_is_a_typed_error(network: str) -> None:
    fake, transport, post_id = _env(network)
    junk = json.dumps({"data": [{"id": "1", "message": "x" * 1_000_000}], "x": ["y"] * 50_000})
    for body in (junk.encode(), b"[" * 1_000_000, b"\xff" * 1_000_000):
        transport.answer = httpx.Response(200, content=body)
        async with (
            httpx.AsyncClient(transport=transport) as client,
            fake.connect(http=client, retries=1, retry_wait=False) as net,
        ):
            with contextlib.suppress(SocialkitError):
                await net.get_post(post_id)
    transport.answer = None


@settings(max_examples=300, deadline=None)
@given(status=st.integers(100, 599), body=bodies, extra=headers)
def test_the_error_decoder_always_gives_an_api_error(
    status: int, body: bytes, extra: dict[str, str]
) -> None:
    error = decode_graph_error(httpx.Response(status, headers=extra, content=body), "facebook")
    assert isinstance(error, APIError)
    assert error.network == "facebook"


@settings(max_examples=300, deadline=None)
@given(value=json_values | st.text(max_size=40))
def test_timestamps_parse_or_are_none(value: object) -> None:
    moment = parse_time(value)
    assert moment is None or moment.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="abc_,{}().1", max_size=40))
def test_the_fakes_fields_parser_raises_only_graph_errors(text: str) -> None:
    with contextlib.suppress(GraphError):
        parse_fields(text)
