"""The read path: CPU per page of posts, memory per kept post, against tweepy.

    .venv/bin/python benchmarks/read_path.py [--pages 100] [--concurrency 20] [--rounds 5]
                                             [--only cpu|mapping|memory]

- ``cpu``: X pages of 100 posts (with the author expansion: 20 authors per page) through
  ``posts()`` and ``search()`` of the real X adapter (``socialkit.connect("x", ...)``), and the
  same pages through tweepy's ``AsyncClient`` (``get_users_tweets`` / ``search_recent_tweets``
  with the same fields and expansions), sequentially and from 20 concurrent tasks. One local
  aiohttp server (its own process: its CPU is not counted) answers both. CPU is
  ``time.process_time()`` of this process, per page, best of the interleaved rounds.
- ``mapping``: bytes of one page -> posts, without HTTP, for X (100 posts), Mastodon
  (40 statuses, ``GET /api/v1/accounts/:id/statuses``) and Bluesky (100 feed items,
  ``app.bsky.feed.getAuthorFeed``): the wire validation and the mapping, µs per page.
- ``memory``: 10,000 posts read through ``search()`` (socialkit) and ``search_recent_tweets``
  (tweepy) and kept in a list; ``tracemalloc`` counts what stays allocated once the clients
  are closed, per post.

Needs the ``bench`` extra: tweepy[async], aiohttp.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

TOKEN = "AAAAAAAAAAAAAAAAAAAAAbenchmarktoken"
PAGE = 100
AUTHORS = 20

# --- pages, in the shapes of the official references ----------------------------------------


def x_page(size: int = PAGE, authors: int = AUTHORS, offset: int = 0) -> bytes:
    """``GET /2/tweets/search/recent`` with post.fields, ``expansions=author_id`` and
    user.fields (X API v2 reference, SearchPostsRecentResponse / Expansions)."""
    posts = []
    for i in range(size):
        n = offset + i
        post: dict[str, Any] = {
            "id": str(1460323737035677698 + n),
            "text": f"Post number {n} about #python, with a link https://t.co/abc{n:04d}",
            "author_id": str(2244994945 + n % authors),
            "conversation_id": str(1460323737035677698 + n),
            "created_at": "2024-05-01T12:34:56.000Z",
            "lang": "en",
            "edit_history_tweet_ids": [str(1460323737035677698 + n)],
            "entities": {
                "urls": [
                    {
                        "start": 50,
                        "end": 73,
                        "url": f"https://t.co/abc{n:04d}",
                        "expanded_url": f"https://example.com/articles/{n}",
                        "display_url": f"example.com/articles/{n}",
                    }
                ]
            },
            "public_metrics": {
                "retweet_count": n % 11,
                "reply_count": n % 3,
                "like_count": 10 * (n % 50),
                "quote_count": 0,
                "bookmark_count": 1,
                "impression_count": 1000 + n,
            },
        }
        posts.append(post)
    users = [
        {
            "id": str(2244994945 + a),
            "username": f"author{a}",
            "name": f"Author {a}",
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{a}/a_normal.jpg",
            "url": "",
            "public_metrics": {
                "followers_count": 1000 + a,
                "following_count": 100,
                "tweet_count": 5000,
                "listed_count": 3,
                "like_count": 7,
            },
        }
        for a in range(min(authors, size))
    ]
    meta = {
        "newest_id": posts[0]["id"],
        "oldest_id": posts[-1]["id"],
        "result_count": size,
        "next_token": "b26v89c19zqg8o3fpzbkk0jhqebdq1vfgymhk5hfqe0vx",
    }
    return json.dumps({"data": posts, "includes": {"users": users}, "meta": meta}).encode()


def mastodon_page(size: int = 40, authors: int = AUTHORS) -> bytes:
    """``GET /api/v1/accounts/:id/statuses``: a list of Status (schema.json,
    #/components/schemas/Status and Account)."""
    statuses = []
    for i in range(size):
        a = i % authors
        statuses.append(
            {
                "id": str(103270115826048975 + i),
                "uri": f"https://mastodon.social/users/author{a}/statuses/{i}",
                "url": f"https://mastodon.social/@author{a}/{i}",
                "created_at": "2024-05-01T12:34:56.000Z",
                "account": {
                    "id": str(1000 + a),
                    "username": f"author{a}",
                    "acct": f"author{a}",
                    "display_name": f"Author {a}",
                    "url": f"https://mastodon.social/@author{a}",
                    "avatar": f"https://files.mastodon.social/accounts/avatars/{a}.png",
                    "followers_count": 1000 + a,
                    "following_count": 100,
                    "statuses_count": 5000,
                    "bot": False,
                },
                "content": f'<p>Post number {i} about <a href="https://mastodon.social/tags/'
                f'python" class="mention hashtag" rel="tag">#<span>python</span></a>, with '
                f'a link <a href="https://example.com/articles/{i}" rel="nofollow noopener" '
                f'target="_blank"><span class="invisible">https://</span><span class="">'
                f"example.com/articles/{i}</span></a></p>",
                "visibility": "public",
                "sensitive": False,
                "spoiler_text": "",
                "language": "en",
                "replies_count": i % 3,
                "reblogs_count": i % 11,
                "favourites_count": 10 * i,
                "media_attachments": [],
                "mentions": [],
                "tags": [{"name": "python", "url": "https://mastodon.social/tags/python"}],
                "emojis": [],
            }
        )
    return json.dumps(statuses).encode()


def bluesky_page(size: int = PAGE, authors: int = AUTHORS) -> bytes:
    """``app.bsky.feed.getAuthorFeed`` output: feedViewPost items (lexicons
    app.bsky.feed.defs#feedViewPost, #postView, app.bsky.actor.defs#profileViewBasic)."""
    feed = []
    for i in range(size):
        a = i % authors
        did = f"did:plc:author{a:020d}"
        text = f"Post number {i} about #python, with a link https://example.com/articles/{i}"
        feed.append(
            {
                "post": {
                    "uri": f"at://{did}/app.bsky.feed.post/3kabc{i:08d}",
                    "cid": "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm",
                    "author": {
                        "did": did,
                        "handle": f"author{a}.bsky.social",
                        "displayName": f"Author {a}",
                        "avatar": f"https://cdn.bsky.app/img/avatar/plain/{did}/a@jpeg",
                        "createdAt": "2023-04-01T00:00:00.000Z",
                    },
                    "record": {
                        "$type": "app.bsky.feed.post",
                        "text": text,
                        "createdAt": "2024-05-01T12:34:56.000Z",
                        "langs": ["en"],
                        "facets": [
                            {
                                "index": {"byteStart": 40, "byteEnd": len(text)},
                                "features": [
                                    {
                                        "$type": "app.bsky.richtext.facet#link",
                                        "uri": f"https://example.com/articles/{i}",
                                    }
                                ],
                            }
                        ],
                    },
                    "replyCount": i % 3,
                    "repostCount": i % 11,
                    "likeCount": 10 * i,
                    "quoteCount": 0,
                    "indexedAt": "2024-05-01T12:34:57.000Z",
                    "labels": [],
                }
            }
        )
    return json.dumps({"feed": feed, "cursor": "2024-05-01T12:34:56.000Z"}).encode()


# --- the local server ---------------------------------------------------------------------


def serve() -> None:
    from aiohttp import web

    pages = [x_page(offset=k * PAGE) for k in range(4)]
    reset = str(int(time.time()) + 900)
    headers = {
        "content-type": "application/json; charset=utf-8",
        "x-rate-limit-limit": "100000000",
        "x-rate-limit-remaining": "99999999",
        "x-rate-limit-reset": reset,
    }
    counter = [0]

    async def page(request: web.Request) -> web.Response:
        counter[0] += 1
        return web.Response(body=pages[counter[0] % len(pages)], headers=headers)

    app = web.Application()
    app.router.add_get("/2/tweets/search/recent", page)
    app.router.add_get("/2/users/{id}/tweets", page)
    runner = web.AppRunner(app, access_log=None)

    async def main() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        print(port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


# --- clients ------------------------------------------------------------------------------

USER = "2244994945"
TWEEPY_FIELDS = {
    "tweet_fields": "attachments,conversation_id,created_at,entities,lang,public_metrics",
    "expansions": "attachments.media_keys,attachments.poll_ids,author_id,in_reply_to_user_id,"
    "referenced_tweets.id",
    "user_fields": "id,name,profile_image_url,public_metrics,url,username",
    "media_fields": "alt_text,duration_ms,height,media_key,preview_image_url,type,url,"
    "variants,width",
    "poll_fields": "duration_minutes,end_datetime,id,options,voting_status",
    "max_results": PAGE,
    "user_auth": False,
}


class Socialkit:
    name = "socialkit"

    def __init__(self, base: str) -> None:
        import socialkit

        self.net = socialkit.connect("x", bearer_token=TOKEN, base_url=base)

    async def search(self, pages: int = 1) -> list[Any]:
        return [p async for p in self.net.search("python", limit=PAGE * pages)]

    async def posts(self, pages: int = 1) -> list[Any]:
        return [p async for p in self.net.posts(account=USER, limit=PAGE * pages)]

    async def aclose(self) -> None:
        await self.net.aclose()


class _Redirect:
    """tweepy hard-codes https://api.twitter.com; send its requests to the local server."""

    def __init__(self, session: Any, base: str) -> None:
        self._session = session
        self._base = base

    def request(self, method: str, url: Any, **kwargs: Any) -> Any:
        return self._session.request(
            method, str(url).replace("https://api.twitter.com", self._base, 1), **kwargs
        )

    async def close(self) -> None:
        await self._session.close()


class Tweepy:
    name = "tweepy"

    def __init__(self, base: str) -> None:
        import aiohttp
        import tweepy.asynchronous

        self.client = tweepy.asynchronous.AsyncClient(bearer_token=TOKEN)
        # A persistent session (tweepy's fastest setup; without one it opens one per call).
        self.client.session = _Redirect(aiohttp.ClientSession(), base)

    async def search(self, pages: int = 1) -> list[Any]:
        out: list[Any] = []
        token = None
        for _ in range(pages):
            kw = {"next_token": token} if token else {}
            answer = await self.client.search_recent_tweets("python", **TWEEPY_FIELDS, **kw)
            out.extend(answer.data)
            token = answer.meta["next_token"]
        return out

    async def posts(self, pages: int = 1) -> list[Any]:
        answer = await self.client.get_users_tweets(USER, **TWEEPY_FIELDS)
        return list(answer.data)

    async def aclose(self) -> None:
        await self.client.session.close()


async def measure(
    call: Callable[[], Awaitable[Any]], pages: int, concurrency: int
) -> tuple[float, float]:
    """(CPU ms per page, wall ms per page)."""
    for _ in range(10):  # warm up: connections, caches
        await call()
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    if concurrency <= 1:
        for _ in range(pages):
            await call()
    else:

        async def worker() -> None:
            for _ in range(pages // concurrency):
                await call()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu * 1000 / pages, wall * 1000 / pages


async def cpu(base: str, pages: int, concurrency: int, rounds: int) -> None:
    clients: list[Any] = [Socialkit(base), Tweepy(base)]
    best: dict[tuple[str, str], tuple[float, float]] = {}
    try:
        for _ in range(rounds):
            for client in clients:
                for endpoint in ("posts", "search"):
                    for conc in (1, concurrency):
                        key = (
                            f"{endpoint}(), {'sequential' if conc == 1 else f'{conc} concurrent'}",
                            client.name,
                        )
                        got = await measure(getattr(client, endpoint), pages // rounds, conc)
                        if key not in best or got[0] < best[key][0]:
                            best[key] = got
    finally:
        for client in clients:
            await client.aclose()
    print(f"\n== X, page of {PAGE} posts ({AUTHORS} authors), best of {rounds} rounds ==")
    print(f"{'scenario':<28}{'socialkit CPU ms':>18}{'tweepy CPU ms':>15}{'ratio':>8}")
    for scenario in dict.fromkeys(k for k, _ in best):
        sk, tw = best[(scenario, "socialkit")][0], best[(scenario, "tweepy")][0]
        print(f"{scenario:<28}{sk:>18.3f}{tw:>15.3f}{sk / tw:>8.2f}")


def mapping(repeat: int) -> None:
    import pydantic

    from socialkit.adapters.bluesky import _mapping as bmap
    from socialkit.adapters.bluesky import _wire as bwire
    from socialkit.adapters.mastodon import _mapping as mmap
    from socialkit.adapters.mastodon import _wire as mwire
    from socialkit.adapters.x import _mapping as xmap
    from socialkit.adapters.x import _wire as xwire

    xa = pydantic.TypeAdapter(xwire.PostsPage)
    ma = pydantic.TypeAdapter(list[mwire.Status])
    ba = pydantic.TypeAdapter(bwire.AuthorFeed)
    xb, mb, bb = x_page(), mastodon_page(), bluesky_page()

    # Per-page sharing as the adapters do it (older versions without it map post by post, so
    # that this script also measures them).
    def x() -> list[Any]:
        page = xa.validate_json(xb)
        shared = getattr(xmap, "Expansions", lambda includes: includes)(page.includes)
        return [xmap.post_from(p, shared) for p in page.data]

    def mastodon() -> list[Any]:
        host = "mastodon.social"
        if not hasattr(mmap, "page_accounts"):
            return [mmap.post(s, host) for s in ma.validate_json(mb)]
        accounts = mmap.page_accounts(host)
        return [mmap.post(s, host, accounts) for s in ma.validate_json(mb)]

    def bluesky() -> list[Any]:
        feed = ba.validate_json(bb).feed
        if not hasattr(bmap, "page_accounts"):
            return [bmap.post_from_feed_item(i) for i in feed]
        accounts = bmap.page_accounts()
        return [bmap.post_from_feed_item(i, accounts) for i in feed]

    print(f"\n== mapping only: bytes of a page -> posts, best of {repeat} ==")
    for name, fn, size in (("X", x, PAGE), ("Mastodon", mastodon, 40), ("Bluesky", bluesky, PAGE)):
        for _ in range(20):
            fn()
        times = []
        for _ in range(repeat):
            t = time.process_time()
            for _ in range(20):
                fn()
            times.append((time.process_time() - t) / 20)
        print(f"{name:<10}{size:>4} posts: {min(times) * 1e6:9.0f} µs/page")


async def memory(base: str, posts: int) -> None:
    print(f"\n== memory: {posts} posts kept (tracemalloc, after closing the client) ==")
    for factory in (Socialkit, Tweepy):
        warm = factory(base)  # imports and first-use caches are not what a post weighs
        await warm.search(1)
        await warm.aclose()
        del warm
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        client = factory(base)
        kept = await client.search(posts // PAGE)
        await client.aclose()
        del client
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        tracemalloc.stop()
        assert len(kept) == posts, len(kept)
        print(f"{factory.name:<10} {(after - before) / len(kept):8.0f} bytes per post")
        del kept


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--only", choices=["cpu", "mapping", "memory"])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.only in (None, "mapping"):
        mapping(args.rounds)
    if args.only == "mapping":
        return
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        base = f"http://127.0.0.1:{int(server.stdout.readline())}"
        if args.only in (None, "cpu"):
            asyncio.run(cpu(base, args.pages, args.concurrency, args.rounds))
        if args.only in (None, "memory"):
            asyncio.run(memory(base, args.posts))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
