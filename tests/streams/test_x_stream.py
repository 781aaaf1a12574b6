"""X's filtered stream through the real adapter, against FakeX served on a port.

FakeX serves ``GET /2/tweets/search/stream`` and its rules as
https://docs.x.com/x-api/posts/filtered-stream/introduction documents them (one JSON object
per line with ``data``, ``includes`` and ``matching_rules``; ``\\r\\n`` keep-alives;
``backfill_minutes``; app-only; one connection per app). Every request the adapter sends, and
every rules answer, is checked against ``../shared/specs/x/openapi.json``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import pytest
from stream_support import Recorder, collect_into, take, wait_until
from tests._specs import specs_dir
from tests._validation import OpenAPIChecker

from socialkit import (
    Capability,
    ConfigurationError,
    InvalidRequestError,
    StreamPolicy,
    StreamStalledError,
    ValidationError,
    connect,
)
from socialkit.adapters.x import XAdapter
from socialkit.testing.fakes import FakeX

pytestmark = [pytest.mark.anyio, pytest.mark.spec]

FAST = StreamPolicy(initial_backoff=0.05, max_backoff=0.2, max_attempts=5, stall=5.0)


@pytest.fixture
def fake() -> FakeX:
    return FakeX()


@pytest.fixture
def served(fake: FakeX) -> Iterator[str]:
    with fake.serve() as url:
        yield url


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def app(fake: FakeX, served: str, recorder: Recorder) -> AsyncIterator[XAdapter]:
    """The adapter with the app's bearer token (the filtered stream is app-only)."""
    http = recorder.client()
    adapter = connect(
        "x", http=http, base_url=served, bearer_token=fake.app_bearer_token, retry_wait=False
    )
    assert isinstance(adapter, XAdapter)
    async with adapter:
        yield adapter
    await http.aclose()


def _spec_problems(recorder: Recorder, served: str) -> list[str]:
    api = OpenAPIChecker(specs_dir("x", "openapi.json"), server_url=served)
    problems = [
        f"{r.method} {r.url.path}: {p}"
        for r in recorder.requests
        for p in api.request_violations(r)
    ]
    for request, response in recorder.exchanges:
        if response.status_code == 200:
            problems.extend(
                f"{request.url.path} answer: {p}"
                for p in api.response_violations(request, response)
            )
    return problems


async def test_rules_follow_the_query_and_matching_posts_stream(
    fake: FakeX, app: XAdapter, recorder: Recorder, served: str
) -> None:
    assert app.supports(Capability.STREAM)
    fake.stream_rules["1"] = ("from:someone", "mine")  # the app's own rule: left alone
    fake.stream_rules["2"] = ("old query", "socialkit")  # a rule socialkit no longer wants
    fan = fake.add_user("fan")
    events = app.stream(query=["acme", "#globex"], policy=FAST)
    got: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 2)
        await wait_until(lambda: len(fake.stream_connections) == 1)
        fake.publish_as(fan, "nothing here")
        a = fake.publish_as(fan, "I love acme")
        g = fake.publish_as(fan, "#globex is great")
    assert [(e.post.id, e.query) for e in got if e.post] == [(a, "acme"), (g, "#globex")]
    assert got[0].post is not None
    assert got[0].post.author is not None
    assert got[0].post.author.handle == "fan"
    values = sorted((v, t) for v, t in fake.stream_rules.values())
    assert values == [("#globex", "socialkit"), ("acme", "socialkit"), ("from:someone", "mine")]
    assert sorted(r.value for r in await app.ex_stream_rules()) == [v for v, _ in values]
    assert fake.stream_connections == [0]  # the first connection asks for no backfill
    assert _spec_problems(recorder, served) == []


