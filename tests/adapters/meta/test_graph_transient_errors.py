"""Meta's transient errors on HTTP 400.

The Graph error object carries ``is_transient`` and the codes 1 ("API Unknown: possibly a
temporary issue due to downtime. Wait and retry the operation") and 2 ("API Service: temporary
issue due to downtime. Wait and retry the operation"), "Handling Errors",
https://developers.facebook.com/docs/graph-api/guides/error-handling (the error object:
``{"error": {"message", "type", "code", "error_subcode", "is_transient", "fbtrace_id"}}``).
Meta sends them with HTTP 400 as well as 5xx. ``decode_graph_error`` makes them
:class:`ServerError`, and Meta's ``Network.transient_error`` has the pipeline treat them as a
transient status: a read is sent again, a create is not (whether it was made is unknown).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import respx

from socialkit import Post
from socialkit._errors import OutcomeUnknownError
from socialkit._store import MemoryStore
from socialkit.adapters.meta import FacebookAdapter

pytestmark = pytest.mark.anyio

GRAPH = "https://graph.facebook.com/v25.0"
PAGE = "1000000000000001"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _transient() -> httpx.Response:
    return httpx.Response(
        400,
        json={
            "error": {
                "message": "An unexpected error has occurred. Please retry your request later.",
                "type": "OAuthException",
                "code": 2,
                "is_transient": True,
                "fbtrace_id": "AbCdEfGh",
            }
        },
    )


def _connect(http: httpx.AsyncClient) -> Any:
    return FacebookAdapter.connect(
        http=http,
        access_token="EAAG-test-token",
        page_id=PAGE,
        retry_wait=False,
        store=MemoryStore(),
    )


async def test_a_read_answered_5xx_with_code_2_is_retried() -> None:
    # The same error on a transient status is retried, by its status.
    page = {"id": PAGE, "name": "Cats", "username": "cats", "link": "https://fb.test/cats"}
    failing = _transient()
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{GRAPH}/{PAGE}").mock(
            side_effect=[
                httpx.Response(503, content=failing.content, headers=failing.headers),
                httpx.Response(200, json=page),
            ]
        )
        async with httpx.AsyncClient() as http:
            account = await _connect(http).me()
    assert account.id == PAGE
    assert route.call_count == 2


async def test_a_read_answered_400_is_transient_is_retried() -> None:
    page = {"id": PAGE, "name": "Cats", "username": "cats", "link": "https://fb.test/cats"}
    with respx.mock(assert_all_called=True) as router:
        route = router.get(f"{GRAPH}/{PAGE}").mock(
            side_effect=[_transient(), httpx.Response(200, json=page)]
        )
        async with httpx.AsyncClient() as http:
            account = await _connect(http).me()
    assert account.id == PAGE
    assert route.call_count == 2


async def test_a_create_answered_400_is_transient_is_not_sent_twice() -> None:
    # Whether the post was made is unknown: it must never be resent blindly (the pipeline's
    # safe-retry rule; a fix of the read above must keep this one).
    with respx.mock(assert_all_called=False) as router:
        feed = router.post(f"{GRAPH}/{PAGE}/feed").mock(return_value=_transient())
        router.get(url__startswith=GRAPH).mock(return_value=httpx.Response(200, json={"data": []}))
        async with httpx.AsyncClient() as http:
            with pytest.raises(OutcomeUnknownError):
                await _connect(http).publish(Post(text="hello"))
    assert feed.call_count == 1
