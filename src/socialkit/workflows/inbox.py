"""The unified inbox: messages from many accounts on many networks, routed into queues.

>>> inbox = Inbox({"support-x": x, "brand-masto": masto}, store=SQLiteStore("inbox.db"),
...               routing=RoutingTable.from_file("routing.toml"), scorer=LexiconScorer())
>>> for item in await inbox.poll():          # new messages, newest first, each once
...     print(item.queue, item.message.text)
>>> await inbox.reply(item, "Thanks, we are on it!")   # through the adapter it came from
>>> report = await inbox.report(goal=timedelta(hours=1))

Polling keeps, per source, the newest ``(created_at, id)`` seen and a seen-set with bounded
retention (see :mod:`socialkit.workflows._state`); messages and their status live in the
:class:`~socialkit.Store`, one key per message, updated with compare-and-set. A restart neither
loses nor repeats a message: a message is persisted before the source's cursor moves past it,
and it is created with compare-and-set, so it is delivered by exactly one poll even when two
processes poll at once or the same message reaches two accounts (deduplicated on
``network`` + ``id``).

The store is the inbox; ``poll()`` and ``stream()`` announce arrivals at most once. A message
is stored before it is announced, so if the application stops between the two, the message is
not announced again after a restart but waits in the store with status ``new``: work from
``await inbox.items(status=["new"])`` (or :meth:`Inbox.conversations`) to miss nothing.

:meth:`Inbox.consume` is the acknowledged alternative (at least once): each stored message is
queued in the store too, and stays queued until the handler acknowledges it:

>>> async for delivery in inbox.consume(interval=60):
...     await handle(delivery.item)         # must be idempotent: see below
...     await delivery.ack()                # or: await delivery.nack(delay=30)

A delivery not acknowledged within ``visibility_timeout`` (the process crashed, was killed,
or the handler hangs) is delivered again, to this or another consumer, with
``delivery.attempt`` one higher. So a handler can see a message twice (killed after handling,
before ``ack``): make it idempotent, keyed on ``delivery.key`` (``network:id``, the same for
every delivery of a message), for example by checking the item's status
(``await inbox.get(delivery.key)``) or by claiming the key in the store with
``compare_and_set`` before acting. Use either ``consume()`` or ``poll()``/``stream()`` in an
application, not both: the messages ``poll()`` announces are queued for ``consume()`` too.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

import pydantic
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from socialkit._capabilities import Capability
from socialkit._errors import ConfigurationError, InvalidPostError
from socialkit._models import Message, MessageKind, Post, Problem
from socialkit._store import SQLiteStore, Store
from socialkit.workflows._common import (
    Clock,
    aware,
    from_iso,
    iso,
    key,
    label_adapters,
    median,
    poll_forever,
    quantile,
    utcnow,
)
from socialkit.workflows._state import SourceState
from socialkit.workflows.sentiment import SentimentScorer, normalize_language, score_or_none

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

if TYPE_CHECKING:
    from socialkit._stream import StreamEvent, StreamKind
    from socialkit.adapters._base import Adapter

__all__ = [
    "Conversation",
    "Inbox",
    "InboxDelivery",
    "InboxItem",
    "QueueReport",
    "Route",
    "RoutingRule",
    "RoutingTable",
    "Status",
]

log = logging.getLogger("socialkit.workflows.inbox")

_MESSAGE_CAPABILITIES = frozenset(
    {Capability.COMMENTS, Capability.MENTIONS, Capability.DIRECT_MESSAGES}
)

Status = Literal["new", "assigned", "answered", "ignored"]
"""``new``: routed to a queue, untouched; ``assigned``: someone owns it; ``answered``: replied to
through the inbox; ``ignored``: closed without an answer (by hand or by a rule)."""


def _handle(value: str) -> str:
    return value.strip().lstrip("@").casefold()


def _nfc(text: str) -> str:
    """One Unicode form (NFC) for text and keywords: ``é`` typed as ``e`` and a combining
    accent (NFD) is the same letter, and the accent stays part of the word."""
    return unicodedata.normalize("NFC", text)


class RoutingRule(BaseModel):
    """One routing rule: conditions (all must hold; within a list, any value) and a destination.

    A condition left unset matches everything. Keywords match whole words or phrases, ignoring
    case, in either Unicode form of accented letters (text and keywords are compared in NFC);
    ``regex`` is a Python regular expression searched in the text, in NFC too (use ``(?i)`` to
    ignore case). A condition on sentiment or followers does not match a message whose
    sentiment cannot be scored (no scorer, uncovered language) or whose author's audience is
    unknown.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    queue: str = Field(min_length=1)
    priority: int = Field(default=0, ge=0, le=100, description="Higher is more urgent.")
    ignore: bool = Field(default=False, description="Close matching messages as ignored.")
    networks: list[str] | None = None
    sources: list[str] | None = Field(default=None, description="Adapter labels.")
    kinds: list[MessageKind] | None = None
    authors: list[str] | None = Field(
        default=None, description="Handles (with or without @) or ids."
    )
    languages: list[str] | None = None
    keywords: list[str] | None = None
    regex: str | None = None
    sentiment_min: float | None = Field(default=None, ge=-1.0, le=1.0)
    sentiment_max: float | None = Field(default=None, ge=-1.0, le=1.0)
    followers_min: int | None = Field(default=None, ge=0)
    followers_max: int | None = Field(default=None, ge=0)

    _pattern: re.Pattern[str] | None = PrivateAttr(default=None)
    _keywords: re.Pattern[str] | None = PrivateAttr(default=None)

    @field_validator("regex")
    @classmethod
    def _valid_regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
        return value

    @field_validator("keywords")
    @classmethod
    def _non_empty_keywords(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and any(not k.strip() for k in value):
            raise ValueError("keywords must not be empty strings")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> RoutingRule:
        if (
            self.sentiment_min is not None
            and self.sentiment_max is not None
            and self.sentiment_min > self.sentiment_max
        ):
            raise ValueError("sentiment_min is greater than sentiment_max")
        if (
            self.followers_min is not None
            and self.followers_max is not None
            and self.followers_min > self.followers_max
        ):
            raise ValueError("followers_min is greater than followers_max")
        return self

    def model_post_init(self, context: Any, /) -> None:
        if self.regex is not None:
            self._pattern = re.compile(self.regex)
        if self.keywords:
            alternatives = "|".join(re.escape(_nfc(k.strip())) for k in self.keywords)
            self._keywords = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    @property
    def needs_sentiment(self) -> bool:
        return self.sentiment_min is not None or self.sentiment_max is not None

    def matches(self, message: Message, *, sentiment: float | None, source: str | None) -> bool:
        """Whether every condition of this rule holds for ``message``."""
        if self.networks is not None and message.network.casefold() not in {
            n.casefold() for n in self.networks
        }:
            return False
        if self.sources is not None and source not in self.sources:
            return False
        if self.kinds is not None and message.kind not in self.kinds:
            return False
        if self.authors is not None:
            wanted = {_handle(a) for a in self.authors}
            author = message.author
            names = {author.id.casefold()}
            if author.handle:
                names.add(_handle(author.handle))
            if not names & wanted:
                return False
        if self.languages is not None:
            lang = normalize_language(message.language)
            if lang is None or lang not in {normalize_language(x) for x in self.languages}:
                return False
        text = _nfc(message.text)
        if self._keywords is not None and not self._keywords.search(text):
            return False
        if self._pattern is not None and not self._pattern.search(text):
            return False
        if self.needs_sentiment:
            if sentiment is None:
                return False
            if self.sentiment_min is not None and sentiment < self.sentiment_min:
                return False
            if self.sentiment_max is not None and sentiment > self.sentiment_max:
                return False
        if self.followers_min is not None or self.followers_max is not None:
            followers = message.author.followers
            if followers is None:
                return False
            if self.followers_min is not None and followers < self.followers_min:
                return False
            if self.followers_max is not None and followers > self.followers_max:
                return False
        return True


class Route(BaseModel):
    """Where a message went: queue, priority, the rule that matched (None: the default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    queue: str
    priority: int
    rule: str | None
    status: Status


class RoutingTable(BaseModel):
    """An ordered list of rules; the first match wins, otherwise ``default_queue``.

    Plain data: build it in code, or load it with :meth:`from_toml`, :meth:`from_json` or
    :meth:`from_file`. A wrong rule raises :class:`~socialkit.ConfigurationError` listing every
    problem with its place (``rules[2].regex: invalid regular expression …``).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: list[RoutingRule] = Field(default_factory=list)
    default_queue: str = Field(default="inbox", min_length=1)
    default_priority: int = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def _unique_names(self) -> RoutingTable:
        names = [r.name for r in self.rules]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"rule names must be unique; repeated: {', '.join(duplicated)}")
        return self

    @property
    def needs_sentiment(self) -> bool:
        return any(r.needs_sentiment for r in self.rules)

    def route(
        self, message: Message, *, sentiment: float | None = None, source: str | None = None
    ) -> Route:
        for rule in self.rules:
            if rule.matches(message, sentiment=sentiment, source=source):
                return Route(
                    queue=rule.queue,
                    priority=rule.priority,
                    rule=rule.name,
                    status="ignored" if rule.ignore else "new",
                )
        return Route(
            queue=self.default_queue, priority=self.default_priority, rule=None, status="new"
        )

    @classmethod
    def from_data(cls, data: Any, *, origin: str = "routing table") -> RoutingTable:
        try:
            return cls.model_validate(data)
        except pydantic.ValidationError as exc:
            raise ConfigurationError(
                f"invalid {origin}", [_describe(error) for error in exc.errors()]
            ) from None

    @classmethod
    def from_toml(cls, source: str | Path) -> RoutingTable:
        """Load from TOML text or a ``.toml`` file path (``[[rules]]`` tables)."""
        text, origin = _read(source, ".toml")
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigurationError(f"{origin} is not valid TOML: {exc}") from None
        return cls.from_data(data, origin=origin)

    @classmethod
    def from_json(cls, source: str | Path) -> RoutingTable:
        """Load from JSON text or a ``.json`` file path."""
        text, origin = _read(source, ".json")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigurationError(f"{origin} is not valid JSON: {exc}") from None
        return cls.from_data(data, origin=origin)

    @classmethod
    def from_file(cls, path: str | Path) -> RoutingTable:
        """Load a ``.toml`` or ``.json`` file, by its suffix."""
        suffix = Path(path).suffix.casefold()
        if suffix == ".toml":
            return cls.from_toml(Path(path))
        if suffix == ".json":
            return cls.from_json(Path(path))
        raise ConfigurationError(f"routing file {path} must end in .toml or .json")


