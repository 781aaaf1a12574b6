"""The HTTP pipeline every adapter sends its requests through.

The contract adapters code against is the set of names below (see ``PIPELINE.md``):
a :class:`Network` declared once per adapter, a :class:`Session` per adapter and account,
rate-limit state in a :class:`RateLimitStore`, and retries governed by a :class:`RetryPolicy`.
"""

from __future__ import annotations

from socialkit._http._client import AutoTransport, default_user_agent, make_client
from socialkit._http._fetch import MediaFetcher, MediaFetchError, check_media_url
from socialkit._http._network import (
    BodyKind,
    BodyLimitName,
    BodyLimits,
    ErrorDecoder,
    Network,
    default_error_decoder,
)
from socialkit._http._ratelimit import (
    BucketKey,
    BucketState,
    MemoryRateLimitStore,
    RateLimitParser,
    RateLimitStore,
    RateLimitUpdate,
    Reservation,
    SharedFlights,
    apply_update,
    header_rate_limit_parser,
    meta_usage_parser,
    parse_retry_after,
    reserve_unit,
)
from socialkit._http._redact import (
    SecretRegistry,
    redact_headers,
    redact_text,
    redact_url,
    register_secret,
)
from socialkit._http._retry import RetryPolicy
from socialkit._http._session import (
    BOUNDARY_GRACE,
    USE_SESSION_AUTH,
    EventHook,
    Kind,
    RateLimitMode,
    RequestEvent,
    Session,
)
from socialkit._http._wire import describe_transport_error

__all__ = [
    "AutoTransport",
    "BodyKind",
    "BodyLimitName",
    "BodyLimits",
    "BucketKey",
    "BucketState",
    "ErrorDecoder",
    "EventHook",
    "Kind",
    "MediaFetchError",
    "MediaFetcher",
    "MemoryRateLimitStore",
    "Network",
    "RateLimitMode",
    "RateLimitParser",
    "RateLimitStore",
    "RateLimitUpdate",
    "RequestEvent",
    "Reservation",
    "RetryPolicy",
    "SecretRegistry",
    "Session",
    "SharedFlights",
    "BOUNDARY_GRACE",
    "USE_SESSION_AUTH",
    "apply_update",
    "check_media_url",
    "default_error_decoder",
    "default_user_agent",
    "describe_transport_error",
    "header_rate_limit_parser",
    "make_client",
    "meta_usage_parser",
    "parse_retry_after",
    "redact_headers",
    "redact_text",
    "redact_url",
    "register_secret",
    "reserve_unit",
]
