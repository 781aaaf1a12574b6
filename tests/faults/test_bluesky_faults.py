"""The fault matrix (socialkit.testing.faults) for the real Bluesky adapter on FakeBluesky."""

from __future__ import annotations

from socialkit.testing.faults import FaultSuite


class TestBlueskyFaults(FaultSuite):
    # No known failures: a 2xx createRecord answer that cannot be read is resolved by reading
    # the record back at its key, and publish(idempotency_key=...) derives the record key.
    network = "bluesky"
