"""The fault matrix: the real adapters against the fake networks, through a faulty network.

For each fault below, a post is published once through a :class:`FaultProxy` that sits on
127.0.0.1 between the real adapter (real sockets, the default transport) and the fake network
(:mod:`socialkit.testing.fakes`, run in-process). The proxy passes every request to the fake,
and applies the fault to the network's *create* request while the fault is on. The posts are
then counted at the fake, twice:

1. after the first ``publish``: the application was told either a post (it must be online,
   exactly once), :class:`~socialkit.OutcomeUnknownError` (it may or may not be online, at most
   once), or another error, which says that nothing was published (nothing may be online);
2. after the application's one retry, made as the docs say (the same ``idempotency_key``; the
   network healthy again): exactly one post must be online, the one the application holds.

``lost`` counts posts the application believes online that are not, or none online after its
retry; ``duplicated`` counts copies beyond the first; ``misreported`` counts posts online although
the error said nothing was published (the retry of such an application duplicates).

Adapter tests subclass :class:`FaultSuite` and set ``network``; ``known_failures`` maps a fault
to the reason it does not pass yet (a strict xfail). ``python -m socialkit.testing.faults``
prints the figures as a Markdown table (see docs/reliability.md).

Every loop here ends by itself: the adapter runs with tiny timeouts, no retry waits and a few
attempts; a hanging or dripping answer is bounded by :data:`HANG_LIMIT`; nothing leaves
127.0.0.0/8 (the redirect goes to 127.0.0.2, where a listener counts connections).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import socket
import struct
import time
import uuid
import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import h11
import httpx
import pytest

from socialkit._errors import OutcomeUnknownError, SocialkitError
from socialkit._models import Post

if TYPE_CHECKING:
    from socialkit.adapters._base import Adapter
    from socialkit.testing.fakes import FakeNetwork

__all__ = [
    "FAULTS",
    "HANG_LIMIT",
    "CASE_SETTINGS",
    "CaseResult",
    "FaultProxy",
    "FaultSuite",
    "NetworkTarget",
    "TARGETS",
    "markdown_table",
    "run_case",
    "run_matrix",
]

#: Each fault and what the proxy does to the create request while the fault is on.
FAULTS: Mapping[str, str] = {
    "refused": "nothing listens: every connection is refused",
    "reset_before": "the connection is reset when the create arrives, before the fake sees it",
    "reset_after": "the fake creates the post, then the connection is reset instead of an answer",
    "read_timeout": "the fake creates the post; the answer comes after the client's timeout",
    "hang": "the create is read and never answered (the fake never sees it)",
    "drip": "the fake creates the post; the answer is sent a few bytes at a time",
    "storm_429": "every create is answered 429 Too Many Requests (Retry-After: 0)",
    "storm_5xx": "every create is answered 503 without reaching the fake",
    "lost_answer_502": "the fake creates the post; a gateway answers 502 instead",
    "malformed": "the fake creates the post; 200 with JSON cut in the middle",
    "html": "the fake creates the post; 200 with an HTML page",
    "truncated": "the fake creates the post; the body stops half way (Content-Length says more)",
    "empty": "the fake creates the post; 200 with an empty body",
    "oversized": "the fake creates the post; its answer padded to 8 MiB",
    "gzip_bomb": "the fake creates the post; its answer plus 64 MiB of whitespace, gzip-encoded",
    "redirect": "every create is answered 307 to another host (127.0.0.2, which counts visits)",
}

#: The longest a hanging, slow or dripping answer holds a connection, seconds.
HANG_LIMIT = 3.0

#: Adapter settings of the matrix: tiny timeouts, no waits, few attempts (seconds per case).
CASE_SETTINGS: Mapping[str, Any] = {
    "timeout": 0.5,
    "retries": 3,
    "retry_wait": False,
    "retry_budget": 5.0,
    "max_wait": 1.0,
}

_HOP_BY_HOP = {
    b"connection",
    b"content-encoding",
    b"content-length",
    b"host",
    b"keep-alive",
    b"transfer-encoding",
}


@dataclass(frozen=True)
class NetworkTarget:
    """What the matrix needs to know of one network: its fake, its create request, its posts."""

    name: str
    make_fake: Callable[[str], FakeNetwork]
    is_create: Callable[[str, str], bool]
    count_posts: Callable[[FakeNetwork], list[str]]
    """Ids of the owner's posts online at the fake."""
    make_post: Callable[[str], Post] | None = None
    """The post the matrix publishes, given its (unique) text; by default a text-only post
    (a network that takes none, as TikTok or Pinterest, gives one with media)."""


