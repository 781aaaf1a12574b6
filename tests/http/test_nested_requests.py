"""A request made from inside another (an auth flow refreshing through the same Session) on
first contact with a bucket must not wait for the outer call's probe: that would deadlock, as
the outer call finishes only after the inner one (found with the Bluesky session auth)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import anyio
import httpx
import pytest
import respx

from socialkit._http import Network, RetryPolicy, Session, header_rate_limit_parser

BASE = "https://nested.example"


class RefreshingAuth(httpx.Auth):
    """On a 401, refreshes the token through the same Session (as Bluesky's auth does)."""

    def __init__(self) -> None:
        self.session: Session | None = None
        self.token = "old"

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            assert self.session is not None
            await response.aread()
            refreshed = await self.session.request("POST", "/refresh", auth=None, kind="write")
            self.token = refreshed.json()["token"]
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request


@pytest.mark.anyio
async def test_refresh_inside_a_probe_call_does_not_deadlock() -> None:
    network = Network(
        name="nested",
        base_url=BASE,
        rate_limit_parser=header_rate_limit_parser(),
        bucket_for=lambda method, path: "one-bucket",
    )
    router = respx.MockRouter(assert_all_mocked=True)

    def data(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == "Bearer new":
            return httpx.Response(200, json={"ok": True})
        return httpx.Response(401, json={"error": "expired"})

    router.get(f"{BASE}/data").mock(side_effect=data)
    router.post(f"{BASE}/refresh").respond(200, json={"token": "new"})
    auth = RefreshingAuth()
    async with httpx.AsyncClient(transport=httpx.MockTransport(router.async_handler)) as client:
        session = Session(network, client=client, auth=auth, retry=RetryPolicy(wait=False))
        auth.session = session
        with anyio.fail_after(5):
            response = await session.request("GET", "/data")
    assert response.json() == {"ok": True}
    assert auth.token == "new"
