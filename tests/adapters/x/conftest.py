from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _both_lanes(http_lane: str) -> str:
    """Every X adapter test runs through the session's direct lane and its client lane."""
    return http_lane
