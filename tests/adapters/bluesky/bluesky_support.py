"""Fixtures for the Bluesky adapter tests.

Every response body here follows the official lexicons (bluesky-social/atproto lexicons/, read in
place from ../shared/specs/bluesky/lexicons); each builder names its lexicon def. Every request
the adapter sends and every response fixture is validated with ``LexiconChecker`` at teardown
(``BlueskyFixtures.check_exchange``), the post records inside createRecord included.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
from typing import Any, ClassVar

import httpx
import respx
from pydantic import SecretStr
from tests._validation import LexiconChecker

from socialkit import MemoryStore
from socialkit.adapters.bluesky import BlueskyAdapter, BlueskySettings
from socialkit.adapters.bluesky._tid import TidClock, encode_tid, tid_for_key
from socialkit.testing import conformance as c

SERVICE = "https://pds.example.com"
DID = "did:plc:alice2222222222222222222"
HANDLE = "alice.example.com"
PASSWORD = "app-pass-word-abcd"  # the secret the adapter is built with
BOB = "did:plc:bob33333333333333333333"
BOB_HANDLE = "bob.example.com"
CID = "bafyreigq3exe2m23sojzoachuyucow4vu7eyatati4uy6scr4ixt6xwlhi"
CID2 = "bafyreieox2qgzqh2vmfvfabgljtywbmvdfgdhkjkomsruxnmxxqvbfdqcy"
BLOB_CID = "bafkreibwmrhbspamsz3u4rbxc4ad22wonf3nkpvwepzrynxervzcudj7u4"
T0 = 1_790_000_000_000_000  # microseconds: the fake TID clock starts here
CLOCK_ID = 7


def xrpc(nsid: str) -> str:
    return f"{SERVICE}/xrpc/{nsid}"


def make_jwt(exp: float, sub: str = DID, tag: str = "a") -> str:
    """An unsigned JWT-shaped token with an ``exp`` claim (the adapter never verifies them)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    header = part({"typ": "at+jwt", "alg": "HS256"})
    payload = part({"scope": "com.atproto.appPass", "sub": sub, "exp": int(exp), "tag": tag})
    return f"{header}.{payload}.c2lnbmF0dXJl{tag}"


def session_body(access: str, refresh: str) -> dict[str, Any]:
    """com.atproto.server.createSession / refreshSession output."""
    return {
        "accessJwt": access,
        "refreshJwt": refresh,
        "handle": HANDLE,
        "did": DID,
        "didDoc": {
            "@context": ["https://www.w3.org/ns/did/v1"],
            "id": DID,
            "service": [
                {
                    "id": "#atproto_pds",
                    "type": "AtprotoPersonalDataServer",
                    "serviceEndpoint": SERVICE,
                }
            ],
        },
        "active": True,
    }


def tid(n: int) -> str:
    """The n-th record key the test adapter chooses (its TID clock is deterministic)."""
    return encode_tid(T0 + n, CLOCK_ID)


def thread_tid(index: int, first: int = 0) -> str:
    """The record key of post ``index`` of a thread published without a key: the first post's
    key is the adapter's next TID, the others derive from it (``key/1``, ``key/2`` …)."""
    key = tid(first)
    return key if index == 0 else tid_for_key(f"{key}/{index}")


def post_uri(rkey: str, did: str = DID) -> str:
    return f"at://{did}/app.bsky.feed.post/{rkey}"


def profile_basic(did: str = DID, handle: str = HANDLE) -> dict[str, Any]:
    """app.bsky.actor.defs#profileViewBasic."""
    return {"did": did, "handle": handle, "displayName": handle.split(".")[0].title()}


def profile_detailed() -> dict[str, Any]:
    """app.bsky.actor.defs#profileViewDetailed (app.bsky.actor.getProfile output)."""
    return {
        **profile_basic(),
        "description": "Testing socialkit",
        "followersCount": 120,
        "followsCount": 80,
        "postsCount": 42,
        "indexedAt": "2026-01-01T00:00:00.000Z",
    }


def post_record(text: str, created: str = "2026-01-02T03:04:05.000Z") -> dict[str, Any]:
    """app.bsky.feed.post record."""
    return {"$type": "app.bsky.feed.post", "text": text, "createdAt": created}