async def test_a_dropped_connection_mid_burst_is_backfilled(
    fake: FakeX, app: XAdapter, recorder: Recorder, served: str
) -> None:
    fan = fake.add_user("fan")
    events = app.stream(query="acme", policy=FAST)
    got: list = []
    sent: list[str] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 16)
        await wait_until(lambda: len(fake.stream_connections) == 1)
        for i in range(6):
            sent.append(fake.publish_as(fan, f"acme burst {i}"))
        await wait_until(lambda: len(got) >= 2)
        fake.drop_streams()
        for i in range(6, 16):  # some while disconnected, some after
            sent.append(fake.publish_as(fan, f"acme burst {i}"))
    assert [e.post.id for e in got if e.post] == sent  # all, once, in order
    assert events.reconnects == 1
    assert fake.stream_connections[1] >= 1  # the reconnect asked for backfill
    stream_calls = [r for r in recorder.requests if r.url.path == "/2/tweets/search/stream"]
    assert stream_calls[1].url.params["backfill_minutes"] == "1"
    assert _spec_problems(recorder, served) == []


async def test_keep_alives_and_a_stall(fake: FakeX, app: XAdapter) -> None:
    fan = fake.add_user("fan")
    fake.stream_keepalive = 0.05
    # Keep-alives every 0.05 s, a stall after 2 s without one: a busy test machine has paused
    # this process for more than the 0.6 s this test allowed before (as the Mastodon one).
    policy = StreamPolicy(initial_backoff=0.05, max_backoff=0.1, max_attempts=5, stall=2.0)
    events = app.stream(query="acme", policy=policy)
    got: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 2)
        await wait_until(lambda: len(fake.stream_connections) == 1)
        await anyio.sleep(1.0)  # keep-alives only: no reconnect
        assert events.reconnects == 0
        first = fake.publish_as(fan, "acme one")
        await wait_until(lambda: len(got) == 1)
        fake.stream_paused = True
        second = fake.publish_as(fan, "acme two")  # sent while the stream is silent
        await wait_until(lambda: events.reconnects >= 1)
        assert isinstance(events.last_error, StreamStalledError)
        fake.stream_paused = False
    assert [e.post.id for e in got if e.post] == [first, second]


async def test_a_restart_with_the_cursor_asks_for_backfill(fake: FakeX, app: XAdapter) -> None:
    fan = fake.add_user("fan")
    events = app.stream(query="acme", policy=FAST)
    got: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 1)
        await wait_until(lambda: len(fake.stream_connections) == 1)
        fake.publish_as(fan, "acme one")
    saved = events.cursor
    missed = fake.publish_as(fan, "acme while stopped")
    again = app.stream(query="acme", cursor=saved, policy=FAST)
    resumed: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, again, resumed, 2)
        await wait_until(lambda: len(resumed) >= 1)
        live = fake.publish_as(fan, "acme live")
    assert [e.post.id for e in resumed if e.post] == [missed, live]
    assert fake.stream_connections[-1] == 1


async def test_an_invalid_rule_is_raised_not_retried(fake: FakeX, app: XAdapter) -> None:
    events = app.stream(query="acme nosuch:operator", policy=FAST)
    with anyio.fail_after(10), pytest.raises(InvalidRequestError):
        async for _ in events:
            pass
    assert fake.stream_connections == []
    assert events.reconnects == 0


async def test_the_stream_needs_the_app_token_and_a_query(fake: FakeX) -> None:
    sent: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        user = connect("x", http=http, **{**fake.settings(), "base_url": "https://api.x.fake"})
        with pytest.raises(ConfigurationError, match="app-only"):
            user.stream(query="acme")
        app = connect("x", http=http, base_url="https://api.x.fake", bearer_token="t")
        with pytest.raises(ValidationError, match="needs a query"):
            app.stream()
        with pytest.raises(ValidationError, match="posts only"):
            app.stream(kinds={"mention"}, query="acme")
        with pytest.raises(ValidationError, match="not an X stream cursor"):
            app.stream(query="acme", cursor="xs1.garbage")
        with pytest.raises(ValidationError, match="at most 1024"):
            app.stream(query="a" * 1025)
    assert sent == []


