"""The respx-backed conformance suites for LinkedIn (fixtures: linkedin_fixtures, each
following the reference page named there; every request checked by
tests/_validation/linkedin.py). PublishSuite's thread test finds threads unsupported."""

from __future__ import annotations

import pytest
from linkedin_fixtures import LinkedInFixtures

from socialkit.testing import conformance as c

pytestmark = pytest.mark.spec


class TestLinkedInErrors(LinkedInFixtures, c.ErrorSuite):
    pass


class TestLinkedInPublish(LinkedInFixtures, c.PublishSuite):
    pass


class TestLinkedInPreflight(LinkedInFixtures, c.PreflightSuite):
    pass


class TestLinkedInRead(LinkedInFixtures, c.ReadSuite):
    pass


class TestLinkedInMetrics(LinkedInFixtures, c.MetricsSuite):
    pass


class TestLinkedInMessages(LinkedInFixtures, c.MessagesSuite):
    pass
