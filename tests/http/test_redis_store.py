"""RedisRateLimitStore shared by two real OS processes against the local Redis server.

The store's single-process rules are tested with the in-memory store in test_ratelimit.py
(the ``store`` fixture runs those tests against Redis too).
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialkit._http import (
    BucketKey,
    MemoryRateLimitStore,
    Network,
    RateLimitUpdate,
    Session,
    header_rate_limit_parser,
    make_client,
)

WORKER = Path(__file__).with_name("_redis_worker.py")

pytestmark = pytest.mark.integration


def run_workers(*argv: list[str]) -> list[dict[str, int]]:
    procs = [
        subprocess.Popen(
            [sys.executable, str(WORKER), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in argv
    ]
    for proc in procs:  # every worker is connected and waiting ...
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip() == "ready", line + (proc.stderr.read() if proc.stderr else "")
    for proc in procs:  # ... then all start at once
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


@pytest.mark.anyio
async def test_two_processes_never_overdraw_a_shared_bucket(redis_url: str, redis_prefix: str):
    from socialkit.stores import RedisRateLimitStore

    store = RedisRateLimitStore(redis_url, prefix=redis_prefix)
    now = time.time()
    limit = 150
    await store.update(
        BucketKey("shared", "app", "default"),
        RateLimitUpdate(limit=limit, remaining=limit, reset_at=now + 120),
        now,
    )
    await store.aclose()
    results = run_workers(
        ["reserve", redis_url, redis_prefix, "200"],
        ["reserve", redis_url, redis_prefix, "200"],
    )
    granted = [r["granted"] for r in results]
    # Exactly the bucket: never more (overdraw), never fewer (lost units).
    assert sum(granted) == limit
    assert all(g > 0 for g in granted), granted  # both really competed


class LimitedServer(ThreadingHTTPServer):
    """Allows LIMIT requests per fixed WINDOW (s), answers 429 beyond; reports epoch resets."""

    LIMIT = 4
    WINDOW = 1.0

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), LimitedHandler)
        self.lock = threading.Lock()
        self.counts: Counter[int] = Counter()
        self.statuses: Counter[int] = Counter()
        #: Per request: its arrival (time, window), the count it made, its status, its x-diag.
        self.log: list[tuple[float, int, int, int, str]] = []


class LimitedHandler(BaseHTTPRequestHandler):
    server: LimitedServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        server = self.server
        now = time.time()
        window = math.floor(now / server.WINDOW)
        reset = (window + 1) * server.WINDOW
        with server.lock:
            server.counts[window] += 1
            used = server.counts[window]
            status = 200 if used <= server.LIMIT else 429
            server.statuses[status] += 1
            server.log.append((now, window, used, status, self.headers.get("x-diag", "seed")))
        body = b"{}"
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.send_header("x-ratelimit-limit", str(server.LIMIT))
        self.send_header("x-ratelimit-remaining", str(max(0, server.LIMIT - used)))
        self.send_header("x-ratelimit-reset", repr(reset))
        if status == 429:
            self.send_header("retry-after", str(max(0.0, reset - now)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return None


async def seed(redis_url: str, prefix: str, port: int) -> None:
    from socialkit.stores import RedisRateLimitStore

    store = RedisRateLimitStore(redis_url, prefix=prefix)
    network = Network(
        "shared", f"http://127.0.0.1:{port}", rate_limit_parser=header_rate_limit_parser()
    )
    async with httpx.AsyncClient() as client:
        session = Session(network, client=client, account="app", store=store)
        await session.request("GET", "/items")
        assert session.rate_limits["default"].limit == LimitedServer.LIMIT
    await store.aclose()


def _timeline(server: LimitedServer, results: list[dict[str, Any]]) -> str:
    """The server's arrivals and each worker's store calls in one timeline (shown on failure)."""
    events: list[tuple[float, str]] = []
    for at, window, used, status, tag in server.log:
        events.append((at, f"server  {tag:>10} window {window} #{used} -> {status}"))
    for n, result in enumerate(results):
        for entry in result.get("log", ()):
            what, at, *rest = entry
            events.append((at, f"worker{n} {what:7} {rest}"))
    events.sort()
    start = math.floor(events[0][0]) if events else 0
    lines = [f"{at - start:9.4f} {text}" for at, text in events]
    pids = [r.get("pid") for r in results]
    return f"counts {dict(server.counts)}; workers {pids}\n" + "\n".join(lines)


def test_two_processes_sharing_limits_get_no_429(redis_url: str, redis_prefix: str):
    server = LimitedServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = str(server.server_address[1])
        # Until a first response tells the limit nothing can be limited, so the app's first
        # request (here from the test process) seeds the shared store.
        asyncio.run(seed(redis_url, redis_prefix, int(port)))
        count = 8  # 16 requests at 4 per second: the processes must share and wait
        results = run_workers(
            ["session", redis_url, redis_prefix, str(count), port],
            ["session", redis_url, redis_prefix, str(count), port],
        )
    finally:
        server.shutdown()
        server.server_close()
    timeline = _timeline(server, results)
    assert [r["ok"] for r in results] == [count, count], timeline
    assert server.statuses[429] == 0, timeline
    assert server.statuses[200] == 2 * count + 1
    assert max(server.counts.values()) <= LimitedServer.LIMIT


# --- requests of an ended window, landing from another process ----------------------------
# Each session below has a RedisRateLimitStore of its own, as two processes have (or, where
# said, the two share one, as two sessions of one process may); the fake clock makes the
# window's end happen while the first session's request is in the air.


def _store_of(kind: str, redis_url: str, redis_prefix: str) -> Any:
    """A rate-limit store of ``kind`` ("memory", else Redis at ``redis_url``)."""
    from socialkit.stores import RedisRateLimitStore

    if kind == "memory":
        return MemoryRateLimitStore()
    return RedisRateLimitStore(redis_url, prefix=redis_prefix)


def _windowed_session(
    store: object, now: list[float], handler: object, account: str = "app"
) -> Session:
    network = Network(
        "shared", "https://api.example.test", rate_limit_parser=header_rate_limit_parser()
    )
    return Session(
        network,
        client=make_client(transport=httpx.MockTransport(handler)),  # type: ignore[arg-type]
        account=account,
        store=store,  # type: ignore[arg-type]
        clock=lambda: now[0],
    )


@pytest.mark.anyio
@pytest.mark.parametrize("stores", ["two", "one", "memory"])
async def test_a_process_waits_for_anothers_requests_of_the_ended_window(
    redis_url: str, redis_prefix: str, stores: str
):
    """The cross-process form of test_ratelimit_boundary's deterministic test: process A's
    request of window 1 is still in the air after the reset; process B's next request waits
    for its answer, then takes from the count the network gave for window 2 (without this, B
    refills the bucket in full and window 2 carries one request too many: a 429). The same
    holds for two sessions sharing one store, Redis or in memory (two adapters given one
    ``rate_limit_store``): each session's requests are its own."""
    from socialkit.stores import RedisRateLimitStore

    now = [1_700_000_000.0]
    key = BucketKey("shared", "app", "default")
    first: RedisRateLimitStore | MemoryRateLimitStore
    if stores == "memory":
        first = MemoryRateLimitStore()
    else:
        first = RedisRateLimitStore(redis_url, prefix=redis_prefix)
    second = RedisRateLimitStore(redis_url, prefix=redis_prefix) if stores == "two" else first
    await first.update(key, RateLimitUpdate(limit=2, remaining=1, reset_at=now[0] + 10), now[0])
    release = asyncio.Event()
    order: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/late":
            await release.wait()  # on the wire past the reset
            order.append("late answered")
            # It arrived in window 2 and was counted there: 1 of 2 left in that window.
            return httpx.Response(
                200,
                headers={
                    "x-ratelimit-limit": "2",
                    "x-ratelimit-remaining": "1",
                    "x-ratelimit-reset": f"{now[0] + 10:.3f}",
                },
            )
        order.append("next sent")
        return httpx.Response(200)

    a = _windowed_session(first, now, handler)
    b = _windowed_session(second, now, handler)
    late = asyncio.create_task(a.request("GET", "/late"))
    await asyncio.sleep(0.05)
    now[0] += 11  # window 1 is over; A's "/late" is still in the air
    following = asyncio.create_task(b.request("GET", "/next"))
    await asyncio.sleep(0.3)  # several of B's polls
    assert order == []  # B is held back while A's request of window 1 has no answer
    release.set()
    await asyncio.gather(late, following)
    assert order == ["late answered", "next sent"]
    state = (await second.snapshot("shared", "app"))["default"]
    assert state.remaining == 0  # window 2 holds 2: A's late one and B's
    # The flights are gone once landed.
    if isinstance(first, MemoryRateLimitStore):
        assert not first._flights[key]
    else:
        assert await first._client.hgetall(first._key(key) + ":flights") == {}
    for closing in (a, b):
        await closing.aclose()
    for store in {first, second}:
        await store.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize("stores", ["two", "one", "memory"])
