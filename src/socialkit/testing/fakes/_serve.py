"""The fakes as real HTTP servers, for other processes and other languages (moto's server mode).

``socialkit fakes serve mastodon bluesky x --port 8700`` (or :func:`serve_fakes`) serves each
fake on its own loopback port, in the order given: ``http://127.0.0.1:8700`` is a Mastodon
instance, ``:8701`` a PDS, ``:8702`` the X API (each at the root of its origin, where the
adapters and the fakes' own links expect it). Each one also answers:

- ``GET /_socialkit/received``: what the fake received: every request (method, path,
  status) counted by route, and the posts created through its API (as the fake's
  ``created_post`` reads its answers), each once by id, with the number of create requests
  that answered with it (a replayed idempotent create answers with the same post: it counts
  as a replay, never as a second post);
- ``GET /_socialkit/settings``: the settings that connect the real adapter to the fake
  as its owner (fake credentials that are good for this fake only).

Served fakes keep content times on the wall clock (:class:`WallClock`), since their clients,
in other processes, compare times with their own clocks.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from datetime import datetime, timedelta, timezone
from typing import Any

from socialkit.testing.fakes._base import FakeClock, FakeNetwork

__all__ = [
    "FAKES",
    "ReceivedLog",
    "RecordingApp",
    "WallClock",
    "fake_classes",
    "make_fakes",
    "serve_fakes",
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGI = Callable[[Scope, Receive, Send], Awaitable[None]]


def fake_classes() -> dict[str, type[FakeNetwork]]:
    """Every fake network of :mod:`socialkit.testing.fakes` (its ``__all__``), by network name."""
    from socialkit.testing import fakes

    found: dict[str, type[FakeNetwork]] = {}
    for export in fakes.__all__:
        value = getattr(fakes, export)
        if isinstance(value, type) and issubclass(value, FakeNetwork) and value is not FakeNetwork:
            found[value.name] = value
    return found


#: The fakes ``serve_fakes`` knows, by network name (every fake of the package).
FAKES = tuple(fake_classes())


class WallClock(FakeClock):
    """A fake's clock that follows real time; ``advance`` and ``set`` shift it by an offset."""

    def __init__(self) -> None:
        super().__init__(datetime.now(timezone.utc))
        self._offset = timedelta(0)

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(timezone.utc) + self._offset

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("WallClock.set needs a timezone-aware datetime")
        with self._lock:
            self._offset = moment - datetime.now(timezone.utc)

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += step
            return datetime.now(timezone.utc) + self._offset


