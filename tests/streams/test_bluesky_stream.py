"""Bluesky's streams through the real adapter.

* The repository event stream (``com.atproto.sync.subscribeRepos``) of the real local PDS
  (tests/servers/pds): records created through the adapter arrive on the stream in order, a
  restart with the saved cursor misses and repeats nothing, the DIDs and kinds asked for are
  the ones delivered; every streamed record is valid against the ``app.bsky.feed.post``
  lexicon (../shared/specs/bluesky/lexicons).
* Jetstream, served by a local WebSocket server speaking the JSON events Jetstream documents
  (https://github.com/bluesky-social/jetstream, "Consuming Jetstream"): the filters go to the
  server as ``wantedCollections`` / ``wantedDids``, a reconnect resumes from the cursor
  rewound, and the repeats are dropped.
"""

from __future__ import annotations

import contextlib
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import anyio
import httpx
import pytest
from pydantic import SecretStr
from stream_support import collect_into, take, wait_until
from tests._validation.lexicon import LexiconChecker
from tests.servers.pds.fixture import PDSServer

from socialkit import MemoryStore, Post, StreamEvent, StreamPolicy, ValidationError
from socialkit.adapters.bluesky import BlueskyAdapter, BlueskySettings

pytestmark = pytest.mark.anyio

FAST = StreamPolicy(initial_backoff=0.05, max_backoff=0.2, max_attempts=5, stall=15.0)


class Person:
    def __init__(self, server: PDSServer, name: str) -> None:
        self.handle = f"{name}{secrets.token_hex(3)}.test"
        self.password = secrets.token_urlsafe(16)
        self.did = server.create_account(self.handle, self.password)["did"]


@pytest.fixture(scope="module")
def people(pds_server: PDSServer) -> dict[str, Person]:
    return {name: Person(pds_server, name) for name in ("alice", "bob", "carol")}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


def _adapter(server: PDSServer, who: Person, http: httpx.AsyncClient) -> BlueskyAdapter:
    return BlueskyAdapter(
        BlueskySettings(
            service=server.url,
            identifier=who.handle,
            password=SecretStr(who.password),
            store=MemoryStore(),
            retry_wait=False,
        ),
        http=http,
    )


def _lexicon_problems(events: list[StreamEvent]) -> list[str]:
    checker = LexiconChecker()
    problems = []
    for event in events:
        raw = event.post.raw if event.post is not None else None
        if raw is None and event.message is not None:
            raw = {"value": event.message.raw}
        if isinstance(raw, dict):
            problems.extend(checker.record_violations("app.bsky.feed.post", raw["value"]))
    return problems


@pytest.mark.integration
@pytest.mark.spec
async def test_records_arrive_in_order_and_a_restart_resumes(
    pds_server: PDSServer, people: dict[str, Person], http: httpx.AsyncClient
) -> None:
    alice, carol = people["alice"], people["carol"]
    net = _adapter(pds_server, alice, http)
    other = _adapter(pds_server, carol, http)
    await net.me()
    await other.me()
    events = net.stream(kinds={"post", "delete"}, ex_dids=[alice.did], policy=FAST)
    got: list[StreamEvent] = []
    published: list[str] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 4)
        await anyio.sleep(0.5)  # the stream is open (a live stream only carries what follows)
        for text in ("one #acme", "two", "three"):
            posted = await net.publish(Post(text=text))
            assert posted.id is not None
            published.append(posted.id)
            await other.publish(Post(text=f"carol says {text}"))  # another DID: left out
        await net.delete(published[1])
    assert [(e.kind, e.post.id if e.post else e.deleted_id) for e in got] == [
        ("post", published[0]),
        ("post", published[1]),
        ("post", published[2]),
        ("delete", published[1]),
    ]
    assert [e.post.text for e in got if e.post] == ["one #acme", "two", "three"]
    assert all(e.post.author and e.post.author.id == alice.did for e in got if e.post)
    assert _lexicon_problems(got) == []
    saved = events.cursor
    assert saved is not None
    assert saved.startswith("bsr1:")

    # Stopped: what is published now is read by the next stream, from the saved cursor.
    missed = [(await net.publish(Post(text=f"while away {i}"))).id for i in range(3)]
    again = net.stream(kinds={"post", "delete"}, ex_dids=[alice.did], cursor=saved, policy=FAST)
    resumed: list[StreamEvent] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, again, resumed, 4)
        await wait_until(lambda: len(resumed) >= 3, within=15)
        live = (await net.publish(Post(text="live again"))).id
    assert [e.post.id for e in resumed if e.post] == [*missed, live]  # none missed, none twice
    await net.aclose()
    await other.aclose()


