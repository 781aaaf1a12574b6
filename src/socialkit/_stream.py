"""Real-time streams: :class:`StreamEvent`, :class:`StreamPolicy` and :class:`EventStream`.

``Adapter.stream()`` returns an :class:`EventStream`: an async iterator of :class:`StreamEvent`
(a new or edited post, a message addressed to the account, a deletion) that stays connected
for as long as it is iterated::

    events = net.stream(kinds={"mention", "reply"})
    async for event in events:
        if event.message is not None:
            await net.reply(event.message, "Thanks!")
        store.save(events.cursor)                   # where a restart resumes

Each adapter supplies one function that opens one connection (from a resume cursor) and yields
the events it reads, ``None`` for each heartbeat (a keep-alive newline, an SSE comment, a
WebSocket frame that carries nothing asked for), and a
:class:`~socialkit.MalformedResponseError` (yielded, not raised) for each event it could not
read. :class:`EventStream` does the rest, the same way on every network:

* **Reconnects** after a dropped connection, a network error (5xx, 429, a reset) or a stall,
  waiting an exponential backoff with jitter between attempts (``StreamPolicy``), and gives up
  after ``max_attempts`` failed connections in a row (a connection that delivered an event
  resets the count). Credentials refused (401, 403), a missing stream (404) or bad input are
  raised at once: reconnecting cannot fix them.
* **Resumes** from the last event's cursor where the network offers one (Bluesky's sequence
  numbers; X's backfill of the last minutes; Mastodon's ``since_id`` on the matching REST
  timeline), so what was published while disconnected is read on reconnect.
* **Removes duplicates** across reconnects: the ids of the last ``dedup`` events are kept,
  and an event seen already (a backfill overlapping what was read) is not yielded again.
* **Detects a stalled stream**: a connection silent (no event and no heartbeat) for
  ``stall`` seconds is closed and reopened, because a half-open TCP connection can stay
  silent forever without an error.
* **Skips a malformed event**: an event the adapter cannot read (a line that is not JSON, a
  post without its id, a frame that does not decode) while the connection stays in step is
  logged (``socialkit.stream``, a warning naming what was wrong, never the event's content)
  and skipped, and the next event is read on the same connection: reconnecting would not
  make that event readable, would lose what arrives meanwhile where the network does not
  replay, and would replay the same event where it does. More than ``max_malformed`` in a
  row (with no readable event between them) is a garbled connection: it is dropped and
  reopened like any other failure, so a stream that receives only garbage ends with the
  :class:`~socialkit.MalformedResponseError` after ``max_attempts``.

The resume cursor (:attr:`EventStream.cursor`) is opaque and network-specific: give it back
as ``stream(cursor=...)`` to the same adapter to continue after a restart.
"""

from __future__ import annotations

import logging
import random
from collections import OrderedDict
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from socialkit._errors import (
    APIError,
    MalformedResponseError,
    RateLimitError,
    ServerError,
    SocialkitError,
    TransportError,
    ValidationError,
)
from socialkit._models import Message, Post

if TYPE_CHECKING:
    from anyio import CancelScope, Event

__all__ = [
    "EventStream",
    "StreamEvent",
    "StreamKind",
    "StreamPolicy",
    "StreamStalledError",
    "stream_kinds",
]

log = logging.getLogger("socialkit.stream")

StreamKind = Literal["post", "comment", "mention", "reply", "direct", "quote", "delete"]
"""What a stream may deliver: ``post`` (posts of the timeline or matching the query), the
message kinds, and ``delete`` (a post taken down)."""

STREAM_KINDS: frozenset[str] = frozenset(get_args(StreamKind))


def stream_kinds(
    kinds: Iterable[str] | None, default: Iterable[str] | None = None
) -> frozenset[str]:
    """Normalise a ``kinds`` argument (``None``: ``default``, or every kind). Unknown kinds
    raise a :class:`~socialkit.ValidationError` before any connection."""
    if kinds is None:
        return frozenset(default) if default is not None else STREAM_KINDS
    if isinstance(kinds, str):
        raise ValidationError("kinds must be a collection of kinds, not one string")
    wanted = frozenset(kinds)
    unknown = wanted - STREAM_KINDS
    if unknown:
        raise ValidationError(
            f"unknown stream kinds {sorted(unknown)}; expected some of {sorted(STREAM_KINDS)}"
        )
    if not wanted:
        raise ValidationError("kinds must name at least one kind")
    return wanted


class StreamStalledError(TransportError):
    """A stream stayed silent (no event, no heartbeat) longer than its ``stall`` time."""


StreamStalledError.__module__ = "socialkit"  # shown as socialkit.StreamStalledError


