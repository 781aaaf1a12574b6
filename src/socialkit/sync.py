"""Blocking access to socialkit for scripts and WSGI applications.

There is no second copy of the code: every call goes to the real async adapters and workflows
through one event loop that runs in a background thread (anyio's blocking portal), shared by the
whole process and started on first use. Iterators stay lazy: each item is fetched when the loop
asks for it, so ``for post in net.posts(limit=10_000)`` reads page by page.

>>> from socialkit import sync, Post
>>> with sync.connect("mastodon", instance="https://mastodon.social", access_token="…") as net:
...     posted = net.publish(Post(text="Hello"))
...     for post in net.posts(limit=20):
...         print(post.url)

Any object can be wrapped with :func:`blocking` (a ``Hub``, an ``Inbox``, an adapter built by
hand): coroutine methods become blocking calls, async iterators become lazy iterators, and
async context managers become context managers.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import inspect
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any, Generic, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from socialkit._registry import connect as _connect

__all__ = ["Blocking", "blocking", "connect", "portal", "run"]

T = TypeVar("T")

_lock = threading.Lock()
_portal_cm: AbstractContextManager[BlockingPortal] | None = None
_portal: BlockingPortal | None = None


def portal() -> BlockingPortal:
    """The process's event-loop portal (started on first use, stopped at exit)."""
    global _portal, _portal_cm
    with _lock:
        if _portal is None:
            _portal_cm = start_blocking_portal(backend="asyncio")
            _portal = _portal_cm.__enter__()
            atexit.register(_stop)
        return _portal


def _stop() -> None:
    global _portal, _portal_cm
    with _lock:
        if _portal is not None and _portal_cm is not None:
            # Cancel what still runs (a stream left open in a daemon thread, a call interrupted
            # by Ctrl-C): stopping without cancelling would wait for it forever at exit.
            with contextlib.suppress(Exception):
                _portal.call(_portal.stop, True)
            with contextlib.suppress(Exception):
                _portal_cm.__exit__(None, None, None)
        _portal, _portal_cm = None, None


def run(func: Callable[..., Any], *args: Any) -> Any:
    """Run ``await func(*args)`` on the portal's loop and return its result."""
    return portal().call(func, *args)


class _LazyIterator(Iterator[T]):
    """A blocking iterator over an async iterator that lives on the portal's loop.

    The async iterator's other attributes show through: a :class:`~socialkit.Paged`'s
    ``cursor`` and ``exhausted``, and ``pages()`` as a blocking iterator of pages. Items with
    async methods (an inbox delivery's ``ack()``) come back blocking.
    """

    def __init__(self, source: AsyncIterator[T]) -> None:
        self._source = source
        self._done = False

    def __iter__(self) -> _LazyIterator[T]:
        return self

    def __next__(self) -> T:
        if self._done:
            raise StopIteration
        try:
            item = _wrap(run(self._source.__anext__))
        except StopAsyncIteration:
            self._done = True
            raise StopIteration from None
        return Blocking(item) if _has_async_methods(item) else item  # type: ignore[return-value]

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._source, name)
        if callable(attr):

            def call(*args: Any, **kwargs: Any) -> Any:
                return _wrap(attr(*args, **kwargs))

            return call
        return attr

    def close(self) -> None:
        """Stop early and let the async iterator clean up (closes open pages)."""
        if not self._done:
            self._done = True
            aclose = getattr(self._source, "aclose", None)
            if aclose is not None:
                run(aclose)

    def __del__(self) -> None:
        with contextlib.suppress(Exception):
            if not self._done and _portal is not None:
                self.close()


def _wrap(value: Any) -> Any:
    if isinstance(value, AsyncIterator):
        return _LazyIterator(value)
    if inspect.isawaitable(value):
        awaitable = value

        async def wait() -> Any:
            return await awaitable

        return _wrap(run(wait))
    return value


def _has_async_methods(value: object) -> bool:
    kind = type(value)
    return any(
        inspect.iscoroutinefunction(getattr(kind, name, None))
        for name in dir(kind)
        if not name.startswith("__")
    )


class Blocking(Generic[T]):
    """A blocking view of an async object: same methods, no ``await``.

    ``wrapped`` is the async object itself, for code that needs it.
    """

    def __init__(self, wrapped: T) -> None:
        object.__setattr__(self, "wrapped", wrapped)

    wrapped: T

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.wrapped, name)
        if not callable(attr):
            # An attribute that is itself an async object (an inbox's store, a hub's adapter)
            # comes back blocking too; plain values and containers come back as they are.
            return Blocking(attr) if _has_async_methods(attr) else attr

        @functools.wraps(attr)
        def call(*args: Any, **kwargs: Any) -> Any:
            if inspect.iscoroutinefunction(attr):

                async def invoke() -> Any:
                    return await attr(*args, **kwargs)

                return _wrap(run(invoke))
            return _wrap(attr(*args, **kwargs))

        return call

    def __repr__(self) -> str:
        return f"Blocking({self.wrapped!r})"

    def __enter__(self) -> Blocking[T]:
        enter = getattr(self.wrapped, "__aenter__", None)
        if enter is not None:
            run(enter)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        leave = getattr(self.wrapped, "__aexit__", None)
        if leave is not None:
            run(leave, exc_type, exc, tb)

    def close(self) -> None:
        """``aclose()`` the wrapped object."""
        aclose = getattr(self.wrapped, "aclose", None)
        if aclose is not None:
            run(aclose)


def blocking(obj: T) -> Blocking[T]:
    """Wrap any socialkit object (adapter, Hub, workflow) for blocking use."""
    return Blocking(obj)


def connect(name: str, /, **settings: Any) -> Blocking[Any]:
    """:func:`socialkit.connect`, blocking: use it as a context manager.

    The adapter's HTTP client is created on the portal's loop, where every call then runs.
    """

    async def make() -> Any:
        return _connect(name, **settings)

    return Blocking(run(make))
