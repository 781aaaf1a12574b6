"""What every documentation block runs with: the fake networks, a few names, and a network guard.

The prelude (also described in CONTRIBUTING.md, "Code blocks in the docs"):

- ``socialkit.connect``, ``socialkit.sync.connect`` and ``SomeAdapter.connect`` give the real
  adapter connected to an in-process fake network (every fake of ``socialkit.testing.fakes``:
  ``FakeMastodon``, ``FakeBluesky``, ``FakeX``, ``FakeTikTok`` …) whatever credentials the block
  passes: a block is written exactly as a user writes it.
- Names a block may use without defining them: ``fake_<network>`` for every fake
  (``fake_mastodon``, ``fake_facebook``, ``fake_tiktok`` …; made when a block uses it, so blocks
  stay fast), ``post`` (a ``Post``), ``store`` (a ``SQLiteStore`` in the scratch folder) and, in
  blocks with top-level ``await``, ``net`` / ``mastodon`` (a connected ``MastodonAdapter``),
  ``bluesky``, ``x`` and ``adapters`` (all three).
- The block runs in a scratch folder that holds ``cat.png`` (a real 1x1 PNG) and ``clip.mp4``
  (the head of an MP4 file).
- Any connection or name lookup outside the loopback range fails the block (nothing a docs test
  runs may reach a real server, even when a block is wrong).
"""

from __future__ import annotations

import ast
import asyncio
import contextlib
import inspect
import ipaddress
import os
import signal
import socket
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any


def _png_1x1() -> bytes:
    """A valid 1x1 RGBA PNG, built here (signature, IHDR, IDAT, IEND with their CRCs)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x80\x00\xff")
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


PNG_1X1 = _png_1x1()
#: The head of an MP4 file (an ``ftyp`` and an empty ``free`` box): sniffed as video/mp4.
MP4_HEAD = (
    bytes.fromhex("00000018667479706d70343200000000")
    + b"mp42isom"
    + bytes.fromhex("00000008")
    + b"free"
)


def _fake_classes() -> dict[str, str]:
    """Every fake network of ``socialkit.testing.fakes``: its network's name, its class name
    (``FakeTikTok`` fakes ``tiktok``). Nothing is imported but the package's lazy index."""
    from socialkit.testing import fakes

    return {
        name.removeprefix("Fake").lower(): name
        for name in fakes.__all__
        if name.startswith("Fake") and name not in {"FakeClock", "FakeNetwork", "FakeUser"}
    }


#: Network name -> fake class name, for every fake.
FAKES = _fake_classes()

#: The names a block may use without defining them.
PRELUDE_NAMES = tuple(
    sorted(
        {"adapters", "bluesky", "mastodon", "net", "post", "store", "x"}
        | {f"fake_{network}" for network in FAKES}
    )
)

#: The prelude's names as mypy sees them (prepended to each block for ``mypy --strict``).
STUB = f"""\
from socialkit import Post, SQLiteStore
from socialkit.adapters.bluesky import BlueskyAdapter
from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.adapters.x import XAdapter
from socialkit.testing.fakes import {", ".join(sorted(FAKES.values()))}

__all__ = {list(PRELUDE_NAMES)!r}

{"".join(f"fake_{network}: {cls}{chr(10)}" for network, cls in sorted(FAKES.items()))}\
net: MastodonAdapter
mastodon: MastodonAdapter
bluesky: BlueskyAdapter
x: XAdapter
adapters: list[MastodonAdapter | BlueskyAdapter | XAdapter]
post: Post
store: SQLiteStore
"""


#: The longest a block may run.
BLOCK_SECONDS = 30.0


def _loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in {"localhost", "localhost.localdomain"}:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


class NetworkRefused(AssertionError):
    """A docs block tried to reach something outside the loopback range."""


