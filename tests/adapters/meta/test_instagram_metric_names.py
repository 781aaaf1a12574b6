"""Instagram account insights under the right canonical names.

The answer follows Meta's Instagram Account Insights reference
(https://developers.facebook.com/docs/instagram-platform/api-reference/instagram-user/insights,
``metric_type=total_value``: ``data`` of ``{name, period, title, description, total_value:
{value}, id}``). There ``accounts_engaged`` is a count of unique accounts that interacted with
the content, and ``total_interactions`` the count of interactions (likes, saves, comments,
shares, replies): socialkit's ``engagements`` is a count of interactions (Instagram media's
``total_interactions``, Facebook's ``page_post_engagements``, X's ``engagements``).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from socialkit._store import MemoryStore
from socialkit.adapters.meta import InstagramAdapter

pytestmark = pytest.mark.anyio

GRAPH = "https://graph.facebook.com/v25.0"
IG_USER = "17841400000000178"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _total(name: str, title: str, value: int) -> dict[str, Any]:
    return {
        "name": name,
        "period": "day",
        "title": title,
        "description": title,
        "total_value": {"value": value},
        "id": f"{IG_USER}/insights/{name}/day",
    }


async def test_accounts_engaged_is_not_engagements() -> None:
    body = {
        "data": [
            _total("reach", "Accounts reached", 700),
            _total("views", "Views", 900),
            _total("accounts_engaged", "Accounts engaged", 31),
            _total("total_interactions", "Content interactions", 57),
            _total("profile_links_taps", "Profile links taps", 4),
            _total("follows_and_unfollows", "Follows and unfollows", 3),
        ]
    }
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{GRAPH}/{IG_USER}/insights").mock(
            return_value=httpx.Response(200, json=body)
        )
        async with httpx.AsyncClient() as http:
            net = InstagramAdapter.connect(
                http=http,
                access_token="EAAG-test-token",
                ig_user_id=IG_USER,
                retry_wait=False,
                store=MemoryStore(),
            )
            metrics = await net.account_metrics()
    asked = route.calls.last.request.url.params
    assert asked["metric_type"] == "total_value"
    assert "accounts_engaged" in asked["metric"].split(",")
    by_native = {m.native_name: (m.name, m.value) for m in metrics}
    # Interactions are the canonical engagements; unique accounts keep Instagram's own name.
    assert by_native["total_interactions"] == ("engagements", 57)
    assert by_native["accounts_engaged"] == ("accounts_engaged", 31)
    assert [m.value for m in metrics if m.name == "engagements"] == [57]
