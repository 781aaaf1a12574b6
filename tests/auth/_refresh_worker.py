"""Run by the auth tests in a separate process: concurrent requests with one account's token.

Usage: python _refresh_worker.py SPEC_JSON

SPEC_JSON holds ``config`` (an OAuth2Config), ``store`` (``{"backend": "sqlite", "path": ...}``
or ``{"backend": "redis", "url": ..., "prefix": ...}``), ``url`` (the resource to GET),
``start`` (a file whose appearance starts the requests), and optionally ``requests`` (20),
``lease`` (30), ``poll_interval`` (0.05), ``network`` (``oidc``) and ``account`` (``alice``).

The stored token is expired, so the first request needs a refresh; the processes share the
store, and OAuth2Auth must let only one of them refresh. The token requests carry the header
``X-Worker-Pid`` so that a test server can tell (and kill) the process that sent one. Prints a
JSON report: each request's status or ``ErrorClass:code``, this process's refreshes and token
requests.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from socialkit._errors import SocialkitError
from socialkit._store import SQLiteStore, Store
from socialkit.auth import OAuth2Auth, OAuth2Client, OAuth2Config, TokenStore


def wait_for(start: Path) -> None:
    deadline = time.monotonic() + 60
    while not start.exists():
        if time.monotonic() > deadline:
            raise SystemExit("start file never appeared")
        time.sleep(0.002)


def open_store(spec: dict[str, Any]) -> Store:
    if spec["backend"] == "sqlite":
        return SQLiteStore(spec["path"])
    if spec["backend"] == "redis":
        from socialkit.stores.redis import RedisStore

        return RedisStore(spec["url"], prefix=spec["prefix"])
    raise SystemExit(f"unknown store backend {spec['backend']!r}")


def outcome(result: httpx.Response | BaseException) -> int | str:
    if isinstance(result, httpx.Response):
        return result.status_code
    if isinstance(result, SocialkitError):
        return f"{type(result).__name__}:{getattr(result, 'code', None)}"
    raise result


async def main(spec: dict[str, Any]) -> dict[str, object]:
    network = spec.get("network", "oidc")
    account = spec.get("account", "alice")
    token_requests = 0

    async def count(request: httpx.Request) -> None:
        nonlocal token_requests
        if request.url.path.endswith("/token"):
            token_requests += 1

    headers = {"X-Worker-Pid": str(os.getpid())}
    async with httpx.AsyncClient(
        event_hooks={"request": [count]}, headers=headers, timeout=60
    ) as http:
        client = OAuth2Client(OAuth2Config.model_validate(spec["config"]), http=http)
        store = TokenStore(open_store(spec["store"]))
        auth = OAuth2Auth(
            client,
            store,
            account=account,
            lease=float(spec.get("lease", 30.0)),
            poll_interval=float(spec.get("poll_interval", 0.05)),
        )
        await store.get(network, account)  # open the store before the start signal
        await asyncio.to_thread(wait_for, Path(spec["start"]))
        async with httpx.AsyncClient(auth=auth, timeout=60) as api:
            results = await asyncio.gather(
                *(api.get(spec["url"]) for _ in range(int(spec.get("requests", 20)))),
                return_exceptions=True,
            )
        await store.aclose()
    return {
        "pid": os.getpid(),
        "statuses": [outcome(r) for r in results],
        "refreshes": auth.refreshes,
        "token_requests": token_requests,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(json.loads(sys.argv[1])))))
