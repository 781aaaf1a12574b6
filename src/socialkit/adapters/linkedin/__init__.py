"""LinkedIn: ``LinkedInAdapter`` (registry name ``linkedin``), its settings, the little text
format's escaping and the network layer (error bodies, daily limits). See
``docs/networks/linkedin.md``."""

from __future__ import annotations

from socialkit.adapters.linkedin._adapter import LinkedInAdapter, LinkedInMediaError
from socialkit.adapters.linkedin._mapping import RESERVED, escape_little, unescape_little
from socialkit.adapters.linkedin._network import (
    DAILY_LIMIT_HINT,
    decode_linkedin_error,
    make_network,
    next_reset,
)
from socialkit.adapters.linkedin._settings import DEFAULT_SCOPES, LinkedInSettings

__all__ = [
    "DAILY_LIMIT_HINT",
    "DEFAULT_SCOPES",
    "LinkedInAdapter",
    "LinkedInMediaError",
    "LinkedInSettings",
    "RESERVED",
    "decode_linkedin_error",
    "escape_little",
    "make_network",
    "next_reset",
    "unescape_little",
]
