"""The fault matrix (socialkit.testing.faults) for the real Bluesky adapter on FakeBluesky."""

from __future__ import annotations

from typing import ClassVar

from socialkit.testing.faults import FaultSuite

_UNREADABLE = (
    "a 2xx createRecord answer that cannot be read raises MalformedResponseError although the "
    "record exists, and publish() takes no idempotency_key (record key) yet, so the "
    "application's retry makes a second post"
)


class TestBlueskyFaults(FaultSuite):
    network = "bluesky"
    known_failures: ClassVar[dict[str, str]] = {
        "malformed": _UNREADABLE,
        "html": _UNREADABLE,
        "empty": _UNREADABLE,
    }