async def test_stream_lines_as_x_documents_them(fake: FakeX, served: str) -> None:
    """The fake's own stream: one object per line, ``\\r\\n`` separated, shaped as the
    description's ``StreamPostsResponse``."""
    api = OpenAPIChecker(specs_dir("x", "openapi.json"), server_url=served)
    fake.stream_rules["7"] = ("acme", "t")
    fan = fake.add_user("fan")
    headers = {"authorization": f"Bearer {fake.app_bearer_token}"}
    async with httpx.AsyncClient() as http:
        request = http.build_request("GET", f"{served}/2/tweets/search/stream", headers=headers)
        response = await http.send(request, stream=True)
        try:
            assert response.status_code == 200
            fake.publish_as(fan, "acme")
            with anyio.fail_after(5):
                raw = b""
                async for chunk in response.aiter_bytes():
                    raw += chunk
                    if raw.endswith(b"\r\n"):
                        break
        finally:
            await response.aclose()
        assert raw.count(b"\r\n") == 1
        line = httpx.Response(
            200, headers={"content-type": "application/json"}, content=raw.strip(), request=request
        )
        assert api.response_violations(request, line) == []
        assert json.loads(raw)["matching_rules"] == [{"id": "7", "tag": "t"}]
        # A second connection of the same app is refused while the first is open.
        first = await http.send(
            http.build_request("GET", f"{served}/2/tweets/search/stream", headers=headers),
            stream=True,
        )
        try:
            second = await http.get(f"{served}/2/tweets/search/stream", headers=headers)
            assert second.status_code == 429
        finally:
            await first.aclose()


async def test_a_malformed_line_is_skipped_and_the_connection_read_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One line that is not a post (cut in the middle) between two posts: both posts arrive
    on the same connection, the line is logged (without the token or its content), and the
    stream does not reconnect (X asks clients to keep one connection open as long as
    practical: https://docs.x.com/x-api/fundamentals/handling-disconnections). The lines
    and the rules answers are ``StreamPostsResponse`` / ``GetRulesResponse`` /
    ``UpdateRulesResponse`` of ../shared/specs/x/openapi.json, checked against it."""
    import respx
    from tests.adapters.x import x_bodies as b

    token = "app-bearer-secret-0123456789"
    first, second = b.recent_id(1, 1), b.recent_id(1, 2)

    def line(post_id: str, text: str) -> dict[str, object]:
        return {
            "data": b.post(post_id, text, author_id=b.OTHER_ID),
            "includes": {"users": [b.user(b.OTHER_ID, b.OTHER_HANDLE)]},
            "matching_rules": [{"id": "1", "tag": "socialkit"}],
        }

    lines = [line(first, "acme one"), line(second, "acme two")]
    cut = json.dumps(line(b.recent_id(1, 3), "acme secret words"))[:40]  # not JSON
    body = "\r\n".join([json.dumps(lines[0]), cut, "", json.dumps(lines[1])]) + "\r\n"
    rules = {"meta": {"result_count": 0}}
    added = {
        "data": [{"id": "1", "value": "acme", "tag": "socialkit"}],
        "meta": {"sent": "2026-01-01T00:00:00.000Z", "summary": {"created": 1}},
    }
    router = respx.MockRouter(assert_all_called=True)
    router.get(f"{b.BASE}/2/tweets/search/stream/rules").respond(json=rules)
    router.post(f"{b.BASE}/2/tweets/search/stream/rules").respond(json=added)
    stream = router.get(f"{b.BASE}/2/tweets/search/stream").respond(
        200, headers={"content-type": "application/json"}, text=body
    )
    api = OpenAPIChecker(specs_dir("x", "openapi.json"), server_url=b.BASE)
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http:
        app = connect("x", http=http, base_url=b.BASE, bearer_token=token, retry_wait=False)
        events = app.stream(query="acme", policy=FAST)
        with caplog.at_level("DEBUG"):
            got = await take(events, 2)
    assert [e.post.id for e in got if e.post] == [first, second]
    assert events.reconnects == 0
    assert events.skipped == 1
    assert len(stream.calls) == 1
    assert any("skipped a malformed event" in r.getMessage() for r in caplog.records)
    assert token not in caplog.text
    assert "secret words" not in caplog.text
    for call in router.calls:
        if call.request.url.path.endswith("/rules"):
            assert api.response_violations(call.request, call.response) == []
    request = stream.calls[0].request
    for good in lines:
        answer = httpx.Response(200, json=good, request=request)
        assert api.response_violations(request, answer) == []
