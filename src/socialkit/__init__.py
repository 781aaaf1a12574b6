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
    InvalidRequestError,
    MalformedResponseError,
    MediaError,
    ModelValidationError,
    NotFoundError,
    OutcomeUnknownError,
    PermissionError,
    RateLimitError,
    ResponseTooLargeError,
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
    Feed,
    Media,
    MediaKind,
    Message,
    MessageKind,
    Metric,
    Poll,
    Post,
    Problem,
    UploadedMedia,
    Visibility,
)
from socialkit._paging import Batch, Page, Paged
from socialkit._registry import (
    AdapterInfo,
    adapter_class,
    adapters,
    connect,
    register,
    unregister,
)
from socialkit._store import MemoryStore, SQLiteStore, Store
from socialkit._stream import (
    EventStream,
    StreamEvent,
    StreamKind,
    StreamPolicy,
    StreamStalledError,
)
from socialkit.adapters._base import Adapter, AdapterSettings
from socialkit.auth._errors import AuthFlowError

if TYPE_CHECKING:
    from socialkit._http._fetch import MediaFetchError
    from socialkit._version import __version__
else:

    def __getattr__(name: str) -> object:
        # The version is read from the installed metadata on first use (slow to import), and
        # the media fetcher's error from the HTTP pipeline, which `import socialkit` does not load.
        if name == "__version__":
            from socialkit._version import __version__

            return __version__
        if name == "MediaFetchError":
            from socialkit._http._fetch import MediaFetchError

            return MediaFetchError
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
    "AuthFlowError",
    "Batch",
    "CANONICAL_METRICS",
    "Capability",
    "ConfigurationError",
    "DuplicateError",
    "EventStream",
    "Feed",
    "Hub",
    "InvalidPostError",
    "InvalidRequestError",
    "Limits",
    "MalformedResponseError",
    "Media",
    "MediaError",
    "MediaFetchError",
    "MediaKind",
    "MemoryStore",
    "Message",
    "MessageKind",
    "Metric",
    "ModelValidationError",
    "NotFoundError",
    "OutcomeUnknownError",
    "Page",
    "Paged",
    "PermissionError",
    "Poll",
    "Post",
    "Problem",
    "RateLimitError",
    "ResponseTooLargeError",
    "Result",
    "SQLiteStore",
    "ServerError",
    "SocialkitError",
    "Store",
    "StreamEvent",
    "StreamKind",
    "StreamPolicy",
    "StreamStalledError",
    "ThreadIncompleteError",
    "TimeoutError",
    "TokenExpiredError",
    "TransportError",
    "UnsupportedError",
    "UploadedMedia",
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
