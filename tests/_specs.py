"""Locate the official API descriptions in ``<repo>/../shared/specs``, read in place.

``specs_dir("x", "openapi.json")`` returns the path when it exists. When it does not, the test
fails if ``SOCIALKIT_REQUIRE_SPECS=1`` (CI sets it) and is skipped otherwise, so a clone without
``shared/`` next to it still runs everything else.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests._validation.discovery import DiscoveryChecker

REPO_ROOT = Path(__file__).resolve().parent.parent
SPECS = (REPO_ROOT.parent / "shared" / "specs").resolve()


def specs_dir(*parts: str) -> Path:
    """Return ``SPECS / parts`` if it exists; otherwise fail (CI) or skip the test."""
    path = SPECS.joinpath(*parts)
    if path.exists():
        return path
    reason = f"official API descriptions not found at {path}: clone next to shared/"
    if os.environ.get("SOCIALKIT_REQUIRE_SPECS") == "1":
        pytest.fail(f"{reason} (SOCIALKIT_REQUIRE_SPECS=1)")
    pytest.skip(reason)


@functools.cache
def _youtube_checker() -> DiscoveryChecker:
    from tests._validation.discovery import DiscoveryChecker

    folder = SPECS / "youtube"
    return DiscoveryChecker(folder / "youtube.v3.json", folder / "youtubeAnalytics.v2.json")


def youtube_checker() -> DiscoveryChecker:
    """The YouTube Data and Analytics discovery documents, loaded once per run (skips, or
    fails under SOCIALKIT_REQUIRE_SPECS=1, without them)."""
    specs_dir("youtube", "youtube.v3.json")
    specs_dir("youtube", "youtubeAnalytics.v2.json")
    return _youtube_checker()
