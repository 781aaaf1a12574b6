"""The fault matrix (socialkit.testing.faults) for the real Mastodon adapter on FakeMastodon:
every fault, no post lost or doubled, with the application's retry under the same
idempotency key (Mastodon's ``Idempotency-Key``)."""

from __future__ import annotations

from socialkit.testing.faults import FaultSuite


class TestMastodonFaults(FaultSuite):
    network = "mastodon"