def _mastodon(base_url: str) -> FakeNetwork:
    from socialkit.testing.fakes import FakeMastodon

    return FakeMastodon(base_url=base_url)


def _bluesky(base_url: str) -> FakeNetwork:
    from socialkit.testing.fakes import FakeBluesky

    return FakeBluesky(base_url=base_url)


def _x(base_url: str) -> FakeNetwork:
    from socialkit.testing.fakes import FakeX

    return FakeX(base_url=base_url)


def _mastodon_posts(fake: FakeNetwork) -> list[str]:
    return list(fake.statuses_of(fake.owner))  # type: ignore[attr-defined]


def _bluesky_posts(fake: FakeNetwork) -> list[str]:
    return [str(r["uri"]) for r in fake.records(fake.owner)]  # type: ignore[attr-defined]


def _x_posts(fake: FakeNetwork) -> list[str]:
    posts = fake.posts.values()  # type: ignore[attr-defined]
    return [str(p.id) for p in posts if p.author_id == fake.owner.id]


#: The networks the matrix runs for.
TARGETS: Mapping[str, NetworkTarget] = {
    "mastodon": NetworkTarget(
        "mastodon",
        _mastodon,
        lambda method, path: method == "POST" and path == "/api/v1/statuses",
        _mastodon_posts,
    ),
    "bluesky": NetworkTarget(
        "bluesky",
        _bluesky,
        lambda method, path: (
            method == "POST"
            and path
            in ("/xrpc/com.atproto.repo.createRecord", "/xrpc/com.atproto.repo.applyWrites")
        ),
        _bluesky_posts,
    ),
    "x": NetworkTarget(
        "x", _x, lambda method, path: method == "POST" and path == "/2/tweets", _x_posts
    ),
}


# -- the proxy --------------------------------------------------------------------------------


