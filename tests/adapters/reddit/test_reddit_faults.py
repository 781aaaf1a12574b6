"""The fault matrix (socialkit.testing.faults) for Reddit, over real sockets to FakeReddit.
Reddit has no idempotency key: a submit whose answer was lost is reconciled by looking for the
post among the account's newest submissions (``RedditAdapter._find_submission``)."""

from __future__ import annotations

import re
from typing import ClassVar

from socialkit.testing.fakes import FakeReddit
from socialkit.testing.fakes._base import FakeNetwork
from socialkit.testing.faults import FaultSuite, NetworkTarget


def _posts(fake: FakeNetwork) -> list[str]:
    assert isinstance(fake, FakeReddit)
    return fake.submissions()


TARGET = NetworkTarget(
    "reddit",
    lambda url: FakeReddit(base_url=url),
    lambda method, path: method == "POST" and re.search(r"/api/submit$", path) is not None,
    _posts,
)


class TestRedditFaults(FaultSuite):
    network: ClassVar[str] = "reddit"
    target: ClassVar[NetworkTarget | None] = TARGET
