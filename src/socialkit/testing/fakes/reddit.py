"""``FakeReddit``: a stateful, in-process Reddit API for tests and the demo.

It serves what :class:`socialkit.adapters.reddit.RedditAdapter` calls, with the shapes of
Reddit's API reference (https://www.reddit.com/dev/api) and JSON objects
(https://github.com/reddit-archive/reddit/wiki/JSON)::

    from socialkit import Post
    from socialkit.testing.fakes import FakeReddit

    fake = FakeReddit()
    async with fake.connect() as reddit:          # the real adapter, a script app
        posted = await reddit.publish(Post(text="Title\\nbody"))
    fan = fake.add_user("fan")
    fake.like(posted.id, fan)                     # score moves
    fake.reply(posted.id, fan, "nice")            # a post_reply in the inbox

What it imitates (see ``docs/fakes/reddit.md``): the token endpoint (password and refresh
grants, HTTP Basic client authentication, ``{"error": "invalid_grant"}`` with 200 as Reddit
answers), the User-Agent rule (a generic one is refused 429), ``X-Ratelimit-Used`` /
``-Remaining`` / ``-Reset`` on every answer and 429 past the window, ``POST /api/submit``
(self, link, image, video, crosspost; flair, nsfw, spoiler; ``json.errors`` such as
``SUBREDDIT_NOEXIST`` and ``RATELIMIT``), ``/api/submit_gallery_post.json``, the media lease
(``/api/media/asset.json``) and its storage upload (201 with an XML ``Location``),
``/api/comment``, ``/api/editusertext``, ``/api/del``, ``/api/info``, user listings,
``/message/inbox``, search, votes and saves, the front page (``/best``: joined subreddits
and followed profiles) and multireddits (``/api/multi/mine``, ``/user/{name}/m/{multi}/new``),
with Listings paged by ``after``.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
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
    request_fields,
)
from socialkit.testing.fakes._oauth import CodeGrants

__all__ = ["FakeReddit"]

_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"
_UA = re.compile(r"\S+:\S+:\S+ \(by /u/[A-Za-z0-9_-]{3,20}\)")


def _b36(number: int) -> str:
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = _B36[rest] + out
        if number == 0:
            return out


class _Error(Exception):
    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(str(body))
        self.status = status
        self.body = body
        self.headers = headers or {}


def _status(status: int, message: str) -> _Error:
    return _Error(status, {"message": message, "error": status})


@dataclass
class _Thing:
    kind: str  # t1, t3, t4
    id: str
    author: FakeUser
    created: float
    subreddit: str | None = None
    title: str = ""
    body: str = ""
    url: str | None = None
    post_hint: str | None = None
    is_self: bool = False
    is_video: bool = False
    parent: str | None = None  # t1: the parent's fullname; t4: the recipient's id
    link: str | None = None
    nsfw: bool = False
    spoiler: bool = False
    flair: str | None = None
    crosspost_parent: str | None = None
    gallery: list[dict[str, Any]] = field(default_factory=list)
    video: dict[str, Any] | None = None
    inbox_type: str | None = None
    votes: dict[str, int] = field(default_factory=dict)
    saved: set[str] = field(default_factory=set)
    deleted: bool = False

    @property
    def name(self) -> str:
        return f"{self.kind}_{self.id}"


class FakeReddit(FakeNetwork):
    """A fake Reddit: the owner is a script app's account; subreddits are made on demand."""

    name: ClassVar[str] = "reddit"
    default_base_url: ClassVar[str] = "https://oauth.reddit.fake"
    client_id: ClassVar[str] = "fake-reddit-client"
    user_agent: ClassVar[str] = "python:socialkit.fake:1.0 (by /u/owner)"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
        rate_limit: int = 600,
        rate_window: float = 600.0,
    ) -> None:
        self._counter = 1000
        super().__init__(base_url=base_url, clock=clock, seed=seed, owner_handle=owner_handle)
        self.client_secret = "fake-reddit-secret-" + "".join(
            self.random.choice("abcdef0123456789") for _ in range(16)
        )
        self.passwords: dict[str, str] = {self.owner.id: "owner-password"}
        #: Logins of installed and web apps (authorization code; Reddit takes no PKCE).
        self.codes = CodeGrants(self.client_id, challenge=None)
        self.tokens: dict[str, str] = {}
        self.refresh_tokens: dict[str, str] = {}
        self.things: dict[str, _Thing] = {}
        self.subreddits: dict[str, dict[str, Any]] = {}
        self.add_subreddit("socialkit")
        self.assets: dict[str, dict[str, Any]] = {}
        #: (subscriber id, followed user id) and (blocker id, blocked user id).
        self.follows: set[tuple[str, str]] = set()
        self.blocks: set[tuple[str, str]] = set()
        #: (subscriber id, subreddit name in lower case): the subreddits on a front page.
        self.joined: set[tuple[str, str]] = set()
        #: Multireddits by (owner id, name in lower case).
        self.multis: dict[tuple[str, str], dict[str, Any]] = {}
        self.limiter = RateLimiter(rate_limit, rate_window)
        self._ratelimited: list[float] = []
        self._app: Starlette | None = None

    # -- simulation -------------------------------------------------------------------------

    def new_user_id(self, handle: str) -> str:
        self._counter += 1
        return f"t2_{_b36(self._counter * 7919)}"

    def _new_id(self) -> str:
        self._counter += 1
        return _b36(self._counter * 104729)

    def add_subreddit(self, name: str, *, flairs: dict[str, str] | None = None) -> None:
        """A subreddit anyone may post in; ``flairs`` maps flair template ids to texts."""
        self.subreddits[name.lower()] = {"name": name, "flairs": dict(flairs or {})}

    def join(self, user: FakeUser, subreddit: str) -> None:
        """``user`` subscribes to ``subreddit``: its posts are on their front page."""
        self.joined.add((user.id, subreddit.lower()))

    def add_multi(
        self,
        owner: FakeUser,
        name: str,
        subreddits: list[str],
        *,
        display_name: str | None = None,
        description: str = "",
        visibility: str = "private",
    ) -> str:
        """A multireddit (custom feed) of ``owner`` gathering ``subreddits``; returns its
        path, ``/user/{owner}/m/{name}``."""
        path = f"/user/{owner.handle}/m/{name}"
        self.multis[(owner.id, name.lower())] = {
            "name": name,
            "display_name": display_name or name,
            "path": path,
            "owner": owner.handle,
            "owner_id": owner.id,
            "description_md": description,
            "visibility": visibility,
            "subreddits": list(subreddits),
            "created_utc": self._now(),
        }
        return path

    def ratelimit_next(self, minutes: int = 5) -> None:
        """The next submit or comment is refused with Reddit's RATELIMIT body error."""
        self._ratelimited.append(minutes)

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        return {"rate_limit": UNLIMITED}

    def created_post(
        self, method: str, path: str, request_body: bytes, answer: Any, headers: Mapping[str, str]
    ) -> CreatedPost | None:
        """``POST /api/submit`` (and ``submit_gallery_post.json``): the link's fullname, or the
        id in the websocket URL of a media post; ``POST /api/comment``: the comment thing."""
        if method != "POST" or not isinstance(answer, dict):
            return None
        data = (answer.get("json") or {}).get("data")
        if not isinstance(data, dict):
            return None
        fields = request_fields(request_body)
        if path in ("/api/submit", "/api/submit_gallery_post.json"):
            if "name" in data or "id" in data:
                name = str(data.get("name") or data["id"])
                if not name.startswith("t3_"):
                    name = "t3_" + name
            elif "websocket_url" in data:
                name = "t3_" + str(data["websocket_url"]).rsplit("/", 1)[-1]
            else:
                return None
            return name, fields.get("title"), "post"
        if path == "/api/comment":
            things = data.get("things") or []
            if not things or not isinstance(things[0], dict):
                return None
            thing = things[0].get("data") or {}
            return str(thing.get("name")), thing.get("body"), "comment"
        return None

    def settings(self) -> dict[str, Any]:
        """A script app acting as the owner (password grant), posting to r/socialkit."""
        return {
            "base_url": self.base_url,
            "token_url": f"{self.base_url}/api/v1/access_token",
            "app_type": "script",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "username": self.owner.handle,
            "password": self.passwords[self.owner.id],
            "user_agent": self.user_agent,
            "subreddit": "socialkit",
            "store": MemoryStore(),
        }

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def _add(self, thing: _Thing) -> _Thing:
        self.things[thing.name] = thing
        return thing

    def _thing(self, name: str) -> _Thing:
        found = self.things.get(name)
        if found is None or found.deleted:
            raise KeyError(name)
        return found

    def submissions(self, user: FakeUser | None = None) -> list[str]:
        """Fullnames of ``user``'s (default: the owner's) live submissions, oldest first."""
        who = (user or self.owner).id
        return [
            t.name
            for t in self.things.values()
            if t.kind == "t3" and t.author.id == who and not t.deleted
        ]

    def publish_as(self, user: FakeUser, text: str, *, subreddit: str = "socialkit") -> str:
        """``user`` submits a self post (title, then body after a newline) in ``subreddit``."""
        title, _, body = text.partition("\n")
        self.clock.tick()
        thing = _Thing(
            "t3",
            self._new_id(),
            user,
            self._now(),
            subreddit=subreddit,
            title=title,
            body=body,
            is_self=True,
        )
        return self._add(thing).name

    def _notify(self, thing: _Thing, parent: _Thing) -> None:
        if parent.author.id == self.owner.id and thing.author.id != self.owner.id:
            thing.inbox_type = "post_reply" if parent.kind == "t3" else "comment_reply"

    def _comment(self, parent_name: str, user: FakeUser, text: str) -> _Thing:
        parent = self._thing(parent_name)
        link = parent.name if parent.kind == "t3" else parent.link
        self.clock.tick()
        comment = _Thing(
            "t1",
            self._new_id(),
            user,
            self._now(),
            subreddit=parent.subreddit,
            body=text,
            parent=parent.name,
            link=link,
        )
        self._notify(comment, parent)
        return self._add(comment)

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        return self._comment(post_id, user, text).name

    def mention(self, user: FakeUser, text: str) -> str:
        if f"u/{self.owner.handle}" not in text:
            text = f"u/{self.owner.handle} {text}"
        post = self.publish_as(user, "a thread")
        comment = self._comment(post, user, text)
        comment.inbox_type = "username_mention"
        return comment.name

    def direct(self, user: FakeUser, text: str) -> str:
        self.clock.tick()
        message = _Thing(
            "t4",
            self._new_id(),
            user,
            self._now(),
            title="a message",
            body=text,
            parent=self.owner.id,
        )
        return self._add(message).name

    def like(self, post_id: str, user: FakeUser) -> None:
        self._thing(post_id).votes[user.id] = 1

    def repost(self, post_id: str, user: FakeUser) -> None:
        self.quote(post_id, user, "crosspost")

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        original = self._thing(post_id)
        self.clock.tick()
        thing = _Thing(
            "t3",
            self._new_id(),
            user,
            self._now(),
            subreddit="socialkit",
            title=text,
            crosspost_parent=original.name,
        )
        return self._add(thing).name

    def follow(self, follower: FakeUser, followee: FakeUser) -> None:
        """``follower`` subscribes to ``followee``'s profile."""
        self.follows.add((follower.id, followee.id))
        followee.followers = sum(1 for _, b in self.follows if b == followee.id)

    RELATIONS: ClassVar[frozenset[str]] = frozenset({"like", "bookmark", "follow", "block"})

    def has(self, relation: str, subject: str, target: str) -> bool:
        """``like``: ``subject`` upvoted ``target``; ``bookmark``: ``subject`` saved it;
        ``follow`` / ``block``: ``subject`` follows / blocks user ``target``."""
        if relation == "follow":
            return (subject, target) in self.follows
        if relation == "block":
            return (subject, target) in self.blocks
        try:
            thing = self._thing(target if target[:1] == "t" else f"t3_{target}")
        except KeyError:
            return False
        if relation == "like":
            return thing.votes.get(subject) == 1
        if relation == "bookmark":
            return subject in thing.saved
        raise NotImplementedError(f"Reddit has no {relation} relation here")

    # -- rendering -------------------------------------------------------------------------

    def _render(self, thing: _Thing, viewer: FakeUser | None = None) -> dict[str, Any]:
        score = 1 + sum(thing.votes.values())
        base: dict[str, Any] = {
            "id": thing.id,
            "name": thing.name,
            "author": thing.author.handle,
            "author_fullname": thing.author.id,
            "created_utc": thing.created,
            "created": thing.created,
        }
        if thing.kind == "t3":
            comments = [
                t
                for t in self.things.values()
                if t.kind == "t1" and t.link == thing.name and not t.deleted
            ]
            sub = self.subreddits.get((thing.subreddit or "").lower(), {"name": thing.subreddit})
            data = {
                **base,
                "title": thing.title,
                "selftext": thing.body,
                "subreddit": sub["name"],
                "subreddit_name_prefixed": f"r/{sub['name']}",
                "permalink": f"/r/{sub['name']}/comments/{thing.id}/post/",
                "url": thing.url or f"https://www.reddit.com/r/{sub['name']}/comments/{thing.id}/",
                "score": score,
                "ups": score,
                "upvote_ratio": 1.0,
                "num_comments": len(comments),
                "over_18": thing.nsfw,
                "spoiler": thing.spoiler,
                "is_self": thing.is_self,
                "is_video": thing.is_video,
                "link_flair_text": thing.flair,
                "saved": viewer is not None and viewer.id in thing.saved,
                "likes": (thing.votes.get(viewer.id) == 1) if viewer else None,
            }
            if thing.post_hint:
                data["post_hint"] = thing.post_hint
                data["preview"] = {
                    "images": [{"source": {"url": thing.url, "width": 1, "height": 1}}]
                }
            if thing.crosspost_parent:
                data["crosspost_parent"] = thing.crosspost_parent
            if thing.gallery:
                data["is_gallery"] = True
                data["gallery_data"] = {
                    "items": [
                        {"media_id": g["asset_id"], "id": i, "caption": g["caption"]}
                        for i, g in enumerate(thing.gallery)
                    ]
                }
                data["media_metadata"] = {
                    g["asset_id"]: {
                        "status": "valid",
                        "e": "Image",
                        "m": g["mimetype"],
                        "s": {"u": g["url"], "x": 1, "y": 1},
                    }
                    for g in thing.gallery
                }
            if thing.video is not None:
                data["media"] = {"reddit_video": thing.video}
            return data
        if thing.kind == "t1":
            link = self.things.get(thing.link or "")
            data = {
                **base,
                "body": thing.body,
                "parent_id": thing.parent,
                "link_id": thing.link,
                "subreddit": thing.subreddit,
                "score": score,
                "permalink": (
                    f"/r/{thing.subreddit}/comments/{link.id if link else ''}/post/{thing.id}/"
                ),
            }
            if thing.inbox_type is not None:
                data.update(
                    was_comment=True,
                    type=thing.inbox_type,
                    context=data["permalink"] + "?context=3",
                    subject=thing.inbox_type.replace("_", " "),
                )
            return data
        return {**base, "body": thing.body, "subject": thing.title, "was_comment": False}

    def _listing(
        self, things: list[_Thing], params: dict[str, str], viewer: FakeUser | None
    ) -> dict[str, Any]:
        ordered = sorted(things, key=lambda t: (t.created, t.id), reverse=True)
        after = params.get("after")
        if after:
            names = [t.name for t in ordered]
            if after in names:
                ordered = ordered[names.index(after) + 1 :]
        limit = max(1, min(100, int(params.get("limit") or 25)))
        page = ordered[:limit]
        return {
            "kind": "Listing",
            "data": {
                "after": page[-1].name if len(ordered) > limit else None,
                "before": None,
                "dist": len(page),
                "children": [{"kind": t.kind, "data": self._render(t, viewer)} for t in page],
            },
        }

    # -- the app ------------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            api = [
                ("GET", "/api/v1/me", self._me),
                ("GET", "/api/info", self._info),
                ("GET", "/api/user_data_by_account_ids", self._by_ids),
                ("GET", "/user/{name}/about", self._about),
                ("GET", "/user/{name}/submitted", self._submitted),
                ("GET", "/user/{name}/comments", self._comments),
                ("GET", "/message/inbox", self._inbox),
                ("GET", "/best", self._best),
                ("GET", "/api/multi/mine", self._multi_mine),
                ("GET", "/user/{name}/m/{multi}/new", self._multi_new),
                ("GET", "/search", self._search),
                ("GET", "/r/{sr}/search", self._search),
                ("POST", "/api/submit", self._submit),
                ("POST", "/api/submit_gallery_post.json", self._gallery),
                ("POST", "/api/media/asset.json", self._lease),
                ("POST", "/api/comment", self._comment_endpoint),
                ("POST", "/api/editusertext", self._edit),
                ("POST", "/api/del", self._delete),
                ("POST", "/api/vote", self._vote),
                ("POST", "/api/save", self._save),
                ("POST", "/api/unsave", self._unsave),
                ("POST", "/api/subscribe", self._subscribe),
                ("POST", "/api/block_user", self._block),
                ("POST", "/api/unfriend", self._unfriend),
            ]
            routes = [Route(path, self._wrap(handler), methods=[m]) for m, path, handler in api]
            routes.append(Route("/api/v1/access_token", self._token, methods=["POST"]))
            routes.append(
                Route(
                    "/api/v1/authorize",
                    lambda request: self.codes.authorize(request.query_params, self.owner.id),
                    methods=["GET"],
                )
            )
            routes.append(Route("/_media", self._storage, methods=["POST"]))
            self._app = Starlette(routes=routes)
        return self._app

    def _wrap(self, handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            headers: dict[str, str] = {}
            try:
                agent = request.headers.get("user-agent", "")
                if not _UA.fullmatch(agent):
                    raise _status(429, "Too Many Requests")
                auth = request.headers.get("authorization", "")
                user_id = self.tokens.get(auth[7:]) if auth.lower().startswith("bearer ") else None
                if user_id is None:
                    raise _status(401, "Unauthorized")
                allowed, remaining, reset = self.limiter.hit(user_id)
                used = self.limiter.limit - remaining
                headers = {
                    "x-ratelimit-used": str(used),
                    "x-ratelimit-remaining": f"{float(remaining):.1f}",
                    "x-ratelimit-reset": str(max(0, int(reset - time.time()))),
                }
                if not allowed:
                    raise _Error(429, {"message": "Too Many Requests", "error": 429}, headers)
                params = dict(request.query_params)
                if request.method == "POST":
                    kind = request.headers.get("content-type", "").split(";")[0].strip()
                    if kind == "application/json":
                        body = json.loads(await request.body() or b"{}")
                        params.update(body if isinstance(body, dict) else {})
                    else:
                        form = await request.form()
                        params.update({k: str(v) for k, v in form.items()})
                params.update(request.path_params)
                status, answer = await handler(params, self.users[user_id])
            except _Error as exc:
                return JSONResponse(
                    exc.body, status_code=exc.status, headers={**headers, **exc.headers}
                )
            return JSONResponse(answer, status_code=status, headers=headers)

        return endpoint

    async def _token(self, request: Request) -> Response:
        auth = request.headers.get("authorization", "")
        try:
            client, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            client, secret = "", ""
        if not auth.lower().startswith("basic ") or client != self.client_id:
            return JSONResponse({"message": "Unauthorized", "error": 401}, status_code=401)
        form = await request.form()
        grant = form.get("grant_type")
        user: FakeUser | None = None
        if grant == "password":
            if secret != self.client_secret:
                return JSONResponse({"message": "Unauthorized", "error": 401}, status_code=401)
            for candidate in self.users.values():
                if candidate.handle == form.get("username"):
                    user = candidate
            if user is None or self.passwords.get(user.id) != form.get("password"):
                # Reddit answers a wrong password with 200 and an error.
                return JSONResponse({"error": "invalid_grant"})
        elif grant == "authorization_code":
            # A web app's secret, or an installed app's empty one.
            code = self.codes.redeem({k: str(v) for k, v in form.items()}, client)
            if secret not in (self.client_secret, "") or code is None:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            user = self.users[code.user_id]
            token = secrets.token_urlsafe(24)
            self.tokens[token] = user.id
            return JSONResponse(
                {
                    "access_token": token,
                    "token_type": "bearer",
                    "expires_in": 86400,
                    "scope": code.scope or "*",
                    "refresh_token": self.refresh_token_for(user),
                }
            )
        elif grant == "refresh_token":
            owner = self.refresh_tokens.get(str(form.get("refresh_token")))
            user = self.users.get(owner) if owner else None
            if user is None:
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
        else:
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        token = secrets.token_urlsafe(24)
        self.tokens[token] = user.id
        return JSONResponse(
            {"access_token": token, "token_type": "bearer", "expires_in": 86400, "scope": "*"}
        )

    def refresh_token_for(self, user: FakeUser | None = None) -> str:
        """A refresh token of ``user`` (an installed or web app's login)."""
        token = secrets.token_urlsafe(24)
        self.refresh_tokens[token] = (user or self.owner).id
        return token

    # -- endpoints ------------------------------------------------------------------------------

    async def _me(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        return 200, self._account(viewer)

    def _account(self, user: FakeUser) -> dict[str, Any]:
        karma = sum(sum(t.votes.values()) for t in self.things.values() if t.author.id == user.id)
        return {
            "id": user.id[3:],
            "name": user.handle,
            "icon_img": f"https://styles.redditmedia.com/{user.handle}.png",
            "total_karma": karma,
            "link_karma": karma,
            "comment_karma": 0,
            "created_utc": 1500000000.0,
            "subreddit": {"display_name": f"u_{user.handle}", "subscribers": user.followers},
        }

    def _user_named(self, name: str) -> FakeUser:
        for user in self.users.values():
            if user.handle.lower() == name.lower():
                return user
        raise _status(404, "Not Found")

    async def _about(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        return 200, {"kind": "t2", "data": self._account(self._user_named(params["name"]))}

    async def _by_ids(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        found = {}
        for wanted in str(params.get("ids", "")).split(","):
            user = self.users.get(wanted)
            if user is not None:
                found[wanted] = {"name": user.handle, "created_utc": 1500000000.0}
        return 200, found

    async def _info(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        names = [n for n in str(params.get("id", "")).split(",") if n]
        if len(names) > 100:
            raise _status(400, "too many ids")
        things = [self.things[n] for n in names if n in self.things and not self.things[n].deleted]
        return 200, self._listing(things, {"limit": "100"}, viewer)

    async def _submitted(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        user = self._user_named(params["name"])
        things = [
            t
            for t in self.things.values()
            if t.kind == "t3" and t.author.id == user.id and not t.deleted
        ]
        return 200, self._listing(things, params, viewer)

    async def _comments(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        user = self._user_named(params["name"])
        things = [
            t
            for t in self.things.values()
            if t.kind == "t1" and t.author.id == user.id and not t.deleted
        ]
        return 200, self._listing(things, params, viewer)

    async def _inbox(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        things = [
            t
            for t in self.things.values()
            if not t.deleted
            and (
                (t.kind == "t1" and t.inbox_type is not None and t.author.id != viewer.id)
                or (t.kind == "t4" and t.parent == viewer.id)
            )
        ]
        return 200, self._listing(things, params, viewer)

    async def _best(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        """``GET /best`` (https://www.reddit.com/dev/api#GET_best): the front page, here the
        posts of the joined subreddits and of the followed profiles (newest first)."""
        followed = {b for a, b in self.follows if a == viewer.id}
        joined = {sr for user, sr in self.joined if user == viewer.id}
        things = [
            t
            for t in self.things.values()
            if t.kind == "t3"
            and not t.deleted
            and (t.author.id in followed or (t.subreddit or "").lower() in joined)
        ]
        return 200, self._listing(things, params, viewer)

    def _render_multi(self, multi: dict[str, Any]) -> dict[str, Any]:
        # LabeledMulti (https://www.reddit.com/dev/api#GET_api_multi_mine, PRAW's Multireddit
        # attributes: https://praw.readthedocs.io/en/stable/code_overview/models/multireddit.html)
        data = {k: v for k, v in multi.items() if k != "owner_id"}
        data["subreddits"] = [{"name": name} for name in multi["subreddits"]]
        data["description_html"] = ""
        data["can_edit"] = True
        data["over_18"] = False
        data["copied_from"] = None
        return {"kind": "LabeledMulti", "data": data}

    async def _multi_mine(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        """``GET /api/multi/mine``: the viewer's multireddits, a JSON array."""
        mine = [m for (owner, _), m in self.multis.items() if owner == viewer.id]
        return 200, [self._render_multi(m) for m in mine]

    async def _multi_new(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        """``GET /user/{username}/m/{multiname}/new``: the multi's submissions, newest first;
        another user's private multi is 403."""
        owner = self._user_named(params["name"])
        multi = self.multis.get((owner.id, str(params["multi"]).lower()))
        if multi is None:
            raise _status(404, "Not Found")
        if multi["visibility"] == "private" and owner.id != viewer.id:
            raise _status(403, "Forbidden")
        members = {name.lower() for name in multi["subreddits"]}
        things = [
            t
            for t in self.things.values()
            if t.kind == "t3" and not t.deleted and (t.subreddit or "").lower() in members
        ]
        return 200, self._listing(things, params, viewer)

    async def _search(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        words = [w.lower() for w in str(params.get("q", "")).split()]
        if not words:
            raise _status(400, "Bad Request")
        sr = params.get("sr")
        things = [
            t
            for t in self.things.values()
            if t.kind == "t3"
            and not t.deleted
            and all(w in f"{t.title} {t.body}".lower() for w in words)
            and (sr is None or (t.subreddit or "").lower() == str(sr).lower())
        ]
        return 200, self._listing(things, params, viewer)

    def _json_errors(self, *errors: list[str]) -> tuple[int, Any]:
        return 200, {"json": {"errors": [list(e) for e in errors]}}

    def _check_ratelimit(self) -> tuple[int, Any] | None:
        if self._ratelimited:
            minutes = self._ratelimited.pop(0)
            return self._json_errors(
                [
                    "RATELIMIT",
                    f"Looks like you've been doing that a lot. Take a break for {minutes:g} "
                    "minutes before trying again.",
                    "ratelimit",
                ]
            )
        return None

    def _common(self, params: dict[str, Any]) -> tuple[dict[str, Any], tuple[int, Any] | None]:
        sr = self.subreddits.get(str(params.get("sr", "")).lower())
        if sr is None:
            return {}, self._json_errors(
                ["SUBREDDIT_NOEXIST", "that subreddit doesn't exist", "sr"]
            )
        title = str(params.get("title") or "")
        if not title.strip():
            return sr, self._json_errors(["NO_TEXT", "we need something here", "title"])
        if len(title) > 300:
            return sr, self._json_errors(["TOO_LONG", "this is too long (max: 300)", "title"])
        flair = params.get("flair_id")
        if flair and flair not in sr["flairs"]:
            return sr, self._json_errors(
                ["BAD_FLAIR_TEMPLATE_ID", "that flair doesn't exist", "flair"]
            )
        return sr, None

    @staticmethod
    def _true(value: Any) -> bool:
        return value is True or str(value).lower() in ("true", "1", "on")

    async def _submit(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        limited = self._check_ratelimit()
        if limited is not None:
            return limited
        sr, problem = self._common(params)
        if problem is not None:
            return problem
        kind = params.get("kind")
        self.clock.tick()
        thing = _Thing(
            "t3",
            self._new_id(),
            viewer,
            self._now(),
            subreddit=sr["name"],
            title=str(params["title"]),
            nsfw=self._true(params.get("nsfw")),
            spoiler=self._true(params.get("spoiler")),
            flair=params.get("flair_text") or sr["flairs"].get(params.get("flair_id") or ""),
        )
        websocket = False
        if kind == "self":
            text = str(params.get("text") or "")
            if len(text) > 40000:
                return self._json_errors(["TOO_LONG", "this is too long (max: 40000)", "text"])
            thing.body, thing.is_self = text, True
        elif kind == "link":
            if not str(params.get("url", "")).startswith(("http://", "https://")):
                return self._json_errors(["BAD_URL", "you should check that url", "url"])
            thing.url = str(params["url"])
        elif kind in ("image", "video", "videogif"):
            asset = self._asset_by_url(str(params.get("url", "")))
            if asset is None:
                return self._json_errors(["BAD_URL", "you should check that url", "url"])
            websocket = True
            if kind == "image":
                thing.url, thing.post_hint = asset["public"], "image"
            else:
                if not params.get("video_poster_url"):
                    return self._json_errors(
                        ["NO_VIDEO_POSTER", "a poster is needed", "video_poster_url"]
                    )
                thing.is_video = True
                thing.video = {
                    "fallback_url": asset["public"],
                    "width": 1,
                    "height": 1,
                    "duration": 1,
                    "is_gif": kind == "videogif",
                    "transcoding_status": "completed",
                }
                thing.post_hint = "hosted:video"
                thing.url = asset["public"]
        elif kind == "crosspost":
            try:
                original = self._thing(str(params.get("crosspost_fullname")))
            except KeyError:
                return self._json_errors(
                    ["INVALID_CROSSPOST_THING", "that post doesn't exist", "crosspost_fullname"]
                )
            thing.crosspost_parent = original.name
            thing.url = f"https://www.reddit.com/r/{original.subreddit}/comments/{original.id}/"
        else:
            return self._json_errors(["INVALID_OPTION", "that option is not valid", "kind"])
        self._add(thing)
        if websocket:
            return 200, {
                "json": {
                    "errors": [],
                    "data": {
                        "user_submitted_page": f"https://www.reddit.com/user/{viewer.handle}/submitted/",
                        "websocket_url": f"wss://ws.redditmedia.fake/rte_images/{thing.id}",
                    },
                }
            }
        url = f"https://www.reddit.com/r/{sr['name']}/comments/{thing.id}/post/"
        return 200, {
            "json": {
                "errors": [],
                "data": {"url": url, "drafts_count": 0, "id": thing.id, "name": thing.name},
            }
        }

    async def _gallery(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        limited = self._check_ratelimit()
        if limited is not None:
            return limited
        sr, problem = self._common(params)
        if problem is not None:
            return problem
        items = params.get("items")
        if not isinstance(items, list) or not 2 <= len(items) <= 20:
            return self._json_errors(["BAD_GALLERY", "a gallery holds 2-20 images", "items"])
        gallery = []
        for item in items:
            asset = self.assets.get(str(item.get("media_id")))
            if asset is None or not asset["uploaded"]:
                return self._json_errors(["MEDIA_NOT_FOUND", "media not found", "items"])
            caption = str(item.get("caption") or "")
            if len(caption) > 180:
                return self._json_errors(["TOO_LONG", "caption too long (max: 180)", "caption"])
            gallery.append({**asset, "caption": caption, "url": asset["public"]})
        self.clock.tick()
        thing = _Thing(
            "t3",
            self._new_id(),
            viewer,
            self._now(),
            subreddit=sr["name"],
            title=str(params["title"]),
            nsfw=self._true(params.get("nsfw")),
            spoiler=self._true(params.get("spoiler")),
            gallery=gallery,
            flair=params.get("flair_text"),
        )
        thing.url = f"https://www.reddit.com/gallery/{thing.id}"
        self._add(thing)
        return 200, {"json": {"errors": [], "data": {"url": thing.url, "id": thing.name}}}

    def _asset_by_url(self, url: str) -> dict[str, Any] | None:
        for asset in self.assets.values():
            if asset["uploaded"] and asset["location"] == url:
                return asset
        return None

    async def _lease(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        filepath = str(params.get("filepath") or "")
        mimetype = str(params.get("mimetype") or "")
        if not filepath or mimetype not in (
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "video/mp4",
            "video/quicktime",
        ):
            raise _Error(
                400, {"json": {"errors": [["INVALID_MIMETYPE", "unsupported", "mimetype"]]}}
            )
        asset_id = self._new_id()
        key = f"rte_images/{asset_id}/{quote(filepath)}"
        ext = filepath.rsplit(".", 1)[-1] if "." in filepath else "bin"
        self.assets[asset_id] = {
            "asset_id": asset_id,
            "key": key,
            "mimetype": mimetype,
            "uploaded": False,
            "location": f"{self.base_url}/_media/{key}",
            "public": f"https://i.redd.it/{asset_id}.{ext}",
        }
        action = self.base_url + "/_media"
        if action.startswith("https:"):
            action = action[len("https:") :]  # Reddit answers a scheme-relative URL
        return 200, {
            "args": {
                "action": action,
                "fields": [
                    {"name": "acl", "value": "private"},
                    {"name": "key", "value": key},
                    {"name": "Content-Type", "value": mimetype},
                    {"name": "x-amz-meta-ext", "value": ext},
                ],
            },
            "asset": {
                "asset_id": asset_id,
                "processing_state": "incomplete",
                "payload": {"filepath": filepath},
                "websocket_url": f"wss://ws.redditmedia.fake/rte_images/{asset_id}",
            },
        }

    async def _storage(self, request: Request) -> Response:
        form = await request.form()
        key = str(form.get("key") or "")
        upload = form.get("file")
        asset = next((a for a in self.assets.values() if a["key"] == key), None)
        if asset is None or not isinstance(upload, UploadFile):
            return Response(
                "<Error><Code>AccessDenied</Code></Error>",
                status_code=403,
                media_type="application/xml",
            )
        data = await upload.read()
        if not data:
            return Response(
                "<Error><Code>EntityTooSmall</Code></Error>",
                status_code=400,
                media_type="application/xml",
            )
        asset["uploaded"] = True
        asset["size"] = len(data)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n<PostResponse>'
            f"<Location>{asset['location']}</Location><Bucket>reddit-uploaded-media</Bucket>"
            f'<Key>{key}</Key><ETag>"{secrets.token_hex(8)}"</ETag></PostResponse>'
        )
        return Response(body, status_code=201, media_type="application/xml")

    async def _comment_endpoint(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        limited = self._check_ratelimit()
        if limited is not None:
            return limited
        text = str(params.get("text") or "")
        if not text.strip():
            return self._json_errors(["NO_TEXT", "we need something here", "text"])
        target = str(params.get("thing_id") or "")
        try:
            parent = self._thing(target)
        except KeyError:
            return self._json_errors(["DELETED_COMMENT", "that comment has been deleted", "parent"])
        if parent.kind == "t4":
            self.clock.tick()
            answer = self._add(
                _Thing(
                    "t4",
                    self._new_id(),
                    viewer,
                    self._now(),
                    title="re: " + parent.title,
                    body=text,
                    parent=parent.author.id,
                )
            )
        else:
            answer = self._comment(target, viewer, text)
        return 200, {
            "json": {
                "errors": [],
                "data": {"things": [{"kind": answer.kind, "data": self._render(answer, viewer)}]},
            }
        }

    async def _edit(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        try:
            thing = self._thing(str(params.get("thing_id")))
        except KeyError:
            raise _status(404, "Not Found") from None
        if thing.author.id != viewer.id or (thing.kind == "t3" and not thing.is_self):
            raise _status(403, "Forbidden")
        thing.body = str(params.get("text") or "")
        return 200, {
            "json": {
                "errors": [],
                "data": {"things": [{"kind": thing.kind, "data": self._render(thing, viewer)}]},
            }
        }

    async def _delete(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        thing = self.things.get(str(params.get("id")))
        if thing is not None and thing.author.id == viewer.id:
            thing.deleted = True
        return 200, {}

    async def _vote(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        try:
            thing = self._thing(str(params.get("id")))
        except KeyError:
            raise _status(400, "Bad Request") from None
        direction = int(params.get("dir", 0))
        if direction == 0:
            thing.votes.pop(viewer.id, None)
        else:
            thing.votes[viewer.id] = 1 if direction > 0 else -1
        return 200, {}

    async def _save(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        try:
            self._thing(str(params.get("id"))).saved.add(viewer.id)
        except KeyError:
            raise _status(400, "Bad Request") from None
        return 200, {}

    async def _subscribe(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        name = str(params.get("sr_name") or "")
        if not name.startswith("u_") or params.get("action") not in ("sub", "unsub"):
            raise _status(400, "Bad Request")
        user = self._user_named(name[2:])
        if params["action"] == "sub":
            self.follow(viewer, user)
        else:
            self.follows.discard((viewer.id, user.id))
            user.followers = sum(1 for _, b in self.follows if b == user.id)
        return 200, {}

    async def _block(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        user = self._user_named(str(params.get("name") or ""))
        self.blocks.add((viewer.id, user.id))
        return 200, {}

    async def _unfriend(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        if params.get("type") != "enemy" or params.get("container") != viewer.id:
            raise _status(400, "Bad Request")
        user = self._user_named(str(params.get("name") or ""))
        self.blocks.discard((viewer.id, user.id))
        return 200, {}

    async def _unsave(self, params: dict[str, Any], viewer: FakeUser) -> tuple[int, Any]:
        try:
            self._thing(str(params.get("id"))).saved.discard(viewer.id)
        except KeyError:
            raise _status(400, "Bad Request") from None
        return 200, {}