async def test_a_process_waits_for_anothers_request_granted_before_the_reset_was_known(
    redis_url: str, redis_prefix: str, stores: str
):
    """The same, for a unit granted after a local refill, before any answer told the new
    window's reset (the first requests of a window, and of a process): that unit is in the air
    too. What the two-process test met under load: process A's first request of a refilled
    window reached the server 1.35 s later, in the window after; process B, holding no record
    of it, refilled that window in full and its fourth request there met the 429."""
    from socialkit.stores import RedisRateLimitStore

    now = [1_700_000_000.0]
    start = now[0]
    key = BucketKey("shared", "app", "default")
    first: RedisRateLimitStore | MemoryRateLimitStore
    if stores == "memory":
        first = MemoryRateLimitStore()
    else:
        first = RedisRateLimitStore(redis_url, prefix=redis_prefix)
    second = RedisRateLimitStore(redis_url, prefix=redis_prefix) if stores == "two" else first
    # Window 1 (ending at start + 10) is used up; window 2 starts when it ends.
    await first.update(key, RateLimitUpdate(limit=2, remaining=0, reset_at=start + 10), start)
    release = asyncio.Event()
    order: list[str] = []

    def counted(remaining: int, reset: float) -> httpx.Response:
        headers = {
            "x-ratelimit-limit": "2",
            "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": f"{reset:.3f}",
        }
        return httpx.Response(200, headers=headers)

    async def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/late":
            await release.wait()  # granted in window 2, on the wire until window 3
            order.append("late answered")
            return counted(1, start + 30)  # counted in window 3: 1 of 2 left there
        order.append(f"{path[1:]} sent")
        if path == "/first":
            return counted(1, start + 20)  # the first answer of window 2 tells its reset
        return counted(0, start + 30)

    a = _windowed_session(first, now, handler)
    b = _windowed_session(second, now, handler)
    now[0] = start + 11  # window 1 is over: A's reservation refills the bucket locally
    late = asyncio.create_task(a.request("GET", "/late"))
    await asyncio.sleep(0.05)
    await b.request("GET", "/first")  # the bucket's second unit of window 2
    now[0] = start + 21  # window 2 is over; A's "/late" is still in the air
    following = asyncio.create_task(b.request("GET", "/next"))
    await asyncio.sleep(0.3)  # several of B's polls
    assert order == ["first sent"]  # B is held back while A's request of window 2 flies
    release.set()
    await asyncio.wait_for(asyncio.gather(late, following), 5)
    assert order == ["first sent", "late answered", "next sent"]
    state = (await second.snapshot("shared", "app"))["default"]
    assert state.remaining == 0  # window 3 holds 2: A's late one and B's
    if isinstance(first, MemoryRateLimitStore):
        assert not first._flights[key]
    else:
        assert await first._client.hgetall(first._key(key) + ":flights") == {}
    for closing in (a, b):
        await closing.aclose()
    for store in {first, second}:
        await store.aclose()


