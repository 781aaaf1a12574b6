"""Client-side CPU per call: socialkit's pipeline against raw httpx, raw aiohttp and tweepy.

    .venv/bin/python benchmarks/overhead.py [--calls 2000] [--pages 200] [--concurrency 20]
                                            [--rounds 5]

All clients talk to one local aiohttp server (a separate process, so its CPU is not counted)
that answers like the X API v2: ``POST /2/tweets`` and ``GET /2/tweets/search/recent`` (a page
of 50 posts). CPU is ``time.process_time()`` of this process only. Each client does the same
work per call: send with a bearer token, read the body, parse it (JSON, or pydantic for
socialkit, whose adapters validate every response into a model). The calls are split into
interleaved rounds and the best round per client is printed (CPU per call, wall per call).

Needs the ``bench`` extra: tweepy[async], aiohttp, httpx-aiohttp.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pydantic
import tweepy.asynchronous

from socialkit._http import Network, Session, header_rate_limit_parser, make_client

TOKEN = "AAAAAAAAAAAAAAAAAAAAAbenchmarktoken"
HERE = Path(__file__).resolve().parent


# --- wire models (what an X adapter validates) ------------------------------------------


class Created(pydantic.BaseModel):
    id: str
    text: str


class CreatedResponse(pydantic.BaseModel):
    data: Created


class Metrics(pydantic.BaseModel):
    retweet_count: int
    reply_count: int
    like_count: int
    quote_count: int
    impression_count: int | None = None


class Tweet(pydantic.BaseModel):
    id: str
    text: str
    author_id: str | None = None
    created_at: str | None = None
    lang: str | None = None
    public_metrics: Metrics | None = None


class Meta(pydantic.BaseModel):
    result_count: int
    newest_id: str | None = None
    oldest_id: str | None = None
    next_token: str | None = None


class SearchPage(pydantic.BaseModel):
    data: list[Tweet] = []
    meta: Meta


PAGE_ADAPTER = pydantic.TypeAdapter(SearchPage)


class Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = self._header
        yield request


# --- the clients under test ---------------------------------------------------------------


class Client:
    name = ""

    async def publish(self, i: int) -> Any: ...

    async def page(self) -> Any: ...

    async def read_page(self, i: int) -> Any:
        return await self.page()

    async def aclose(self) -> None: ...


class SocialkitClient(Client):
    name = "socialkit Session"

    def __init__(self, base: str) -> None:
        network = Network(
            "x",
            base,
            rate_limit_parser=header_rate_limit_parser(
                "x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"
            ),
        )
        self.client = make_client()
        self.session = Session(network, client=self.client, auth=Bearer(TOKEN))

    async def publish(self, i: int) -> Any:
        return await self.session.request_model(
            CreatedResponse, "POST", "/2/tweets", json={"text": f"hello {i}"}
        )

    async def page(self) -> Any:
        return await self.session.request_model(
            SearchPage,
            "GET",
            "/2/tweets/search/recent",
            params={"query": "python", "max_results": 50},
        )

    async def aclose(self) -> None:
        await self.client.aclose()


class HttpxClient(Client):
    name = "raw httpx.AsyncClient"

    def __init__(self, base: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.base = base
        self.client = httpx.AsyncClient(transport=transport)
        self.headers = {"Authorization": f"Bearer {TOKEN}"}

    async def publish(self, i: int) -> Any:
        r = await self.client.post(
            f"{self.base}/2/tweets", json={"text": f"hello {i}"}, headers=self.headers
        )
        r.raise_for_status()
        return r.json()

    async def page(self) -> Any:
        r = await self.client.get(
            f"{self.base}/2/tweets/search/recent",
            params={"query": "python", "max_results": 50},
            headers=self.headers,
        )
        r.raise_for_status()
        return r.json()

    async def aclose(self) -> None:
        await self.client.aclose()


class HttpxPydanticClient(HttpxClient):
    name = "raw httpx + pydantic"

    async def page(self) -> Any:
        r = await self.client.get(
            f"{self.base}/2/tweets/search/recent",
            params={"query": "python", "max_results": 50},
            headers=self.headers,
        )
        r.raise_for_status()
        return PAGE_ADAPTER.validate_json(r.content)


class HttpxAiohttpClient(HttpxClient):
    name = "raw httpx + aiohttp transport"

    def __init__(self, base: str) -> None:
        from httpx_aiohttp import AiohttpTransport

        super().__init__(base, AiohttpTransport())


class AiohttpClient(Client):
    name = "raw aiohttp"

    def __init__(self, base: str) -> None:
        self.base = base
        self.session = aiohttp.ClientSession()
        self.headers = {"Authorization": f"Bearer {TOKEN}"}

    async def publish(self, i: int) -> Any:
        async with self.session.post(
            f"{self.base}/2/tweets", json={"text": f"hello {i}"}, headers=self.headers
        ) as r:
            r.raise_for_status()
            return await r.json()

    async def page(self) -> Any:
        async with self.session.get(
            f"{self.base}/2/tweets/search/recent",
            params={"query": "python", "max_results": "50"},
            headers=self.headers,
        ) as r:
            r.raise_for_status()
            return await r.json()

    async def aclose(self) -> None:
        await self.session.close()


class _Redirect:
    """tweepy hard-codes https://api.twitter.com; send its requests to the local server."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self._session = session
        self._base = base

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        return self._session.request(
            method, str(url).replace("https://api.twitter.com", self._base, 1), **kwargs
        )

    async def close(self) -> None:
        await self._session.close()


