"""socialkit against the SDKs a user would pick instead, per network, in one run.

    .venv/bin/python benchmarks/peers.py [--reps 5] [--calls 1000] [--pages 100]
                                         [--concurrency 20] [--networks x,bluesky,mastodon]

(or ``nox -s bench``, which installs the peers: the ``bench`` extra). Per network, four clients
do the same calls against one local server (benchmarks/_servers.py ``peers``, its own process
on 127.0.0.1, so its CPU is not counted):

- X: socialkit, tweepy's ``AsyncClient`` (a persistent aiohttp session), raw httpx, raw aiohttp;
- Bluesky: socialkit, atproto's ``AsyncClient``, raw httpx, raw aiohttp;
- Mastodon: socialkit, Mastodon.py (synchronous: threads for the concurrent runs), raw httpx,
  raw aiohttp.

A publish sends a 235-character post (a link, an emoji; a counter at its end makes each one
different), built per call as a user would (socialkit: a ``Post``); a page is 100 posts
(Mastodon: 40, its maximum) kept as each client returns them (socialkit: ``Post`` models; the
raw clients: the parsed JSON). Each client runs in a fresh process, which measures: import time
(the library's import and the client's construction), CPU per call (``time.process_time()``)
for publish and for a page, sequential and at ``--concurrency`` concurrent calls, publishes per
second at that concurrency (wall clock), and the memory of 10,000 kept posts (``tracemalloc``,
last, as it slows everything). A repetition runs every client once; ratios are socialkit / peer
within a repetition (paired), printed as median [min–max] over the repetitions.

``--floor`` adds ``transport``: socialkit's own aiohttp transport driven with httpx's
``Request`` and ``Response`` alone (no pipeline, no ``Post``), and prints it against each
peer: the floor of any socialkit pipeline that keeps httpx's objects.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TOKEN = "AAAAAAAAAAAAAAAAAAAAAbenchmarktoken"
PASSWORD = "abcd-efgh-ijkl-mnop"
KEPT = 10_000


class Texts:
    """235-character texts, each different (a counter in place of the last characters), so
    that no client gains from having measured or sent the same text before."""

    def __init__(self) -> None:
        from _peer_data import LONG_TEXT

        self._head = LONG_TEXT[:-7]
        self._count = 0

    def next(self) -> str:
        self._count += 1
        return f"{self._head}{self._count % 10_000_000:07d}"


CLIENTS = {
    "x": ["socialkit", "tweepy", "httpx", "aiohttp"],
    "bluesky": ["socialkit", "atproto", "httpx", "aiohttp"],
    "mastodon": ["socialkit", "Mastodon.py", "httpx", "aiohttp"],
}

Call = Callable[[], Awaitable[Any]]


class Client:
    """What one client does: ``publish()``, ``page()`` (the kept posts), ``aclose()``."""

    #: Synchronous calls (Mastodon.py): run directly in sequence, in threads when concurrent.
    sync = False

    async def setup(self) -> None: ...

    async def publish(self) -> Any: ...

    async def page(self) -> list[Any]: ...

    async def aclose(self) -> None: ...


# --- the raw clients: the same requests as the SDKs, JSON parsed and kept ---------------


def _raw_calls(
    network: str, base: str
) -> tuple[tuple[str, str, Callable[[str], Any]], tuple[str, str, Any]]:
    """((method, url, json body of a text), (method, url, params)) of a publish and a page."""
    from _peer_data import DID

    if network == "x":
        return ("POST", f"{base}/2/tweets", lambda text: {"text": text}), (
            "GET",
            f"{base}/2/tweets/search/recent",
            {"query": "python", "max_results": "100"},
        )
    if network == "bluesky":

        def body(text: str) -> dict[str, Any]:
            record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _now()}
            return {"repo": DID, "collection": "app.bsky.feed.post", "record": record}

        return ("POST", f"{base}/xrpc/com.atproto.repo.createRecord", body), (
            "GET",
            f"{base}/xrpc/app.bsky.feed.searchPosts",
            {"q": "python", "limit": "100"},
        )
    return ("POST", f"{base}/api/v1/statuses", lambda text: {"status": text}), (
        "GET",
        f"{base}/api/v1/timelines/home",
        {"limit": "40"},
    )


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _posts(network: str, body: Any) -> list[Any]:
    if network == "x":
        return list(body["data"])
    if network == "bluesky":
        return list(body["posts"])
    return list(body)


class HttpxClient(Client):
    def __init__(self, network: str, base: str) -> None:
        import httpx

        self.network = network
        self.texts = Texts()
        self.create, self.read = _raw_calls(network, base)
        self.client = httpx.AsyncClient(headers={"Authorization": f"Bearer {TOKEN}"})

    async def publish(self) -> Any:
        method, url, body = self.create
        response = await self.client.request(method, url, json=body(self.texts.next()))
        response.raise_for_status()
        return response.json()

    async def page(self) -> list[Any]:
        method, url, params = self.read
        response = await self.client.request(method, url, params=params)
        response.raise_for_status()
        return _posts(self.network, response.json())

    async def aclose(self) -> None:
        await self.client.aclose()


class AiohttpClient(Client):
    def __init__(self, network: str, base: str) -> None:
        import aiohttp

        self.network = network
        self.texts = Texts()
        self.create, self.read = _raw_calls(network, base)
        self.session = aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"})

    async def publish(self) -> Any:
        method, url, body = self.create
        async with self.session.request(method, url, json=body(self.texts.next())) as response:
            response.raise_for_status()
            return await response.json()

    async def page(self) -> list[Any]:
        method, url, params = self.read
        async with self.session.request(method, url, params=params) as response:
            response.raise_for_status()
            return _posts(self.network, await response.json())

    async def aclose(self) -> None:
        await self.session.close()


class TransportClient(Client):
    """socialkit's own aiohttp transport driven with httpx's ``Request`` and ``Response`` and
    nothing else: no pre-flight, rate limits, deadline, retries, typed answer or ``Post``, the
    parsed JSON kept as the raw clients keep it. The floor of any socialkit pipeline that keeps
    httpx's objects, as the httpx contract asks (``--floor``)."""

    def __init__(self, network: str, base: str) -> None:
        import httpx

        from socialkit._http._aiohttp import AiohttpTransport

        self.request = httpx.Request
        self.network = network
        self.texts = Texts()
        self.create, self.read = _raw_calls(network, base)
        self.transport = AiohttpTransport()
        self.auth = (b"Authorization", f"Bearer {TOKEN}".encode())

    async def _send(self, request: Any) -> Any:
        response = await self.transport.handle_async_request(request)
        try:
            body = await response.aread()
        finally:
            await response.aclose()
        if response.status_code >= 400:
            raise RuntimeError(f"{request.method} {request.url}: {response.status_code}")
        return json.loads(body)

    async def publish(self) -> Any:
        method, url, body = self.create
        content = json.dumps(body(self.texts.next())).encode()
        headers = [self.auth, (b"Content-Type", b"application/json")]
        return await self._send(self.request(method, url, headers=headers, content=content))

    async def page(self) -> list[Any]:
        method, url, params = self.read
        request = self.request(method, url, params=params, headers=[self.auth])
        return _posts(self.network, await self._send(request))

    async def aclose(self) -> None:
        await self.transport.aclose()


