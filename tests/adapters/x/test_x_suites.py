"""The fake-backed conformance suites (socialkit.testing.conformance) for X: the real
XAdapter against FakeX. Every exchange of every test is recorded and validated against the
official description, ``../shared/specs/x/openapi.json`` (requests with openapi-core, the
fake's answers against their operation's schema; see tests/fakes/x_support.py)."""

from __future__ import annotations

import httpx
import pytest
from tests.fakes.x_support import Traffic

from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeX
from socialkit.testing.fakes._base import FakeNetwork

pytestmark = pytest.mark.spec


class XFakeFixtures(c.FakeFixtures):
    def make_fake(self) -> FakeNetwork:
        return FakeX(check_after_secs=0)

    def client_for(self, fake: FakeNetwork) -> httpx.AsyncClient:
        client = fake.client()
        traffic = Traffic()
        traffic.attach(client)
        self._traffic = traffic
        return client

    def check_traffic(self, client: httpx.AsyncClient) -> None:
        if self._traffic.exchanges:
            self._traffic.verify()


class TestXEngagement(XFakeFixtures, c.EngagementSuite):
    pass


class TestXPeople(XFakeFixtures, c.PeopleSuite):
    pass


class TestXPaging(XFakeFixtures, c.PagingSuite):
    pass


class TestXRoundTrip(XFakeFixtures, c.RoundTripSuite):
    pass


class TestXUpload(XFakeFixtures, c.UploadSuite):
    pass
