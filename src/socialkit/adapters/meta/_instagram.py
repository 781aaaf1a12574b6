"""The Instagram adapter (registry name ``instagram``): professional accounts through the
Instagram Graph API: Instagram API with Facebook Login (``graph.facebook.com``, the default),
or with Instagram Login (``graph.instagram.com``: the same calls, Instagram's own login and
tokens).

Publishing is the container flow: create a container (``POST /{ig-user}/media``: an image by
URL, a reel from a URL or uploaded resumably, or a carousel of up to 10 items), wait until its
``status_code`` is FINISHED (ERROR and EXPIRED are clear errors), then ``POST
/{ig-user}/media_publish``; ``content_publishing_limit`` is read first. Images must be at a
public URL (``Media.from_url``): Instagram fetches them itself and takes no image bytes.

Ids are numeric; a handle (``@name``, or any string that is not all digits) is looked up
through business discovery (``business_discovery.username(name)``), which only finds other
professional accounts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
from pydantic import Field

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    ConfigurationError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    TransportError,
)
from socialkit._models import Account, Media, Message, MessageKind, Metric, Post, Problem
from socialkit._paging import Batch, Fetch, Paged
from socialkit.adapters._base import (
    AdapterSettings,
    HttpURL,
    MediaSource,
    as_post,
    kinds_filter,
)
from socialkit.adapters.meta import _auth
from socialkit.adapters.meta._common import (
    ContainerAdapter,
    MetaSettings,
    comments_lookback,
    insights,
    parse_time,
    walk_horizon,
    within_horizon,
)
from socialkit.adapters.meta._graph import graph_id, obj

if TYPE_CHECKING:
    from socialkit.auth import Token

__all__ = [
    "INSTAGRAM_ACCOUNT_METRICS",
    "INSTAGRAM_POST_METRICS",
    "InstagramAdapter",
    "InstagramSettings",
]

_log = logging.getLogger("socialkit.adapters.meta.instagram")
_MiB = 1024 * 1024

#: Media insights asked for, and their canonical names (``impressions``, ``plays`` and
#: ``video_views`` are gone since v22: ``views`` replaces them).
INSTAGRAM_POST_METRICS: dict[str, str] = {
    "views": "views",
    "reach": "reach",
    "saved": "saves",
    "shares": "shares",
    "likes": "likes",
    "comments": "replies",
    "total_interactions": "engagements",
}
#: Account insights (``metric_type=total_value``), and their canonical names. Interactions
#: are ``engagements``, as on media; ``accounts_engaged`` counts unique accounts, not
#: interactions, and has no canonical name: it keeps its own.
INSTAGRAM_ACCOUNT_METRICS: dict[str, str] = {
    "reach": "reach",
    "views": "views",
    "accounts_engaged": "accounts_engaged",
    "total_interactions": "engagements",
    "profile_links_taps": "profile_clicks",
    "follows_and_unfollows": "follows_and_unfollows",
}

_MEDIA_FIELDS = (
    "id,caption,media_type,media_product_type,media_url,permalink,thumbnail_url,timestamp,"
    "username,alt_text,like_count,comments_count,children{id,media_type,media_url,"
    "thumbnail_url,alt_text}"
)
_COMMENT_FIELDS = "id,text,timestamp,username,from,parent_id,hidden,media"
#: A comment or reply as the inbox reads it (``/{media}/comments``, ``/{comment}/replies``).
_THREAD_FIELDS = "id,text,timestamp,username,from,parent_id"
_USER_FIELDS = (
    "id,username,name,biography,followers_count,follows_count,media_count,"
    "profile_picture_url,website"
)
#: "JPEG is the only image format supported" (Content Publishing guide, Limitations).
_IMAGE_TYPES = frozenset({"image/jpeg"})
_VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})
_HASHTAG = r"(?<![\w&])#\w+"
#: Reels: "Duration: 15 mins maximum, 3 seconds minimum" (IG User Media reference, Reel
#: specifications); the bounds hold for every video Instagram publishes through the API.
_VIDEO_SECONDS = (3.0, 900.0)


class InstagramSettings(MetaSettings):
    """Settings of the Instagram adapter: the professional account's id (``ig_user_id``: the
    Page's ``instagram_business_account``) and a token with the permissions in the docs."""

    base_url: HttpURL = Field(
        default="https://graph.facebook.com", description="The Graph API host."
    )
    upload_url: HttpURL = Field(
        default="https://rupload.facebook.com/ig-api-upload",
        description="Where video bytes are uploaded resumably.",
    )
    comments_lookback_days: float | None = comments_lookback()
    upload_chunk_size: int = Field(
        default=8 * _MiB,
        ge=_MiB,
        le=64 * _MiB,
        description=(
            "Bytes of a video file sent per resumable-upload request (each with its offset): "
            "the most held in memory at a time."
        ),
    )
    ig_user_id: str | None = Field(
        default=None, pattern=r"^[0-9]{1,25}$", description="The Instagram professional account."
    )
    instagram_login: bool | None = Field(
        default=None,
        description=(
            "Tokens of Instagram Login (Business Login for Instagram: the login, "
            "ig_exchange_token, ig_refresh_token) rather than Facebook Login; default: when "
            "base_url is https://graph.instagram.com. app_id and app_secret are then the "
            "app's Instagram App ID and secret."
        ),
    )
    token_url: HttpURL | None = Field(
        default=None,
        description=(
            "Instagram Login's code exchange (default https://api.instagram.com/oauth/"
            "access_token; a fake served on a port gives its own)."
        ),
    )


