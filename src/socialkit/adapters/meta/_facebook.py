"""The Facebook Pages adapter (registry name ``facebook``): a Page's posts, photos, videos,
scheduling, comments, Messenger conversations and insights through the Graph API.

Ids: every Graph object has a numeric id; a Page post's id is ``{page id}_{post id}``, and a
video published on its own is known by the video's id (digits only), which is how
:meth:`FacebookAdapter.get_post` tells the two apart. Accounts are Pages and people seen
through the Page: the Graph API has no handle lookup for them, so ``account`` is not offered.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from pydantic import Field

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    InvalidPostError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    TransportError,
    ValidationError,
)
from socialkit._models import (
    Account,
    Media,
    Message,
    MessageKind,
    Metric,
    Post,
    Problem,
    UploadedMedia,
)
from socialkit._paging import Batch, Fetch, Paged
from socialkit.adapters._base import (
    AdapterSettings,
    HttpURL,
    MediaSource,
    as_post,
    kinds_filter,
    text_with_link,
)
from socialkit.adapters.meta._auth import PageToken, page_tokens
from socialkit.adapters.meta._common import (
    MetaAdapter,
    MetaSettings,
    comments_lookback,
    insights,
    logger,
    parse_time,
    walk_horizon,
    within_horizon,
)
from socialkit.adapters.meta._graph import (
    ID_PATTERN,
    UploadOutOfStepError,
    graph_id,
    obj,
    unix,
)

__all__ = [
    "FACEBOOK_PAGE_METRICS",
    "FACEBOOK_POST_METRICS",
    "FacebookAdapter",
    "FacebookSettings",
]

_log = logging.getLogger("socialkit.adapters.meta.facebook")
_MiB = 1024 * 1024

#: Post insights asked for, and their canonical names. Meta retired ``post_impressions*`` and
#: ``post_engaged_users`` (2025): the media-view metrics replace them. One table, kept current.
FACEBOOK_POST_METRICS: dict[str, str] = {
    "post_media_view": "views",
    "post_total_media_view_unique": "reach",
    "post_reactions_like_total": "likes",
    "post_clicks": "clicks",
}
#: Page insights asked for, and their canonical names (``page_impressions*`` and
#: ``page_fans`` are gone: ``page_media_view`` and ``page_follows`` replace them).
FACEBOOK_PAGE_METRICS: dict[str, str] = {
    "page_media_view": "views",
    "page_total_media_view_unique": "reach",
    "page_follows": "followers",
    "page_post_engagements": "engagements",
    "page_daily_follows_unique": "new_followers",
}

_POST_FIELDS = (
    "id,message,created_time,permalink_url,parent_id,is_published,scheduled_publish_time,"
    "from,status_type,"
    "attachments{media_type,type,url,unshimmed_url,description,media,target,subattachments}"
)
_LIST_FIELDS = "id,message,created_time,permalink_url,parent_id,from,status_type"
_PHOTO_FIELDS = "id,alt_text_custom,images,width,height,link,created_time"
_VIDEO_FIELDS = (
    "id,description,title,created_time,permalink_url,source,picture,length,post_id,published,"
    "scheduled_publish_time"
)
#: What tells whether a chunked upload's finish took effect (AdVideo.json lists them).
_VIDEO_STATE_FIELDS = "id,status,published,created_time"
_COMMENT_FIELDS = "id,message,created_time,from,parent,object,permalink_url,is_hidden"
_MESSAGE_FIELDS = "id,message,created_time,from"
_PAGE_FIELDS = "id,name,username,link,fan_count,followers_count"
_IMAGE_TYPES = frozenset(
    {"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff", "image/webp", "image/heic"}
)
_VIDEO_TYPES = frozenset({"video/mp4", "video/quicktime", "video/x-msvideo", "video/webm"})
_SCHEDULE_MIN = timedelta(minutes=10)
_SCHEDULE_MAX = timedelta(days=75)
_BATCH_POSTS = 25
#: Transfers in a row whose answer moves the upload no further before it is given up (each
#: transfer is itself resent by the pipeline when its answer is lost: see ``_transfer``).
_UPLOAD_TRIES = 4
#: ``upload_phase=finish`` requests of one upload at most: the second only after ``GET
#: /{video-id}`` showed that the first did not take effect.
_FINISH_TRIES = 2


class FacebookSettings(MetaSettings):
    """Settings of the Facebook Pages adapter: the Page's id and a Page access token (from
    ``socialkit auth login facebook``, or ``GET /me/accounts`` with a long-lived user token:
    see :meth:`FacebookAdapter.ex_page_tokens`)."""

    base_url: HttpURL = Field(
        default="https://graph.facebook.com", description="The Graph API host."
    )
    page_id: str | None = Field(default=None, pattern=r"^[0-9]{1,25}$", description="The Page.")
    comments_lookback_days: float | None = comments_lookback()
    upload_chunk_size: int = Field(
        default=8 * _MiB,
        ge=_MiB,
        le=64 * _MiB,
        description=(
            "A video (file or bytes) up to this size goes in one request (multipart source); a "
            "larger one goes up in chunks (the videos edge's upload_phase start, transfer, "
            "finish), each the byte range Meta asks for, read from the file when it is sent."
        ),
    )


def _uploaded_kind(media: Media) -> str:
    return "video" if media.kind == "video" else "image"


class FacebookAdapter(MetaAdapter):
    """Facebook Pages. See ``docs/networks/facebook.md`` for permissions, limits and ``ex_``
    methods."""

    name: ClassVar[str] = "facebook"
    Settings: ClassVar[type[AdapterSettings]] = FacebookSettings
    docs_url: ClassVar[str | None] = "https://developers.facebook.com/docs/pages-api"
    base_url = "https://graph.facebook.com"
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGE,
            Capability.PUBLISH_VIDEO,
            Capability.NATIVE_SCHEDULING,
            Capability.DELETE,
            Capability.EDIT,
            Capability.READ_POSTS,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.COMMENTS,
            Capability.MENTIONS,
            Capability.DIRECT_MESSAGES,
            Capability.REPLY,
            Capability.WEBHOOKS,
            Capability.LIKE,
            Capability.BLOCK,
            Capability.HIDE,
            Capability.UPLOAD,
        }
    )
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.PUBLISH_GIF: "a GIF goes up as a photo (image/gif), with no kind of its own",
        Capability.PUBLISH_AUDIO: "Page posts carry no audio",
        Capability.PUBLISH_THREAD: (
            "Facebook has no threads of posts: publish one post, then reply with comments"
        ),
        Capability.PUBLISH_POLL: "the Pages API publishes no polls",
        Capability.QUOTE: "Page posts share a post's link (Post.link), they do not quote it",
        Capability.READ_OTHERS: (
            "another Page's posts need the Page Public Content Access feature (app review): "
            "posts(account=...) asks, nothing promises an answer"
        ),
        Capability.SEARCH: "the Graph API has no search of posts (public search ended in 2018)",
        Capability.REPOST: "a Page cannot share another post through the API",
        Capability.BOOKMARK: "the API has no saved items",
        Capability.FOLLOW: "a Page follows no one through the API",
        Capability.MUTE: "Pages do not mute people (block() keeps them away)",
        Capability.ACCOUNTS: "the Graph API has no lookup of people or Pages by name",
        Capability.FOLLOWERS: "the Graph API gives a Page's follower count (me()), not the list",
        Capability.TIMELINE: "a Page has no home timeline in the Graph API",
        Capability.FEEDS: "Facebook has no custom feeds",
        Capability.STREAM: "the Graph API streams nothing: subscribe to webhooks (feed, messages)",
    }
    limits = Limits(
        max_text=63206,
        max_media=10,
        max_images=10,
        max_videos=1,
        mix_media=False,
        image_max_bytes=10 * _MiB,
        video_max_bytes=1024 * _MiB,
        media_types=_IMAGE_TYPES | _VIDEO_TYPES,
        max_alt_text=1000,
    )

    settings: FacebookSettings
    #: The login also takes the Page, needed only when the user manages several (the login
    #: chooses the only one otherwise): optional, not asked for.
    login_settings: ClassVar[tuple[str, ...]] = ("app_id", "app_secret", "page_id")
    optional_login_settings: ClassVar[tuple[str, ...]] = ("page_id",)
    _login_id = ("page_id", "it chooses among the Pages you manage")

    _insights_call = ("insights", FACEBOOK_PAGE_METRICS, {"period": "day"})
    _hide_call = ("", "is_hidden")
    _posts_edge = "posts"
    _post_fields = _POST_FIELDS

    @property
    def _owner(self) -> str:
        return self.page_id

    @property
    def page_id(self) -> str:
        """The Page: the ``page_id`` setting, or the one the stored login chose."""
        return self._chosen_id()

    # -- pre-flight --------------------------------------------------------------------------

    def _schedule_problem(self, at: datetime) -> Problem | None:
        """Graph schedules 10 minutes to 75 days ahead (``scheduled_publish_time``)."""
        ahead = at - self.now()
        if _SCHEDULE_MIN <= ahead <= _SCHEDULE_MAX:
            return None
        return Problem(
            code="schedule_out_of_range",
            message=(
                f"facebook schedules posts 10 minutes to 75 days ahead; {at.isoformat()} is "
                f"{ahead} from now"
            ),
            field="scheduled_at",
        )

    def _check_extra(self, post: Post) -> list[Problem]:
        problems: list[Problem] = []
        if post.scheduled_at is not None:
            out_of_range = self._schedule_problem(post.scheduled_at)
            if out_of_range is not None:
                problems.append(out_of_range)
            if post.reply_to is not None:
                problems.append(
                    Problem(
                        code="unsupported",
                        message="facebook does not schedule comments",
                        field="scheduled_at",
                    )
                )
        if post.reply_to is not None:
            # A comment's attachment is a photo (``attachment_id``, ``attachment_url``: the
            # comments edge of PagePost.json and Comment.json takes no video).
            for index, item in enumerate(post.media):
                if item.kind == "video":
                    problems.append(
                        Problem(
                            code="unsupported_media",
                            message="a facebook comment carries a photo, not a video",
                            field=f"media[{index}]",
                        )
                    )
        if post.reply_to is not None and len(post.media) > 1:
            problems.append(
                Problem(
                    code="too_many_media",
                    message="a facebook comment carries at most one photo",
                    field="media",
                    limit=1,
                    actual=len(post.media),
                )
            )
        if post.visibility != "public":
            problems.append(
                Problem(
                    code="unsupported",
                    message="facebook Page posts are public",
                    field="visibility",
                )
            )
        return problems

    def _chunked_video(self, post: Post) -> Media | None:
        """The video of ``post`` that goes up in chunks (``upload_phase``): its bytes (a file or
        ``from_bytes``) are over ``upload_chunk_size``. ``None`` for anything else."""
        if post.reply_to is not None or not post.media or post.media[0].kind != "video":
            return None
        media = post.media[0]
        if media.url is not None or media.size is None:
            return None
        return media if media.size > self.settings.upload_chunk_size else None

    # -- the account ---------------------------------------------------------------------------

    async def me(self) -> Account:
        """The Page as an account (name, username, link, followers).

        Returns the ``Account``. Network calls: ``GET /{page}`` (``pages_read_engagement``)."""
        body = await self.graph.get(f"/{self.page_id}", {"fields": _PAGE_FIELDS})
        account = _page_account(body)
        self._me_cache = account
        return account

    async def ex_page_tokens(self) -> list[PageToken]:
        """The Pages the configured token's user manages, with their Page tokens and linked
        Instagram accounts.

        Returns the ``PageToken`` list (tokens redacted from then on). Network calls:
        ``GET /me/accounts`` (a user token with ``pages_show_list``)."""
        pages = await page_tokens(self.graph)
        self.graph.session.add_secret(*(page.access_token for page in pages))
        return pages

    # -- publishing ---------------------------------------------------------------------------

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """One Page post (``/feed``, ``/photos`` or ``/videos``) or a comment (``reply_to``),
        at most once per ``idempotency_key`` (see :meth:`_reconcile`)."""
        key = self._new_key(idempotency_key)
        if post.reply_to is not None:
            graph_id(self.name, post.reply_to, "post or comment id")
        record = await self._load_record(key)
        if record is not None and record.get("post_id"):
            return await self.get_post(str(record["post_id"]))
        started = self.now()
        if record is not None:
            started = parse_time(record.get("started")) or started
            if record.get("video_id"):
                # A chunked video upload started under this key: its video is known.
                found = await self._resume_video(post, record, key)
            else:
                found = await self._reconcile_or_unknown(post, started, key)
            if found is not None:
                await self._save_record(key, {**record, "post_id": found.id})
                return found
        await self._save_record(key, {"started": started.isoformat()})
        try:
            created = await self._create(post, key)
        except OutcomeUnknownError:
            raise
        except (APIError, TransportError):
            await self._drop_record(key)
            raise
        await self._save_record(key, {"started": started.isoformat(), "post_id": created.id})
        if post.scheduled_at is not None and created.id is not None:
            # Cancelling it frees the key (nothing went out): see ex_cancel_scheduled.
            await self._save_record(_scheduled_record(created.id), {"key": key})
        return created

    async def _create(self, post: Post, key: str) -> Post:
        path = "/feed"
        try:
            if post.reply_to is not None:
                path = "/comments"
                post_id = await self._comment(post)
            elif post.media and post.media[0].kind == "video":
                path = "/videos"
                post_id = await self._video(post, key)
            elif len(post.media) == 1 and post.media[0].uploaded is None:
                path = "/photos"
                post_id = await self._photo(post)
            else:
                post_id = await self._feed(post)
        except OutcomeUnknownError as exc:
            # The id is kept when it is known (a chunked video's, from its start).
            raise self._unknown(f"/{{id}}{path}", key, exc.post_id) from exc
        except MalformedResponseError as exc:
            raise self._unknown(f"/{{id}}{path}", key) from exc
        author = self._me_cache
        return post.model_copy(
            update={
                "id": post_id,
                "network": self.name,
                "url": f"https://www.facebook.com/{post_id}",
                "created_at": self.now(),
                "author": author,
                "thread": [],
            }
        )

    def _schedule(self, post: Post) -> dict[str, Any]:
        if post.scheduled_at is None:
            return {}
        return {"published": False, "scheduled_publish_time": unix(post.scheduled_at)}

    async def _feed(self, post: Post) -> str:
        form: dict[str, Any] = {"message": post.text or None, **self._schedule(post)}
        link = post.link or _first_link(post.text)
        if link is not None and not post.media:
            form["link"] = link
        if post.media:
            ids = [await self._photo_id(media) for media in post.media]
            form["attached_media"] = [{"media_fbid": i} for i in ids]
        body = await self.graph.post(f"/{self.page_id}/feed", form)
        return self._id_of(body, "id")

    async def _photo(self, post: Post) -> str:
        media = post.media[0]
        form: dict[str, Any] = {
            "caption": post.text or None,
            "alt_text_custom": media.alt,
            **self._schedule(post),
        }
        body = await self._send_media(f"/{self.page_id}/photos", media, form, url_field="url")
        return self._id_of(body, "post_id") if body.get("post_id") else self._id_of(body, "id")

    async def _photo_id(self, media: Media) -> str:
        """An unpublished photo for ``attached_media`` (or the upload it already is)."""
        if media.uploaded is not None:
            return graph_id(self.name, media.uploaded.id, "photo id")
        form = {"published": False, "temporary": True, "alt_text_custom": media.alt}
        # An unpublished photo is not a post: sent twice, the spare one is never shown.
        body = await self._send_media(
            f"/{self.page_id}/photos", media, form, url_field="url", retry_safe=True
        )
        return self._id_of(body, "id")

    async def _video(self, post: Post, key: str) -> str:
        """A Page video: by URL (``file_url``), in one request (multipart ``source``) up to
        ``upload_chunk_size``, else in chunks through the Page's own videos edge (see
        :meth:`_upload_video`), which takes the Page token and every video format. Only the
        request that sends the post's fields publishes: ``source``/``file_url``, or the
        ``finish`` of a chunked upload."""
        media = post.media[0]
        form: dict[str, Any] = {"description": post.text or None, **self._schedule(post)}
        if media.alt:
            form["title"] = media.alt
        path = f"/{self.page_id}/videos"
        if self._chunked_video(post) is None:
            body = await self._send_media(path, media, form, url_field="file_url")
            return self._id_of(body, "id")
        # The file's size (stat) before any request: a missing file fails here.
        content = MediaSource(media.path if media.path is not None else media.read())
        video_id, session = await self._upload_video(path, content, key)
        return await self._finish_video(path, form, video_id, session, key)

    async def _upload_video(self, path: str, content: MediaSource, key: str) -> tuple[str, str]:
        """The video's bytes in chunks, as Meta's Video API resumable upload and its Business
        SDK's ``VideoUploader`` send them (https://developers.facebook.com/docs/graph-api/
        video-uploads): ``upload_phase=start`` with ``file_size`` answers the ``video_id``, the
        ``upload_session_id`` and the first byte range (``start_offset``, ``end_offset``); each
        ``upload_phase=transfer`` carries exactly that range as multipart ``video_file_chunk``
        (read from the file only then) and is answered with the next range, until
        ``start_offset`` reaches the file's size. Meta chooses the ranges. Returns ``(video
        id, upload session id)``; nothing is published yet (see :meth:`_finish_video`)."""
        size = content.size
        # A start sent twice opens a spare upload session that never publishes.
        body = await self.graph.post(
            path, {"upload_phase": "start", "file_size": size}, retry_safe=True
        )
        video_id = self._video_id(body.get("video_id"))
        session = self._id_of(body, "upload_session_id")
        # From here on the video is known: a retried publish() with this key reads it
        # (GET /{video-id}) before anything else is sent.
        record = await self._load_record(key) or {}
        await self._save_record(key, {**record, "video_id": video_id, "upload_session_id": session})
        start, end = self._video_range(body, size)
        stalled = 0
        while start < size:
            piece = content.read(start, end - start)
            if len(piece) != end - start:
                raise ValidationError(
                    f"the video file changed while uploading: bytes {start}-{end} of {size} "
                    "could not be read"
                )
            try:
                answer = await self._transfer(path, session, start, piece)
            except UploadOutOfStepError as exc:
                # Meta took the range already (its answer was lost and the pipeline sent it
                # again) or wants another: it names the range it expects, and Meta's SDK goes
                # on from there. A range that does not move counts as no progress below.
                answer = {"start_offset": exc.start_offset, "end_offset": exc.end_offset}
            before = start
            start, end = self._video_range(answer, size)
            stalled = 0 if start > before else stalled + 1
            if stalled >= _UPLOAD_TRIES:
                raise TransportError(
                    self.name,
                    f"the video upload made no progress at byte {before} of {size} after "
                    f"{stalled} transfers (nothing was published)",
                )
        return video_id, session

    async def _transfer(self, path: str, session: str, start: int, piece: bytes) -> dict[str, Any]:
        """One ``upload_phase=transfer``. The pipeline may resend the same range after a lost
        answer, a bounded number of times (Meta's SDK resends transfers): Meta answers it with
        the next range, or refuses it as out of step (1363037) naming the range it expects,
        an :class:`UploadOutOfStepError` that :meth:`_upload_video` goes on from."""
        files = {"video_file_chunk": ("chunk", piece, "application/octet-stream")}
        form = {"upload_phase": "transfer", "upload_session_id": session, "start_offset": start}
        return await self.graph.post(path, form, files=files, retry_safe=True)

    async def _finish_video(
        self, path: str, form: Mapping[str, Any], video_id: str, session: str, key: str
    ) -> str:
        """``upload_phase=finish`` with the post's fields: the one request that publishes,
        answered ``{"success": true}``. Sent at most once unless ``GET /{video-id}`` shows it
        did not take effect: after a lost answer the video is read first, and only a video
        whose upload is complete and that is not yet processing or published gets a second
        finish. Anything unclear is an ``OutcomeUnknownError`` naming the video (the record
        of ``key`` keeps it for a retried publish)."""
        where = f"/{{id}}/videos (finish of video {video_id})"
        for attempt in range(1, _FINISH_TRIES + 1):
            try:
                body = await self.graph.post(
                    path, {**form, "upload_phase": "finish", "upload_session_id": session}
                )
            except (OutcomeUnknownError, MalformedResponseError) as exc:
                cause: BaseException = exc
            except APIError as exc:
                if attempt == 1:
                    raise  # refused: nothing was published
                # A second finish refused: the first may have taken effect after all.
                raise self._unknown(where, key, video_id) from exc
            else:
                if body.get("success") is True:
                    return video_id
                cause = self.graph.malformed('"success": true')
            _log.info("facebook: the finish of video %s was not answered; reading it", video_id)
            state = await self._video_state(video_id, key)
            if state == "finished":
                return video_id
            if state != "uploaded":
                raise self._unknown(where, key, video_id) from cause
        raise self._unknown(where, key, video_id)

    async def _video_state(self, video_id: str, key: str) -> str:
        """Where a chunked upload's video stands, from ``GET /{video-id}`` (``status``, the
        VideoStatus of https://developers.facebook.com/docs/graph-api/reference/video-status,
        and ``published``): ``"finished"`` once processing or publishing began (or it is
        published), ``"uploaded"`` when every byte arrived and neither began, ``"incomplete"``
        while bytes are missing. A read that fails or says none of this raises
        ``OutcomeUnknownError``."""
        where = f"/{{id}}/videos (video {video_id})"
        try:
            body = await self.graph.get(f"/{video_id}", {"fields": _VIDEO_STATE_FIELDS})
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            _log.warning("facebook: reading video %s failed (%s)", video_id, exc)
            raise self._unknown(where, key, video_id) from exc
        status = obj(body.get("status"))

        def phase(name: str) -> object:
            return obj(status.get(name)).get("status")

        begun = [phase("processing_phase"), phase("publishing_phase")]
        if body.get("published") is True or any(p not in (None, "not_started") for p in begun):
            return "finished"
        if phase("uploading_phase") == "complete" and None not in begun:
            return "uploaded"
        if phase("uploading_phase") in ("not_started", "in_progress"):
            return "incomplete"
        raise self._unknown(where, key, video_id)

    async def _resume_video(self, post: Post, record: Mapping[str, Any], key: str) -> Post | None:
        """A retried publish of a chunked video (the record of ``key`` names its video): the
        video if it was published; its finish sent now if every byte arrived and it was not;
        ``None`` (a new upload, the old one never publishes) while bytes are missing."""
        video_id = self._video_id(record.get("video_id"))
        state = await self._video_state(video_id, key)
        if state == "incomplete":
            _log.info("facebook: video %s was not fully uploaded; uploading again", video_id)
            return None
        if state == "uploaded":
            session = record.get("upload_session_id")
            if not isinstance(session, str) or not session:
                raise self._unknown("/{id}/videos", key, video_id)
            media = post.media[0] if post.media else None
            form: dict[str, Any] = {"description": post.text or None, **self._schedule(post)}
            if media is not None and media.alt:
                form["title"] = media.alt
            try:
                await self._finish_video(f"/{self.page_id}/videos", form, video_id, session, key)
            except APIError as exc:
                # Refused now, it may have been finished by the unanswered attempt.
                raise self._unknown("/{id}/videos", key, video_id) from exc
        logger.info("facebook: the unanswered video was published as %s", video_id)
        return await self.get_post(video_id)

    def _video_id(self, value: object) -> str:
        if not isinstance(value, str) or re.fullmatch(ID_PATTERN, value) is None:
            raise MalformedResponseError(self.name, None, "malformed_response", "no video_id")
        return value

    def _video_range(self, body: Mapping[str, Any], size: int) -> tuple[int, int]:
        """The next byte range Meta asks for (``start_offset``, ``end_offset``, numbers or
        digit strings as Meta sends them): within the file, and empty only at its end."""
        start, end = _offset(body.get("start_offset")), _offset(body.get("end_offset"))
        if start is None or end is None or not 0 <= start <= end <= size:
            raise MalformedResponseError(
                self.name, None, "malformed_response", "no byte range within the video"
            )
        if start == end and start != size:
            raise MalformedResponseError(
                self.name, None, "malformed_response", "an empty byte range before the end"
            )
        return start, end

    async def _comment(self, post: Post) -> str:
        target = graph_id(self.name, post.reply_to, "post or comment id")
        text = text_with_link(post)  # a comment has no link of its own
        form: dict[str, Any] = {"message": text or None}
        if post.media:
            media = post.media[0]
            if media.url is not None:
                form["attachment_url"] = media.url
            else:
                form["attachment_id"] = await self._photo_id(media)
        body = await self.graph.post(f"/{target}/comments", form)
        return self._id_of(body, "id")

    async def _send_media(
        self,
        path: str,
        media: Media,
        form: dict[str, Any],
        *,
        url_field: str,
        retry_safe: bool = False,
    ) -> dict[str, Any]:
        """Media by URL (Meta fetches it: nothing is downloaded here) or as multipart
        ``source`` bytes."""
        if media.url is not None:
            return await self.graph.post(
                path, {**form, url_field: media.url}, retry_safe=retry_safe
            )
        data = media.data if media.data is not None else await _read(media)
        files = {"source": (f"upload.{media.mime_type.split('/')[-1]}", data, media.mime_type)}
        return await self.graph.post(path, form, files=files, retry_safe=retry_safe)

    def _id_of(self, body: dict[str, Any], name: str) -> str:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            raise MalformedResponseError(self.name, None, "malformed_response", f"no {name}")
        return value

    async def _reconcile_or_unknown(self, post: Post, started: datetime, key: str) -> Post | None:
        try:
            return await self._reconcile(post, started)
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            _log.warning("facebook: reconciling failed (%s); the outcome stays unknown", exc)
            raise self._unknown("/{id}/feed", key) from exc

    async def _reconcile(self, post: Post, started: datetime) -> Post | None:
        """The post an unanswered create made, if the Page shows it: the Page's posts (or
        scheduled posts, videos, the target's comments) since shortly before the attempt,
        with the same text."""
        since = started - timedelta(seconds=self.settings.reconcile_margin)
        params: dict[str, Any] = {"fields": "id,message,created_time", "limit": 25}
        text_field = "message"
        if post.reply_to is not None:
            path = f"/{graph_id(self.name, post.reply_to)}/comments"
            params = {"fields": "id,message,created_time,from", "order": "reverse_chronological"}
        elif post.scheduled_at is not None:
            path = f"/{self.page_id}/scheduled_posts"
            params = {"fields": "id,message,created_time"}
        elif post.media and post.media[0].kind == "video":
            path = f"/{self.page_id}/videos"
            params = {"fields": "id,description,created_time"}
            text_field = "description"
        else:
            path = f"/{self.page_id}/posts"
            params["since"] = unix(since)
        body = await self.graph.get(path, params)
        for item in body.get("data") or []:
            if not isinstance(item, dict):
                continue
            created = parse_time(item.get("created_time"))
            if created is not None and created < since:
                continue
            if (item.get(text_field) or "") != (post.text or ""):
                continue
            author = obj(item.get("from")).get("id")
            if author is not None and author != self.page_id:
                continue  # someone else wrote the same words
            found = str(item.get("id"))
            logger.info("facebook: the unanswered post was published as %s", found)
            return await self.get_post(found)
        return None

    async def edit(self, post_id: str, post: Post) -> Post:
        """Replace a Page post's text.

        Returns the post as Facebook now shows it. Raises ``ValidationError`` for a bad id before
        any request. Network calls: ``POST /{post}`` with ``message``, then ``GET /{post}``
        (``pages_manage_posts``)."""
        post_id = graph_id(self.name, post_id, "post id")
        await self.graph.post(f"/{post_id}", {"message": post.text}, kind="write")
        return await self.get_post(post_id)

    async def upload(self, media: Media) -> UploadedMedia:
        """An unpublished photo of the Page, to attach to one post later (``attached_media``).
        Videos publish as they upload, so they are not offered here.

        Returns the ``UploadedMedia`` (usable once, for 24 hours). Raises ``UnsupportedError`` for a
        video. Network calls: ``POST /{page}/photos`` with ``published=false``
        (``pages_manage_posts``)."""
        if media.kind not in ("image", "gif"):
            raise self.unsupported(Capability.UPLOAD, "facebook uploads photos on their own")
        photo = await self._photo_id(media)
        return UploadedMedia(
            id=photo,
            network=self.name,
            kind=media.kind,
            mime_type=media.mime_type,
            alt=media.alt,
            size=media.size,
            width=media.width,
            height=media.height,
            reusable=False,
            expires_at=self.now() + timedelta(hours=24),
        )

    # -- scheduling ----------------------------------------------------------------------------

    def ex_scheduled_posts(
        self, *, limit: int | None = None, cursor: str | None = None
    ) -> Paged[Post]:
        """The Page's scheduled posts, each with ``scheduled_at``.

        Returns a ``Paged`` of posts. Network calls: ``GET /{page}/scheduled_posts``
        (``pages_manage_posts``)."""
        return self.graph.paged(
            f"/{self.page_id}/scheduled_posts",
            {"fields": _LIST_FIELDS + ",is_published,scheduled_publish_time"},
            self._post_from,
            limit=limit,
            cursor=cursor,
            push_times=False,
        )

    async def ex_schedule(
        self, post: Post, at: datetime, *, idempotency_key: str | None = None
    ) -> Post:
        """Hand ``post`` to Facebook's scheduler, to go out at ``at``, at most once per
        ``idempotency_key`` as :meth:`publish`.

        Returns the scheduled post (its ``id`` is what :meth:`ex_reschedule` and
        :meth:`ex_cancel_scheduled` take). Raises ``InvalidPostError`` (``schedule_out_of_range``:
        outside 10 minutes to 75 days ahead) before any request. Network calls:
        ``POST /{page}/feed``, ``/photos`` or ``/videos`` with ``published=false`` and
        ``scheduled_publish_time`` (``pages_manage_posts``)."""
        if at.tzinfo is None:
            raise self._bad("the time to schedule at must be timezone-aware")
        scheduled = post.model_copy(update={"scheduled_at": at})
        return await self.publish(scheduled, idempotency_key=idempotency_key)

    async def ex_reschedule(self, post_id: str, at: datetime) -> Post:
        """Move a scheduled post (or video) to ``at`` (``POST /{id}`` with
        ``scheduled_publish_time``).

        Returns the post as Facebook now shows it. Raises ``ValidationError`` for a bad id or a
        time outside 10 minutes to 75 days ahead, before any request; Facebook refuses a post
        that is already published (``InvalidRequestError``). Needs ``pages_manage_posts``."""
        post_id = graph_id(self.name, post_id, "post id")
        if at.tzinfo is None:
            raise self._bad("the new time must be timezone-aware")
        out_of_range = self._schedule_problem(at)
        if out_of_range is not None:
            raise self._bad(out_of_range.message)
        await self.graph.post(f"/{post_id}", {"scheduled_publish_time": unix(at)}, kind="write")
        return await self.get_post(post_id)

    async def ex_scheduled_outcome(self, scheduled: Post) -> Post | None:
        """What became of a scheduled post (``scheduled``: as :meth:`ex_schedule` or
        :meth:`publish` returned it; Facebook keeps its id when it goes out).

        Returns the post: ``scheduled_at`` set while Facebook still holds it, else published
        (``permalink_url`` as its URL); ``None`` when Facebook no longer has it (deleted).
        Network calls: those of :meth:`get_post` (``GET /{id}``)."""
        if scheduled.id is None:
            raise self._bad("the scheduled post needs its id")
        try:
            return await self.get_post(scheduled.id)
        except NotFoundError:
            return None

    async def ex_cancel_scheduled(self, post_id: str) -> None:
        """Cancel a scheduled post or video: it is deleted before it goes out. A post that has
        gone out meanwhile is left alone.

        Returns nothing. Raises ``ValidationError`` for a bad id before any request, and
        ``APIError`` (``already_published``) when the post is no longer scheduled. Network
        calls: ``GET /{id}`` (``is_published`` / ``published``), then ``DELETE /{id}``. Needs
        ``pages_manage_posts``."""
        post_id = graph_id(self.name, post_id, "post id")
        field = "is_published" if "_" in post_id else "published"
        body = await self.graph.get(f"/{post_id}", {"fields": f"id,{field}"})
        if body.get(field) is not False:
            raise APIError(
                self.name,
                None,
                "already_published",
                f"facebook post {post_id} is not scheduled any more (it has gone out); "
                "delete() removes it",
            )
        await self.graph.delete(f"/{post_id}")
        # The key it was published under may schedule again (a planner hands it over again).
        record = await self._load_record(_scheduled_record(post_id))
        if record is not None:
            await self._drop_record(str(record.get("key")))
            await self._drop_record(_scheduled_record(post_id))

    # -- reading -------------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        """A Page post, a video (an id of digits only) or a comment (``metadata=1`` tells a
        post from a comment), with its media (alt text, sizes and URLs read from each photo).

        Returns the ``Post`` (``scheduled_at`` set while it waits for its time). Raises
        ``ValidationError`` for a bad id before any request, ``NotFoundError`` for one Facebook does
        not know. Network calls: ``GET /{id}`` (``?metadata=1`` first for a post id, then the post),
        and ``GET /?ids=`` for its photos (``pages_read_engagement``)."""
        post_id = graph_id(self.name, post_id, "post id")
        if "_" not in post_id:
            body = await self.graph.get(f"/{post_id}", {"fields": _VIDEO_FIELDS})
            return self._video_post(body)
        if await self._node_kind(post_id) == "comment":
            body = await self.graph.get(f"/{post_id}", {"fields": _COMMENT_FIELDS})
            return self._comment_post(body)
        body = await self.graph.get(f"/{post_id}", {"fields": _POST_FIELDS})
        post = self._post_from(body)
        if post is None:
            raise MalformedResponseError(self.name, None, "malformed_response", "no post id")
        photos = _photo_ids(body)
        if photos:
            found = await self.graph.get("/", {"ids": ",".join(photos), "fields": _PHOTO_FIELDS})
            post = post.model_copy(
                update={
                    "media": [
                        _photo_media(found[i]) for i in photos if isinstance(found.get(i), dict)
                    ]
                }
            )
        return post

    def _post_from(self, body: dict[str, Any]) -> Post | None:
        post_id = body.get("id")
        if not isinstance(post_id, str):
            return None
        link = None
        media: list[Media] = []
        for item in _attachments(body):
            kind = item.get("type") or item.get("media_type")
            if kind == "share" and isinstance(item.get("unshimmed_url") or item.get("url"), str):
                link = str(item.get("unshimmed_url") or item.get("url"))
            elif kind in ("video_inline", "video", "video_autoplay"):
                media.append(_video_attachment(item))
        created = parse_time(body.get("created_time")) or self.now()
        scheduled = parse_time(body.get("scheduled_publish_time"))
        text = body.get("message") or ""
        return Post(
            id=post_id,
            text=str(text),
            network=self.name,
            url=body.get("permalink_url") or f"https://www.facebook.com/{post_id}",
            created_at=created,
            link=link,
            media=media,
            author=_from_account(body.get("from")) or self._me_cache,
            scheduled_at=scheduled if body.get("is_published") is False else None,
            raw=body,
        )

    def _video_post(self, body: dict[str, Any]) -> Post:
        video_id = str(body.get("id"))
        return Post(
            id=video_id,
            text=str(body.get("description") or ""),
            network=self.name,
            url=body.get("permalink_url") or f"https://www.facebook.com/{video_id}",
            created_at=parse_time(body.get("created_time")) or self.now(),
            media=[
                Media(
                    kind="video",
                    url=str(body.get("source") or body.get("permalink_url") or ""),
                    mime_type="video/mp4",
                    alt=body.get("title"),
                    duration=float(body["length"])
                    if isinstance(body.get("length"), int | float)
                    else None,
                    preview_url=body.get("picture"),
                    id=video_id,
                )
            ],
            author=self._me_cache,
            scheduled_at=parse_time(body.get("scheduled_publish_time"))
            if body.get("published") is False
            else None,
            raw=body,
        )

    def _comment_post(self, body: dict[str, Any]) -> Post:
        comment_id = str(body.get("id"))
        parent = body.get("parent") or body.get("object") or {}
        return Post(
            id=comment_id,
            text=str(body.get("message") or ""),
            network=self.name,
            url=body.get("permalink_url"),
            created_at=parse_time(body.get("created_time")) or self.now(),
            reply_to=parent.get("id") if isinstance(parent, dict) else None,
            author=_from_account(body.get("from")),
            raw=body,
        )

    # -- insights --------------------------------------------------------------------------------

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Post insights of each post under canonical names (:data:`FACEBOOK_POST_METRICS`).

        Returns ``{post id: metrics}``. Raises ``ValidationError`` for a bad id before any request,
        and the ``APIError`` of a post Meta refused. Network calls: ``GET /{post}/insights``, 50
        posts per batch request (``POST /``); needs ``read_insights``."""
        ids = [graph_id(self.name, i, "post id") for i in post_ids]
        metric = ",".join(FACEBOOK_POST_METRICS)
        answers = await self.graph.batch(
            [("GET", f"{i}/insights?metric={metric}&period=lifetime") for i in ids]
        )
        now = self.now()
        out: dict[str, list[Metric]] = {}
        for post_id, answer in zip(ids, answers, strict=True):
            if isinstance(answer, APIError):
                raise answer
            out[post_id] = insights(answer, FACEBOOK_POST_METRICS, post_id, self.name, now)
        return out

    # -- engagement ----------------------------------------------------------------------------

    async def like(self, post_id: str) -> None:
        """Like a post or comment as the Page (``POST /{id}/likes``).

        Returns nothing. Raises ``ValidationError`` for a bad id before any request. Needs
        ``pages_manage_engagement``."""
        post_id = graph_id(self.name, post_id, "post id")
        await self.graph.post(f"/{post_id}/likes", {}, kind="write")

    async def unlike(self, post_id: str) -> None:
        """Take back the Page's like of a post or comment (``DELETE /{id}/likes``).

        Returns nothing. Raises ``ValidationError`` for a bad id before any request. Needs
        ``pages_manage_engagement``."""
        post_id = graph_id(self.name, post_id, "post id")
        await self.graph.delete(f"/{post_id}/likes")

    async def block(self, account: Account | str) -> None:
        """Block a person from the Page (they can no longer comment or message it).

        Returns nothing. Raises ``ValidationError`` for a bad id before any request. Network
        calls: ``POST /{page}/blocked`` with ``user`` (``pages_manage_engagement``)."""
        await self._blocked("POST", account)

    async def unblock(self, account: Account | str) -> None:
        """Unblock a person blocked from the Page.

        Returns nothing. Raises ``ValidationError`` for a bad id before any request. Network
        calls: ``DELETE /{page}/blocked`` with ``user`` (``pages_manage_engagement``)."""
        await self._blocked("DELETE", account)

    async def _blocked(self, method: str, account: Account | str) -> None:
        user = graph_id(
            self.name, account.id if isinstance(account, Account) else account, "user id"
        )
        path = f"/{self.page_id}/blocked"
        if method == "POST":
            await self.graph.post(path, {"user": user}, kind="write")
        else:
            await self.graph.delete(path, {"user": user})

    # -- messages ------------------------------------------------------------------------------

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """Comments on the Page's posts (read post page by post page, one batch request per
        page), posts that tag the Page (mentions) and Messenger messages, newest first.

        Returns a ``Paged`` of messages. Network calls: ``GET /{page}/posts`` then
        ``GET /{post}/comments`` in batches (``POST /``; ``pages_read_user_content``),
        ``GET /{page}/tagged``, ``GET /{page}/conversations`` then ``GET /{thread}/messages`` in
        batches (``pages_messaging``)."""
        wanted = kinds_filter(kinds)
        sources: dict[str, Fetch[Message]] = {}
        if "comment" in wanted or "reply" in wanted:
            sources["comments"] = self._comments_fetch(wanted, since)
        if "direct" in wanted:
            sources["direct"] = self._direct_fetch()
        if "mention" in wanted:
            sources["mentions"] = self.graph.fetcher(
                f"/{self.page_id}/tagged",
                {"fields": "id,message,created_time,from,permalink_url"},
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

    def _comments_fetch(self, wanted: frozenset[str], since: datetime | None) -> Fetch[Message]:
        posts = self.graph.fetcher(
            f"/{self.page_id}/posts",
            {"fields": "id,created_time"},
            lambda d: d,
            page_size=_BATCH_POSTS,
        )
        fields = "id,message,created_time,from,parent"
        # Meta leaves out comments older than ``since`` (the comments edge takes it). An older
        # post may have new ones, so the posts are visited back to the lookback before
        # ``since`` (comments_lookback_days), not only until the first older comment.
        window = "" if since is None else f"&since={unix(since)}"
        horizon = walk_horizon(since, self.settings.comments_lookback_days)

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Message]:
            page = await posts(network_cursor, None)
            recent, done = within_horizon(page.items, "created_time", horizon)
            ids = [str(p["id"]) for p in recent if isinstance(p.get("id"), str)]
            # Every page of each post's comments (paging.next), not only the first 100.
            urls = [
                f"{i}/comments?filter=stream&order=reverse_chronological&fields={fields}"
                f"&limit=100{window}"
                for i in ids
            ]
            answers = await self.graph.batch_edges(urls) if urls else []
            found: list[Message] = []
            for post_id, answer in zip(ids, answers, strict=True):
                if isinstance(answer, APIError):
                    raise answer
                for item in answer:
                    message = self._comment_message(item, post_id)
                    if message is None or message.kind not in wanted:
                        continue
                    # ``since`` goes in whole seconds: one a little older is not the end.
                    if since is None or message.created_at >= since:
                        found.append(message)
            found.sort(key=lambda m: m.created_at, reverse=True)
            # Posts without a new comment are not the end: the walk reads on past them.
            following = None if done else page.next
            return Batch(found, next=following, filtered=not found and bool(page.items))

        return fetch

    def _mention(self, item: dict[str, Any]) -> Message | None:
        author = _from_account(item.get("from"))
        if author is None or not isinstance(item.get("id"), str):
            return None
        return Message(
            id=item["id"],
            network=self.name,
            kind="mention",
            text=str(item.get("message") or ""),
            author=author,
            created_at=parse_time(item.get("created_time")) or self.now(),
            post_id=item["id"],
            url=item.get("permalink_url"),
            raw=item,
        )

    def _comment_message(self, item: object, post_id: str) -> Message | None:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str):
            return None
        author = _from_account(item.get("from"))
        if author is None or author.id == self.page_id:
            return None
        parent = item.get("parent")
        return Message(
            id=item["id"],
            network=self.name,
            kind="reply" if isinstance(parent, dict) else "comment",
            text=str(item.get("message") or ""),
            author=author,
            created_at=parse_time(item.get("created_time")) or self.now(),
            post_id=post_id,
            conversation_id=post_id,
            url=f"https://www.facebook.com/{item['id']}",
            raw=item,
        )

    def _direct_fetch(self) -> Fetch[Message]:
        threads = self.graph.fetcher(
            f"/{self.page_id}/conversations",
            {"platform": "messenger", "fields": "id,updated_time"},
            lambda d: d,
            page_size=_BATCH_POSTS,
        )

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Message]:
            page = await threads(network_cursor, None)
            ids = [str(t["id"]) for t in page.items if isinstance(t.get("id"), str)]
            answers = (
                await self.graph.batch(
                    [("GET", f"{i}/messages?fields={_MESSAGE_FIELDS}&limit=100") for i in ids]
                )
                if ids
                else []
            )
            found: list[Message] = []
            for thread_id, answer in zip(ids, answers, strict=True):
                if isinstance(answer, APIError):
                    raise answer
                for item in answer.get("data") or []:
                    if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                        continue
                    author = _from_account(item.get("from"))
                    if author is None or author.id == self.page_id:
                        continue
                    found.append(
                        Message(
                            id=item["id"],
                            network=self.name,
                            kind="direct",
                            text=str(item.get("message") or ""),
                            author=author,
                            created_at=parse_time(item.get("created_time")) or self.now(),
                            conversation_id=thread_id,
                            raw=item,
                        )
                    )
            found.sort(key=lambda m: m.created_at, reverse=True)
            # Conversations with only the Page's own messages are not the end: read on.
            return Batch(found, next=page.next, filtered=not found and bool(page.items))

        return fetch

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a comment or post with a comment, or a Messenger message with a message
        (``messaging_type=RESPONSE``: within 24 hours of theirs).

        Returns the reply as a ``Post``. Raises ``ValidationError`` for a bad id and
        ``InvalidPostError`` for a reply Facebook would refuse, before any request. Network calls:
        ``POST /{post or comment}/comments`` (``pages_manage_engagement``) or
        ``POST /{page}/messages`` (``pages_messaging``)."""
        body = as_post(post)
        if isinstance(to, Message) and to.kind == "direct":
            recipient = graph_id(self.name, to.author.id, "user id")
            problems = _messenger_problems(body)
            if problems:
                raise InvalidPostError(self.name, problems)
            text = text_with_link(body)
            try:
                answer = await self.graph.post(
                    f"/{self.page_id}/messages",
                    {
                        "recipient": {"id": recipient},
                        "message": {"text": text},
                        "messaging_type": "RESPONSE",
                    },
                )
            except MalformedResponseError as exc:
                # A 2xx whose body cannot be read: the message went out.
                raise self._unknown("/{page}/messages", None) from exc
            message_id = answer.get("message_id")
            if not isinstance(message_id, str):
                raise self._unknown("/{page}/messages", None)
            return body.model_copy(
                update={
                    "id": message_id,
                    "text": text,
                    "link": None,
                    "network": self.name,
                    "created_at": self.now(),
                    "visibility": "direct",
                    "reply_to": to.id,
                }
            )
        target = self._message_target(to, "post or comment id")
        return await self.publish(body.model_copy(update={"reply_to": target}))


# -- mapping ---------------------------------------------------------------------------------------


def _messenger_problems(post: Post) -> list[Problem]:
    """What a Messenger reply (a text message here; its link goes in the text) cannot carry,
    found before sending rather than dropped."""
    problems: list[Problem] = []
    for name, present in (
        ("media", bool(post.media)),
        ("poll", post.poll is not None),
        ("thread", bool(post.thread)),
        ("quote_of", post.quote_of is not None),
        ("scheduled_at", post.scheduled_at is not None),
    ):
        if present:
            problems.append(
                Problem(
                    code="unsupported",
                    message=f"a messenger reply is a text message: it has no {name}",
                    field=name,
                )
            )
    if not (post.text.strip() or post.link):
        problems.append(
            Problem(code="text_missing", message="a messenger reply needs text", field="text")
        )
    return problems


def _offset(value: object) -> int | None:
    """A byte offset of Meta's answer: an int or a string of digits."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def _scheduled_record(post_id: str) -> str:
    """The record that names the key a scheduled post was published under."""
    return f"scheduled:{post_id}"


