"""What every fake network shares: a simulated clock, users, rate limiting and the ASGI glue.

A fake network is a stateful, in-process server that speaks a network's real HTTP API (its
paths, bodies, pagination, media processing states, rate-limit headers and errors as the
network documents them), so that the real adapter runs against it unchanged. Applications use
fakes to test their own code without credentials, the way moto serves AWS users::

    from socialkit.testing.fakes import FakeMastodon

    async def test_my_bot() -> None:
        fake = FakeMastodon()
        async with fake.connect() as net:          # the real MastodonAdapter
            posted = await net.publish(Post(text="hi"))
        fan = fake.add_user("fan")
        fake.like(posted.id, fan)                   # the audience acts
        fake.mention(fan, "@owner hello!")

Two clocks: content times (``created_at`` of posts and notifications) come from
:class:`FakeClock`, which the simulation moves forward (``fake.clock.advance(days=1)``); rate
limit windows use real time, because the client's pipeline compares reset times with its own
wall clock.
"""

from __future__ import annotations

import abc
import itertools
import json
import random
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs

import httpx

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from socialkit.adapters._base import Adapter

__all__ = [
    "UNLIMITED",
    "CreatedPost",
    "FakeClock",
    "FakeNetwork",
    "FakeUser",
    "RateLimiter",
    "WallClock",
    "request_fields",
]

UTC = timezone.utc

#: A limit high enough never to be met in a test run (:meth:`FakeNetwork.unlimited_settings`).
UNLIMITED = 10**9

#: ``(id, text, kind)`` of a post a create request made (:meth:`FakeNetwork.created_post`).
CreatedPost = tuple[str, str | None, str]


