"""Listening reads only what is new on each poll, on every network (issue 13): its cost does
not grow with the history of a search. The real adapters against the fakes; requests counted.
"""

from __future__ import annotations

from datetime import datetime, timezone

import httpx
import pytest

from socialkit import MemoryStore
from socialkit.testing.fakes import FakeBluesky, FakeClock, FakeMastodon, FakeX
from socialkit.testing.fakes._base import FakeNetwork
from socialkit.workflows import Listening, Watch

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
FAKES = {"mastodon": FakeMastodon, "bluesky": FakeBluesky, "x": FakeX}


@pytest.mark.anyio
@pytest.mark.parametrize("network", sorted(FAKES))
async def test_a_poll_reads_only_what_is_new(network: str) -> None:
    clock = FakeClock(START)
    fake: FakeNetwork = FAKES[network](clock=clock)
    fan = fake.add_user("fan")
    for index in range(150):  # a long history: several pages of matches
        clock.advance(minutes=5)
        fake.publish_as(fan, f"acme is fine, day note {index}")
    requests: list[httpx.Request] = []

    async def count(request: httpx.Request) -> None:
        requests.append(request)

    async with fake.connect(http=fake.client(event_hooks={"request": [count]})) as net:
        listening = Listening(
            [net],
            [Watch(name="acme", role="brand", keywords=["acme"])],
            store=MemoryStore(),
            initial_limit=None,
            initial_since=START,
            clock=clock.now,
        )
        first = await listening.poll()
        assert len(first) == 150
        history_requests = len(requests)
        assert history_requests >= 2, "the first poll should have paged through the history"
        for poll in range(3):
            requests.clear()
            clock.advance(minutes=10)
            fake.publish_as(fan, f"acme news {poll}")
            new = await listening.poll()
            assert [i.text for i in new] == [f"acme news {poll}"]
            # One page of search: the poll asks only for what is newer than the last one.
            assert len(requests) <= 2, [str(r.url) for r in requests]
        assert listening.errors == {}