class _CountingStore(MemoryRateLimitStore):
    """A memory store that counts the reservations asked of it."""

    def __init__(self) -> None:
        super().__init__()
        self.reserves = 0

    async def reserve(self, *args: Any, **kwargs: Any) -> Any:
        self.reserves += 1
        return await super().reserve(*args, **kwargs)


@pytest.mark.anyio
async def test_sessions_sharing_a_memory_store_are_woken_when_a_request_lands():
    """In one process the store wakes the waiting session when the other's request of the
    ended window lands: the session asks it twice (the ``landing`` answer, then its unit)
    however long that request is held; polling every 50 ms asked it about seven times in the
    0.3 s below."""
    now = [1_700_000_000.0]
    key = BucketKey("shared", "app", "default")
    store = _CountingStore()
    await store.update(key, RateLimitUpdate(limit=2, remaining=1, reset_at=now[0] + 10), now[0])
    release = asyncio.Event()
    sent: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/late":
            await release.wait()
            return httpx.Response(200, headers={"x-ratelimit-remaining": "1"})
        sent.append(request.url.path)
        return httpx.Response(200)

    a = _windowed_session(store, now, handler)
    b = _windowed_session(store, now, handler)
    late = asyncio.create_task(a.request("GET", "/late"))
    await asyncio.sleep(0.05)
    now[0] += 11  # window 1 is over; A's request is in the air
    store.reserves = 0
    following = asyncio.create_task(b.request("GET", "/next"))
    await asyncio.sleep(0.3)
    assert sent == []
    assert store.reserves == 1  # the landing answer; B waits on the store since
    release.set()
    await asyncio.wait_for(asyncio.gather(late, following), 5)
    assert sent == ["/next"]
    assert store.reserves == 2
    for closing in (a, b):
        await closing.aclose()


