"""LinkedIn's organization reach over a window: unique counts of days do not add up.

Answers follow the Organization Share Statistics reference
(https://learn.microsoft.com/en-us/linkedin/marketing/community-management/organizations/share-statistics:
lifetime statistics without ``timeIntervals``, one aggregate element; time-bound statistics
with ``timeIntervals``, one element per DAY or MONTH of the range, each with its
``timeRange`` and ``totalShareStatistics``), Network Sizes (``firstDegreeSize``) and the
Organization Follower Statistics' time-bound sample (``followerGains`` per day).

``uniqueImpressionsCount`` of a day counts the members who saw the posts that day: a member
who saw them on two days is in both, so the sum of the days is not the window's reach, and
the API offers no granularity that covers a chosen window as one unique count.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import httpx
import pytest
import respx
from linkedin_fixtures import BASE, ORG, LinkedInFixtures
from tests._validation.linkedin import linkedin_violations

pytestmark = pytest.mark.anyio

DAY_MS = 86_400_000
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
END = datetime(2026, 3, 3, tzinfo=timezone.utc)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _stats(unique: int, impressions: int) -> dict[str, Any]:
    return {
        "uniqueImpressionsCount": unique,
        "shareCount": 1,
        "engagement": 0.05,
        "clickCount": 2,
        "likeCount": 3,
        "impressionCount": impressions,
        "commentCount": 1,
    }


def _day(offset: int, unique: int, impressions: int) -> dict[str, Any]:
    first = int(START.timestamp() * 1000) + offset * DAY_MS
    return {
        "totalShareStatistics": _stats(unique, impressions),
        "organizationalEntity": ORG,
        "timeRange": {"start": first, "end": first + DAY_MS},
    }


def _page(elements: list[dict[str, Any]]) -> dict[str, Any]:
    return {"paging": {"count": 10, "start": 0, "links": []}, "elements": elements}


def _share_statistics(request: httpx.Request) -> httpx.Response:
    if "timeIntervals" in request.url.params:
        # The same audience, mostly, on both days: 80 and 70 members, not 150.
        return httpx.Response(200, json=_page([_day(0, 80, 200), _day(1, 70, 160)]))
    return httpx.Response(
        200, json=_page([{"totalShareStatistics": _stats(95, 360), "organizationalEntity": ORG}])
    )


def _follower_statistics(request: httpx.Request) -> httpx.Response:
    first = int(START.timestamp() * 1000)
    gains = [
        {
            "timeRange": {"start": first + i * DAY_MS, "end": first + (i + 1) * DAY_MS},
            "followerGains": {"organicFollowerGain": 2, "paidFollowerGain": 0},
            "organizationalEntity": ORG,
        }
        for i in range(2)
    ]
    return httpx.Response(200, json=_page(gains))


async def test_reach_is_not_summed_over_days() -> None:
    with respx.mock(assert_all_called=True) as router:
        router.get(url__startswith=f"{BASE}/rest/networkSizes/").mock(
            return_value=httpx.Response(200, json={"firstDegreeSize": 17})
        )
        shares = router.get(
            url__startswith=f"{BASE}/rest/organizationalEntityShareStatistics"
        ).mock(side_effect=_share_statistics)
        router.get(url__startswith=f"{BASE}/rest/organizationalEntityFollowerStatistics").mock(
            side_effect=_follower_statistics
        )
        async with httpx.AsyncClient() as http:
            net = LinkedInFixtures().make_adapter(http)
            window = await net.account_metrics(since=START, until=END)
            lifetime = await net.account_metrics()
        for call in router.calls:
            assert not linkedin_violations(call.request, base_host="api.linkedin.example")
    assert "timeIntervals" in shares.calls[0].request.url.params
    by_name = {m.name: m for m in window}
    # Counts of events add up over days; a count of unique members does not.
    assert by_name["impressions"].value == 360
    assert by_name["likes"].value == 6
    assert by_name["impressions"].start == START
    assert by_name["followers_gained"].value == 4
    assert "reach" not in by_name
    assert all(m.native_name != "uniqueImpressionsCount" for m in window)
    # Without a window LinkedIn counts the unique members itself: that reach is kept.
    assert {m.name: m.value for m in lifetime}["reach"] == 95