class StreamEvent(BaseModel):
    """One event of a stream.

    ``kind`` is ``post`` (a new or edited post: ``post``), ``message`` (a mention, reply,
    quote, comment or direct message: ``message``) or ``delete`` (``deleted_id``).
    ``id`` identifies the event across reconnects (duplicates are removed on it); ``cursor``
    resumes the stream right after this event where the network offers resuming.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    kind: Literal["post", "message", "delete"]
    id: str
    network: str
    post: Post | None = None
    message: Message | None = None
    deleted_id: str | None = None
    edited: bool = Field(default=False, description="The post is an edit of a known post.")
    query: str | None = Field(
        default=None, description="The query (hashtag, rule) that matched, where known."
    )
    cursor: str | None = None
    received_at: datetime = Field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def created_at(self) -> datetime | None:
        """When the post or message was created (``None`` for a deletion)."""
        if self.post is not None:
            return self.post.created_at
        if self.message is not None:
            return self.message.created_at
        return None


@dataclass(frozen=True)
class StreamPolicy:
    """How a stream reconnects, and when it counts as stalled.

    Waits grow from ``initial_backoff`` by ``factor`` up to ``max_backoff`` seconds, each
    drawn between half and all of that value (jitter, so that many clients dropped at once do
    not reconnect in step). ``max_attempts`` failed connections in a row end the stream with
    the last error (``None``: never give up). ``stall`` is the silence, in seconds, after
    which a connection is closed and reopened (``None``: the network's default, a few
    heartbeats long). ``dedup`` is how many event ids are remembered to drop repeats.
    ``max_malformed`` is how many malformed events in a row are skipped (each logged) before
    the connection counts as garbled and is reopened (``0``: reopen at the first one).
    """

    initial_backoff: float = 1.0
    max_backoff: float = 60.0
    factor: float = 2.0
    max_attempts: int | None = 10
    stall: float | None = None
    dedup: int = 10_000
    max_malformed: int = 10

    def __post_init__(self) -> None:
        if self.initial_backoff < 0 or self.max_backoff < self.initial_backoff:
            raise ValidationError("backoffs must satisfy 0 <= initial_backoff <= max_backoff")
        if self.factor < 1:
            raise ValidationError("factor must be at least 1")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValidationError("max_attempts must be at least 1 (or None)")
        if self.stall is not None and self.stall <= 0:
            raise ValidationError("stall must be a positive number of seconds")
        if self.dedup < 1:
            raise ValidationError("dedup must be at least 1")
        if self.max_malformed < 0:
            raise ValidationError("max_malformed must be at least 0")

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """The wait before reconnect attempt ``attempt`` (1 for the first), with jitter."""
        try:
            grown = self.initial_backoff * self.factor ** max(0, attempt - 1)
        except OverflowError:  # a stream that never gives up reaches huge attempt numbers
            grown = self.max_backoff
        top = min(self.max_backoff, grown)
        draw = (rng or random).uniform(0.5, 1.0)
        return top * draw


Opener = Callable[
    [str | None, bool, Callable[[], None]],
    AsyncIterator["StreamEvent | MalformedResponseError | None"],
]
"""``open(cursor, resuming, pulse)``: one connection's events (``None`` for a heartbeat, a
:class:`~socialkit.MalformedResponseError` yielded for an event that could not be read while
the connection is still in step; raise it instead when the connection itself is garbled).
``cursor`` is the last event's cursor (or the caller's); ``resuming`` is true on a reconnect;
``pulse()`` tells the stall watchdog the connection is alive (call it on every chunk read,
heartbeats included, where the transport hides them from the events). The error's message
says what was wrong and is logged: it must not carry the event's content or a secret."""


def _retryable(exc: BaseException) -> bool:
    """Whether a reconnect can help: transport failures, stalls, 5xx, 429 and frames the
    stream garbled; never refused credentials, a missing stream or bad input."""
    if isinstance(exc, (TransportError, ServerError, RateLimitError, MalformedResponseError)):
        return True
    if isinstance(exc, SocialkitError):
        return False
    import httpx

    if isinstance(exc, (httpx.TransportError, OSError, EOFError)):
        return True
    try:
        from websockets.exceptions import WebSocketException
    except ImportError:  # pragma: no cover - the streams extra is not installed
        return False
    return isinstance(exc, WebSocketException)