def post_view(
    uri: str,
    text: str = "hello",
    *,
    counts: dict[str, int] | None = None,
    indexed: str = "2026-01-02T03:04:06.000Z",
    author: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """app.bsky.feed.defs#postView."""
    return {
        "uri": uri,
        "cid": CID,
        "author": author or profile_basic(),
        "record": post_record(text, indexed),
        "indexedAt": indexed,
        **(counts or {}),
    }


def created(uri: str) -> dict[str, Any]:
    """com.atproto.repo.createRecord output."""
    return {
        "uri": uri,
        "cid": CID,
        "commit": {"cid": CID2, "rev": "3n3ip62mu722d"},
        "validationStatus": "valid",
    }


def error(status: int, name: str, message: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """The XRPC error shape {"error", "message"} (https://atproto.com/specs/xrpc)."""
    return c.json_response(status, {"error": name, "message": message}, headers)


def body(request: httpx.Request) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(request.content)
    return result


# The conformance suite's deliberately broken answers (not JSON, HTML from a proxy, a body of
# the wrong shape) are not lexicon traffic: their responses are exempt from the check.
_BROKEN_BODIES = (b"{not json", b"<html>", b'{"unexpected": [1, 2, 3]}', b'{"unexpected":[1,2,3]}')


class BlueskyFixtures(c.AdapterFixtures):
    """How to build the adapter and answer its requests like a PDS + AppView would."""

    base_url: ClassVar[str] = SERVICE
    lexicons: ClassVar[LexiconChecker | None] = None

    def make_adapter(self, http: httpx.AsyncClient, **settings: Any) -> BlueskyAdapter:
        values: dict[str, Any] = {
            "service": SERVICE,
            "identifier": HANDLE,
            "password": SecretStr(PASSWORD),
            "store": MemoryStore(),
            "retry_wait": False,
        }
        values.update(settings)
        adapter = BlueskyAdapter(BlueskySettings(**values), http=http)
        counter = itertools.count(T0)
        adapter._tids = TidClock(clock=lambda: next(counter), clock_id=CLOCK_ID)
        return adapter

    def checker(self) -> LexiconChecker:
        if BlueskyFixtures.lexicons is None:
            BlueskyFixtures.lexicons = LexiconChecker()
        return BlueskyFixtures.lexicons

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        checker = self.checker()
        problems = checker.request_violations(request)
        if response is not None:
            content = response.read()
            if not any(content.startswith(b) for b in _BROKEN_BODIES):
                problems.extend(checker.response_violations(request, response))
        if problems:
            raise AssertionError("; ".join(problems))

    def secrets(self) -> list[str]:
        return [PASSWORD, self.access, self.refresh]

    # -- sessions ----------------------------------------------------------------------------

    @property
    def access(self) -> str:
        if not hasattr(self, "_access"):
            self._access = make_jwt(time.time() + 7200, tag="access1")
            self._refresh = make_jwt(time.time() + 90 * 86400, tag="refresh1")
        return self._access

    @property
    def refresh(self) -> str:
        self.access  # noqa: B018  (creates both)
        return self._refresh

    def mock_login(self, router: respx.MockRouter) -> respx.Route:
        """com.atproto.server.createSession -> a session (output schema of that lexicon)."""
        return router.post(xrpc("com.atproto.server.createSession")).mock(
            return_value=c.json_response(
                200,
                session_body(self.access, self.refresh),
                {
                    "ratelimit-limit": "30",
                    "ratelimit-remaining": "29",
                    "ratelimit-reset": str(int(time.time()) + 300),
                    "ratelimit-policy": "30;w=300",
                },
            )
        )

    # -- the suite's hooks -------------------------------------------------------------------

    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        self.mock_login(router)
        return router.get(xrpc("app.bsky.actor.getProfile"))

    def probe_ok(self) -> httpx.Response:
        return c.json_response(200, profile_detailed())

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        name = {
            400: "InvalidRequest",
            401: "AuthenticationRequired",
            403: "Forbidden",
            404: "NotFound",
            422: "InvalidRequest",
            429: "RateLimitExceeded",
        }.get(status, "InternalServerError")
        return error(status, name, message or f"the server says {status}")

    def rate_limit_headers(self, *, remaining: int, reset_in: float) -> dict[str, str]:
        return {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(int(time.time() + reset_in)),
            "ratelimit-policy": "3000;w=300",
        }

    def echo_create(self, router: respx.MockRouter) -> respx.Route:
        """createRecord answering with the URI of the record key the adapter chose."""

        def answer(request: httpx.Request) -> httpx.Response:
            sent = body(request)
            return c.json_response(200, created(post_uri(sent["rkey"], sent["repo"])))

        return router.post(xrpc("com.atproto.repo.createRecord")).mock(side_effect=answer)

    def mock_publish_text(self, router: respx.MockRouter, text: str) -> str:
        self.mock_login(router)
        self.echo_create(router)
        return post_uri(tid(0))

    def mock_upload(self, router: respx.MockRouter, size: int = 67) -> respx.Route:
        """com.atproto.repo.uploadBlob output."""
        return router.post(xrpc("com.atproto.repo.uploadBlob")).mock(
            return_value=c.json_response(
                200,
                {
                    "blob": {
                        "$type": "blob",
                        "ref": {"$link": BLOB_CID},
                        "mimeType": "image/png",
                        "size": size,
                    }
                },
            )
        )

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        self.mock_login(router)
        self.mock_upload(router)
        self.echo_create(router)
        return post_uri(tid(0))

    def mock_publish_thread(self, router: respx.MockRouter, texts: list[str]) -> list[str]:
        self.mock_login(router)
        self.echo_create(router)
        return [post_uri(thread_tid(i)) for i in range(len(texts))]

    PARENT_RKEY = "3kabcdefghij2"
    ROOT_RKEY = "3kabcdefghia2"

    def parent_id(self) -> str:
        return post_uri(self.PARENT_RKEY, BOB)

    def mock_get_record(
        self, router: respx.MockRouter, uri: str, value: dict[str, Any], cid: str = CID2
    ) -> respx.Route:
        """com.atproto.repo.getRecord output for one record."""
        repo, _, rkey = uri[len("at://") :].partition("/app.bsky.feed.post/")
        return router.get(
            xrpc("com.atproto.repo.getRecord"),
            params={"repo": repo, "collection": "app.bsky.feed.post", "rkey": rkey},
        ).mock(return_value=c.json_response(200, {"uri": uri, "cid": cid, "value": value}))

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        self.mock_login(router)
        root = {"uri": post_uri(self.ROOT_RKEY, BOB), "cid": CID}
        parent_value = {**post_record("a reply of bob's"), "reply": {"root": root, "parent": root}}
        self.mock_get_record(router, parent_id, parent_value)
        self.echo_create(router)
        return post_uri(tid(0))

    def extra_read_calls(self) -> int:
        return 1  # createSession

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        """app.bsky.feed.getAuthorFeed output, three pages (a repost on page 2 is skipped)."""
        self.mock_login(router)
        pages = [
            [post_uri("3kpage1aaaaa2"), post_uri("3kpage1aaaaa3")],
            [post_uri("3kpage2aaaaa2"), post_uri("3kpage2aaaaa3")],
            [post_uri("3kpage3aaaaa2")],
        ]
        cursors = [None, "c1", "c2"]

        def answer(request: httpx.Request) -> httpx.Response:
            index = cursors.index(request.url.params.get("cursor"))
            feed: list[dict[str, Any]] = [{"post": post_view(uri)} for uri in pages[index]]
            if index == 1:
                feed.insert(
                    1,
                    {
                        "post": post_view(
                            post_uri("3kbobpostaa22", BOB), author=profile_basic(BOB, BOB_HANDLE)
                        ),
                        "reason": {
                            "$type": "app.bsky.feed.defs#reasonRepost",
                            "by": profile_basic(),
                            "indexedAt": "2026-01-02T03:04:06.000Z",
                        },
                    },
                )
            out: dict[str, Any] = {"feed": feed}
            if index + 1 < len(pages):
                out["cursor"] = cursors[index + 1]
            return c.json_response(200, out)

        router.get(xrpc("app.bsky.feed.getAuthorFeed")).mock(side_effect=answer)
        return pages

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        """app.bsky.feed.getPosts output with the counters of postView."""
        self.mock_login(router)
        counts = {
            post_uri("3kmetricaaa22"): {
                "likeCount": 5,
                "repostCount": 2,
                "replyCount": 1,
                "quoteCount": 0,
                "bookmarkCount": 3,
            },
            post_uri("3kmetricaaa23"): {"likeCount": 9, "repostCount": 0, "replyCount": 4},
        }

        def answer(request: httpx.Request) -> httpx.Response:
            uris = request.url.params.get_list("uris")
            views = [post_view(u, counts=counts[u]) for u in uris if u in counts]
            return c.json_response(200, {"posts": views})

        router.get(xrpc("app.bsky.feed.getPosts")).mock(side_effect=answer)
        names = {
            "likeCount": "likes",
            "repostCount": "reposts",
            "replyCount": "replies",
            "quoteCount": "quotes",
            "bookmarkCount": "bookmarks",
        }
        expected: dict[str, dict[str, int | float]] = {
            uri: {names[k]: v for k, v in values.items()} for uri, values in counts.items()
        }
        return list(counts), expected

    def mock_messages(self, router: respx.MockRouter) -> list[tuple[str, str]]:
        """listNotifications (notification def) + listConvos (convoView) + getMessages
        (messageView), merged newest first."""
        self.mock_login(router)
        mention = post_uri("3kmentionaa22", BOB)
        reply = post_uri("3kreplyaaaa22", BOB)
        quote = post_uri("3kquoteaaaa22", BOB)
        mine = post_uri("3kmineaaaaa22")
        mine_ref = {"uri": mine, "cid": CID}

        def notification(uri: str, reason: str, at: str, extra: dict[str, Any]) -> dict[str, Any]:
            return {
                "uri": uri,
                "cid": CID,
                "author": profile_basic(BOB, BOB_HANDLE),
                "reason": reason,
                "record": {**post_record(f"{reason} text", at), **extra},
                "isRead": False,
                "indexedAt": at,
                **({"reasonSubject": mine} if reason != "mention" else {}),
            }

        router.get(xrpc("app.bsky.notification.listNotifications")).mock(
            return_value=c.json_response(
                200,
                {
                    "notifications": [
                        notification(mention, "mention", "2026-01-05T00:00:00.000Z", {}),
                        notification(
                            reply,
                            "reply",
                            "2026-01-03T00:00:00.000Z",
                            {"reply": {"root": mine_ref, "parent": mine_ref}},
                        ),
                        notification(
                            quote,
                            "quote",
                            "2026-01-01T00:00:00.000Z",
                            {"embed": {"$type": "app.bsky.embed.record", "record": mine_ref}},
                        ),
                    ]
                },
            )
        )
        bob_chat = {"did": BOB, "handle": BOB_HANDLE}
        alice_chat = {"did": DID, "handle": HANDLE}

        def dm(mid: str, sender: str, at: str) -> dict[str, Any]:
            return {
                "$type": "chat.bsky.convo.defs#messageView",
                "id": mid,
                "rev": f"rev{mid}",
                "text": f"dm {mid}",
                "sender": {"did": sender},
                "sentAt": at,
            }

        router.get(xrpc("chat.bsky.convo.listConvos")).mock(
            return_value=c.json_response(
                200,
                {
                    "convos": [
                        {
                            "id": "convo1",
                            "rev": "r1",
                            "members": [alice_chat, bob_chat],
                            "lastMessage": dm("m3", DID, "2026-01-06T00:00:00.000Z"),
                            "muted": False,
                            "unreadCount": 1,
                        }
                    ]
                },
            )
        )
        router.get(xrpc("chat.bsky.convo.getMessages")).mock(
            return_value=c.json_response(
                200,
                {
                    "messages": [
                        dm("m3", DID, "2026-01-06T00:00:00.000Z"),  # the account's own: skipped
                        dm("m2", BOB, "2026-01-04T00:00:00.000Z"),
                        dm("m1", BOB, "2026-01-02T00:00:00.000Z"),
                    ]
                },
            )
        )
        return [
            (mention, "mention"),
            ("m2", "direct"),
            (reply, "reply"),
            ("m1", "direct"),
            (quote, "quote"),
        ]
