"""An in-memory Chirp server (an ASGI app) that the real ``ChirpAdapter`` runs against.

Tests, examples and the docs use it instead of the network: ``FakeChirp().connect()`` is the
real adapter sending real HTTP requests, in process, through ``httpx.ASGITransport``. It
answers like the Chirp API: the same JSON, the ``{"error": {...}}`` bodies, the rate-limit
headers, and a create repeated under the same ``Idempotency-Key`` answers the first post.
Needs the ``testing`` extra of socialkit (Starlette).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from socialkit_chirp._adapter import ChirpAdapter

__all__ = ["FakeChirp"]

BASE_URL = "https://api.chirp.fake"


@dataclass
class _Chirp:
    id: str
    author: str
    text: str
    created_at: datetime
    reply_to: str | None = None
    media: list[dict[str, Any]] = field(default_factory=list)
    views: int = 0
    likes: set[str] = field(default_factory=set)
    shares: set[str] = field(default_factory=set)


class FakeChirp:
    """A Chirp server in memory. ``owner`` is the account the adapter acts for."""

    def __init__(self, *, rate_limit: int = 300) -> None:
        self.base_url = BASE_URL
        self.token = "chirp-token-owner"
        self.rate_limit = rate_limit
        self.requests = 0
        self.users: dict[str, str] = {}  # id -> handle
        self.items: dict[str, _Chirp] = {}
        self.media: dict[str, dict[str, Any]] = {}
        self._keys: dict[str, str] = {}  # Idempotency-Key -> post id
        self._ids = itertools.count(1000)
        self.owner = self.add_user("owner")
        self.app = Starlette(
            routes=[
                Route("/v1/me", self._me),
                Route("/v1/media", self._upload, methods=["POST"]),
                Route("/v1/posts", self._create, methods=["POST"]),
                Route("/v1/posts/metrics", self._metrics),
                Route("/v1/posts/{id}", self._one, methods=["GET", "DELETE"]),
                Route("/v1/users/{id}/items", self._list),
            ]
        )

    # -- simulation -------------------------------------------------------------------------

    def add_user(self, handle: str) -> str:
        """A new account; returns its id."""
        user_id = str(next(self._ids))
        self.users[user_id] = handle
        return user_id

    def publish_as(self, user_id: str, text: str, *, reply_to: str | None = None) -> str:
        """``user_id`` posts ``text``; returns the post's id."""
        entry = _Chirp(str(next(self._ids)), user_id, text, _now(), reply_to)
        self.items[entry.id] = entry
        return entry.id

    def like(self, post_id: str, user_id: str) -> None:
        self.items[post_id].likes.add(user_id)

    def share(self, post_id: str, user_id: str) -> None:
        self.items[post_id].shares.add(user_id)

    def view(self, post_id: str, count: int = 1) -> None:
        self.items[post_id].views += count

    # -- connecting ---------------------------------------------------------------------------

    def client(self) -> httpx.AsyncClient:
        """An ``httpx.AsyncClient`` that reaches this fake in process."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app))

    def connect(self, **overrides: Any) -> ChirpAdapter:
        """The real adapter, connected to this fake as the owner."""
        settings = {"token": self.token, "base_url": self.base_url, **overrides}
        return ChirpAdapter.connect(http=self.client(), **settings)

    # -- the API ------------------------------------------------------------------------------

    def _json(self, request: Request, status: int, body: Any) -> Response:
        remaining = max(0, self.rate_limit - self.requests)
        headers = {
            "ratelimit-limit": str(self.rate_limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": "60",
            "x-request-id": f"req-{self.requests}",
        }
        return JSONResponse(body, status_code=status, headers=headers)

    def _error(self, request: Request, status: int, code: str, message: str) -> Response:
        return self._json(request, status, {"error": {"code": code, "message": message}})

    def _guard(self, request: Request) -> Response | None:
        self.requests += 1
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return self._error(request, 401, "unauthorized", "The token is not valid")
        if self.requests > self.rate_limit:
            return self._error(request, 429, "rate_limited", "Too many requests")
        return None

    def _user(self, user_id: str) -> dict[str, Any]:
        followers = sum(1 for c in self.items.values() if c.author == user_id)
        return {"id": user_id, "handle": self.users[user_id], "followers": followers}

    def _render(self, entry: _Chirp) -> dict[str, Any]:
        return {
            "id": entry.id,
            "text": entry.text,
            "url": f"https://chirp.fake/@{self.users[entry.author]}/{entry.id}",
            "created_at": entry.created_at.isoformat().replace("+00:00", "Z"),
            "author": self._user(entry.author),
            "reply_to": entry.reply_to,
            "media": entry.media,
        }

    async def _me(self, request: Request) -> Response:
        return self._guard(request) or self._json(request, 200, self._user(self.owner))

    async def _upload(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            return self._error(request, 400, "invalid_request", "file is required")
        alt = form.get("alt")
        media_id = str(next(self._ids))
        item = {
            "id": media_id,
            "url": f"https://media.chirp.fake/{media_id}",
            "mime_type": upload.content_type or "application/octet-stream",
            "alt": alt if isinstance(alt, str) else None,
        }
        self.media[media_id] = item
        return self._json(request, 201, item)

    async def _create(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        key = request.headers.get("idempotency-key")
        if key is not None and key in self._keys:
            return self._json(request, 201, self._render(self.items[self._keys[key]]))
        body = await request.json()
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return self._error(request, 422, "invalid_text", "text must not be blank")
        if len(text) > 280:
            return self._error(request, 422, "text_too_long", "text is longer than 280")
        reply_to = body.get("reply_to")
        if reply_to is not None and reply_to not in self.items:
            return self._error(request, 404, "not_found", "the post to reply to does not exist")
        media_ids = body.get("media_ids") or []
        if any(m not in self.media for m in media_ids):
            return self._error(request, 422, "invalid_media", "unknown media id")
        entry = _Chirp(str(next(self._ids)), self.owner, text, _now(), reply_to)
        entry.media = [self.media[m] for m in media_ids]
        self.items[entry.id] = entry
        if key is not None:
            self._keys[key] = entry.id
        return self._json(request, 201, self._render(entry))

    async def _one(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        entry = self.items.get(request.path_params["id"])
        if entry is None:
            return self._error(request, 404, "not_found", "No such chirp")
        if request.method == "DELETE":
            if entry.author != self.owner:
                return self._error(request, 403, "forbidden", "Not your chirp")
            del self.items[entry.id]
            return Response(status_code=204)
        return self._json(request, 200, self._render(entry))

    async def _list(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        user_id = request.path_params["id"]
        if user_id not in self.users:
            return self._error(request, 404, "not_found", "No such user")
        limit = min(int(request.query_params.get("limit", "50")), 50)
        before = request.query_params.get("before")
        mine = sorted(
            (c for c in self.items.values() if c.author == user_id),
            key=lambda c: int(c.id),
            reverse=True,
        )
        if before is not None:
            mine = [c for c in mine if int(c.id) < int(before)]
        page = mine[:limit]
        more = len(mine) > limit
        return self._json(
            request,
            200,
            {"data": [self._render(c) for c in page], "next": page[-1].id if more else None},
        )

    async def _metrics(self, request: Request) -> Response:
        if (refused := self._guard(request)) is not None:
            return refused
        ids = [i for i in request.query_params.get("ids", "").split(",") if i]
        data = [
            {
                "id": c.id,
                "views": c.views,
                "likes": len(c.likes),
                "shares": len(c.shares),
                "replies": sum(1 for r in self.items.values() if r.reply_to == c.id),
            }
            for i in ids
            if (c := self.items.get(i)) is not None
        ]
        return self._json(request, 200, {"data": data})


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