def test_a_memory_store_wakes_a_waiter_on_another_threads_loop():
    """Sessions on event loops in different threads may share one memory store: a landing
    in one thread wakes a session waiting in another (through that session's loop)."""
    now = 1_700_000_000.0
    key = BucketKey("shared", "app", "default")
    store = MemoryRateLimitStore()

    async def setup() -> None:
        await store.update(key, RateLimitUpdate(limit=2, remaining=2, reset_at=now + 10), now)
        assert (await store.reserve(key, now, owner="other")).granted

    asyncio.run(setup())
    woken: list[bool] = []

    def waiter() -> None:
        asyncio.run(store.wait_landed(key, 30, now + 11, owner="me"))
        woken.append(True)

    thread = threading.Thread(target=waiter)
    thread.start()
    while not store._waiting.get(key):
        time.sleep(0.01)
    asyncio.run(store.land(key, now + 10, owner="other"))
    thread.join(10)
    assert not thread.is_alive()  # woken: its own wait would have lasted 30 s
    assert woken == [True]
    assert not store._waiting.get(key)


@pytest.mark.anyio
async def test_a_memory_store_answers_a_waiter_at_once_when_nothing_is_landing():
    """A landing between the ``landing`` answer and the wait is not missed: the wait ends at
    once when no other owner's request of the ended window is in the air any more."""
    now = 1_700_000_000.0
    key = BucketKey("shared", "app", "default")
    store = MemoryRateLimitStore()
    await store.update(key, RateLimitUpdate(limit=2, remaining=2, reset_at=now + 10), now)
    assert (await store.reserve(key, now, owner="other")).granted
    assert (await store.reserve(key, now + 11, owner="me")).landing
    await store.land(key, now + 10, owner="other")
    await asyncio.wait_for(store.wait_landed(key, 30, now + 11, owner="me"), 5)
    assert not store._waiting.get(key)


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["redis", "memory"])
async def test_a_process_that_never_lands_holds_others_back_only_for_the_grace(
    redis_url: str, redis_prefix: str, kind: str
):
    """A process that reserved a unit and died never says it landed: the others wait for it
    until BOUNDARY_GRACE after the window's end, then refill as before. (In memory: a caller
    of one shared store that never lands.)"""
    from socialkit._http import BOUNDARY_GRACE
    from socialkit.stores import RedisRateLimitStore

    now = [1_700_000_000.0]
    key = BucketKey("shared", "app", "default")
    dead: RedisRateLimitStore | MemoryRateLimitStore
    alive: RedisRateLimitStore | MemoryRateLimitStore
    if kind == "memory":
        dead = alive = MemoryRateLimitStore()
    else:
        dead, alive = (RedisRateLimitStore(redis_url, prefix=redis_prefix) for _ in range(2))
    await dead.update(key, RateLimitUpdate(limit=2, remaining=2, reset_at=now[0] + 10), now[0])
    assert (await dead.reserve(key, now[0] + 9.9)).granted  # and never landed
    sent: list[float] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        sent.append(now[0])
        return httpx.Response(200)

    session = _windowed_session(alive, now, handler)
    now[0] += 10.5  # window 1 is over, its grace is not
    waiting = asyncio.create_task(session.request("GET", "/next"))
    await asyncio.sleep(0.2)
    assert sent == []
    now[0] += BOUNDARY_GRACE  # the grace is over
    await asyncio.wait_for(waiting, 5)
    assert sent == [now[0]]
    # The forgotten flight is gone, and the bucket was refilled (2, one taken).
    if isinstance(alive, MemoryRateLimitStore):
        assert not alive._flights[key]
    else:
        assert await alive._client.hgetall(alive._key(key) + ":flights") == {}
    assert (await alive.snapshot("shared", "app"))["default"].remaining == 1
    await session.aclose()
    for store in {dead, alive}:
        await store.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["redis", "memory"])