class FaultProxy:
    """An HTTP/1.1 server on 127.0.0.1 that passes requests to an ASGI app, with faults.

    ``fault`` names an entry of :data:`FAULTS`; it applies while ``armed`` is true, to requests
    ``is_create`` picks (``refused`` stops listening altogether). ``creates_forwarded`` counts
    the creates that reached the app, ``faults_applied`` the requests the fault hit, and
    ``redirect_visits`` the connections the redirect target
    received. ``answer_delay``: how late ``read_timeout`` answers (at most :data:`HANG_LIMIT`).
    Bind first (``url`` is known at once), then :meth:`start` with the app.
    """

    def __init__(
        self,
        is_create: Callable[[str, str], bool],
        *,
        host: str = "127.0.0.1",
        answer_delay: float = 1.5,
    ) -> None:
        self.host = host
        self.answer_delay = min(answer_delay, HANG_LIMIT)
        self.is_create = is_create
        self.fault: str | None = None
        self._armed = False
        self.creates_forwarded = 0
        self.faults_applied = 0
        self.redirect_visits = 0
        self._sock: socket.socket | None = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        self._server: asyncio.Server | None = None
        self._trap: asyncio.Server | None = None
        self._trap_url = ""
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._upstream: httpx.AsyncClient | None = None

    async def start(self, app: Any) -> None:
        self._upstream = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=self.url, timeout=10.0
        )
        await self._listen()
        self._trap = await asyncio.start_server(self._visit, "127.0.0.2", 0)
        trap_port = self._trap.sockets[0].getsockname()[1]
        self._trap_url = f"http://127.0.0.2:{trap_port}"

    async def _listen(self) -> None:
        if self._sock is not None:
            sock, self._sock = self._sock, None
            self._server = await asyncio.start_server(self._handle, sock=sock)
        else:
            self._server = await asyncio.start_server(
                self._handle, self.host, self.port, reuse_address=True
            )

    async def _visit(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.redirect_visits += 1
        writer.close()

    @property
    def armed(self) -> bool:
        return self._armed

    async def arm(self, fault: str) -> None:
        """Turn ``fault`` on (for ``refused``: stop listening and drop open connections)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; one of {', '.join(FAULTS)}")
        self.fault, self._armed = fault, True
        if fault == "refused" and self._server is not None:
            self._server.close()
            self._server = None
            for writer in list(self._writers):
                _reset(writer)

    async def disarm(self) -> None:
        """Turn the fault off: the network is healthy again."""
        self._armed = False
        if self._server is None:
            await self._listen()

    async def aclose(self) -> None:
        for server in (self._server, self._trap):
            if server is not None:
                server.close()
        for writer in list(self._writers):
            writer.close()
        # Handlers still holding a slow answer end here, not after the event loop has gone.
        tasks = [t for t in self._tasks if not t.done()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=HANG_LIMIT)
        if self._upstream is not None:
            await self._upstream.aclose()
        if self._sock is not None:
            self._sock.close()

    # -- one connection ------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        conn = h11.Connection(h11.SERVER, max_incomplete_event_size=64 * 1024)
        try:
            while True:
                received = await _read_request(conn, reader)
                if received is None:
                    break
                request, body = received
                keep = await self._respond(conn, reader, writer, request, body)
                if not keep or conn.our_state is h11.MUST_CLOSE:
                    break
                conn.start_next_cycle()
        except (ConnectionError, h11.ProtocolError, asyncio.IncompleteReadError, OSError):
            pass
        finally:
            self._writers.discard(writer)
            if not writer.is_closing():
                writer.close()

    async def _forward(self, request: h11.Request, body: bytes) -> httpx.Response:
        assert self._upstream is not None
        headers = [(k, v) for k, v in request.headers if k.lower() not in _HOP_BY_HOP]
        return await self._upstream.request(
            request.method.decode(), request.target.decode(), headers=headers, content=body
        )

    async def _respond(
        self,
        conn: h11.Connection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        request: h11.Request,
        body: bytes,
    ) -> bool:
        """Answer one request; False when the connection must end."""
        method = request.method.decode()
        path = request.target.decode().split("?", 1)[0]
        fault = self.fault if self._armed and self.is_create(method, path) else None
        if fault is not None:
            self.faults_applied += 1
        if fault == "reset_before":
            _reset(writer)
            return False
        if fault == "hang":
            await _hold(reader, writer)
            return False
        if fault == "storm_429":
            return await _send(conn, writer, 429, _json_error("Too many requests"), retry="0")
        if fault == "storm_5xx":
            return await _send(conn, writer, 503, _json_error("Service unavailable"))
        if fault == "redirect":
            location = self._trap_url + request.target.decode()
            return await _send(conn, writer, 307, b"", location=location)
        response = await self._forward(request, body)
        if self.is_create(method, path):
            self.creates_forwarded += 1
        content = response.content
        headers = [
            (k, v)
            for k, v in response.headers.raw
            if k.lower() not in _HOP_BY_HOP and k.lower() != b"date"
        ]
        if fault is None:
            return await _send(conn, writer, response.status_code, content, headers=headers)
        if fault == "reset_after":
            _reset(writer)
            return False
        if fault == "read_timeout":
            await asyncio.sleep(self.answer_delay)
            with contextlib.suppress(ConnectionError, OSError):
                await _send(conn, writer, response.status_code, content, headers=headers)
            return False
        if fault == "drip":
            await _drip(writer, response.status_code, headers, content)
            return False
        if fault == "lost_answer_502":
            page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            return await _send(conn, writer, 502, page, content_type="text/html")
        if fault == "malformed":
            return await _send(conn, writer, 200, content[: max(1, len(content) // 2)])
        if fault == "html":
            page = b"<!DOCTYPE html><html><body><p>Welcome to the network</p></body></html>"
            return await _send(conn, writer, 200, page, content_type="text/html")
        if fault == "truncated":
            head = _head(response.status_code, headers, len(content))
            writer.write(head + content[: len(content) // 2])
            await writer.drain()
            return False
        if fault == "empty":
            return await _send(conn, writer, 200, b"", headers=headers)
        if fault == "oversized":
            return await _send(conn, writer, response.status_code, _pad(content), headers=headers)
        if fault == "gzip_bomb":
            bomb = zlib.compressobj(1, zlib.DEFLATED, 31)
            packed = bomb.compress(content) + bomb.compress(b" " * (64 << 20)) + bomb.flush()
            return await _send(
                conn, writer, response.status_code, packed, headers=headers, encoding="gzip"
            )
        raise AssertionError(f"fault {fault!r} has no behaviour")  # pragma: no cover


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader
) -> tuple[h11.Request, bytes] | None:
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(65536))
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            assert request is not None
            return request, bytes(body)
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset (RST), not a clean FIN."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def _hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Keep the connection open without answering, until the client leaves or HANG_LIMIT."""
    with contextlib.suppress(asyncio.TimeoutError, ConnectionError, OSError):
        await asyncio.wait_for(reader.read(), HANG_LIMIT)  # returns at the client's EOF
    _reset(writer)


def _json_error(message: str) -> bytes:
    return json.dumps({"error": message, "message": message}).encode()


def _pad(content: bytes) -> bytes:
    padding = b"x" * (8 << 20)
    if content.startswith(b"{") and len(content) > 2:
        return b'{"socialkit_padding":"' + padding + b'",' + content[1:]
    return content + b" " * len(padding)


def _head(status: int, headers: list[tuple[bytes, bytes]], length: int) -> bytes:
    lines = [f"HTTP/1.1 {status} X".encode()]
    lines += [k + b": " + v for k, v in headers]
    lines += [f"Content-Length: {length}".encode(), b"Connection: close"]
    return b"\r\n".join(lines) + b"\r\n\r\n"


async def _drip(
    writer: asyncio.StreamWriter, status: int, headers: list[tuple[bytes, bytes]], content: bytes
) -> None:
    """The answer in 40 pieces 10 ms apart (each gap far below the client's read timeout)."""
    data = _head(status, headers, len(content)) + content
    step = max(1, len(data) // 40)
    deadline = time.monotonic() + HANG_LIMIT
    for start in range(0, len(data), step):
        if writer.is_closing() or time.monotonic() > deadline:
            break
        writer.write(data[start : start + step])
        await writer.drain()
        await asyncio.sleep(0.01)
    writer.close()


async def _send(
    conn: h11.Connection,
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    *,
    headers: list[tuple[bytes, bytes]] | None = None,
    content_type: str = "application/json",
    retry: str | None = None,
    location: str | None = None,
    encoding: str | None = None,
) -> bool:
    out = list(headers) if headers is not None else [(b"content-type", content_type.encode())]
    if headers is not None and content_type != "application/json":
        out = [(k, v) for k, v in out if k.lower() != b"content-type"]
        out.append((b"content-type", content_type.encode()))
    out.append((b"content-length", str(len(body)).encode()))
    if retry is not None:
        out.append((b"retry-after", retry.encode()))
    if location is not None:
        out.append((b"location", location.encode()))
    if encoding is not None:
        out.append((b"content-encoding", encoding.encode()))
    data = conn.send(h11.Response(status_code=status, headers=out))
    data = (data or b"") + (conn.send(h11.Data(data=body)) or b"")
    data += conn.send(h11.EndOfMessage()) or b""
    writer.write(data)
    await writer.drain()
    return True


# -- one case ---------------------------------------------------------------------------------


@dataclass
class CaseResult:
    """What one fault did to one post on one network (see the module docstring)."""

    network: str
    fault: str
    first: str
    """``ok`` or the name of the error the first ``publish`` raised."""
    online_after_first: int
    lost: int = 0
    duplicated: int = 0
    misreported: int = 0
    after_retry: str = ""
    """``ok``, ``-`` (no retry needed) or the error of the retry."""
    retry_lost: int = 0
    retry_duplicated: int = 0
    creates_forwarded: int = 0
    redirect_visits: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.problems()

    def problems(self) -> list[str]:
        found = []
        for name in ("lost", "duplicated", "misreported", "retry_lost", "retry_duplicated"):
            if getattr(self, name):
                found.append(f"{name}={getattr(self, name)}")
        if self.redirect_visits:
            found.append(f"the redirect was followed {self.redirect_visits} time(s)")
        return found + self.notes


def _takes_key(adapter: Adapter) -> bool:
    return "idempotency_key" in inspect.signature(adapter.publish).parameters


async def _publish(adapter: Adapter, post: Post, key: str) -> Post:
    """``publish`` with the application's idempotency key (as docs/reliability.md says);
    adapters that do not take one yet are called without it."""
    if _takes_key(adapter):
        call: Callable[..., Awaitable[Post]] = adapter.publish
        return await call(post, idempotency_key=key)
    return await adapter.publish(post)


async def run_case(
    network: str | NetworkTarget, fault: str, *, settings: Mapping[str, Any] | None = None
) -> CaseResult:
    """Publish one post on ``network`` (a name in :data:`TARGETS`, or a target of your own)
    through ``fault``, then retry once as an application should; count the posts at the fake
    after each step. ``settings`` override :data:`CASE_SETTINGS`."""
    from socialkit._http import make_client

    target = network if isinstance(network, NetworkTarget) else TARGETS[network]
    network = target.name
    options = {**CASE_SETTINGS, **(settings or {})}
    # read_timeout: the answer comes well after the client gave up on it.
    proxy = FaultProxy(target.is_create, answer_delay=float(options["timeout"]) * 3)
    fake = target.make_fake(proxy.url)
    await proxy.start(fake.app)
    http = make_client(timeout=float(options["timeout"]))
    adapter = fake.connect(http=http, **options)
    text = f"fault matrix: {fault} {uuid.uuid4().hex[:8]}"
    post = target.make_post(text) if target.make_post is not None else Post(text=text)
    key = str(uuid.uuid4())
    try:
        await proxy.arm(fault)
        first: Post | None = None
        error: BaseException | None = None
        try:
            first = await asyncio.wait_for(_publish(adapter, post, key), HANG_LIMIT * 5)
        except (SocialkitError, asyncio.TimeoutError) as exc:
            error = exc
        await proxy.disarm()
        online = target.count_posts(fake)
        result = CaseResult(
            network=network,
            fault=fault,
            first="ok" if error is None else type(error).__name__,
            online_after_first=len(online),
        )
        result.duplicated = max(0, len(online) - 1)
        if first is not None:
            if not any(first.id and first.id in item for item in online):
                result.lost = 1
        elif isinstance(error, asyncio.TimeoutError):
            result.notes.append(f"the first publish did not end within {HANG_LIMIT * 5:.0f} s")
        elif not isinstance(error, OutcomeUnknownError) and online:
            result.misreported = len(online)
        final = first
        if first is None:
            try:
                final = await asyncio.wait_for(_publish(adapter, post, key), HANG_LIMIT * 5)
                result.after_retry = "ok"
            except (SocialkitError, asyncio.TimeoutError) as exc:
                result.after_retry = type(exc).__name__
        else:
            result.after_retry = "-"
        online = target.count_posts(fake)
        result.retry_duplicated = max(0, len(online) - 1)
        # Lost, from the application's side: after its retry on a healthy network it must
        # hold a post, and that post must be online.
        if final is None or not any(final.id and final.id in item for item in online):
            result.retry_lost = 1
        result.creates_forwarded = proxy.creates_forwarded
        result.redirect_visits = proxy.redirect_visits
        if fault == "refused" and error is None:
            result.notes.append("the first publish succeeded although nothing listened")
        elif fault != "refused" and proxy.faults_applied == 0:
            result.notes.append("the fault never applied: no request matched the create")
        return result
    finally:
        await adapter.aclose()
        await http.aclose()
        await proxy.aclose()


async def run_matrix(
    networks: list[str] | None = None, faults: list[str] | None = None
) -> list[CaseResult]:
    """Every fault on every network (or the ones named), one case after the other."""
    results = []
    for network in networks or list(TARGETS):
        for fault in faults or list(FAULTS):
            results.append(await run_case(network, fault))
    return results


def markdown_table(results: list[CaseResult]) -> str:
    """The figures of docs/reliability.md."""
    lines = [
        "| network | fault | first publish | lost | duplicated | misreported "
        "| after one retry | lost | duplicated |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.network} | {r.fault} | {r.first} | {r.lost} | {r.duplicated} "
            f"| {r.misreported} | {r.after_retry} | {r.retry_lost} | {r.retry_duplicated} |"
        )
    return "\n".join(lines)


# -- the suite ----------------------------------------------------------------------------------


class FaultSuite:
    """The fault matrix for one network; adapter test modules subclass it::

        class TestMastodonFaults(FaultSuite):
            network = "mastodon"
            known_failures = {"lost_answer_502": "why it does not pass yet"}

    A fault in ``known_failures`` is a strict xfail: the test fails once the fault passes, so
    that the entry is removed.
    """

    network: ClassVar[str] = ""
    """A name in :data:`TARGETS`; or set ``target`` for a network of your own."""
    target: ClassVar[NetworkTarget | None] = None
    known_failures: ClassVar[Mapping[str, str]] = {}

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "fault" not in metafunc.fixturenames:
            return
        params = []
        for fault in FAULTS:
            reason = self.known_failures.get(fault)
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(fault, marks=marks, id=fault))
        metafunc.parametrize("fault", params)

    @pytest.fixture
    def anyio_backend(self) -> str:
        return "asyncio"  # aiohttp, the default transport, runs on asyncio only

    @pytest.mark.anyio
    async def test_fault(self, fault: str) -> None:
        """Nothing lost, nothing published twice, also after the application's one retry."""
        target = self.target or TARGETS.get(self.network)
        if target is None:
            raise AssertionError(f"set target, or network to one of {', '.join(TARGETS)}")
        result = await run_case(target, fault)
        assert result.passed, (
            f"{self.network} / {fault}: {', '.join(result.problems())} "
            f"(first publish: {result.first}, after retry: {result.after_retry})"
        )


def _main() -> None:
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m socialkit.testing.faults",
        description="Run the fault matrix and print its figures as a Markdown table.",
    )
    parser.add_argument("--network", action="append", choices=sorted(TARGETS))
    parser.add_argument("--fault", action="append", choices=list(FAULTS))
    args = parser.parse_args()
    # The adapters log each unknown outcome they reconcile; the table is the output here.
    logging.getLogger("socialkit").setLevel(logging.ERROR)
    results = asyncio.run(run_matrix(args.network, args.fault))
    print(markdown_table(results))


if __name__ == "__main__":
    _main()