def _read(source: str | Path, suffix: str) -> tuple[str, str]:
    if isinstance(source, Path) or (
        "\n" not in source and source.strip().casefold().endswith(suffix)
    ):
        path = Path(source)
        try:
            return path.read_text(encoding="utf-8"), f"routing file {path}"
        except OSError as exc:
            raise ConfigurationError(f"cannot read routing file {path}: {exc.strerror}") from None
    return source, "routing table"


def _describe(error: Any) -> str:
    place = ""
    for part in error.get("loc", ()):
        place += f"[{part}]" if isinstance(part, int) else (f".{part}" if place else str(part))
    message = str(error.get("msg", "invalid"))
    message = message.removeprefix("Value error, ")
    return f"{place or 'table'}: {message}"


class InboxItem(BaseModel):
    """A message in the inbox with its routing and status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    """``network`` and message id: the deduplication key."""
    message: Message
    sources: list[str]
    """Labels of the adapters it arrived through; replies go through the first."""
    queue: str
    priority: int
    rule: str | None
    status: Status
    sentiment: float | None = None
    assignee: str | None = None
    received_at: datetime
    """When the inbox first saw it."""
    status_changed_at: datetime
    answered_at: datetime | None = None
    """When it was first answered through the inbox."""
    first_response_seconds: float | None = None
    """``answered_at - message.created_at``: how long the author waited for the first answer."""
    replies: list[str] = Field(default_factory=list)
    """Ids of the posts published as answers."""

    @property
    def conversation(self) -> str:
        return conversation_key(self.message)


def conversation_key(message: Message) -> str:
    """The conversation a message belongs to: its ``conversation_id``, else the post it is
    about, else itself (a lone message), scoped to its network."""
    if message.conversation_id:
        return key(message.network, "c", message.conversation_id)
    if message.post_id:
        return key(message.network, "p", message.post_id)
    return key(message.network, "m", message.id)


class Conversation(BaseModel):
    """The inbox items of one conversation, newest first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    network: str
    items: list[InboxItem]

    @property
    def latest_at(self) -> datetime:
        return self.items[0].message.created_at

    @property
    def open(self) -> int:
        """How many of its messages still wait (new or assigned)."""
        return sum(i.status in ("new", "assigned") for i in self.items)


