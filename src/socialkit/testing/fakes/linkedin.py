"""``FakeLinkedIn``: a stateful, in-process LinkedIn API (Posts, Images, Videos, Social
Actions, Share and Follower Statistics, OAuth) for tests and the demo, following the reference
pages on learn.microsoft.com/linkedin (named beside each endpoint below)::

    from socialkit import Post
    from socialkit.testing.fakes import FakeLinkedIn

    fake = FakeLinkedIn()
    async with fake.connect() as linkedin:         # the real LinkedInAdapter
        posted = await linkedin.publish(Post(text="hi"))
    fake.view(posted.id, 1000)                     # impressionCount moves

What it imitates (see ``docs/fakes/linkedin.md``): the ``LinkedIn-Version`` and
``X-Restli-Protocol-Version: 2.0.0`` headers every call must carry, URNs URL-encoded in paths
and queries, the little text format (an unescaped reserved character cuts the commentary
there, as LinkedIn silently does), posts (create answering 201 with ``x-restli-id``, get,
the author finder, partial update, delete), image and multi-part video uploads with their
states (``WAITING_UPLOAD`` → ``PROCESSING`` → ``AVAILABLE``, or ``PROCESSING_FAILED``),
comments and likes, share statistics per post and per organization, follower statistics and
network sizes, daily limits per member and resource (429 without headers), the login (the
authorization page ``/oauth/v2/authorization``, approved at once by the owner, see
``socialkit.testing.fakes._oauth``; ``fake.approve(url)`` without HTTP) and refresh tokens
(``/oauth/v2/accessToken``), and LinkedIn's error body
``{"status", "serviceErrorCode", "code", "message"}``.
"""

from __future__ import annotations

import json
import re
import secrets
import string
import time
import urllib.parse
from collections import deque
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

__all__ = ["DAILY_LIMIT", "PART_SIZE", "FakeLinkedIn"]

#: Calls a member may make to one resource a day (LinkedIn publishes none; "about 100,000").
DAILY_LIMIT = 100_000
#: The size of a video upload part (``shares/videos-api``: 4 MB parts).
PART_SIZE = 4 * 1024 * 1024
_DAY = 86400.0
_RESERVED = set("|{}@[]()<>#\\*_~")
_ELEMENT = re.compile(
    r"\{hashtag\|\\?[#\uff03]\|[^}]*\}|@\[(?:[^\]\\]|\\.)*\]\(urn:li:[A-Za-z]+:[^)]+\)"
)


class _Error(Exception):
    def __init__(self, status: int, code: str, message: str, service: int = 100) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.service = service


@dataclass
class _Asset:
    urn: str
    kind: str  # image | video
    owner: str
    size: int = 0
    status: str = "WAITING_UPLOAD"
    parts: list[tuple[int, int]] = field(default_factory=list)
    received: dict[int, bytes] = field(default_factory=dict)
    etags: list[str] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    fail: bool = False


@dataclass
class _Comment:
    id: str
    target: str
    actor: str
    text: str
    created: int
    parent: str | None = None

    @property
    def urn(self) -> str:
        return f"urn:li:comment:({self.target},{self.id})"


@dataclass
class _Post:
    urn: str
    author: str
    commentary: str
    created: int
    visibility: str = "PUBLIC"
    content: dict[str, Any] | None = None
    parent: str | None = None
    modified: int = 0
    edited: bool = False
    impressions: int = 0
    unique: int = 0
    clicks: int = 0
    shares: int = 0
    likes: dict[str, int] = field(default_factory=dict)


def little_cut(commentary: str) -> str:
    """What LinkedIn keeps of a commentary: everything up to the first reserved character
    that is neither escaped nor part of a mention or hashtag element."""
    index = 0
    while index < len(commentary):
        char = commentary[index]
        if char == "\\" and index + 1 < len(commentary) and commentary[index + 1] in _RESERVED:
            index += 2
            continue
        match = _ELEMENT.match(commentary, index)
        if match is not None:
            index = match.end()
            continue
        if char in _RESERVED:
            return commentary[:index]
        index += 1
    return commentary


def _list(value: str | None) -> list[str]:
    """The items of a Rest.li ``List(a,b)`` query value (already URL-decoded)."""
    if not value:
        return []
    match = re.fullmatch(r"List\((.*)\)", value)
    if match is None:
        raise _Error(400, "ILLEGAL_ARGUMENT", f"{value!r} is not a Rest.li List(...)")
    return [item for item in match.group(1).split(",") if item]


