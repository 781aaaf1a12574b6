"""Stateful, in-process fake networks that the real adapters run against unchanged.

One fake per network (``FakeMastodon``, ``FakeX``, ``FakeLinkedIn`` … every ``Fake*`` name in
``__all__``), each an ASGI app (``fake.app``), usable through ``httpx.ASGITransport``
(``fake.client()``, ``fake.connect()``) or served on a local port (``fake.serve()``). See
:mod:`socialkit.testing.fakes._base` for the shared simulation API. Extra ``testing``
(starlette; uvicorn to serve on a port).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from socialkit.testing.fakes._base import FakeClock, FakeNetwork, FakeUser, RateLimiter, WallClock

if TYPE_CHECKING:
    from socialkit.testing.fakes.bluesky import FakeBluesky
    from socialkit.testing.fakes.facebook import FakeFacebook
    from socialkit.testing.fakes.instagram import FakeInstagram
    from socialkit.testing.fakes.linkedin import FakeLinkedIn
    from socialkit.testing.fakes.mastodon import FakeMastodon
    from socialkit.testing.fakes.pinterest import FakePinterest
    from socialkit.testing.fakes.reddit import FakeReddit
    from socialkit.testing.fakes.telegram import FakeTelegram
    from socialkit.testing.fakes.threads import FakeThreads
    from socialkit.testing.fakes.tiktok import FakeTikTok
    from socialkit.testing.fakes.x import FakeX
    from socialkit.testing.fakes.youtube import FakeYouTube

__all__ = [
    "FakeBluesky",
    "FakeClock",
    "FakeFacebook",
    "FakeInstagram",
    "FakeLinkedIn",
    "FakeMastodon",
    "FakeNetwork",
    "FakePinterest",
    "FakeReddit",
    "FakeTelegram",
    "FakeThreads",
    "FakeTikTok",
    "FakeUser",
    "FakeX",
    "FakeYouTube",
    "RateLimiter",
    "WallClock",
]

_LAZY = {
    "FakeBluesky": "socialkit.testing.fakes.bluesky",
    "FakeFacebook": "socialkit.testing.fakes.facebook",
    "FakeInstagram": "socialkit.testing.fakes.instagram",
    "FakeLinkedIn": "socialkit.testing.fakes.linkedin",
    "FakeMastodon": "socialkit.testing.fakes.mastodon",
    "FakePinterest": "socialkit.testing.fakes.pinterest",
    "FakeReddit": "socialkit.testing.fakes.reddit",
    "FakeTelegram": "socialkit.testing.fakes.telegram",
    "FakeThreads": "socialkit.testing.fakes.threads",
    "FakeTikTok": "socialkit.testing.fakes.tiktok",
    "FakeX": "socialkit.testing.fakes.x",
    "FakeYouTube": "socialkit.testing.fakes.youtube",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
