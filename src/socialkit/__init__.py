"""socialkit: typed, async clients for social networks behind one interface.

>>> import socialkit
>>> async with socialkit.connect("mastodon", instance="https://mastodon.social",
...                              access_token="…") as net:
...     posted = await net.publish(socialkit.Post(text="Hello"))
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    from socialkit._http._fetch import MediaFetchError
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
    from socialkit._version import __version__
    from socialkit.adapters._base import Adapter, AdapterSettings
    from socialkit.auth._errors import AuthFlowError

#: Where each public name lives. ``import socialkit`` loads none of them (nor pydantic, the
#: HTTP pipeline or an adapter): each module loads on first use of one of its names.
_LAZY: dict[str, str] = {
    "APIError": "socialkit._errors",
    "Account": "socialkit._models",
    "Adapter": "socialkit.adapters._base",
    "AdapterInfo": "socialkit._registry",
    "AdapterSettings": "socialkit.adapters._base",
    "AuthError": "socialkit._errors",
    "AuthFlowError": "socialkit.auth._errors",
    "Batch": "socialkit._paging",
    "CANONICAL_METRICS": "socialkit._models",
    "Capability": "socialkit._capabilities",
    "ConfigurationError": "socialkit._errors",
    "DuplicateError": "socialkit._errors",
    "EventStream": "socialkit._stream",
    "Feed": "socialkit._models",
    "Hub": "socialkit._hub",
    "InvalidPostError": "socialkit._errors",
    "InvalidRequestError": "socialkit._errors",
    "Limits": "socialkit._capabilities",
    "MalformedResponseError": "socialkit._errors",
    "Media": "socialkit._models",
    "MediaError": "socialkit._errors",
    "MediaFetchError": "socialkit._http._fetch",
    "MediaKind": "socialkit._models",
    "MemoryStore": "socialkit._store",
    "Message": "socialkit._models",
    "MessageKind": "socialkit._models",
    "Metric": "socialkit._models",
    "ModelValidationError": "socialkit._errors",
    "NotFoundError": "socialkit._errors",
    "OutcomeUnknownError": "socialkit._errors",
    "Page": "socialkit._paging",
    "Paged": "socialkit._paging",
    "PermissionError": "socialkit._errors",
    "Poll": "socialkit._models",
    "Post": "socialkit._models",
    "Problem": "socialkit._models",
    "RateLimitError": "socialkit._errors",
    "ResponseTooLargeError": "socialkit._errors",
    "Result": "socialkit._hub",
    "SQLiteStore": "socialkit._store",
    "ServerError": "socialkit._errors",
    "SocialkitError": "socialkit._errors",
    "Store": "socialkit._store",
    "StreamEvent": "socialkit._stream",
    "StreamKind": "socialkit._stream",
    "StreamPolicy": "socialkit._stream",
    "StreamStalledError": "socialkit._stream",
    "ThreadIncompleteError": "socialkit._errors",
    "TimeoutError": "socialkit._errors",
    "TokenExpiredError": "socialkit._errors",
    "TransportError": "socialkit._errors",
    "UnsupportedError": "socialkit._errors",
    "UploadedMedia": "socialkit._models",
    "ValidationError": "socialkit._errors",
    "Visibility": "socialkit._models",
    "__version__": "socialkit._version",
    "adapter_class": "socialkit._registry",
    "check_post": "socialkit._capabilities",
    "connect": "socialkit._registry",
    "register": "socialkit._registry",
    "unregister": "socialkit._registry",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'socialkit' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    if name != "__version__":  # read from the installed metadata each time it is asked for
        globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


# ``socialkit.adapters`` is both the public function and the package of adapters. The package
# is callable (see socialkit/adapters/__init__.py, which imports nothing heavy), so binding it
# here keeps ``socialkit.adapters()`` and ``import socialkit.adapters.x as x`` working together.
if not TYPE_CHECKING:
    adapters = _importlib.import_module(f"{__name__}.adapters")

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