# --- socialkit ----------------------------------------------------------------------------


class SocialkitClient(Client):
    def __init__(self, network: str, base: str) -> None:
        from _peer_data import HANDLE

        import socialkit

        settings: dict[str, Any]
        if network == "x":
            settings = {"access_token": TOKEN, "base_url": base}
        elif network == "bluesky":
            settings = {
                "service": base,
                "identifier": HANDLE,
                "password": PASSWORD,
                "follow_pds_endpoint": False,
            }
        else:
            settings = {"instance": base, "access_token": TOKEN}
        self.network = network
        self.adapter = socialkit.connect(network, **settings)
        self.texts = Texts()
        self.post_type = socialkit.Post

    async def publish(self) -> Any:
        return await self.adapter.publish(self.post_type(text=self.texts.next()))

    async def page(self) -> list[Any]:
        if self.network == "mastodon":
            paged = self.adapter.timeline(limit=40)
        else:
            paged = self.adapter.search("python", limit=100)
        async for page in paged.pages():
            return list(page.items)
        return []

    async def aclose(self) -> None:
        await self.adapter.aclose()


# --- the peers ----------------------------------------------------------------------------


class TweepyClient(Client):
    def __init__(self, network: str, base: str) -> None:
        import aiohttp
        import tweepy.asynchronous

        self.texts = Texts()
        self.client = tweepy.asynchronous.AsyncClient(bearer_token=TOKEN)
        self.base = base
        self.aiohttp = aiohttp

    async def setup(self) -> None:
        # A persistent session (tweepy's fastest setup; without one it opens one per call),
        # its hard-coded https://api.twitter.com sent to the local server.
        session = self.aiohttp.ClientSession()
        base = self.base

        class Redirect:
            def request(self, method: str, url: Any, **kwargs: Any) -> Any:
                url = str(url).replace("https://api.twitter.com", base, 1)
                return session.request(method, url, **kwargs)

            async def close(self) -> None:
                await session.close()

        self.client.session = Redirect()

    async def publish(self) -> Any:
        return await self.client.create_tweet(text=self.texts.next(), user_auth=False)

    async def page(self) -> list[Any]:
        response = await self.client.search_recent_tweets(
            "python", max_results=100, user_auth=False
        )
        return list(response.data)

    async def aclose(self) -> None:
        await self.client.session.close()


