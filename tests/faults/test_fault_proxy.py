"""The fault proxy does what each fault says, seen from a plain HTTP client.

The matrix (test_*_faults.py) is only as good as its faults: here each one is checked on its
own against a tiny ASGI app that counts the requests it handles, with httpx's own transport.
All traffic stays on 127.0.0.0/8.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from socialkit.testing.faults import FAULTS, FaultProxy

pytestmark = pytest.mark.anyio

CREATE = "/create"
ANSWER = {"id": "42", "text": "hello"}


class CountingApp:
    """An ASGI app: answers ``ANSWER`` as JSON and counts the requests per path."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        while (await receive()).get("more_body"):
            pass
        self.calls[scope["path"]] = self.calls.get(scope["path"], 0) + 1
        body = json.dumps(ANSWER).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def setup() -> AsyncIterator[tuple[FaultProxy, CountingApp, httpx.AsyncClient]]:
    app = CountingApp()
    proxy = FaultProxy(lambda method, path: method == "POST" and path == CREATE)
    await proxy.start(app)
    client = httpx.AsyncClient(
        base_url=proxy.url, timeout=0.3, transport=httpx.AsyncHTTPTransport(retries=0)
    )
    try:
        yield proxy, app, client
    finally:
        await client.aclose()
        await proxy.aclose()


async def test_disarmed_and_non_create_requests_pass_through(
    setup: tuple[FaultProxy, CountingApp, httpx.AsyncClient],
) -> None:
    proxy, app, client = setup
    assert (await client.post(CREATE, json={})).json() == ANSWER
    await proxy.arm("storm_5xx")
    assert (await client.get("/other")).json() == ANSWER
    assert (await client.post("/other", json={})).json() == ANSWER
    assert (await client.post(CREATE, json={})).status_code == 503
    await proxy.disarm()
    assert (await client.post(CREATE, json={})).json() == ANSWER
    assert app.calls == {CREATE: 2, "/other": 2}
    assert proxy.faults_applied == 1


async def test_unknown_fault_is_refused(
    setup: tuple[FaultProxy, CountingApp, httpx.AsyncClient],
) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        await setup[0].arm("gremlins")


async def test_refused_stops_listening_until_disarmed(
    setup: tuple[FaultProxy, CountingApp, httpx.AsyncClient],
) -> None:
    proxy, app, client = setup
    await proxy.arm("refused")
    with pytest.raises(httpx.ConnectError):
        await client.get("/other")
    await proxy.disarm()
    assert (await client.get("/other")).json() == ANSWER
    assert app.calls == {"/other": 1}


# (fault, reaches the app, what the client sees: an exception type or a check of the response)
CASES: list[tuple[str, bool, Any]] = [
    ("reset_before", False, httpx.TransportError),
    ("reset_after", True, httpx.TransportError),
    ("read_timeout", True, httpx.ReadTimeout),
    ("hang", False, httpx.ReadTimeout),
    ("drip", True, lambda r: r.json() == ANSWER),
    ("storm_429", False, lambda r: r.status_code == 429 and r.headers["retry-after"] == "0"),
    ("storm_5xx", False, lambda r: r.status_code == 503),
    ("lost_answer_502", True, lambda r: r.status_code == 502 and b"Bad Gateway" in r.content),
    ("malformed", True, lambda r: r.status_code == 200 and not _is_json(r.content)),
    ("html", True, lambda r: r.headers["content-type"] == "text/html" and b"<html" in r.content),
    ("truncated", True, httpx.RemoteProtocolError),
    ("empty", True, lambda r: r.status_code == 200 and r.content == b""),
    (
        "oversized",
        True,
        lambda r: len(r.content) > 8 << 20 and r.json()["id"] == "42",
    ),
    (
        "gzip_bomb",
        True,
        lambda r: (
            r.headers["content-encoding"] == "gzip"
            and int(r.headers["content-length"]) < 1 << 20
            and len(r.content) > 64 << 20
            and json.loads(r.content) == ANSWER
        ),
    ),
    (
        "redirect",
        False,
        lambda r: r.status_code == 307 and r.headers["location"].startswith("http://127.0.0.2:"),
    ),
]


def _is_json(content: bytes) -> bool:
    try:
        json.loads(content)
    except ValueError:
        return False
    return True


def test_every_fault_is_checked_here() -> None:
    assert {c[0] for c in CASES} | {"refused"} == set(FAULTS)


@pytest.mark.parametrize(("fault", "reaches_app", "expected"), CASES, ids=[c[0] for c in CASES])
async def test_fault_behaviour(
    setup: tuple[FaultProxy, CountingApp, httpx.AsyncClient],
    fault: str,
    reaches_app: bool,
    expected: Any,
) -> None:
    proxy, app, client = setup
    await proxy.arm(fault)
    if isinstance(expected, type):
        with pytest.raises(expected):
            await client.post(CREATE, json={"text": "hello"})
    else:
        response = await client.post(CREATE, json={"text": "hello"})
        assert expected(response), (response.status_code, response.headers)
    assert app.calls.get(CREATE, 0) == (1 if reaches_app else 0)
    assert proxy.creates_forwarded == (1 if reaches_app else 0)
    assert proxy.faults_applied == 1


async def test_a_redirect_target_counts_visits(
    setup: tuple[FaultProxy, CountingApp, httpx.AsyncClient],
) -> None:
    proxy, _app, client = setup
    await proxy.arm("redirect")
    response = await client.post(CREATE, json={})
    async with httpx.AsyncClient(timeout=0.3) as other:
        with pytest.raises(httpx.TransportError):
            await other.get(response.headers["location"])
    assert proxy.redirect_visits == 1