@contextlib.contextmanager
def network_guard() -> Iterator[None]:
    """Refuse every socket connection and name lookup that is not loopback (or a Unix socket)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def check(sock: socket.socket, address: Any) -> None:
        if sock.family == getattr(socket, "AF_UNIX", None):
            return
        host = address[0] if isinstance(address, tuple) else address
        if not _loopback(host):
            raise NetworkRefused(f"a docs block tried to connect to {host!r}")

    def connect(sock: socket.socket, address: Any) -> None:
        check(sock, address)
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(sock, address)
        return real_connect_ex(sock, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, bytes):
            host = host.decode()
        if host is not None and not _loopback(host):
            raise NetworkRefused(f"a docs block tried to look up {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo
    try:
        yield
    finally:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]
        socket.getaddrinfo = real_getaddrinfo


@contextlib.contextmanager
def fakes_behind_connect(fakes: LazyFakes) -> Iterator[None]:
    """Route every ``connect`` of a network that has a fake to that fake (credentials ignored;
    the generic settings such as ``account`` or ``rate_limit`` are kept)."""
    import socialkit
    from socialkit import _registry
    from socialkit.adapters._base import Adapter, AdapterSettings

    original = _registry.connect
    assert socialkit.connect is original  # loaded on first use: load it before patching
    generic = set(AdapterSettings.model_fields) - {"store"}

    def connect(name: str, /, *, http: Any = None, **settings: Any) -> Any:
        if http is not None or name not in fakes:
            return original(name, http=http, **settings)
        kept = {key: value for key, value in settings.items() if key in generic}
        return fakes[name].connect(**kept)

    original_classmethod = Adapter.__dict__["connect"]

    def adapter_connect(cls: type[Adapter], settings: Any = None, /, **values: Any) -> Any:
        if settings is None and values.get("http") is None and cls.name in fakes:
            values.pop("http", None)
            return connect(cls.name, **values)
        return original_classmethod.__func__(cls, settings, **values)

    patched: list[tuple[object, str, object]] = []
    for module in list(sys.modules.values()):
        if module is None or not getattr(module, "__name__", "").startswith("socialkit"):
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                patched.append((module, attr, value))
                setattr(module, attr, connect)
    Adapter.connect = classmethod(adapter_connect)  # type: ignore[assignment, method-assign]
    assert socialkit.connect is connect
    try:
        yield
    finally:
        for module, attr, value in patched:
            setattr(module, attr, value)
        Adapter.connect = original_classmethod  # type: ignore[method-assign]


class LazyFakes:
    """The block's fake networks, by network name, each made when first used."""

    def __init__(self) -> None:
        self._made: dict[str, Any] = {}

    def __contains__(self, network: object) -> bool:
        return network in FAKES

    def __getitem__(self, network: str) -> Any:
        if network not in self._made:
            from socialkit.testing import fakes

            fake = getattr(fakes, FAKES[network])()
            assert fake.name == network, (fake.name, network)
            self._made[network] = fake
        return self._made[network]


def _names(code: Any) -> set[str]:
    """Every global name the code (and the functions and classes in it) refers to."""
    found = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            found |= _names(const)
    return found


def run_python(code: str, filename: str, workdir: Path) -> dict[str, Any]:
    """Run a block's code with the prelude; returns its namespace afterwards."""
    from socialkit import Post, SQLiteStore

    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "cat.png").write_bytes(PNG_1X1)
    (workdir / "clip.mp4").write_bytes(MP4_HEAD)
    fakes = LazyFakes()
    compiled = compile(code, filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    used = _names(compiled)
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "__file__": filename,
        "post": Post(text="Hello from the docs"),
        "store": SQLiteStore(str(workdir / "docs.db")),
    }
    namespace.update(
        {f"fake_{network}": fakes[network] for network in FAKES if f"fake_{network}" in used}
    )
    previous = Path.cwd()
    os.chdir(workdir)

    # A block that never ends (a loop that waits for the network forever) fails, not hangs.
    def expire(signum: int, frame: object) -> None:
        raise TimeoutError(f"{filename} ran for more than {BLOCK_SECONDS} s")

    old_handler = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, BLOCK_SECONDS)
    try:
        with network_guard(), fakes_behind_connect(fakes):
            if compiled.co_flags & inspect.CO_COROUTINE:
                asyncio.run(_run_async(compiled, namespace, fakes))
            else:
                exec(compiled, namespace)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old_handler)
        os.chdir(previous)
    return namespace


async def _run_async(compiled: Any, namespace: dict[str, Any], fakes: LazyFakes) -> None:
    async with contextlib.AsyncExitStack() as stack:
        mastodon = await stack.enter_async_context(fakes["mastodon"].connect())
        bluesky = await stack.enter_async_context(fakes["bluesky"].connect())
        x = await stack.enter_async_context(fakes["x"].connect())
        namespace.update(
            net=mastodon, mastodon=mastodon, bluesky=bluesky, x=x, adapters=[mastodon, bluesky, x]
        )
        result: Callable[[], Any] | Any = eval(compiled, namespace)
        if inspect.isawaitable(result):
            await result
