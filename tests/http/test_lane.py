"""Which lane a request takes: make_client's clients the direct lane, any client that needs
httpx's client layer (its own, or one given hooks, mounts, auth or redirects) the client lane,
with the same request on the wire and the same auth flows either way."""

from __future__ import annotations

import gc
import weakref
from collections.abc import AsyncIterator, Generator
from datetime import timedelta

import httpx
import pytest

from socialkit._http import Network, Session, _lane, make_client
from socialkit.auth import BearerAuth

pytestmark = pytest.mark.anyio

NETWORK = Network("example", "https://api.example.test/v2")


class Recorder:
    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.through_client = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(200, json={"ok": True})


@pytest.fixture
def auto(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_lane, "MODE", "auto")


def _counting(client: httpx.AsyncClient, recorder: Recorder) -> None:
    send = client.send

    async def counted(*args: object, **kwargs: object) -> httpx.Response:
        recorder.through_client += 1
        return await send(*args, **kwargs)  # type: ignore[arg-type]

    client.send = counted  # type: ignore[method-assign]


async def _one(client: httpx.AsyncClient, recorder: Recorder, **options: object) -> httpx.Request:
    _counting(client, recorder)
    session = Session(NETWORK, client=client, **options)  # type: ignore[arg-type]
    await session.request("POST", "/items", json={"a": 1}, params={"q": "x y"})
    return recorder.requests[-1]


@pytest.mark.usefixtures("auto")
async def test_make_client_takes_the_direct_lane_with_the_same_request() -> None:
    recorder = Recorder()
    direct = await _one(
        make_client(transport=httpx.MockTransport(recorder.handler), timeout=7.0),
        recorder,
        auth=BearerAuth("tok-direct"),
    )
    assert recorder.through_client == 0
    other = Recorder()
    reference = await _one(
        httpx.AsyncClient(
            transport=httpx.MockTransport(other.handler),
            timeout=7.0,
            headers={"User-Agent": direct.headers["user-agent"]},
        ),
        other,
        auth=BearerAuth("tok-direct"),
    )
    assert other.through_client == 1
    assert str(direct.url) == str(reference.url) == "https://api.example.test/v2/items?q=x+y"
    assert sorted(direct.headers.multi_items()) == sorted(reference.headers.multi_items())
    assert direct.content == reference.content
    assert direct.extensions["timeout"] == reference.extensions["timeout"]


@pytest.mark.usefixtures("auto")
@pytest.mark.parametrize("change", ["hook", "auth", "mount", "redirects", "params"])
async def test_a_client_that_needs_its_layer_takes_the_client_lane(change: str) -> None:
    recorder = Recorder()
    transport = httpx.MockTransport(recorder.handler)
    client = make_client(transport=transport)
    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(request.method)

    if change == "hook":
        client.event_hooks["request"].append(hook)
    elif change == "auth":
        client.auth = BearerAuth("tok-client")
    elif change == "mount":
        # What mounts= and proxies set up (httpx offers no public way to add one later).
        client._mounts[httpx._utils.URLPattern("all://other.test")] = transport
    elif change == "redirects":
        client.follow_redirects = True
    else:
        client.params = httpx.QueryParams({"lang": "en"})
    request = await _one(client, recorder)
    assert recorder.through_client == 1
    if change == "hook":
        assert seen == ["POST"]
    if change == "auth":
        assert request.headers["authorization"] == "Bearer tok-client"
    if change == "params":
        assert request.url.params["lang"] == "en"


@pytest.mark.usefixtures("auto")
async def test_a_users_own_client_takes_the_client_lane() -> None:
    recorder = Recorder()
    client = httpx.AsyncClient(transport=httpx.MockTransport(recorder.handler))
    await _one(client, recorder)
    assert recorder.through_client == 1


class RefreshOn401(httpx.Auth):
    """An auth flow that needs the response: a new token after a 401 (as OAuth2Auth does)."""

    def __init__(self) -> None:
        self.token = "old"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            self.token = "new"
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request


