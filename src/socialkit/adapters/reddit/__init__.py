"""Reddit: ``RedditAdapter`` (registry name ``reddit``), its settings, and the network layer
(``X-Ratelimit-*`` headers, error bodies, the ``RATELIMIT`` error inside 200 answers).
See ``docs/networks/reddit.md``.
"""

from __future__ import annotations

from socialkit.adapters.reddit._adapter import DEFAULT_SCOPES, RedditAdapter, RedditSettings
from socialkit.adapters.reddit._network import (
    decode_reddit_error,
    json_errors,
    make_network,
    parse_reddit_rate_limit,
    ratelimit_wait,
)

__all__ = [
    "DEFAULT_SCOPES",
    "RedditAdapter",
    "RedditSettings",
    "decode_reddit_error",
    "json_errors",
    "make_network",
    "parse_reddit_rate_limit",
    "ratelimit_wait",
]
