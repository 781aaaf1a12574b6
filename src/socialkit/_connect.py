"""``connect()``: the adapter registered under a name, with validated settings.

Its static types are in ``_connect.pyi``, generated from the adapters' ``Settings`` by
``python -m socialkit._gen_connect``: a type checker sees ``connect("mastodon", ...)`` return
``MastodonAdapter`` and checks each setting. This module stays small because a type checker reads
the stub instead of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

    from socialkit.adapters._base import Adapter

__all__ = ["connect"]


def connect(name: str, /, *, http: httpx.AsyncClient | None = None, **settings: Any) -> Adapter:
    """Create the adapter registered as ``name`` with validated ``settings``.

    ``http`` injects an ``httpx.AsyncClient`` (tests, proxies, custom transports); the adapter
    never closes a client it was given. Use the result as an async context manager.
    """
    from socialkit._registry import adapter_class, build_settings  # _registry imports this

    cls = adapter_class(name)
    return cls(build_settings(cls, settings), http=http)
