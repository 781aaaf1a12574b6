"""``FakeYouTube``: a stateful, in-process YouTube Data API v3 and YouTube Analytics API v2
(with Google's token endpoint) for tests and the demo, following the discovery documents
(``youtube.v3.json``, ``youtubeAnalytics.v2.json``) and the resumable upload guide
(https://developers.google.com/youtube/v3/guides/using_resumable_upload_protocol)::

    from socialkit import Media, Post
    from socialkit.testing.fakes import FakeYouTube

    fake = FakeYouTube()
    async with fake.connect() as youtube:          # the real YouTubeAdapter
        posted = await youtube.publish(Post(text="hi", media=[Media.from_path("clip.mp4")]))
    fake.view(posted.id, 1000)                     # viewCount moves

What it imitates (see ``docs/fakes/youtube.md``): the authorization code (PKCE) and
refresh grants at ``/token`` behind Google's consent page ``/o/oauth2/v2/auth`` (approved at
once by the owner, see ``socialkit.testing.fakes._oauth``; ``fake.approve(url)`` without
HTTP); resumable
uploads (``POST /upload/youtube/v3/videos?uploadType=resumable`` answers the session URI in
``Location``; ``PUT``\\ s with ``Content-Range`` answer ``308`` with the ``Range`` held until the
last byte, then the video; ``Content-Range: bytes */size`` asks the status), non-final chunks
in multiples of 256 KiB; processing (``uploadStatus`` ``uploaded`` → ``processed``, or
``failed``); thumbnails; ``videos.list/update/delete/rate``; the uploads playlist; channels by
id, handle or ``mine``; comment threads, replies and moderation; subscriptions; Analytics
``reports.query``; and the daily quota: each method's cost counted per Pacific day, past it
``403 quotaExceeded`` in Google's error body.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from socialkit._store import MemoryStore
from socialkit.testing.fakes._base import UNLIMITED, CreatedPost, FakeClock, FakeNetwork, FakeUser
from socialkit.testing.fakes._oauth import CodeGrants

__all__ = ["FakeYouTube", "QUOTA_COSTS"]

_KiB = 1024
_ALPHABET = string.ascii_letters + string.digits + "-_"

#: Units per method (https://developers.google.com/youtube/v3/determine_quota_cost);
#: videos.insert and search.list count in buckets of calls of their own.
QUOTA_COSTS: dict[str, int] = {
    "channels.list": 1,
    "commentThreads.insert": 50,
    "commentThreads.list": 1,
    "comments.insert": 50,
    "comments.list": 1,
    "comments.setModerationStatus": 50,
    "playlistItems.list": 1,
    "playlists.list": 1,
    "search.list": 1,
    "subscriptions.delete": 50,
    "subscriptions.insert": 50,
    "subscriptions.list": 1,
    "thumbnails.set": 50,
    "videos.delete": 50,
    "videos.insert": 1,
    "videos.list": 1,
    "videos.rate": 50,
    "videos.update": 50,
}


class _Error(Exception):
    def __init__(self, status: int, reason: str, message: str, domain: str = "youtube") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.domain = domain


_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
}


def _error_response(exc: _Error) -> JSONResponse:
    """Google's error body (https://developers.google.com/youtube/v3/docs/errors)."""
    return JSONResponse(
        {
            "error": {
                "code": exc.status,
                "message": exc.message,
                "errors": [{"message": exc.message, "domain": exc.domain, "reason": exc.reason}],
                "status": _STATUS_NAMES.get(exc.status, "UNKNOWN"),
            }
        },
        status_code=exc.status,
    )


@dataclass
class _Video:
    id: str
    channel: FakeUser
    title: str
    description: str
    published: datetime
    privacy: str = "public"
    publish_at: str | None = None
    category: str = "22"
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    made_for_kids: bool = False
    upload_status: str = "processed"
    failure: str | None = None
    reads_left: int = 0
    views: int = 0
    likes: int = 0
    shares: int = 0
    thumbnail: bytes | None = None
    size: int = 0
    mime: str = "video/mp4"


@dataclass
class _Session:
    id: str
    channel: FakeUser
    metadata: dict[str, Any]
    size: int
    mime: str
    received: bytearray = field(default_factory=bytearray)
    video: _Video | None = None


@dataclass
class _Playlist:
    id: str
    channel: FakeUser
    title: str
    description: str = ""
    videos: list[str] = field(default_factory=list)


@dataclass
class _Comment:
    id: str
    author: FakeUser
    text: str
    video: str
    published: datetime
    parent: str | None = None
    status: str = "published"


