"""YouTube: a subscription whose answer was lost. ``subscriptions.insert`` is not idempotent
(a second insert answers ``400 subscriptionDuplicate``), so the pipeline's resend after a lost
answer must not turn a follow that happened into an error."""

from __future__ import annotations

import pytest

from socialkit._http import make_client
from socialkit.testing.fakes import FakeYouTube
from socialkit.testing.faults import CASE_SETTINGS, FaultProxy

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("fault", ["read_timeout", "lost_answer_502", "reset_after"])
async def test_a_follow_whose_answer_was_lost_succeeds_once(fault: str) -> None:
    def first_insert(method: str, path: str) -> bool:
        # The first insert only: the pipeline's resend reaches a healthy network.
        return method == "POST" and path == "/youtube/v3/subscriptions" and not applied()

    proxy = FaultProxy(first_insert, answer_delay=float(CASE_SETTINGS["timeout"]) * 3)

    def applied() -> int:
        return proxy.faults_applied

    fake = FakeYouTube(base_url=proxy.url)
    await proxy.start(fake.app)
    creator = fake.add_user("creator")
    http = make_client(timeout=float(CASE_SETTINGS["timeout"]))
    adapter = fake.connect(http=http, **CASE_SETTINGS)
    try:
        await proxy.arm(fault)
        await adapter.follow(creator.id)
        await proxy.disarm()
        assert proxy.faults_applied == 1
        assert list(fake.subscriptions.values()) == [(fake.owner.id, creator.id)]
    finally:
        await adapter.aclose()
        await http.aclose()
        await proxy.aclose()
