"""TikTok: ``TikTokAdapter`` (registry name ``tiktok``), its settings, the publish failure
error and the chunking rule of the media transfer guide. See ``docs/networks/tiktok.md``."""

from __future__ import annotations

from socialkit.adapters.tiktok._adapter import (
    DEFAULT_SCOPES,
    FAIL_REASONS,
    TikTokAdapter,
    TikTokPublishError,
    TikTokSettings,
    chunking,
)

__all__ = [
    "DEFAULT_SCOPES",
    "FAIL_REASONS",
    "TikTokAdapter",
    "TikTokPublishError",
    "TikTokSettings",
    "chunking",
]