async def test_a_unit_granted_before_its_windows_reset_was_known_holds_others_back_after_it(
    redis_url: str, redis_prefix: str, kind: str
):
    """The store's side of the test above: a unit granted after a local refill flies under the
    ended reset's pending flight; it holds nobody back while its window's end is not known,
    then, once an answer told it and it passed, until it lands or its grace is over."""
    from socialkit._http import BOUNDARY_GRACE

    now = 1_700_000_000.0
    key = BucketKey("shared", "app", "default")
    store = _store_of(kind, redis_url, redis_prefix)
    await store.update(key, RateLimitUpdate(limit=3, remaining=0, reset_at=now + 10), now)
    pending = await store.reserve(key, now + 11, owner="a")  # refills: the new reset unknown
    assert pending.granted
    assert pending.flight == -(now + 10)
    other = await store.reserve(key, now + 12, owner="b")
    assert other.granted  # not held back: a's window's end is not known
    assert other.flight is not None
    await store.land(key, other.flight, owner="b")
    await store.update(key, RateLimitUpdate(limit=3, remaining=1, reset_at=now + 20), now + 12)
    assert (await store.reserve(key, now + 21, owner="b")).landing  # a's window is over
    assert (await store.reserve(key, now + 21, owner="a")).granted  # (a waits for its own)
    # Never landed, it is forgotten once its grace after the learned reset is over.
    later = now + 20 + BOUNDARY_GRACE
    assert (await store.reserve(key, later, owner="b")).granted
    await store.aclose()


@pytest.mark.anyio
async def test_a_session_does_not_wait_through_the_store_for_its_own_requests(
    redis_url: str, redis_prefix: str
):
    """A session's own requests in the air are its own to wait for (it knows when they land,
    and a request made from inside another, a token refresh, must not wait for it): the store
    answers ``landing`` only to other owners, and a caller that names none is the store."""
    from socialkit.stores import RedisRateLimitStore

    now = 1_700_000_000.0
    key = BucketKey("shared", "app", "default")
    store, other_store = (RedisRateLimitStore(redis_url, prefix=redis_prefix) for _ in range(2))
    await store.update(key, RateLimitUpdate(limit=4, remaining=4, reset_at=now + 10), now)
    assert (await store.reserve(key, now + 9.9, owner="session-a")).granted  # in the air
    assert (await store.reserve(key, now + 10.5, owner="session-b")).landing
    assert (await store.reserve(key, now + 10.5)).landing  # the store itself is another owner
    assert (await other_store.reserve(key, now + 10.5)).landing
    assert (await store.reserve(key, now + 10.5, owner="session-a")).granted
    for closing in (store, other_store):
        await closing.aclose()


