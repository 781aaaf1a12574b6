"""Local HTTP servers for the benchmarks (aiohttp.web, run in their own process).

    python benchmarks/_servers.py overhead          # X-like endpoints, generous limits
    python benchmarks/_servers.py limited L W       # L requests per W-second window, 429 beyond
    python benchmarks/_servers.py peers             # X, Bluesky and Mastodon (benchmarks/peers.py)

Each prints its port on the first line of stdout, then serves until killed.
"""

from __future__ import annotations

import base64
import json
import math
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from _peer_data import CID, DID, HANDLE, LONG_TEXT
from aiohttp import web

# Shapes from the X API v2 reference (POST /2/tweets, GET /2/tweets/search/recent).
Handler = Callable[[web.Request], Awaitable[web.Response]]

CREATED = json.dumps(
    {"data": {"id": "1460323737035677698", "text": "hello", "edit_history_tweet_ids": ["1"]}}
).encode()


def page(size: int = 50) -> bytes:
    tweets = [
        {
            "id": str(1460323737035677698 + i),
            "text": f"Tweet number {i} about #python with a link https://t.co/abc{i} " * 2,
            "author_id": str(2244994945 + i % 7),
            "created_at": "2024-05-01T12:34:56.000Z",
            "lang": "en",
            "public_metrics": {
                "retweet_count": i,
                "reply_count": i % 3,
                "like_count": 10 * i,
                "quote_count": 0,
                "impression_count": 1000 + i,
            },
        }
        for i in range(size)
    ]
    meta = {
        "newest_id": tweets[0]["id"],
        "oldest_id": tweets[-1]["id"],
        "result_count": size,
        "next_token": "b26v89c19zqg8o3fpzbkk0jhqebdq1vfgymhk5hfqe0vx",
    }
    return json.dumps({"data": tweets, "meta": meta}).encode()


