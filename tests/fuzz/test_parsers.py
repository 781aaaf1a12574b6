"""Hypothesis on the parsers (issue 12): whatever a server answers — any status, rate-limit
headers with any values, a body of any JSON or any bytes — the real adapters raise only
socialkit's typed errors, and the header parsers and Mastodon's HTML to text never raise at all.

The adapters run against their fakes (``socialkit.testing.fakes``): the fake answers everything,
and the one request under test is answered by Hypothesis instead, so the whole path (transport,
pipeline, error decoding, rate-limit headers, wire models, mapping) is exercised, not a copy.
Inputs of 1 MB go through too: a super-linear parser would make these tests hang (their time
is measured in ``benchmarks/parsers_linear.py``, not asserted here).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialkit import SocialkitError
from socialkit._http._ratelimit import (
    header_rate_limit_parser,
    meta_usage_parser,
    parse_retry_after,
)
from socialkit.adapters.mastodon._html import html_to_text
from socialkit.testing.fakes import FakeBluesky, FakeMastodon, FakeX
from socialkit.testing.fakes._base import FakeNetwork

STATUSES = [200, 201, 204, 400, 401, 403, 404, 409, 410, 413, 422, 429, 500, 502, 503, 504]
HEADER_NAMES = [
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "x-rate-limit-limit",
    "x-rate-limit-remaining",
    "x-rate-limit-reset",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "ratelimit-policy",
    "retry-after",
    "x-app-usage",
    "x-business-use-case-usage",
    "content-type",
    "link",
]
header_values = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=40),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.just("Wed, 21 Oct 2015 07:28:00 GMT"),
    st.just('{"call_count": 100, "total_time": "x"}'),
)
headers = st.dictionaries(st.sampled_from(HEADER_NAMES), header_values, max_size=6)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.just(b"<html><body>Bad gateway</body></html>"),
    st.just(b""),
    st.just(b'{"data": '),  # truncated
)


class Intercept(httpx.AsyncBaseTransport):
    """The fake answers everything except the requests ``target`` picks, answered by ``answer``."""

    def __init__(self, fake: FakeNetwork, target: Callable[[httpx.Request], bool]) -> None:
        self.inner = httpx.ASGITransport(app=fake.app)
        self.target = target
        self.answer: httpx.Response | None = None
        self.hits = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.answer is not None and self.target(request):
            self.hits += 1
            return httpx.Response(
                self.answer.status_code,
                headers=self.answer.headers,
                content=self.answer.content,
                request=request,
            )
        return await self.inner.handle_async_request(request)


def _mastodon() -> tuple[FakeNetwork, Callable[[httpx.Request], bool]]:
    return FakeMastodon(), lambda r: r.url.path.startswith("/api/v1/statuses/")


def _bluesky() -> tuple[FakeNetwork, Callable[[httpx.Request], bool]]:
    return FakeBluesky(), lambda r: r.url.path.endswith("app.bsky.feed.getPosts")


def _x() -> tuple[FakeNetwork, Callable[[httpx.Request], bool]]:
    return FakeX(), lambda r: r.url.path.startswith("/2/tweets/")


NETWORKS = {"mastodon": _mastodon, "bluesky": _bluesky, "x": _x}
_ENVS: dict[str, tuple[FakeNetwork, Intercept, str]] = {}


async def _env(network: str) -> tuple[FakeNetwork, Intercept, str]:
    """One fake per network for the whole module, with a post to read."""
    if network not in _ENVS:
        fake, target = NETWORKS[network]()
        transport = Intercept(fake, target)
        post_id = fake.publish_as(fake.owner, "a post to read back")
        _ENVS[network] = (fake, transport, post_id)
    return _ENVS[network]


@pytest.mark.anyio
@pytest.mark.parametrize("network", sorted(NETWORKS))
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(status=st.sampled_from(STATUSES), extra=headers, body=bodies)
async def test_any_answer_gives_a_post_or_a_typed_error(
    network: str, status: int, extra: dict[str, str], body: bytes
) -> None:
    fake, transport, post_id = await _env(network)
    transport.answer = httpx.Response(status, headers=extra, content=body)
    async with (
        httpx.AsyncClient(transport=transport) as client,
        fake.connect(
            http=client, retries=1, rate_limit="raise", max_wait=0, retry_wait=False
        ) as net,
    ):
        with contextlib.suppress(SocialkitError):
            await net.get_post(post_id)
    transport.answer = None


@pytest.mark.anyio
@pytest.mark.parametrize("network", sorted(NETWORKS))
async def test_a_megabyte_of_junk_is_a_typed_error(network: str) -> None:
    fake, transport, post_id = await _env(network)
    junk = json.dumps({"data": [{"id": "1", "text": "x" * 1_000_000}], "x": ["y"] * 50_000})
    for body in (junk.encode(), b"{" * 1_000_000, b"\xff" * 1_000_000):
        transport.answer = httpx.Response(
            200, content=body, headers={"content-type": "application/json"}
        )
        async with (
            httpx.AsyncClient(transport=transport) as client,
            fake.connect(http=client, retries=1, retry_wait=False) as net,
        ):
            with contextlib.suppress(SocialkitError):
                await net.get_post(post_id)
    transport.answer = None


PARSERS = [
    header_rate_limit_parser(reset_kind="epoch"),
    header_rate_limit_parser(reset_kind="iso"),
    header_rate_limit_parser(reset_kind="delta"),
    header_rate_limit_parser("x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"),
    header_rate_limit_parser("ratelimit-limit", "ratelimit-remaining", "ratelimit-reset"),
    meta_usage_parser,
]


@settings(max_examples=300, deadline=None)
@given(extra=headers)
def test_header_parsers_never_raise(extra: dict[str, str]) -> None:
    response = httpx.Response(429, headers=extra)
    for parse in PARSERS:
        parse(response)
    parse_retry_after(response)


html_pieces = st.lists(
    st.sampled_from(
        [
            "<p>",
            "</p>",
            "<br>",
            "<a href='https://example.com/a/b'>",
            "</a>",
            '<span class="invisible">https://</span>',
            '<span class="ellipsis">example.com/lo</span>',
            "<ul>",
            "<li>",
            "</li>",
            "</ul>",
            "<pre>",
            "</pre>",
            "&amp;",
            "&#x1F600;",
            "<",
            ">",
            "text ",
            "\n",
            "é",
        ]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(html=st.one_of(html_pieces, st.text(max_size=300)))
def test_html_to_text_never_raises(html: str) -> None:
    assert isinstance(html_to_text(html), str)


def test_html_to_text_reads_a_megabyte() -> None:
    html = "<p>" + "<a href='https://example.com/x'>link</a> word &amp; " * 25_000 + "</p>"
    assert len(html) > 1_000_000
    text = html_to_text(html)
    assert text.count("word &") == 25_000


def _mb_of(piece: str) -> str:
    return piece * (1_000_000 // len(piece) + 1)


def test_header_parsers_on_a_megabyte() -> None:
    big = _mb_of("9")
    response = httpx.Response(429, headers={"x-ratelimit-reset": big, "retry-after": big})
    for parse in PARSERS:
        parse(response)
    parse_retry_after(response)
    meta_usage_parser(httpx.Response(200, headers={"x-app-usage": _mb_of('{"a":')}))