class QueueReport(BaseModel):
    """Response times of one queue.

    ``share_within_goal`` = answered within the goal / (answered + open messages already older
    than the goal); open messages still inside the goal are pending and left out; ignored
    messages are left out. Times are seconds from the message's creation to the first answer.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    queue: str
    total: int
    answered: int
    open: int
    ignored: int
    median_seconds: float | None
    p90_seconds: float | None
    goal_seconds: float
    within_goal: int
    breached: int
    share_within_goal: float | None


class InboxDelivery:
    """One delivery of an item by :meth:`Inbox.consume`: handle it, then :meth:`ack` it.

    ``attempt`` counts deliveries of this message (1 the first time). Until :meth:`ack` or
    :meth:`nack`, no other consumer gets the message; after the visibility timeout it is
    delivered again.
    """

    def __init__(self, inbox: Inbox, item: InboxItem, attempt: int, lease: str) -> None:
        self._inbox = inbox
        self.item = item
        self.attempt = attempt
        self._lease = lease
        self.settled = False
        """Whether :meth:`ack` or :meth:`nack` was called."""

    def __repr__(self) -> str:
        return f"InboxDelivery({self.item.key!r}, attempt={self.attempt})"

    @property
    def key(self) -> str:
        """The item's key, ``network:id``: the same for every delivery of one message."""
        return self.item.key

    @property
    def message(self) -> Message:
        return self.item.message

    async def ack(self) -> None:
        """The message is handled: remove it from the queue (never delivered again)."""
        self.settled = True
        await self._inbox.store.delete(self._inbox._pending_ns, self.item.key)

    async def nack(self, *, delay: float = 0.0) -> None:
        """The message was not handled: deliver it again after ``delay`` seconds.

        Nothing happens if the visibility timeout already passed and another consumer took it.
        """
        if delay < 0:
            raise ValueError("delay must not be negative")
        if self.settled:
            return
        self.settled = True
        record = json.loads(self._lease)
        record.update(lease=None, due=iso(self._inbox._clock() + timedelta(seconds=delay)))
        await self._inbox.store.compare_and_set(
            self._inbox._pending_ns, self.item.key, self._lease, json.dumps(record)
        )


