"""``FakeFacebook``: a stateful, in-process Facebook Page (Graph API) for tests and the demo.

It serves what :class:`socialkit.adapters.meta.FacebookAdapter` calls, with the node and edge
shapes of Meta's Graph API specs (``Page``, ``PagePost``, ``Photo``, ``AdVideo``, ``Comment``,
``UnifiedThread``)::

    fake = FakeFacebook()
    async with fake.connect() as fb:               # the real FacebookAdapter
        posted = await fb.publish(Post(text="hello"))
    fan = fake.add_user("fan")
    fake.reply(posted.id, fan, "nice!")            # a comment, in messages()
    fake.direct(fan, "hi")                         # a Messenger message

What it imitates (``docs/fakes/facebook.md``): the Page (``GET /{page}``), posts (``/feed`` with
``message``, ``link``, ``attached_media``, scheduling with ``published=false`` and
``scheduled_publish_time``), photos (``/photos``: multipart ``source`` or ``url``, unpublished
photos for ``attached_media``, ``alt_text_custom``), videos (``/videos``: ``source``, ``file_url``
or the chunked upload of ``upload_phase`` start, transfer and finish, in the byte ranges the
fake chooses), reads with ``fields=``
(``attachments{...}`` included), ``/posts``, ``/feed``, ``/scheduled_posts``, edit and delete,
comments (read, write, hide), likes, post and Page insights with the current metric names,
Messenger conversations and sends, ``/me/accounts`` and the ``fb_exchange_token`` grant, batch
requests, usage headers and Graph error codes (see :mod:`socialkit.testing.fakes._graph`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from socialkit.testing.fakes._base import CreatedPost, FakeUser
from socialkit.testing.fakes._graph import (
    GraphError,
    GraphFake,
    GraphObject,
    GraphRequest,
    Handler,
    bad_param,
    form_json,
    insight,
    iso,
    metric_names,
    require,
)

__all__ = ["FakeFacebook"]

#: The error of a transfer out of step with the upload: Meta's Business SDK
#: (facebook_business/video_uploader.py) reads this subcode's ``error_data`` for the range to
#: send instead.
_OUT_OF_STEP = 1363037


@dataclass
class VideoUpload:
    """One chunked video upload (``upload_phase=start``) of the Page's videos edge."""

    session: str
    video_id: str
    viewer: str
    size: int
    #: The range the fake asked for last (``start_offset``, ``end_offset``).
    start: int = 0
    end: int = 0
    #: The last accepted transfer: its ``start_offset`` and the answer it got.
    last: tuple[int, dict[str, str]] | None = None
    finished: bool = False


class _UploadError(GraphError):
    """A Graph error with ``error_data`` (the range the upload expects)."""

    def __init__(self, message: str, data: dict[str, str]) -> None:
        super().__init__(400, 6001, message, subcode=_OUT_OF_STEP)
        self.data = data

    def body(self, trace: str) -> dict[str, Any]:
        answer = super().body(trace)
        answer["error"]["error_data"] = self.data
        return answer


_PAGE = frozenset(
    {
        "id",
        "name",
        "username",
        "link",
        "fan_count",
        "followers_count",
        "about",
        "category",
        "access_token",
        "instagram_business_account",
    }
)
_POST = frozenset(
    {
        "id",
        "message",
        "created_time",
        "permalink_url",
        "parent_id",
        "is_published",
        "scheduled_publish_time",
        "from",
        "status_type",
        "attachments",
        "updated_time",
        "is_hidden",
        "full_picture",
        "comments",
        "likes",
        "insights",
        "shares",
    }
)
_PHOTO = frozenset(
    {
        "id",
        "alt_text",
        "alt_text_custom",
        "images",
        "width",
        "height",
        "link",
        "created_time",
        "from",
        "page_story_id",
        "name",
    }
)
_VIDEO = frozenset(
    {
        "id",
        "description",
        "title",
        "created_time",
        "permalink_url",
        "source",
        "picture",
        "length",
        "post_id",
        "from",
        "published",
        "scheduled_publish_time",
        "status",
    }
)
_COMMENT = frozenset(
    {
        "id",
        "message",
        "created_time",
        "from",
        "parent",
        "object",
        "permalink_url",
        "is_hidden",
        "like_count",
        "comment_count",
        "attachment",
        "can_hide",
    }
)
_THREAD = frozenset({"id", "updated_time", "link", "message_count", "participants", "snippet"})
_MESSAGE = frozenset({"id", "message", "created_time", "from", "to"})


