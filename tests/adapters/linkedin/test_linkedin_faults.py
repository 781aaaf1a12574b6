"""The fault matrix (socialkit.testing.faults) for LinkedIn, over real sockets to
FakeLinkedIn. LinkedIn takes no idempotency key: a create whose answer was lost is reconciled
by looking for the post among the author's newest posts (``LinkedInAdapter._reconcile``)."""

from __future__ import annotations

from typing import ClassVar

from socialkit.testing.fakes import FakeLinkedIn
from socialkit.testing.fakes._base import FakeNetwork
from socialkit.testing.faults import FaultSuite, NetworkTarget


def _posts(fake: FakeNetwork) -> list[str]:
    assert isinstance(fake, FakeLinkedIn)
    return fake.own_posts()


TARGET = NetworkTarget(
    "linkedin",
    lambda url: FakeLinkedIn(base_url=url),
    lambda method, path: method == "POST" and path == "/rest/posts",
    _posts,
)


class TestLinkedInFaults(FaultSuite):
    network: ClassVar[str] = "linkedin"
    target: ClassVar[NetworkTarget | None] = TARGET
