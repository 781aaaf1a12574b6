"""``FakeThreads``: a stateful, in-process Threads API (``graph.threads.net``) for tests and
the demo.

It serves what :class:`socialkit.adapters.meta.ThreadsAdapter` calls, with the requests of
Meta's Threads API Postman collection (``fbsamples/threads_api``)::

    fake = FakeThreads()
    async with fake.connect() as threads:          # the real ThreadsAdapter
        posted = await threads.publish(Post(text="hello"))
    fan = fake.add_user("fan")
    fake.reply(posted.id, fan, "hi back")          # in ex_replies(posted.id)
    fake.mention(fan, "@owner look")               # in messages()

What it imitates (``docs/fakes/threads.md``): containers (``POST /{user}/threads``: TEXT,
IMAGE, VIDEO, CAROUSEL items and carousels, ``reply_to_id``, ``quote_post_id``,
``link_attachment``, ``alt_text``), their ``status`` (IN_PROGRESS, then FINISHED for media;
ERROR and EXPIRED on demand; PUBLISHED once published), ``threads_publish``,
``threads_publishing_limit`` (250 posts per 24 hours), posts, replies, mentions,
``manage_reply`` (hide), delete, keyword search, ``profile_lookup``, post and account insights,
the ``th_exchange_token`` and ``th_refresh_token`` grants, the token in the ``access_token``
query parameter, usage headers and Graph error codes.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

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
    require,
)

__all__ = ["FakeThreads"]

_USER = frozenset(
    {
        "id",
        "username",
        "name",
        "threads_profile_picture_url",
        "threads_biography",
        "is_verified",
        "follower_count",
    }
)
_POST = frozenset(
    {
        "id",
        "media_product_type",
        "media_type",
        "media_url",
        "permalink",
        "owner",
        "username",
        "text",
        "timestamp",
        "shortcode",
        "thumbnail_url",
        "children",
        "is_quote_post",
        "quoted_post",
        "reposted_post",
        "alt_text",
        "link_attachment_url",
        "has_replies",
        "is_reply",
        "is_reply_owned_by_me",
        "root_post",
        "replied_to",
        "hide_status",
        "reply_audience",
        "gif_url",
        "poll_attachment",
    }
)
_CONTAINER = frozenset({"id", "status", "error_message"})
_POST_METRICS = frozenset({"views", "likes", "replies", "reposts", "quotes", "shares"})
_ACCOUNT_METRICS = frozenset(
    {
        "views",
        "likes",
        "replies",
        "reposts",
        "quotes",
        "clicks",
        "followers_count",
        "follower_demographics",
    }
)
#: Posts a Threads profile may publish per rolling 24 hours.
PUBLISHING_LIMIT = 250


class FakeThreads(GraphFake):
    """A Threads profile on a fake Threads API. The owner is the profile."""

    name: ClassVar[str] = "threads"
    default_base_url: ClassVar[str] = "https://graph.threads.example"
    version: ClassVar[str] = "v1.0"
    #: The authorization window: ``https://threads.net/oauth/authorize``.
    authorize_path: ClassVar[str] = "/oauth/authorize"
    NODE_FIELDS: ClassVar[dict[str, frozenset[str]]] = {
        "ThreadsUser": _USER,
        "ThreadsMedia": _POST,
        "ThreadsContainer": _CONTAINER,
    }

    CREATE_EDGES: ClassVar[frozenset[str]] = frozenset({"threads_publish"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.views: dict[str, int] = {}

    def add_user(
        self, handle: str, *, name: str | None = None, followers: int = 0, following: int = 0
    ) -> FakeUser:
        user = super().add_user(handle, name=name, followers=followers, following=following)
        self.put(GraphObject(user.id, "ThreadsUser", {}, user.id, self.clock.now()))
        return user

    def settings(self) -> dict[str, Any]:
        from socialkit._store import MemoryStore

        return {
            "base_url": self.base_url,
            "access_token": self.owner_token,
            "app_id": self.app_id,
            "app_secret": self.app_secret,
            "authorize_url": self.base_url + self.authorize_path.format(version=self.version),
            "poll_interval": 0.0,
            "store": MemoryStore(),
        }

    # -- the audience --------------------------------------------------------------------------

    def _new_post(self, author: FakeUser, text: str, **data: Any) -> GraphObject:
        return self.put(
            GraphObject(
                self.new_id(),
                "ThreadsMedia",
                {"text": text, "media_type": "TEXT_POST", **data},
                author.id,
                self.clock.tick(),
            )
        )

    def publish_as(self, user: FakeUser, text: str) -> str:
        return self._new_post(user, text).id

    def like(self, post_id: str, user: FakeUser) -> None:
        self.get(post_id, "ThreadsMedia")
        self.relate("like", user.id, post_id)

    def repost(self, post_id: str, user: FakeUser) -> None:
        self.get(post_id, "ThreadsMedia")
        self.relate("repost", user.id, post_id)

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        parent = self.get(post_id, "ThreadsMedia")
        root = parent.data.get("_root") or parent.id
        reply = self._new_post(user, text, _reply_to=parent.id, _root=root)
        self._deliver(
            {
                "app_id": self.app_id,
                "topic": "moderate",
                "target_id": self.owner.id,
                "time": int(reply.created.timestamp()),
                "subscription_id": "1",
                "has_uid_field": False,
                "values": {
                    "value": {
                        "id": reply.id,
                        "username": user.handle,
                        "text": text,
                        "media_type": "TEXT_POST",
                        "permalink": f"https://www.threads.net/@{user.handle}/post/{reply.id}",
                        "replied_to": {"id": parent.id},
                        "root_post": {
                            "id": root,
                            "owner_id": parent.owner,
                            "username": self.users[parent.owner or self.owner.id].handle,
                        },
                        "shortcode": reply.id[-11:],
                        "timestamp": iso(reply.created),
                    },
                    "field": "replies",
                },
            }
        )
        return reply.id

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        self.get(post_id, "ThreadsMedia")
        return self._new_post(user, text, _quote=post_id).id

    def mention(self, user: FakeUser, text: str) -> str:
        if not re.search(rf"@{re.escape(self.owner.handle)}\b", text):
            text = f"@{self.owner.handle} {text}"
        return self._new_post(user, text).id

    def direct(self, user: FakeUser, text: str) -> str:
        raise NotImplementedError("Threads has no direct messages in its API")

    def view(self, post_id: str, count: int) -> None:
        self.views[post_id] = self.views.get(post_id, 0) + count

    # -- rendering -----------------------------------------------------------------------------

    def _user(self, user_id: str) -> dict[str, Any]:
        user = self.users[user_id]
        return {
            "id": user.id,
            "username": user.handle,
            "name": user.name,
            "threads_profile_picture_url": f"https://cdn.threads.fake.example/{user.id}.jpg",
            "threads_biography": "",
            "is_verified": False,
            "follower_count": user.followers,
        }

    def _item(self, item: dict[str, Any], moment: Any) -> dict[str, Any]:
        out = {
            "id": item["id"],
            "media_type": item["media_type"],
            "media_url": item["media_url"],
            "timestamp": iso(moment),
        }
        if item.get("alt_text"):
            out["alt_text"] = item["alt_text"]
        if item["media_type"] == "VIDEO":
            out["thumbnail_url"] = item["media_url"] + ".jpg"
        return out

    def _render(self, obj: GraphObject) -> dict[str, Any]:
        data = obj.data
        if obj.type == "ThreadsUser":
            return self._user(obj.id)
        if obj.type == "ThreadsContainer":
            status = self.container_status(obj)
            data["_polls"] = data.get("_polls", 0) + 1
            answer: dict[str, Any] = {"id": obj.id, "status": status}
            if status == "ERROR":
                answer["error_message"] = "FAILED_PROCESSING_VIDEO"
            return answer
        author = self.users[obj.owner or self.owner.id]
        out: dict[str, Any] = {
            "id": obj.id,
            "media_product_type": "THREADS",
            "media_type": data.get("media_type", "TEXT_POST"),
            "permalink": f"https://www.threads.net/@{author.handle}/post/{obj.id[-11:]}",
            "owner": {"id": author.id},
            "username": author.handle,
            "text": data.get("text", ""),
            "timestamp": iso(obj.created),
            "shortcode": obj.id[-11:],
            "is_quote_post": bool(data.get("_quote")),
            "has_replies": any(
                p.data.get("_reply_to") == obj.id for p in self.of_type("ThreadsMedia")
            ),
            "is_reply": bool(data.get("_reply_to")),
            "hide_status": "HIDDEN"
            if data.get("_hidden")
            else ("NOT_HUSHED" if data.get("_reply_to") else "UNHUSHED"),
        }
        if data.get("_quote"):
            out["quoted_post"] = {"id": data["_quote"]}
        if data.get("_reply_to"):
            out["replied_to"] = {"id": data["_reply_to"]}
            out["root_post"] = {"id": data["_root"]}
        if data.get("link"):
            out["link_attachment_url"] = data["link"]
        items = data.get("_items") or []
        if len(items) > 1:
            out["media_type"] = "CAROUSEL_ALBUM"
            out["children"] = {"data": [{"id": it["id"]} for it in items]}
        elif items:
            out.update(
                {
                    k: v
                    for k, v in self._item(items[0], obj.created).items()
                    if k not in ("id", "timestamp")
                }
            )
        return out

    # -- handlers ------------------------------------------------------------------------------

    def handlers(self) -> dict[tuple[str, str, str | None], Handler]:
        return {
            ("GET", "ThreadsUser", None): self._read,
            ("GET", "ThreadsMedia", None): self._read,
            ("GET", "ThreadsContainer", None): self._read,
            ("POST", "ThreadsUser", "threads"): self._create_container,
            ("POST", "ThreadsUser", "threads_publish"): self._publish,
            ("GET", "ThreadsUser", "threads_publishing_limit"): self._limit,
            ("GET", "ThreadsUser", "threads"): self._posts,
            ("GET", "ThreadsUser", "replies"): self._own_replies,
            ("GET", "ThreadsUser", "mentions"): self._mentions,
            ("GET", "ThreadsUser", "threads_insights"): self._account_insights,
            ("GET", "ThreadsMedia", "replies"): self._replies,
            ("GET", "ThreadsMedia", "conversation"): self._replies,
            ("GET", "ThreadsMedia", "insights"): self._post_insights,
            ("POST", "ThreadsMedia", "manage_reply"): self._manage_reply,
            ("POST", "ThreadsMedia", "repost"): self._repost,
            ("DELETE", "ThreadsMedia", None): self._delete,
            ("GET", "root", "keyword_search"): self._search,
            ("GET", "root", "profile_lookup"): self._lookup,
            ("GET", "root", "profile_posts"): self._profile_posts,
        }

    def extra_route(self, method: str, path: str, request: Any, body: bytes) -> Any:
        if method != "GET" or path not in ("/access_token", "/refresh_access_token"):
            return None
        return self._long_lived(path, dict(request.query_params), "th")

    def _read(self, request: GraphRequest) -> dict[str, Any]:
        obj = self.get(request.node)
        return self.read(request, obj, self._render(obj))

    def _owner_only(self, request: GraphRequest) -> None:
        if request.viewer != request.node:
            raise GraphError(403, 10, "(#10) Application does not have permission for this action")

    def _create_container(self, request: GraphRequest) -> dict[str, Any]:
        self._owner_only(request)
        params = request.params
        kind = params.get("media_type")
        if kind not in ("TEXT", "IMAGE", "VIDEO", "CAROUSEL"):
            raise bad_param("Param media_type must be one of {TEXT, IMAGE, VIDEO, CAROUSEL}")
        text = params.get("text", "")
        if len(text) > 500:
            raise GraphError(400, 100, "(#100) The post text is too long", subcode=4279009)
        data: dict[str, Any] = {
            "text": text,
            "_carousel_item": request.flag("is_carousel_item", False),
        }
        for source, target in (("reply_to_id", "_reply_to"), ("quote_post_id", "_quote")):
            if params.get(source):
                self.get(params[source], "ThreadsMedia")
                data[target] = params[source]
        if params.get("link_attachment"):
            data["link"] = params["link_attachment"]
        ready = True
        if kind == "TEXT":
            if not text:
                raise bad_param("The parameter text is required")
            data["_items"] = []
            data["_polls"] = self.processing_polls
        elif kind == "CAROUSEL":
            require(params, "children")
            children = params["children"].split(",")
            if not 2 <= len(children) <= 20:
                raise bad_param("A carousel has 2 to 20 children")
            items = []
            for child_id in children:
                child = self.get(child_id, "ThreadsContainer")
                if (
                    not child.data.get("_carousel_item")
                    or self.container_status(child) != "FINISHED"
                ):
                    raise GraphError(
                        400, 24, "The requested resource does not exist", subcode=4279009
                    )
                items.extend(child.data["_items"])
            data["_items"] = items
            data["_polls"] = self.processing_polls
        else:
            field = "image_url" if kind == "IMAGE" else "video_url"
            require(params, field)
            data["_items"] = [
                {"media_type": kind, "media_url": params[field], "alt_text": params.get("alt_text")}
            ]
        data["_ready"] = ready
        container = self.new_container("ThreadsContainer", data, request.node)
        return {"id": container.id}

    def _publish(self, request: GraphRequest) -> dict[str, Any]:
        self._owner_only(request)
        require(request.params, "creation_id")
        container = self.get(request.params["creation_id"], "ThreadsContainer")
        status = self.container_status(container)
        if status == "PUBLISHED":
            raise GraphError(400, 24, "The media has already been published", subcode=4279001)
        if status != "FINISHED":
            raise GraphError(400, 24, "Media Not Found", subcode=4279009)
        if self.published_today("ThreadsMedia") >= PUBLISHING_LIMIT:
            raise GraphError(400, 9, "Application request limit reached", subcode=4279002)
        data = container.data
        kind = "TEXT_POST"
        items = [{**it, "id": self.new_id()} for it in data["_items"]]
        if len(items) == 1:
            kind = items[0]["media_type"]
        elif items:
            kind = "CAROUSEL_ALBUM"
        extra = {k: data[k] for k in ("_reply_to", "_quote", "link") if data.get(k)}
        if "_reply_to" in extra:
            parent = self.objects[extra["_reply_to"]]
            extra["_root"] = parent.data.get("_root") or parent.id
        author = self.users[request.node]
        if len(items) > 1:
            # Carousel items are media of their own, read by id (``children``).
            for item in items:
                self.put(
                    GraphObject(
                        item["id"],
                        "ThreadsMedia",
                        {
                            "text": "",
                            "media_type": item["media_type"],
                            "_items": [item],
                            "_child": True,
                        },
                        author.id,
                        self.clock.now(),
                    )
                )
        post = self._new_post(
            author, data["text"], media_type=kind, _items=items, _via_api=True, **extra
        )
        data["_published"] = True
        return {"id": post.id}

    def _limit(self, request: GraphRequest) -> dict[str, Any]:
        return {
            "data": [
                {
                    "quota_usage": self.published_today("ThreadsMedia"),
                    "config": {"quota_total": PUBLISHING_LIMIT, "quota_duration": 86400},
                }
            ]
        }

    def _top_level(self, user: str) -> list[GraphObject]:
        return [
            p
            for p in self.of_type("ThreadsMedia", user)
            if not p.data.get("_reply_to") and not p.data.get("_child")
        ]

    def _posts(self, request: GraphRequest) -> dict[str, Any]:
        return self.rows(request, self._top_level(request.node), self._render)

    def _own_replies(self, request: GraphRequest) -> dict[str, Any]:
        found = [p for p in self.of_type("ThreadsMedia", request.node) if p.data.get("_reply_to")]
        return self.rows(request, found, self._render)

    def _mentions(self, request: GraphRequest) -> dict[str, Any]:
        handle = self.users[request.node].handle
        found = [
            p
            for p in self.of_type("ThreadsMedia")
            if p.owner != request.node
            and re.search(rf"@{re.escape(handle)}\b", p.data.get("text", ""))
        ]
        return self.rows(request, found, self._render)

    def _replies(self, request: GraphRequest) -> dict[str, Any]:
        self.get(request.node, "ThreadsMedia")
        found = [p for p in self.of_type("ThreadsMedia") if p.data.get("_reply_to") == request.node]
        if request.params.get("reverse", "true") == "false":
            found = found[::-1]
        return self.rows(request, found, self._render)

    def _manage_reply(self, request: GraphRequest) -> dict[str, Any]:
        reply = self.get(request.node, "ThreadsMedia")
        root = self.objects.get(reply.data.get("_root") or "")
        if root is None or root.owner != request.viewer:
            raise GraphError(403, 10, "(#10) Only the author of the root post can hide replies")
        hidden = request.flag("hide", False)
        reply.data["_hidden"] = hidden
        self.relate("hide", request.viewer, reply.id, hidden)
        return {"success": True}

    def _repost(self, request: GraphRequest) -> dict[str, Any]:
        self.get(request.node, "ThreadsMedia")
        self.relate("repost", request.viewer, request.node)
        return {"id": self.new_id()}

    def _delete(self, request: GraphRequest) -> dict[str, Any]:
        post = self.get(request.node, "ThreadsMedia")
        if post.owner != request.viewer:
            raise GraphError(403, 10, "(#10) Application does not have permission for this action")
        post.deleted = True
        return {"success": True, "deleted_id": post.id}

    def _search(self, request: GraphRequest) -> dict[str, Any]:
        require(request.params, "q")
        query = request.params["q"].lower()
        found = [p for p in self.of_type("ThreadsMedia") if query in p.data.get("text", "").lower()]
        return self.rows(request, found, self._render)

    def _lookup(self, request: GraphRequest) -> dict[str, Any]:
        require(request.params, "username")
        user = next(
            (u for u in self.users.values() if u.handle == request.params["username"]), None
        )
        if user is None:
            raise GraphError(400, 100, "(#100) Profile not found", subcode=33)
        return self._user(user.id)

    def _profile_posts(self, request: GraphRequest) -> dict[str, Any]:
        user = self._lookup(request)
        return self.rows(request, self._top_level(user["id"]), self._render)

    def _post_insights(self, request: GraphRequest) -> dict[str, Any]:
        post = self.get(request.node, "ThreadsMedia")
        names = metric_names(request, _POST_METRICS)
        values = {
            "views": self.views.get(post.id, 0),
            "likes": sum(1 for r in self._relations if r[0] == "like" and r[2] == post.id),
            "replies": sum(
                1 for p in self.of_type("ThreadsMedia") if p.data.get("_reply_to") == post.id
            ),
            "reposts": sum(1 for r in self._relations if r[0] == "repost" and r[2] == post.id),
            "quotes": sum(
                1 for p in self.of_type("ThreadsMedia") if p.data.get("_quote") == post.id
            ),
            "shares": 0,
        }
        return {
            "data": [insight(post.id, n, "lifetime", values=[{"value": values[n]}]) for n in names]
        }

    def _account_insights(self, request: GraphRequest) -> dict[str, Any]:
        names = metric_names(request, _ACCOUNT_METRICS)
        data: list[dict[str, Any]] = []
        for n in names:
            if n == "views":
                total = sum(self.views.values())
                answer: dict[str, Any] = {
                    "values": [{"value": total, "end_time": iso(self.clock.now())}]
                }
            else:
                followers = self.owner.followers if n == "followers_count" else 0
                answer = {"total_value": {"value": followers}}
            data.append(insight(self.owner.id, n, "day", **answer))
        return {"data": data}
