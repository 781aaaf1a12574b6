"""Real time for the workflows: streams where an account has one, polling for the others.

:func:`live` runs, side by side, one task per stream (each handing its events to a callback
that stores them and returns what is new) and one polling loop for the sources without a
stream, and yields what they produce, in arrival order, through one bounded channel. A stream
that fails for good (refused credentials, too many reconnects) is logged and its source falls
back to polling, so one broken account never stops the others.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, TypeVar

import anyio

from socialkit._errors import ConfigurationError, UnsupportedError, ValidationError

if TYPE_CHECKING:
    from socialkit._store import Store
    from socialkit._stream import EventStream, StreamEvent

__all__ = ["StreamCursors", "live", "open_or_none"]

log = logging.getLogger("socialkit.workflows.realtime")

T = TypeVar("T")


def open_or_none(label: str, opener: Callable[[], EventStream]) -> EventStream | None:
    """The stream ``opener`` makes, or ``None`` when the account has none for this use (the
    network has no stream, it needs other credentials, or it cannot filter as asked): such a
    source is polled. Nothing is sent here (streams connect when first read)."""
    try:
        return opener()
    except (UnsupportedError, ConfigurationError, ValidationError) as exc:
        log.info("%s: no stream (%s); polling instead", label, exc)
        return None


class StreamCursors:
    """Resume cursors of the streams, one per source, kept in the store."""

    def __init__(self, store: Store, namespace: str) -> None:
        self.store = store
        self.namespace = f"{namespace}.streams"

    async def get(self, source: str) -> str | None:
        return await self.store.get(self.namespace, source)

    async def put(self, source: str, cursor: str | None) -> None:
        if cursor is not None:
            await self.store.put(self.namespace, source, cursor)


async def live(
    streams: Mapping[str, EventStream],
    handle: Callable[[str, StreamEvent], Awaitable[list[T]]],
    poll: Callable[[set[str]], Awaitable[list[T]]],
    *,
    interval: float,
    max_items: int | None = None,
    cursors: StreamCursors | None = None,
) -> AsyncIterator[T]:
    """What the streams and the polling of the other sources deliver, as it arrives.

    ``handle(source, event)`` turns one event into new items (stored, deduplicated);
    ``poll(excluded)`` polls every source not in ``excluded`` (the sources streaming) and
    returns the new items, every ``interval`` seconds. Stops after ``max_items`` items (or
    when the caller stops iterating); every stream is then closed.
    """
    if interval < 0:
        raise ValueError("interval must not be negative")
    send, receive = anyio.create_memory_object_stream[T](max_buffer_size=1000)
    streaming = set(streams)

    async def follow(source: str, events: EventStream) -> None:
        try:
            async with events:
                async for event in events:
                    # Stored first, then the cursor moves past it, then it is announced: a
                    # stop in between reads the event again, which the store deduplicates.
                    items = await handle(source, event)
                    if cursors is not None:
                        await cursors.put(source, events.cursor)
                    for item in items:
                        await send.send(item)
        except Exception as exc:  # one failing stream must not stop the others
            log.error(
                "%s: the stream stopped (%s: %s); polling it instead",
                source,
                type(exc).__name__,
                exc,
            )
            streaming.discard(source)

    async def polling() -> None:
        while True:
            for item in await poll(set(streaming)):
                await send.send(item)
            await anyio.sleep(interval)

    count = 0
    async with anyio.create_task_group() as tg:
        for source, events in streams.items():
            tg.start_soon(follow, source, events)
        tg.start_soon(polling)
        try:
            async with receive:
                async for item in receive:
                    yield item
                    count += 1
                    if max_items is not None and count >= max_items:
                        break
        finally:
            tg.cancel_scope.cancel()
