"""Pinterest (API v5): ``PinterestAdapter`` (registry name ``pinterest``), its settings, the
media processing error and the network layer (rate-limit categories, ``{code, message}``
errors). See ``docs/networks/pinterest.md``."""

from __future__ import annotations

from socialkit.adapters.pinterest._adapter import (
    ANALYTICS_DAYS,
    PinterestAdapter,
    PinterestMediaError,
)
from socialkit.adapters.pinterest._network import (
    CATEGORIES,
    bucket_for,
    decode_pinterest_error,
    make_network,
    parse_rate_limit,
)
from socialkit.adapters.pinterest._settings import DEFAULT_SCOPES, PinterestSettings

__all__ = [
    "ANALYTICS_DAYS",
    "CATEGORIES",
    "DEFAULT_SCOPES",
    "PinterestAdapter",
    "PinterestMediaError",
    "PinterestSettings",
    "bucket_for",
    "decode_pinterest_error",
    "make_network",
    "parse_rate_limit",
]