@pytest.mark.usefixtures("auto")
async def test_auth_flows_that_read_the_response_run_in_the_direct_lane() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        if request.headers["authorization"] != "Bearer new":
            return httpx.Response(401, json={"error": "expired"})
        return httpx.Response(200, json={"ok": True})

    client = make_client(transport=httpx.MockTransport(handler))
    recorder = Recorder()
    _counting(client, recorder)
    session = Session(NETWORK, client=client, auth=RefreshOn401())
    response = await session.request("GET", "/me")
    assert response.json() == {"ok": True}
    assert seen == ["Bearer old", "Bearer new"]
    assert [r.status_code for r in response.history] == [401]
    assert recorder.through_client == 0


@pytest.mark.usefixtures("auto")
async def test_a_static_bearer_is_set_in_the_direct_lane_without_its_flow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """BearerAuth's header is built with the request's others in the direct lane (its flow
    does not run), and the request on the wire is the client lane's, where the flow runs."""
    flows: list[str] = []
    flow = BearerAuth.auth_flow

    def counted(
        self: BearerAuth, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        flows.append(request.url.path)
        yield from flow(self, request)

    monkeypatch.setattr(BearerAuth, "auth_flow", counted)
    recorder = Recorder()
    direct = await _one(
        make_client(transport=httpx.MockTransport(recorder.handler)),
        recorder,
        auth=BearerAuth("tok-static"),
    )
    assert flows == []
    assert recorder.through_client == 0
    monkeypatch.setattr(_lane, "MODE", "never")
    reference = await _one(
        make_client(transport=httpx.MockTransport(recorder.handler)),
        recorder,
        auth=BearerAuth("tok-static"),
    )
    assert flows == ["/v2/items"]
    assert direct.headers.raw == reference.headers.raw
    assert direct.headers.raw[-1] == (b"Authorization", b"Bearer tok-static")


class RenamedBearer(BearerAuth):
    """A subclass with a flow of its own: that flow runs, in either lane."""

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["X-Token"] = self.token.get_secret_value()
        yield request


@pytest.mark.usefixtures("auto")
async def test_a_bearer_subclass_with_its_own_flow_keeps_it() -> None:
    assert RenamedBearer("tok-sub").direct_header is None
    assert BearerAuth("tok-sub", scheme="").direct_header == ("Authorization", "tok-sub")
    recorder = Recorder()
    request = await _one(
        make_client(transport=httpx.MockTransport(recorder.handler)),
        recorder,
        auth=RenamedBearer("tok-sub"),
    )
    assert recorder.through_client == 0
    assert request.headers["x-token"] == "tok-sub"
    assert "authorization" not in request.headers


async def test_the_client_lane_only_when_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_lane, "MODE", "never")
    recorder = Recorder()
    await _one(make_client(transport=httpx.MockTransport(recorder.handler)), recorder)
    assert recorder.through_client == 1


BUILDS: dict[str, tuple[str, str, dict[str, object]]] = {
    "json": ("POST", "/2/tweets", {"json": {"text": "héllo 🚀", "n": [1, 2]}}),
    "bytes": ("PUT", "/upload", {"content": b"\x00\x01", "headers": {"Content-Type": "x/y"}}),
    "text": ("POST", "/form", {"content": "a=é"}),
    "empty post": ("POST", "/like", {}),
    "empty get": ("GET", "/items", {}),
    "delete": ("DELETE", "/items/1", {}),
    "params": (
        "GET",
        "/search",
        {"params": {"query": "from:me (a OR b) #x", "max_results": 100, "f": "a,b.c:d/é"}},
    ),
    "params with a list": ("GET", "/search", {"params": {"ids": ["1", "2"], "x": True}}),
    "query and params": ("GET", "/search?a=1", {"params": {"b": "2"}}),
    "form": ("POST", "/token", {"data": {"grant_type": "x", "code": "a b"}}),
    "own content type and host": (
        "POST",
        "/x",
        {"json": {}, "headers": {"content-type": "application/json; charset=utf-8", "Host": "h"}},
    ),
    "absolute url": ("GET", "https://upload.example.test/media?x=1", {}),
    "own authorization headers": (
        "POST",
        "/x",
        {"json": {}, "headers": {"X-A": "1", "authorization": "Basic a", "AUTHORIZATION": "b"}},
    ),
}


