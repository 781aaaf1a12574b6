"""YouTube: ``YouTubeAdapter`` (registry name ``youtube``), its settings, the quota cost table
and the processing failure error. See ``docs/networks/youtube.md``."""

from __future__ import annotations

from socialkit.adapters.youtube._adapter import (
    QUOTA_COSTS,
    YouTubeAdapter,
    YouTubeProcessingError,
)
from socialkit.adapters.youtube._network import next_quota_reset
from socialkit.adapters.youtube._settings import DEFAULT_SCOPES, YouTubeSettings

__all__ = [
    "DEFAULT_SCOPES",
    "QUOTA_COSTS",
    "YouTubeAdapter",
    "YouTubeProcessingError",
    "YouTubeSettings",
    "next_quota_reset",
]
