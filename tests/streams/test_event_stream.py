"""The network-independent part of streams: socialkit._stream.EventStream and StreamPolicy.

Scripted connections (async generators) stand in for the networks, so each rule is tested on
its own: reconnect with growing, jittered waits; resume from the last cursor; duplicates
dropped across reconnects; stalls detected by silence, kept off by heartbeats and pulses;
errors a reconnect cannot fix raised at once; the attempts bounded; a malformed event
skipped (logged) on the same connection, a run of them a garbled connection.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Callable

import anyio
import pytest

from socialkit import (
    AuthError,
    EventStream,
    MalformedResponseError,
    ServerError,
    StreamEvent,
    StreamPolicy,
    StreamStalledError,
    TransportError,
    ValidationError,
)
from socialkit._stream import stream_kinds

pytestmark = pytest.mark.anyio


def event(n: int) -> StreamEvent:
    return StreamEvent(kind="delete", id=f"e{n}", network="test", deleted_id=str(n), cursor=f"c{n}")


def policy(**kw: object) -> StreamPolicy:
    values: dict[str, object] = {"initial_backoff": 0.0, "max_backoff": 0.0, "max_attempts": 3}
    values.update(kw)
    return StreamPolicy(**values)  # type: ignore[arg-type]


async def drain(stream: EventStream, count: int) -> list[str]:
    out: list[str] = []
    with anyio.fail_after(5):
        async with stream:
            async for item in stream:
                out.append(item.id)
                if len(out) >= count:
                    break
    return out


async def test_a_reconnect_resumes_from_the_last_cursor_without_repeats() -> None:
    opened: list[tuple[str | None, bool]] = []

    async def connection(
        cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | None]:
        opened.append((cursor, resuming))
        if len(opened) == 1:
            for n in (1, 2, 3):
                yield event(n)
            raise TransportError("test", "reset by peer")
        for n in (2, 3, 4, 5):  # the server replays from a little before the cursor
            yield event(n)

    stream = EventStream("test", connection, cursor="c0", policy=policy())
    assert await drain(stream, 5) == ["e1", "e2", "e3", "e4", "e5"]
    assert opened == [("c0", False), ("c3", True)]
    assert stream.reconnects == 1
    assert stream.cursor == "c5"


async def test_waits_grow_with_jitter_and_attempts_are_bounded() -> None:
    waits: list[float] = []
    rng = random.Random(7)
    p = StreamPolicy(initial_backoff=1.0, max_backoff=8.0, factor=2.0, max_attempts=4)
    for attempt in range(1, 7):
        waits.append(p.backoff(attempt, rng))
    tops = [1, 2, 4, 8, 8, 8]
    assert all(top / 2 <= w <= top for w, top in zip(waits, tops, strict=True))
    assert len({round(w, 6) for w in waits}) == len(waits)  # jittered, not in step

    calls = 0

    async def failing(
        cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | None]:
        nonlocal calls
        calls += 1
        raise ServerError("test", 503, None, "unavailable", None)
        yield None  # pragma: no cover - makes this an async generator

    stream = EventStream("test", failing, policy=policy(max_attempts=3))
    with pytest.raises(ServerError):
        await drain(stream, 1)
    assert calls == 4  # the first connection and three reconnects


async def test_errors_a_reconnect_cannot_fix_are_raised_at_once() -> None:
    calls = 0

    async def refused(
        cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | None]:
        nonlocal calls
        calls += 1
        raise AuthError("test", 401, None, "bad token", None)
        yield None  # pragma: no cover

    with pytest.raises(AuthError):
        await drain(EventStream("test", refused, policy=policy()), 1)
    assert calls == 1


async def test_silence_is_a_stall_heartbeats_and_pulses_are_not() -> None:
    opened = 0

    async def connection(
        cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | None]:
        nonlocal opened
        opened += 1
        if opened == 1:
            for _ in range(6):  # heartbeats every 0.1 s: alive for 0.6 s > stall
                await anyio.sleep(0.1)
                yield None
            for _ in range(6):  # bytes read below the events (pulse): alive as well
                await anyio.sleep(0.1)
                pulse()
            yield event(1)
            await anyio.sleep(10)  # then silence
        yield event(2)

    stream = EventStream("test", connection, policy=policy(stall=0.3))
    assert await drain(stream, 2) == ["e1", "e2"]
    assert opened == 2
    assert isinstance(stream.last_error, StreamStalledError)


async def test_the_dedup_window_is_bounded() -> None:
    async def connection(
        cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | None]:
        for n in (1, 2, 3, 1, 4, 1):
            yield event(n)

    stream = EventStream("test", connection, policy=policy(dedup=2))
    # e1 is forgotten once two newer ids are remembered: its third sighting is let through.
    assert await drain(stream, 5) == ["e1", "e2", "e3", "e1", "e4"]


def test_policies_and_kinds_are_checked() -> None:
    with pytest.raises(ValidationError):
        StreamPolicy(initial_backoff=5, max_backoff=1)
    with pytest.raises(ValidationError):
        StreamPolicy(max_attempts=0)
    with pytest.raises(ValidationError):
        StreamPolicy(stall=0)
    with pytest.raises(ValidationError):
        StreamPolicy(max_malformed=-1)
    with pytest.raises(ValidationError, match="unknown stream kinds"):
        stream_kinds({"likes"})
    with pytest.raises(ValidationError, match="not one string"):
        stream_kinds("post")
    assert stream_kinds(None, default={"post"}) == {"post"}


def test_a_stream_that_never_gives_up_keeps_its_waits_capped() -> None:
    # max_attempts=None: after a long outage the attempt count grows past what
    # factor ** attempt can hold as a float; the wait stays at max_backoff (with jitter).
    p = StreamPolicy(initial_backoff=1.0, max_backoff=60.0, factor=2.0, max_attempts=None)
    for attempt in (1_030, 5_000, 10**6):
        assert 30.0 <= p.backoff(attempt, random.Random(attempt)) <= 60.0


async def test_aclose_from_another_task_interrupts_a_pending_read() -> None:
    reading = anyio.Event()
    closed: list[str] = []

    async def connection(
        cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | None]:
        try:
            yield event(1)
            reading.set()
            await anyio.Event().wait()  # a quiet stream: the read never completes
            yield event(2)  # pragma: no cover
        finally:
            closed.append("connection")

    stream = EventStream("test", connection, policy=policy(stall=3600))
    got: list[str] = []

    async def consume() -> None:
        async for item in stream:
            got.append(item.id)
        closed.append("loop")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await reading.wait()
            await stream.aclose()  # from this task, while the consumer waits for a read
            assert "connection" in closed  # closed when aclose() returns
    assert got == ["e1"]
    assert closed == ["connection", "loop"]  # the consumer's loop ended normally


async def test_aclose_from_another_task_interrupts_a_backoff_wait() -> None:
    failed = anyio.Event()

    async def failing(
        cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | None]:
        failed.set()
        raise ServerError("test", 503, None, "unavailable", None)
        yield None  # pragma: no cover

    stream = EventStream(
        "test", failing, policy=StreamPolicy(initial_backoff=3600, max_backoff=3600)
    )
    ended = anyio.Event()

    async def consume() -> None:
        async for _ in stream:
            pass  # pragma: no cover
        ended.set()

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            tg.start_soon(consume)
            await failed.wait()  # the first connection failed: the stream waits an hour
            await stream.aclose()
            await ended.wait()
    assert stream.reconnects == 0


def malformed() -> MalformedResponseError:
    return MalformedResponseError("test", None, "malformed_event", "a line is not a post")


async def test_a_malformed_event_is_logged_and_skipped_on_the_same_connection(
    caplog: pytest.LogCaptureFixture,
) -> None:
    opened = 0

    async def connection(
        cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | MalformedResponseError | None]:
        nonlocal opened
        opened += 1
        yield event(1)
        yield malformed()
        yield event(2)
        yield malformed()
        yield malformed()
        yield event(3)

    stream = EventStream("test", connection, policy=policy(max_malformed=2))
    with caplog.at_level("WARNING", logger="socialkit.stream"):
        assert await drain(stream, 3) == ["e1", "e2", "e3"]
    assert opened == 1
    assert stream.reconnects == 0
    assert stream.skipped == 3
    skipped = [r.getMessage() for r in caplog.records if "malformed" in r.getMessage()]
    line = "test stream: skipped a malformed event (a line is not a post); reading on"
    assert skipped == [line] * 3


async def test_a_run_of_malformed_events_is_a_garbled_connection_and_ends_the_stream() -> None:
    """Only garbage: each connection is dropped after max_malformed skipped events, and the
    stream ends with the error after max_attempts, instead of skipping forever."""
    opened = 0
    yielded = 0

    async def garbage(
        cursor: str | None, resuming: bool, pulse: Callable[[], None]
    ) -> AsyncIterator[StreamEvent | MalformedResponseError | None]:
        nonlocal opened, yielded
        opened += 1
        while True:
            yielded += 1
            yield malformed()
            yield None  # heartbeats in between do not make the connection readable

    stream = EventStream("test", garbage, policy=policy(max_malformed=3, max_attempts=2))
    with pytest.raises(MalformedResponseError):
        await drain(stream, 1)
    assert opened == 3  # the first connection and two reconnects
    assert yielded == 3 * 4  # three skipped, the fourth drops each connection
    assert stream.skipped == 3 * 3
    assert isinstance(stream.last_error, MalformedResponseError)
