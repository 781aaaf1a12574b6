"""An in-memory network: what is published can be read back. Used by the registry tests."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from datetime import datetime, timezone

from pydantic import SecretStr

from socialkit import Account, AdapterSettings, Capability, Limits, Post
from socialkit.adapters._base import Adapter


class EchoSettings(AdapterSettings):
    handle: str
    token: SecretStr


class EchoAdapter(Adapter):
    name = "echo"
    Settings = EchoSettings
    capabilities = frozenset({Capability.PUBLISH_TEXT, Capability.READ_POSTS})
    limits = Limits(max_text=50)

    def __init__(self, settings: EchoSettings, **kwargs: object) -> None:
        super().__init__(settings, **kwargs)  # type: ignore[arg-type]
        self._posts: list[Post] = []
        self._ids = itertools.count(1)

    async def me(self) -> Account:
        assert isinstance(self.settings, EchoSettings)
        return Account(id="1", handle=self.settings.handle, network=self.name)

    async def _publish_one(self, post: Post) -> Post:
        published = post.model_copy(
            update={
                "id": str(next(self._ids)),
                "network": self.name,
                "url": f"echo://{len(self._posts)}",
                "created_at": datetime.now(timezone.utc),
            }
        )
        self._posts.append(published)
        return published

    async def _iter(self, limit: int | None) -> AsyncIterator[Post]:
        for post in reversed(self._posts[: limit if limit else None]):
            yield post

    def posts(self, *, account=None, since=None, limit=None):  # type: ignore[no-untyped-def]
        return self._iter(limit)
