"""Reddit: the network layer of the adapter (``_network``: the ``X-Ratelimit-*`` headers, the
error bodies and the ``RATELIMIT`` error inside 200 answers).

The adapter class is not registered as ``reddit`` yet: see ``docs/networks/reddit.md``.
"""

from __future__ import annotations

from socialkit.adapters.reddit._network import (
    decode_reddit_error,
    json_errors,
    make_network,
    parse_reddit_rate_limit,
    ratelimit_wait,
)

__all__ = [
    "decode_reddit_error",
    "json_errors",
    "make_network",
    "parse_reddit_rate_limit",
    "ratelimit_wait",
]
