"""Mastodon's streaming API through the real adapter, against FakeMastodon served on a port.

The fake serves the streams as https://docs.joinmastodon.org/methods/streaming/ documents
them (server-sent events named ``update``, ``notification``, ``delete``, ``status.update``,
whose ``data`` is a JSON string; ``:thump`` heartbeats); the paths and parameters of every
request the adapter sends are checked against ``../shared/specs/mastodon/schema.json``
(``/api/v1/streaming/*`` are described there), and the REST answers too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import pytest
import respx
from stream_support import Recorder, collect_into, take, wait_until
from tests.fakes.mastodon_support import exchange_problems

from socialkit import (
    AuthError,
    Capability,
    StreamPolicy,
    StreamStalledError,
    UnsupportedError,
    ValidationError,
)
from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.testing.fakes import FakeMastodon

pytestmark = [pytest.mark.anyio, pytest.mark.spec]

FAST = StreamPolicy(initial_backoff=0.05, max_backoff=0.2, max_attempts=5, stall=5.0)


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    MastodonAdapter.ex_forget_instances()
    yield
    MastodonAdapter.ex_forget_instances()


@pytest.fixture
def fake() -> FakeMastodon:
    return FakeMastodon()


@pytest.fixture
def served(fake: FakeMastodon) -> Iterator[str]:
    with fake.serve() as url:
        yield url


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
async def net(
    fake: FakeMastodon, served: str, recorder: Recorder
) -> AsyncIterator[MastodonAdapter]:
    adapter = fake.connect(http=recorder.client(), instance=served, retry_wait=False)
    assert isinstance(adapter, MastodonAdapter)
    async with adapter:
        yield adapter
    await adapter.http.aclose()


def _spec_problems(recorder: Recorder, served: str) -> list[str]:
    from tests._specs import specs_dir
    from tests._validation import OpenAPIChecker

    api = OpenAPIChecker(specs_dir("mastodon", "schema.json"), server_url=served)
    problems = [
        f"{request.url.path}: {p}"
        for request in recorder.requests
        for p in api.request_violations(request)
    ]
    for request, response in recorder.exchanges:
        problems.extend(
            f"{request.url.path}: {p}" for p in exchange_problems(api, request, response)
        )
    return problems


async def test_the_user_stream_carries_messages_posts_and_deletions(
    fake: FakeMastodon, net: MastodonAdapter, recorder: Recorder, served: str
) -> None:
    assert net.supports(Capability.STREAM)
    fan = fake.add_user("fan")
    events = net.stream(policy=FAST)
    got: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 4)
        await wait_until(lambda: fake.stream_connections == 1)
        own = fake.publish_as(fake.owner, "my own post")
        mention = fake.mention(fan, "hello there")
        reply = fake.reply(own, fan, "nice post")
        fake.publish_as(fan, "not addressed to the owner, not followed")
        with fake._lock:  # the owner deletes their post (as DELETE /api/v1/statuses/:id does)
            fake._statuses[own].deleted = True
            fake._stream_log.append(("delete", own))
    kinds = [(e.kind, e.message.kind if e.message else None) for e in got]
    assert kinds == [("post", None), ("message", "mention"), ("message", "reply"), ("delete", None)]
    assert got[0].post is not None
    assert (got[0].post.id, got[0].post.text) == (own, "my own post")
    assert got[1].message is not None
    assert got[1].message.id == mention
    assert got[1].message.author.handle.split("@")[0] == "fan"
    assert got[2].message is not None
    assert got[2].message.id == reply
    assert got[2].message.post_id == own
    assert got[3].deleted_id == own
    assert events.reconnects == 0
    paths = recorder.paths()
    assert "/api/v1/streaming/user" in paths
    assert paths.index("/api/v2/instance") < paths.index("/api/v1/streaming/user")
    assert _spec_problems(recorder, served) == []


async def test_messages_only_use_the_notification_stream_and_edits_arrive(
    fake: FakeMastodon, net: MastodonAdapter, recorder: Recorder, served: str
) -> None:
    fan = fake.add_user("fan")
    events = net.stream(kinds={"mention", "direct"}, policy=FAST)
    got: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 2)
        await wait_until(lambda: fake.stream_connections == 1)
        fake.publish_as(fake.owner, "a post, not asked for")
        fake.direct(fan, "psst")
        fake.mention(fan, "hey")
    assert [e.message.kind for e in got if e.message] == ["direct", "mention"]
    assert "/api/v1/streaming/user/notification" in recorder.paths()
    assert _spec_problems(recorder, served) == []


async def test_a_hashtag_query_reads_the_hashtag_stream(
    fake: FakeMastodon, net: MastodonAdapter, recorder: Recorder, served: str
) -> None:
    fan = fake.add_user("fan")
    events = net.stream(query="#acme", policy=FAST)
    got: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 2)
        await wait_until(lambda: fake.stream_connections == 1)
        fake.publish_as(fan, "nothing to see")
        first = fake.publish_as(fan, "loving #acme today")
        fake.publish_as(fan, "private #acme", visibility="private")
        second = fake.publish_as(fan, "#ACME again")
    assert [e.post.id for e in got if e.post] == [first, second]
    stream_requests = [r for r in recorder.requests if "/streaming/" in r.url.path]
    assert stream_requests[0].url.path == "/api/v1/streaming/hashtag"
    assert stream_requests[0].url.params["tag"] == "acme"
    # /api/v1/streaming/hashtag and the catch-up read /api/v1/timelines/tag/:hashtag
    assert _spec_problems(recorder, served) == []


async def test_keywords_read_the_public_stream_and_match_here(
    fake: FakeMastodon, net: MastodonAdapter, recorder: Recorder, served: str
) -> None:
    fan = fake.add_user("fan")
    events = net.stream(query=["acme", "#globex"], policy=FAST)
    got: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 2)
        await wait_until(lambda: fake.stream_connections == 1)
        fake.publish_as(fan, "acmeish is not a match")
        a = fake.publish_as(fan, "I tried Acme's new thing")
        g = fake.publish_as(fan, "#globex rocks")
    assert [(e.post.id, e.query) for e in got if e.post] == [(a, "acme"), (g, "#globex")]
    assert "/api/v1/streaming/public" in recorder.paths()
    # /api/v1/streaming/public and the catch-up read /api/v1/timelines/public
    assert _spec_problems(recorder, served) == []


async def test_a_list_stream(
    fake: FakeMastodon, net: MastodonAdapter, recorder: Recorder, served: str
) -> None:
    fan, other = fake.add_user("fan"), fake.add_user("other")
    list_id = fake.add_list(fake.owner, "friends", [fan])
    events = net.stream(ex_list=list_id, policy=FAST)
    got: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 1)
        await wait_until(lambda: fake.stream_connections == 1)
        fake.publish_as(other, "not in the list")
        kept = fake.publish_as(fan, "in the list")
    assert [e.post.id for e in got if e.post] == [kept]
    # /api/v1/streaming/list and the catch-up read /api/v1/timelines/list/:list_id
    assert "/api/v1/streaming/list" in recorder.paths()
    assert _spec_problems(recorder, served) == []


async def test_a_dropped_connection_mid_burst_loses_and_repeats_nothing(
    fake: FakeMastodon, net: MastodonAdapter, recorder: Recorder, served: str
) -> None:
    fan = fake.add_user("fan")
    events = net.stream(kinds={"mention"}, policy=FAST)
    got: list = []
    sent: list[str] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 20)
        await wait_until(lambda: fake.stream_connections == 1)
        for i in range(8):
            sent.append(fake.mention(fan, f"burst {i}"))
        await wait_until(lambda: len(got) >= 3)
        fake.drop_streams()  # the connection drops in the middle of the burst
        for i in range(8, 20):
            sent.append(fake.mention(fan, f"burst {i}"))
    ids = [e.message.id for e in got if e.message]
    assert ids == sent  # every message, once, in order
    assert events.reconnects == 1
    # The gap was read from the notifications, forward from the last one seen.
    catch_up = [
        r
        for r in recorder.requests
        if r.url.path == "/api/v1/notifications" and "min_id" in r.url.params
    ]
    assert catch_up
    assert _spec_problems(recorder, served) == []


async def test_a_restart_with_the_saved_cursor_resumes(
    fake: FakeMastodon, net: MastodonAdapter
) -> None:
    fan = fake.add_user("fan")
    events = net.stream(kinds={"mention"}, policy=FAST)
    got: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 2)
        await wait_until(lambda: fake.stream_connections == 1)
        fake.mention(fan, "one")
        fake.mention(fan, "two")
    saved = events.cursor
    assert saved is not None
    missed = [fake.mention(fan, "three"), fake.mention(fan, "four")]  # while nobody listens
    again = net.stream(kinds={"mention"}, cursor=saved, policy=FAST)
    resumed: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, again, resumed, 3)
        await wait_until(lambda: len(resumed) >= 2)
        live = fake.mention(fan, "five")
    assert [e.message.id for e in resumed if e.message] == [*missed, live]


async def test_a_silent_connection_is_detected_and_reopened(
    fake: FakeMastodon, net: MastodonAdapter
) -> None:
    fan = fake.add_user("fan")
    fake.stream_heartbeat = 0.05
    # Heartbeats every 0.05 s, a stall after 2 s without one: a busy test machine has paused
    # this process for more than the 0.6 s this test allowed before.
    policy = StreamPolicy(initial_backoff=0.05, max_backoff=0.1, max_attempts=5, stall=2.0)
    events = net.stream(kinds={"mention"}, policy=policy)
    got: list = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 2)
        await wait_until(lambda: fake.stream_connections == 1)
        await anyio.sleep(1.0)  # heartbeats keep an idle stream alive
        assert events.reconnects == 0
        first = fake.mention(fan, "before the stall")
        await wait_until(lambda: len(got) == 1)
        fake.stream_paused = True  # the server goes silent, the connection stays open
        await wait_until(lambda: events.reconnects >= 1)
        assert isinstance(events.last_error, StreamStalledError)
        second = fake.mention(fan, "during the stall")
        fake.stream_paused = False
    assert [e.message.id for e in got if e.message] == [first, second]


async def test_refused_credentials_are_raised_at_once(fake: FakeMastodon, served: str) -> None:
    async with fake.connect(
        http=httpx.AsyncClient(), instance=served, access_token="wrong", retry_wait=False
    ) as net:
        events = net.stream(policy=FAST)
        with anyio.fail_after(10), pytest.raises(AuthError):
            async for _ in events:
                pass
        assert events.reconnects == 0


async def test_the_stream_gives_up_after_max_attempts() -> None:
    from socialkit import TransportError

    async with MastodonAdapter.connect(
        instance="http://127.0.0.1:9", access_token="t", retry_wait=False, retries=1
    ) as net:
        events = net.stream(
            policy=StreamPolicy(initial_backoff=0.01, max_backoff=0.01, max_attempts=2)
        )
        with anyio.fail_after(10), pytest.raises(TransportError):
            async for _ in events:
                pass
        assert events.reconnects == 2


async def test_bad_arguments_are_refused_before_any_request() -> None:
    sent: list[httpx.Request] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(500)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http,
        MastodonAdapter.connect(
            instance="https://mastodon.example", access_token="t", http=http
        ) as net,
    ):
        with pytest.raises(ValidationError, match="unknown stream kinds"):
            net.stream(kinds={"likes"})  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="stream messages without a query"):
            net.stream(kinds={"mention"}, query="acme")
        with pytest.raises(ValidationError, match="not a mastodon list id"):
            net.stream(ex_list="../x")
        with pytest.raises(ValidationError, match="not a Mastodon stream cursor"):
            net.stream(cursor="garbage")
        with pytest.raises(ValidationError, match="must not be empty"):
            net.stream(query=" ")
    assert not sent


async def test_the_streaming_url_comes_from_the_instance() -> None:
    """A server whose streaming runs on its own host (``configuration.urls.streaming``)."""
    import json

    instance = json.loads(
        json.dumps(FakeMastodon()._instance_json()).replace(
            '"streaming": "wss://mastodon.fake"', '"streaming": "wss://streaming.example.social"'
        )
    )
    body = ":)\nevent: delete\ndata: 109\n\n"
    router = respx.MockRouter(assert_all_called=True)
    router.get("https://mastodon.example/api/v2/instance").respond(json=instance)
    router.get("https://mastodon.example/api/v1/timelines/home").respond(json=[])
    stream = router.get("https://streaming.example.social/api/v1/streaming/user").respond(
        200, headers={"content-type": "text/event-stream"}, text=body
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http:
        async with MastodonAdapter.connect(
            instance="https://mastodon.example", access_token="t", retry_wait=False, http=http
        ) as net:
            events = net.stream(kinds={"delete", "post"}, policy=FAST)
            got = await take(events, 1)
        assert got[0].deleted_id == "109"
        assert stream.calls[0].request.headers["authorization"] == "Bearer t"


async def test_networks_without_a_stream_say_so() -> None:
    from socialkit.adapters._base import Adapter

    class Plain(Adapter):
        name = "plain"

        async def me(self):  # type: ignore[no-untyped-def]
            raise AssertionError

    net = Plain(Plain.Settings())
    with pytest.raises(UnsupportedError, match=r"plain.*stream"):
        net.stream()


async def test_the_fake_streams_as_mastodon_documents(fake: FakeMastodon, served: str) -> None:
    """The raw stream: ``event:`` and ``data:`` lines, the data of ``update`` a Status and of
    ``notification`` a Notification as schema.json describes them (checked as the answers of
    ``GET /api/v1/statuses/:id`` and ``GET /api/v1/notifications/:id``), ``delete`` an id."""
    from tests._specs import specs_dir
    from tests._validation import OpenAPIChecker

    api = OpenAPIChecker(specs_dir("mastodon", "schema.json"), server_url=served)
    fan = fake.add_user("fan")
    fake.stream_heartbeat = 0.05
    headers = {"authorization": f"Bearer {fake.access_token}"}
    raw = ""
    async with httpx.AsyncClient() as http:
        request = http.build_request("GET", f"{served}/api/v1/streaming/user", headers=headers)
        response = await http.send(request, stream=True)
        try:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            own = fake.publish_as(fake.owner, "hello")
            fake.mention(fan, "hi")
            with fake._lock:
                fake._statuses[own].deleted = True
                fake._stream_log.append(("delete", own))
            with anyio.fail_after(5):
                async for chunk in response.aiter_text():
                    raw += chunk
                    if "event: delete" in raw and ":thump" in raw:
                        break
        finally:
            await response.aclose()
    # SSE: blocks end with a blank line; lines starting with ":" are comments (heartbeats).
    blocks = [
        [line for line in block.split("\n") if line and not line.startswith(":")]
        for block in raw.split("\n\n")
    ]
    parsed = [
        (lines[0].removeprefix("event: "), lines[1].removeprefix("data: "))
        for lines in blocks
        if lines
    ]
    assert [name for name, _ in parsed] == ["update", "notification", "delete"]
    status, notification, deleted = (data for _, data in parsed)
    assert deleted == own
    for path, body in (
        (f"/api/v1/statuses/{own}", status),
        ("/api/v1/notifications/1", notification),
    ):
        answer = httpx.Response(
            200,
            headers={"content-type": "application/json"},
            content=body.encode(),
            request=httpx.Request("GET", f"{served}{path}", headers=headers),
        )
        assert exchange_problems(api, answer.request, answer) == []


async def test_a_malformed_event_is_skipped_and_the_connection_read_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An ``update`` whose data is not a Status (cut in the middle) between two that are:
    both statuses arrive on the same connection, the bad one is logged (without the token or
    its content), and the stream does not reconnect. The events are the server-sent events
    of https://docs.joinmastodon.org/methods/streaming/ (``event: update``, ``data:`` a
    Status as JSON, ``:thump`` heartbeats); the statuses follow
    ``#/components/schemas/Status`` of ../shared/specs/mastodon/schema.json (bodies.status)."""
    import json

    from tests.adapters.mastodon import bodies as b

    token = "mastodon-token-secret-0123456789"
    one, two = b.status("110000000000000002", "<p>one</p>"), b.status("110000000000000003")
    cut = json.dumps(b.status("110000000000000004", "<p>secret words</p>"))[:60]
    body = (
        ":)\n\n"
        f"event: update\ndata: {json.dumps(one)}\n\n"
        f"event: update\ndata: {cut}\n\n"
        ":thump\n\n"
        f"event: update\ndata: {json.dumps(two)}\n\n"
    )
    router = respx.MockRouter(assert_all_called=True)
    router.get(f"{b.BASE}/api/v2/instance").respond(json=FakeMastodon()._instance_json())
    router.get(f"{b.BASE}/api/v1/timelines/home").respond(json=[b.status("110000000000000001")])
    stream = router.get("https://mastodon.fake/api/v1/streaming/user").respond(
        200, headers={"content-type": "text/event-stream"}, text=body
    )
    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as http,
        MastodonAdapter.connect(
            instance=b.BASE, access_token=token, retry_wait=False, http=http
        ) as net,
    ):
        events = net.stream(kinds={"post"}, policy=FAST)
        with caplog.at_level("DEBUG"):
            got = await take(events, 2)
    assert [e.post.id for e in got if e.post] == [one["id"], two["id"]]
    assert events.reconnects == 0
    assert events.skipped == 1
    assert len(stream.calls) == 1
    assert any("skipped a malformed event" in r.getMessage() for r in caplog.records)
    assert token not in caplog.text
    assert "secret words" not in caplog.text
    from tests._specs import specs_dir
    from tests._validation import OpenAPIChecker

    api = OpenAPIChecker(specs_dir("mastodon", "schema.json"), server_url=b.BASE)
    for status in (one, two):
        request = httpx.Request(
            "GET",
            f"{b.BASE}/api/v1/statuses/{status['id']}",
            headers={"authorization": f"Bearer {token}"},
        )
        answer = httpx.Response(200, json=status, request=request)
        assert exchange_problems(api, request, answer) == []