@pytest.mark.integration
async def test_replies_quotes_and_mentions_are_messages(
    pds_server: PDSServer, people: dict[str, Person], http: httpx.AsyncClient
) -> None:
    alice, bob = people["alice"], people["bob"]
    net = _adapter(pds_server, alice, http)
    fan = _adapter(pds_server, bob, http)
    original = await net.publish(Post(text="an announcement"))
    assert original.id is not None
    # The test PDS hosts every account here, so its own stream serves as the relay.
    events = net.stream(kinds={"reply", "quote", "mention"}, ex_url=pds_server.url, policy=FAST)
    got: list[StreamEvent] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 2)
        await anyio.sleep(0.5)
        await fan.publish(Post(text="unrelated"))
        reply = await fan.reply(original.id, "great news")
        quote = await fan.publish(Post(text="look at this", quote_of=original.id))
    assert [(e.message.kind, e.message.id) for e in got if e.message] == [
        ("reply", reply.id),
        ("quote", quote.id),
    ]
    assert got[0].message is not None
    assert got[0].message.post_id == original.id
    assert got[0].message.author.id == bob.did
    await net.aclose()
    await fan.aclose()


@pytest.mark.integration
async def test_a_query_keeps_matching_posts_only(
    pds_server: PDSServer, people: dict[str, Person], http: httpx.AsyncClient
) -> None:
    carol = people["carol"]
    net = _adapter(pds_server, carol, http)
    events = net.stream(query=["#launch", "rocket"], ex_url=pds_server.url, policy=FAST)
    got: list[StreamEvent] = []
    async with anyio.create_task_group() as tg:
        tg.start_soon(collect_into, events, got, 2)
        await anyio.sleep(0.5)
        await net.publish(Post(text="nothing to see"))
        first = await net.publish(Post(text="the #launch is today"))
        await net.publish(Post(text="rockets are not a rocket?"))
    assert next((e.post.id, e.query) for e in got if e.post) == (first.id, "#launch")
    assert got[1].query == "rocket"
    await net.aclose()


@pytest.mark.integration
async def test_a_restart_between_two_events_of_one_commit_loses_neither(
    pds_server: PDSServer, http: httpx.AsyncClient
) -> None:
    # A reply to the account is two events of one commit (one seq): a message and a post.
    # A consumer that saves the cursor after each event (as the workflows do) and stops
    # between the two must read the second on restart.
    erin, dave = Person(pds_server, "erin"), Person(pds_server, "dave")
    net = _adapter(pds_server, erin, http)
    fan = _adapter(pds_server, dave, http)
    original = await net.publish(Post(text="a question"))
    assert original.id is not None
    reply = await fan.reply(original.id, "an answer")
    later = await fan.publish(Post(text="afterwards"))
    await fan.publish(Post(text="and more"))
    options: dict[str, Any] = {
        "kinds": {"reply", "post"},
        "ex_url": pds_server.url,
        "ex_dids": [dave.did],
        "policy": FAST,
    }
    events = net.stream(cursor="bsr1:0", **options)  # from the start of the PDS's log
    saved = None
    with anyio.fail_after(15):
        async with events:
            async for event in events:
                if event.message is not None and event.message.id == reply.id:
                    saved = events.cursor  # stopped here, before the post of the same commit
                    break
    assert saved is not None
    # The commit is read again: its message repeated (a restarted stream forgot it; the
    # workflows' store drops it), its post not lost.
    again = await take(net.stream(cursor=saved, **options), 3, within=15)
    assert [(e.kind, (e.post or e.message).id if e.post or e.message else None) for e in again] == [
        ("message", reply.id),
        ("post", reply.id),
        ("post", later.id),
    ]
    await net.aclose()
    await fan.aclose()


def test_bad_arguments_are_refused_before_any_connection() -> None:
    net = BlueskyAdapter(
        BlueskySettings(service="http://127.0.0.1:9", identifier="a.test", password="x")
    )
    with pytest.raises(ValidationError, match="not a DID"):
        net.stream(ex_dids=["alice"])
    with pytest.raises(ValidationError, match="not a collection NSID"):
        net.stream(ex_collections=["posts"])
    with pytest.raises(ValidationError, match="direct messages"):
        net.stream(kinds={"direct"})
    with pytest.raises(ValidationError, match="needs its URL"):
        net.stream(ex_source="jetstream")
    with pytest.raises(ValidationError, match="not a Bluesky repos stream cursor"):
        net.stream(kinds={"post"}, cursor="bsj1:5")
    with pytest.raises(ValidationError, match="stream messages without a query"):
        net.stream(query="x", kinds={"mention"})
    with pytest.raises(ValidationError, match="need a network-wide stream"):
        net.stream(kinds={"mention"})
    with pytest.raises(ValidationError, match="need a network-wide stream"):
        net.stream(query="#acme")


# -- Jetstream ----------------------------------------------------------------------------------

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"


def _jet(time_us: int, rkey: str, text: str, operation: str = "create") -> str:
    """One Jetstream commit event, as its README documents them."""
    commit: dict[str, Any] = {
        "rev": f"3l3qo2vutsw2{rkey[-1]}",
        "operation": operation,
        "collection": "app.bsky.feed.post",
        "rkey": rkey,
    }
    if operation != "delete":
        commit["record"] = {
            "$type": "app.bsky.feed.post",
            "createdAt": "2024-09-09T19:46:02.102Z",
            "langs": ["en"],
            "text": text,
        }
        commit["cid"] = "bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"
    return json.dumps({"did": DID, "time_us": time_us, "kind": "commit", "commit": commit})


