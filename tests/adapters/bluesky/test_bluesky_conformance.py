"""The adapter conformance suite for Bluesky, with respx fixtures that follow the lexicons.

Every request and every response fixture is validated against the official lexicons
(../shared/specs/bluesky/lexicons) by ``BlueskyFixtures.check_exchange`` at teardown.
"""

from __future__ import annotations

import pytest
from bluesky_support import BlueskyFixtures

from socialkit.testing import conformance as c

pytestmark = pytest.mark.spec


class TestBlueskyErrors(BlueskyFixtures, c.ErrorSuite):
    pass


class TestBlueskyPublishing(BlueskyFixtures, c.PublishSuite):
    pass


class TestBlueskyPreflight(BlueskyFixtures, c.PreflightSuite):
    pass


class TestBlueskyReading(BlueskyFixtures, c.ReadSuite):
    pass


class TestBlueskyMetrics(BlueskyFixtures, c.MetricsSuite):
    pass


class TestBlueskyMessages(BlueskyFixtures, c.MessagesSuite):
    pass
