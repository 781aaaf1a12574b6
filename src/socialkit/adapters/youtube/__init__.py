"""YouTube: ``YouTubeAdapter`` (registry name ``youtube``), its settings, the quota cost table,
the processing failure error and the push notification helpers (WebSub: the hub's
verification, the ``X-Hub-Signature`` check, the Atom entries). See
``docs/networks/youtube.md``."""

from __future__ import annotations

from socialkit.adapters.youtube._adapter import (
    QUOTA_COSTS,
    YouTubeAdapter,
    YouTubeProcessingError,
)
from socialkit.adapters.youtube._network import next_quota_reset
from socialkit.adapters.youtube._settings import DEFAULT_SCOPES, YouTubeSettings
from socialkit.adapters.youtube._webhooks import (
    SIGNATURE_HEADER,
    VideoNotification,
    challenge_response,
    check_delivery,
    parse_notification,
    topic_url,
    verify_signature,
)

__all__ = [
    "DEFAULT_SCOPES",
    "QUOTA_COSTS",
    "SIGNATURE_HEADER",
    "VideoNotification",
    "YouTubeAdapter",
    "YouTubeProcessingError",
    "YouTubeSettings",
    "challenge_response",
    "check_delivery",
    "next_quota_reset",
    "parse_notification",
    "topic_url",
    "verify_signature",
]