def request_fields(body: bytes) -> dict[str, Any]:
    """The fields of a JSON object or form-encoded request body (``{}`` for anything else)."""
    try:
        value = json.loads(body or b"{}")
    except ValueError:
        return {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
    return value if isinstance(value, dict) else {}


class FakeClock:
    """The simulated time of a fake network's content. Starts at ``start`` (default: now)."""

    def __init__(self, start: datetime | None = None) -> None:
        moment = start or datetime.now(UTC).replace(microsecond=0)
        if moment.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._now = moment.astimezone(UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FakeClock.set needs a timezone-aware datetime")
        with self._lock:
            self._now = moment.astimezone(UTC)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or by ``timedelta(**kwargs)``; returns the new time."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._now += step
            return self._now

    def tick(self) -> datetime:
        """Advance one second (so that consecutive events have distinct times)."""
        return self.advance(timedelta(seconds=1))


class WallClock(FakeClock):
    """Content times from the system clock, for live runs (streams, alert latency) where
    buckets are real minutes. ``set`` and ``advance`` have no effect on what it tells."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FakeUser:
    """An account on a fake network (the owner, the audience, competitors)."""

    id: str
    handle: str
    name: str
    followers: int = 0
    following: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class RateLimiter:
    """A fixed-window limiter on real time: ``limit`` requests per ``window`` seconds per key."""

    def __init__(self, limit: int, window: float) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("RateLimiter needs limit >= 1 and window > 0")
        self.limit = limit
        self.window = window
        self._windows: dict[str, tuple[float, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> tuple[bool, int, float]:
        """Count one request; returns ``(allowed, remaining, reset_epoch)``."""
        now = time.time()
        with self._lock:
            start, used = self._windows.get(key, (now, 0))
            if now - start >= self.window:
                start, used = now, 0
            reset = start + self.window
            if used >= self.limit:
                self._windows[key] = (start, used)
                return False, 0, reset
            used += 1
            self._windows[key] = (start, used)
            return True, self.limit - used, reset


class FakeNetwork(abc.ABC):
    """The base of the fake networks. Subclasses build ``app`` and the simulation methods."""

    #: The registry name of the network the fake imitates (``socialkit.connect`` name).
    name: ClassVar[str]
    #: The base URL the adapter is pointed at (nothing is resolved: traffic stays in-process).
    default_base_url: ClassVar[str]

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
    ) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.clock = clock or FakeClock()
        self.random = random.Random(seed)  # noqa: S311 - simulation, not security
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self.users: dict[str, FakeUser] = {}
        self.owner = self.add_user(owner_handle, name=owner_handle.title())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url} ({len(self.users)} users)>"

    # -- plumbing ---------------------------------------------------------------------------

    def next_id(self) -> int:
        with self._lock:
            return next(self._ids)

    @property
    @abc.abstractmethod
    def app(self) -> ASGIApp:
        """The ASGI application that serves the network's API."""

    def client(self, **kwargs: Any) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` that sends to the fake in-process (``httpx.ASGITransport``)."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), **kwargs)

    @abc.abstractmethod
    def settings(self) -> dict[str, Any]:
        """Settings that connect the real adapter to this fake as the owner account."""

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        """Constructor keyword arguments that lift every rate limit and quota of the fake out
        of reach (``socialkit fakes serve --rate-limits off``, load tests)."""
        return {}

    def created_post(
        self,
        method: str,
        path: str,
        request_body: bytes,
        answer: Any,
        headers: Mapping[str, str],
    ) -> CreatedPost | None:
        """The post a successful (2xx) request made, as the network's API tells it, or
        ``None``: ``answer`` is the parsed JSON body (``None`` if empty or not JSON),
        ``headers`` the response's (lowercase names). The ``/_socialkit/received`` report
        counts posts through this; a replayed idempotent create answers with the same id."""
        return None

    def connect(self, *, http: httpx.AsyncClient | None = None, **overrides: Any) -> Adapter:
        """The real adapter for this network, connected to the fake as the owner.

        ``http`` replaces the in-process client (to record traffic, or to reach the fake served
        on a port); ``overrides`` change the adapter's settings.
        """
        from socialkit._registry import connect

        settings = {**self.settings(), **overrides}
        return connect(self.name, http=http or self.client(), **settings)

    def served_app(self) -> Any:
        """``app`` with ``GET /_socialkit/received`` (what the fake received) and
        ``GET /_socialkit/settings`` added (:mod:`socialkit.testing.fakes._serve`), as
        :meth:`serve` and ``socialkit fakes serve`` serve it."""
        served = getattr(self, "_served_app", None)
        if served is None:
            from socialkit.testing.fakes._serve import RecordingApp

            served = self._served_app = RecordingApp(self)
        return served

    @contextmanager
    def serve(self, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
        """Serve the fake on a local port (needs ``uvicorn``); yields its base URL. The
        ``/_socialkit/received`` report is served too (:meth:`served_app`)."""
        import socket

        try:
            import uvicorn
        except ImportError as exc:  # pragma: no cover - depends on the environment
            from socialkit._errors import ConfigurationError

            raise ConfigurationError(
                "serving a fake on a port needs uvicorn: pip install 'socialkit-client[testing]'"
            ) from exc
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((host, port))
        bound_port = sock.getsockname()[1]
        config = uvicorn.Config(self.served_app(), log_level="warning", lifespan="off")
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:  # pragma: no cover - a broken environment
                raise RuntimeError("the fake server did not start")
            time.sleep(0.01)
        try:
            yield f"http://{host}:{bound_port}"
        finally:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()

    # -- the audience ---------------------------------------------------------------------------

    def add_user(
        self, handle: str, *, name: str | None = None, followers: int = 0, following: int = 0
    ) -> FakeUser:
        """Create an account (handles are unique per fake)."""
        full = self.full_handle(handle)
        with self._lock:
            if any(u.handle == full for u in self.users.values()):
                raise ValueError(f"a user with handle {full!r} exists already")
            user = FakeUser(
                id=self.new_user_id(handle),
                handle=full,
                name=name or handle,
                followers=followers,
                following=following,
            )
            self.users[user.id] = user
            return user

    def new_user_id(self, handle: str) -> str:
        """The network's form of a user id (a number by default; Bluesky uses a DID)."""
        return str(self.next_id())

    def full_handle(self, handle: str) -> str:
        """The network's form of a handle (Bluesky adds a domain)."""
        return handle

    def user(self, handle_or_id: str) -> FakeUser:
        for user in self.users.values():
            if handle_or_id in (user.id, user.handle):
                return user
        raise KeyError(handle_or_id)

    @abc.abstractmethod
    def publish_as(self, user: FakeUser, text: str) -> str:
        """``user`` publishes a public post (competitors, the public); returns its id."""

    @abc.abstractmethod
    def like(self, post_id: str, user: FakeUser) -> None:
        """``user`` likes a post (counts move; the owner is notified where the network does)."""

    @abc.abstractmethod
    def repost(self, post_id: str, user: FakeUser) -> None:
        """``user`` reposts a post."""

    @abc.abstractmethod
    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` replies to a post; returns the reply's id (the owner is notified)."""

    @abc.abstractmethod
    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` quotes a post; returns the quote's id (the owner is notified)."""

    @abc.abstractmethod
    def mention(self, user: FakeUser, text: str) -> str:
        """``user`` publishes a post mentioning the owner; returns its id."""

    @abc.abstractmethod
    def direct(self, user: FakeUser, text: str) -> str:
        """``user`` sends the owner a direct message; returns the message's id."""

    def view(self, post_id: str, count: int) -> None:
        """``count`` more people saw the post (only networks that report impressions keep it)."""
        return None

    def follow(self, follower: FakeUser, followee: FakeUser) -> None:
        """``follower`` follows ``followee`` (either may be the owner)."""
        raise NotImplementedError(f"{type(self).__name__} does not simulate follows yet")

    # -- state, as the network keeps it (for tests of engagement actions) ----------------------

    #: The relations :meth:`has` answers for.
    RELATIONS: ClassVar[frozenset[str]] = frozenset(
        {"like", "repost", "bookmark", "follow", "block", "mute", "hide"}
    )

    def has(self, relation: str, subject: str, target: str) -> bool:
        """Whether user ``subject`` (an id) has ``relation`` with ``target``.

        ``like``, ``repost`` and ``bookmark`` take a post id, ``follow``, ``block`` and ``mute``
        a user id, and ``hide`` a reply's id (``subject`` is the author of the post replied to).
        Conformance suites read the fake's state through this, whatever the network's API.
        """
        raise NotImplementedError(f"{type(self).__name__} does not keep {relation} state yet")
