"""``FakePinterest``: a stateful, in-process Pinterest API v5 for tests and the demo, following
the official description (``openapi.json`` 5.23.0: the paths, bodies and ``{code, message}``
errors named beside each endpoint below)::

    from socialkit import Media, Post
    from socialkit.testing.fakes import FakePinterest

    fake = FakePinterest()
    async with fake.connect() as pinterest:        # the real PinterestAdapter
        posted = await pinterest.publish(Post(text="hi", media=[Media.from_path("cat.png")]))
    fake.engage(posted.id, impressions=100, saves=3)   # analytics move

What it imitates (see ``docs/fakes/pinterest.md``): the authorization page ``/oauth/`` (approved
at once by the owner, see ``socialkit.testing.fakes._oauth``; ``fake.approve(url)`` without
HTTP), ``POST /v5/oauth/token`` (HTTP Basic; authorization code and refresh grants, refresh
tokens rotate as with continuous refresh),
``/user_account`` and its analytics, boards (list, create, their pins), pins (create from an
image URL, base64 image or a registered video; get, list, update, delete; analytics), the video
media flow (``POST /media`` → an S3-style form upload to ``upload_url`` → ``GET /media/{id}``
moving ``registered`` → ``processing`` → ``succeeded`` or ``failed``, one step per poll), rate
limits per category (``org_read``, ``org_write``, ``org_analytics``) with ``x-ratelimit-*``
headers and 429 ``{"code": 8, …}``, and the 90-day analytics window.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar

import httpx
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

__all__ = ["DEFAULT_LIMITS", "FakePinterest"]

#: Requests per minute per user per category (Standard access shape; the numbers are the
#: fake's, configurable: Pinterest publishes its own on the rate limits page).
DEFAULT_LIMITS: dict[str, int] = {
    "org_read": 1000,
    "org_write": 100,
    "org_analytics": 300,
    "ads_read": 1000,
}

_METRICS = ("IMPRESSION", "SAVE", "PIN_CLICK", "OUTBOUND_CLICK", "VIDEO_MRC_VIEW")
_SIZES = {"150x150": (150, 150), "400x300": (400, 300), "600x": (600, 600), "1200x": (1200, 1200)}


class _Error(Exception):
    """``#/components/schemas/Error``: ``{"code": <int>, "message": <str>}``."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class _Board:
    id: str
    owner: FakeUser
    name: str
    description: str | None
    privacy: str
    created: datetime


@dataclass
class _Media:
    id: str
    owner: FakeUser
    status: str = "registered"
    content: bytes = b""
    seen: list[str] = field(default_factory=list)


@dataclass
class _Pin:
    id: str
    owner: FakeUser
    board_id: str
    created: datetime
    media_type: str  # image | video | multiple_images
    image_key: str
    images: int = 1
    title: str | None = None
    description: str | None = None
    link: str | None = None
    alt_text: str | None = None
    board_section_id: str | None = None
    media_id: str | None = None
    parent_pin_id: str | None = None
    #: (day, metric, count): what the audience did, for analytics over a window.
    events: list[tuple[date, str, int]] = field(default_factory=list)
    comments: int = 0
    reactions: int = 0