class ReceivedLog:
    """What one fake received (thread-safe): requests by route, and the posts created."""

    def __init__(self, fake: FakeNetwork) -> None:
        self.fake = fake
        self.network = fake.name
        self._lock = threading.Lock()
        self.requests = 0
        self.by_route: dict[str, int] = {}
        self.posts: dict[str, dict[str, Any]] = {}

    def add(
        self,
        method: str,
        path: str,
        status: int,
        request: bytes,
        response: bytes,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        created = None
        if 200 <= status < 300 and method in ("POST", "PUT"):
            try:
                answer = json.loads(response or b"null")
            except ValueError:
                answer = None
            created = self.fake.created_post(method, path, request, answer, headers or {})
        with self._lock:
            self.requests += 1
            route = f"{method} {path}"
            self.by_route[route] = self.by_route.get(route, 0) + 1
            if created is not None:
                post_id, text, kind = created
                entry = self.posts.get(post_id)
                if entry is None:
                    self.posts[post_id] = {
                        "id": post_id,
                        "text": text,
                        "kind": kind,
                        "answers": 1,
                        "at": datetime.now(timezone.utc).isoformat(),
                    }
                else:
                    entry["answers"] += 1

    def report(self) -> dict[str, Any]:
        with self._lock:
            return {
                "network": self.network,
                "requests": self.requests,
                "by_route": dict(sorted(self.by_route.items())),
                "posts": [dict(p) for p in self.posts.values()],
            }


def _json_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in settings.items():
        secret = getattr(value, "get_secret_value", None)
        if callable(secret):
            out[name] = secret()
        elif isinstance(value, str | int | float | bool) or value is None:
            out[name] = value
        # Objects (a store) stay with the fake: a client brings its own.
    return out


class RecordingApp:
    """A fake's ASGI app that records what it receives and answers ``/_socialkit/…``."""

    def __init__(self, fake: FakeNetwork) -> None:
        self.fake = fake
        self.log = ReceivedLog(fake)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fake.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        if path.startswith("/_socialkit/"):
            await self._own(path, scope, send)
            return
        chunks: list[bytes] = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = bool(message.get("more_body"))
        body = b"".join(chunks)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        status = 500
        answer: list[bytes] = []
        headers: dict[str, str] = {}

        async def capture(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                for name, value in message.get("headers", ()):
                    headers[name.decode("latin-1").lower()] = value.decode("latin-1")
            elif message["type"] == "http.response.body" and status < 300:
                answer.append(message.get("body", b""))
            await send(message)

        try:
            await self.fake.app(scope, replay, capture)
        finally:
            self.log.add(str(scope["method"]), path, status, body, b"".join(answer), headers)

    async def _own(self, path: str, scope: Scope, send: Send) -> None:
        if scope.get("method") != "GET":
            await _answer(send, 405, {"error": "use GET"})
        elif path == "/_socialkit/received":
            await _answer(send, 200, self.log.report())
        elif path == "/_socialkit/settings":
            await _answer(send, 200, _json_settings(self.fake.settings()))
        else:
            await _answer(send, 404, {"error": f"no such endpoint {path}"})


async def _answer(send: Send, status: int, data: Any) -> None:
    body = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", b"%d" % len(body)),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def make_fakes(
    bases: Mapping[str, str], *, rate_limits: str = "network", seed: int = 0
) -> dict[str, FakeNetwork]:
    """One fake per ``{name: base_url}``, on the wall clock. ``rate_limits="off"`` raises
    every limit out of reach (load tests: each fake's ``unlimited_settings()``); ``"network"``
    keeps the networks' own."""
    if rate_limits not in ("network", "off"):
        raise ValueError("rate_limits is 'network' or 'off'")
    classes = fake_classes()
    fakes: dict[str, FakeNetwork] = {}
    for name, url in bases.items():
        cls = classes.get(name)
        if cls is None:
            raise ValueError(f"no fake named {name!r}; known: {', '.join(classes)}")
        extra = cls.unlimited_settings() if rate_limits == "off" else {}
        fakes[name] = cls(base_url=url, clock=WallClock(), seed=seed, **extra)
    return fakes


def serve_fakes(
    names: Iterable[str],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    rate_limits: str = "network",
    seed: int = 0,
    ready: Callable[[dict[str, Any]], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Serve each fake named on its own port of ``host`` (``port``, ``port + 1`` … in the order
    given; ``0``: free ports) until ``stop`` is set or the process is interrupted. Each fake is
    at the root of its own origin, as the real services are. ``ready`` gets ``{name:
    {"base_url", "settings"}}`` once every port listens."""
    import socket

    try:
        import uvicorn
    except ImportError as exc:  # pragma: no cover - depends on the environment
        from socialkit._errors import ConfigurationError

        raise ConfigurationError(
            "serving fakes needs uvicorn: pip install 'socialkit-client[testing]'"
        ) from exc
    wanted = list(dict.fromkeys(names))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    sockets: dict[str, socket.socket] = {}
    bases: dict[str, str] = {}
    try:
        for index, name in enumerate(wanted):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets[name] = sock
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port + index if port else 0))
            bases[name] = f"http://{shown}:{sock.getsockname()[1]}"
        fakes = make_fakes(bases, rate_limits=rate_limits, seed=seed)
    except BaseException:
        for sock in sockets.values():
            sock.close()
        raise
    servers: list[tuple[Any, threading.Thread]] = []
    try:
        for name, fake in fakes.items():
            config = uvicorn.Config(fake.served_app(), log_level="warning", lifespan="off")
            server = uvicorn.Server(config)
            thread = threading.Thread(
                target=server.run, kwargs={"sockets": [sockets[name]]}, daemon=True
            )
            thread.start()
            servers.append((server, thread))
        deadline = time.monotonic() + 10
        while not all(server.started for server, _ in servers):
            if time.monotonic() > deadline:  # pragma: no cover - a broken environment
                raise RuntimeError("the fake servers did not start")
            time.sleep(0.01)
        if ready is not None:
            ready(
                {
                    name: {"base_url": fake.base_url, "settings": _json_settings(fake.settings())}
                    for name, fake in fakes.items()
                }
            )
        while all(t.is_alive() for _, t in servers) and (stop is None or not stop.is_set()):
            time.sleep(0.2)
    finally:
        for server, _ in servers:
            server.should_exit = True
        for _, thread in servers:
            thread.join(timeout=10)
        for sock in sockets.values():
            sock.close()