@contextlib.contextmanager
def _ws_server(handler: Callable[[Any], Awaitable[None]]) -> Iterator[str]:
    """A local WebSocket server running ``handler`` for each connection; yields its
    ``/subscribe`` URL."""
    import asyncio
    import threading

    from websockets.asyncio.server import serve

    ready = threading.Event()
    stop = threading.Event()
    address: list[str] = []

    async def main() -> None:
        async with serve(handler, "127.0.0.1", 0) as server:
            port = next(iter(server.sockets)).getsockname()[1]
            address.append(f"ws://127.0.0.1:{port}/subscribe")
            ready.set()
            await asyncio.get_running_loop().run_in_executor(None, stop.wait)

    thread = threading.Thread(target=lambda: asyncio.run(main()), daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield address[0]
    finally:
        stop.set()
        thread.join(10)


@pytest.fixture
def jetstream() -> Iterator[tuple[str, list[str]]]:
    """A local WebSocket server: the first connection sends three events then drops; later
    connections send from the cursor asked for (events at or after it), then stay open."""
    from urllib.parse import parse_qs, urlsplit

    events = [
        (1_000_000, _jet(1_000_000, "3k1", "one")),
        (2_000_000, json.dumps({"did": DID, "time_us": 2_000_000, "kind": "identity"})),
        (3_000_000, _jet(3_000_000, "3k3", "two")),
        (9_000_000, _jet(9_000_000, "3k4", "three")),
        (10_000_000, _jet(10_000_000, "3k3", "", operation="delete")),
    ]
    paths: list[str] = []

    async def handler(ws: Any) -> None:
        path = ws.request.path
        paths.append(path)
        query = parse_qs(urlsplit(path).query)
        if len(paths) == 1:
            for _, raw in events[:3]:
                await ws.send(raw)
            return  # the connection drops
        start = int(query.get("cursor", ["0"])[0])
        for at, raw in events:
            if at >= start:
                await ws.send(raw)
        await ws.wait_closed()  # open until the client or the server closes it

    with _ws_server(handler) as url:
        yield url, paths


async def test_jetstream_filters_resumes_and_drops_repeats(
    jetstream: tuple[str, list[str]],
) -> None:
    url, paths = jetstream
    net = BlueskyAdapter(
        BlueskySettings(service="http://127.0.0.1:9", identifier="a.test", password="x")
    )
    events = net.stream(
        kinds={"post", "delete"}, ex_source="jetstream", ex_url=url, ex_dids=[DID], policy=FAST
    )
    got = await take(events, 4)
    assert [(e.kind, e.post.text if e.post else e.deleted_id) for e in got] == [
        ("post", "one"),
        ("post", "two"),
        ("post", "three"),
        ("delete", f"at://{DID}/app.bsky.feed.post/3k3"),
    ]
    assert events.reconnects == 1
    assert events.cursor == "bsj1:10000000"
    first, second = paths[0], paths[1]
    assert "wantedCollections=app.bsky.feed.post" in first
    assert f"wantedDids={DID.replace(':', '%3A')}" in first
    assert "cursor" not in first
    assert "cursor=0" in second  # 3_000_000 rewound by five seconds (at least 0)


async def test_a_malformed_frame_is_skipped_and_the_connection_read_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A frame that is not JSON (cut in the middle), and a commit without its ``did``,
    between two Jetstream commits (shaped as its README documents them): both posts arrive
    on the same connection, each bad frame is logged (without its content), and the stream
    does not reconnect, as on X and Mastodon."""
    paths: list[str] = []
    cut = _jet(2_000_000, "3k2", "secret words")[:50]
    no_did = json.loads(_jet(2_500_000, "3k5", "secret words"))
    del no_did["did"]

    async def handler(ws: Any) -> None:
        paths.append(ws.request.path)
        for raw in (_jet(1_000_000, "3k1", "one"), cut, json.dumps(no_did)):
            await ws.send(raw)
        await ws.send(_jet(3_000_000, "3k3", "two"))
        await ws.wait_closed()

    net = BlueskyAdapter(
        BlueskySettings(service="http://127.0.0.1:9", identifier="a.test", password="x")
    )
    with _ws_server(handler) as url:
        events = net.stream(kinds={"post"}, ex_source="jetstream", ex_url=url, policy=FAST)
        with caplog.at_level("DEBUG"):
            got = await take(events, 2)
    assert [e.post.text for e in got if e.post] == ["one", "two"]
    assert events.reconnects == 0
    assert events.skipped == 2
    assert len(paths) == 1
    skipped = [r.getMessage() for r in caplog.records if "skipped a malformed" in r.getMessage()]
    assert len(skipped) == 2
    assert "secret words" not in caplog.text