class FakePinterest(FakeNetwork):
    """A fake Pinterest. The owner authorized the app and has one board, ``fake.board_id``."""

    name: ClassVar[str] = "pinterest"
    default_base_url: ClassVar[str] = "https://api.pinterest.fake/v5"
    client_id: ClassVar[str] = "1234567"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
        limits: dict[str, int] | None = None,
    ) -> None:
        super().__init__(base_url=base_url, clock=clock, seed=seed, owner_handle=owner_handle)
        self.client_secret = "fake-pinterest-secret-" + secrets.token_hex(8)
        self.access: dict[str, str] = {}
        self.refresh: dict[str, str] = {}
        self.revoked: set[str] = set()
        #: Codes of the authorization page (Pinterest takes no PKCE challenge).
        self.codes = CodeGrants(self.client_id, challenge=None)
        self.boards: dict[str, _Board] = {}
        self.pins: dict[str, _Pin] = {}
        self.media: dict[str, _Media] = {}
        self._fail_next: int = 0
        self.follows: set[tuple[str, str]] = set()
        #: How many polls a video shows ``processing`` before it ends (raise it to keep one
        #: processing).
        self.processing_polls = 1
        self.limiters = {
            category: RateLimiter(n, 60.0)
            for category, n in {**DEFAULT_LIMITS, **(limits or {})}.items()
        }
        self.board_id = self.add_board(self.owner, "My pins").id
        self._app: Starlette | None = None

    # -- simulation -----------------------------------------------------------------------

    def new_user_id(self, handle: str) -> str:
        return str(549_755_000_000 + self.next_id())

    def _new_id(self) -> str:
        return str(1_000_000_000_000_000 + self.next_id())

    def tokens(self, user: FakeUser | None = None) -> tuple[str, str]:
        """A fresh (access token, refresh token) pair of ``user`` (default: the owner)."""
        who = (user or self.owner).id
        access = "pina_" + secrets.token_urlsafe(24)
        refresh = "pinr_" + secrets.token_urlsafe(24)
        self.access[access] = who
        self.refresh[refresh] = who
        return access, refresh

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        return {"limits": dict.fromkeys(DEFAULT_LIMITS, UNLIMITED)}

    def created_post(
        self, method: str, path: str, request_body: bytes, answer: Any, headers: Mapping[str, str]
    ) -> CreatedPost | None:
        """``POST /v5/pins``: the Pin."""
        prefix = httpx.URL(self.base_url).path.rstrip("/")
        if method != "POST" or path != prefix + "/pins" or not isinstance(answer, dict):
            return None
        if "id" not in answer:
            return None
        return str(answer["id"]), answer.get("title") or answer.get("description"), "post"

    def settings(self) -> dict[str, Any]:
        """The owner's tokens (the refresh token rotates), pins to the owner's board."""
        access, refresh = self.tokens()
        return {
            "base_url": self.base_url,
            "authorize_url": str(httpx.URL(self.base_url).copy_with(path="/oauth/")),
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "access_token": access,
            "refresh_token": refresh,
            "board_id": self.board_id,
            "store": MemoryStore(),
        }

    def expire_access_tokens(self) -> None:
        self.access.clear()

    def approve(self, url: str, user: FakeUser | None = None) -> str:
        """The redirect (``code`` and ``state``) the authorization page gives when ``user``
        (default: the owner) allows the app the authorization ``url`` asks for."""
        return self.codes.approve(url, (user or self.owner).id)

    def add_board(
        self, user: FakeUser, name: str, *, description: str | None = None, privacy: str = "PUBLIC"
    ) -> _Board:
        board = _Board(self._new_id(), user, name, description, privacy, self.clock.now())
        self.boards[board.id] = board
        return board

    def _board_of(self, user: FakeUser) -> str:
        for board in self.boards.values():
            if board.owner.id == user.id:
                return board.id
        return self.add_board(user, f"{user.handle}'s pins").id

    def _new_pin(self, user: FakeUser, board_id: str, media_type: str, **fields: Any) -> _Pin:
        created = self.clock.tick()
        pin = _Pin(
            self._new_id(),
            user,
            board_id,
            created,
            media_type,
            hashlib.sha1(secrets.token_bytes(8)).hexdigest(),  # noqa: S324 - a file name
            **fields,
        )
        self.pins[pin.id] = pin
        return pin

    def publish_as(self, user: FakeUser, text: str) -> str:
        return self._new_pin(user, self._board_of(user), "image", description=text).id

    def engage(
        self,
        pin_id: str,
        *,
        impressions: int = 0,
        saves: int = 0,
        pin_clicks: int = 0,
        outbound_clicks: int = 0,
        video_views: int = 0,
    ) -> None:
        """The audience acts on a pin today (by the fake's clock): analytics move."""
        today = self.clock.now().date()
        pin = self.pins[pin_id]
        for metric, count in zip(
            _METRICS, (impressions, saves, pin_clicks, outbound_clicks, video_views), strict=True
        ):
            if count:
                pin.events.append((today, metric, count))

    def view(self, post_id: str, count: int) -> None:
        self.engage(post_id, impressions=count)

    def like(self, post_id: str, user: FakeUser) -> None:
        self.pins[post_id].reactions += 1

    def repost(self, post_id: str, user: FakeUser) -> None:
        self.engage(post_id, saves=1)

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        self.pins[post_id].comments += 1
        return f"{post_id}-c{self.next_id()}"

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        raise NotImplementedError("Pinterest has no quotes")

    def mention(self, user: FakeUser, text: str) -> str:
        raise NotImplementedError("the Pinterest API has no mentions")

    def direct(self, user: FakeUser, text: str) -> str:
        raise NotImplementedError("the Pinterest API has no messages for apps")

    def follow(self, follower: FakeUser, followee: FakeUser) -> None:
        """``follower`` follows ``followee`` (counts move; the lists of the API show it)."""
        if (follower.id, followee.id) not in self.follows:
            self.follows.add((follower.id, followee.id))
            follower.following += 1
            followee.followers += 1

    def has(self, relation: str, subject: str, target: str) -> bool:
        if relation == "follow":
            return (subject, target) in self.follows
        if relation == "repost":
            return any(
                p.owner.id == subject and p.parent_pin_id == target for p in self.pins.values()
            )
        return super().has(relation, subject, target)

    def fail_next_media(self) -> None:
        """The next video uploaded ends ``failed`` when its processing ends."""
        self._fail_next += 1

    def media_states(self, media_id: str) -> list[str]:
        """Every status the media showed to ``GET /media/{media_id}``, in order."""
        return list(self.media[media_id].seen)

    def pins_of(self, user: FakeUser | None = None) -> list[str]:
        """Ids of the pins of ``user`` (default: the owner), oldest first."""
        who = (user or self.owner).id
        return [p.id for p in self.pins.values() if p.owner.id == who]

    # -- the app ----------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            prefix = httpx.URL(self.base_url).path.rstrip("/")  # "/v5"
            api: list[tuple[str, str, str, Any]] = [
                ("/user_account", "GET", "org_read", self._user_account),
                ("/user_account/analytics", "GET", "org_analytics", self._account_analytics),
                ("/user_account/followers", "GET", "ads_read", self._followers),
                ("/user_account/following", "GET", "org_read", self._following),
                ("/search/pins", "GET", "org_read", self._search_pins),
                ("/pins/{pin_id}/save", "POST", "org_write", self._pins_save),
                ("/boards", "GET", "org_read", self._boards_list),
                ("/boards", "POST", "org_write", self._boards_create),
                ("/boards/{board_id}/pins", "GET", "org_read", self._board_pins),
                ("/pins", "GET", "org_read", self._pins_list),
                ("/pins", "POST", "org_write", self._pins_create),
                ("/pins/{pin_id}", "GET", "org_read", self._pins_get),
                ("/pins/{pin_id}", "PATCH", "org_write", self._pins_update),
                ("/pins/{pin_id}", "DELETE", "org_write", self._pins_delete),
                ("/pins/{pin_id}/analytics", "GET", "org_analytics", self._pin_analytics),
                ("/pins/analytics", "GET", "org_analytics", self._pins_analytics),
                ("/media", "POST", "org_write", self._media_create),
                ("/media/{media_id}", "GET", "org_read", self._media_get),
            ]
            by_path: dict[str, dict[str, tuple[str, Any]]] = {}
            for path, method, category, handler in api:
                by_path.setdefault(path, {})[method] = (category, handler)
            # Literal paths before templates: /pins/analytics is not a pin id.
            routes = [
                Route(prefix + path, self._endpoint(handlers), methods=list(handlers))
                for path, handlers in sorted(by_path.items(), key=lambda i: i[0].count("{"))
            ]
            routes.append(Route(prefix + "/oauth/token", self._token, methods=["POST"]))
            routes.append(
                Route(
                    "/oauth/",
                    lambda request: self.codes.authorize(request.query_params, self.owner.id),
                )
            )
            routes.append(Route("/_upload/{media_id}", self._upload, methods=["POST"]))
            self._app = Starlette(routes=routes)
        return self._app

    def _endpoint(self, handlers: dict[str, tuple[str, Any]]) -> Any:
        async def endpoint(request: Request) -> Response:
            category, handler = handlers[request.method]
            headers: dict[str, str] = {}
            try:
                auth = request.headers.get("authorization", "")
                user_id = self.access.get(auth[7:]) if auth.startswith("Bearer ") else None
                if user_id is None:
                    raise _Error(401, 2, "Authentication failed.")
                limiter = self.limiters[category]
                allowed, remaining, reset = limiter.hit(user_id)
                wait = max(0, round(reset - time.time()))
                headers = {
                    "x-ratelimit-limit": str(limiter.limit),
                    "x-ratelimit-remaining": str(remaining),
                    "x-ratelimit-reset": str(wait),
                }
                if not allowed:
                    raise _Error(
                        429,
                        8,
                        "This request exceeded a rate limit. This can happen if the client "
                        "exceeds one\nof the published rate limits or if multiple write "
                        "operations are applied to\nan object within a short time window.",
                    )
                body: Any = None
                if request.method in ("POST", "PATCH"):
                    raw = await request.body()
                    try:
                        body = json.loads(raw) if raw else None
                    except ValueError:
                        raise _Error(400, 1, "The body is not JSON.") from None
                    if not isinstance(body, dict):
                        raise _Error(400, 1, "The body must be an object.")
                status, data = await handler(request, body, self.users[user_id])
            except _Error as exc:
                return JSONResponse(
                    {"code": exc.code, "message": exc.message},
                    status_code=exc.status,
                    headers=headers,
                )
            if status == 204:
                return Response(status_code=204, headers=headers)
            return JSONResponse(data, status_code=status, headers=headers)

        return endpoint

    async def _token(self, request: Request) -> Response:
        """``POST /oauth/token`` (security ``basic``; OauthAccessTokenRequest)."""
        auth = request.headers.get("authorization", "")
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != f"Basic {expected}":
            return JSONResponse({"code": 2, "message": "Authentication failed."}, status_code=401)
        form = await request.form()
        grant = form.get("grant_type")
        if grant == "refresh_token":
            old = str(form.get("refresh_token"))
            who = self.refresh.get(old)
            if who is None or old in self.revoked:
                return JSONResponse(
                    {"code": 1, "message": "Invalid refresh token."}, status_code=400
                )
            # Continuous refresh: a new refresh token each time, the used one revoked.
            self.revoked.add(old)
            del self.refresh[old]
        elif grant == "authorization_code":
            code = self.codes.redeem({k: str(v) for k, v in form.items()}, self.client_id)
            if code is None:
                return JSONResponse({"code": 1, "message": "Invalid code."}, status_code=400)
            who = code.user_id
        else:
            return JSONResponse({"code": 1, "message": "Unsupported grant_type."}, status_code=400)
        access, refresh = self.tokens(self.users[who])
        now = int(self.clock.now().timestamp())
        return JSONResponse(
            {
                "access_token": access,
                "refresh_token": refresh,
                "response_type": grant,
                "token_type": "bearer",
                "expires_in": 2_592_000,
                "refresh_token_expires_in": 31_536_000,
                "refresh_token_expires_at": now + 31_536_000,
                "scope": "boards:read,boards:write,pins:read,pins:write,user_accounts:read",
            }
        )

    # -- rendering --------------------------------------------------------------------------

    def _board_json(self, board: _Board) -> dict[str, Any]:
        """``#/components/schemas/Board``."""
        return {
            "id": board.id,
            "name": board.name,
            "description": board.description,
            "privacy": board.privacy,
            "owner": {"username": board.owner.handle},
            "created_at": _iso(board.created),
            "board_pins_modified_at": _iso(board.created),
            "pin_count": sum(1 for p in self.pins.values() if p.board_id == board.id),
            "follower_count": 0,
            "collaborator_count": 0,
            "is_ads_only": False,
        }

    def _pin_json(self, pin: _Pin) -> dict[str, Any]:
        """``#/components/schemas/Pin``."""

        def sizes(name: str) -> dict[str, Any]:
            """``#/components/schemas/ImageSize``."""
            return {
                size: {"width": w, "height": h, "url": f"https://i.pinimg.fake/{size}/{name}.jpg"}
                for size, (w, h) in _SIZES.items()
            }

        images = sizes(pin.image_key)
        media: dict[str, Any]
        if pin.media_type == "multiple_images":
            media = {
                "media_type": "multiple_images",
                "items": [
                    {"item_type": "image", "images": sizes(f"{pin.image_key}-{n}")}
                    for n in range(pin.images)
                ],
            }
        elif pin.media_type == "video":
            media = {
                "media_type": "video",
                "images": images,
                "cover_image_url": images["1200x"]["url"],
                "video_url": f"https://v.pinimg.fake/videos/720p/{pin.image_key}.mp4",
                "duration": 12000,
                "width": 1080,
                "height": 1920,
            }
        else:
            media = {"media_type": "image", "images": images}
        return {
            "id": pin.id,
            "created_at": _iso(pin.created),
            "link": pin.link,
            "title": pin.title,
            "description": pin.description,
            "dominant_color": "#6E7874",
            "alt_text": pin.alt_text,
            "creative_type": "VIDEO" if pin.media_type == "video" else "REGULAR",
            "board_id": pin.board_id,
            "board_section_id": pin.board_section_id,
            "board_owner": {"username": self.boards[pin.board_id].owner.handle},
            "is_owner": True,
            "is_standard": True,
            "has_been_promoted": False,
            "parent_pin_id": pin.parent_pin_id,
            "media": media,
        }

    # -- endpoints --------------------------------------------------------------------------

    async def _user_account(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /user_account`` (``#/components/schemas/Account``)."""
        return 200, {
            "account_type": "BUSINESS",
            "id": user.id,
            "username": user.handle,
            "business_name": user.name,
            "profile_image": f"https://i.pinimg.fake/75x75_RS/{user.id}.jpg",
            "website_url": "https://example.com",
            "about": "",
            "board_count": sum(1 for b in self.boards.values() if b.owner.id == user.id),
            "pin_count": len(self.pins_of(user)),
            "follower_count": user.followers,
            "following_count": user.following,
            "monthly_views": 0,
        }

    def _window(self, request: Request) -> tuple[date, date]:
        try:
            start = date.fromisoformat(str(request.query_params.get("start_date")))
            end = date.fromisoformat(str(request.query_params.get("end_date")))
        except ValueError:
            raise _Error(400, 1, "start_date and end_date are required (YYYY-MM-DD).") from None
        today = self.clock.now().date()
        if start < today - timedelta(days=90):
            raise _Error(400, 1, "start_date cannot be more than 90 days back from today.")
        if end < start or end - start > timedelta(days=90):
            raise _Error(400, 1, "end_date cannot be more than 90 days past start_date.")
        return start, end

    @staticmethod
    def _analytics(pins: list[_Pin], start: date, end: date, wanted: tuple[str, ...]) -> Any:
        """``{"all": AnalyticsMetricsResponse}`` summed over the window, one daily entry a day."""
        daily: dict[date, dict[str, int]] = {}
        day = start
        while day <= end:
            daily[day] = dict.fromkeys(wanted, 0)
            day += timedelta(days=1)
        for pin in pins:
            for when, metric, count in pin.events:
                if start <= when <= end and metric in wanted:
                    daily[when][metric] += count
        summary = dict.fromkeys(wanted, 0)
        for values in daily.values():
            for metric, count in values.items():
                summary[metric] += count
        return {
            "all": {
                "daily_metrics": [
                    {"data_status": "READY", "date": d.isoformat(), "metrics": v}
                    for d, v in daily.items()
                ],
                "summary_metrics": summary,
            }
        }

    async def _account_analytics(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /user_account/analytics`` (``#/components/schemas/AnalyticsResponse``)."""
        start, end = self._window(request)
        pins = [p for p in self.pins.values() if p.owner.id == user.id]
        return 200, self._analytics(pins, start, end, _METRICS)

    async def _pin_analytics(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /pins/{pin_id}/analytics`` (``#/components/schemas/PinAnalyticsResponse``)."""
        pin = self._own_pin(request.path_params["pin_id"], user)
        start, end = self._window(request)
        types = tuple(t for t in str(request.query_params.get("metric_types", "")).split(",") if t)
        if not types:
            raise _Error(400, 1, "metric_types is required.")
        if pin.media_type != "video":
            types = tuple(t for t in types if not t.startswith("VIDEO_"))
        return 200, self._analytics([pin], start, end, types)

    async def _pins_analytics(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /pins/analytics`` (``#/components/schemas/BulkPinAnalyticsResponse``): up to
        100 pins by id, each as ``GET /pins/{pin_id}/analytics`` answers; unknown pins are
        left out."""
        ids = [i for given in request.query_params.getlist("pin_ids") for i in given.split(",")]
        if not 1 <= len(ids) <= 100:
            raise _Error(400, 1, "pin_ids holds 1 to 100 ids.")
        start, end = self._window(request)
        types = tuple(t for t in str(request.query_params.get("metric_types", "")).split(",") if t)
        if not types:
            raise _Error(400, 1, "metric_types is required.")
        answer = {}
        for pin_id in ids:
            pin = self.pins.get(pin_id)
            if pin is None or pin.owner.id != user.id:
                continue
            kept = (
                types
                if pin.media_type == "video"
                else tuple(t for t in types if not t.startswith("VIDEO_"))
            )
            answer[pin_id] = self._analytics([pin], start, end, kept)
        return 200, answer

    def _page(self, request: Request, items: list[Any], key: Any) -> tuple[list[Any], str | None]:
        """A page after ``bookmark`` (the last id served, so that items arriving meanwhile
        never shift the next page), ``page_size`` items (1-250, default 25)."""
        try:
            size = int(request.query_params.get("page_size", "25"))
        except ValueError:
            raise _Error(400, 1, "page_size must be a number.") from None
        if not 1 <= size <= 250:
            raise _Error(400, 1, "page_size must be 1-250.")
        bookmark = request.query_params.get("bookmark")
        if bookmark:
            try:
                after = base64.urlsafe_b64decode(bookmark.encode()).decode()
            except (binascii.Error, UnicodeDecodeError):
                raise _Error(400, 1, "Invalid bookmark.") from None
            ids = [key(i) for i in items]
            if after not in ids:
                raise _Error(400, 1, "Invalid bookmark.")
            items = items[ids.index(after) + 1 :]
        page = items[:size]
        more = len(items) > size
        next_bookmark = (
            base64.urlsafe_b64encode(key(page[-1]).encode()).decode() if more and page else None
        )
        return page, next_bookmark

    async def _boards_list(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /boards``."""
        privacy = request.query_params.get("privacy")
        boards = [
            b
            for b in self.boards.values()
            if b.owner.id == user.id and (privacy is None or b.privacy == privacy)
        ]
        page, bookmark = self._page(request, boards, lambda b: b.id)
        return 200, {"items": [self._board_json(b) for b in page], "bookmark": bookmark}

    async def _boards_create(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``POST /boards`` (``#/components/schemas/BoardCreate``)."""
        name = body.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _Error(400, 1, "Board name is required.")
        privacy = body.get("privacy", "PUBLIC")
        if privacy not in ("PUBLIC", "PROTECTED", "SECRET"):
            raise _Error(400, 1, "Invalid board privacy.")
        if any(b.owner.id == user.id and b.name == name for b in self.boards.values()):
            raise _Error(409, 58, "You already have a board with this name.")
        board = self.add_board(user, name, description=body.get("description"), privacy=privacy)
        return 201, self._board_json(board)

    def _newest(self, pins: list[_Pin]) -> list[_Pin]:
        return sorted(pins, key=lambda p: (p.created, int(p.id)), reverse=True)

    async def _board_pins(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /boards/{board_id}/pins``, newest first."""
        board = self.boards.get(request.path_params["board_id"])
        if board is None or board.owner.id != user.id:
            raise _Error(404, 40, "Board not found.")
        pins = self._newest([p for p in self.pins.values() if p.board_id == board.id])
        page, bookmark = self._page(request, pins, lambda p: p.id)
        return 200, {"items": [self._pin_json(p) for p in page], "bookmark": bookmark}

    async def _pins_list(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /pins``: the user's pins, newest first."""
        pins = self._newest([p for p in self.pins.values() if p.owner.id == user.id])
        page, bookmark = self._page(request, pins, lambda p: p.id)
        return 200, {"items": [self._pin_json(p) for p in page], "bookmark": bookmark}

    def _own_pin(self, pin_id: str, user: FakeUser) -> _Pin:
        pin = self.pins.get(pin_id)
        if pin is None or pin.owner.id != user.id:
            raise _Error(404, 50, "Pin not found.")
        return pin

    @staticmethod
    def _text_fields(body: dict[str, Any]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, limit in (
            ("title", 100),
            ("description", 800),
            ("alt_text", 500),
            ("link", 2048),
        ):
            value = body.get(name)
            if value is None:
                continue
            if not isinstance(value, str) or len(value) > limit:
                raise _Error(400, 1, f"Invalid {name}: a string of at most {limit} characters.")
            found[name] = value
        link = found.get("link")
        if link is not None and not re.match(r"^https?://", link):
            raise _Error(400, 1, "Invalid link.")
        return found

    async def _pins_create(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``POST /pins`` (``#/components/schemas/PinCreate``)."""
        board = self.boards.get(str(body.get("board_id")))
        if board is None or board.owner.id != user.id:
            raise _Error(404, 40, "Board not found.")
        section = body.get("board_section_id")
        fields = self._text_fields(body)
        source = body.get("media_source")
        if not isinstance(source, dict):
            raise _Error(400, 1, "media_source is required.")
        kind = source.get("source_type")
        media_id: str | None = None
        count = 1
        if kind == "image_url":
            self._check_url(source.get("url"))
            media_type = "image"
        elif kind == "image_base64":
            self._check_base64(source)
            media_type = "image"
        elif kind in ("multiple_image_urls", "multiple_image_base64"):
            items = source.get("items")
            if not isinstance(items, list) or not 2 <= len(items) <= 5:
                raise _Error(400, 1, "A carousel has 2 to 5 images.")
            for item in items:
                if not isinstance(item, dict):
                    raise _Error(400, 1, "Invalid carousel item.")
                if kind == "multiple_image_urls":
                    self._check_url(item.get("url"))
                else:
                    self._check_base64(item)
            media_type, count = "multiple_images", len(items)
        elif kind == "video_id":
            media = self.media.get(str(source.get("media_id")))
            if media is None or media.owner.id != user.id:
                raise _Error(404, 1, "Media not found.")
            if media.status != "succeeded":
                raise _Error(400, 1, f"Media is not ready (status {media.status}).")
            if "cover_image_url" not in source and "cover_image_key_frame_time" not in source:
                raise _Error(400, 1, "A video pin needs cover_image_url or a key frame time.")
            media_type, media_id = "video", media.id
        else:
            raise _Error(400, 1, f"Unsupported source_type {kind!r}.")
        pin = self._new_pin(
            user,
            board.id,
            media_type,
            board_section_id=str(section) if section else None,
            media_id=media_id,
            images=count,
            **fields,
        )
        return 201, self._pin_json(pin)

    @staticmethod
    def _check_url(url: Any) -> None:
        if not isinstance(url, str) or not re.match(r"^https?://", url):
            raise _Error(400, 1, "Invalid image url.")

    @staticmethod
    def _check_base64(source: dict[str, Any]) -> None:
        """``PinMediaSourceImageBase64`` (and its carousel items): JPEG or PNG bytes."""
        if source.get("content_type") not in ("image/jpeg", "image/png"):
            raise _Error(400, 1, "content_type must be image/jpeg or image/png.")
        try:
            data = base64.b64decode(str(source.get("data")), validate=True)
        except (binascii.Error, ValueError):
            raise _Error(400, 1, "Invalid base64 image data.") from None
        if not (data.startswith(b"\x89PNG") or data.startswith(b"\xff\xd8")):
            raise _Error(400, 1, "The image could not be read.")

    async def _pins_save(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``POST /pins/{pin_id}/save``: a new pin of the user on the board, its
        ``parent_pin_id`` the saved one."""
        original = self.pins.get(request.path_params["pin_id"])
        if original is None:
            raise _Error(404, 50, "Pin not found.")
        board = self.boards.get(str(body.get("board_id")))
        if board is None or board.owner.id != user.id:
            raise _Error(404, 40, "Board not found.")
        section = body.get("board_section_id")
        pin = self._new_pin(
            user,
            board.id,
            original.media_type,
            images=original.images,
            title=original.title,
            description=original.description,
            link=original.link,
            alt_text=original.alt_text,
            board_section_id=str(section) if section else None,
            parent_pin_id=original.id,
        )
        pin.image_key = original.image_key
        self.engage(original.id, saves=1)
        return 201, self._pin_json(pin)

    async def _search_pins(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /search/pins``: the user's pins whose description holds the query's words, or
        whose id is one of its comma-separated ids; newest first."""
        query = str(request.query_params.get("query") or "").strip()
        if not query:
            raise _Error(400, 1, "query is required.")
        ids = {i.strip() for i in query.split(",")}
        words = query.lower().split()
        pins = [
            p
            for p in self._newest(list(self.pins.values()))
            if p.owner.id == user.id
            and (p.id in ids or all(w in (p.description or "").lower() for w in words))
        ]
        page, bookmark = self._page(request, pins, lambda p: p.id)
        return 200, {"items": [self._pin_json(p) for p in page], "bookmark": bookmark}

    def _users_page(self, request: Request, users: list[FakeUser]) -> Any:
        """``Paginated`` of ``UserSummary`` (a username each)."""
        page, bookmark = self._page(request, users, lambda u: u.id)
        return 200, {
            "items": [{"type": "user", "username": u.handle} for u in page],
            "bookmark": bookmark,
        }

    async def _followers(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /user_account/followers``."""
        users = [self.users[a] for a, b in sorted(self.follows) if b == user.id]
        return self._users_page(request, users)

    async def _following(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /user_account/following``."""
        users = [self.users[b] for a, b in sorted(self.follows) if a == user.id]
        return self._users_page(request, users)

    async def _pins_get(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /pins/{pin_id}``."""
        return 200, self._pin_json(self._own_pin(request.path_params["pin_id"], user))

    async def _pins_update(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``PATCH /pins/{pin_id}`` (``#/components/schemas/PinUpdate``)."""
        pin = self._own_pin(request.path_params["pin_id"], user)
        for name in ("title", "description", "alt_text", "link"):
            if name in body and body[name] is None:
                setattr(pin, name, None)
        for name, value in self._text_fields(body).items():
            setattr(pin, name, value)
        return 200, self._pin_json(pin)

    async def _pins_delete(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``DELETE /pins/{pin_id}``: 204."""
        pin = self._own_pin(request.path_params["pin_id"], user)
        del self.pins[pin.id]
        return 204, None

    async def _media_create(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``POST /media`` (``MediaUploadCreate`` → ``MediaUpload``)."""
        if body.get("media_type") != "video":
            raise _Error(400, 1, "media_type must be video.")
        media = _Media(self._new_id(), user)
        self.media[media.id] = media
        base = httpx.URL(self.base_url)
        return 201, {
            "media_id": media.id,
            "media_type": "video",
            # Another host in reality (S3); the fake's own origin here.
            "upload_url": f"{base.scheme}://{base.netloc.decode()}/_upload/{media.id}",
            "upload_parameters": {
                "x-amz-date": "20260101T000000Z",
                "x-amz-signature": secrets.token_hex(32),
                "x-amz-security-token": secrets.token_urlsafe(24),
                "x-amz-algorithm": "AWS4-HMAC-SHA256",
                "key": f"uploads/{media.id}",
                "policy": secrets.token_urlsafe(24),
                "x-amz-credential": "ASIAFAKE/20260101/us-east-1/s3/aws4_request",
                "Content-Type": "multipart/form-data",
            },
        }

    async def _upload(self, request: Request) -> Response:
        """The S3 form POST: every ``upload_parameters`` field, then ``file``; 204."""
        media = self.media.get(request.path_params["media_id"])
        if media is None:
            return Response("<Error><Code>NoSuchKey</Code></Error>", status_code=404)
        form = await request.form()
        upload = form.get("file")
        if form.get("key") != f"uploads/{media.id}" or upload is None or isinstance(upload, str):
            return Response("<Error><Code>InvalidArgument</Code></Error>", status_code=400)
        media.content = await upload.read()
        if media.status == "registered":
            media.status = "processing"
        return Response(status_code=204)

    async def _media_get(self, request: Request, body: Any, user: FakeUser) -> Any:
        """``GET /media/{media_id}`` (``#/components/schemas/Media``): ``processing`` moves on
        one step per poll."""
        media = self.media.get(request.path_params["media_id"])
        if media is None or media.owner.id != user.id:
            raise _Error(404, 1, "Media not found.")
        if media.status == "processing" and media.seen.count("processing") >= self.processing_polls:
            if self._fail_next:
                self._fail_next -= 1
                media.status = "failed"
            else:
                media.status = "succeeded"
        media.seen.append(media.status)
        return 200, {"media_id": media.id, "media_type": "video", "status": media.status}


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
