"""The fault matrix (socialkit.testing.faults) for the real X adapter on FakeX: every fault,
no post lost or doubled, with the application's retry under the same idempotency key."""

from __future__ import annotations

from socialkit.testing.faults import FaultSuite


class TestXFaults(FaultSuite):
    network = "x"