class FakeYouTube(FakeNetwork):
    """A fake YouTube. Every user is a channel (``UC…`` ids); the owner authorized the app."""

    name: ClassVar[str] = "youtube"
    default_base_url: ClassVar[str] = "https://youtube.googleapis.fake"
    client_id: ClassVar[str] = "fake-youtube-client.apps.googleusercontent.com"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        clock: FakeClock | None = None,
        seed: int = 0,
        owner_handle: str = "owner",
        daily_quota: int = 10_000,
        upload_quota: int = 100,
        search_quota: int = 100,
        processing_reads: int = 1,
    ) -> None:
        super().__init__(base_url=base_url, clock=clock, seed=seed, owner_handle=owner_handle)
        self.client_secret = "fake-youtube-secret-" + secrets.token_hex(8)
        self.access: dict[str, str] = {}
        self.refresh: dict[str, str] = {}
        #: WebSub subscriptions at the hub: topic -> (callback, secret or None).
        self.websub: dict[str, tuple[str, str | None]] = {}
        #: Codes of the consent page (PKCE S256 required, as for Google's installed apps).
        self.codes = CodeGrants(self.client_id)
        self.videos: dict[str, _Video] = {}
        self.sessions: dict[str, _Session] = {}
        self.comments: dict[str, _Comment] = {}
        self.playlists: dict[str, _Playlist] = {}
        self.ratings: dict[tuple[str, str], str] = {}
        self.subscriptions: dict[str, tuple[str, str]] = {}
        self.daily_quota = daily_quota
        self.upload_quota = upload_quota
        self.search_quota = search_quota
        self.processing_reads = processing_reads
        #: Units (and uploads) used per Pacific day: ``{(day, bucket): used}``.
        self.quota_used: dict[tuple[str, str], int] = {}
        #: Every method called, in order (``videos.insert``, ``videos.list`` …).
        self.calls: list[str] = []
        #: Most bytes one PUT stores (the rest is dropped, as a server that took part of a
        #: chunk): the client must resume from the ``Range`` it is told.
        self.accept_per_put: int | None = None
        self._fail_next: list[str] = []
        self._app: Starlette | None = None

    # -- simulation -----------------------------------------------------------------------

    def _token(self, length: int) -> str:
        return "".join(self.random.choice(_ALPHABET) for _ in range(length))

    def new_user_id(self, handle: str) -> str:
        return "UC" + self._token(22)

    def tokens(self, user: FakeUser | None = None) -> tuple[str, str]:
        """A fresh (access token, refresh token) pair of ``user`` (default: the owner)."""
        who = (user or self.owner).id
        access = "ya29." + secrets.token_urlsafe(24)
        refresh = "1//" + secrets.token_urlsafe(24)
        self.access[access] = who
        self.refresh[refresh] = who
        return access, refresh

    @classmethod
    def unlimited_settings(cls) -> dict[str, Any]:
        return {"daily_quota": UNLIMITED, "upload_quota": UNLIMITED, "search_quota": UNLIMITED}

    def created_post(
        self, method: str, path: str, request_body: bytes, answer: Any, headers: Mapping[str, str]
    ) -> CreatedPost | None:
        """``/upload/youtube/v3/videos``: the video resource a multipart ``POST`` or a
        resumable session's final ``PUT`` answers with (starting a session makes none)."""
        if path != "/upload/youtube/v3/videos" or not isinstance(answer, dict):
            return None
        if answer.get("kind") != "youtube#video" or "id" not in answer:
            return None
        return str(answer["id"]), (answer.get("snippet") or {}).get("title"), "post"

    def settings(self) -> dict[str, Any]:
        """The owner's client and tokens; both APIs and the token endpoint on this fake."""
        access, refresh = self.tokens()
        return {
            "base_url": self.base_url,
            "analytics_url": self.base_url,
            "token_url": f"{self.base_url}/token",
            "authorize_url": f"{self.base_url}/o/oauth2/v2/auth",
            "websub_hub": f"{self.base_url}/subscribe",
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "access_token": access,
            "refresh_token": refresh,
            "store": MemoryStore(),
            "clock": self.clock.now,
        }

    def expire_access_tokens(self) -> None:
        self.access.clear()

    def fail_next_processing(self, reason: str = "codec") -> None:
        """The next upload's processing ends ``failed`` with ``failureReason`` ``reason``."""
        self._fail_next.append(reason)

    def used(self, bucket: str = "units") -> int:
        """Quota used today (Pacific day of the fake clock): ``units`` or ``uploads``."""
        return self.quota_used.get((self._day(), bucket), 0)

    def _day(self) -> str:
        return self.clock.now().astimezone(ZoneInfo("America/Los_Angeles")).date().isoformat()

    def _new_video(self, user: FakeUser, title: str, description: str = "") -> _Video:
        self.clock.tick()
        video = _Video(self._token(11), user, title, description, self.clock.now())
        self.videos[video.id] = video
        return video

    def add_playlist(
        self, user: FakeUser, title: str, videos: list[str] | None = None, description: str = ""
    ) -> str:
        """A playlist of ``user`` holding ``videos`` in that order; returns its id."""
        playlist = _Playlist("PL" + self._token(32), user, title, description, list(videos or []))
        self.playlists[playlist.id] = playlist
        return playlist.id

    def own_videos(self) -> list[str]:
        """Ids of the owner's videos, oldest first."""
        return [v.id for v in self.videos.values() if v.channel.id == self.owner.id]

    def publish_as(self, user: FakeUser, text: str) -> str:
        title, _, description = text.partition("\n")
        return self._new_video(user, title, description).id

    def like(self, post_id: str, user: FakeUser) -> None:
        self.videos[post_id].likes += 1

    def repost(self, post_id: str, user: FakeUser) -> None:
        """YouTube has no reposts: the closest is a share (counted by Analytics' ``shares``)."""
        self.videos[post_id].shares += 1

    def reply(self, post_id: str, user: FakeUser, text: str) -> str:
        """``user`` comments on a video (a new thread), or replies to a comment's thread."""
        self.clock.tick()
        if post_id in self.videos:
            comment = _Comment("Ug" + self._token(24), user, text, post_id, self.clock.now())
        else:
            parent = self.comments[post_id.split(".", 1)[0]]
            comment = _Comment(
                f"{parent.id}.{self._token(22)}",
                user,
                text,
                parent.video,
                self.clock.now(),
                parent=parent.id,
            )
        self.comments[comment.id] = comment
        return comment.id

    def quote(self, post_id: str, user: FakeUser, text: str) -> str:
        raise NotImplementedError("YouTube has no quotes")

    def mention(self, user: FakeUser, text: str) -> str:
        raise NotImplementedError("the YouTube API lists no mentions")

    def direct(self, user: FakeUser, text: str) -> str:
        raise NotImplementedError("YouTube has no direct messages")

    def view(self, post_id: str, count: int) -> None:
        self.videos[post_id].views += count

    def follow(self, follower: FakeUser, followee: FakeUser) -> None:
        if not any(s == (follower.id, followee.id) for s in self.subscriptions.values()):
            self.subscriptions[self._token(43)] = (follower.id, followee.id)
            followee.followers += 1
            follower.following += 1

    def has(self, relation: str, subject: str, target: str) -> bool:
        if relation == "like":
            return self.ratings.get((subject, target)) == "like"
        if relation == "follow":
            return (subject, target) in self.subscriptions.values()
        if relation == "hide":
            comment = self.comments.get(target)
            return comment is not None and comment.status == "heldForReview"
        return False

    # -- rendering --------------------------------------------------------------------------

    def _channel(self, user: FakeUser, parts: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "youtube#channel", "etag": "e", "id": user.id}
        videos = [v for v in self.videos.values() if v.channel.id == user.id]
        if "snippet" in parts:
            out["snippet"] = {
                "title": user.name,
                "description": "",
                "customUrl": f"@{user.handle}",
                "publishedAt": "2020-01-01T00:00:00Z",
                "thumbnails": {
                    "default": {
                        "url": f"https://yt3.ggpht.fake/{user.id}",
                        "width": 88,
                        "height": 88,
                    }
                },
            }
        if "statistics" in parts:
            out["statistics"] = {
                "viewCount": str(sum(v.views for v in videos)),
                "subscriberCount": str(user.followers),
                "hiddenSubscriberCount": False,
                "videoCount": str(len(videos)),
            }
        if "contentDetails" in parts:
            out["contentDetails"] = {
                "relatedPlaylists": {"likes": "", "uploads": "UU" + user.id[2:]}
            }
        return out

    def _video(self, video: _Video, parts: set[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "youtube#video", "etag": "e", "id": video.id}
        comments = sum(1 for c in self.comments.values() if c.video == video.id)
        if "snippet" in parts:
            snippet: dict[str, Any] = {
                "publishedAt": video.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "channelId": video.channel.id,
                "title": video.title,
                "description": video.description,
                "thumbnails": {
                    "default": {
                        "url": f"https://i.ytimg.fake/vi/{video.id}/default.jpg",
                        "width": 120,
                        "height": 90,
                    },
                    "high": {
                        "url": f"https://i.ytimg.fake/vi/{video.id}/hqdefault.jpg",
                        "width": 480,
                        "height": 360,
                    },
                },
                "channelTitle": video.channel.name,
                "categoryId": video.category,
                "liveBroadcastContent": "none",
            }
            if video.tags:
                snippet["tags"] = list(video.tags)
            if video.language:
                snippet["defaultLanguage"] = video.language
            out["snippet"] = snippet
        if "status" in parts:
            status: dict[str, Any] = {
                "uploadStatus": video.upload_status,
                "privacyStatus": video.privacy,
                "license": "youtube",
                "embeddable": True,
                "publicStatsViewable": True,
                "madeForKids": video.made_for_kids,
                "selfDeclaredMadeForKids": video.made_for_kids,
            }
            if video.publish_at:
                status["publishAt"] = video.publish_at
            if video.failure:
                status["failureReason"] = video.failure
            out["status"] = status
        if "statistics" in parts:
            out["statistics"] = {
                "viewCount": str(video.views),
                "likeCount": str(video.likes),
                "favoriteCount": "0",
                "commentCount": str(comments),
            }
        if "contentDetails" in parts:
            out["contentDetails"] = {
                "duration": "PT12S",
                "dimension": "2d",
                "definition": "hd",
                "caption": "false",
                "licensedContent": False,
                "projection": "rectangular",
            }
        if "processingDetails" in parts:
            state = {"processed": "succeeded", "failed": "failed"}.get(
                video.upload_status, "processing"
            )
            details: dict[str, Any] = {"processingStatus": state}
            if video.failure:
                details["processingFailureReason"] = "other"
            out["processingDetails"] = details
        return out

    def _comment(self, comment: _Comment) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "channelId": self.videos[comment.video].channel.id
            if comment.video in self.videos
            else "",
            "videoId": comment.video,
            "textDisplay": comment.text,
            "textOriginal": comment.text,
            "authorDisplayName": comment.author.name,
            "authorProfileImageUrl": f"https://yt3.ggpht.fake/{comment.author.id}",
            "authorChannelUrl": f"http://www.youtube.com/@{comment.author.handle}",
            "authorChannelId": {"value": comment.author.id},
            "canRate": True,
            "viewerRating": "none",
            "likeCount": 0,
            "publishedAt": comment.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updatedAt": comment.published.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if comment.parent:
            snippet["parentId"] = comment.parent
        if comment.status != "published":
            snippet["moderationStatus"] = comment.status
        return {"kind": "youtube#comment", "etag": "e", "id": comment.id, "snippet": snippet}

    def _thread(self, top: _Comment) -> dict[str, Any]:
        replies = [c for c in self.comments.values() if c.parent == top.id]
        out: dict[str, Any] = {
            "kind": "youtube#commentThread",
            "etag": "e",
            "id": top.id,
            "snippet": {
                "channelId": self.videos[top.video].channel.id if top.video in self.videos else "",
                "videoId": top.video,
                "topLevelComment": self._comment(top),
                "canReply": True,
                "totalReplyCount": len(replies),
                "isPublic": True,
            },
        }
        if replies:
            out["replies"] = {"comments": [self._comment(c) for c in replies[:5]]}
        return out

    # -- the app ----------------------------------------------------------------------------

    @property
    def app(self) -> Starlette:
        if self._app is None:
            api = [
                ("/youtube/v3/channels", "GET", "channels.list", self._channels),
                ("/youtube/v3/videos", "GET", "videos.list", self._videos_list),
                ("/youtube/v3/videos", "PUT", "videos.update", self._videos_update),
                ("/youtube/v3/videos", "DELETE", "videos.delete", self._videos_delete),
                ("/youtube/v3/videos/rate", "POST", "videos.rate", self._rate),
                ("/youtube/v3/playlistItems", "GET", "playlistItems.list", self._playlist),
                ("/youtube/v3/search", "GET", "search.list", self._search),
                ("/youtube/v3/playlists", "GET", "playlists.list", self._playlists),
                ("/youtube/v3/commentThreads", "GET", "commentThreads.list", self._threads),
                ("/youtube/v3/commentThreads", "POST", "commentThreads.insert", self._thread_new),
                ("/youtube/v3/comments", "POST", "comments.insert", self._comment_new),
                ("/youtube/v3/comments", "GET", "comments.list", self._comments_list),
                (
                    "/youtube/v3/comments/setModerationStatus",
                    "POST",
                    "comments.setModerationStatus",
                    self._moderate,
                ),
                ("/youtube/v3/subscriptions", "GET", "subscriptions.list", self._subs_list),
                ("/youtube/v3/subscriptions", "POST", "subscriptions.insert", self._subs_new),
                ("/youtube/v3/subscriptions", "DELETE", "subscriptions.delete", self._subs_delete),
                ("/upload/youtube/v3/thumbnails/set", "POST", "thumbnails.set", self._thumbnail),
                ("/v2/reports", "GET", "reports.query", self._report),
            ]
            by_path: dict[str, dict[str, tuple[str, Any]]] = {}
            for path, method, name, handler in api:
                by_path.setdefault(path, {})[method] = (name, handler)
            routes = [
                Route(path, self._endpoint(methods), methods=list(methods))
                for path, methods in by_path.items()
            ]
            routes.append(Route("/token", self._token_endpoint, methods=["POST"]))
            routes.append(
                Route(
                    "/o/oauth2/v2/auth",
                    lambda request: self.codes.authorize(request.query_params, self.owner.id),
                )
            )
            routes.append(Route("/subscribe", self._hub, methods=["POST"]))
            routes.append(Route("/upload/youtube/v3/videos", self._upload, methods=["POST", "PUT"]))
            self._app = Starlette(routes=routes)
        return self._app

    def _user_of(self, request: Request) -> FakeUser:
        auth = request.headers.get("authorization", "")
        user_id = self.access.get(auth[7:]) if auth.startswith("Bearer ") else None
        if user_id is None:
            raise _Error(
                401,
                "authError",
                "Request had invalid authentication credentials.",
                domain="global",
            )
        return self.users[user_id]

    def _charge(self, method: str) -> None:
        """Count the call against today's quota; past it, ``403 quotaExceeded``."""
        self.calls.append(method)
        cost = QUOTA_COSTS.get(method)
        if cost is None:
            return
        bucket = {"videos.insert": "uploads", "search.list": "searches"}.get(method, "units")
        limit = {"uploads": self.upload_quota, "searches": self.search_quota}.get(
            bucket, self.daily_quota
        )
        key = (self._day(), bucket)
        used = self.quota_used.get(key, 0)
        if used + cost > limit:
            raise _Error(
                403,
                "quotaExceeded",
                "The request cannot be completed because you have exceeded your "
                '<a href="/youtube/v3/getting-started#quota">quota</a>.',
                domain="youtube.quota",
            )
        self.quota_used[key] = used + cost

    def _go_public(self) -> None:
        """Scheduled videos whose ``publishAt`` has come (on the fake's clock) become public,
        as YouTube's scheduler makes them."""
        now = self.clock.now()
        for video in self.videos.values():
            if video.privacy == "private" and video.publish_at:
                try:
                    when = datetime.fromisoformat(video.publish_at.replace("Z", "+00:00"))
                except ValueError:
                    continue
                if when.replace(tzinfo=when.tzinfo or now.tzinfo) <= now:
                    video.privacy = "public"
                    video.publish_at = None

    def _endpoint(self, methods: dict[str, tuple[str, Any]]) -> Any:
        async def endpoint(request: Request) -> Response:
            name, handler = methods[request.method]
            try:
                user = self._user_of(request)
                self._charge(name)
                self._go_public()
                body: Any = None
                if request.method in ("POST", "PUT") and name != "thumbnails.set":
                    raw = await request.body()
                    if raw:
                        try:
                            body = json.loads(raw)
                        except ValueError:
                            raise _Error(400, "parseError", "Parse Error", "global") from None
                result = await handler(request, body, user)
            except _Error as exc:
                return _error_response(exc)
            if result is None:
                return Response(status_code=204)
            return JSONResponse(result)

        return endpoint

    async def _token_endpoint(self, request: Request) -> Response:
        form = await request.form()
        if form.get("client_id") != self.client_id or form.get("client_secret") != (
            self.client_secret
        ):
            return JSONResponse(
                {"error": "invalid_client", "error_description": "The OAuth client was not found."},
                status_code=401,
            )
        grant = form.get("grant_type")
        if grant == "authorization_code":
            return self._exchange(form)
        if grant != "refresh_token":
            return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
        who = self.refresh.get(str(form.get("refresh_token")))
        if who is None:
            return JSONResponse(
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
                status_code=400,
            )
        access = "ya29." + secrets.token_urlsafe(24)
        self.access[access] = who
        # Google does not rotate refresh tokens: the answer has none.
        return JSONResponse(
            {
                "access_token": access,
                "expires_in": 3599,
                "scope": " ".join(
                    [
                        "https://www.googleapis.com/auth/youtube.upload",
                        "https://www.googleapis.com/auth/youtube.force-ssl",
                        "https://www.googleapis.com/auth/yt-analytics.readonly",
                    ]
                ),
                "token_type": "Bearer",
            }
        )

    async def _hub(self, request: Request) -> Response:
        """The WebSub hub: a (un)subscription is accepted with 202 (the hub verifies the
        callback later; here the subscription is simply kept)."""
        form = await request.form()
        topic = str(form.get("hub.topic") or "")
        callback = str(form.get("hub.callback") or "")
        mode = form.get("hub.mode")
        if not topic.startswith("https://www.youtube.com/xml/feeds/videos.xml?channel_id="):
            return Response("Invalid value for hub.topic", status_code=400)
        if not callback.startswith(("http://", "https://")) or mode not in (
            "subscribe",
            "unsubscribe",
        ):
            return Response("Invalid value for hub.callback or hub.mode", status_code=400)
        if mode == "subscribe":
            secret = form.get("hub.secret")
            self.websub[topic] = (callback, str(secret) if secret else None)
        else:
            self.websub.pop(topic, None)
        return Response(status_code=202)

    def notification(self, video_id: str, *, deleted: bool = False) -> tuple[bytes, dict[str, str]]:
        """The delivery the hub would POST to the subscription of the video's channel: the
        Atom body and its headers (``X-Hub-Signature`` when the subscription has a secret)."""
        import hashlib
        import hmac

        video = self.videos[video_id]
        channel = video.channel.id
        topic = f"https://www.youtube.com/xml/feeds/videos.xml?channel_id={channel}"
        stamp = self.clock.now().strftime("%Y-%m-%dT%H:%M:%S+00:00")
        if deleted:
            entry = (
                f'<at:deleted-entry ref="yt:video:{video_id}" when="{stamp}">'
                f'<link href="https://www.youtube.com/watch?v={video_id}"/>'
                f"<at:by><name>{video.channel.name}</name>"
                f"<uri>https://www.youtube.com/channel/{channel}</uri></at:by>"
                "</at:deleted-entry>"
            )
        else:
            published = video.published.strftime("%Y-%m-%dT%H:%M:%S+00:00")
            entry = (
                f"<entry><id>yt:video:{video_id}</id><yt:videoId>{video_id}</yt:videoId>"
                f"<yt:channelId>{channel}</yt:channelId><title>{video.title}</title>"
                f'<link rel="alternate" href="https://www.youtube.com/watch?v={video_id}"/>'
                f"<author><name>{video.channel.name}</name>"
                f"<uri>https://www.youtube.com/channel/{channel}</uri></author>"
                f"<published>{published}</published><updated>{stamp}</updated></entry>"
            )
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<feed xmlns:yt="http://www.youtube.com/xml/schemas/2015" '
            'xmlns:at="http://purl.org/atompub/tombstones/1.0" '
            'xmlns="http://www.w3.org/2005/Atom">'
            '<link rel="hub" href="https://pubsubhubbub.appspot.com"/>'
            f'<link rel="self" href="{topic}"/>'
            f"<title>YouTube video feed</title><updated>{stamp}</updated>{entry}</feed>"
        ).encode()
        headers = {"Content-Type": "application/atom+xml"}
        secret = self.websub.get(topic, ("", None))[1]
        if secret:
            digest = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
            headers["X-Hub-Signature"] = f"sha1={digest}"
        return body, headers

    def _exchange(self, form: Any) -> Response:
        """The authorization code grant with PKCE (S256), as Google's token endpoint takes it:
        the code, its redirect URI and the verifier checked."""
        grant = self.codes.redeem({k: str(v) for k, v in form.items()}, self.client_id)
        if grant is None:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "Malformed auth code."},
                status_code=400,
            )
        access, refresh = self.tokens(self.users[grant.user_id])
        return JSONResponse(
            {
                "access_token": access,
                "expires_in": 3599,
                "refresh_token": refresh,
                "scope": "https://www.googleapis.com/auth/youtube.upload",
                "token_type": "Bearer",
            }
        )

    def approve(self, url: str, user: FakeUser | None = None) -> str:
        """What Google's consent page does when ``user`` (default: the owner) accepts: the
        redirect URL (with ``code`` and ``state``) for the authorization ``url``."""
        return self.codes.approve(url, (user or self.owner).id)

    # -- uploads ----------------------------------------------------------------------------

    async def _upload(self, request: Request) -> Response:
        try:
            user = self._user_of(request)
            if request.method == "POST":
                return await self._start(request, user)
            return await self._put(request, user)
        except _Error as exc:
            return _error_response(exc)

    async def _start(self, request: Request, user: FakeUser) -> Response:
        if request.query_params.get("uploadType") != "resumable":
            raise _Error(400, "invalidValue", "only resumable uploads are simulated")
        self._charge("videos.insert")
        try:
            metadata = json.loads(await request.body() or b"{}")
        except ValueError:
            raise _Error(400, "parseError", "Parse Error", "global") from None
        snippet = metadata.get("snippet") or {}
        title = snippet.get("title")
        if not isinstance(title, str) or not title.strip():
            raise _Error(400, "invalidTitle", "The request metadata specifies an invalid title.")
        if len(title) > 100 or "<" in title or ">" in title:
            raise _Error(400, "invalidTitle", "The request metadata specifies an invalid title.")
        description = snippet.get("description") or ""
        if len(str(description).encode()) > 5000 or "<" in description or ">" in description:
            raise _Error(
                400, "invalidDescription", "The request metadata specifies an invalid description."
            )
        status = metadata.get("status") or {}
        if status.get("publishAt") and status.get("privacyStatus") != "private":
            raise _Error(
                400,
                "invalidPublishAt",
                "The request metadata specifies an invalid scheduled publishing time.",
            )
        size = request.headers.get("x-upload-content-length", "")
        if not size.isdigit() or int(size) == 0:
            raise _Error(400, "badContent", "X-Upload-Content-Length is required")
        session = _Session(
            secrets.token_urlsafe(32),
            user,
            metadata,
            int(size),
            request.headers.get("x-upload-content-type", "video/*"),
        )
        self.sessions[session.id] = session
        location = (
            f"{self.base_url}/upload/youtube/v3/videos?uploadType=resumable"
            f"&upload_id={session.id}&part={request.query_params.get('part', 'snippet')}"
        )
        return Response(status_code=200, headers={"Location": location})

    def _incomplete(self, session: _Session) -> Response:
        headers = {}
        if session.received:
            headers["Range"] = f"bytes=0-{len(session.received) - 1}"
        return Response(status_code=308, headers=headers)

    async def _put(self, request: Request, user: FakeUser) -> Response:
        session = self.sessions.get(request.query_params.get("upload_id", ""))
        if session is None or session.channel.id != user.id:
            raise _Error(404, "notFound", "The upload session was not found.", "global")
        if session.video is not None:
            return JSONResponse(self._video(session.video, {"snippet", "status"}), status_code=200)
        content_range = request.headers.get("content-range", "")
        data = await request.body()
        query = re.fullmatch(r"bytes \*/(\d+)", content_range)
        if query is not None:
            return self._incomplete(session)
        match = re.fullmatch(r"bytes (\d+)-(\d+)/(\d+)", content_range)
        if match is None:
            raise _Error(400, "badContent", "Failed to parse Content-Range header.", "global")
        first, last, total = (int(g) for g in match.groups())
        if total != session.size or len(data) != last - first + 1:
            raise _Error(400, "badContent", "Content-Range does not match the body.", "global")
        if first != len(session.received):
            return self._incomplete(session)  # not where the server is: it says where
        final = last == session.size - 1
        if not final and len(data) % (256 * _KiB):
            raise _Error(
                400,
                "badContent",
                "A chunk that is not the last is a multiple of 256 KiB.",
                "global",
            )
        keep = data if self.accept_per_put is None else data[: self.accept_per_put]
        session.received.extend(keep)
        if len(session.received) < session.size:
            return self._incomplete(session)
        session.video = self._finish(session)
        return JSONResponse(self._video(session.video, {"snippet", "status"}), status_code=201)

    def _finish(self, session: _Session) -> _Video:
        snippet = session.metadata.get("snippet") or {}
        status = session.metadata.get("status") or {}
        video = self._new_video(
            session.channel, str(snippet["title"]), snippet.get("description") or ""
        )
        video.privacy = str(status.get("privacyStatus") or "public")
        video.publish_at = status.get("publishAt")
        video.category = str(snippet.get("categoryId") or "22")
        video.tags = list(snippet.get("tags") or [])
        video.language = snippet.get("defaultLanguage")
        video.made_for_kids = bool(status.get("selfDeclaredMadeForKids"))
        video.upload_status = "uploaded"
        video.reads_left = self.processing_reads
        video.size = session.size
        video.mime = session.mime
        if self._fail_next:
            video.failure = self._fail_next.pop(0)
        return video

    # -- endpoints -------------------------------------------------------------------------

    @staticmethod
    def _parts(request: Request) -> set[str]:
        part = request.query_params.get("part")
        if not part:
            raise _Error(
                400, "missingRequiredParameter", "No filter selected. Expected one of: part"
            )
        return set(part.split(","))

    async def _channels(self, request: Request, body: Any, user: FakeUser) -> Any:
        parts = self._parts(request)
        q = request.query_params
        found: list[FakeUser] = []
        if q.get("mine") == "true":
            found = [user]
        elif q.get("id"):
            found = [self.users[i] for i in q["id"].split(",") if i in self.users]
        elif q.get("forHandle"):
            handle = q["forHandle"].lstrip("@").lower()
            found = [u for u in self.users.values() if u.handle.lower() == handle]
        else:
            raise _Error(400, "missingRequiredParameter", "No filter selected.")
        return {
            "kind": "youtube#channelListResponse",
            "etag": "e",
            "pageInfo": {"totalResults": len(found), "resultsPerPage": 5},
            "items": [self._channel(u, parts) for u in found],
        }

    def _visible(self, video: _Video, user: FakeUser) -> bool:
        return video.channel.id == user.id or video.privacy != "private"

    async def _videos_list(self, request: Request, body: Any, user: FakeUser) -> Any:
        parts = self._parts(request)
        ids = [i for i in request.query_params.get("id", "").split(",") if i]
        if len(ids) > 50:
            raise _Error(400, "invalidValue", "At most 50 ids.")
        items = []
        for video_id in ids:
            video = self.videos.get(video_id)
            if video is None or not self._visible(video, user):
                continue
            if video.upload_status == "uploaded":
                if video.reads_left > 0:
                    video.reads_left -= 1
                elif video.failure:
                    video.upload_status = "failed"
                else:
                    video.upload_status = "processed"
            items.append(self._video(video, parts))
        return {
            "kind": "youtube#videoListResponse",
            "etag": "e",
            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            "items": items,
        }

    def _own(self, video_id: Any, user: FakeUser) -> _Video:
        video = self.videos.get(str(video_id))
        if video is None:
            raise _Error(
                404, "videoNotFound", "The video that you are trying to use cannot be found."
            )
        if video.channel.id != user.id:
            raise _Error(403, "forbidden", "The video cannot be changed by this channel.")
        return video

    async def _videos_update(self, request: Request, body: Any, user: FakeUser) -> Any:
        parts = self._parts(request)
        if not isinstance(body, dict):
            raise _Error(400, "invalidValue", "A video resource is required.")
        video = self._own(body.get("id"), user)
        if "snippet" in parts:
            snippet = body.get("snippet") or {}
            if not snippet.get("title") or not snippet.get("categoryId"):
                raise _Error(400, "invalidCategoryId", "snippet.title and categoryId are required")
            video.title = str(snippet["title"])
            video.description = str(snippet.get("description") or "")
            video.category = str(snippet["categoryId"])
            video.tags = list(snippet.get("tags") or [])
        if "status" in parts:
            status = body.get("status") or {}
            if status.get("publishAt") and status.get("privacyStatus") != "private":
                raise _Error(400, "invalidPublishAt", "publishAt needs privacyStatus private")
            video.privacy = str(status.get("privacyStatus") or video.privacy)
            video.publish_at = status.get("publishAt")
        return self._video(video, parts)

    async def _videos_delete(self, request: Request, body: Any, user: FakeUser) -> Any:
        video = self._own(request.query_params.get("id"), user)
        del self.videos[video.id]
        return None

    async def _rate(self, request: Request, body: Any, user: FakeUser) -> Any:
        video_id = request.query_params.get("id", "")
        rating = request.query_params.get("rating")
        if video_id not in self.videos:
            raise _Error(
                404, "videoNotFound", "The video that you are trying to rate cannot be found."
            )
        if rating not in ("like", "dislike", "none"):
            raise _Error(400, "invalidRating", "The request contained an unexpected rating.")
        before = self.ratings.get((user.id, video_id), "none")
        if before == "like":
            self.videos[video_id].likes -= 1
        if rating == "like":
            self.videos[video_id].likes += 1
        self.ratings[(user.id, video_id)] = rating
        return None

    def _listing(
        self,
        kind: str,
        items: list[Any],
        request: Request,
        default: int,
        most: int,
        *,
        counted: bool = True,
    ) -> dict[str, Any]:
        """A ``youtube#...ListResponse`` of ``kind`` holding one page of ``items`` (``(id,
        resource)`` pairs); ``pageInfo.totalResults`` counts them all, or (``counted=False``,
        as the comment lists report it) the page's."""
        page, token = self._page(items, request, default, most)
        out: dict[str, Any] = {
            "kind": f"youtube#{kind}ListResponse",
            "etag": "e",
            "pageInfo": {
                "totalResults": len(items) if counted else len(page),
                "resultsPerPage": len(page),
            },
            "items": page,
        }
        if token:
            out["nextPageToken"] = token
        return out

    def _page(
        self, items: list[Any], request: Request, default: int, most: int
    ) -> tuple[list[Any], str | None]:
        """One page; the token names the item after the previous page's last (so items added
        at the front in between do not shift it)."""
        size = request.query_params.get("maxResults", str(default))
        if not size.isdigit() or not 0 <= int(size) <= most:
            raise _Error(400, "invalidValue", f"maxResults is 0-{most}")
        token = request.query_params.get("pageToken")
        start = 0
        if token:
            ids = [item[0] for item in items]
            if token not in ids:
                raise _Error(
                    400, "invalidPageToken", "The request specifies an invalid page token."
                )
            start = ids.index(token)
        page = items[start : start + int(size)]
        rest = items[start + int(size) :]
        return [item[1] for item in page], rest[0][0] if rest else None

    async def _playlist(self, request: Request, body: Any, user: FakeUser) -> Any:
        parts = self._parts(request)
        playlist = request.query_params.get("playlistId", "")
        owner = self.users.get("UC" + playlist[2:]) if playlist.startswith("UU") else None
        if owner is not None:
            videos = sorted(
                (
                    v
                    for v in self.videos.values()
                    if v.channel.id == owner.id and self._visible(v, user)
                ),
                key=lambda v: (v.published, v.id),
                reverse=True,
            )
        elif playlist in self.playlists:
            owner = self.playlists[playlist].channel
            videos = [
                self.videos[i]
                for i in self.playlists[playlist].videos
                if i in self.videos and self._visible(self.videos[i], user)
            ]
        else:
            raise _Error(404, "playlistNotFound", "The playlist cannot be found.")
        items = []
        for index, video in enumerate(videos):
            item: dict[str, Any] = {
                "kind": "youtube#playlistItem",
                "etag": "e",
                "id": "PLI" + video.id,
            }
            published = video.published.strftime("%Y-%m-%dT%H:%M:%SZ")
            if "snippet" in parts:
                item["snippet"] = {
                    "publishedAt": published,
                    "channelId": owner.id,
                    "title": video.title,
                    "description": video.description,
                    "playlistId": playlist,
                    "position": index,
                    "resourceId": {"kind": "youtube#video", "videoId": video.id},
                }
            if "contentDetails" in parts:
                item["contentDetails"] = {"videoId": video.id, "videoPublishedAt": published}
            items.append((video.id, item))
        return self._listing("playlistItem", items, request, 5, 50)

    async def _playlists(self, request: Request, body: Any, user: FakeUser) -> Any:
        parts = self._parts(request)
        q = request.query_params
        if q.get("mine") == "true":
            found = [p for p in self.playlists.values() if p.channel.id == user.id]
        elif q.get("id"):
            found = [self.playlists[i] for i in q["id"].split(",") if i in self.playlists]
        else:
            raise _Error(400, "missingRequiredParameter", "No filter selected.")
        items = []
        for playlist in found:
            item: dict[str, Any] = {"kind": "youtube#playlist", "etag": "e", "id": playlist.id}
            if "snippet" in parts:
                item["snippet"] = {
                    "publishedAt": "2020-01-01T00:00:00Z",
                    "channelId": playlist.channel.id,
                    "title": playlist.title,
                    "description": playlist.description,
                    "channelTitle": playlist.channel.name,
                }
            if "contentDetails" in parts:
                item["contentDetails"] = {"itemCount": len(playlist.videos)}
            items.append((playlist.id, item))
        return self._listing("playlist", items, request, 5, 50)

    async def _search(self, request: Request, body: Any, user: FakeUser) -> Any:
        self._parts(request)
        q = request.query_params
        if q.get("type", "video") != "video" or q.get("order", "date") != "date":
            raise _Error(400, "invalidValue", "only type=video order=date is simulated")
        words = q.get("q", "").lower().split()
        after = q.get("publishedAfter")
        before = q.get("publishedBefore")

        def stamp(video: _Video) -> str:
            return video.published.strftime("%Y-%m-%dT%H:%M:%SZ")

        found = sorted(
            (
                v
                for v in self.videos.values()
                if v.privacy == "public"
                and all(w in f"{v.title} {v.description}".lower() for w in words)
                and (after is None or stamp(v) >= after)
                and (before is None or stamp(v) < before)
            ),
            key=lambda v: (v.published, v.id),
            reverse=True,
        )
        items = [
            (
                v.id,
                {
                    "kind": "youtube#searchResult",
                    "etag": "e",
                    "id": {"kind": "youtube#video", "videoId": v.id},
                },
            )
            for v in found
        ]
        return self._listing("search", items, request, 5, 50)

    async def _threads(self, request: Request, body: Any, user: FakeUser) -> Any:
        self._parts(request)
        q = request.query_params
        if q.get("videoId"):
            if q["videoId"] not in self.videos:
                raise _Error(
                    404, "videoNotFound", "The video identified by videoId cannot be found."
                )
            tops = [c for c in self.comments.values() if c.video == q["videoId"]]
        elif q.get("allThreadsRelatedToChannelId"):
            channel = q["allThreadsRelatedToChannelId"]
            tops = [
                c
                for c in self.comments.values()
                if c.video in self.videos and self.videos[c.video].channel.id == channel
            ]
        else:
            raise _Error(400, "missingRequiredParameter", "No filter selected.")
        tops = [c for c in tops if c.parent is None]
        tops.sort(key=lambda c: (c.published, c.id), reverse=True)
        return self._listing(
            "commentThread",
            [(c.id, self._thread(c)) for c in tops],
            request,
            20,
            100,
            counted=False,
        )

    async def _thread_new(self, request: Request, body: Any, user: FakeUser) -> Any:
        snippet = (body or {}).get("snippet") or {}
        video_id = snippet.get("videoId")
        text = ((snippet.get("topLevelComment") or {}).get("snippet") or {}).get("textOriginal")
        if video_id not in self.videos:
            raise _Error(404, "videoNotFound", "The video identified by videoId cannot be found.")
        if not isinstance(text, str) or not text:
            raise _Error(
                400, "commentTextRequired", "The comment resource must contain textOriginal."
            )
        comment_id = self.reply(str(video_id), user, text)
        return self._thread(self.comments[comment_id])

    async def _comment_new(self, request: Request, body: Any, user: FakeUser) -> Any:
        snippet = (body or {}).get("snippet") or {}
        parent = snippet.get("parentId")
        text = snippet.get("textOriginal")
        if parent not in self.comments or self.comments[str(parent)].parent is not None:
            raise _Error(404, "parentCommentNotFound", "The parent comment could not be found.")
        if not isinstance(text, str) or not text:
            raise _Error(
                400, "commentTextRequired", "The comment resource must contain textOriginal."
            )
        return self._comment(self.comments[self.reply(str(parent), user, text)])

    async def _comments_list(self, request: Request, body: Any, user: FakeUser) -> Any:
        self._parts(request)
        q = request.query_params
        if q.get("parentId"):
            found = [c for c in self.comments.values() if c.parent == q["parentId"]]
        elif q.get("id"):
            found = [self.comments[i] for i in q["id"].split(",") if i in self.comments]
        else:
            raise _Error(400, "missingRequiredParameter", "No filter selected.")
        return self._listing(
            "comment", [(c.id, self._comment(c)) for c in found], request, 20, 100, counted=False
        )

    async def _moderate(self, request: Request, body: Any, user: FakeUser) -> Any:
        q = request.query_params
        status = q.get("moderationStatus")
        if status not in ("published", "heldForReview", "rejected"):
            raise _Error(400, "invalidModerationStatus", "The moderation status is invalid.")
        for comment_id in q.get("id", "").split(","):
            comment = self.comments.get(comment_id)
            if comment is None:
                raise _Error(404, "commentNotFound", "The comment could not be found.")
            video = self.videos.get(comment.video)
            if video is None or video.channel.id != user.id:
                raise _Error(403, "forbidden", "Only the video's channel moderates its comments.")
            comment.status = str(status)
        return None

    def _subscription(self, sub_id: str, pair: tuple[str, str]) -> dict[str, Any]:
        return {
            "kind": "youtube#subscription",
            "etag": "e",
            "id": sub_id,
            "snippet": {
                "title": self.users[pair[1]].name,
                "channelId": pair[0],
                "resourceId": {"kind": "youtube#channel", "channelId": pair[1]},
            },
        }

    async def _subs_list(self, request: Request, body: Any, user: FakeUser) -> Any:
        self._parts(request)
        q = request.query_params
        if q.get("mine") != "true":
            raise _Error(400, "invalidValue", "only mine=true is simulated")
        wanted = set(q.get("forChannelId", "").split(",")) - {""}
        items = [
            self._subscription(i, pair)
            for i, pair in self.subscriptions.items()
            if pair[0] == user.id and (not wanted or pair[1] in wanted)
        ]
        return {
            "kind": "youtube#subscriptionListResponse",
            "etag": "e",
            "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)},
            "items": items,
        }

    async def _subs_new(self, request: Request, body: Any, user: FakeUser) -> Any:
        resource = ((body or {}).get("snippet") or {}).get("resourceId") or {}
        channel = resource.get("channelId")
        if channel not in self.users:
            raise _Error(404, "publisherNotFound", "The subscribed channel could not be found.")
        if (user.id, channel) in self.subscriptions.values():
            raise _Error(400, "subscriptionDuplicate", "The subscription already exists.")
        self.follow(user, self.users[str(channel)])
        sub_id = next(i for i, p in self.subscriptions.items() if p == (user.id, channel))
        return self._subscription(sub_id, (user.id, str(channel)))

    async def _subs_delete(self, request: Request, body: Any, user: FakeUser) -> Any:
        pair = self.subscriptions.get(request.query_params.get("id", ""))
        if pair is None or pair[0] != user.id:
            raise _Error(404, "subscriptionNotFound", "The subscription could not be found.")
        del self.subscriptions[request.query_params["id"]]
        self.users[pair[1]].followers -= 1
        user.following -= 1
        return None

    async def _thumbnail(self, request: Request, body: Any, user: FakeUser) -> Any:
        video = self._own(request.query_params.get("videoId"), user)
        data = await request.body()
        if request.headers.get("content-type") not in ("image/jpeg", "image/png"):
            raise _Error(400, "invalidImage", "The provided image content is invalid.")
        if len(data) > 2 * 1024 * 1024:
            raise _Error(400, "mediaBodyTooLarge", "The image is larger than 2 MB.")
        video.thumbnail = data
        return {
            "kind": "youtube#thumbnailSetResponse",
            "etag": "e",
            "items": [
                {
                    "default": {
                        "url": f"https://i.ytimg.fake/vi/{video.id}/default.jpg",
                        "width": 120,
                        "height": 90,
                    }
                }
            ],
        }

    async def _report(self, request: Request, body: Any, user: FakeUser) -> Any:
        q = request.query_params
        if q.get("ids") != "channel==MINE" or not q.get("startDate") or not q.get("endDate"):
            raise _Error(400, "badRequest", "ids, startDate and endDate are required", "global")
        names = [m for m in q.get("metrics", "").split(",") if m]
        videos = [v for v in self.videos.values() if v.channel.id == user.id]
        wanted = q.get("filters", "")
        if wanted.startswith("video=="):
            videos = [v for v in videos if v.id == wanted[7:]]
        views = sum(v.views for v in videos)
        values = {
            "views": views,
            "likes": sum(v.likes for v in videos),
            "comments": sum(1 for c in self.comments.values() if c.video in {v.id for v in videos}),
            "shares": sum(v.shares for v in videos),
            "estimatedMinutesWatched": views // 2,
            "averageViewDuration": 30 if views else 0,
            "subscribersGained": user.followers,
            "subscribersLost": 0,
        }
        unknown = [n for n in names if n not in values]
        if unknown:
            raise _Error(
                400,
                "badRequest",
                f"Unknown identifier ({unknown[0]}) given in field parameters.metrics.",
                "global",
            )
        return {
            "kind": "youtubeAnalytics#resultTable",
            "columnHeaders": [
                {"name": n, "columnType": "METRIC", "dataType": "INTEGER"} for n in names
            ],
            "rows": [[values[n] for n in names]],
        }