def _first_link(text: str) -> str | None:
    from socialkit.text import url_spans

    for start, end in url_spans(text):
        return text[start:end]
    return None


async def _read(media: Media) -> bytes:
    import anyio

    assert media.path is not None
    return await anyio.Path(media.path).read_bytes()


def _page_account(body: dict[str, Any]) -> Account:
    page_id = body.get("id")
    if not isinstance(page_id, str):
        raise MalformedResponseError("facebook", None, "malformed_response", "no Page id")
    followers = body.get("followers_count", body.get("fan_count"))
    return Account(
        id=page_id,
        handle=body.get("username") if isinstance(body.get("username"), str) else None,
        name=body.get("name") if isinstance(body.get("name"), str) else None,
        url=body.get("link") or f"https://www.facebook.com/{page_id}",
        followers=followers if isinstance(followers, int) else None,
        network="facebook",
        raw=body,
    )


def _from_account(value: object) -> Account | None:
    if not isinstance(value, dict) or not isinstance(value.get("id"), str):
        return None
    return Account(
        id=value["id"],
        name=value.get("name") if isinstance(value.get("name"), str) else None,
        url=f"https://www.facebook.com/{value['id']}",
        network="facebook",
    )


def _attachments(body: dict[str, Any]) -> list[dict[str, Any]]:
    block = body.get("attachments")
    items = block.get("data") if isinstance(block, dict) else None
    out: list[dict[str, Any]] = []
    for item in items or []:
        if not isinstance(item, dict):
            continue
        subs = item.get("subattachments")
        sub_items = subs.get("data") if isinstance(subs, dict) else None
        if sub_items:
            out.extend(s for s in sub_items if isinstance(s, dict))
        else:
            out.append(item)
    return out


