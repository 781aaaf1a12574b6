"""socialkit's own CPU per X call, with the network replaced by canned answers.

    .venv/bin/python benchmarks/own_cpu.py [--calls 3000] [--pages 300] [--reps 5]
                                           [--baseline SRC]
    .venv/bin/python benchmarks/own_cpu.py --interference [--calls 3000]

``peers.py`` measures a call as a user pays it: socialkit, aiohttp and the event loop
together, against a server on the same machine, which moves by ±30 % between runs here. This
script takes aiohttp and the sockets out: the aiohttp transport's ``handle_async_request``
answers at once with what benchmarks/_servers.py's ``peers`` server sends (X API v2 shapes:
``POST /2/tweets``, ``GET /2/tweets/search/recent`` with 100 posts; the same headers), so what
is timed is socialkit alone: the adapter, the pre-flight, the pipeline and the mapping. Its
figures move by a few percent, which makes it the A/B tool for a change to any of those
(``--baseline`` runs another checkout's ``src/`` the same way, alternating fresh processes).

It does not measure what a change does to aiohttp's share, nor what the two cost each other
in place: ``--interference`` shows that, timing a raw aiohttp request to the local server
alone, then with socialkit's own work (a canned publish) between requests. On the development
machine each slows the other by about 1.5-2x (the CPU caches and branch predictors hold less
of each), which is why a publish costs about 0.43 ms in ``peers.py`` while aiohttp alone
costs 0.13 ms and socialkit alone 0.1 ms. Compare ratios, not milliseconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _canned_client() -> Any:
    """peers.py's socialkit X client, its aiohttp transport answering from memory."""
    sys.path.insert(0, str(HERE))
    import httpx
    from _servers import CREATED, x_page
    from peers import SocialkitClient

    from socialkit._http import _aiohttp

    reset = str(int(time.time()) + 900).encode()
    headers = [
        (b"Content-Type", b"application/json; charset=utf-8"),
        (b"X-Rate-Limit-Limit", b"100000000"),
        (b"X-Rate-Limit-Remaining", b"99999999"),
        (b"X-Rate-Limit-Reset", reset),
        (b"X-User-Limit-24hour-Limit", b"100000000"),
        (b"X-User-Limit-24hour-Remaining", b"99999999"),
        (b"X-User-Limit-24hour-Reset", reset),
        (b"Date", b"Sun, 06 Dec 2026 10:00:00 GMT"),
        (b"Server", b"Python/3.11 aiohttp"),
    ]
    page = x_page()

    class Body(httpx.AsyncByteStream):
        """What the aiohttp transport's body offers, over bytes in memory."""

        def __init__(self, body: bytes) -> None:
            self.body = body

        async def __aiter__(self) -> Any:
            yield self.body

        def content_encoding(self) -> None:
            return None

        def content_length(self) -> int:
            return len(self.body)

        async def read_capped(self, limit: int) -> tuple[bytes, bool]:
            return self.body[:limit], len(self.body) > limit

        async def aclose(self) -> None:
            return None

    async def answer(self: Any, request: httpx.Request) -> httpx.Response:
        # Once round the event loop, as a real answer is waited for: what the loop has to do
        # between calls (closing the async generators a call left, say) is done then too.
        await asyncio.sleep(0)
        post = request.method == "POST"
        body = CREATED if post else page
        return httpx.Response(
            201 if post else 200,
            headers=[*headers, (b"Content-Length", str(len(body)).encode())],
            stream=Body(body),
            request=request,
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": b"OK"},
        )

    _aiohttp.AiohttpTransport.handle_async_request = answer  # type: ignore[method-assign]
    return SocialkitClient("x", "http://127.0.0.1:9")  # never connected to