class FakeFacebook(GraphFake):
    """A Facebook Page on a fake Graph API. The owner is the Page."""

    name: ClassVar[str] = "facebook"
    default_base_url: ClassVar[str] = "https://graph.facebook.example"
    METADATA_TYPES: ClassVar[dict[str, str]] = {
        "Page": "page",
        "PagePost": "post",
        "Photo": "photo",
        "AdVideo": "video",
        "Comment": "comment",
        "User": "user",
    }
    NODE_FIELDS: ClassVar[dict[str, frozenset[str]]] = {
        "Page": _PAGE,
        "PagePost": _POST,
        "Photo": _PHOTO,
        "AdVideo": _VIDEO,
        "Comment": _COMMENT,
        "UnifiedThread": _THREAD,
        "Message": _MESSAGE,
        "User": frozenset({"id", "name"}),
    }

    CREATE_EDGES: ClassVar[frozenset[str]] = frozenset({"feed", "photos", "videos"})

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.put(GraphObject(self.owner.id, "Page", {}, self.owner.id, self.clock.now()))
        #: A user token of the Page's admin (``/me/accounts`` lists the Page with its token).
        self.admin = self.add_user("admin", name="Page Admin")
        self.admin_token = self.token_for(self.admin)
        #: Views each post got (``post_media_view``).
        self.views: dict[str, int] = {}
        #: The Page's linked Instagram professional account (``instagram_business_account``),
        #: e.g. ``FakeInstagram().owner.id``.
        self.instagram_account_id: str | None = None
        #: Bytes of the ranges the fake asks for in a chunked video upload (Meta chooses its
        #: own; the last range of a file is what is left).
        self.video_chunk_size = 1024 * 1024
        #: Chunked video uploads (``upload_phase=start``) by ``upload_session_id``.
        self.video_uploads: dict[str, VideoUpload] = {}
        #: The bytes each chunked video upload holds so far, by ``upload_session_id``.
        self.uploads: dict[str, bytes] = {}

    def login_user(self) -> FakeUser:
        """The Page's admin approves a Facebook login (``/me/accounts`` lists the Page)."""
        return self.admin

    def add_user(
        self, handle: str, *, name: str | None = None, followers: int = 0, following: int = 0
    ) -> FakeUser:
        user = super().add_user(handle, name=name, followers=followers, following=following)
        if user.id not in self.objects:
            self.put(GraphObject(user.id, "User", {"name": user.name}, user.id, self.clock.now()))
        return user

    def settings(self) -> dict[str, Any]:
        from socialkit._store import MemoryStore

        return {
            "base_url": self.base_url,
            "access_token": self.owner_token,
            "page_id": self.owner.id,
            "app_id": self.app_id,
            "app_secret": self.app_secret,
            "authorize_url": self.base_url + self.authorize_path.format(version=self.version),
            "store": MemoryStore(),
        }

    # -- the audience --------------------------------------------------------------------------

    def _new_post(self, author: FakeUser, text: str, **data: Any) -> GraphObject:
        number = self.new_id()
        moment = self.clock.tick()
        post_id = f"{self.owner.id}_{number}"
        return self.put(
            GraphObject(
                post_id,
                "PagePost",
                {"message": text, "from": author.id, "is_published": True, **data},
                author.id,
                moment,
            )
        )

    def publish_as(self, user: FakeUser, text: str) -> str:
        """A post on the Page by the Page (the owner) or a visitor post by ``user``."""
        return self._new_post(user, text).id

    def like(self, post_id: str, user: FakeUser) -> None:
        self.get(post_id)
        self.relate("like", user.id, post_id)

    def repost(self, post_id: str, user: FakeUser) -> None:
        obj = self.get(post_id)
        obj.data["shares"] = obj.data.get("shares", 0) + 1

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` comments on a post (or replies to a comment)."""
        target = self.get(post_id, "PagePost", "Comment", "Photo", "AdVideo")
        comment = self._comment(target, user.id, text)
        self._deliver(
            {
                "object": "page",
                "entry": [
                    {
                        "id": self.owner.id,
                        "time": int(comment.created.timestamp()),
                        "changes": [
                            {
                                "field": "feed",
                                "value": {
                                    "item": "comment",
                                    "verb": "add",
                                    "comment_id": comment.id,
                                    "post_id": post_id,
                                    "from": {"id": user.id, "name": user.name},
                                    "message": text,
                                    "created_time": int(comment.created.timestamp()),
                                },
                            }
                        ],
                    }
                ],
            }
        )
        return comment.id

    def _comment(self, target: GraphObject, author: str, text: str, **data: Any) -> GraphObject:
        root = target.data.get("_post", target.id) if target.type == "Comment" else target.id
        number = self.new_id()
        comment_id = f"{root.split('_')[-1]}_{number}"
        parent = target.id if target.type == "Comment" else None
        return self.put(
            GraphObject(
                comment_id,
                "Comment",
                {
                    "message": text,
                    "from": author,
                    "_post": root,
                    "_parent": parent,
                    "is_hidden": False,
                    **data,
                },
                author,
                self.clock.tick(),
            )
        )

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        """Facebook has no quotes; a share with a comment is a visitor post linking it."""
        return self._new_post(user, text, link=f"https://www.facebook.com/{post_id}").id

    def mention(self, user: FakeUser, text: str) -> str:
        """``user`` publishes a post tagging the Page (``GET /{page}/tagged``)."""
        return self._new_post(user, text, _tags=[self.owner.id]).id

    def direct(self, user: FakeUser, text: str) -> str:
        """``user`` sends the Page a Messenger message; returns its ``m_`` id."""
        thread = next(
            (t for t in self.of_type("UnifiedThread") if t.data.get("_with") == user.id), None
        )
        moment = self.clock.tick()
        if thread is None:
            thread = self.put(
                GraphObject(
                    f"t_{self.new_id()}", "UnifiedThread", {"_with": user.id}, self.owner.id, moment
                )
            )
        thread.created = moment
        message = self.put(
            GraphObject(
                f"m_{self.new_id()}",
                "Message",
                {"message": text, "from": user.id, "to": self.owner.id, "_thread": thread.id},
                user.id,
                moment,
            )
        )
        return message.id

    def view(self, post_id: str, count: int) -> None:
        self.views[post_id] = self.views.get(post_id, 0) + count

    # -- rendering -----------------------------------------------------------------------------

    def _video_status(self, obj: GraphObject) -> dict[str, Any]:
        """``status`` (VideoStatus, https://developers.facebook.com/docs/graph-api/reference/
        video-status): a chunked upload's video is uploading, then uploaded with processing and
        publishing ``not_started`` until its finish; every other video is ready."""
        data = obj.data
        if not data.get("_finished", True):
            held = len(self.uploads.get(data["_upload"], b""))
            uploaded = held >= (data.get("_bytes") or 0)
            return {
                "video_status": "processing" if uploaded else "uploading",
                "uploading_phase": {
                    "status": "complete" if uploaded else "in_progress",
                    "bytes_transferred": held,
                },
                "processing_phase": {"status": "not_started"},
                "publishing_phase": {"status": "not_started"},
            }
        published = data.get("is_published", True)
        publishing: dict[str, Any] = {
            "status": "complete",
            "publish_status": "published" if published else "scheduled",
        }
        if data.get("scheduled_publish_time"):
            publishing["publish_time"] = iso(
                datetime.fromtimestamp(data["scheduled_publish_time"], tz=obj.created.tzinfo)
            )
        return {
            "video_status": "ready",
            "uploading_phase": {"status": "complete"},
            "processing_phase": {"status": "complete"},
            "publishing_phase": publishing,
        }

    def _who(self, user_id: str) -> dict[str, Any]:
        user = self.users.get(user_id)
        return {"id": user_id, "name": user.name if user else user_id}

    def _render(self, obj: GraphObject) -> dict[str, Any]:
        data = obj.data
        if obj.type == "Page":
            return {
                "id": obj.id,
                "name": self.owner.name,
                "username": self.owner.handle,
                "link": f"https://www.facebook.com/{self.owner.handle}",
                "fan_count": self.owner.followers,
                "followers_count": self.owner.followers,
            }
        if obj.type == "PagePost":
            out: dict[str, Any] = {
                "id": obj.id,
                "created_time": iso(obj.created),
                "permalink_url": f"https://www.facebook.com/{obj.id}",
                "from": self._who(data["from"]),
                "is_published": data.get("is_published", True),
                "status_type": data.get("status_type", "mobile_status_update"),
            }
            if data.get("message"):
                out["message"] = data["message"]
            if data.get("scheduled_publish_time"):
                out["scheduled_publish_time"] = data["scheduled_publish_time"]
            attachments = self._attachments(data)
            if attachments:
                out["attachments"] = {"data": attachments}
            return out
        if obj.type == "Photo":
            width = data.get("width") or 1
            height = data.get("height") or 1
            out = {
                "id": obj.id,
                "created_time": iso(obj.created),
                "images": [{"source": data["_url"], "width": width, "height": height}],
                "width": width,
                "height": height,
                "link": f"https://www.facebook.com/photo/?fbid={obj.id}",
                "from": self._who(obj.owner or self.owner.id),
            }
            if data.get("alt_text_custom"):
                out["alt_text_custom"] = data["alt_text_custom"]
            return out
        if obj.type == "AdVideo":
            out = {
                "id": obj.id,
                "created_time": iso(obj.created),
                "permalink_url": f"/{self.owner.handle}/videos/{obj.id}/",
                "source": data["_url"],
                "picture": data["_url"] + ".jpg",
                "length": 1.0,
                "published": data.get("is_published", True),
                "from": self._who(self.owner.id),
            }
            if data.get("scheduled_publish_time"):
                out["scheduled_publish_time"] = data["scheduled_publish_time"]
            out["status"] = self._video_status(obj)
            for key in ("description", "title"):
                if data.get(key):
                    out[key] = data[key]
            return out
        if obj.type == "Comment":
            out = {
                "id": obj.id,
                "message": data["message"],
                "created_time": iso(obj.created),
                "from": self._who(data["from"]),
                "permalink_url": f"https://www.facebook.com/{data['_post']}?comment_id={obj.id}",
                "is_hidden": data.get("is_hidden", False),
                "can_hide": True,
                "object": {"id": data["_post"]},
            }
            if data.get("_parent"):
                out["parent"] = {
                    "id": data["_parent"],
                    "message": self.objects[data["_parent"]].data["message"],
                }
            return out
        if obj.type == "UnifiedThread":
            return {
                "id": obj.id,
                "updated_time": iso(obj.created),
                "link": f"/{self.owner.id}/inbox/{obj.id}",
            }
        if obj.type == "Message":
            return {
                "id": obj.id,
                "message": data["message"],
                "created_time": iso(obj.created),
                "from": self._who(data["from"]),
                "to": {"data": [self._who(data["to"])]},
            }
        return {"id": obj.id, "name": data.get("name")}

    def _attachments(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        photos = [self.objects[p] for p in data.get("_photos", []) if p in self.objects]
        items = [
            {
                "type": "photo",
                "media_type": "photo",
                "url": f"https://www.facebook.com/photo/?fbid={p.id}",
                "media": {
                    "image": {
                        "src": p.data["_url"],
                        "width": p.data.get("width") or 1,
                        "height": p.data.get("height") or 1,
                    }
                },
                "target": {"id": p.id, "url": f"https://www.facebook.com/photo/?fbid={p.id}"},
                **(
                    {"description": p.data["alt_text_custom"]}
                    if p.data.get("alt_text_custom")
                    else {}
                ),
            }
            for p in photos
        ]
        if len(items) > 1:
            return [{"type": "album", "media_type": "album", "subattachments": {"data": items}}]
        if items:
            return items
        link = data.get("link")
        if link:
            return [
                {
                    "type": "share",
                    "media_type": "link",
                    "url": link,
                    "unshimmed_url": link,
                    "target": {"url": link},
                }
            ]
        return []

    # -- handlers ------------------------------------------------------------------------------

    def handlers(self) -> dict[tuple[str, str, str | None], Handler]:
        return {
            ("GET", "Page", None): self._read,
            ("GET", "PagePost", None): self._read,
            ("GET", "Photo", None): self._read,
            ("GET", "AdVideo", None): self._read,
            ("GET", "Comment", None): self._read,
            ("GET", "User", None): self._read,
            ("POST", "Page", "feed"): self._post_feed,
            ("POST", "Page", "photos"): self._post_photo,
            ("POST", "Page", "videos"): self._post_video,
            ("GET", "Page", "posts"): self._posts,
            ("GET", "Page", "feed"): self._feed,
            ("GET", "Page", "published_posts"): self._posts,
            ("GET", "Page", "scheduled_posts"): self._scheduled,
            ("GET", "Page", "tagged"): self._tagged,
            ("GET", "Page", "visitor_posts"): self._visitor_posts,
            ("GET", "Page", "videos"): self._videos,
            ("GET", "Page", "insights"): self._page_insights,
            ("GET", "Page", "conversations"): self._conversations,
            ("POST", "Page", "messages"): self._send_message,
            ("POST", "Page", "blocked"): self._block,
            ("DELETE", "Page", "blocked"): self._block,
            ("GET", "UnifiedThread", "messages"): self._thread_messages,
            ("POST", "PagePost", None): self._edit_post,
            ("POST", "AdVideo", None): self._edit_post,
            ("POST", "Comment", None): self._edit_comment,
            ("DELETE", "PagePost", None): self._delete,
            ("DELETE", "Comment", None): self._delete,
            ("DELETE", "Photo", None): self._delete,
            ("DELETE", "AdVideo", None): self._delete,
            ("GET", "PagePost", "comments"): self._comments,
            ("GET", "Photo", "comments"): self._comments,
            ("GET", "Comment", "comments"): self._comments,
            ("POST", "PagePost", "comments"): self._post_comment,
            ("POST", "Photo", "comments"): self._post_comment,
            ("POST", "AdVideo", "comments"): self._post_comment,
            ("POST", "Comment", "comments"): self._post_comment,
            ("POST", "PagePost", "likes"): self._like,
            ("POST", "Comment", "likes"): self._like,
            ("DELETE", "PagePost", "likes"): self._unlike,
            ("DELETE", "Comment", "likes"): self._unlike,
            ("GET", "PagePost", "insights"): self._post_insights,
            ("GET", "User", "accounts"): self._accounts,
            ("GET", "root", "oauth"): self._oauth,
        }

    def _oauth(self, request: GraphRequest) -> Any:
        raise bad_param("Unsupported request")

    def _read(self, request: GraphRequest) -> dict[str, Any]:
        self._go_live()
        obj = self.get(request.node)
        return self.read(request, obj, self._render(obj))

    def _owner_only(self, request: GraphRequest) -> None:
        if request.viewer != self.owner.id:
            raise GraphError(
                403, 200, "(#200) The user hasn't authorized the application to perform this action"
            )

    def _scheduled_fields(self, request: GraphRequest) -> dict[str, Any]:
        published = request.flag("published", True)
        when = request.int_param("scheduled_publish_time")
        if when is None:
            return {"is_published": published}
        if published:
            raise bad_param("Cannot specify a scheduled publish time on a published post")
        return {"is_published": False, "scheduled_publish_time": self._schedule_time(when)}

    def _schedule_time(self, when: int) -> int:
        ahead = when - self.clock.now().timestamp()
        if ahead < 600 or ahead > 75 * 86400:
            raise bad_param("The specified scheduled publish time is invalid.")
        return when

    def _go_live(self) -> None:
        """Scheduled posts and videos whose time has come are published (Meta's scheduler)."""
        now = self.clock.now().timestamp()
        for item in [*self.of_type("PagePost"), *self.of_type("AdVideo")]:
            when = item.data.get("scheduled_publish_time")
            if not item.data.get("is_published", True) and when is not None and when <= now:
                item.data["is_published"] = True

    def _post_feed(self, request: GraphRequest) -> dict[str, Any]:
        self._owner_only(request)
        params = request.params
        attached = form_json(params, "attached_media") or []
        photos = []
        for item in attached:
            fbid = str(item.get("media_fbid")) if isinstance(item, dict) else ""
            photo = self.get(fbid, "Photo")
            if photo.data.get("_attached"):
                raise bad_param(f"Photo {fbid} is already attached to a post")
            photos.append(photo)
        if not params.get("message") and not params.get("link") and not photos:
            raise bad_param("Missing message or attachment")
        data: dict[str, Any] = {
            "message": params.get("message", ""),
            **self._scheduled_fields(request),
        }
        if params.get("link"):
            data["link"] = params["link"]
            data["status_type"] = "shared_story"
        if photos:
            data["_photos"] = [p.id for p in photos]
            data["status_type"] = "added_photos"
            for photo in photos:
                photo.data["_attached"] = True
        post = self._new_post(self.owner, data.pop("message"), **data)
        return {"id": post.id}

    def _photo_url(self, request: GraphRequest, field: str) -> tuple[str, dict[str, Any]]:
        if "source" in request.files:
            content = request.files["source"]
            number = self.new_id()
            width, height = _png_size(content)
            return f"https://scontent.fake.example/photo/{number}.jpg", {
                "width": width,
                "height": height,
            }
        if request.params.get(field):
            return request.params[field], {}
        raise bad_param("Requires one of the params: source, url, attachment_url")

    def _post_photo(self, request: GraphRequest) -> dict[str, Any]:
        self._owner_only(request)
        url, size = self._photo_url(request, "url")
        published = request.flag("published", True)
        schedule = self._scheduled_fields(request)
        photo = self.put(
            GraphObject(
                self.new_id(),
                "Photo",
                {"_url": url, "alt_text_custom": request.params.get("alt_text_custom"), **size},
                self.owner.id,
                self.clock.tick(),
            )
        )
        if not published and "scheduled_publish_time" not in schedule:
            return {"id": photo.id}
        photo.data["_attached"] = True
        post = self._new_post(
            self.owner,
            request.params.get("caption") or request.params.get("message") or "",
            _photos=[photo.id],
            status_type="added_photos",
            **schedule,
        )
        return {"id": photo.id, "post_id": post.id}

    def _post_video(self, request: GraphRequest) -> dict[str, Any]:
        self._owner_only(request)
        phase = request.params.get("upload_phase")
        if phase is not None:
            if "source" in request.files or request.params.get("file_url"):
                raise bad_param("source and file_url cannot be used with upload_phase")
            if phase == "start":
                return self._video_start(request)
            if phase == "transfer":
                return self._video_transfer(request)
            if phase == "finish":
                return self._video_finish(request)
            raise bad_param(
                f"Unsupported upload_phase {phase!r} (the fake serves start, transfer, finish)"
            )
        size: int | None = None
        if "source" in request.files:
            url = f"https://video.fake.example/{self.new_id()}.mp4"
            size = len(request.files["source"])
        elif request.params.get("file_url"):
            url = request.params["file_url"]
        else:
            raise bad_param("Requires one of the params: source, file_url, upload_phase")
        video = self.put(
            GraphObject(
                str(self.new_id()),
                "AdVideo",
                {
                    "_url": url,
                    "description": request.params.get("description"),
                    "title": request.params.get("title"),
                    "_bytes": size,
                    **self._scheduled_fields(request),
                },
                self.owner.id,
                self.clock.tick(),
            )
        )
        return {"id": video.id}

    # -- chunked video uploads (the videos edge's upload_phase: Meta's Video API resumable
    # upload, https://developers.facebook.com/docs/graph-api/video-uploads, as Meta's Business
    # SDK VideoUploader sends it) ------------------------------------------------------------

    def _video_start(self, request: GraphRequest) -> dict[str, Any]:
        """``upload_phase=start`` with ``file_size``: a video (not published, not listed) and
        an upload session; answers ``video_id``, ``upload_session_id`` and the first range
        (offsets as strings, as Meta sends them)."""
        require(request.params, "file_size")
        size = request.int_param("file_size")
        if size is None or size <= 0:
            raise bad_param("Param file_size must be a positive number")
        session = self.new_id()
        video = self.put(
            GraphObject(
                self.new_id(),
                "AdVideo",
                {
                    "_url": f"https://video.fake.example/{self.new_id()}.mp4",
                    "_upload": session,
                    "_finished": False,
                    "is_published": False,
                    "_bytes": size,
                },
                self.owner.id,
                self.clock.tick(),
            )
        )
        upload = VideoUpload(session, video.id, request.viewer, size)
        with self._graph_lock:
            self.video_uploads[session] = upload
            self.uploads[session] = b""
            answer = self._next_range(upload)
        return {"video_id": video.id, "upload_session_id": session, **answer}

    def _next_range(self, upload: VideoUpload) -> dict[str, str]:
        held = len(self.uploads[upload.session])
        upload.start, upload.end = held, min(held + self.video_chunk_size, upload.size)
        return {"start_offset": str(upload.start), "end_offset": str(upload.end)}

    def _upload_of(self, request: GraphRequest) -> tuple[str, VideoUpload]:
        require(request.params, "upload_session_id")
        session = request.params["upload_session_id"]
        upload = self.video_uploads.get(session)
        if upload is None or upload.viewer != request.viewer:
            raise bad_param("Invalid upload_session_id")
        return session, upload

    def _video_transfer(self, request: GraphRequest) -> dict[str, str]:
        """``upload_phase=transfer`` with ``upload_session_id``, ``start_offset`` and the bytes
        of the range asked for as multipart ``video_file_chunk``: answers the next range.
        The last accepted range sent again (its answer was lost) is answered again, taking
        nothing; any other range is out of step (error 6001/1363037 with the range in
        ``error_data``)."""
        session, upload = self._upload_of(request)
        require(request.params, "start_offset")
        start = request.int_param("start_offset")
        chunk = request.files.get("video_file_chunk")
        if chunk is None:
            raise bad_param("Requires the multipart file param video_file_chunk")
        with self._graph_lock:
            if upload.finished:
                raise bad_param("The upload session is finished")
            held = self.uploads[session]
            expected = {"start_offset": str(upload.start), "end_offset": str(upload.end)}
            if start == upload.start and len(held) < upload.size:
                if len(chunk) != upload.end - upload.start:
                    raise _UploadError(
                        f"The chunk must be bytes {upload.start} to {upload.end} "
                        f"({upload.end - upload.start} bytes), not {len(chunk)} bytes",
                        expected,
                    )
                self.uploads[session] = held + chunk
                answer = self._next_range(upload)
                upload.last = (start, dict(answer))
                return answer
            last = upload.last
            if (
                last is not None
                and start == last[0]
                and start + len(chunk) == len(held)
                and held[start:] == chunk
            ):
                return dict(last[1])  # sent again after a lost answer: nothing taken
            raise _UploadError(
                f"Upload out of step: start_offset {start}, expected {upload.start}", expected
            )

    def _video_finish(self, request: GraphRequest) -> dict[str, Any]:
        """``upload_phase=finish`` with ``upload_session_id`` and the post's fields
        (``description``, ``title``, ``published``/``scheduled_publish_time``): publishes the
        video (or schedules it) and answers ``{"success": true}``; refused before every byte
        arrived, and for a session already finished."""
        session, upload = self._upload_of(request)
        with self._graph_lock:
            if upload.finished:
                raise bad_param("The upload session is already finished")
            held = len(self.uploads[session])
            if held < upload.size:
                raise bad_param(f"The upload is not complete: {held} of {upload.size} bytes")
            fields = self._scheduled_fields(request)
            video = self.get(upload.video_id, "AdVideo")
            video.data.update(
                {
                    "description": request.params.get("description"),
                    "title": request.params.get("title"),
                    "_finished": True,
                    **fields,
                }
            )
            video.created = self.clock.tick()
            upload.finished = True
        return {"success": True}

    def videos(self) -> list[GraphObject]:
        """The Page's videos, published or scheduled (a chunked upload's video counts once
        its ``finish`` arrived)."""
        return [v for v in self.of_type("AdVideo", self.owner.id) if v.data.get("_finished", True)]

    def created_post(
        self,
        method: str,
        path: str,
        request_body: bytes,
        answer: Any,
        headers: Mapping[str, str],
    ) -> CreatedPost | None:
        """Also the video a chunked upload's ``finish`` (``{"success": true}``) published."""
        if method == "POST" and path.endswith("/videos") and answer == {"success": True}:
            upload = self.video_uploads.get(_body_param(request_body, "upload_session_id") or "")
            video = self.objects.get(upload.video_id) if upload is not None else None
            if video is not None:
                return video.id, video.data.get("description"), "post"
        return super().created_post(method, path, request_body, answer, headers)

    def _published(self, author: str | None = None) -> list[GraphObject]:
        self._go_live()
        return [
            p
            for p in self.of_type("PagePost")
            if p.data.get("is_published", True) and (author is None or p.owner == author)
        ]

    def _posts(self, request: GraphRequest) -> dict[str, Any]:
        return self.rows(request, self._published(self.owner.id), self._render)

    def _feed(self, request: GraphRequest) -> dict[str, Any]:
        return self.rows(request, self._published(), self._render)

    def _tagged(self, request: GraphRequest) -> dict[str, Any]:
        found = [p for p in self._published() if self.owner.id in p.data.get("_tags", [])]
        return self.rows(request, found, self._render)

    def _visitor_posts(self, request: GraphRequest) -> dict[str, Any]:
        found = [p for p in self._published() if p.owner != self.owner.id]
        return self.rows(request, found, self._render)

    def _scheduled(self, request: GraphRequest) -> dict[str, Any]:
        self._go_live()
        posts = [p for p in self.of_type("PagePost") if not p.data.get("is_published", True)]
        return self.rows(request, posts, self._render)

    def _videos(self, request: GraphRequest) -> dict[str, Any]:
        return self.rows(request, self.videos(), self._render)

    def _edit_post(self, request: GraphRequest) -> dict[str, Any]:
        self._owner_only(request)
        post = self.get(request.node)
        self._go_live()
        when = request.int_param("scheduled_publish_time")
        if when is not None:
            if post.data.get("is_published", True):
                raise bad_param("Cannot specify a scheduled publish time on a published post")
            post.data["scheduled_publish_time"] = self._schedule_time(when)
        if "message" in request.params:
            post.data["message"] = request.params["message"]
        if request.params.get("is_published") == "true":
            post.data["is_published"] = True
        return {"success": True}

    def _edit_comment(self, request: GraphRequest) -> dict[str, Any]:
        comment = self.get(request.node, "Comment")
        if "is_hidden" in request.params:
            self._owner_only(request)
            hidden = request.flag("is_hidden", False)
            comment.data["is_hidden"] = hidden
            self.relate("hide", self.owner.id, comment.id, hidden)
        if "message" in request.params:
            comment.data["message"] = request.params["message"]
        return {"success": True}

    def _delete(self, request: GraphRequest) -> dict[str, Any]:
        obj = self.get(request.node)
        if obj.owner != request.viewer and obj.type != "Comment":
            raise GraphError(403, 200, "(#200) Permissions error")
        obj.deleted = True
        return {"success": True}

    def _comments_of(self, target: str) -> list[GraphObject]:
        obj = self.objects[target]
        key = "_parent" if obj.type == "Comment" else "_post"
        return [c for c in self.of_type("Comment") if c.data.get(key) == target]

    def _comments(self, request: GraphRequest) -> dict[str, Any]:
        found = self._comments_of(request.node)
        if request.params.get("filter") != "stream":
            found = [
                c
                for c in found
                if not c.data.get("_parent") or self.objects[request.node].type == "Comment"
            ]
        if request.params.get("order") == "chronological":
            found = found[::-1]
        return self.rows(request, found, self._render)

    def _post_comment(self, request: GraphRequest) -> dict[str, Any]:
        target = self.get(request.node)
        params = request.params
        if (
            not params.get("message")
            and not params.get("attachment_id")
            and not params.get("attachment_url")
        ):
            raise bad_param("Missing message or attachment")
        data: dict[str, Any] = {}
        if params.get("attachment_id"):
            self.get(params["attachment_id"], "Photo")
            data["_photo"] = params["attachment_id"]
        comment = self._comment(target, request.viewer, params.get("message", ""), **data)
        return {"id": comment.id}

    def _like(self, request: GraphRequest) -> dict[str, Any]:
        self.get(request.node)
        self.relate("like", request.viewer, request.node)
        return {"success": True}

    def _unlike(self, request: GraphRequest) -> dict[str, Any]:
        self.get(request.node)
        self.relate("like", request.viewer, request.node, False)
        return {"success": True}

    _POST_METRICS: ClassVar[frozenset[str]] = frozenset(
        {
            "post_media_view",
            "post_total_media_view_unique",
            "post_reactions_like_total",
            "post_clicks",
            "post_reactions_by_type_total",
            "post_video_views",
        }
    )
    _PAGE_METRICS: ClassVar[frozenset[str]] = frozenset(
        {
            "page_media_view",
            "page_total_media_view_unique",
            "page_follows",
            "page_post_engagements",
            "page_daily_follows_unique",
            "page_views_total",
        }
    )
    # The retired names answer error 100 "must be a valid insights metric", as Meta does.

    def _post_insights(self, request: GraphRequest) -> dict[str, Any]:
        post = self.get(request.node, "PagePost")
        names = metric_names(request, self._POST_METRICS)
        likes = sum(1 for r in self._relations if r[0] == "like" and r[2] == post.id)
        views = self.views.get(post.id, 0)
        values = {
            "post_media_view": views,
            "post_total_media_view_unique": views // 2,
            "post_reactions_like_total": likes,
            "post_clicks": 0,
            "post_video_views": 0,
            "post_reactions_by_type_total": {"like": likes},
        }
        return {
            "data": [insight(post.id, n, "lifetime", values=[{"value": values[n]}]) for n in names],
            "paging": {"previous": "", "next": ""},
        }

    def _page_insights(self, request: GraphRequest) -> dict[str, Any]:
        names = metric_names(request, self._PAGE_METRICS)
        end = self.clock.now().replace(hour=8, minute=0, second=0, microsecond=0)
        values = {
            "page_media_view": sum(self.views.values()),
            "page_total_media_view_unique": sum(self.views.values()) // 2,
            "page_follows": self.owner.followers,
            "page_post_engagements": sum(1 for r in self._relations if r[0] == "like"),
            "page_daily_follows_unique": 0,
            "page_views_total": 0,
        }
        period = request.params.get("period", "day")
        days = [iso(end - timedelta(days=1)), iso(end)]
        return {
            "data": [
                insight(
                    self.owner.id,
                    n,
                    period,
                    values=[{"value": values[n], "end_time": day} for day in days],
                )
                for n in names
            ]
        }

    def _conversations(self, request: GraphRequest) -> dict[str, Any]:
        if request.params.get("platform", "messenger") not in ("messenger", "instagram"):
            raise bad_param("Param platform must be one of {MESSENGER, INSTAGRAM}")
        return self.rows(request, self.of_type("UnifiedThread", self.owner.id), self._render)

    def _thread_messages(self, request: GraphRequest) -> dict[str, Any]:
        found = [m for m in self.of_type("Message") if m.data.get("_thread") == request.node]
        return self.rows(request, found, self._render)

    def _send_message(self, request: GraphRequest) -> dict[str, Any]:
        self._owner_only(request)
        recipient = form_json(request.params, "recipient") or {}
        message = form_json(request.params, "message") or {}
        require(request.params, "messaging_type")
        user_id = str(recipient.get("id", ""))
        thread = next(
            (t for t in self.of_type("UnifiedThread") if t.data.get("_with") == user_id), None
        )
        if thread is None:
            raise GraphError(
                400, 10, "(#10) This message is sent outside of allowed window.", subcode=2018278
            )
        moment = self.clock.tick()
        sent = self.put(
            GraphObject(
                f"m_{self.new_id()}",
                "Message",
                {
                    "message": message.get("text", ""),
                    "from": self.owner.id,
                    "to": user_id,
                    "_thread": thread.id,
                },
                self.owner.id,
                moment,
            )
        )
        return {"recipient_id": user_id, "message_id": sent.id}

    def _block(self, request: GraphRequest) -> dict[str, Any]:
        """``POST``/``DELETE /{page}/blocked`` with ``user`` (or ``uid``, ``psid``, ``asid``):
        ``{id: true}`` per person, as the Page reference answers."""
        self._owner_only(request)
        who = next(
            (request.params[k] for k in ("user", "uid", "psid", "asid") if request.params.get(k)),
            None,
        )
        if who is None:
            raise bad_param("Requires one of the params: asid, psid, uid, user")
        person = self.get(who, "User")
        self.relate("block", self.owner.id, person.id, on=request.method == "POST")
        return {person.id: True}

    def _accounts(self, request: GraphRequest) -> dict[str, Any]:
        if request.viewer != self.admin.id:
            raise bad_param("Tried accessing nonexisting field (accounts) on node type (Page)")
        row: dict[str, Any] = {
            "id": self.owner.id,
            "name": self.owner.name,
            "access_token": self.owner_token,
            "category": "Brand",
        }
        if self.instagram_account_id is not None:
            row["instagram_business_account"] = {"id": self.instagram_account_id}
        return self.page(request, [row])


def _png_size(content: bytes) -> tuple[int | None, int | None]:
    if content[:8] == b"\x89PNG\r\n\x1a\n" and len(content) >= 24:
        return int.from_bytes(content[16:20], "big"), int.from_bytes(content[20:24], "big")
    return None, None


__all__ += []
_ = datetime


def _body_param(body: bytes, name: str) -> str | None:
    """One parameter of a request body: JSON, form-encoded or multipart."""
    try:
        values = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        values = None
    if isinstance(values, dict):
        value = values.get(name)
        return None if value is None else str(value)
    match = re.search(
        rb'name="' + re.escape(name.encode()) + rb'"\r\n(?:[^\r\n]+\r\n)*\r\n([^\r\n]*)', body
    )
    if match is not None:
        return match.group(1).decode("utf-8", "replace")
    return dict(parse_qsl(body.decode("utf-8", "replace"))).get(name)