def _photo_ids(body: dict[str, Any]) -> list[str]:
    import re

    ids = []
    for item in _attachments(body):
        if (item.get("type") or item.get("media_type")) != "photo":
            continue
        target = item.get("target")
        value = target.get("id") if isinstance(target, dict) else None
        if isinstance(value, str) and re.fullmatch(ID_PATTERN, value):
            ids.append(value)
    return ids


def _photo_media(photo: dict[str, Any]) -> Media:
    images = [i for i in photo.get("images") or [] if isinstance(i, dict)]
    best = max(images, key=lambda i: int(i.get("width") or 0), default={})
    width = photo.get("width") or best.get("width")
    height = photo.get("height") or best.get("height")
    url = best.get("source") or photo.get("link") or ""
    return Media(
        kind="image",
        url=str(url),
        mime_type="image/jpeg",
        alt=photo.get("alt_text_custom") or None,
        width=width if isinstance(width, int) and width > 0 else None,
        height=height if isinstance(height, int) and height > 0 else None,
        id=str(photo.get("id")),
    )


def _video_attachment(item: dict[str, Any]) -> Media:
    media = obj(item.get("media"))
    image = obj(media.get("image"))
    target = obj(item.get("target"))
    return Media(
        kind="video",
        url=str(media.get("source") or item.get("url") or ""),
        mime_type="video/mp4",
        preview_url=image.get("src"),
        id=target.get("id"),
    )