class InstagramAdapter(ContainerAdapter):
    """Instagram professional accounts. See ``docs/networks/instagram.md``."""

    name: ClassVar[str] = "instagram"
    Settings: ClassVar[type[AdapterSettings]] = InstagramSettings
    docs_url: ClassVar[str | None] = "https://developers.facebook.com/docs/instagram-platform"
    base_url = "https://graph.facebook.com"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_IMAGE,
            Capability.PUBLISH_VIDEO,
            Capability.DELETE,
            Capability.READ_POSTS,
            Capability.READ_OTHERS,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.COMMENTS,
            Capability.MENTIONS,
            Capability.REPLY,
            Capability.SEARCH,
            Capability.WEBHOOKS,
            Capability.HIDE,
            Capability.ACCOUNTS,
        }
    )
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.PUBLISH_TEXT: "every Instagram post carries an image or a video",
        Capability.PUBLISH_GIF: "Instagram takes JPEG images and MP4/MOV videos, not GIFs",
        Capability.PUBLISH_AUDIO: "Instagram publishes no audio on its own",
        Capability.PUBLISH_THREAD: (
            "Instagram has no threads of posts: a carousel holds up to 10 media"
        ),
        Capability.PUBLISH_POLL: "polls are Story stickers, which the API does not publish",
        Capability.QUOTE: "Instagram has no quotes",
        Capability.NATIVE_SCHEDULING: (
            "the Content Publishing API has no publish time: the planner publishes when due"
        ),
        Capability.EDIT: "the API changes a media's comments setting, never its caption",
        Capability.DIRECT_MESSAGES: (
            "Instagram messages go through the Messenger Platform's Instagram API, a product "
            "of its own (its own webhooks and app review), not the Graph API's media calls"
        ),
        Capability.LIKE: "the API cannot like media",
        Capability.REPOST: "Instagram has no reposts in the API",
        Capability.BOOKMARK: "the API has no saved collections",
        Capability.FOLLOW: "the API cannot follow accounts",
        Capability.BLOCK: "the API cannot block accounts",
        Capability.MUTE: "the API cannot mute accounts",
        Capability.FOLLOWERS: "the API gives follower counts, never the list",
        Capability.TIMELINE: "the API has no home feed",
        Capability.FEEDS: "Instagram has no custom feeds",
        Capability.UPLOAD: (
            "media go into the container of one post (Instagram fetches a URL, or takes a "
            "video's bytes for that container): nothing is uploaded ahead for later"
        ),
        Capability.STREAM: "the Graph API streams nothing: subscribe to webhooks (comments)",
    }
    limits = Limits(
        max_text=2200,
        max_media=10,
        max_images=10,
        max_videos=10,
        image_max_bytes=8 * _MiB,
        video_max_bytes=1024 * _MiB,
        media_types=_IMAGE_TYPES | _VIDEO_TYPES,
        max_alt_text=1000,
    )

    settings: InstagramSettings

    _login_id = ("ig_user_id", "it finds the account you log in with")
    _status_fields = ("status_code", "status")
    _publish_edge = "media_publish"
    _limit_edge = "content_publishing_limit"
    _insights_call = (
        "insights",
        INSTAGRAM_ACCOUNT_METRICS,
        {"period": "day", "metric_type": "total_value"},
    )
    _hide_call = ("", "hide")
    _posts_edge = "media"
    _post_fields = _MEDIA_FIELDS
    _text_field = "caption"
    _post_url = "https://www.instagram.com/p/{id}/"

    @property
    def _owner(self) -> str:
        return self.ig_user

    @property
    def ig_user(self) -> str:
        """The account: the ``ig_user_id`` setting, or the one the stored login chose."""
        return self._chosen_id()

    # -- Instagram Login -----------------------------------------------------------------------

    def _ig_login(self) -> bool:
        chosen = self.settings.instagram_login
        if chosen is not None:
            return chosen
        return _auth.instagram_login(httpx.URL(self._base_url()).host)

    def _login_endpoints(self) -> tuple[str, str, tuple[str, ...], bool]:
        if not self._ig_login():
            return super()._login_endpoints()
        login = _auth.INSTAGRAM_LOGIN
        # Instagram documents no PKCE for its authorization window: the state guards it.
        return (
            self.settings.authorize_url or login["authorize"],
            self.settings.token_url or login["token"],
            tuple(login["scopes"]),
            False,
        )

    async def _login_token(self, user: Token) -> Token:
        """With Instagram Login the long-lived token is the account's own; its id (the
        ``user_id`` of ``GET /me``: the professional account id the calls take, not the
        app-scoped id of the code exchange) is stored with it."""
        if not self._ig_login():
            return await super()._login_token(user)
        from socialkit.auth import Token

        answer = await self.graph.get("/me", {"fields": "user_id,username"})
        # The Get Started guide shows the answer in a one-item ``data`` list, the node
        # reference (IGUserForIGOnlyAPI) flat: both are read.
        rows = answer.get("data")
        row = rows[0] if isinstance(rows, list) and rows and isinstance(rows[0], dict) else answer
        found = row.get("user_id")
        account = str(found) if isinstance(found, int | str) and not isinstance(found, bool) else ""
        if not account.isdigit():
            raise MalformedResponseError(
                self.name, None, "malformed_response", "GET /me gave no user_id"
            )
        wanted = self.settings.ig_user_id
        if wanted is not None and wanted != account:
            name = row.get("username")
            raise ConfigurationError(
                f"instagram: the login is for account {account}"
                + (f" (@{name})" if isinstance(name, str) else "")
                + f", not the ig_user_id setting {wanted}"
            )
        return Token(
            access_token=user.access_token,
            expires_at=user.expires_at,
            extra={"ig_user_id": account},
        )

    # -- pre-flight ----------------------------------------------------------------------------

    def _check_extra(self, post: Post) -> list[Problem]:
        import re

        problems: list[Problem] = []
        for index, item in enumerate(post.posts()):
            prefix = "" if index == 0 else f"thread[{index - 1}]."
            tags = len(re.findall(_HASHTAG, item.text))
            if tags > 30:
                problems.append(
                    Problem(
                        code="too_many_hashtags",
                        message=f"instagram allows 30 hashtags in a caption, this one has {tags}",
                        field=f"{prefix}text",
                        limit=30,
                        actual=tags,
                    )
                )
            if item.reply_to is None and not item.media:
                problems.append(
                    Problem(
                        code="media_required",
                        message="an instagram post needs an image or a video",
                        field=f"{prefix}media",
                    )
                )
            for i, media in enumerate(item.media):
                problem = _duration_problem(media, f"{prefix}media[{i}]")
                if problem is not None:
                    problems.append(problem)
                if media.kind == "image" and media.url is None:
                    problems.append(
                        Problem(
                            code="media_url_required",
                            message=(
                                "instagram takes images only from a public URL "
                                "(Media.from_url); it fetches them itself"
                            ),
                            field=f"{prefix}media[{i}]",
                        )
                    )
            if item.reply_to is not None and item.media:
                problems.append(
                    Problem(
                        code="unsupported",
                        message="an instagram comment is text only",
                        field=f"{prefix}media",
                    )
                )
            if item.visibility != "public":
                problems.append(
                    Problem(
                        code="unsupported",
                        message="instagram posts of a professional account are public",
                        field=f"{prefix}visibility",
                    )
                )
        return problems

    # -- the account ---------------------------------------------------------------------------

    async def me(self) -> Account:
        """The professional account (username, name, counts).

        Returns the ``Account``. Network calls: ``GET /{ig-user}`` (``instagram_basic``)."""
        body = await self.graph.get(f"/{self.ig_user}", {"fields": _USER_FIELDS})
        account = _user_account(body)
        self._me_cache = account
        return account

    async def account(self, handle_or_id: str) -> Account:
        """``@name`` or a name: business discovery of that professional account; digits: the
        account with that id (this account, or one the token may read).

        Returns the ``Account``. Raises ``ValidationError`` for an empty name before any request,
        ``NotFoundError`` for an account Meta does not show. Network calls:
        ``GET /{ig-user}?fields=business_discovery.username(name){...}`` or ``GET /{id}``
        (``instagram_basic``)."""
        if not isinstance(handle_or_id, str) or not handle_or_id:
            raise self._bad("an account needs a handle or an id")
        if handle_or_id.isdigit():
            body = await self.graph.get(f"/{handle_or_id}", {"fields": _USER_FIELDS})
            return _user_account(body)
        return (await self.ex_business_discovery(handle_or_id.removeprefix("@")))[0]

    async def ex_business_discovery(
        self, username: str, *, media: int = 0
    ) -> tuple[Account, list[Post]]:
        """Another professional account's profile and (``media`` > 0) its newest posts, for
        competitor watch.

        Returns ``(account, posts)``. Raises ``ValidationError`` for a bad name or count before any
        request. Network calls: ``GET /{ig-user}?fields=business_discovery.username(name){...}``
        (``instagram_basic``; business discovery needs a professional account)."""
        import re

        if not re.fullmatch(r"[A-Za-z0-9._]{1,30}", username):
            raise self._bad(f"{username!r} is not an instagram username")
        inner = _USER_FIELDS
        if media > 0:
            inner += f",media.limit({min(media, 50)}){{{_MEDIA_FIELDS.split(',children')[0]}}}"
        try:
            body = await self.graph.get(
                f"/{self.ig_user}",
                {"fields": f"business_discovery.username({username}){{{inner}}}"},
            )
        except InvalidRequestError as exc:
            # Graph answers 100/33 or a 110-class error for an unknown or private account.
            raise NotFoundError(
                self.name, exc.status, exc.code, exc.message, exc.request_id
            ) from None
        found = body.get("business_discovery")
        if not isinstance(found, dict):
            raise NotFoundError(
                self.name, None, "not_found", f"no professional account @{username}"
            )
        posts_block = found.get("media")
        items = posts_block.get("data") if isinstance(posts_block, dict) else None
        account = _user_account(found)
        # The media are the other account's: their author is it, never the user.
        by = Account(id=account.id, handle=account.handle, url=account.url, network=self.name)
        posts = (self._post_from(m, own=False, by=by) for m in items or [])
        return account, [p for p in posts if p]

    # -- publishing ----------------------------------------------------------------------------

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """A container, waited for, then ``media_publish`` (see :class:`ContainerAdapter`); a
        comment for ``reply_to``."""
        key = self._new_key(idempotency_key)
        if post.reply_to is not None:
            return await self._comment(post, key)
        return await self._publish_container(post, key)

    async def _container(self, post: Post) -> str:
        if len(post.media) == 1:
            return await self._item(post.media[0], {"caption": post.text or None})
        children = [await self._item(m, {"is_carousel_item": True}) for m in post.media]
        for child in children:
            await self._wait_container(child)
        body = await self.graph.post(
            f"/{self.ig_user}/media",
            {
                "media_type": "CAROUSEL",
                "children": ",".join(children),
                "caption": post.text or None,
            },
            retry_safe=True,
        )
        return self._id(body)

    async def _item(self, media: Media, extra: dict[str, Any]) -> str:
        if media.kind == "image":
            form = {"image_url": media.url, "alt_text": media.alt, **extra}
            return self._id(await self.graph.post(f"/{self.ig_user}/media", form, retry_safe=True))
        form = {"media_type": "REELS" if "caption" in extra else "VIDEO", **extra}
        if media.url is not None:
            return self._id(
                await self.graph.post(
                    f"/{self.ig_user}/media", {**form, "video_url": media.url}, retry_safe=True
                )
            )
        # The file's size (stat) before any request: a missing file fails here.
        content = MediaSource(media.path if media.path is not None else media.read())
        body = await self.graph.post(
            f"/{self.ig_user}/media", {**form, "upload_type": "resumable"}, retry_safe=True
        )
        container = self._id(body)
        await self._upload_video(container, content)
        return container

    async def _upload_video(self, container: str, content: MediaSource) -> None:
        """The video's bytes to ``rupload.facebook.com`` (``Authorization: OAuth``, ``offset``
        and ``file_size`` headers), as the resumable upload of Instagram's reference says: a
        piece of ``upload_chunk_size`` bytes per request, each at the ``offset`` of the bytes
        already sent (the rule of resuming an interrupted upload), read from the file only
        when its turn comes, so a 1 GB reel is never held in memory whole."""
        url = f"{self.settings.upload_url}/{self.settings.graph_version}/{container}"
        size = content.size
        step = self.settings.upload_chunk_size
        offset = 0
        while True:
            piece = content.read(offset, step)
            await self.graph.session.request(
                "POST",
                url,
                content=piece,
                headers={
                    "Authorization": f"OAuth {self._token()}",
                    "offset": str(offset),
                    "file_size": str(size),
                },
                auth=None,
                kind="write",
            )
            offset += len(piece)
            if not piece or offset >= size:
                return

    def _id(self, body: dict[str, Any]) -> str:
        value = body.get("id")
        if not isinstance(value, str) or not value:
            raise MalformedResponseError(self.name, None, "malformed_response", "no id")
        return graph_id(self.name, value)

    async def _comment(self, post: Post, key: str, *, reply_to_comment: bool = False) -> Post:
        """A comment on media (``/comments``) or a reply to a comment (``/replies``), at most
        once per key: after an unknown outcome the target's comments are read first, and a
        comment of this account with the same text since the first attempt is the one made."""
        target = graph_id(self.name, post.reply_to, "media or comment id")
        path = f"/{target}/replies" if reply_to_comment else f"/{target}/comments"
        record = await self._load_record(key)
        if record is not None and record.get("post_id"):
            return await self.get_post(str(record["post_id"]))
        started = self.now()
        if record is not None:
            started = parse_time(record.get("started")) or started
            found = await self._find_comment(path, post.text, started, key)
            if found is not None:
                await self._save_record(key, {**record, "post_id": found})
                return await self.get_post(found)
        await self._save_record(key, {"started": started.isoformat()})
        try:
            body = await self.graph.post(path, {"message": post.text})
        except (OutcomeUnknownError, MalformedResponseError) as exc:
            raise self._unknown(path, key) from exc
        except (APIError, TransportError):
            await self._drop_record(key)
            raise
        try:
            comment_id = self._id(body)
        except MalformedResponseError as exc:  # a 2xx without the id: the comment was made
            raise self._unknown(path, key) from exc
        await self._save_record(key, {"started": started.isoformat(), "post_id": comment_id})
        return post.model_copy(
            update={"id": comment_id, "network": self.name, "created_at": self.now()}
        )

    async def _find_comment(self, path: str, text: str, started: datetime, key: str) -> str | None:
        since = started - timedelta(seconds=self.settings.reconcile_margin)
        try:
            body = await self.graph.get(path, {"fields": "id,text,timestamp,from"})
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            raise self._unknown(path, key) from exc
        for item in body.get("data") or []:
            if not isinstance(item, dict) or obj(item.get("from")).get("id") != self.ig_user:
                continue
            created = parse_time(item.get("timestamp"))
            if item.get("text") == text and (created is None or created >= since):
                return str(item["id"])
        return None

    # -- reading -------------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        """One media (with its carousel children) or a comment.

        Returns the ``Post``. Raises ``ValidationError`` for a bad id before any request,
        ``NotFoundError`` for one Instagram does not know. Network calls: ``GET /{id}?metadata=1``,
        then ``GET /{id}`` (``instagram_basic``)."""
        post_id = graph_id(self.name, post_id, "media id")
        if await self._node_kind(post_id) == "comment":
            body = await self.graph.get(f"/{post_id}", {"fields": _COMMENT_FIELDS})
            return self._comment_post(body)
        body = await self.graph.get(f"/{post_id}", {"fields": _MEDIA_FIELDS})
        post = self._post_from(body)
        if post is None:
            raise MalformedResponseError(self.name, None, "malformed_response", "no media id")
        return post

    def _post_from(
        self, body: dict[str, Any], *, own: bool = True, by: Account | None = None
    ) -> Post | None:
        """A media as a Post; the account's own unless ``own`` is false: then its author is
        ``by`` (business discovery), or unknown (``None``: hashtag media carry no owner)."""
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return None
        children = body.get("children")
        items = children.get("data") if isinstance(children, dict) else None
        media = [_media(c) for c in items or [] if isinstance(c, dict)] or [_media(body)]
        author = by
        if own:
            author = (
                Account(id=self.ig_user, handle=body.get("username"), network=self.name)
                if body.get("username")
                else self._me_cache
            )
        return Post(
            id=body["id"],
            text=str(body.get("caption") or ""),
            network=self.name,
            url=body.get("permalink"),
            created_at=parse_time(body.get("timestamp")) or self.now(),
            media=[m for m in media if m is not None],
            author=author,
            metrics={
                k: v
                for k, v in (
                    ("likes", body.get("like_count")),
                    ("replies", body.get("comments_count")),
                )
                if isinstance(v, int)
            },
            raw=body,
        )

    def _comment_post(self, body: dict[str, Any]) -> Post:
        media = obj(body.get("media"))
        sender = obj(body.get("from"))
        username = body.get("username") or sender.get("username")
        handle = username if isinstance(username, str) else None
        author_id = sender.get("id") or (f"@{handle}" if handle else None)
        return Post(
            id=str(body.get("id")),
            text=str(body.get("text") or ""),
            network=self.name,
            created_at=parse_time(body.get("timestamp")) or self.now(),
            reply_to=body.get("parent_id") or media.get("id"),
            author=Account(id=str(author_id), handle=handle, network=self.name)
            if author_id
            else None,
            raw=body,
        )

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The recent media of a hashtag (``#tag`` or ``tag``), the last 24 hours (30 hashtags
        per 7 days per account).

        Returns a ``Paged`` of posts. Raises ``ValidationError`` for what is not a hashtag before
        any request. Network calls: ``GET /ig_hashtag_search`` then
        ``GET /{hashtag}/recent_media`` (``instagram_basic``)."""
        import re

        tag = query.strip().removeprefix("#")
        if not re.fullmatch(r"\w{1,100}", tag):
            raise self._bad(f"{query!r} is not a hashtag")
        inner: Fetch[Post] | None = None

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Post]:
            nonlocal inner
            if inner is None:
                found = await self.graph.get(
                    "/ig_hashtag_search", {"user_id": self.ig_user, "q": tag}
                )
                data = found.get("data") or []
                if not data or not isinstance(data[0], dict) or "id" not in data[0]:
                    return Batch([])
                hashtag = graph_id(self.name, data[0]["id"], "hashtag id")
                inner = self.graph.fetcher(
                    f"/{hashtag}/recent_media",
                    {"user_id": self.ig_user, "fields": _MEDIA_FIELDS.split(",username")[0]},
                    # Other accounts' media, whose owner Instagram does not give.
                    lambda body: self._post_from(body, own=False),
                    push_times=False,
                )
            return await inner(network_cursor, want)

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda p: p.created_at,
        )

    # -- insights --------------------------------------------------------------------------------

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Media insights of each post under canonical names (:data:`INSTAGRAM_POST_METRICS`).

        Returns ``{media id: metrics}``. Raises ``ValidationError`` for a bad id before any request,
        and the ``APIError`` of a media Meta refused. Network calls: ``GET /{media}/insights``, 50
        per batch request (``POST /``); needs ``instagram_manage_insights``."""
        ids = [graph_id(self.name, i, "media id") for i in post_ids]
        metric = ",".join(INSTAGRAM_POST_METRICS)
        answers = await self.graph.batch([("GET", f"{i}/insights?metric={metric}") for i in ids])
        now = self.now()
        out: dict[str, list[Metric]] = {}
        for post_id, answer in zip(ids, answers, strict=True):
            if isinstance(answer, APIError):
                raise answer
            out[post_id] = insights(answer, INSTAGRAM_POST_METRICS, post_id, self.name, now)
        return out

    # -- comments ------------------------------------------------------------------------------

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """Comments and replies on the account's media and media the account is tagged in
        (mentions), newest first.

        Returns a ``Paged`` of messages. Network calls: ``GET /{ig-user}/media`` then
        ``GET /{media}/comments`` (top-level comments) and, for replies, ``GET
        /{comment}/replies`` of each, in batches (``POST /``; ``instagram_manage_comments``),
        and ``GET /{ig-user}/tags``."""
        wanted = kinds_filter(kinds)
        sources: dict[str, Fetch[Message]] = {}
        if "comment" in wanted or "reply" in wanted:
            sources["comments"] = self._comments_fetch(wanted, since)
        if "mention" in wanted:
            sources["mentions"] = self.graph.fetcher(
                f"/{self.ig_user}/tags",
                {"fields": "id,caption,timestamp,username,permalink"},
                self._mention,
                push_times=False,
            )
        if not sources:
            return Paged.empty()
        return Paged.merge(
            sources,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda m: m.created_at,
        )

    def _mention(self, item: dict[str, Any]) -> Message | None:
        if not isinstance(item.get("id"), str):
            return None
        username = item.get("username") if isinstance(item.get("username"), str) else None
        return Message(
            id=item["id"],
            network=self.name,
            kind="mention",
            text=str(item.get("caption") or ""),
            author=Account(
                id=f"@{username}" if username else "unknown", handle=username, network=self.name
            ),
            created_at=parse_time(item.get("timestamp")) or self.now(),
            post_id=item["id"],
            url=item.get("permalink"),
            raw=item,
        )

    def _comments_fetch(self, wanted: frozenset[str], since: datetime | None) -> Fetch[Message]:
        media = self.graph.fetcher(
            f"/{self.ig_user}/media",
            {"fields": "id,timestamp,comments_count"},
            lambda d: d,
            page_size=25,
        )
        # The comments edge takes no ``since``, and older media may have new comments: the
        # media are visited back to the lookback before ``since`` (comments_lookback_days),
        # and so are the comments whose replies are read.
        horizon = walk_horizon(since, self.settings.comments_lookback_days)

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Message]:
            page = await media(network_cursor, None)
            recent, done = within_horizon(page.items, "timestamp", horizon)
            # Media without a comment (``comments_count`` 0, replies included) are not read.
            ids = [
                str(m["id"])
                for m in recent
                if isinstance(m.get("id"), str) and m.get("comments_count") != 0
            ]
            # Every page of each media's comments (paging.next), not only the first 100. The
            # edge gives top-level comments only: replies are each comment's own ``replies``
            # edge (GET /{ig-comment-id}/replies), read the same way.
            urls = [f"{i}/comments?fields={_THREAD_FIELDS}&limit=100" for i in ids]
            answers = await self.graph.batch_edges(urls) if urls else []
            items: list[tuple[dict[str, Any], str]] = []
            parents: list[tuple[str, str]] = []
            for media_id, answer in zip(ids, answers, strict=True):
                if isinstance(answer, APIError):
                    raise answer
                for item in answer:
                    items.append((item, media_id))
                    if (
                        isinstance(item.get("id"), str)
                        and not item.get("parent_id")
                        and within_horizon([item], "timestamp", horizon)[0]
                    ):
                        parents.append((item["id"], media_id))
            if "reply" in wanted and parents:
                # The top-level comments back to the lookback, older than ``since`` too: an
                # old comment may have a new reply (a reply's own time decides below).
                replies = await self.graph.batch_edges(
                    [f"{c}/replies?fields={_THREAD_FIELDS}&limit=100" for c, _ in parents]
                )
                for (comment_id, media_id), answer in zip(parents, replies, strict=True):
                    if isinstance(answer, APIError):
                        raise answer
                    # A reply names its parent (``parent_id``); kept when Meta leaves it out.
                    items.extend(({"parent_id": comment_id, **r}, media_id) for r in answer)
            found: list[Message] = []
            for item, media_id in items:
                message = self._comment_message(item, media_id)
                if message is None or message.kind not in wanted:
                    continue
                # The comments edge takes no ``since``: older ones are left out here, since
                # older media may have new comments (one older is not the end of the walk).
                if since is None or message.created_at >= since:
                    found.append(message)
            found.sort(key=lambda m: m.created_at, reverse=True)
            # Media without a new comment are not the end: the walk reads on past them.
            following = None if done else page.next
            return Batch(found, next=following, filtered=not found and bool(page.items))

        return fetch

    def _comment_message(self, item: object, media_id: str) -> Message | None:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return None
        sender = obj(item.get("from"))
        author_id = sender.get("id")
        if author_id == self.ig_user:
            return None
        username = item.get("username") or sender.get("username")
        return Message(
            id=item["id"],
            network=self.name,
            kind="reply" if item.get("parent_id") else "comment",
            text=str(item.get("text") or ""),
            author=Account(
                id=str(author_id or f"@{username}"),
                handle=username if isinstance(username, str) else None,
                network=self.name,
            ),
            created_at=parse_time(item.get("timestamp")) or self.now(),
            post_id=media_id,
            conversation_id=media_id,
            raw=item,
        )

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a comment or a reply (a :class:`Message` of kind ``comment``/``reply``;
        Instagram threads replies under the top comment) or comment on media (a media id), at most
        once per call.

        Returns the reply as a ``Post``. Raises ``ValidationError`` for a bad id before any request.
        Network calls: ``POST /{comment}/replies`` or ``POST /{media}/comments``
        (``instagram_manage_comments``)."""
        body = as_post(post)
        problems = self.check(body.model_copy(update={"reply_to": "0"}))
        if problems:
            from socialkit._errors import InvalidPostError

            raise InvalidPostError(self.name, problems)
        if isinstance(to, Message) and to.kind in ("comment", "reply"):
            raw = to.raw if isinstance(to.raw, dict) else {}
            parent = raw.get("parent_id") or to.id
            target = graph_id(self.name, parent, "comment id")
            return await self._comment(
                body.model_copy(update={"reply_to": target}),
                self._new_key(None),
                reply_to_comment=True,
            )
        target = self._message_target(to, "media id")
        return await self.publish(body.model_copy(update={"reply_to": target}))