async def _child(what: str, calls: int, blocks: int) -> float:
    """Microseconds of CPU per call: the best of ``blocks`` blocks of ``calls``."""
    client = _canned_client()
    call = client.publish if what == "publish" else client.page
    for _ in range(max(calls // 10, 20)):  # caches, the first requests' setup
        await call()
    best = float("inf")
    for _ in range(blocks):
        started = time.process_time()
        for _ in range(calls):
            await call()
        best = min(best, (time.process_time() - started) / calls)
    await client.aclose()
    return best * 1e6


async def _interference(calls: int, url: str) -> None:
    """A raw aiohttp publish to the local server at ``url`` alone, then with socialkit's own
    work (a canned publish) between requests: what each costs the other in place."""
    import aiohttp

    client = _canned_client()
    body = json.dumps({"text": "x" * 235}).encode()
    headers = {"Content-Type": "application/json", "Authorization": "Bearer t"}
    inside = [0.0]
    async with aiohttp.ClientSession() as session:

        async def send() -> None:
            started = time.process_time()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
            inside[0] += time.process_time() - started

        for _ in range(200):
            await send()
            await client.publish()
        own = await _best_own(client, calls)
        best: dict[str, tuple[float, float]] = {}
        for mode in ("alone", "interleaved") * 3:  # the best of three runs of each
            inside[0] = 0.0
            started = time.process_time()
            for _ in range(calls):
                await send()
                if mode == "interleaved":
                    await client.publish()
            total = (time.process_time() - started) / calls * 1e6
            http = inside[0] / calls * 1e6
            if mode not in best or http < best[mode][0]:
                best[mode] = (http, total - http)
        alone, (http, rest) = best["alone"][0], best["interleaved"]
        print(f"aiohttp request alone              {alone:7.1f} us")
        print(f"socialkit's own work alone         {own:7.1f} us (canned answers)")
        print(f"aiohttp request, interleaved       {http:7.1f} us ({http / alone:.2f}x)")
        print(f"socialkit's own work, interleaved  {rest:7.1f} us ({rest / own:.2f}x)")
    await client.aclose()


async def _best_own(client: Any, calls: int) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        for _ in range(calls):
            await client.publish()
        best = min(best, (time.process_time() - started) / calls)
    return best * 1e6


def _run(src: str | None, what: str, calls: int, blocks: int) -> float:
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [src, env.get("PYTHONPATH")]))
    argv = [sys.executable, __file__, "--child", what, str(calls), str(blocks)]
    out = subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout
    return float(json.loads(out.splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="publishes per block")
    parser.add_argument("--pages", type=int, default=300, help="pages of 100 posts per block")
    parser.add_argument("--blocks", type=int, default=5, help="blocks per process (best kept)")
    parser.add_argument("--reps", type=int, default=5, help="fresh processes per figure")
    parser.add_argument("--baseline", metavar="SRC", help="another checkout's src/, alternated")
    parser.add_argument(
        "--interference",
        action="store_true",
        help="time a raw aiohttp request alone and with socialkit's own work between requests",
    )
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.interference:
        server = subprocess.Popen(
            [sys.executable, str(HERE / "_servers.py"), "peers"], stdout=subprocess.PIPE, text=True
        )
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            asyncio.run(_interference(args.calls, f"http://127.0.0.1:{port}/2/tweets"))
        finally:
            server.terminate()
            server.wait()
        return
    if args.child:
        what, calls, blocks = args.child
        print(json.dumps(asyncio.run(_child(what, int(calls), int(blocks)))))
        return
    print(f"python {sys.version.split()[0]}; {args.reps} processes per figure, best block each")
    for what, calls in (("publish", args.calls), ("page", args.pages)):
        mine: list[float] = []
        base: list[float] = []
        for _ in range(args.reps):
            mine.append(_run(None, what, calls, args.blocks))
            if args.baseline:
                base.append(_run(args.baseline, what, calls, args.blocks))
        line = f"{what:<8} socialkit {statistics.median(mine):8.1f} us/call"
        if base:
            ratios = [a / b for a, b in zip(mine, base, strict=True)]
            line += (
                f"   baseline {statistics.median(base):8.1f} us/call   socialkit / baseline "
                f"{statistics.median(ratios):.2f} [{min(ratios):.2f}–{max(ratios):.2f}]"
            )
        print(line)


if __name__ == "__main__":
    main()