@pytest.mark.parametrize("bearer", [None, ("Authorization", "Bearer tok"), ("x-api-key", "k")])
@pytest.mark.parametrize("case", list(BUILDS))
def test_the_direct_lane_builds_what_the_client_builds(
    case: str, bearer: tuple[str, str] | None
) -> None:
    # Same URL, headers in the same order and body as client.build_request, whether the lane
    # encodes the request itself (JSON, bytes, plain parameters) or hands it to httpx; a
    # static scheme's header where its auth flow puts it (request.headers[name] = value).
    method, path, options = BUILDS[case]
    client = make_client(transport=httpx.MockTransport(Recorder().handler), timeout=7.0)
    url = NETWORK.join(path)
    lane = _lane.DirectLane(client)
    for _ in range(2):  # the second time from the lane's kept URLs and parameters
        built = lane.build(method, url, httpx.USE_CLIENT_DEFAULT, auth_header=bearer, **options)  # type: ignore[arg-type]
        reference = client.build_request(method, url, **options)  # type: ignore[arg-type]
        if bearer is not None:
            reference.headers[bearer[0]] = bearer[1]
        assert str(built.url) == str(reference.url)
        assert built.method == reference.method
        assert built.headers.raw == reference.headers.raw
        assert built.content == reference.content
        assert built.extensions["timeout"] == reference.extensions["timeout"]


def test_the_direct_lane_sees_changes_to_the_clients_headers() -> None:
    client = make_client(transport=httpx.MockTransport(Recorder().handler))
    lane = _lane.DirectLane(client)
    url = NETWORK.join("/items")
    first = lane.build("POST", url, httpx.USE_CLIENT_DEFAULT, json={})
    assert "x-app" not in first.headers
    client.headers["X-App"] = "demo/1"
    second = lane.build("POST", url, httpx.USE_CLIENT_DEFAULT, json={})
    assert second.headers["x-app"] == "demo/1"
    assert second.headers.raw == client.build_request("POST", url, json={}).headers.raw


@pytest.mark.usefixtures("auto")
async def test_a_direct_lane_answer_is_freed_without_the_garbage_collector() -> None:
    """httpx's response and its body stream refer to each other, so each request's response,
    request, headers and body wait for a garbage-collector pass; the direct lane's stream lets
    go of its response when closed, so dropping the answer frees it at once (and ``elapsed``
    is still set, as httpx sets it)."""

    class Streamed(httpx.AsyncByteStream):  # a body read from the network, as transports give
        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b'{"ok": true}'

    recorder = Recorder()
    client = make_client(
        transport=httpx.MockTransport(lambda _: httpx.Response(200, stream=Streamed()))
    )
    _counting(client, recorder)
    session = Session(NETWORK, client=client)
    await session.request("GET", "/items")  # the first call's set-up out of the way
    gc.collect()
    gc.disable()
    try:
        response = await session.request("GET", "/items")
        assert recorder.through_client == 0  # the direct lane
        assert response.elapsed >= timedelta(0)
        gone = weakref.ref(response)
        del response
        assert gone() is None, "the answer is still held (a reference cycle)"
        gc.set_debug(gc.DEBUG_SAVEALL)  # what only the collector frees, kept to look at
        gc.collect()
        left = [o for o in gc.garbage if isinstance(o, (httpx.Request, httpx.Response))]
        assert left == [], "the request left objects only the garbage collector frees"
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
        await client.aclose()
