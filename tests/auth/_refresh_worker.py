"""Run by test_oauth2_server.py in a separate process: 20 concurrent requests with one account.

Usage: python _refresh_worker.py CONFIG_JSON STORE_PATH URL START_FILE
The stored token is expired, so the first request needs a refresh. Both processes share the
SQLite store; OAuth2Auth's lease must let only one of them refresh. Prints a JSON report.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import httpx

from socialkit._store import SQLiteStore
from socialkit.auth import OAuth2Auth, OAuth2Client, OAuth2Config, TokenStore


def wait_for(start: Path) -> None:
    deadline = time.monotonic() + 30
    while not start.exists():
        if time.monotonic() > deadline:
            raise SystemExit("start file never appeared")
        time.sleep(0.002)


async def main(config: dict[str, object], path: str, url: str, start: Path) -> dict[str, object]:
    token_requests = 0

    async def count(request: httpx.Request) -> None:
        nonlocal token_requests
        if request.url.path == "/token":
            token_requests += 1

    async with httpx.AsyncClient(event_hooks={"request": [count]}, timeout=30) as http:
        client = OAuth2Client(OAuth2Config.model_validate(config), http=http)
        store = TokenStore(SQLiteStore(path))
        auth = OAuth2Auth(client, store, account="alice")
        await store.get("oidc", "alice")  # open the database before the start signal
        await asyncio.to_thread(wait_for, start)
        async with httpx.AsyncClient(auth=auth, timeout=30) as api:
            responses = await asyncio.gather(*(api.get(url) for _ in range(20)))
        await store.aclose()
    return {
        "statuses": [r.status_code for r in responses],
        "refreshes": auth.refreshes,
        "token_requests": token_requests,
    }


if __name__ == "__main__":
    report = asyncio.run(main(json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], Path(sys.argv[4])))
    print(json.dumps(report))