# -- mapping ---------------------------------------------------------------------------------------


def _duration_problem(media: Media, field: str) -> Problem | None:
    """A video whose duration, where known, is outside Instagram's bounds (3 s to 15 min, the
    Reels specifications of the IG User Media reference); unknown durations are left to
    Instagram, nothing is probed."""
    seconds = media.duration
    low, high = _VIDEO_SECONDS
    if media.kind != "video" or seconds is None or low <= seconds <= high:
        return None
    return Problem(
        code="video_duration",
        message=(
            f"an instagram video lasts {low:.0f} s to {high // 60:.0f} minutes, not {seconds:g} s"
        ),
        field=field,
        limit=low if seconds < low else high,
        actual=seconds,
    )


def _user_account(body: dict[str, Any]) -> Account:
    user_id = body.get("id")
    if not isinstance(user_id, str):
        raise MalformedResponseError("instagram", None, "malformed_response", "no account id")
    username = body.get("username") if isinstance(body.get("username"), str) else None

    def count(name: str) -> int | None:
        value = body.get(name)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    return Account(
        id=user_id,
        handle=username,
        name=body.get("name") if isinstance(body.get("name"), str) else None,
        url=f"https://www.instagram.com/{username}/" if username else None,
        avatar_url=body.get("profile_picture_url"),
        followers=count("followers_count"),
        following=count("follows_count"),
        posts_count=count("media_count"),
        network="instagram",
        raw=body,
    )


def _media(item: dict[str, Any]) -> Media | None:
    kind = item.get("media_type")
    url = item.get("media_url")
    if kind not in ("IMAGE", "VIDEO") or not isinstance(url, str):
        return None
    return Media(
        kind="image" if kind == "IMAGE" else "video",
        url=url,
        mime_type="image/jpeg" if kind == "IMAGE" else "video/mp4",
        alt=item.get("alt_text") or None,
        preview_url=item.get("thumbnail_url"),
        id=item.get("id"),
    )