class FakeLinkedIn(FakeNetwork):
    """A fake LinkedIn. The owner is a member who administers an organization page; the
    adapter it connects posts as that organization (``as_organization=False``: as the
    member)."""

    name: ClassVar[str] = "linkedin"
    default_base_url: ClassVar[str] = "https://api.linkedin.fake"
    client_id: ClassVar[str] = "fake-linkedin-client-id"
    versions: ClassVar[frozenset[str]] = frozenset(
        f"{year}{month:02d}" for year in range(2024, 2027) for month in range(1, 13)
    )

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
        as_organization: bool = True,
        daily_limit: int = DAILY_LIMIT,
    ) -> None:
        super().__init__(base_url=base_url, clock=clock, seed=seed, owner_handle=owner_handle)
        self.client_secret = "fake-linkedin-secret-" + secrets.token_hex(8)
        self.organization_id = 2414183
        self.organization_urn = f"urn:li:organization:{self.organization_id}"
        self.organization_name = f"{owner_handle.title()} Inc."
        self.as_organization = as_organization
        self.access: dict[str, tuple[str, float]] = {}
        self.refresh: dict[str, tuple[str, float]] = {}
        #: Codes of the authorization page (LinkedIn's web apps take no PKCE challenge).
        self.codes = CodeGrants(self.client_id, challenge=None)
        self.posts: dict[str, _Post] = {}
        self.comments: dict[str, _Comment] = {}
        self.assets: dict[str, _Asset] = {}
        self.followers: dict[str, int] = {}
        self.limiter = RateLimiter(daily_limit, _DAY)
        self.throttled = 0
        #: The newest requests (method, path, headers), for tests.
        self.requests: deque[tuple[str, str, dict[str, str]]] = deque(maxlen=10_000)
        self._fail_media: int = 0
        self._app: Starlette | None = None

    # -- simulation -----------------------------------------------------------------------

    def new_user_id(self, handle: str) -> str:
        alphabet = string.ascii_letters + string.digits
        return "".join(self.random.choice(alphabet) for _ in range(10))

    def member_urn(self, user: FakeUser) -> str:
        return f"urn:li:person:{user.id}"

    @property
    def author_urn(self) -> str:
        """Who the adapter posts as: the organization, or the owner."""
        return self.organization_urn if self.as_organization else self.member_urn(self.owner)

    def _actor(self, user: FakeUser) -> str:
        return self.author_urn if user.id == self.owner.id else self.member_urn(user)

    def tokens(self, user: FakeUser | None = None, lifetime: float = 60 * _DAY) -> tuple[str, str]:
        """A fresh (access token, refresh token) of ``user`` (default: the owner)."""
        who = (user or self.owner).id
        access = "AQV" + secrets.token_urlsafe(30)
        refresh = "AQX" + secrets.token_urlsafe(30)
        self.access[access] = (who, time.time() + lifetime)
        self.refresh[refresh] = (who, time.time() + 365 * _DAY)
        return access, refresh

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        return {"daily_limit": UNLIMITED}

    def created_post(
        self, method: str, path: str, request_body: bytes, answer: Any, headers: Mapping[str, str]
    ) -> CreatedPost | None:
        """``POST /rest/posts``: 201 with the post's URN in ``x-restli-id``."""
        if method != "POST" or path != "/rest/posts":
            return None
        urn = headers.get("x-restli-id")
        post = self.posts.get(urn) if urn else None
        if post is None:
            return None
        return post.urn, post.commentary, "post"

    def settings(self) -> dict[str, Any]:
        """The owner's app with a refresh token, posting as the organization it administers
        (or as the owner, for a fake made with ``as_organization=False``)."""
        access, refresh = self.tokens()
        values: dict[str, Any] = {
            "base_url": self.base_url,
            "token_url": f"{self.base_url}/oauth/v2/accessToken",
            "authorize_url": f"{self.base_url}/oauth/v2/authorization",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "access_token": access,
            "refresh_token": refresh,
            "store": MemoryStore(),
        }
        if self.as_organization:
            values["author"] = self.organization_urn
        return values

    def expire_access_tokens(self) -> None:
        self.access.clear()

    def throttle(self, calls: int = 1) -> None:
        """The next ``calls`` API calls answer 429 (a daily limit reached)."""
        self.throttled += calls

    def fail_next_media(self) -> None:
        """The next upload ends ``PROCESSING_FAILED``."""
        self._fail_media += 1

    def asset_states(self, urn: str) -> list[str]:
        """Every status an image or video showed to reads, in order."""
        return list(self.assets[urn].seen)

    def _now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def _new_post(
        self,
        author: str,
        commentary: str,
        *,
        content: dict[str, Any] | None = None,
        parent: str | None = None,
        visibility: str = "PUBLIC",
    ) -> _Post:
        self.clock.tick()
        video = content is not None and (
            "multiImage" in content
            or str(content.get("media", {}).get("id", "")).startswith("urn:li:video:")
        )
        kind = "ugcPost" if video else "share"
        urn = f"urn:li:{kind}:{7_100_000_000_000_000_000 + self.next_id()}"
        now = self._now_ms()
        post = _Post(urn, author, commentary, now, visibility, content, parent, now)
        self.posts[urn] = post
        return post

    def own_posts(self) -> list[str]:
        """URNs of the author's posts, oldest first."""
        return [p.urn for p in self.posts.values() if p.author == self.author_urn]

    def publish_as(self, user: FakeUser, text: str) -> str:
        return self._new_post(self._actor(user), _escape(text)).urn

    def like(self, post_id: str, user: FakeUser) -> None:
        self.posts[post_id].likes[self._actor(user)] = self._now_ms()

    def repost(self, post_id: str, user: FakeUser) -> None:
        self.posts[post_id].shares += 1
        self._new_post(self._actor(user), "", parent=post_id)

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        return self._comment(post_id, self._actor(user), _escape(text)).urn

    def _comment(self, target: str, actor: str, text: str, parent: str | None = None) -> _Comment:
        self.clock.tick()
        comment = _Comment(
            str(7_200_000_000_000_000_000 + self.next_id()),
            target,
            actor,
            text,
            self._now_ms(),
            parent,
        )
        self.comments[comment.urn] = comment
        return comment

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        self.posts[post_id].shares += 1
        return self._new_post(self._actor(user), _escape(text), parent=post_id).urn

    def mention(self, user: FakeUser, text: str) -> str:
        name = self.organization_name if self.as_organization else self.owner.name
        mention = f"@[{_escape(name)}]({self.author_urn})"
        return self._new_post(self.member_urn(user), f"{mention} {_escape(text)}").urn

    def direct(self, user: FakeUser, text: str) -> str:
        raise NotImplementedError("LinkedIn's API gives apps no messaging")

    def view(self, post_id: str, count: int) -> None:
        post = self.posts[post_id]
        post.impressions += count
        post.unique += (count + 1) // 2

    def click(self, post_id: str, count: int = 1) -> None:
        self.posts[post_id].clicks += count

    def follow(self, follower: FakeUser, followee: FakeUser) -> None:
        if followee.id == self.owner.id:
            self.followers[follower.id] = self._now_ms()
            followee.followers = len(self.followers)

    def has(self, relation: str, subject: str, target: str) -> bool:
        actor = self._actor(self.users[subject])
        if relation == "like":
            post = self.posts.get(target)
            if post is not None:
                return actor in post.likes
            return False
        raise NotImplementedError(f"LinkedIn's API has no {relation}")

    def comments_on(self, target: str) -> list[_Comment]:
        """The comments on a post (first level), or the replies to a comment, newest first."""
        if target in self.comments:
            found = (c for c in self.comments.values() if c.parent == target)
        else:
            found = (c for c in self.comments.values() if c.target == target and not c.parent)
        return sorted(
            found,
            key=lambda c: (c.created, c.id),
            reverse=True,
        )

    # -- the app ----------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            api: list[tuple[str, str, Any]] = [
                ("/v2/userinfo", "GET", self._userinfo),
                ("/rest/organizations/{id}", "GET", self._organization),
                ("/rest/posts", "POST", self._create_post),
                ("/rest/posts", "GET", self._find_posts),
                ("/rest/posts/{urn}", "GET", self._get_post),
                ("/rest/posts/{urn}", "POST", self._update_post),
                ("/rest/posts/{urn}", "DELETE", self._delete_post),
                ("/rest/images", "POST", self._image_action),
                ("/rest/images", "GET", self._batch_assets),
                ("/rest/images/{urn}", "GET", self._get_asset),
                ("/rest/videos", "POST", self._video_action),
                ("/rest/videos", "GET", self._batch_assets),
                ("/rest/videos/{urn}", "GET", self._get_asset),
                ("/rest/socialActions/{urn}", "GET", self._summary),
                ("/rest/socialActions/{urn}/comments", "GET", self._list_comments),
                ("/rest/socialActions/{urn}/comments", "POST", self._create_comment),
                ("/rest/socialActions/{urn}/comments/{id}", "GET", self._get_comment),
                ("/rest/socialActions/{urn}/comments/{id}", "DELETE", self._delete_comment),
                ("/rest/socialActions/{urn}/likes", "POST", self._like),
                ("/rest/socialActions/{urn}/likes", "GET", self._list_likes),
                ("/rest/socialActions/{urn}/likes/{actor}", "DELETE", self._unlike),
                ("/rest/organizationalEntityShareStatistics", "GET", self._share_statistics),
                ("/rest/organizationalEntityFollowerStatistics", "GET", self._follower_stats),
                ("/rest/networkSizes/{urn}", "GET", self._network_size),
            ]
            routes: dict[str, dict[str, Any]] = {}
            for path, method, handler in api:
                routes.setdefault(path, {})[method] = handler
            app_routes = [
                Route(path, self._wrap(handlers), methods=list(handlers))
                for path, handlers in routes.items()
            ]
            app_routes.append(Route("/oauth/v2/accessToken", self._token, methods=["POST"]))
            app_routes.append(
                Route(
                    "/oauth/v2/authorization",
                    lambda request: self.codes.authorize(request.query_params, self.owner.id),
                )
            )
            app_routes.append(Route("/dms-uploads/{urn}/{part}", self._upload, methods=["PUT"]))
            self._app = Starlette(routes=app_routes)
        return self._app

    def _wrap(self, handlers: dict[str, Any]) -> Any:
        async def endpoint(request: Request) -> Response:
            self.requests.append(
                (
                    request.method,
                    request.url.path,
                    {k.lower(): v for k, v in request.headers.items()},
                )
            )
            try:
                auth = request.headers.get("authorization", "")
                entry = self.access.get(auth[7:]) if auth.startswith("Bearer ") else None
                if entry is None or entry[1] <= time.time():
                    raise _Error(401, "EXPIRED_ACCESS_TOKEN", "Invalid access token", 65600)
                user = self.users[entry[0]]
                if request.url.path.startswith("/rest/"):
                    self._check_headers(request)
                if (
                    self.throttled > 0
                    or not self.limiter.hit(
                        f"{user.id} {request.method} {request.url.path.split('/')[2]}"
                    )[0]
                ):
                    self.throttled = max(0, self.throttled - 1)
                    raise _Error(
                        429,
                        "TOO_MANY_REQUESTS",
                        "Resource level throttle MEMBER DAY limit for calls to this resource "
                        "is reached.",
                        101,
                    )
                body: Any = None
                if request.method in ("POST", "PUT"):
                    raw = await request.body()
                    try:
                        body = json.loads(raw) if raw else {}
                    except ValueError:
                        raise _Error(400, "ILLEGAL_ARGUMENT", "The body is not JSON") from None
                    if not isinstance(body, dict):
                        raise _Error(400, "ILLEGAL_ARGUMENT", "The body is not an object")
                response: Response = await handlers[request.method](request, body, user)
                return response
            except _Error as exc:
                return JSONResponse(
                    {
                        "status": exc.status,
                        "serviceErrorCode": exc.service,
                        "code": exc.code,
                        "message": exc.message,
                    },
                    status_code=exc.status,
                    headers={"x-li-uuid": secrets.token_urlsafe(12)},
                )

        return endpoint

    def _check_headers(self, request: Request) -> None:
        version = request.headers.get("linkedin-version")
        if version is None:
            raise _Error(400, "VERSION_MISSING", "A version must be present.", 100)
        if version not in self.versions:
            raise _Error(
                426, "NONEXISTENT_VERSION", f"Requested version {version} is not active", 100
            )
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            raise _Error(400, "ILLEGAL_ARGUMENT", "X-Restli-Protocol-Version 2.0.0 is required")
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        raw_query = request.scope.get("query_string", b"")
        if b"urn:li:" in raw_path.split(b"?")[0] or b"urn:li:" in raw_query:
            raise _Error(
                400, "ILLEGAL_ARGUMENT", "URNs in paths and queries must be URL-encoded", 100
            )

    async def _token(self, request: Request) -> Response:
        form = await request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Client authentication failed"},
                status_code=401,
            )
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self.codes.redeem({k: str(v) for k, v in form.items()}, self.client_id)
            who = None if code is None else code.user_id
        elif grant == "refresh_token":
            entry = self.refresh.get(str(form.get("refresh_token")))
            who = entry[0] if entry is not None and entry[1] > time.time() else None
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        if who is None:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "The token is invalid"},
                status_code=400,
            )
        access, refresh = self.tokens(self.users[who])
        if grant == "refresh_token":
            # LinkedIn keeps the refresh token (its lifetime counts from the login).
            del self.refresh[refresh]
            refresh = str(form.get("refresh_token"))
        return JSONResponse(
            {
                "access_token": access,
                "expires_in": int(60 * _DAY),
                "refresh_token": refresh,
                "refresh_token_expires_in": int(self.refresh[refresh][1] - time.time()),
                "scope": "openid,profile,w_member_social,w_organization_social,"
                "r_organization_social,rw_organization_admin",
            }
        )

    def approve(self, url: str, user: FakeUser | None = None) -> str:
        """The redirect (``code`` and ``state``) the authorization page gives when ``user``
        (default: the owner) allows the app the authorization ``url`` asks for."""
        return self.codes.approve(url, (user or self.owner).id)

    # -- members and organizations (sign-in-with-linkedin-v2, organization-lookup-api) -------

    async def _userinfo(self, request: Request, body: Any, user: FakeUser) -> Response:
        return JSONResponse(
            {
                "sub": user.id,
                "email_verified": True,
                "name": user.name,
                "locale": {"country": "US", "language": "en"},
                "given_name": user.name,
                "family_name": "",
                "picture": f"https://media.licdn.fake/dms/image/{user.id}/profile.jpg",
            }
        )

    async def _organization(self, request: Request, body: Any, user: FakeUser) -> Response:
        if request.path_params["id"] != str(self.organization_id):
            raise _Error(404, "NOT_FOUND", "Organization not found", 100)
        vanity = self.organization_name.lower().replace(" ", "").replace(".", "")
        return JSONResponse(
            {
                "id": self.organization_id,
                "localizedName": self.organization_name,
                "vanityName": vanity,
                "name": {"localized": {"en_US": self.organization_name}},
            }
        )

    # -- posts (shares/posts-api) -------------------------------------------------------------

    def _render(self, post: _Post) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": post.urn,
            "author": post.author,
            "commentary": post.commentary,
            "visibility": post.visibility,
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "lifecycleStateInfo": {"isEditedByAuthor": post.edited},
            "isReshareDisabledByAuthor": False,
            "createdAt": post.created,
            "publishedAt": post.created,
            "lastModifiedAt": post.modified,
        }
        if post.content is not None:
            out["content"] = post.content
        if post.parent is not None:
            out["reshareContext"] = {"parent": post.parent, "root": post.parent}
        return out

    def _may_post_as(self, user: FakeUser, author: Any) -> None:
        allowed = {self.member_urn(user)}
        if user.id == self.owner.id:
            allowed.add(self.organization_urn)
        if author not in allowed:
            raise _Error(
                403,
                "ACCESS_DENIED",
                f"Not enough permissions to post as {author}",
                100,
            )

    def _media_ready(self, urn: Any, owner: str) -> None:
        asset = self.assets.get(str(urn))
        if asset is None or asset.owner != owner:
            raise _Error(400, "ILLEGAL_ARGUMENT", f"Unknown media {urn}")
        if asset.status != "AVAILABLE":
            raise _Error(
                422, "UNPROCESSABLE_ENTITY", f"{urn} is {asset.status}, not AVAILABLE", 100
            )

    async def _create_post(self, request: Request, body: Any, user: FakeUser) -> Response:
        author = body.get("author")
        self._may_post_as(user, author)
        commentary = body.get("commentary", "")
        if not isinstance(commentary, str):
            raise _Error(422, "UNPROCESSABLE_ENTITY", "commentary must be a string")
        if body.get("lifecycleState") != "PUBLISHED" or not isinstance(
            body.get("distribution"), dict
        ):
            raise _Error(422, "UNPROCESSABLE_ENTITY", "lifecycleState and distribution required")
        visibility = body.get("visibility")
        if visibility not in ("PUBLIC", "CONNECTIONS", "LOGGED_IN"):
            raise _Error(422, "UNPROCESSABLE_ENTITY", "visibility is invalid")
        content = body.get("content")
        if content is not None:
            if not isinstance(content, dict) or len(content) != 1:
                raise _Error(422, "UNPROCESSABLE_ENTITY", "content holds exactly one kind")
            if "media" in content:
                self._media_ready(content["media"].get("id"), author)
            elif "multiImage" in content:
                images = content["multiImage"].get("images") or []
                if not 2 <= len(images) <= 20:
                    raise _Error(422, "UNPROCESSABLE_ENTITY", "multiImage takes 2 to 20 images")
                for image in images:
                    if not str(image.get("id", "")).startswith("urn:li:image:"):
                        raise _Error(422, "UNPROCESSABLE_ENTITY", "multiImage takes images only")
                    self._media_ready(image.get("id"), author)
            elif "article" in content:
                if not str(content["article"].get("source", "")).startswith("http"):
                    raise _Error(422, "UNPROCESSABLE_ENTITY", "article.source is required")
            else:
                raise _Error(422, "UNPROCESSABLE_ENTITY", "unknown content")
        parent = None
        if body.get("reshareContext") is not None:
            parent = body["reshareContext"].get("parent")
            if parent not in self.posts:
                raise _Error(404, "NOT_FOUND", f"{parent} does not exist")
            self.posts[parent].shares += 1
        # The little format: an unescaped reserved character ends the text, silently.
        post = self._new_post(
            str(author),
            little_cut(commentary),
            content=content,
            parent=parent,
            visibility=str(visibility),
        )
        return Response(status_code=201, headers={"x-restli-id": post.urn})

    def _post(self, urn: str) -> _Post:
        post = self.posts.get(urn)
        if post is None:
            raise _Error(404, "NOT_FOUND", f"{urn} does not exist", 100)
        return post

    async def _get_post(self, request: Request, body: Any, user: FakeUser) -> Response:
        return JSONResponse(self._render(self._post(request.path_params["urn"])))

    async def _find_posts(self, request: Request, body: Any, user: FakeUser) -> Response:
        q = request.query_params
        if q.get("q") != "author":
            raise _Error(400, "ILLEGAL_ARGUMENT", "q must be author")
        author = q.get("author")
        try:
            start = int(q.get("start", "0"))
            count = int(q.get("count", "10"))
        except ValueError:
            raise _Error(400, "ILLEGAL_ARGUMENT", "start and count are numbers") from None
        if start < 0 or not 1 <= count <= 100:
            raise _Error(400, "ILLEGAL_ARGUMENT", "count must be 1-100")
        key = "created" if q.get("sortBy") == "CREATED" else "modified"
        posts = sorted(
            (p for p in self.posts.values() if p.author == author),
            key=lambda p: (getattr(p, key), p.urn),
            reverse=True,
        )
        page = posts[start : start + count]
        return JSONResponse(
            {
                "paging": {"start": start, "count": count, "links": [], "total": len(posts)},
                "elements": [self._render(p) for p in page],
            }
        )

    async def _update_post(self, request: Request, body: Any, user: FakeUser) -> Response:
        if request.headers.get("x-restli-method", "").upper() != "PARTIAL_UPDATE":
            raise _Error(400, "ILLEGAL_ARGUMENT", "X-RestLi-Method: PARTIAL_UPDATE is required")
        post = self._post(request.path_params["urn"])
        self._may_post_as(user, post.author)
        changes = (body.get("patch") or {}).get("$set") or {}
        if set(changes) - {"commentary", "contentCallToActionLabel", "lifecycleState"}:
            raise _Error(422, "UNPROCESSABLE_ENTITY", "only commentary may change")
        if "commentary" in changes:
            post.commentary = little_cut(str(changes["commentary"]))
            post.edited = True
            post.modified = self._now_ms()
        return Response(status_code=204)

    async def _delete_post(self, request: Request, body: Any, user: FakeUser) -> Response:
        post = self._post(request.path_params["urn"])
        self._may_post_as(user, post.author)
        del self.posts[post.urn]
        return Response(status_code=204)

    # -- media (shares/images-api, shares/videos-api) -----------------------------------------

    def _new_asset(self, kind: str, owner: Any, user: FakeUser, size: int = 0) -> _Asset:
        self._may_post_as(user, owner)
        prefix = "C4D" if kind == "image" else "C5F"
        urn = f"urn:li:{kind}:{prefix}10AQ{secrets.token_urlsafe(12).replace('-', 'x')}"
        asset = _Asset(urn, kind, str(owner), size)
        self.assets[urn] = asset
        return asset

    def _upload_url(self, asset: _Asset, part: int) -> str:
        return f"{self.base_url}/dms-uploads/{urllib.parse.quote(asset.urn, safe='')}/{part}"

    async def _image_action(self, request: Request, body: Any, user: FakeUser) -> Response:
        if request.query_params.get("action") != "initializeUpload":
            raise _Error(400, "ILLEGAL_ARGUMENT", "action must be initializeUpload")
        init = body.get("initializeUploadRequest") or {}
        asset = self._new_asset("image", init.get("owner"), user)
        asset.parts = [(0, -1)]
        return JSONResponse(
            {
                "value": {
                    "uploadUrlExpiresAt": self._now_ms() + 86_400_000,
                    "uploadUrl": self._upload_url(asset, 0),
                    "image": asset.urn,
                }
            }
        )

    async def _video_action(self, request: Request, body: Any, user: FakeUser) -> Response:
        action = request.query_params.get("action")
        if action == "initializeUpload":
            init = body.get("initializeUploadRequest") or {}
            size = init.get("fileSizeBytes")
            if not isinstance(size, int) or size <= 0:
                raise _Error(422, "UNPROCESSABLE_ENTITY", "fileSizeBytes is required")
            asset = self._new_asset("video", init.get("owner"), user, size)
            asset.parts = [
                (first, min(first + PART_SIZE, size) - 1) for first in range(0, size, PART_SIZE)
            ]
            return JSONResponse(
                {
                    "value": {
                        "uploadUrlsExpireAt": self._now_ms() + 86_400_000,
                        "video": asset.urn,
                        "uploadInstructions": [
                            {"uploadUrl": self._upload_url(asset, i), "firstByte": a, "lastByte": b}
                            for i, (a, b) in enumerate(asset.parts)
                        ],
                        "uploadToken": "",
                    }
                }
            )
        if action == "finalizeUpload":
            final = body.get("finalizeUploadRequest") or {}
            video = self.assets.get(str(final.get("video")))
            if video is None or video.kind != "video":
                raise _Error(404, "NOT_FOUND", "unknown video")
            if video.status != "WAITING_UPLOAD":
                return Response(status_code=200, content=b"")  # finalized already
            if final.get("uploadedPartIds") != video.etags or len(video.received) != len(
                video.parts
            ):
                raise _Error(
                    400, "ILLEGAL_ARGUMENT", "uploadedPartIds must list every part's ETag in order"
                )
            video.status = "PROCESSING"
            return Response(status_code=200, content=b"")
        raise _Error(400, "ILLEGAL_ARGUMENT", "action must be initializeUpload or finalizeUpload")

    async def _upload(self, request: Request) -> Response:
        asset = self.assets.get(request.path_params["urn"])
        part = int(request.path_params["part"]) if request.path_params["part"].isdigit() else -1
        if asset is None or not 0 <= part < len(asset.parts):
            return Response(status_code=404)
        data = await request.body()
        first, last = asset.parts[part]
        if asset.kind == "video" and len(data) != last - first + 1:
            return Response(status_code=400)
        if asset.kind == "video" and part != len(asset.received) and part not in asset.received:
            return Response(status_code=400)  # parts go in order
        etag = f"/ambry-video/signedId/{secrets.token_hex(8)}"
        if part in asset.received:
            etag = asset.etags[part]  # the same part again replaces itself
        else:
            asset.etags.append(etag)
        asset.received[part] = data
        if asset.kind == "image":
            asset.size = len(data)
            asset.status = "PROCESSING"
        return Response(status_code=201, headers={"etag": etag})

    async def _get_asset(self, request: Request, body: Any, user: FakeUser) -> Response:
        asset = self.assets.get(request.path_params["urn"])
        if asset is None:
            raise _Error(404, "NOT_FOUND", "No such media", 100)
        return JSONResponse(self._read_asset(asset))

    async def _batch_assets(self, request: Request, body: Any, user: FakeUser) -> Response:
        """A Rest.li batch get (``?ids=List(…)``): ``results`` by URN, unknown ones in
        ``statuses`` and ``errors``."""
        kind = "image" if request.url.path == "/rest/images" else "video"
        results: dict[str, Any] = {}
        statuses: dict[str, int] = {}
        errors: dict[str, Any] = {}
        for urn in _list(request.query_params.get("ids")):
            asset = self.assets.get(urn)
            if asset is None or asset.kind != kind:
                statuses[urn] = 404
                errors[urn] = {"status": 404, "message": "Not Found"}
                continue
            results[urn] = self._read_asset(asset)
            statuses[urn] = 200
        return JSONResponse({"results": results, "statuses": statuses, "errors": errors})

    def _read_asset(self, asset: _Asset) -> dict[str, Any]:
        # A video shows PROCESSING to one read after its finalize; an image is ready at once.
        if asset.status == "PROCESSING" and (
            asset.kind == "image" or (asset.seen and asset.seen[-1] == "PROCESSING")
        ):
            if self._fail_media > 0:
                self._fail_media -= 1
                asset.status = "PROCESSING_FAILED"
            else:
                asset.status = "AVAILABLE"
        asset.seen.append(asset.status)
        out: dict[str, Any] = {"id": asset.urn, "owner": asset.owner, "status": asset.status}
        if asset.status == "AVAILABLE":
            name = asset.urn.rsplit(":", 1)[1]
            out["downloadUrl"] = f"https://media.licdn.fake/dms/{asset.kind}/{name}"
            out["downloadUrlExpiresAt"] = self._now_ms() + 86_400_000
            if asset.kind == "video":
                out["duration"] = 12_000
                out["aspectRatioWidth"] = 16.0
                out["aspectRatioHeight"] = 9.0
                out["thumbnail"] = f"https://media.licdn.fake/dms/thumbnail/{name}"
        return out

    # -- social actions (shares/network-update-social-actions) -------------------------------

    def _target(self, urn: str) -> str:
        if urn in self.posts or urn in self.comments:
            return urn
        raise _Error(404, "NOT_FOUND", f"{urn} does not exist", 100)

    def _render_comment(self, comment: _Comment) -> dict[str, Any]:
        stamp = {"actor": comment.actor, "time": comment.created}
        out: dict[str, Any] = {
            "actor": comment.actor,
            "commentUrn": comment.urn,
            "created": stamp,
            "lastModified": stamp,
            "id": comment.id,
            "message": {"attributes": [], "text": comment.text},
            "object": comment.target,
            "$URN": comment.urn,
        }
        if comment.parent is not None:
            out["parentComment"] = comment.parent
        return out

    async def _summary(self, request: Request, body: Any, user: FakeUser) -> Response:
        urn = self._target(request.path_params["urn"])
        likes = self.posts[urn].likes if urn in self.posts else {}
        first_level = self.comments_on(urn)
        every = [c for c in self.comments.values() if c.target == urn]
        return JSONResponse(
            {
                "target": urn,
                "likesSummary": {
                    "totalLikes": len(likes),
                    "likedByCurrentUser": self._actor(user) in likes,
                },
                "commentsSummary": {
                    "totalFirstLevelComments": len(first_level),
                    "aggregatedTotalComments": len(every),
                },
            }
        )

    async def _list_comments(self, request: Request, body: Any, user: FakeUser) -> Response:
        urn = self._target(request.path_params["urn"])
        start = int(request.query_params.get("start", "0"))
        count = int(request.query_params.get("count", "10"))
        comments = self.comments_on(urn)
        return JSONResponse(
            {
                "paging": {"start": start, "count": count, "links": [], "total": len(comments)},
                "elements": [self._render_comment(c) for c in comments[start : start + count]],
            }
        )

    async def _create_comment(self, request: Request, body: Any, user: FakeUser) -> Response:
        urn = self._target(request.path_params["urn"])
        actor = body.get("actor")
        self._may_post_as(user, actor)
        text = (body.get("message") or {}).get("text")
        if not isinstance(text, str) or not text:
            raise _Error(422, "UNPROCESSABLE_ENTITY", "message.text is required")
        parent = body.get("parentComment")
        if urn in self.comments:
            if parent != urn:
                raise _Error(422, "UNPROCESSABLE_ENTITY", "parentComment must be the comment")
            target = self.comments[urn].target
        else:
            target = urn
        if body.get("object") != target:
            raise _Error(422, "UNPROCESSABLE_ENTITY", "object must be the post commented on")
        comment = self._comment(target, str(actor), little_cut(text), parent)
        return JSONResponse(
            self._render_comment(comment),
            status_code=201,
            headers={"x-restli-id": comment.id},
        )

    def _comment_of(self, request: Request) -> _Comment:
        urn = f"urn:li:comment:({request.path_params['urn']},{request.path_params['id']})"
        comment = self.comments.get(urn)
        if comment is None:
            raise _Error(404, "NOT_FOUND", f"{urn} does not exist", 100)
        return comment

    async def _get_comment(self, request: Request, body: Any, user: FakeUser) -> Response:
        return JSONResponse(self._render_comment(self._comment_of(request)))

    async def _delete_comment(self, request: Request, body: Any, user: FakeUser) -> Response:
        comment = self._comment_of(request)
        self._may_post_as(user, request.query_params.get("actor"))
        if comment.actor != request.query_params.get("actor"):
            raise _Error(403, "ACCESS_DENIED", "Only the comment's actor may delete it")
        del self.comments[comment.urn]
        return Response(status_code=204)

    async def _like(self, request: Request, body: Any, user: FakeUser) -> Response:
        urn = self._target(request.path_params["urn"])
        actor = body.get("actor")
        self._may_post_as(user, actor)
        if body.get("object") != urn:
            raise _Error(422, "UNPROCESSABLE_ENTITY", "object must be the target")
        if urn not in self.posts:
            raise _Error(422, "UNPROCESSABLE_ENTITY", "the fake keeps likes of posts only")
        likes = self.posts[urn].likes
        if str(actor) in likes:
            raise _Error(409, "DUPLICATE", "The actor already likes this", 100)
        likes[str(actor)] = self._now_ms()
        return JSONResponse(
            {"actor": actor, "object": urn, "created": {"actor": actor, "time": self._now_ms()}},
            status_code=201,
        )

    async def _list_likes(self, request: Request, body: Any, user: FakeUser) -> Response:
        urn = self._target(request.path_params["urn"])
        start = int(request.query_params.get("start", "0"))
        count = int(request.query_params.get("count", "10"))
        likes = sorted(
            (self.posts[urn].likes if urn in self.posts else {}).items(),
            key=lambda item: item[1],
            reverse=True,
        )
        return JSONResponse(
            {
                "paging": {"start": start, "count": count, "links": [], "total": len(likes)},
                "elements": [
                    {
                        "actor": actor,
                        "created": {"actor": actor, "time": when},
                        "lastModified": {"actor": actor, "time": when},
                        "object": urn,
                        "$URN": f"urn:li:like:({actor},{urn})",
                    }
                    for actor, when in likes[start : start + count]
                ],
            }
        )

    async def _unlike(self, request: Request, body: Any, user: FakeUser) -> Response:
        urn = self._target(request.path_params["urn"])
        actor = request.path_params["actor"]
        self._may_post_as(user, actor)
        if request.query_params.get("actor") != actor:
            raise _Error(400, "ILLEGAL_ARGUMENT", "the actor query parameter is required")
        likes = self.posts[urn].likes if urn in self.posts else {}
        if actor not in likes:
            raise _Error(404, "NOT_FOUND", "No such like", 100)
        del likes[actor]
        return Response(status_code=204)

    # -- statistics (organizations/share-statistics, follower-statistics, network-sizes) -----

    def _own_organization(self, request: Request, user: FakeUser) -> str:
        entity = request.query_params.get("organizationalEntity") or request.path_params.get("urn")
        if request.query_params.get("q", "organizationalEntity") != "organizationalEntity":
            raise _Error(400, "ILLEGAL_ARGUMENT", "q must be organizationalEntity")
        if entity != self.organization_urn:
            raise _Error(404, "NOT_FOUND", f"{entity} does not exist", 100)
        if user.id != self.owner.id:
            raise _Error(403, "ACCESS_DENIED", "Not an administrator of the organization", 100)
        return entity

    def _window(self, request: Request) -> tuple[int, int] | None:
        raw = request.query_params.get("timeIntervals")
        if raw is None:
            return None
        match = re.fullmatch(
            r"\(timeRange:\(start:(\d+),end:(\d+)\),timeGranularityType:(DAY|MONTH)\)", raw
        )
        if match is None:
            raise _Error(400, "ILLEGAL_ARGUMENT", "timeIntervals is malformed")
        return int(match.group(1)), int(match.group(2))

    @staticmethod
    def _totals(posts: list[_Post], comments: dict[str, int]) -> dict[str, Any]:
        impressions = sum(p.impressions for p in posts)
        likes = sum(len(p.likes) for p in posts)
        replies = sum(comments.get(p.urn, 0) for p in posts)
        clicks = sum(p.clicks for p in posts)
        shares = sum(p.shares for p in posts)
        engaged = clicks + likes + replies + shares
        return {
            "uniqueImpressionsCount": sum(p.unique for p in posts),
            "shareCount": shares,
            "engagement": engaged / impressions if impressions else 0.0,
            "clickCount": clicks,
            "likeCount": likes,
            "impressionCount": impressions,
            "commentCount": replies,
        }

    async def _share_statistics(self, request: Request, body: Any, user: FakeUser) -> Response:
        org = self._own_organization(request, user)
        asked = _list(request.query_params.get("shares")) + _list(
            request.query_params.get("ugcPosts")
        )
        counts: dict[str, int] = {}
        for comment in self.comments.values():
            counts[comment.target] = counts.get(comment.target, 0) + 1
        own = [p for p in self.posts.values() if p.author == org]
        elements = []
        if asked:
            for urn in asked:
                post = self.posts.get(urn)
                if post is None or post.author != org:
                    continue
                kind = "share" if urn.startswith("urn:li:share:") else "ugcPost"
                elements.append(
                    {
                        "totalShareStatistics": self._totals([post], counts),
                        kind: urn,
                        "organizationalEntity": org,
                    }
                )
        else:
            window = self._window(request)
            if window is None:
                elements.append(
                    {"totalShareStatistics": self._totals(own, counts), "organizationalEntity": org}
                )
            else:
                for day in range(window[0], window[1], 86_400_000):
                    posts = [p for p in own if day <= p.created < day + 86_400_000]
                    elements.append(
                        {
                            "totalShareStatistics": self._totals(posts, counts),
                            "organizationalEntity": org,
                            "timeRange": {"start": day, "end": day + 86_400_000},
                        }
                    )
        return JSONResponse(
            {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements}
        )

    async def _follower_stats(self, request: Request, body: Any, user: FakeUser) -> Response:
        org = self._own_organization(request, user)
        window = self._window(request)
        if window is None:
            elements: list[dict[str, Any]] = [
                {
                    "followerCountsByAssociationType": [],
                    "followerCountsBySeniority": [],
                    "followerCountsByIndustry": [],
                    "followerCountsByFunction": [],
                    "followerCountsByStaffCountRange": [],
                    "followerCountsByGeoCountry": [],
                    "followerCountsByGeo": [],
                    "organizationalEntity": org,
                }
            ]
        else:
            elements = []
            for day in range(window[0], window[1], 86_400_000):
                gained = sum(1 for t in self.followers.values() if day <= t < day + 86_400_000)
                elements.append(
                    {
                        "timeRange": {"start": day, "end": day + 86_400_000},
                        "followerGains": {"organicFollowerGain": gained, "paidFollowerGain": 0},
                        "organizationalEntity": org,
                    }
                )
        return JSONResponse(
            {"paging": {"start": 0, "count": 10, "links": []}, "elements": elements}
        )

    async def _network_size(self, request: Request, body: Any, user: FakeUser) -> Response:
        if request.query_params.get("edgeType") != "COMPANY_FOLLOWED_BY_MEMBER":
            raise _Error(400, "ILLEGAL_ARGUMENT", "edgeType must be COMPANY_FOLLOWED_BY_MEMBER")
        self._own_organization(request, user)
        return JSONResponse({"firstDegreeSize": len(self.followers)})


def _escape(text: str) -> str:
    return "".join("\\" + c if c in _RESERVED else c for c in text)
