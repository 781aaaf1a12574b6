"""socialkit: typed, async clients for social networks behind one interface.

>>> import socialkit
>>> async with socialkit.connect("mastodon", instance="https://mastodon.social",
...                              access_token="…") as net:
...     posted = await net.publish(socialkit.Post(text="Hello"))
"""

from __future__ import annotations

import sys as _sys
from typing import TYPE_CHECKING

from socialkit._capabilities import Capability, Limits, check_post
from socialkit._errors import (
    APIError,
    AuthError,
    ConfigurationError,
    DuplicateError,
    InvalidPostError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionError,
    RateLimitError,
    ServerError,
    SocialkitError,
    ThreadIncompleteError,
    TimeoutError,
    TokenExpiredError,
    TransportError,
    UnsupportedError,
    ValidationError,
)
from socialkit._hub import Hub, Result
from socialkit._models import (
    CANONICAL_METRICS,
    Account,
    Media,
    MediaKind,
    Message,
    MessageKind,
    Metric,
    Poll,
    Post,
    Problem,
    Visibility,
)
from socialkit._registry import (
    AdapterInfo,
    adapter_class,
    adapters,
    connect,
    register,
    unregister,
)
from socialkit._store import MemoryStore, SQLiteStore, Store
from socialkit.adapters._base import Adapter, AdapterSettings

if TYPE_CHECKING:
    from socialkit._version import __version__
else:

    def __getattr__(name: str) -> str:
        # The version is read from the installed metadata on first use (slow to import).
        if name == "__version__":
            from socialkit._version import __version__

            return __version__
        raise AttributeError(f"module 'socialkit' has no attribute {name!r}")

    # ``socialkit.adapters`` is both the public function and the package of adapters. The
    # package is callable (see socialkit/adapters/__init__.py), so binding it here keeps
    # ``socialkit.adapters()`` and ``import socialkit.adapters.x as x`` working together.
    adapters = _sys.modules[f"{__name__}.adapters"]

__all__ = [
    "APIError",
    "Account",
    "Adapter",
    "AdapterInfo",
    "AdapterSettings",
    "AuthError",
    "CANONICAL_METRICS",
    "Capability",
    "ConfigurationError",
    "DuplicateError",
    "Hub",
    "InvalidPostError",
    "Limits",
    "MalformedResponseError",
    "Media",
    "MediaKind",
    "MemoryStore",
    "Message",
    "MessageKind",
    "Metric",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionError",
    "Poll",
    "Post",
    "Problem",
    "RateLimitError",
    "Result",
    "SQLiteStore",
    "ServerError",
    "SocialkitError",
    "Store",
    "ThreadIncompleteError",
    "TimeoutError",
    "TokenExpiredError",
    "TransportError",
    "UnsupportedError",
    "ValidationError",
    "Visibility",
    "__version__",
    "adapter_class",
    "adapters",
    "check_post",
    "connect",
    "register",
    "unregister",
]

del TYPE_CHECKING