class Inbox:
    """One inbox over many adapters (labelled like :class:`~socialkit.Hub`).

    ``store`` defaults to the SQLite file (:class:`~socialkit.SQLiteStore`). ``kinds`` limits the
    message kinds asked for. ``overlap`` is how far before its cursor each poll asks again
    (the lateness tolerated), ``retention`` how long seen ids are kept (at least ``overlap``),
    ``max_seen`` a cap per source. Sources whose network offers no comments, mentions or
    direct messages are listed in :attr:`skipped` and not polled. The first poll of a source
    asks for ``initial_limit`` messages (or from ``initial_since``). ``clock`` returns now
    (tests inject one).

    :meth:`poll` and :meth:`stream` announce each message at most once; :meth:`consume` delivers
    each one at least once, until acknowledged (module docs).
    """

    def __init__(
        self,
        adapters: Mapping[str, Adapter] | Iterable[Adapter],
        *,
        store: Store | None = None,
        routing: RoutingTable | None = None,
        scorer: SentimentScorer | None = None,
        kinds: Iterable[MessageKind] | None = None,
        namespace: str = "inbox",
        overlap: timedelta = timedelta(minutes=10),
        retention: timedelta = timedelta(days=2),
        max_seen: int = 10_000,
        initial_limit: int | None = 100,
        initial_since: datetime | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.adapters = label_adapters(adapters)
        self.store: Store = store if store is not None else SQLiteStore()
        self.routing = routing if routing is not None else RoutingTable()
        self.scorer = scorer
        self.kinds = None if kinds is None else list(kinds)
        self.namespace = namespace
        self._items_ns = f"{namespace}.items"
        self._pending_ns = f"{namespace}.pending"
        self._consumers_ns = f"{namespace}.consumers"
        self._queueing = False
        """Whether stored messages are queued for consume(): once it has run on this store."""
        self._overlap = overlap
        self._retention = retention
        self._max_seen = max_seen
        self.initial_limit = initial_limit
        self.initial_since = None if initial_since is None else aware(initial_since)
        self._clock = clock
        self.errors: dict[str, Exception] = {}
        """The error of each source whose last poll failed (its cursor did not move)."""
        self.skipped: list[str] = sorted(
            label
            for label, adapter in self.adapters.items()
            if not adapter.capabilities & _MESSAGE_CAPABILITIES
        )
        """Sources whose network offers no comments, mentions or direct messages: not polled."""

    def __repr__(self) -> str:
        return f"Inbox({sorted(self.adapters)}, store={self.store!r})"

    # -- polling ---------------------------------------------------------------------------

    async def poll(self) -> list[InboxItem]:
        """Fetch every source once; return the messages never delivered before, newest first.

        A failing source does not stop the others: its error lands in :attr:`errors` and its
        cursor stays where it was, so the next poll asks again.
        """
        self.errors = {}
        if not self._queueing:
            self._queueing = await self.store.get(self._consumers_ns, "enabled") is not None
        labels = [label for label in self.adapters if label not in self.skipped]
        results = await asyncio.gather(
            *(self._poll_source(label) for label in labels), return_exceptions=True
        )
        new: list[InboxItem] = []
        for label, result in zip(labels, results, strict=True):
            if isinstance(result, BaseException):
                if not isinstance(result, Exception):
                    raise result
                self.errors[label] = result
                log.warning("inbox source %s failed: %s: %s", label, type(result).__name__, result)
            else:
                new.extend(result)
        new.sort(key=lambda i: (i.message.created_at, i.key), reverse=True)
        return new

    async def stream(
        self,
        *,
        interval: float = 60.0,
        max_polls: int | None = None,
        realtime: bool = False,
        max_items: int | None = None,
    ) -> AsyncIterator[InboxItem]:
        """Live mode: poll every ``interval`` seconds and yield each new message once.

        With ``realtime``, the accounts whose network streams messages
        (:attr:`Capability.STREAM <socialkit.Capability>`) are read from their stream as the
        messages arrive, after one poll of every source that catches up; the others are polled
        every ``interval`` seconds, and a stream that fails for good falls back to polling.
        Each stream's cursor is kept in the store, so a restart resumes it. Messages are
        stored and announced exactly as :meth:`poll` does (each once). ``max_items`` stops
        after that many messages (``max_polls`` applies to polling only).
        """
        if not realtime:
            async for item in poll_forever(self.poll, interval, max_polls):
                yield item
            return
        from socialkit.workflows._realtime import StreamCursors, live, open_or_none

        count = 0
        for item in await self.poll():
            yield item
            count += 1
            if max_items is not None and count >= max_items:
                return
        cursors = StreamCursors(self.store, self.namespace)
        streams = {}
        for label, adapter in self.adapters.items():
            if label in self.skipped or not adapter.supports(Capability.STREAM):
                continue
            saved = await cursors.get(label)
            kinds: list[StreamKind] = list(self.kinds or get_args(MessageKind))
            opened = open_or_none(label, partial(adapter.stream, kinds=kinds, cursor=saved))
            if opened is not None:
                streams[label] = opened

        async def handle(label: str, event: StreamEvent) -> list[InboxItem]:
            if event.message is None:
                return []
            if self.kinds is not None and event.message.kind not in self.kinds:
                return []
            item = await self._admit(label, event.message)
            return [item] if item is not None else []

        async def poll_rest(streaming: set[str]) -> list[InboxItem]:
            labels = [
                label
                for label in self.adapters
                if label not in self.skipped and label not in streaming
            ]
            new: list[InboxItem] = []
            for label in labels:
                try:
                    new.extend(await self._poll_source(label))
                except Exception as exc:
                    self.errors[label] = exc
            return new

        left = None if max_items is None else max_items - count
        async for item in live(
            streams, handle, poll_rest, interval=interval, max_items=left, cursors=cursors
        ):
            yield item

    async def consume(
        self,
        *,
        interval: float = 60.0,
        visibility_timeout: float = 300.0,
        poll: bool = True,
        max_polls: int | None = None,
    ) -> AsyncIterator[InboxDelivery]:
        """Acknowledged delivery (at least once): yield each stored message until it is acked.

        Each round delivers the queued messages that are due, oldest first (including those
        stored before a crash and never acknowledged), then polls the sources (unless ``poll``
        is false: another process polls) and delivers what arrived; rounds are ``interval``
        seconds apart. ``max_polls`` stops after that many rounds (0: deliver what is due, then
        stop). A delivery that is neither acked nor nacked within ``visibility_timeout`` seconds
        is delivered again. See the module docs for idempotent handlers.
        """
        if visibility_timeout <= 0:
            raise ConfigurationError(
                f"visibility_timeout must be positive seconds (got {visibility_timeout})"
            )
        if interval < 0:
            raise ConfigurationError(f"interval must not be negative (got {interval})")
        if not self._queueing:
            # From now on every poll on this store (in any process) queues what it stores.
            await self.store.put(self._consumers_ns, "enabled", iso(self._clock()))
            self._queueing = True
        lease = timedelta(seconds=visibility_timeout)
        rounds = 0
        while True:
            async for delivery in self._deliver_due(lease):
                yield delivery
            if max_polls is not None and rounds >= max_polls:
                return
            if rounds:
                await asyncio.sleep(interval)
            if poll:
                await self.poll()
            rounds += 1

    async def _deliver_due(self, lease: timedelta) -> AsyncIterator[InboxDelivery]:
        queued = []
        for item_key, raw in await self.store.items(self._pending_ns):
            record = json.loads(raw)
            queued.append((from_iso(record["created_at"]), item_key, raw, record))
        queued.sort(key=lambda entry: (entry[0], entry[1]))
        for _created_at, item_key, raw, record in queued:
            now = self._clock()
            if from_iso(record["due"]) > now:
                continue
            item_raw = await self.store.get(self._items_ns, item_key)
            if item_raw is None:
                # Queued by a poll that stopped before storing the item: the next poll
                # stores it. If the message never comes back, the entry goes with retention.
                if from_iso(record.get("queued_at", record["due"])) < now - self._retention:
                    await self.store.delete(self._pending_ns, item_key)
                continue
            attempt = int(record["attempts"]) + 1
            leased = json.dumps(
                {**record, "due": iso(now + lease), "attempts": attempt, "lease": uuid.uuid4().hex}
            )
            if await self.store.compare_and_set(self._pending_ns, item_key, raw, leased):
                yield InboxDelivery(self, InboxItem.model_validate_json(item_raw), attempt, leased)

    async def _poll_source(self, label: str) -> list[InboxItem]:
        adapter = self.adapters[label]
        state = SourceState(
            self.store,
            self.namespace,
            label,
            overlap=self._overlap,
            retention=self._retention,
            max_seen=self._max_seen,
            clock=self._clock,
        )
        await state.load()
        since = state.since if state.since is not None else self.initial_since
        limit = None if state.since is not None else self.initial_limit
        new: list[InboxItem] = []
        try:
            async for message in adapter.messages(kinds=self.kinds, since=since, limit=limit):
                state.observe(message.created_at, message.id)
                if state.too_old(message.created_at) or await state.seen(message.id):
                    continue
                item = await self._admit(label, message)
                await state.mark(message.id, message.created_at)
                if item is not None:
                    new.append(item)
        except Exception as exc:
            # What was admitted is stored and delivered now; the cursor stays, so the next
            # poll asks for the same window again and the rest is not lost.
            self.errors[label] = exc
            log.warning("inbox source %s failed: %s: %s", label, type(exc).__name__, exc)
            return new
        await state.commit()
        return new

    async def _admit(self, source: str, message: Message) -> InboxItem | None:
        item_key = key(message.network, message.id)
        sentiment = score_or_none(self.scorer, message.text, message.language)
        route = self.routing.route(message, sentiment=sentiment, source=source)
        now = self._clock()
        item = InboxItem(
            key=item_key,
            message=message,
            sources=[source],
            queue=route.queue,
            priority=route.priority,
            rule=route.rule,
            status=route.status,
            sentiment=sentiment,
            received_at=now,
            status_changed_at=now,
        )
        if self._queueing and await self.store.get(self._items_ns, item_key) is None:
            # Queue the delivery for consume() before storing the item: a crash between the two
            # leaves a queue entry without its item, which the next poll completes (the cursor
            # has not moved past the message), never an item that consume() would not deliver.
            record = {
                "created_at": iso(message.created_at),
                "queued_at": iso(now),
                "due": iso(now),
                "attempts": 0,
            }
            await self.store.compare_and_set(
                self._pending_ns, item_key, None, json.dumps({**record, "lease": None})
            )
        if await self.store.compare_and_set(self._items_ns, item_key, None, item.model_dump_json()):
            return item

        # Already in the inbox (another account received it, or a repeat): note the source.
        def add_source(current: InboxItem) -> InboxItem:
            if source in current.sources:
                return current
            return current.model_copy(update={"sources": [*current.sources, source]})

        await self._update(item_key, add_source)
        return None

    # -- reading ---------------------------------------------------------------------------

    async def get(self, item: InboxItem | str) -> InboxItem:
        """The current state of an item (by item or key); KeyError when absent."""
        item_key = item.key if isinstance(item, InboxItem) else item
        raw = await self.store.get(self._items_ns, item_key)
        if raw is None:
            raise KeyError(f"no inbox item {item_key!r}")
        return InboxItem.model_validate_json(raw)

    async def items(
        self,
        *,
        queue: str | None = None,
        status: Status | Iterable[Status] | None = None,
        network: str | None = None,
        since: datetime | None = None,
    ) -> list[InboxItem]:
        """Items, newest first, filtered by queue, status, network and creation time."""
        statuses: set[str] | None
        if status is None:
            statuses = None
        elif isinstance(status, str):
            statuses = {status}
        else:
            statuses = set(status)
        floor = None if since is None else aware(since, "since")
        out = []
        for _key, raw in await self.store.items(self._items_ns):
            item = InboxItem.model_validate_json(raw)
            if queue is not None and item.queue != queue:
                continue
            if statuses is not None and item.status not in statuses:
                continue
            if network is not None and item.message.network != network:
                continue
            if floor is not None and item.message.created_at < floor:
                continue
            out.append(item)
        out.sort(key=lambda i: (i.message.created_at, i.key), reverse=True)
        return out

    async def conversations(
        self,
        *,
        queue: str | None = None,
        status: Status | Iterable[Status] | None = None,
        network: str | None = None,
    ) -> list[Conversation]:
        """Items grouped by conversation, the most recently active conversation first."""
        groups: dict[str, list[InboxItem]] = {}
        for item in await self.items(queue=queue, status=status, network=network):
            groups.setdefault(item.conversation, []).append(item)
        conversations = [
            Conversation(key=k, network=v[0].message.network, items=v) for k, v in groups.items()
        ]
        conversations.sort(key=lambda c: (c.latest_at, c.key), reverse=True)
        return conversations

    # -- acting ----------------------------------------------------------------------------

    async def _update(self, item_key: str, change: Callable[[InboxItem], InboxItem]) -> InboxItem:
        while True:
            raw = await self.store.get(self._items_ns, item_key)
            if raw is None:
                raise KeyError(f"no inbox item {item_key!r}")
            updated = change(InboxItem.model_validate_json(raw))
            if await self.store.compare_and_set(
                self._items_ns, item_key, raw, updated.model_dump_json()
            ):
                return updated

    async def assign(
        self, item: InboxItem | str, assignee: str | None = None, *, queue: str | None = None
    ) -> InboxItem:
        """Mark as assigned (to ``assignee``), optionally moving it to another ``queue``."""
        now = self._clock()
        item_key = item.key if isinstance(item, InboxItem) else item

        def change(current: InboxItem) -> InboxItem:
            update: dict[str, Any] = {"assignee": assignee, "queue": queue or current.queue}
            if current.status != "answered":
                update.update(status="assigned", status_changed_at=now)
            return current.model_copy(update=update)

        return await self._update(item_key, change)

    async def ignore(self, item: InboxItem | str) -> InboxItem:
        """Close without an answer."""
        now = self._clock()
        item_key = item.key if isinstance(item, InboxItem) else item
        return await self._update(
            item_key,
            lambda c: c.model_copy(update={"status": "ignored", "status_changed_at": now}),
        )

    async def reply(self, item: InboxItem | str, text: str | Post) -> Post:
        """Answer through the adapter the message came from; mark it answered.

        The first answer records ``answered_at`` and ``first_response_seconds``. An empty text
        raises :class:`~socialkit.InvalidPostError` before any request. If the network call
        fails, the item is left as it was.
        """
        if isinstance(text, str) and not text.strip():
            current = await self.get(item)
            raise InvalidPostError(
                current.message.network,
                [Problem(code="empty_text", message="a reply needs some text", field="text")],
            )
        current = await self.get(item)
        adapter = next((self.adapters[s] for s in current.sources if s in self.adapters), None)
        if adapter is None:
            raise ConfigurationError(
                f"no adapter of this inbox can answer {current.key!r}; it came through "
                f"{', '.join(current.sources)}"
            )
        posted = await adapter.reply(current.message, text)
        now = self._clock()

        def change(c: InboxItem) -> InboxItem:
            update: dict[str, Any] = {
                "status": "answered",
                "status_changed_at": now,
                "replies": [*c.replies, *([posted.id] if posted.id else [])],
            }
            if c.answered_at is None:
                update["answered_at"] = now
                update["first_response_seconds"] = max(
                    0.0, (now - c.message.created_at).total_seconds()
                )
            return c.model_copy(update=update)

        await self._update(current.key, change)
        return posted

    # -- reporting -------------------------------------------------------------------------

    async def report(
        self,
        *,
        goal: timedelta | Mapping[str, timedelta] = timedelta(hours=1),
        since: datetime | None = None,
        queues: Sequence[str] | None = None,
    ) -> list[QueueReport]:
        """Per-queue response times (count, median, p90, share within the goal), by queue name.

        ``goal`` is one target for every queue or a ``{queue: target}`` mapping (queues not in
        it use one hour). ``since`` keeps messages created from then on.
        """
        now = self._clock()
        by_queue: dict[str, list[InboxItem]] = {}
        for item in await self.items(since=since):
            by_queue.setdefault(item.queue, []).append(item)
        names = sorted(by_queue) if queues is None else list(queues)
        reports = []
        for name in names:
            items = by_queue.get(name, [])
            target = goal.get(name, timedelta(hours=1)) if isinstance(goal, Mapping) else goal
            goal_s = target.total_seconds()
            times = [
                i.first_response_seconds for i in items if i.first_response_seconds is not None
            ]
            open_items = [i for i in items if i.answered_at is None and i.status != "ignored"]
            breached_open = sum(
                (now - i.message.created_at).total_seconds() > goal_s for i in open_items
            )
            within = sum(t <= goal_s for t in times)
            late = len(times) - within + breached_open
            denominator = len(times) + breached_open
            reports.append(
                QueueReport(
                    queue=name,
                    total=len(items),
                    answered=len(times),
                    open=len(open_items),
                    ignored=sum(i.status == "ignored" for i in items),
                    median_seconds=median(times),
                    p90_seconds=quantile(times, 0.9),
                    goal_seconds=goal_s,
                    within_goal=within,
                    breached=late,
                    share_within_goal=within / denominator if denominator else None,
                )
            )
        return reports