@pytest.mark.anyio
async def test_a_store_that_cannot_record_a_landing_does_not_fail_the_request(
    redis_url: str, redis_prefix: str, caplog: pytest.LogCaptureFixture, monkeypatch
):
    """The answer matters more than the bookkeeping: a ``land`` that fails is logged (its
    message redacted) and the request returns its answer; the unit then holds the others back
    only until its grace is over (test above)."""
    from socialkit.stores import RedisRateLimitStore

    now = [1_700_000_000.0]
    key = BucketKey("shared", "app", "default")
    store = RedisRateLimitStore(redis_url, prefix=redis_prefix)
    await store.update(key, RateLimitUpdate(limit=2, remaining=2, reset_at=now[0] + 10), now[0])

    async def broken(*args: object, **kwargs: object) -> None:
        raise ConnectionError("redis://:hunter2-secret@127.0.0.1:6379 went away")

    monkeypatch.setattr(store, "land", broken)
    session = _windowed_session(store, now, lambda request: httpx.Response(200, json={}))
    response = await session.request("GET", "/items")
    assert response.status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("could not tell the rate-limit store" in w for w in warnings), warnings
    assert not any("hunter2-secret" in w for w in warnings), warnings
    await session.aclose()
    await store.aclose()


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ["redis", "memory"])
async def test_an_update_lands_the_request_that_carried_it(
    redis_url: str, redis_prefix: str, kind: str
):
    """The store: ``update(..., land=reset, owner=...)`` ends that owner's flight in the same
    step as ``land`` would, so other owners no longer wait for it at the window's end."""

    now = 1_700_000_000.0
    key = BucketKey("shared", "app", "default")
    store = _store_of(kind, redis_url, redis_prefix)
    await store.update(key, RateLimitUpdate(limit=4, remaining=4, reset_at=now + 10), now)
    assert (await store.reserve(key, now + 9, owner="a")).granted
    assert (await store.reserve(key, now + 9, owner="a")).granted  # two of a's in the air
    late = RateLimitUpdate(limit=4, remaining=2, reset_at=now + 10)
    await store.update(key, late, now + 9.5, land=now + 10, owner="a")
    assert (await store.reserve(key, now + 10.5, owner="b")).landing  # a's other one
    await store.update(key, late, now + 10.6, land=now + 10, owner="a")
    answer = await store.reserve(key, now + 10.7, owner="b")
    assert answer.granted
    assert not answer.landing
    # b's unit, granted after the refill, flies under the ended reset's pending flight.
    assert answer.flight == -(now + 10)
    await store.land(key, answer.flight, owner="b")
    if isinstance(store, MemoryRateLimitStore):
        assert not store._flights[key]
    else:
        assert await store._client.hgetall(store._key(key) + ":flights") == {}
    await store.aclose()


@pytest.mark.anyio
async def test_a_session_lands_its_request_with_the_answers_update(
    redis_url: str, redis_prefix: str, monkeypatch
):
    """A request whose answer carries rate-limit headers lands with the store update those
    headers make: two round trips to Redis per request (reserve, update), not three."""
    from socialkit.stores import RedisRateLimitStore

    now = [1_700_000_000.0]
    key = BucketKey("shared", "app", "default")
    store = RedisRateLimitStore(redis_url, prefix=redis_prefix)
    await store.update(key, RateLimitUpdate(limit=5, remaining=5, reset_at=now[0] + 10), now[0])
    calls: Counter[str] = Counter()
    for name in ("_reserve", "_update", "_land"):
        script = getattr(store, name)

        async def counted(*args: object, _name: str = name, _script=script, **kw: object):
            calls[_name] += 1
            return await _script(*args, **kw)

        monkeypatch.setattr(store, name, counted)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            headers={
                "x-ratelimit-limit": "5",
                "x-ratelimit-remaining": "3",
                "x-ratelimit-reset": f"{now[0] + 10:.3f}",
            },
        )

    session = _windowed_session(store, now, handler)
    for _ in range(2):
        assert (await session.request("GET", "/items")).status_code == 200
    assert calls == {"_reserve": 2, "_update": 2}
    assert await store._client.hgetall(store._key(key) + ":flights") == {}
    await session.aclose()
    await store.aclose()


@pytest.mark.anyio
async def test_clear_forgets_the_buckets_and_their_requests_in_the_air(
    redis_url: str, redis_prefix: str
):
    from socialkit.stores import RedisRateLimitStore

    now = 1_700_000_000.0
    store = RedisRateLimitStore(redis_url, prefix=redis_prefix)
    key = BucketKey("shared", "app", "default")
    await store.update(key, RateLimitUpdate(limit=2, remaining=2, reset_at=now + 10), now)
    assert (await store.reserve(key, now + 1)).granted  # one in the air
    other = BucketKey("shared", "other-account", "default")
    await store.update(other, RateLimitUpdate(limit=2, remaining=2, reset_at=now + 10), now)
    await store.clear("shared", "app")
    assert await store.snapshot("shared", "app") == {}
    left = sorted(k.decode() for k in await store._client.keys(f"{redis_prefix}:*"))
    assert left, "the other account's bucket is kept"
    assert all("other-account" in k for k in left), left
    await store.aclose()
