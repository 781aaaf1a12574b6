"""Test support for the workflow tests: a FakeAdapter over in-memory lists.

The workflows see adapters only through that public API (``me``, ``posts``, ``metrics``,
``messages``, ``reply``, ``search`` …), so an in-memory implementation is a faithful stand-in for
testing them. It follows the API's contract: newest first, ``since`` inclusive, ``limit`` caps.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from socialkit import Account, AdapterSettings, Capability, Message, Metric, Post
from socialkit.adapters._base import Adapter

T0 = datetime(2024, 5, 6, 9, 0, tzinfo=timezone.utc)  # a Monday


class FakeAdapter(Adapter):
    """One in-memory account on a network named at construction."""

    name = "fake"

    def __init__(
        self,
        network: str = "fake",
        account: str | None = None,
        *,
        capabilities: Iterable[Capability] = (
            Capability.READ_POSTS,
            Capability.READ_OTHERS,
            Capability.POST_METRICS,
            Capability.MENTIONS,
            Capability.REPLY,
            Capability.SEARCH,
        ),
        followers: int | None = 1000,
    ) -> None:
        super().__init__(AdapterSettings(account=account))
        self.name = network  # type: ignore[misc]
        self.capabilities = frozenset(capabilities)  # type: ignore[misc]
        self.inbox: list[Message] = []
        self.own_posts: list[Post] = []
        self.others: dict[str, list[Post]] = {}
        self.public: list[Post] = []
        self.metric_values: dict[str, dict[str, int]] = {}
        self.replies: list[tuple[str, str]] = []
        self.followers = followers
        self.fail_messages: Exception | None = None
        self.calls: list[tuple[str, Any]] = []

    async def me(self) -> Account:
        return Account(id="me", handle="me", followers=self.followers, network=self.name)

    @staticmethod
    def _window(items: list[Any], since: datetime | None, limit: int | None) -> list[Any]:
        ordered = sorted(items, key=lambda i: (i.created_at, i.id), reverse=True)
        if since is not None:
            ordered = [i for i in ordered if i.created_at >= since]
        return ordered[:limit] if limit is not None else ordered

    async def messages(  # type: ignore[override]
        self,
        *,
        kinds: Iterable[str] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Message]:
        self.calls.append(("messages", since))
        if self.fail_messages is not None:
            raise self.fail_messages
        wanted = None if kinds is None else set(kinds)
        items = [m for m in self.inbox if wanted is None or m.kind in wanted]
        for message in self._window(items, since, limit):
            yield message

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        target = to.id if isinstance(to, Message) else to
        text = post if isinstance(post, str) else post.text
        self.replies.append((target, text))
        return Post(
            id=f"reply-{len(self.replies)}",
            text=text,
            network=self.name,
            reply_to=target,
            created_at=T0,
        )

    async def posts(  # type: ignore[override]
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Post]:
        self.calls.append(("posts", (account, since)))
        items = self.own_posts if account is None else self.others.get(account, [])
        for post in self._window(items, since, limit):
            yield post

    async def search(  # type: ignore[override]
        self, query: str, *, since: datetime | None = None, limit: int | None = None
    ) -> AsyncIterator[Post]:
        self.calls.append(("search", (query, since)))
        needle = query.casefold()
        items = [p for p in self.public if needle in p.text.casefold()]
        for post in self._window(items, since, limit):
            yield post

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        out: dict[str, list[Metric]] = {}
        for post_id in post_ids:
            values = self.metric_values.get(post_id, {})
            out[post_id] = [
                Metric(name=k, value=v, network=self.name, post_id=post_id, period="lifetime")
                for k, v in values.items()
            ]
        return out


def message(
    mid: str,
    text: str = "hello",
    *,
    at: datetime = T0,
    network: str = "x",
    kind: str = "mention",
    author: str = "alice",
    followers: int | None = 100,
    language: str | None = "en",
    conversation: str | None = None,
    post_id: str | None = None,
) -> Message:
    return Message(
        id=mid,
        network=network,
        kind=kind,  # type: ignore[arg-type]
        text=text,
        author=Account(id=f"id-{author}", handle=author, followers=followers),
        created_at=at,
        language=language,
        conversation_id=conversation,
        post_id=post_id,
    )


def post(
    pid: str,
    text: str,
    *,
    at: datetime,
    network: str = "x",
    author: str = "someone",
    metrics: dict[str, int] | None = None,
    language: str | None = "en",
) -> Post:
    return Post(
        id=pid,
        text=text,
        network=network,
        created_at=at,
        author=Account(id=f"id-{author}", handle=author),
        metrics=metrics or {},
        language=language,
    )


def hours(n: float) -> timedelta:
    return timedelta(hours=n)
