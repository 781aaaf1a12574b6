"""Locate the official API descriptions in ``<repo>/../shared/specs``, read in place.

``specs_dir("x", "openapi.json")`` returns the path when it exists. When it does not, the test
fails if ``SOCIALKIT_REQUIRE_SPECS=1`` (CI sets it) and is skipped otherwise, so a clone without
``shared/`` next to it still runs everything else.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

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