class AtprotoClient(Client):
    def __init__(self, network: str, base: str) -> None:
        from atproto import AsyncClient

        self.texts = Texts()
        self.client = AsyncClient(base_url=f"{base}/xrpc")

    async def setup(self) -> None:
        from _peer_data import HANDLE

        await self.client.login(HANDLE, PASSWORD)

    async def publish(self) -> Any:
        return await self.client.send_post(self.texts.next())

    async def page(self) -> list[Any]:
        answer = await self.client.app.bsky.feed.search_posts({"q": "python", "limit": 100})
        return list(answer.posts)

    async def aclose(self) -> None:
        await self.client.request.close()


class MastodonPyClient(Client):
    sync = True

    def __init__(self, network: str, base: str) -> None:
        from mastodon import Mastodon

        self.texts = Texts()
        self.client = Mastodon(
            access_token=TOKEN,
            api_base_url=base,
            mastodon_version="4.3.0",
            version_check_mode="none",
            ratelimit_method="throw",
        )

    def publish(self) -> Any:  # type: ignore[override]
        return self.client.status_post(self.texts.next())

    def page(self) -> list[Any]:  # type: ignore[override]
        return list(self.client.timeline_home(limit=40))


FACTORIES: dict[str, type[Client]] = {
    "socialkit": SocialkitClient,
    "tweepy": TweepyClient,
    "atproto": AtprotoClient,
    "Mastodon.py": MastodonPyClient,
    "httpx": HttpxClient,
    "aiohttp": AiohttpClient,
    "transport": TransportClient,
}


# --- one client, in its own process ------------------------------------------------------


