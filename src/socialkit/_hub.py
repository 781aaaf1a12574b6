"""``Hub``: many accounts at once, with a result or an error per account.

Partial failure is normal: one account failing never cancels or hides the others, and the batch
itself never raises for an account's error. Concurrency is bounded by a semaphore.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar

from socialkit._models import Message, MessageKind, Metric, Post, Problem

if TYPE_CHECKING:
    from types import TracebackType

    from socialkit.adapters._base import Adapter

__all__ = ["Hub", "Result"]

T = TypeVar("T")


@dataclass(frozen=True)
class Result(Generic[T]):
    """What one account gave: a ``value``, or the ``error`` it raised."""

    account: str
    value: T | None = None
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> T:
        """The value, or raise the account's error."""
        if self.error is not None:
            raise self.error
        assert self.value is not None
        return self.value


class Hub:
    """A group of adapters (accounts) used together.

    ``adapters`` is a mapping of label to adapter, or an iterable of adapters labelled by
    :attr:`Adapter.label` (which must then be unique).
    """

    def __init__(
        self,
        adapters: Mapping[str, Adapter] | Iterable[Adapter],
        *,
        concurrency: int = 8,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if isinstance(adapters, Mapping):
            self.adapters: dict[str, Adapter] = dict(adapters)
        else:
            self.adapters = {}
            for adapter in adapters:
                if adapter.label in self.adapters:
                    raise ValueError(
                        f"two adapters are labelled {adapter.label!r}; give each an account= "
                        "setting or pass a mapping"
                    )
                self.adapters[adapter.label] = adapter
        self.concurrency = concurrency

    def __repr__(self) -> str:
        return f"Hub({sorted(self.adapters)})"

    async def __aenter__(self) -> Hub:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close every adapter (each closes only what it opened)."""
        await asyncio.gather(*(a.aclose() for a in self.adapters.values()))

    async def _each(
        self,
        call: Callable[[str, Adapter], Awaitable[T]],
        only: Iterable[str] | None = None,
    ) -> dict[str, Result[T]]:
        labels = list(self.adapters) if only is None else list(only)
        unknown = [label for label in labels if label not in self.adapters]
        if unknown:
            raise KeyError(f"no adapter labelled {', '.join(unknown)}")
        gate = asyncio.Semaphore(self.concurrency)

        async def one(label: str) -> Result[T]:
            async with gate:
                try:
                    return Result(label, value=await call(label, self.adapters[label]))
                except Exception as exc:  # one account's failure is its own result
                    return Result(label, error=exc)

        results = await asyncio.gather(*(one(label) for label in labels))
        return {r.account: r for r in results}

    def check(self, post: Post) -> dict[str, list[Problem]]:
        """The pre-flight problems of ``post`` on each account (empty list: fine)."""
        return {label: adapter.check(post) for label, adapter in self.adapters.items()}

    async def publish(self, post: Post | Mapping[str, Post]) -> dict[str, Result[Post]]:
        """Publish to every account at once (or a per-account mapping of posts)."""
        if isinstance(post, Post):
            return await self._each(lambda _label, a: a.publish(post))
        posts = dict(post)
        return await self._each(lambda label, a: a.publish(posts[label]), posts)

    async def metrics(
        self, post_ids: Mapping[str, Iterable[str]]
    ) -> dict[str, Result[dict[str, list[Metric]]]]:
        """Post metrics for each account's post ids (``{label: [post_id, ...]}``)."""
        ids = {label: list(v) for label, v in post_ids.items()}
        return await self._each(lambda label, a: a.metrics(ids[label]), ids)

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> dict[str, Result[list[Metric]]]:
        return await self._each(lambda _label, a: a.account_metrics(since=since, until=until))

    async def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        limit: int | None = 100,
    ) -> dict[str, Result[list[Message]]]:
        """Up to ``limit`` recent messages per account."""
        wanted = None if kinds is None else list(kinds)

        async def collect(_label: str, adapter: Adapter) -> list[Message]:
            return [m async for m in adapter.messages(kinds=wanted, since=since, limit=limit)]

        return await self._each(collect)