def overhead_app() -> web.Application:
    body = page()
    reset = str(int(time.time()) + 900)
    headers = {
        "content-type": "application/json; charset=utf-8",
        "x-rate-limit-limit": "100000000",
        "x-rate-limit-remaining": "99999999",
        "x-rate-limit-reset": reset,
    }

    async def create(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(status=201, body=CREATED, headers=headers)

    async def search(request: web.Request) -> web.Response:
        return web.Response(body=body, headers=headers)

    app = web.Application()
    app.router.add_post("/2/tweets", create)
    app.router.add_get("/2/tweets/search/recent", search)
    return app


def limited_app(limit: int, window: float) -> web.Application:
    counts: Counter[int] = Counter()
    statuses: Counter[int] = Counter()

    async def handle(request: web.Request) -> web.Response:
        now = time.time()
        index = math.floor(now / window)
        reset = (index + 1) * window
        counts[index] += 1
        used = counts[index]
        status = 200 if used <= limit else 429
        statuses[status] += 1
        headers = {
            "x-ratelimit-limit": str(limit),
            "x-ratelimit-remaining": str(max(0, limit - used)),
            "x-ratelimit-reset": repr(reset),
        }
        if status == 429:
            headers["retry-after"] = f"{max(0.0, reset - now):.3f}"
        return web.json_response({"ok": status == 200}, status=status, headers=headers)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(
            {"counts": {str(k): v for k, v in sorted(counts.items())}, "statuses": statuses}
        )

    async def reset_stats(request: web.Request) -> web.Response:
        counts.clear()
        statuses.clear()
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/items", handle)
    app.router.add_get("/stats", stats)
    app.router.add_post("/stats/reset", reset_stats)
    return app


# --- peers.py: X, Bluesky and Mastodon, pages of 100 (Mastodon: 40, its maximum) -----------

_REPEAT = "Post number {i} about #python and async clients, with a link https://t.co/abc{i} "


def x_page(size: int = 100) -> bytes:
    """``GET /2/tweets/search/recent``: a page of ``size`` posts with public metrics (X API v2
    reference, Tweet object)."""
    tweets = [
        {
            "id": str(1460323737035677698 + i),
            "text": (_REPEAT.format(i=i) * 3)[:230],
            "author_id": str(2244994945 + i % 7),
            "created_at": "2024-05-01T12:34:56.000Z",
            "lang": "en",
            "conversation_id": str(1460323737035677698 + i),
            "edit_history_tweet_ids": [str(1460323737035677698 + i)],
            "public_metrics": {
                "retweet_count": i,
                "reply_count": i % 3,
                "like_count": 10 * i,
                "quote_count": 0,
                "bookmark_count": 1,
                "impression_count": 1000 + i,
            },
        }
        for i in range(size)
    ]
    meta = {
        "newest_id": tweets[0]["id"],
        "oldest_id": tweets[-1]["id"],
        "result_count": size,
        "next_token": "b26v89c19zqg8o3fpzbkk0jhqebdq1vfgymhk5hfqe0vx",
    }
    return json.dumps({"data": tweets, "meta": meta}).encode()


def _jwt(kind: str) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    payload = {"scope": kind, "sub": DID, "iat": int(time.time()), "exp": 4102444800}
    return f"{part({'typ': 'at+jwt', 'alg': 'ES256K'})}.{part(payload)}.c2lnbmF0dXJl"


def bsky_page(size: int = 100) -> bytes:
    """``app.bsky.feed.searchPosts``: ``{posts: [app.bsky.feed.defs#postView]}`` (lexicon)."""
    posts = [
        {
            "uri": f"at://{DID}/app.bsky.feed.post/3kabcde{i:06d}",
            "cid": CID,
            "author": {
                "did": DID,
                "handle": HANDLE,
                "displayName": "Bench",
                "avatar": f"https://cdn.bsky.app/img/avatar/plain/{DID}/{CID}@jpeg",
                "labels": [],
                "createdAt": "2023-04-01T12:00:00.000Z",
            },
            "record": {
                "$type": "app.bsky.feed.post",
                "text": (_REPEAT.format(i=i) * 3)[:230],
                "createdAt": "2024-05-01T12:34:56.000Z",
                "langs": ["en"],
            },
            "replyCount": i % 3,
            "repostCount": i,
            "likeCount": 10 * i,
            "quoteCount": 0,
            "indexedAt": "2024-05-01T12:34:57.000Z",
            "labels": [],
        }
        for i in range(size)
    ]
    return json.dumps({"cursor": "100", "posts": posts}).encode()


def _mastodon_account() -> dict[str, object]:
    return {
        "id": "109302",
        "username": "bench",
        "acct": "bench",
        "display_name": "Bench",
        "locked": False,
        "bot": False,
        "discoverable": True,
        "group": False,
        "created_at": "2023-04-01T00:00:00.000Z",
        "note": "<p>Benchmarks</p>",
        "url": "http://127.0.0.1/@bench",
        "uri": "http://127.0.0.1/users/bench",
        "avatar": "http://127.0.0.1/avatars/original/missing.png",
        "avatar_static": "http://127.0.0.1/avatars/original/missing.png",
        "header": "http://127.0.0.1/headers/original/missing.png",
        "header_static": "http://127.0.0.1/headers/original/missing.png",
        "followers_count": 10,
        "following_count": 5,
        "statuses_count": 100,
        "last_status_at": "2024-05-01",
        "emojis": [],
        "fields": [],
    }


def mastodon_status(i: int, text: str) -> dict[str, object]:
    """A Status entity (docs.joinmastodon.org/entities/Status/)."""
    sid = str(112233445566778899 + i)
    return {
        "id": sid,
        "created_at": "2024-05-01T12:34:56.000Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "language": "en",
        "uri": f"http://127.0.0.1/users/bench/statuses/{sid}",
        "url": f"http://127.0.0.1/@bench/{sid}",
        "replies_count": i % 3,
        "reblogs_count": i,
        "favourites_count": 10 * i,
        "edited_at": None,
        "content": f"<p>{text}</p>",
        "reblog": None,
        "application": {"name": "socialkit", "website": None},
        "account": _mastodon_account(),
        "media_attachments": [],
        "mentions": [],
        "tags": [{"name": "python", "url": "http://127.0.0.1/tags/python"}],
        "emojis": [],
        "card": None,
        "poll": None,
    }


def peers_app() -> web.Application:
    """X (``/2/...``), Bluesky (``/xrpc/...``) and Mastodon (``/api/...``) on one port."""
    reset = str(int(time.time()) + 900)
    x_headers = {
        "content-type": "application/json; charset=utf-8",
        "x-rate-limit-limit": "100000000",
        "x-rate-limit-remaining": "99999999",
        "x-rate-limit-reset": reset,
        "x-user-limit-24hour-limit": "100000000",
        "x-user-limit-24hour-remaining": "99999999",
        "x-user-limit-24hour-reset": reset,
    }
    json_type = {"content-type": "application/json; charset=utf-8"}
    mastodon_headers = {
        **json_type,
        "x-ratelimit-limit": "100000000",
        "x-ratelimit-remaining": "99999999",
        "x-ratelimit-reset": "2099-01-01T00:00:00.000Z",
    }
    x_search = x_page()
    x_user = json.dumps(
        {"data": {"id": "2244994945", "name": "Bench", "username": "bench"}}
    ).encode()
    bsky_search = bsky_page()
    session = json.dumps(
        {
            "did": DID,
            "handle": HANDLE,
            "accessJwt": _jwt("com.atproto.access"),
            "refreshJwt": _jwt("com.atproto.refresh"),
            "active": True,
        }
    ).encode()
    profile = json.dumps({"did": DID, "handle": HANDLE, "displayName": "Bench"}).encode()
    created_record = json.dumps(
        {
            "uri": f"at://{DID}/app.bsky.feed.post/3kabcdefghij2",
            "cid": CID,
            "commit": {"cid": CID, "rev": "3kabcdefghij3"},
            "validationStatus": "valid",
        }
    ).encode()
    statuses = json.dumps(
        [mastodon_status(i, (_REPEAT.format(i=i) * 3)[:230]) for i in range(40)]
    ).encode()
    status = json.dumps(mastodon_status(0, LONG_TEXT)).encode()
    account = json.dumps(_mastodon_account()).encode()
    instance = json.dumps(
        {
            "domain": "127.0.0.1",
            "title": "bench",
            "version": "4.3.0",
            "api_versions": {"mastodon": 2},
            "configuration": {"statuses": {"max_characters": 500}},
        }
    ).encode()

    def answer(body: bytes, headers: dict[str, str], status: int = 200) -> web.Response:
        return web.Response(status=status, body=body, headers=headers)

    def fixed(body: bytes, headers: dict[str, str]) -> Handler:
        async def handle(request: web.Request) -> web.Response:
            return answer(body, headers)

        return handle

    async def x_create(request: web.Request) -> web.Response:
        await request.read()
        return answer(CREATED, x_headers, 201)

    async def create_record(request: web.Request) -> web.Response:
        await request.read()
        return answer(created_record, json_type)

    async def post_status(request: web.Request) -> web.Response:
        await request.read()
        return answer(status, mastodon_headers)

    routes = [
        web.post("/2/tweets", x_create),
        web.get("/2/tweets/search/recent", fixed(x_search, x_headers)),
        web.get("/2/users/me", fixed(x_user, x_headers)),
        web.post("/xrpc/com.atproto.server.createSession", fixed(session, json_type)),
        web.get("/xrpc/com.atproto.server.getSession", fixed(session, json_type)),
        web.get("/xrpc/app.bsky.actor.getProfile", fixed(profile, json_type)),
        web.post("/xrpc/com.atproto.repo.createRecord", create_record),
        web.get("/xrpc/app.bsky.feed.searchPosts", fixed(bsky_search, json_type)),
        web.post("/api/v1/statuses", post_status),
        web.get("/api/v1/timelines/home", fixed(statuses, mastodon_headers)),
        web.get("/api/v1/accounts/verify_credentials", fixed(account, json_type)),
        web.get("/api/v1/instance", fixed(instance, json_type)),
        web.get("/api/v2/instance", fixed(instance, json_type)),
    ]
    app = web.Application()
    app.add_routes(routes)
    return app


async def _serve(app: web.Application) -> None:
    import asyncio

    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    print(port, flush=True)
    await asyncio.Event().wait()


def main() -> None:
    import asyncio

    kind = sys.argv[1]
    if kind == "overhead":
        app = overhead_app()
    elif kind == "peers":
        app = peers_app()
    elif kind == "limited":
        app = limited_app(int(sys.argv[2]), float(sys.argv[3]))
    else:
        raise SystemExit(f"unknown server {kind!r}")
    asyncio.run(_serve(app))


if __name__ == "__main__":
    main()
