"""``FakeInstagram``: a stateful, in-process Instagram professional account (Instagram Graph
API) for tests and the demo.

It serves what :class:`socialkit.adapters.meta.InstagramAdapter` calls, with the shapes of
Meta's Graph API specs (``IGUser``, ``IGMedia``, ``IGComment``, ``ShadowIGMediaBuilder`` for
containers, ``ShadowIGHashtag``)::

    fake = FakeInstagram()
    async with fake.connect() as ig:              # the real InstagramAdapter
        posted = await ig.publish(Post(text="hi", media=[Media.from_url(url, alt="a cat")]))
    fan = fake.add_user("fan")
    fake.reply(posted.id, fan, "so cute")         # a comment, in messages()

What it imitates (``docs/fakes/instagram.md``): containers (``POST /{ig-user}/media`` for
images by URL, reels by URL or resumable upload to ``/ig-api-upload/{version}/{container}``,
carousel items and carousels of up to 10), their ``status_code`` (IN_PROGRESS, then FINISHED;
ERROR and EXPIRED on demand), ``media_publish`` (a container publishes once; PUBLISHED after),
``content_publishing_limit`` (100 posts per 24 hours), media reads with ``children``, comments
and replies (``hide``), ``/tags`` (mentions), media and account insights, hashtag search and
``recent_media``, business discovery, usage headers and Graph error codes.

Both logins: Facebook Login (the Page admin approves; ``/me/accounts`` gives the Page token)
and Instagram Login (:meth:`FakeInstagram.instagram_login_settings`: the account itself
approves at ``/oauth/authorize``; ``POST /oauth/access_token`` answers as Business Login for
Instagram documents, ``{"data": [{access_token, user_id, permissions}]}`` with an app-scoped
``user_id``; ``GET /access_token`` and ``/refresh_access_token`` take the ``ig_`` grants;
``GET /me?fields=user_id`` gives the account id).
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qsl

from socialkit.testing.fakes._base import FakeUser
from socialkit.testing.fakes._graph import (
    GraphError,
    GraphFake,
    GraphObject,
    GraphRequest,
    Handler,
    bad_param,
    insight,
    iso,
    metric_names,
    parse_fields,
    project,
    require,
)
from socialkit.testing.fakes._oauth import CodeGrants

if TYPE_CHECKING:
    from starlette.responses import Response

__all__ = ["FakeInstagram"]

_USER = frozenset(
    {
        "id",
        "username",
        "name",
        "biography",
        "followers_count",
        "follows_count",
        "media_count",
        "profile_picture_url",
        "website",
        "ig_id",
        "user_id",  # graph.instagram.com's (IGUserForIGOnlyAPI): the account id the calls take
        "business_discovery",
        "media",
        "tags",
    }
)
_MEDIA = frozenset(
    {
        "id",
        "caption",
        "media_type",
        "media_product_type",
        "media_url",
        "permalink",
        "thumbnail_url",
        "timestamp",
        "username",
        "alt_text",
        "like_count",
        "comments_count",
        "children",
        "owner",
        "shortcode",
        "comments",
        "insights",
        "is_comment_enabled",
    }
)
_COMMENT = frozenset(
    {
        "id",
        "text",
        "timestamp",
        "username",
        "from",
        "parent_id",
        "hidden",
        "media",
        "like_count",
        "replies",
        "user",
    }
)
_CONTAINER = frozenset({"id", "status", "status_code", "video_status", "copyright_check_status"})
_MEDIA_METRICS = frozenset(
    {
        "views",
        "reach",
        "saved",
        "shares",
        "likes",
        "comments",
        "total_interactions",
        "profile_visits",
        "follows",
    }
)
_ACCOUNT_METRICS = frozenset(
    {
        "reach",
        "views",
        "accounts_engaged",
        "total_interactions",
        "profile_links_taps",
        "follows_and_unfollows",
        "follower_count",
        "likes",
        "comments",
        "shares",
        "saves",
    }
)
#: Posts a professional account may publish per rolling 24 hours.
PUBLISHING_LIMIT = 100


class FakeInstagram(GraphFake):
    """An Instagram professional account on a fake Graph API. The owner is the account."""

    name: ClassVar[str] = "instagram"
    default_base_url: ClassVar[str] = "https://graph.instagram-fake.example"
    METADATA_TYPES: ClassVar[dict[str, str]] = {
        "IGUser": "user",
        "IGMedia": "media",
        "IGComment": "comment",
    }
    NODE_FIELDS: ClassVar[dict[str, frozenset[str]]] = {
        "IGUser": _USER,
        "IGMedia": _MEDIA,
        "IGComment": _COMMENT,
        "ShadowIGMediaBuilder": _CONTAINER,
        "ShadowIGHashtag": frozenset({"id", "name"}),
        "User": frozenset({"id", "name"}),
    }

    CREATE_EDGES: ClassVar[frozenset[str]] = frozenset({"media_publish"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: Views and saves each media got (insights).
        self.views: dict[str, int] = {}
        self.saves: dict[str, int] = {}
        #: Bytes uploaded resumably, per container.
        self.uploads: dict[str, bytes] = {}
        #: The Facebook user who manages the Page linked to the account: Facebook Login's
        #: user (``/me/accounts`` lists the Page, its token and ``instagram_business_account``).
        self.admin = super().add_user("page_admin", name="Page Admin")
        self.put(GraphObject(self.admin.id, "User", {}, self.admin.id, self.clock.now()))
        self.page_id = self.new_id()
        #: Instagram Login's app credentials (the app's Instagram App ID and secret, which
        #: are not the Meta app's), and the codes of its authorization window (no PKCE).
        self.instagram_app_id = "1000000002"
        self.instagram_app_secret = "fake-instagram-app-secret"
        self.instagram_codes = CodeGrants(
            self.instagram_app_id, challenge=None, scope_separator=","
        )
        #: The tokens Instagram Login issued (their appsecret_proof uses its secret).
        self.instagram_tokens: set[str] = set()

    def login_user(self) -> FakeUser:
        """The Page's admin approves the login (Facebook Login)."""
        return self.admin

    def add_user(
        self, handle: str, *, name: str | None = None, followers: int = 0, following: int = 0
    ) -> FakeUser:
        user = super().add_user(handle, name=name, followers=followers, following=following)
        self.put(GraphObject(user.id, "IGUser", {}, user.id, self.clock.now()))
        return user

    def instagram_login_settings(self) -> dict[str, Any]:
        """The adapter's settings for Instagram Login against this fake (no token yet: log in
        with ``ex_authorization_url`` / ``ex_exchange_code``)."""
        from socialkit._store import MemoryStore

        return {
            "base_url": self.base_url,
            "upload_url": f"{self.base_url}/ig-api-upload",
            "instagram_login": True,
            "app_id": self.instagram_app_id,
            "app_secret": self.instagram_app_secret,
            "authorize_url": f"{self.base_url}/oauth/authorize",
            "token_url": f"{self.base_url}/oauth/access_token",
            "poll_interval": 0.0,
            "store": MemoryStore(),
        }

    def settings(self) -> dict[str, Any]:
        from socialkit._store import MemoryStore

        return {
            "base_url": self.base_url,
            "upload_url": f"{self.base_url}/ig-api-upload",
            "access_token": self.owner_token,
            "ig_user_id": self.owner.id,
            "app_id": self.app_id,
            "app_secret": self.app_secret,
            "authorize_url": self.base_url + self.authorize_path.format(version=self.version),
            "poll_interval": 0.0,
            "store": MemoryStore(),
        }

    # -- the audience --------------------------------------------------------------------------

    def _new_media(
        self, author: FakeUser, caption: str, items: list[dict[str, Any]], **data: Any
    ) -> GraphObject:
        media = self.put(
            GraphObject(
                self.new_id(),
                "IGMedia",
                {"caption": caption, "_items": items, **data},
                author.id,
                self.clock.tick(),
            )
        )
        return media

    def publish_as(self, user: FakeUser, text: str) -> str:
        url = f"https://cdn.fake.example/{self.next_id()}.jpg"
        return self._new_media(user, text, [{"media_type": "IMAGE", "media_url": url}]).id

    def like(self, post_id: str, user: FakeUser) -> None:
        self.get(post_id)
        self.relate("like", user.id, post_id)

    def repost(self, post_id: str, user: FakeUser) -> None:
        obj = self.get(post_id, "IGMedia")
        obj.data["shares"] = obj.data.get("shares", 0) + 1

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        target = self.get(post_id, "IGMedia", "IGComment")
        comment = self._comment(target, user, text)
        self._deliver(
            {
                "object": "instagram",
                "entry": [
                    {
                        "id": self.owner.id,
                        "time": int(comment.created.timestamp()),
                        "changes": [
                            {
                                "field": "comments",
                                "value": {
                                    "from": {"id": user.id, "username": user.handle},
                                    "media": {
                                        "id": comment.data["_media"],
                                        "media_product_type": "FEED",
                                    },
                                    "id": comment.id,
                                    "text": text,
                                },
                            }
                        ],
                    }
                ],
            }
        )
        return comment.id

    def _comment(self, target: GraphObject, author: FakeUser, text: str) -> GraphObject:
        media = target.data["_media"] if target.type == "IGComment" else target.id
        # "Replies to a reply will be added to the top-level comment" (IG Comment Replies).
        parent = (target.data.get("_parent") or target.id) if target.type == "IGComment" else None
        return self.put(
            GraphObject(
                self.new_id(),
                "IGComment",
                {
                    "text": text,
                    "_media": media,
                    "_parent": parent,
                    "hidden": False,
                    "_author": author.id,
                },
                author.id,
                self.clock.tick(),
            )
        )

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        """Instagram has no quotes; a post that tags the owner stands in."""
        return self.mention(user, text)

    def mention(self, user: FakeUser, text: str) -> str:
        """``user`` publishes media tagging the owner (``GET /{ig-user}/tags``)."""
        media = self._new_media(
            user,
            text,
            [
                {
                    "media_type": "IMAGE",
                    "media_url": f"https://cdn.fake.example/{self.next_id()}.jpg",
                }
            ],
        )
        media.data["_tags"] = [self.owner.id]
        return media.id

    def direct(self, user: FakeUser, text: str) -> str:
        raise NotImplementedError("FakeInstagram does not simulate Instagram messaging")

    def view(self, post_id: str, count: int) -> None:
        self.views[post_id] = self.views.get(post_id, 0) + count

    # -- rendering -----------------------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.users[user_id]
        return {
            "id": user.id,
            "user_id": int(user.id),
            "ig_id": int(user.id) % 10**10,
            "username": user.handle,
            "name": user.name,
            "biography": "",
            "followers_count": user.followers,
            "follows_count": user.following,
            "media_count": len(self.of_type("IGMedia", user.id)),
            "profile_picture_url": f"https://cdn.fake.example/avatar/{user.id}.jpg",
        }

    def _item(self, media: GraphObject, index: int, item: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": item.get("id") or f"{media.id}{index}",
            "media_type": item["media_type"],
            "media_url": item["media_url"],
            "timestamp": iso(media.created),
        }
        if item["media_type"] == "VIDEO":
            out["thumbnail_url"] = item["media_url"] + ".jpg"
        if item.get("alt_text"):
            out["alt_text"] = item["alt_text"]
        return out

    def _render(self, obj: GraphObject) -> dict[str, Any]:
        data = obj.data
        if obj.type == "IGUser":
            return self._user(obj.id)
        if obj.type == "IGMedia":
            items = data["_items"]
            author = self.users[obj.owner or self.owner.id]
            out: dict[str, Any] = {
                "id": obj.id,
                "caption": data.get("caption", ""),
                "media_product_type": data.get("media_product_type", "FEED"),
                "permalink": f"https://www.instagram.com/p/{obj.id}/",
                "shortcode": obj.id[-11:],
                "timestamp": iso(obj.created),
                "username": author.handle,
                "owner": {"id": author.id},
                "like_count": sum(1 for r in self._relations if r[0] == "like" and r[2] == obj.id),
                "comments_count": sum(
                    1 for c in self.of_type("IGComment") if c.data["_media"] == obj.id
                ),
                "is_comment_enabled": True,
            }
            if len(items) > 1:
                out["media_type"] = "CAROUSEL_ALBUM"
                out["media_url"] = items[0]["media_url"]
                out["children"] = {"data": [self._item(obj, i, it) for i, it in enumerate(items)]}
            else:
                first = self._item(obj, 0, items[0])
                out.update({k: v for k, v in first.items() if k not in ("id", "timestamp")})
            return out
        if obj.type == "IGComment":
            author = self.users[data["_author"]]
            out = {
                "id": obj.id,
                "text": data["text"],
                "timestamp": iso(obj.created),
                "username": author.handle,
                "from": {"id": author.id, "username": author.handle},
                "hidden": data.get("hidden", False),
                "media": {"id": data["_media"]},
                "like_count": 0,
            }
            if data.get("_parent"):
                out["parent_id"] = data["_parent"]
            return out
        if obj.type == "ShadowIGMediaBuilder":
            status = self.container_status(obj)
            data["_polls"] = data.get("_polls", 0) + 1
            out = {"id": obj.id, "status_code": status, "status": status.title()}
            if status == "ERROR":
                out["status"] = "Error: The media could not be processed (2207026)."
            return out
        return {"id": obj.id, "name": data.get("name")}

    # -- handlers ------------------------------------------------------------------------------

    def handlers(self) -> dict[tuple[str, str, str | None], Handler]:
        return {
            ("GET", "IGUser", None): self._read_user,
            ("GET", "IGMedia", None): self._read,
            ("GET", "IGComment", None): self._read,
            ("GET", "ShadowIGMediaBuilder", None): self._read,
            ("GET", "ShadowIGHashtag", None): self._read,
            ("POST", "IGUser", "media"): self._create_container,
            ("POST", "IGUser", "media_publish"): self._publish,
            ("GET", "IGUser", "content_publishing_limit"): self._limit,
            ("GET", "IGUser", "media"): self._media_list,
            ("GET", "IGUser", "tags"): self._tags,
            ("GET", "IGUser", "insights"): self._account_insights,
            ("GET", "IGMedia", "children"): self._children,
            ("GET", "IGMedia", "comments"): self._comments,
            ("POST", "IGMedia", "comments"): self._post_comment,
            ("GET", "IGMedia", "insights"): self._media_insights,
            ("DELETE", "IGMedia", None): self._delete,
            ("GET", "IGComment", "replies"): self._comments,
            ("POST", "IGComment", "replies"): self._post_comment,
            ("POST", "IGComment", None): self._hide,
            ("DELETE", "IGComment", None): self._delete,
            ("GET", "ShadowIGHashtag", "recent_media"): self._hashtag_media,
            ("GET", "ShadowIGHashtag", "top_media"): self._hashtag_media,
            ("GET", "root", "ig_hashtag_search"): self._hashtag_search,
            ("GET", "User", "accounts"): self._accounts,
        }

    def extra_route(self, method: str, path: str, request: Any, body: bytes) -> Any:
        prefix = f"/ig-api-upload/{self.version}/"
        if method == "POST" and path.startswith(prefix):
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            if scheme != "OAuth" or token not in self.tokens:
                raise GraphError(401, 190, "Invalid OAuth access token - Cannot parse access token")
            container = self.get(path[len(prefix) :], "ShadowIGMediaBuilder")
            # A request carries the bytes from ``offset`` on: the whole file at offset 0, or
            # more of it at an offset up to the bytes received so far (resuming an upload).
            received = self.uploads.get(container.id, b"")
            size, offset = request.headers.get("file_size"), request.headers.get("offset")
            if (
                size is None
                or offset is None
                or not size.isdigit()
                or not offset.isdigit()
                or int(offset) > len(received)
                or int(offset) + len(body) > int(size)
            ):
                raise GraphError(
                    400, 100, "(#100) offset and file_size headers must describe the body"
                )
            received = received[: int(offset)] + body
            self.uploads[container.id] = received
            if len(received) == int(size):
                container.data["_ready"] = True
            return {"success": True, "message": "Upload successful."}
        return None

    def secret_of(self, token: str) -> str:
        return self.instagram_app_secret if token in self.instagram_tokens else self.app_secret

    def login_route(self, path: str, request: Any, body: bytes) -> Response | None:
        """Instagram Login: the authorization window (``www.instagram.com/oauth/authorize``),
        the code exchange (``api.instagram.com/oauth/access_token``) and the ``ig_`` token
        grants (``graph.instagram.com/access_token``, ``/refresh_access_token``)."""
        from starlette.responses import JSONResponse

        method = request.method
        if method == "GET" and path == "/oauth/authorize":
            return self.instagram_codes.authorize(request.query_params, self.owner.id)
        if method == "GET" and path in ("/access_token", "/refresh_access_token"):
            params = dict(request.query_params)
            issued = self._long_lived(path, params, "ig", secret=self.instagram_app_secret)
            self.instagram_tokens.add(issued["access_token"])
            return JSONResponse(issued)
        if method != "POST" or path != "/oauth/access_token":
            return None
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        if form.get("client_id") != self.instagram_app_id or not hmac.compare_digest(
            form.get("client_secret", ""), self.instagram_app_secret
        ):
            return _instagram_error("Invalid client_secret: the app's Instagram App secret")
        grant = self.instagram_codes.redeem(form, self.instagram_app_id)
        if grant is None or form.get("grant_type") != "authorization_code":
            return _instagram_error("Matching code was not found or was already used")
        token = self._issue(grant.user_id, "short-lived", 3600)["access_token"]
        self.instagram_tokens.add(token)
        # The exchange's user_id is Instagram-scoped to the app, not the account id.
        scoped = str(10**16 + int(grant.user_id))
        return JSONResponse(
            {"data": [{"access_token": token, "user_id": scoped, "permissions": grant.scope}]}
        )

    def _accounts(self, request: GraphRequest) -> dict[str, Any]:
        """``GET /me/accounts`` of the admin: the Page, its token (which the account's calls
        accept) and the linked account."""
        if request.viewer != self.admin.id:
            raise bad_param("Tried accessing nonexisting field (accounts) on node type (IGUser)")
        row = {
            "id": self.page_id,
            "name": f"{self.owner.name} (Page)",
            "access_token": self.owner_token,
            "instagram_business_account": {"id": self.owner.id},
        }
        return self.page(request, [row])

    def _read(self, request: GraphRequest) -> dict[str, Any]:
        obj = self.get(request.node)
        return self.read(request, obj, self._render(obj))

    def _read_user(self, request: GraphRequest) -> dict[str, Any]:
        obj = self.get(request.node, "IGUser")
        specs = request.fields()
        value = self._render(obj)
        for spec in specs or []:
            if spec.name == "business_discovery":
                username = spec.modifiers.get("username")
                if not username:
                    raise bad_param("business_discovery needs .username(name)")
                other = next((u for u in self.users.values() if u.handle == username), None)
                if other is None:
                    raise GraphError(
                        400, 110, f"Invalid user id (#110) for username {username}", subcode=2207013
                    )
                found = self._user(other.id)
                media = [self._render(m) for m in self.of_type("IGMedia", other.id)]
                found["media"] = {"data": media}
                value["business_discovery"] = found
        return self.read(request, obj, value)

    def _owner_only(self, request: GraphRequest) -> None:
        if request.viewer != request.node and request.viewer != self.owner.id:
            raise GraphError(403, 10, "(#10) Application does not have permission for this action")

    def _create_container(self, request: GraphRequest) -> dict[str, Any]:
        self._owner_only(request)
        params = request.params
        kind = params.get("media_type", "IMAGE")
        data: dict[str, Any] = {
            "caption": params.get("caption", ""),
            "_carousel_item": request.flag("is_carousel_item", False),
        }
        if len(data["caption"]) > 2200:
            raise GraphError(400, 100, "(#100) The caption is too long", subcode=2207010)
        if kind == "CAROUSEL":
            require(params, "children")
            children = params["children"].split(",")
            if not 2 <= len(children) <= 10:
                raise bad_param("A carousel has 2 to 10 children")
            items = []
            for child_id in children:
                child = self.get(child_id, "ShadowIGMediaBuilder")
                if (
                    not child.data.get("_carousel_item")
                    or self.container_status(child) != "FINISHED"
                ):
                    raise GraphError(400, 9007, "Media ID is not available", subcode=2207027)
                items.extend(child.data["_items"])
            data["_items"] = items
        elif kind == "IMAGE":
            require(params, "image_url")
            data["_items"] = [
                {
                    "media_type": "IMAGE",
                    "media_url": params["image_url"],
                    "alt_text": params.get("alt_text"),
                }
            ]
        elif kind in ("VIDEO", "REELS"):
            if params.get("upload_type") == "resumable":
                url = f"https://cdn.fake.example/reel/{self.next_id()}.mp4"
                data["_ready"] = False
            else:
                require(params, "video_url")
                url = params["video_url"]
            data["_items"] = [
                {"media_type": "VIDEO", "media_url": url, "alt_text": params.get("alt_text")}
            ]
            data["media_product_type"] = "REELS" if kind == "REELS" else "FEED"
        else:
            raise bad_param(
                "Param media_type must be one of IMAGE, VIDEO, REELS, CAROUSEL, STORIES"
            )
        container = self.new_container("ShadowIGMediaBuilder", data, request.node)
        if data.get("_ready") is False:
            return {
                "id": container.id,
                "uri": f"{self.base_url}/ig-api-upload/{self.version}/{container.id}",
            }
        return {"id": container.id}

    def _publish(self, request: GraphRequest) -> dict[str, Any]:
        self._owner_only(request)
        require(request.params, "creation_id")
        container = self.get(request.params["creation_id"], "ShadowIGMediaBuilder")
        status = self.container_status(container)
        if status != "FINISHED":
            raise GraphError(400, 9007, "Media ID is not available", subcode=2207027)
        if self.published_today("IGMedia") >= PUBLISHING_LIMIT:
            raise GraphError(400, 9, "Application request limit reached", subcode=2207042)
        data = container.data
        media = self._new_media(
            self.users[request.node],
            data.get("caption", ""),
            [{**it, "id": self.new_id()} for it in data["_items"]],
            media_product_type=data.get("media_product_type", "FEED"),
            _via_api=True,
        )
        data["_published"] = True
        return {"id": media.id}

    def _limit(self, request: GraphRequest) -> dict[str, Any]:
        return {
            "data": [
                {
                    "quota_usage": self.published_today("IGMedia"),
                    "config": {"quota_total": PUBLISHING_LIMIT, "quota_duration": 86400},
                }
            ]
        }

    def _media_list(self, request: GraphRequest) -> dict[str, Any]:
        return self.rows(request, self.of_type("IGMedia", request.node), self._render)

    def _tags(self, request: GraphRequest) -> dict[str, Any]:
        found = [m for m in self.of_type("IGMedia") if request.node in m.data.get("_tags", [])]
        return self.rows(request, found, self._render)

    def _children(self, request: GraphRequest) -> dict[str, Any]:
        media = self.get(request.node, "IGMedia")
        rows = [self._item(media, i, it) for i, it in enumerate(media.data["_items"])]
        specs = request.fields()
        return self.page(request, [project(r, specs, "IGMedia") for r in rows])

    def _comments(self, request: GraphRequest) -> dict[str, Any]:
        target = self.get(request.node)
        if target.type == "IGMedia":
            found = [
                c
                for c in self.of_type("IGComment")
                if c.data["_media"] == target.id and not c.data.get("_parent")
            ]
        else:
            found = [c for c in self.of_type("IGComment") if c.data.get("_parent") == target.id]
        # As Meta: /{ig-media-id}/comments gives the top-level comments only; their replies
        # are each comment's own edge, /{ig-comment-id}/replies.
        return self.rows(request, found, self._render)

    def _post_comment(self, request: GraphRequest) -> dict[str, Any]:
        target = self.get(request.node)
        require(request.params, "message")
        author = self.users[request.viewer]
        return {"id": self._comment(target, author, request.params["message"]).id}

    def _hide(self, request: GraphRequest) -> dict[str, Any]:
        comment = self.get(request.node, "IGComment")
        media = self.get(comment.data["_media"], "IGMedia")
        if media.owner != request.viewer:
            raise GraphError(403, 10, "(#10) Only the media owner can hide comments")
        hidden = request.flag("hide", False)
        comment.data["hidden"] = hidden
        self.relate("hide", request.viewer, comment.id, hidden)
        return {"success": True}

    def _delete(self, request: GraphRequest) -> dict[str, Any]:
        obj = self.get(request.node)
        if obj.owner != request.viewer and obj.type != "IGComment":
            raise GraphError(403, 10, "(#10) Application does not have permission for this action")
        obj.deleted = True
        return {"success": True}

    def _media_insights(self, request: GraphRequest) -> dict[str, Any]:
        media = self.get(request.node, "IGMedia")
        names = metric_names(request, _MEDIA_METRICS, listed=True)
        likes = sum(1 for r in self._relations if r[0] == "like" and r[2] == media.id)
        comments = sum(1 for c in self.of_type("IGComment") if c.data["_media"] == media.id)
        saved = self.saves.get(media.id, 0)
        shares = media.data.get("shares", 0)
        values = {
            "views": self.views.get(media.id, 0),
            "reach": self.views.get(media.id, 0) // 2,
            "saved": saved,
            "shares": shares,
            "likes": likes,
            "comments": comments,
            "total_interactions": likes + comments + saved + shares,
            "profile_visits": 0,
            "follows": 0,
        }
        return {
            "data": [insight(media.id, n, "lifetime", values=[{"value": values[n]}]) for n in names]
        }

    def _account_insights(self, request: GraphRequest) -> dict[str, Any]:
        names = metric_names(request, _ACCOUNT_METRICS, listed=True)
        views = sum(self.views.values())
        values = {n: 0 for n in _ACCOUNT_METRICS}
        values.update({"views": views, "reach": views // 2, "follower_count": self.owner.followers})
        period = request.params.get("period", "day")
        return {
            "data": [
                insight(self.owner.id, n, period, total_value={"value": values[n]}) for n in names
            ]
        }

    def _hashtag_search(self, request: GraphRequest) -> dict[str, Any]:
        require(request.params, "user_id", "q")
        name = request.params["q"].lower().lstrip("#")
        existing = next(
            (h for h in self.of_type("ShadowIGHashtag") if h.data["name"] == name), None
        )
        if existing is None:
            existing = self.put(
                GraphObject(
                    self.new_id(), "ShadowIGHashtag", {"name": name}, None, self.clock.now()
                )
            )
        return {"data": [{"id": existing.id}]}

    def _hashtag_media(self, request: GraphRequest) -> dict[str, Any]:
        require(request.params, "user_id")
        tag = self.get(request.node, "ShadowIGHashtag")
        since = self.clock.now().timestamp() - 86400
        found = [
            m
            for m in self.of_type("IGMedia")
            if f"#{tag.data['name']}" in m.data.get("caption", "").lower()
            and m.created.timestamp() >= since
        ]
        return self.rows(request, found, self._render)


_ = parse_fields


def _instagram_error(message: str) -> Response:
    """How ``api.instagram.com/oauth/access_token`` refuses (Business Login for Instagram's
    sample rejected response)."""
    from starlette.responses import JSONResponse

    return JSONResponse(
        {"error_type": "OAuthException", "code": 400, "error_message": message}, status_code=400
    )
