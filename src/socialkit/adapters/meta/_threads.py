"""The Threads adapter (registry name ``threads``), through ``graph.threads.net``.

Publishing is the container flow: ``POST /{user}/threads`` (``media_type`` TEXT, IMAGE, VIDEO
or CAROUSEL; ``reply_to_id`` for a reply, ``quote_post_id`` for a quote), then ``POST
/{user}/threads_publish``. Media containers are polled until their ``status`` is FINISHED
(ERROR and EXPIRED are clear errors); ``threads_publishing_limit`` is read first. Media must be
at a public URL (``Media.from_url``): Threads fetches it and takes no bytes.

Ids are numeric; a handle (``@name``, or any string that is not all digits) is looked up with
``GET /profile_lookup?username=`` (public profiles, ``threads_profile_discovery``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    MalformedResponseError,
)
from socialkit._models import Account, Media, Message, MessageKind, Metric, Post, Problem
from socialkit._paging import Fetch, Paged
from socialkit.adapters._base import AdapterSettings, HttpURL, as_post, kinds_filter
from socialkit.adapters.meta._common import ContainerAdapter, MetaSettings, insights, parse_time
from socialkit.adapters.meta._graph import graph_id, obj
from socialkit.text import url_spans

__all__ = ["THREADS_ACCOUNT_METRICS", "THREADS_POST_METRICS", "ThreadsAdapter", "ThreadsSettings"]

_MiB = 1024 * 1024
#: "Duration: 300 seconds (5 minutes) maximum, minimum longer than 0 seconds" (Threads API
#: overview, video specifications).
_VIDEO_MAX = 300.0

#: Post insights, and their canonical names.
THREADS_POST_METRICS: dict[str, str] = {
    "views": "views",
    "likes": "likes",
    "replies": "replies",
    "reposts": "reposts",
    "quotes": "quotes",
    "shares": "shares",
}
#: Account insights (``GET /{user}/threads_insights``), and their canonical names.
THREADS_ACCOUNT_METRICS: dict[str, str] = {
    "views": "views",
    "likes": "likes",
    "replies": "replies",
    "reposts": "reposts",
    "quotes": "quotes",
    "followers_count": "followers",
}

_POST_FIELDS = (
    "id,media_product_type,media_type,media_url,permalink,owner,username,text,timestamp,"
    "shortcode,thumbnail_url,children,is_quote_post,quoted_post,alt_text,link_attachment_url,"
    "is_reply,replied_to,root_post,hide_status"
)
_CHILD_FIELDS = "id,media_type,media_url,thumbnail_url,alt_text"
_PROFILE_FIELDS = "id,username,name,threads_profile_picture_url,threads_biography"
_IMAGE_TYPES = frozenset({"image/jpeg", "image/png"})
_VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime"})


class ThreadsSettings(MetaSettings):
    """Settings of the Threads adapter: a Threads user token (``threads_basic`` and the
    permissions in the docs); ``user_id`` defaults to ``me``."""

    base_url: HttpURL = Field(default="https://graph.threads.net", description="The API host.")
    graph_version: str = Field(
        default="v1.0", pattern=r"^v[0-9]{1,3}\.[0-9]{1,2}$", description="The API version."
    )
    user_id: str | None = Field(
        default=None, pattern=r"^[0-9]{1,25}$", description="The Threads user id (default: me)."
    )


class ThreadsAdapter(ContainerAdapter):
    """Threads. See ``docs/networks/threads.md``."""

    name: ClassVar[str] = "threads"
    Settings: ClassVar[type[AdapterSettings]] = ThreadsSettings
    docs_url: ClassVar[str | None] = "https://developers.facebook.com/docs/threads"
    base_url = "https://graph.threads.net"
    _token_in_query: ClassVar[bool] = True
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGE,
            Capability.PUBLISH_VIDEO,
            Capability.PUBLISH_THREAD,
            Capability.QUOTE,
            Capability.DELETE,
            Capability.READ_POSTS,
            Capability.READ_OTHERS,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.MENTIONS,
            Capability.REPLY,
            Capability.SEARCH,
            Capability.WEBHOOKS,
            Capability.HIDE,
            Capability.ACCOUNTS,
        }
    )
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.PUBLISH_GIF: "Threads takes JPEG/PNG images and MP4/MOV videos, not GIF files",
        Capability.PUBLISH_AUDIO: "Threads publishes no audio on its own",
        Capability.PUBLISH_POLL: (
            "Threads polls (poll_attachment) are not in the API description the adapter's "
            "requests are checked against"
        ),
        Capability.NATIVE_SCHEDULING: "the Threads API has no scheduled publishing",
        Capability.EDIT: "the Threads API cannot edit a post",
        Capability.COMMENTS: (
            "Threads has replies, not comments: ex_replies() and messages() give them"
        ),
        Capability.DIRECT_MESSAGES: "the Threads API has no messages",
        Capability.LIKE: "the Threads API cannot like posts",
        Capability.REPOST: (
            "the Threads API reposts (POST /{id}/repost) but documents no way to take a repost "
            "back, which repost() and unrepost() go together with"
        ),
        Capability.BOOKMARK: "the Threads API has no saved posts",
        Capability.FOLLOW: "the Threads API cannot follow profiles",
        Capability.BLOCK: "the Threads API cannot block profiles",
        Capability.MUTE: "the Threads API cannot mute profiles",
        Capability.FOLLOWERS: "the API gives a follower count (account_metrics), not the list",
        Capability.TIMELINE: "the Threads API has no home feed",
        Capability.FEEDS: "the Threads API has no custom feeds",
        Capability.UPLOAD: (
            "Threads fetches each post's media from a public URL: nothing is uploaded ahead"
        ),
        Capability.STREAM: "the Threads API streams nothing: subscribe to webhooks (replies)",
    }
    limits = Limits(
        max_text=500,
        max_media=20,
        image_max_bytes=8 * _MiB,
        video_max_bytes=1024 * _MiB,
        media_types=_IMAGE_TYPES | _VIDEO_TYPES,
        max_alt_text=1000,
    )

    settings: ThreadsSettings

    _status_fields = ("status", "error_message")
    _publish_edge = "threads_publish"
    _limit_edge = "threads_publishing_limit"
    _insights_call = ("threads_insights", THREADS_ACCOUNT_METRICS, {})
    _hide_call = ("/manage_reply", "hide")
    _posts_edge = "threads"
    _post_fields = _POST_FIELDS
    _text_field = "text"
    _post_url = "https://www.threads.net/post/{id}"

    @property
    def _owner(self) -> str:
        return self.user

    @property
    def user(self) -> str:
        """The Threads user: the ``user_id`` setting, the login's, or ``me``."""
        return self.settings.user_id or self._login.get("user_id") or "me"

    def _check_extra(self, post: Post) -> list[Problem]:
        problems: list[Problem] = []
        for index, item in enumerate(post.posts()):
            prefix = "" if index == 0 else f"thread[{index - 1}]."
            for i, media in enumerate(item.media):
                seconds = media.duration
                if media.kind == "video" and seconds is not None and not 0 < seconds <= _VIDEO_MAX:
                    # Unknown durations are left to Threads: nothing is probed.
                    problems.append(
                        Problem(
                            code="video_duration",
                            message=(
                                f"a threads video lasts more than 0 s and at most "
                                f"{_VIDEO_MAX // 60:.0f} minutes, not {seconds:g} s"
                            ),
                            field=f"{prefix}media[{i}]",
                            limit=0 if seconds <= 0 else _VIDEO_MAX,
                            actual=seconds,
                        )
                    )
                if media.url is None:
                    problems.append(
                        Problem(
                            code="media_url_required",
                            message=(
                                "threads takes media only from a public URL (Media.from_url); "
                                "it fetches them itself"
                            ),
                            field=f"{prefix}media[{i}]",
                        )
                    )
            links = {item.text[s:e] for s, e in url_spans(item.text)}
            if item.link is not None:
                links.add(item.link)
            if len(links) > 5:
                problems.append(
                    Problem(
                        code="too_many_links",
                        message=f"threads allows 5 links in a post, this one has {len(links)}",
                        field=f"{prefix}text",
                        limit=5,
                        actual=len(links),
                    )
                )
            if item.visibility != "public":
                problems.append(
                    Problem(
                        code="unsupported",
                        message="threads posts are public",
                        field=f"{prefix}visibility",
                    )
                )
        return problems

    # -- the account ---------------------------------------------------------------------------

    async def me(self) -> Account:
        """The Threads profile (username, name, biography, followers).

        Returns the ``Account``. Network calls: ``GET /{user}`` (``threads_basic``)."""
        body = await self.graph.get(f"/{self.user}", {"fields": _PROFILE_FIELDS})
        account = _account(body)
        self._me_cache = account
        return account

    async def _my_id(self) -> str:
        if self.user != "me":
            return self.user
        if self._me_cache is None:
            await self.me()
        assert self._me_cache is not None
        return self._me_cache.id

    async def account(self, handle_or_id: str) -> Account:
        """``@name`` or a name: a public profile; digits: that user's id.

        Returns the ``Account``. Raises ``ValidationError`` for an empty name before any request.
        Network calls: ``GET /profile_lookup?username=`` (``threads_profile_discovery``) or
        ``GET /{id}``."""
        if not isinstance(handle_or_id, str) or not handle_or_id:
            raise self._bad("an account needs a handle or an id")
        if handle_or_id.isdigit():
            body = await self.graph.get(f"/{handle_or_id}", {"fields": _PROFILE_FIELDS})
            return _account(body)
        username = handle_or_id.removeprefix("@")
        if not re.fullmatch(r"[A-Za-z0-9._]{1,30}", username):
            raise self._bad(f"{handle_or_id!r} is not a threads username")
        body = await self.graph.get("/profile_lookup", {"username": username})
        return _account(body)

    # -- publishing ----------------------------------------------------------------------------

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """A container (waited for when it has media), then ``threads_publish`` (see
        :class:`ContainerAdapter`)."""
        for target in (post.reply_to, post.quote_of):
            if target is not None:
                graph_id(self.name, target, "post id")
        return await self._publish_container(post, self._new_key(idempotency_key))

    def _common_form(self, post: Post) -> dict[str, Any]:
        form: dict[str, Any] = {"text": post.text or None}
        if post.reply_to is not None:
            form["reply_to_id"] = post.reply_to
        if post.quote_of is not None:
            form["quote_post_id"] = post.quote_of
        link = post.link or next((post.text[a:b] for a, b in url_spans(post.text)), None)
        if link is not None and not post.media:
            form["link_attachment"] = link
        return form

    async def _container(self, post: Post) -> str:
        form = self._common_form(post)
        if not post.media:
            return await self._create({**form, "media_type": "TEXT"})
        if len(post.media) == 1:
            return await self._create({**form, **_media_form(post.media[0])})
        children = [
            await self._create({**_media_form(m), "is_carousel_item": True}) for m in post.media
        ]
        for child in children:
            await self._wait_container(child)
        return await self._create(
            {**form, "media_type": "CAROUSEL", "children": ",".join(children)}
        )

    async def _create(self, form: dict[str, Any]) -> str:
        # A container is not a post: made twice, the spare one expires unused.
        body = await self.graph.post(f"/{self.user}/threads", form, retry_safe=True)
        value = body.get("id")
        if not isinstance(value, str):
            raise MalformedResponseError(self.name, None, "malformed_response", "no container id")
        return graph_id(self.name, value, "container id")

    # -- reading -------------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        """One post (a reply or a quote included), with its media.

        Returns the ``Post``. Raises ``ValidationError`` for a bad id before any request,
        ``NotFoundError`` for one Threads does not know. Network calls: ``GET /{post}``
        (``threads_basic``)."""
        post_id = graph_id(self.name, post_id, "post id")
        body = await self.graph.get(f"/{post_id}", {"fields": _POST_FIELDS})
        post = self._post_from(body)
        if post is None:
            raise MalformedResponseError(self.name, None, "malformed_response", "no post id")
        return await self._with_items(post)

    async def _with_items(self, post: Post) -> Post:
        """``post`` with the items of its carousel as its media: a carousel answers
        ``children`` (the items' ids) and no media of its own; each item is read by id
        (``GET /{threads-media-id}``). Other posts come back as they are."""
        body = post.raw if isinstance(post.raw, dict) else {}
        children = body.get("children")
        ids = [
            str(c["id"])
            for c in (children.get("data") if isinstance(children, dict) else None) or []
            if isinstance(c, dict) and isinstance(c.get("id"), str)
        ]
        if not ids:
            return post
        # The Threads API documents no batch requests: one read per carousel item.
        media = []
        for child in ids:
            answer = await self.graph.get(
                f"/{graph_id(self.name, child)}", {"fields": _CHILD_FIELDS}
            )
            item = _media(answer)
            if item is not None:
                media.append(item)
        return post.model_copy(update={"media": media})

    async def _complete_posts(self, posts: list[Post]) -> list[Post]:
        return [await self._with_items(post) for post in posts]

    def _post_from(self, body: dict[str, Any]) -> Post | None:
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return None
        media = _media(body)
        replied = obj(body.get("replied_to"))
        quoted = obj(body.get("quoted_post"))
        owner = obj(body.get("owner"))
        username = body.get("username") if isinstance(body.get("username"), str) else None
        author = (
            Account(id=str(owner.get("id") or f"@{username}"), handle=username, network=self.name)
            if owner or username
            else self._me_cache
        )
        return Post(
            id=body["id"],
            text=str(body.get("text") or ""),
            network=self.name,
            url=body.get("permalink"),
            created_at=parse_time(body.get("timestamp")) or self.now(),
            media=[media] if media is not None else [],
            link=body.get("link_attachment_url") or None,
            reply_to=replied.get("id"),
            quote_of=quoted.get("id") if body.get("is_quote_post") else None,
            author=author,
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
        """Public posts matching ``query``, newest first.

        Returns a ``Paged`` of posts. Raises ``ValidationError`` for an empty query before any
        request. Network calls: ``GET /keyword_search`` with ``search_type=RECENT``
        (``threads_keyword_search``)."""
        if not query.strip():
            raise self._bad("the search query must not be empty")
        return self.graph.paged(
            "/keyword_search",
            {"q": query, "search_type": "RECENT", "fields": _POST_FIELDS},
            self._post_from,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda p: p.created_at,
            complete=self._complete_posts,
        )

    def ex_replies(
        self, post_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Paged[Message]:
        """The replies to a post, newest first.

        Returns a ``Paged`` of messages. Raises ``ValidationError`` for a bad id before any request.
        Network calls: ``GET /{post}/replies`` (``threads_read_replies``)."""
        post_id = graph_id(self.name, post_id, "post id")
        return self.graph.paged(
            f"/{post_id}/replies",
            {"fields": _POST_FIELDS, "reverse": "true"},
            lambda d: self._message(d, "reply"),
            limit=limit,
            cursor=cursor,
            push_times=False,
        )

    # -- insights --------------------------------------------------------------------------------

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Post insights of each post under canonical names (:data:`THREADS_POST_METRICS`).

        Returns ``{post id: metrics}``. Raises ``ValidationError`` for a bad id before any request.
        Network calls: ``GET /{post}/insights``, one per post (the Threads API documents no batch
        requests); needs ``threads_manage_insights``."""
        ids = [graph_id(self.name, i, "post id") for i in post_ids]
        metric = ",".join(THREADS_POST_METRICS)
        now = self.now()
        out: dict[str, list[Metric]] = {}
        for post_id in ids:
            answer = await self.graph.get(f"/{post_id}/insights", {"metric": metric})
            out[post_id] = insights(answer, THREADS_POST_METRICS, post_id, self.name, now)
        return out

    # -- replies and mentions ------------------------------------------------------------------

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """Mentions of the account, newest first (replies to one post: :meth:`ex_replies`).

        Returns a ``Paged`` of messages. Network calls: ``GET /{user}/mentions``
        (``threads_manage_mentions``)."""
        wanted = kinds_filter(kinds)
        if "mention" not in wanted:
            return Paged.empty()
        sources: dict[str, Fetch[Message]] = {
            "mentions": self.graph.fetcher(
                f"/{self.user}/mentions",
                {"fields": _POST_FIELDS},
                lambda d: self._message(d, "mention"),
                push_times=False,
            )
        }
        return Paged.merge(
            sources,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda m: m.created_at,
        )

    def _message(self, item: dict[str, Any], kind: MessageKind) -> Message | None:
        post = self._post_from(item)
        if post is None or post.author is None or post.created_at is None:
            return None
        return Message(
            id=post.id or "",
            network=self.name,
            kind=kind,
            text=post.text,
            author=post.author,
            created_at=post.created_at,
            post_id=post.reply_to if kind == "reply" else post.id,
            url=post.url,
            raw=item,
        )

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Reply to a post or a reply (a container with ``reply_to_id``), at most once per
        call as :meth:`publish`.

        Returns the reply as a ``Post``. Raises ``ValidationError`` for a bad id and
        ``InvalidPostError`` for a reply Threads would refuse, before any request. Network calls:
        ``POST /{user}/threads`` then ``POST /{user}/threads_publish``
        (``threads_content_publish``, ``threads_manage_replies``)."""
        target = self._message_target(to, "post id")
        return await self.publish(as_post(post).model_copy(update={"reply_to": target}))


# -- mapping ---------------------------------------------------------------------------------------


def _account(body: dict[str, Any]) -> Account:
    user_id = body.get("id")
    if not isinstance(user_id, str):
        raise MalformedResponseError("threads", None, "malformed_response", "no user id")
    username = body.get("username") if isinstance(body.get("username"), str) else None
    followers = body.get("follower_count")
    return Account(
        id=user_id,
        handle=username,
        name=body.get("name") if isinstance(body.get("name"), str) else None,
        url=f"https://www.threads.net/@{username}" if username else None,
        avatar_url=body.get("threads_profile_picture_url") or body.get("profile_picture_url"),
        followers=followers if isinstance(followers, int) else None,
        network="threads",
        raw=body,
    )


def _media_form(media: Media) -> dict[str, Any]:
    if media.kind == "video":
        return {"media_type": "VIDEO", "video_url": media.url, "alt_text": media.alt}
    return {"media_type": "IMAGE", "image_url": media.url, "alt_text": media.alt}


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
