"""The fault matrix (socialkit.testing.faults) for the real X adapter on FakeX."""

from __future__ import annotations

from typing import ClassVar

from socialkit.testing.faults import FaultSuite

_UNREADABLE = (
    "a 2xx POST /2/tweets answer that cannot be read raises MalformedResponseError although "
    "the post exists (no reconciliation), and the application's retry is refused as a "
    "DuplicateError of the user's own post, so the application holds no post"
)


class TestXFaults(FaultSuite):
    network = "x"
    known_failures: ClassVar[dict[str, str]] = {
        "malformed": _UNREADABLE,
        "html": _UNREADABLE,
        "empty": _UNREADABLE,
    }