class TweepyClient(Client):
    name = "tweepy AsyncClient"

    def __init__(self, base: str) -> None:
        self.client = tweepy.asynchronous.AsyncClient(bearer_token=TOKEN)
        # A persistent session (tweepy's fastest setup; without one it opens one per call).
        self.client.session = _Redirect(aiohttp.ClientSession(), base)  # type: ignore[assignment]

    async def publish(self, i: int) -> Any:
        return await self.client.create_tweet(text=f"hello {i}", user_auth=False)

    async def page(self) -> Any:
        return await self.client.search_recent_tweets("python", max_results=50, user_auth=False)

    async def aclose(self) -> None:
        await self.client.session.close()  # type: ignore[union-attr]


# --- measuring ----------------------------------------------------------------------------


async def measure(
    call: Callable[[int], Awaitable[Any]], calls: int, concurrency: int
) -> tuple[float, float]:
    """(CPU ms per call, wall ms per call)."""
    for i in range(min(50, calls)):  # warm up: connections, caches
        await call(i)
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    if concurrency <= 1:
        for i in range(calls):
            await call(i)
    else:
        per_worker = calls // concurrency

        async def worker(w: int) -> None:
            for i in range(per_worker):
                await call(w * per_worker + i)

        await asyncio.gather(*(worker(w) for w in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu * 1000 / calls, wall * 1000 / calls


FACTORIES: list[Callable[[str], Client]] = [
    SocialkitClient,
    HttpxClient,
    HttpxPydanticClient,
    HttpxAiohttpClient,
    AiohttpClient,
    TweepyClient,
]


def print_ratios(title: str, results: dict[str, float]) -> None:
    names = list(results)
    print(f"\n{title}: ratio of CPU per call (row / column)")
    width = max(len(n) for n in names)
    header = " " * (width + 3) + "".join(f"{i + 1:>8}" for i in range(len(names)))
    print(header)
    for i, row in enumerate(names):
        cells = "".join(f"{results[row] / results[col]:8.2f}" for col in names)
        print(f"{i + 1}. {row:<{width}}{cells}")


async def run(calls: int, pages: int, concurrency: int, base: str, rounds: int) -> None:
    """Every client does every scenario in ``rounds`` interleaved rounds (load on a shared
    machine drifts; interleaving spreads it evenly); the best round is reported."""
    scenarios: dict[str, dict[str, tuple[float, float]]] = {
        f"publish, sequential ({calls} calls)": {},
        f"publish, {concurrency} concurrent ({calls} calls)": {},
        f"page read, sequential ({pages} calls)": {},
    }
    keys = list(scenarios)
    clients = [factory(base) for factory in FACTORIES]
    try:
        for _ in range(rounds):
            for client in clients:
                plan = [
                    (keys[0], client.publish, calls // rounds, 1),
                    (keys[1], client.publish, calls // rounds, concurrency),
                    (keys[2], client.read_page, pages // rounds, 1),
                ]
                for key, call, n, conc in plan:
                    cpu, wall = await measure(call, n, conc)
                    best = scenarios[key].get(client.name)
                    if best is None or cpu < best[0]:
                        scenarios[key][client.name] = (cpu, wall)
            print(f"round done: {', '.join(c.name for c in clients)}", file=sys.stderr)
    finally:
        for client in clients:
            await client.aclose()

    for title, results in scenarios.items():
        print(f"\n== {title} ==")
        print(f"{'client':<32}{'CPU ms/call':>12}{'wall ms/call':>14}")
        for name, (cpu, wall) in results.items():
            print(f"{name:<32}{cpu:>12.3f}{wall:>14.3f}")
        print_ratios(title, {name: cpu for name, (cpu, _) in results.items()})

    sk = "socialkit Session"
    print("\n== targets (CPU per call) ==")
    for key in keys[:2]:
        ratio = scenarios[key][sk][0] / scenarios[key]["tweepy AsyncClient"][0]
        print(f"{key}: socialkit / tweepy = {ratio:.2f} (target <= 1.5)")
    page_ratio = scenarios[keys[2]][sk][0] / scenarios[keys[2]]["raw httpx + pydantic"][0]
    print(f"{keys[2]}: socialkit / (raw httpx + pydantic) = {page_ratio:.2f} (target <= 1.1)")
    for key in keys:
        own = scenarios[key][sk][0] - scenarios[key]["raw httpx + aiohttp transport"][0]
        print(f"{key}: pipeline's own CPU over httpx+aiohttp transport = {own:.3f} ms/call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server = subprocess.Popen(
        [sys.executable, str(HERE / "_servers.py"), "overhead"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        print(f"python {sys.version.split()[0]}, httpx {httpx.__version__}, ", end="")
        print(f"aiohttp {aiohttp.__version__}, tweepy {tweepy.__version__}")
        base = f"http://127.0.0.1:{port}"
        asyncio.run(run(args.calls, args.pages, args.concurrency, base, args.rounds))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
