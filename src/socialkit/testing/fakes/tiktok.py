"""``FakeTikTok``: a stateful, in-process TikTok v2 API (Content Posting, Display, OAuth) for
tests and the demo, following the reference pages on developers.tiktok.com (named beside each
endpoint below)::

    from socialkit import Media, Post
    from socialkit.testing.fakes import FakeTikTok

    fake = FakeTikTok()
    async with fake.connect() as tiktok:           # the real TikTokAdapter
        posted = await tiktok.publish(Post(text="hi", media=[Media.from_path("clip.mp4")]))
    fake.view(posted.id, 1000)                     # view_count moves

What it imitates (see ``docs/fakes/tiktok.md``): ``/v2/oauth/token/`` (refresh grant; refresh
tokens rotate, a used one is revoked, ``refresh_expires_in``), creator info, direct-post and
inbox video init (``FILE_UPLOAD`` with the chunk rules of the media transfer guide, or
``PULL_FROM_URL`` from verified prefixes), the chunk upload (``PUT`` with ``Content-Range``, in
order; 206 then 201), photo posts, the publish status moving one stage per fetch
(``PROCESSING_UPLOAD`` / ``PROCESSING_DOWNLOAD`` → ``PUBLISH_COMPLETE`` or
``SEND_TO_USER_INBOX``, or ``FAILED`` with a ``fail_reason``), user info, video list and query,
per-minute limits per token and endpoint (429 ``rate_limit_exceeded``), and the
``{"data": …, "error": {"code", "message", "log_id"}}`` envelope.
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from socialkit._store import MemoryStore
from socialkit.testing.fakes._base import (
    UNLIMITED,
    CreatedPost,
    FakeClock,
    FakeNetwork,
    FakeUser,
    RateLimiter,
)
from socialkit.testing.fakes._oauth import CodeGrants

__all__ = ["DEFAULT_LIMITS", "FakeTikTok"]

_MiB = 1024 * 1024

#: Requests per minute per user token, per endpoint (each endpoint's reference page).
DEFAULT_LIMITS: dict[str, int] = {
    "/v2/post/publish/creator_info/query/": 20,
    "/v2/post/publish/video/init/": 6,
    "/v2/post/publish/inbox/video/init/": 6,
    "/v2/post/publish/content/init/": 6,
    "/v2/post/publish/status/fetch/": 30,
    "/v2/user/info/": 600,
    "/v2/video/list/": 600,
    "/v2/video/query/": 600,
}


#: The publish inits: each starts one post (``created_post``).
_INITS = frozenset(
    {
        "/v2/post/publish/video/init/",
        "/v2/post/publish/inbox/video/init/",
        "/v2/post/publish/content/init/",
    }
)


class _Error(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class _Publish:
    id: str
    user: FakeUser
    mode: str  # direct | inbox
    kind: str  # video | photo
    source: str
    title: str
    privacy: str
    size: int = 0
    chunk: int = 0
    chunks: int = 0
    received: list[bytes] = field(default_factory=list)
    stages: list[str] = field(default_factory=list)
    status: str = "PROCESSING_UPLOAD"
    fail_reason: str | None = None
    video_id: str | None = None
    seen: list[str] = field(default_factory=list)


@dataclass
class _Video:
    id: str
    user: FakeUser
    title: str
    created: int
    duration: int = 1
    views: int = 0
    likes: int = 0
    comments: int = 0
    shares: int = 0
    privacy: str = "PUBLIC_TO_EVERYONE"


class FakeTikTok(FakeNetwork):
    """A fake TikTok. The owner authorized the app; its videos are what the API lists."""

    name: ClassVar[str] = "tiktok"
    default_base_url: ClassVar[str] = "https://open.tiktokapis.fake"
    client_key: ClassVar[str] = "fake-tiktok-client-key"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
        limits: dict[str, int] | None = None,
        privacy_options: tuple[str, ...] = (
            "PUBLIC_TO_EVERYONE",
            "MUTUAL_FOLLOW_FRIENDS",
            "SELF_ONLY",
        ),
        max_duration: int = 600,
    ) -> None:
        super().__init__(base_url=base_url, clock=clock, seed=seed, owner_handle=owner_handle)
        self.client_secret = "fake-tiktok-secret-" + secrets.token_hex(8)
        self.access: dict[str, str] = {}
        self.refresh: dict[str, tuple[str, float]] = {}
        self.revoked: set[str] = set()
        self.publishes: dict[str, _Publish] = {}
        self.videos: dict[str, _Video] = {}
        self.verified_prefixes: list[str] = ["https://media.example/"]
        self.privacy_options = privacy_options
        self.max_duration = max_duration
        self._fail_next: list[str] = []
        self.limiters = {
            path: RateLimiter(n, 60.0) for path, n in {**DEFAULT_LIMITS, **(limits or {})}.items()
        }
        self.refresh_lifetime = 365 * 86400
        #: Logins (Login Kit for Desktop: client_key, comma scopes, hex PKCE challenge).
        self.codes = CodeGrants(
            self.client_key, client_id_parameter="client_key", challenge="hex", scope_separator=","
        )
        self._app: Starlette | None = None

    # -- simulation -----------------------------------------------------------------------

    def new_user_id(self, handle: str) -> str:
        return f"-000{secrets.token_hex(10)}"

    def tokens(self, user: FakeUser | None = None) -> tuple[str, str]:
        """A fresh (access token, refresh token) pair of ``user`` (default: the owner)."""
        who = (user or self.owner).id
        access = "act." + secrets.token_urlsafe(24)
        refresh = "rft." + secrets.token_urlsafe(24)
        self.access[access] = who
        self.refresh[refresh] = (who, time.time() + self.refresh_lifetime)
        return access, refresh

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        return {"limits": dict.fromkeys(DEFAULT_LIMITS, UNLIMITED)}

    def created_post(
        self, method: str, path: str, request_body: bytes, answer: Any, headers: Mapping[str, str]
    ) -> CreatedPost | None:
        """The publish inits (``/v2/post/publish/{video,inbox/video,content}/init/``): the
        ``publish_id`` (the post, uploaded or pulled after)."""
        if method != "POST" or path not in _INITS or not isinstance(answer, dict):
            return None
        data = answer.get("data") or {}
        publish = self.publishes.get(str(data.get("publish_id")))
        if publish is None:
            return None
        return publish.id, publish.title, "post"

    def settings(self) -> dict[str, Any]:
        """Direct posts, public (this creator may), with a refresh token that rotates."""
        access, refresh = self.tokens()
        return {
            "base_url": self.base_url,
            "token_url": f"{self.base_url}/v2/oauth/token/",
            "client_key": self.client_key,
            "client_secret": self.client_secret,
            "access_token": access,
            "refresh_token": refresh,
            "privacy_level": "PUBLIC_TO_EVERYONE",
            "store": MemoryStore(),
        }

    def expire_access_tokens(self) -> None:
        self.access.clear()

    def fail_next_publish(self, reason: str = "file_format_check_failed") -> None:
        """The next publish ends ``FAILED`` with ``reason`` once its processing starts."""
        self._fail_next.append(reason)

    def _new_video(self, user: FakeUser, title: str, privacy: str = "PUBLIC_TO_EVERYONE") -> _Video:
        self.clock.tick()
        video = _Video(
            str(7_000_000_000_000_000_000 + self.next_id()),
            user,
            title,
            int(self.clock.now().timestamp()),
            privacy=privacy,
        )
        self.videos[video.id] = video
        return video

    def publish_as(self, user: FakeUser, text: str) -> str:
        return self._new_video(user, text).id

    def like(self, post_id: str, user: FakeUser) -> None:
        self.videos[post_id].likes += 1

    def repost(self, post_id: str, user: FakeUser) -> None:
        self.videos[post_id].shares += 1

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        self.videos[post_id].comments += 1
        return f"{post_id}-c{self.next_id()}"

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        self.videos[post_id].shares += 1
        return self._new_video(user, text).id

    def mention(self, user: FakeUser, text: str) -> str:
        return self._new_video(user, text).id

    def direct(self, user: FakeUser, text: str) -> str:
        raise NotImplementedError("the TikTok API has no direct messages")

    def view(self, post_id: str, count: int) -> None:
        self.videos[post_id].views += count

    def publish_states(self, publish_id: str) -> list[str]:
        """Every status the publish showed to status fetches, in order."""
        return list(self.publishes[publish_id].seen)

    # -- the app ----------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            api = {
                "/v2/user/info/": ("GET", self._user_info),
                "/v2/video/list/": ("POST", self._video_list),
                "/v2/video/query/": ("POST", self._video_query),
                "/v2/post/publish/creator_info/query/": ("POST", self._creator_info),
                "/v2/post/publish/video/init/": ("POST", self._video_init),
                "/v2/post/publish/inbox/video/init/": ("POST", self._inbox_init),
                "/v2/post/publish/content/init/": ("POST", self._content_init),
                "/v2/post/publish/status/fetch/": ("POST", self._status),
            }
            routes = [Route(p, self._wrap(p, h), methods=[m]) for p, (m, h) in api.items()]
            routes.append(Route("/v2/oauth/token/", self._token, methods=["POST"]))
            routes.append(
                Route(
                    "/v2/auth/authorize/",
                    lambda request: self.codes.authorize(request.query_params, self.owner.id),
                    methods=["GET"],
                )
            )
            routes.append(Route("/upload/{publish_id}", self._upload, methods=["PUT"]))
            self._app = Starlette(routes=routes)
        return self._app

    def _wrap(self, path: str, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            log_id = secrets.token_hex(16)
            try:
                auth = request.headers.get("authorization", "")
                user_id = self.access.get(auth[7:]) if auth.startswith("Bearer ") else None
                if user_id is None:
                    raise _Error(
                        401,
                        "access_token_invalid",
                        "The access token is invalid or not found in the request.",
                    )
                allowed, _, _ = self.limiters[path].hit(user_id)
                if not allowed:
                    raise _Error(429, "rate_limit_exceeded", "Rate limit exceeded")
                body: Any = {}
                if request.method == "POST":
                    raw = await request.body()
                    if raw:
                        try:
                            import json

                            body = json.loads(raw)
                        except ValueError:
                            raise _Error(400, "invalid_params", "The body is not JSON") from None
                    if not isinstance(body, dict):
                        raise _Error(400, "invalid_params", "The body is not an object")
                data = await handler(request, body, self.users[user_id])
            except _Error as exc:
                return JSONResponse(
                    {"error": {"code": exc.code, "message": exc.message, "log_id": log_id}},
                    status_code=exc.status,
                )
            return JSONResponse(
                {"data": data, "error": {"code": "ok", "message": "", "log_id": log_id}}
            )

        return endpoint

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        if (
            form.get("client_key") != self.client_key
            or form.get("client_secret") != self.client_secret
        ):
            return JSONResponse(
                {
                    "error": "invalid_client",
                    "error_description": "Client key or secret is incorrect.",
                    "log_id": "x",
                },
                status_code=401,
            )
        if form.get("grant_type") == "authorization_code":
            grant = self.codes.redeem({k: str(v) for k, v in form.items()}, self.client_key)
            if grant is None:
                return JSONResponse(
                    {
                        "error": "invalid_grant",
                        "error_description": "Authorization code is expired.",
                        "log_id": "x",
                    },
                    status_code=400,
                )
            user = self.users[grant.user_id]
            access, refresh = self.tokens(user)
            return JSONResponse(
                {
                    "access_token": access,
                    "expires_in": 86400,
                    "open_id": user.id,
                    "refresh_expires_in": self.refresh_lifetime,
                    "refresh_token": refresh,
                    "scope": grant.scope,
                    "token_type": "Bearer",
                }
            )
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type", "log_id": "x"}, status_code=400)
        old = str(form.get("refresh_token"))
        entry = self.refresh.get(old)
        if old in self.revoked or entry is None or entry[1] <= time.time():
            return JSONResponse(
                {
                    "error": "invalid_grant",
                    "error_description": "Refresh token is invalid or expired.",
                    "log_id": "x",
                },
                status_code=400,
            )
        # Refresh tokens rotate: the used one is revoked.
        self.revoked.add(old)
        del self.refresh[old]
        user = self.users[entry[0]]
        access, refresh = self.tokens(user)
        return JSONResponse(
            {
                "access_token": access,
                "expires_in": 86400,
                "open_id": user.id,
                "refresh_expires_in": int(entry[1] - time.time()),
                "refresh_token": refresh,
                "scope": (
                    "user.info.basic,user.info.profile,user.info.stats,video.list,"
                    "video.publish,video.upload"
                ),
                "token_type": "Bearer",
            }
        )

    # -- endpoints -------------------------------------------------------------------------

    async def _user_info(self, request: Request, body: Any, user: FakeUser) -> Any:
        fields = set(str(request.query_params.get("fields", "")).split(","))
        videos = [v for v in self.videos.values() if v.user.id == user.id]
        values = {
            "open_id": user.id,
            "union_id": "u" + user.id,
            "avatar_url": f"https://p16.tiktokcdn.fake/{user.handle}.jpeg",
            "display_name": user.name,
            "username": user.handle,
            "follower_count": user.followers,
            "following_count": user.following,
            "likes_count": sum(v.likes for v in videos),
            "video_count": len(videos),
            "profile_deep_link": f"https://vm.tiktok.com/{user.handle}",
            "bio_description": "",
        }
        unknown = fields - set(values) - {""}
        if unknown:
            raise _Error(400, "invalid_params", f"unknown fields {sorted(unknown)}")
        return {"user": {k: v for k, v in values.items() if k in fields}}

    def _render(self, video: _Video, fields: set[str]) -> dict[str, Any]:
        values = {
            "id": video.id,
            "create_time": video.created,
            "cover_image_url": f"https://p16.tiktokcdn.fake/cover/{video.id}.jpeg",
            "share_url": f"https://www.tiktok.com/@{video.user.handle}/video/{video.id}",
            "video_description": video.title,
            "duration": video.duration,
            "height": 1920,
            "width": 1080,
            "title": video.title,
            "embed_link": f"https://www.tiktok.com/embed/v2/{video.id}",
            "like_count": video.likes,
            "comment_count": video.comments,
            "share_count": video.shares,
            "view_count": video.views,
        }
        return {k: v for k, v in values.items() if k in fields}

    async def _video_list(self, request: Request, body: Any, user: FakeUser) -> Any:
        fields = set(str(request.query_params.get("fields", "")).split(","))
        count = body.get("max_count", 10)
        if not isinstance(count, int) or not 1 <= count <= 20:
            raise _Error(400, "invalid_params", "max_count must be 1-20")
        cursor = body.get("cursor")
        videos = sorted(
            (v for v in self.videos.values() if v.user.id == user.id and v.privacy != "SELF_ONLY"),
            key=lambda v: (v.created, v.id),
            reverse=True,
        )
        if isinstance(cursor, int):
            videos = [v for v in videos if v.created * 1000 < cursor]
        page = videos[:count]
        return {
            "videos": [self._render(v, fields) for v in page],
            "cursor": page[-1].created * 1000 if page else (cursor or 0),
            "has_more": len(videos) > count,
        }

    async def _video_query(self, request: Request, body: Any, user: FakeUser) -> Any:
        fields = set(str(request.query_params.get("fields", "")).split(","))
        ids = (body.get("filters") or {}).get("video_ids")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 20:
            raise _Error(400, "invalid_params", "video_ids must hold 1-20 ids")
        found = [
            self.videos[i] for i in ids if i in self.videos and self.videos[i].user.id == user.id
        ]
        return {"videos": [self._render(v, fields) for v in found]}

    async def _creator_info(self, request: Request, body: Any, user: FakeUser) -> Any:
        return {
            "creator_avatar_url": f"https://p16.tiktokcdn.fake/{user.handle}.jpeg",
            "creator_username": user.handle,
            "creator_nickname": user.name,
            "privacy_level_options": list(self.privacy_options),
            "comment_disabled": False,
            "duet_disabled": False,
            "stitch_disabled": True,
            "max_video_post_duration_sec": self.max_duration,
        }

    def _source(self, publish: _Publish, source: Any) -> dict[str, Any]:
        if not isinstance(source, dict):
            raise _Error(400, "invalid_params", "source_info is required")
        kind = source.get("source")
        data: dict[str, Any] = {"publish_id": publish.id}
        if kind == "FILE_UPLOAD":
            size, chunk, count = (
                source.get(k) for k in ("video_size", "chunk_size", "total_chunk_count")
            )
            if not all(isinstance(v, int) and v > 0 for v in (size, chunk, count)):
                raise _Error(
                    400,
                    "invalid_params",
                    "video_size, chunk_size and total_chunk_count are required",
                )
            assert isinstance(size, int)
            assert isinstance(chunk, int)
            assert isinstance(count, int)
            if size < 5 * _MiB:
                if chunk != size or count != 1:
                    raise _Error(
                        400, "invalid_params", "a video under 5 MB is one chunk of its size"
                    )
            elif not 5 * _MiB <= chunk <= 64 * _MiB or count != size // chunk or count > 1000:
                raise _Error(
                    400, "invalid_params", "chunk_size or total_chunk_count breaks the chunk rules"
                )
            elif size - (count - 1) * chunk > 128 * _MiB:
                raise _Error(400, "invalid_params", "the final chunk exceeds 128 MB")
            publish.size, publish.chunk, publish.chunks = size, chunk, count
            data["upload_url"] = (
                f"{self.base_url}/upload/{publish.id}?upload_token={secrets.token_hex(8)}"
            )
        elif kind == "PULL_FROM_URL":
            url = source.get("video_url")
            if not isinstance(url, str) or not any(
                url.startswith(p) for p in self.verified_prefixes
            ):
                raise _Error(
                    403,
                    "url_ownership_unverified",
                    "Please verify the ownership of the domain or URL prefix.",
                )
            publish.stages = ["PROCESSING_DOWNLOAD"]
        else:
            raise _Error(400, "invalid_params", "source must be FILE_UPLOAD or PULL_FROM_URL")
        publish.source = str(kind)
        return data

    def _new_publish(
        self, user: FakeUser, mode: str, kind: str, title: str, privacy: str
    ) -> _Publish:
        publish = _Publish(
            f"v_pub_file~v2-1.{self.next_id()}", user, mode, kind, "", title, privacy
        )
        self.publishes[publish.id] = publish
        return publish

    async def _video_init(self, request: Request, body: Any, user: FakeUser) -> Any:
        info = body.get("post_info")
        if not isinstance(info, dict):
            raise _Error(400, "invalid_params", "post_info is required")
        privacy = info.get("privacy_level")
        if privacy not in self.privacy_options:
            raise _Error(
                403,
                "privacy_level_option_mismatch",
                "privacy_level is not one of the creator's options",
            )
        title = info.get("title") or ""
        if not isinstance(title, str) or len(title.encode("utf-16-le")) // 2 > 2200:
            raise _Error(400, "invalid_params", "title is at most 2200 characters")
        publish = self._new_publish(user, "direct", "video", title, str(privacy))
        return self._source(publish, body.get("source_info"))

    async def _inbox_init(self, request: Request, body: Any, user: FakeUser) -> Any:
        publish = self._new_publish(user, "inbox", "video", "", "SELF_ONLY")
        return self._source(publish, body.get("source_info"))

    async def _content_init(self, request: Request, body: Any, user: FakeUser) -> Any:
        if body.get("media_type") != "PHOTO":
            raise _Error(400, "invalid_params", "media_type must be PHOTO")
        mode = body.get("post_mode")
        info = body.get("post_info") or {}
        # Photo post reference: title at most 90, description at most 4000 "UTF-16 runes".
        for name, most in (("title", 90), ("description", 4000)):
            text = info.get(name) or ""
            if not isinstance(text, str) or len(text.encode("utf-16-le")) // 2 > most:
                raise _Error(400, "invalid_params", f"{name} is at most {most} characters")
        source = body.get("source_info") or {}
        photos = source.get("photo_images")
        if (
            source.get("source") != "PULL_FROM_URL"
            or not isinstance(photos, list)
            or not 1 <= len(photos) <= 35
        ):
            raise _Error(
                400,
                "invalid_params",
                "photo_images must hold 1-35 URLs pulled from a verified domain",
            )
        for url in photos:
            if not isinstance(url, str) or not any(
                url.startswith(p) for p in self.verified_prefixes
            ):
                raise _Error(
                    403,
                    "url_ownership_unverified",
                    "Please verify the ownership of the domain or URL prefix.",
                )
        if mode == "DIRECT_POST" and info.get("privacy_level") not in self.privacy_options:
            raise _Error(
                403,
                "privacy_level_option_mismatch",
                "privacy_level is not one of the creator's options",
            )
        publish = self._new_publish(
            user,
            "direct" if mode == "DIRECT_POST" else "inbox",
            "photo",
            str(info.get("description") or info.get("title") or ""),
            str(info.get("privacy_level") or "SELF_ONLY"),
        )
        publish.source = "PULL_FROM_URL"
        publish.stages = ["PROCESSING_DOWNLOAD"]
        return {"publish_id": publish.id}

    async def _upload(self, request: Request) -> Response:
        publish = self.publishes.get(request.path_params["publish_id"])
        if publish is None or publish.source != "FILE_UPLOAD":
            return JSONResponse(
                {"error": {"code": "invalid_params", "message": "unknown upload"}}, status_code=404
            )
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", request.headers.get("content-range", ""))
        data = await request.body()
        index = len(publish.received)
        if match is None:
            return Response(status_code=400)
        first, last, total = (int(g) for g in match.groups())
        expected_first = index * publish.chunk
        expected_last = (
            publish.size - 1 if index == publish.chunks - 1 else expected_first + publish.chunk - 1
        )
        if index > 0 and first == (index - 1) * publish.chunk:
            return Response(status_code=206)  # the previous chunk again: already stored
        if (
            total != publish.size
            or first != expected_first
            or last != expected_last
            or len(data) != last - first + 1
            or index >= publish.chunks
        ):
            return Response(status_code=416)
        publish.received.append(data)
        if len(publish.received) < publish.chunks:
            return Response(status_code=206)
        publish.stages = ["PROCESSING_UPLOAD"]
        return Response(status_code=201)

    async def _status(self, request: Request, body: Any, user: FakeUser) -> Any:
        publish = self.publishes.get(str(body.get("publish_id")))
        if publish is None or publish.user.id != user.id:
            raise _Error(400, "invalid_params", "publish_id not found")
        if publish.status not in ("PUBLISH_COMPLETE", "SEND_TO_USER_INBOX", "FAILED"):
            if publish.source == "FILE_UPLOAD" and len(publish.received) < publish.chunks:
                publish.status = "PROCESSING_UPLOAD"
            elif publish.stages:
                publish.status = publish.stages.pop(0)
            elif self._fail_next:
                publish.status, publish.fail_reason = "FAILED", self._fail_next.pop(0)
            elif publish.mode == "inbox":
                publish.status = "SEND_TO_USER_INBOX"
            else:
                publish.status = "PUBLISH_COMPLETE"
                video = self._new_video(publish.user, publish.title, publish.privacy)
                publish.video_id = video.id
        publish.seen.append(publish.status)
        data: dict[str, Any] = {"status": publish.status}
        if publish.status == "FAILED":
            data["fail_reason"] = publish.fail_reason
        if publish.status == "PUBLISH_COMPLETE" and publish.privacy == "PUBLIC_TO_EVERYONE":
            data["publicaly_available_post_id"] = [publish.video_id]
        if publish.source == "FILE_UPLOAD":
            data["uploaded_bytes"] = sum(len(c) for c in publish.received)
        else:
            data["downloaded_bytes"] = 0 if publish.status == "PROCESSING_DOWNLOAD" else 1
        return data