async def _timed(
    client: Client, call: Callable[[], Any], calls: int, concurrency: int, blocks: int = 1
) -> tuple[float, float]:
    """(CPU ms per call, calls per second): the best of ``blocks`` blocks of ``calls / blocks``
    calls each (on a shared machine, other jobs slow some blocks; the best is the client's)."""
    per_block = max(1, calls // max(1, blocks))
    cpu, rate = float("inf"), 0.0
    for _ in range(max(1, blocks)):
        block_cpu, block_rate = await _timed_block(client, call, per_block, concurrency)
        cpu, rate = min(cpu, block_cpu), max(rate, block_rate)
    return cpu, rate


async def _timed_block(
    client: Client, call: Callable[[], Any], calls: int, concurrency: int
) -> tuple[float, float]:
    """(CPU ms per call, calls per second) of one block."""
    concurrency = max(1, min(concurrency, calls))
    calls -= calls % concurrency
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(concurrency) if client.sync and concurrency > 1 else None

    async def once() -> Any:
        if not client.sync:
            return await call()
        if pool is None:
            return call()
        return await loop.run_in_executor(pool, call)

    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    if concurrency == 1:
        for _ in range(calls):
            await once()
    else:

        async def worker() -> None:
            for _ in range(calls // concurrency):
                await once()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if pool is not None:
        pool.shutdown()
    return cpu * 1000 / calls, calls / wall


async def _child(name: str, network: str, base: str, args: argparse.Namespace) -> dict[str, float]:
    import _peer_data  # noqa: F401  (not the client's import time)

    started = time.perf_counter()
    client = FACTORIES[name](network, base)
    imported = time.perf_counter() - started
    await client.setup()
    figures = {"import_s": imported}
    conc = args.concurrency
    try:
        for _ in range(50):  # connections, caches
            await _timed(client, client.publish, 1, 1)
            await _timed(client, client.page, 1, 1)
        blocks = args.blocks
        figures["publish_seq"], _ = await _timed(client, client.publish, args.calls, 1, blocks)
        figures["publish_conc"], rate = await _timed(
            client, client.publish, args.calls, conc, blocks
        )
        figures["publishes_per_s"] = rate
        figures["page_seq"], _ = await _timed(client, client.page, args.pages, 1, blocks)
        figures["page_conc"], _ = await _timed(client, client.page, args.pages, conc, blocks)
        if not args.memory:
            return figures
        kept: list[Any] = []
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        while len(kept) < KEPT:
            batch = client.page() if client.sync else await client.page()
            kept.extend(batch)
        del kept[KEPT:]
        gc.collect()
        figures["memory_mb"] = (tracemalloc.get_traced_memory()[0] - before) / 1e6
        tracemalloc.stop()
    finally:
        if not client.sync:
            await client.aclose()
    return figures


# --- the driver ---------------------------------------------------------------------------

ROWS = [
    ("publish_seq", "publish CPU/call, sequential"),
    ("publish_conc", "publish CPU/call, concurrent"),
    ("publishes_per_s", "publishes per second, concurrent"),
    ("page_seq", "page CPU/call, sequential"),
    ("page_conc", "page CPU/call, concurrent"),
    ("memory_mb", "memory of 10,000 kept posts"),
    ("import_s", "import + construct time"),
]


def _run_child(
    name: str, network: str, base: str, argv: list[str], baseline: str | None
) -> dict[str, float]:
    env = dict(os.environ)
    if name == "baseline":
        # The same client from another checkout's sources (before / after a change).
        assert baseline is not None
        name = "socialkit"
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [baseline, env.get("PYTHONPATH")]))
    command = [sys.executable, str(Path(__file__)), "--child", name, network, base, *argv]
    out = subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} [{min(values):.2f}–{max(values):.2f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--blocks",
        type=int,
        default=1,
        help="split each timed run into N blocks and keep the best (a noisy machine)",
    )
    parser.add_argument("--networks", default="x,bluesky,mastodon")
    parser.add_argument(
        "--baseline",
        metavar="SRC",
        help="also run socialkit from this source folder (another checkout's src/), as 'baseline'",
    )
    parser.add_argument(
        "--memory-reps",
        type=int,
        help="measure memory in the first N repetitions only (it is deterministic, and slow)",
    )
    parser.add_argument(
        "--floor",
        action="store_true",
        help="also run 'transport' (socialkit's aiohttp transport with httpx objects alone)",
    )
    parser.add_argument("--memory", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--child", nargs=3, metavar=("CLIENT", "NETWORK", "BASE"))
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    if args.child:
        name, network, base = args.child
        print(json.dumps(asyncio.run(_child(name, network, base, args))))
        return
    argv = [
        f"--calls={args.calls}",
        f"--pages={args.pages}",
        f"--concurrency={args.concurrency}",
        f"--blocks={args.blocks}",
    ]
    networks = [n for n in args.networks.split(",") if n]
    extra = (["transport"] if args.floor else []) + (["baseline"] if args.baseline else [])
    clients = {n: CLIENTS[n] + extra for n in networks}
    server = subprocess.Popen(
        [sys.executable, str(HERE / "_servers.py"), "peers"], stdout=subprocess.PIPE, text=True
    )
    results: dict[str, dict[str, list[dict[str, float]]]] = {
        n: {c: [] for c in clients[n]} for n in networks
    }
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{int(server.stdout.readline())}"
        for rep in range(args.reps):
            for network in networks:
                memory = args.memory_reps is None or rep < args.memory_reps
                for name in clients[network]:
                    figures = _run_child(
                        name, network, base, [*argv, f"--memory={int(memory)}"], args.baseline
                    )
                    results[network][name].append(figures)
                    print(
                        json.dumps({"network": network, "client": name, **figures}), file=sys.stderr
                    )
            print(f"repetition {rep + 1} of {args.reps} done", file=sys.stderr)
    finally:
        server.terminate()
        server.wait()
    print(f"python {sys.version.split()[0]}; {args.reps} repetitions; {' '.join(argv)}")
    for network in networks:
        runs = results[network]
        names = clients[network]
        print(f"\n== {network} == (ratio: socialkit / peer, median [min–max] over repetitions)")
        head = f"{'figure':<36}" + "".join(f"{n:>14}" for n in names)
        print(head + "".join(f"{'sk / ' + n:>22}" for n in names[1:]))
        for key, title in ROWS:
            values = {n: [r[key] for r in runs[n] if key in r] for n in names}
            if not all(values.values()):
                continue  # not measured in this run (memory with --memory-reps 0)
            line = f"{title:<36}" + "".join(f"{statistics.median(values[n]):>14.3f}" for n in names)
            for other in names[1:]:
                ratios = [a / b for a, b in zip(values["socialkit"], values[other], strict=True)]
                line += f"{_spread(ratios):>22}"
            print(line)
        if "transport" in names:
            # The floor against each peer: what no pipeline keeping httpx's objects goes under.
            peers = [n for n in names if n not in ("socialkit", "transport", "baseline")]
            print(
                f"\n{'figure (transport = the floor)':<36}"
                + "".join(f"{'transport / ' + n:>22}" for n in peers)
            )
            for key, title in ROWS:
                values = {n: [r[key] for r in runs[n] if key in r] for n in names}
                if not all(values.values()):
                    continue
                line = f"{title:<36}"
                for other in peers:
                    ratios = [
                        a / b for a, b in zip(values["transport"], values[other], strict=True)
                    ]
                    line += f"{_spread(ratios):>22}"
                print(line)


if __name__ == "__main__":
    main()
