"""The fault matrix (socialkit.testing.faults) for the real Mastodon adapter on FakeMastodon."""

from __future__ import annotations

from typing import ClassVar

from socialkit.testing.faults import FaultSuite

_NO_KEY = (
    "the answer of a create that arrived is lost; the adapter raises {error} instead of "
    "OutcomeUnknownError, and publish() takes no idempotency_key yet, so the application's "
    "retry makes a second post"
)


class TestMastodonFaults(FaultSuite):
    network = "mastodon"
    known_failures: ClassVar[dict[str, str]] = {
        "reset_after": _NO_KEY.format(error="TransportError"),
        "read_timeout": _NO_KEY.format(error="TimeoutError"),
        "lost_answer_502": _NO_KEY.format(error="ServerError"),
        "truncated": _NO_KEY.format(error="TransportError"),
        "malformed": _NO_KEY.format(error="MalformedResponseError"),
        "html": _NO_KEY.format(error="MalformedResponseError"),
        "empty": _NO_KEY.format(error="MalformedResponseError"),
    }