class EventStream:
    """The events of one stream, reconnecting as the module docs describe.

    Iterate it once (``async for``); :attr:`cursor` is where a new stream resumes, and
    :attr:`reconnects` how many times this one reconnected. Leaving ``async with stream:``,
    or :meth:`aclose` (from any task, also while another one waits for an event), closes the
    connection; breaking out of a bare ``async for`` leaves it open until then.
    """

    def __init__(
        self,
        network: str,
        opener: Opener,
        *,
        cursor: str | None = None,
        policy: StreamPolicy | None = None,
        default_stall: float = 90.0,
        rng: random.Random | None = None,
    ) -> None:
        self.network = network
        self.cursor = cursor
        self.policy = policy or StreamPolicy()
        self.stall = self.policy.stall if self.policy.stall is not None else default_stall
        self.reconnects = 0
        #: How many malformed events were skipped (each one logged).
        self.skipped = 0
        self.last_error: BaseException | None = None
        self._opener = opener
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._rng = rng
        self._iterator: AsyncGenerator[StreamEvent, None] | None = None
        self._closing = False
        #: The wait under way in the iterator (a read, a backoff), which aclose() interrupts.
        self._pending: CancelScope | None = None
        self._finished: Event | None = None

    def __repr__(self) -> str:
        return f"<EventStream {self.network} reconnects={self.reconnects}>"

    def __aiter__(self) -> AsyncIterator[StreamEvent]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    async def aclose(self) -> None:
        """Close the connection (the iterator ends), from the task iterating or from another
        one while it waits for the next event."""
        self._closing = True
        iterator = self._iterator
        if iterator is None:
            return
        if not getattr(iterator, "ag_running", False):
            await iterator.aclose()
            return
        # Another task is inside the iterator: interrupt its wait, and return once the
        # connection is closed (that task's loop then ends).
        if self._pending is not None:
            self._pending.cancel()
        if self._finished is not None:
            await self._finished.wait()

    async def __aenter__(self) -> EventStream:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _closed(self) -> bool:
        """Whether aclose() was called (read anew at each check: another task sets it)."""
        return self._closing

    def _fresh(self, event: StreamEvent) -> bool:
        if event.id in self._seen:
            self._seen.move_to_end(event.id)
            return False
        self._seen[event.id] = None
        while len(self._seen) > self.policy.dedup:
            self._seen.popitem(last=False)
        return True

    async def _run(self) -> AsyncGenerator[StreamEvent, None]:
        import anyio

        self._finished = anyio.Event()
        connections = self._connections()
        try:
            async for item in connections:
                yield item
        finally:
            try:
                await connections.aclose()
            finally:
                self._pending = None
                self._finished.set()

    async def _connections(self) -> AsyncGenerator[StreamEvent, None]:
        import anyio

        failures = 0
        resuming = False
        watchdog: list[anyio.CancelScope] = []

        def pulse() -> None:
            # Each sign of life moves the deadline of the read under way.
            if watchdog:
                watchdog[0].deadline = anyio.current_time() + self.stall

        while not self._closed():
            connection = self._opener(self.cursor, resuming, pulse)
            malformed = 0  # malformed events in a row on this connection
            try:
                while True:
                    with anyio.CancelScope(deadline=anyio.current_time() + self.stall) as scope:
                        watchdog[:] = [scope]
                        self._pending = scope
                        if self._closed():  # aclose() came while nothing could be interrupted
                            scope.cancel()
                        item = await connection.__anext__()
                    watchdog.clear()
                    self._pending = None
                    if self._closed():  # aclose() interrupted the read
                        return
                    if scope.cancelled_caught:
                        raise StreamStalledError(
                            self.network, f"the stream was silent for {self.stall:g} s"
                        )
                    if item is None:  # a heartbeat: the connection is alive
                        continue
                    if isinstance(item, MalformedResponseError):
                        malformed += 1
                        if malformed > self.policy.max_malformed:
                            raise item  # a garbled connection: reopened below
                        self.skipped += 1
                        log.warning(
                            "%s stream: skipped a malformed event (%s); reading on",
                            self.network,
                            item.message or item.code or "unreadable",
                        )
                        continue
                    malformed = 0
                    if item.cursor is not None:
                        self.cursor = item.cursor
                    if not self._fresh(item):
                        continue
                    failures = 0
                    yield item
            except StopAsyncIteration:
                error: BaseException = TransportError(self.network, "the stream was closed")
            except Exception as exc:
                if self._closed():
                    return
                if not _retryable(exc):
                    raise
                error = exc
            finally:
                watchdog.clear()
                self._pending = None
                await _close(connection)
            if self._closed():
                return
            self.last_error = error
            failures += 1
            if self.policy.max_attempts is not None and failures > self.policy.max_attempts:
                raise error
            wait = self.policy.backoff(failures, self._rng)
            if isinstance(error, RateLimitError) and error.retry_after is not None:
                wait = max(wait, error.retry_after)
            log.warning(
                "%s stream dropped (%s: %s); reconnecting in %.1f s",
                self.network,
                type(error).__name__,
                error,
                wait,
            )
            with anyio.CancelScope() as waiting:
                self._pending = waiting
                if self._closed():
                    waiting.cancel()
                await anyio.sleep(wait)
            self._pending = None
            if self._closed():
                return
            self.reconnects += 1
            resuming = True


async def _close(connection: AsyncIterator[StreamEvent | MalformedResponseError | None]) -> None:
    closer = getattr(connection, "aclose", None)
    if closer is not None:
        try:
            await closer()
        except RuntimeError:
            # At interpreter or loop shutdown, asyncio finalises abandoned generators all at
            # once: the connection may be closing on its own already.
            log.debug("stream connection closed concurrently", exc_info=True)


def require(network: str, *modules: str) -> None:
    """A :class:`~socialkit.ConfigurationError` naming the ``streams`` extra when a transport
    a stream needs is not installed (raised before any connection)."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        from socialkit._errors import ConfigurationError

        raise ConfigurationError(
            f"{network} streams need {', '.join(missing)}, which is not installed; install "
            "the extra: pip install 'socialkit-client[streams]'"
        )


def status_error(network: str, status: int, message: str) -> APIError:
    """The :class:`~socialkit.APIError` for a stream refused with ``status``."""
    from socialkit._errors import error_class_for_status

    return error_class_for_status(status)(network, status, None, message, None)
