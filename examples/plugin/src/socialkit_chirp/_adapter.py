"""The Chirp adapter: publish, read back, measure and delete items.

Every request goes through socialkit's HTTP pipeline (``self.session``): retries, rate-limit
waits, the idempotency key of a create and the redaction of secrets are done there, not here.
Every body is parsed with the pipeline's typed helper (``Session.request_model``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

import httpx
from socialkit import (
    Account,
    Adapter,
    AdapterSettings,
    Batch,
    Capability,
    Limits,
    Media,
    Message,
    Metric,
    Paged,
    Post,
    UploadedMedia,
)
from socialkit.adapters._base import as_post, check_id

from socialkit_chirp import _mapping, _wire
from socialkit_chirp._network import make_network
from socialkit_chirp._settings import ChirpSettings

if TYPE_CHECKING:
    from socialkit._http import Session

__all__ = ["ChirpAdapter"]

#: Chirp's ids are decimal numbers carried as strings.
ID_PATTERN = r"[0-9]{1,20}"
#: The largest page ``GET /v1/users/{id}/items`` serves, and most ids per metrics call.
PAGE_SIZE = 50
METRICS_PER_CALL = 100


class ChirpAdapter(Adapter):
    """One Chirp account.

    Publishes text, up to four images and threads, reads the account's posts back (lazily,
    resumable), reads their counters and deletes them.
    """

    name: ClassVar[str] = "chirp"
    Settings: ClassVar[type[AdapterSettings]] = ChirpSettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGE,
            Capability.PUBLISH_THREAD,
            Capability.REPLY,
            Capability.READ_POSTS,
            Capability.POST_METRICS,
            Capability.DELETE,
            Capability.UPLOAD,
        }
    )
    limits = Limits(
        max_text=280,
        text_unit="characters",
        max_media=4,
        max_images=4,
        image_max_bytes=5 * 1024 * 1024,
        max_alt_text=1000,
    )
    docs_url: ClassVar[str | None] = "https://chirp.example/developers"

    settings: ChirpSettings

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, http=http)
        assert isinstance(settings, ChirpSettings)
        self.settings = settings
        self._session: Session | None = None
        self._me: Account | None = None

    @property
    def session(self) -> Session:
        """The pipeline session every request of this adapter goes through."""
        if self._session is None:
            from socialkit.auth import BearerAuth

            network = make_network(self.settings.base_url)
            self._session = self._make_session(network, auth=BearerAuth(self.settings.token))
        return self._session

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.aclose()
            self._session = None
        await super().aclose()

    def _id(self, value: object, what: str = "id") -> str:
        """``value`` if it is a Chirp id, else a ValidationError before any request."""
        return check_id(self.name, value, ID_PATTERN, what)

    # -- the account ---------------------------------------------------------------------

    async def me(self) -> Account:
        """The account the token acts for.

        Returns: the ``Account`` (id, handle, name, followers).
        Raises: ``AuthError`` (bad token), ``MalformedResponseError``, the pipeline's errors.
        Network calls: ``GET /v1/me`` (once per adapter; the answer is kept).
        """
        if self._me is None:
            user = await self.session.request_model(_wire.User, "GET", "/v1/me")
            self._me = _mapping.account(user)
        return self._me

    # -- publishing ----------------------------------------------------------------------

    async def upload(self, media: Media) -> UploadedMedia:
        """Upload one image, to attach to a later post.

        Returns: the ``UploadedMedia`` (id, URL, alt text).
        Raises: ``UnsupportedError`` for a kind Chirp does not take, the pipeline's errors.
        Network calls: ``POST /v1/media`` (multipart; never re-sent blindly).
        """
        if media.kind not in ("image", "gif"):
            detail = f"chirp takes images, not {media.kind}"
            raise self.unsupported(Capability.PUBLISH_VIDEO, detail)
        files = {"file": (media.filename, media.read(), media.mime_type)}
        data = {"alt": media.alt} if media.alt else None
        item = await self.session.request_model(
            _wire.MediaItem, "POST", "/v1/media", files=files, data=data
        )
        return _mapping.uploaded(item)

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        media_ids = []
        for media in post.media:
            uploaded = media.uploaded or await self.upload(media)
            media_ids.append(uploaded.id)
        body: dict[str, object] = {"text": post.text}
        if post.reply_to is not None:
            body["reply_to"] = self._id(post.reply_to, "reply_to")
        if media_ids:
            body["media_ids"] = media_ids
        entry = await self.session.request_model(
            _wire.Chirp, "POST", "/v1/posts", json=body, idempotency_key=idempotency_key
        )
        return _mapping.post(entry)

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a message, or the post with id ``to``.

        Returns: the reply as published.
        Raises: ``InvalidPostError`` before any request when the reply breaks Chirp's rules,
        ``ValidationError`` for an id that is not a Chirp id, the pipeline's errors.
        Network calls: ``POST /v1/posts`` (plus ``POST /v1/media`` per image).
        """
        parent = to.post_id or to.id if isinstance(to, Message) else to
        reply = as_post(post).model_copy(update={"reply_to": self._id(parent, "reply_to")})
        return await self.publish(reply)

    async def delete(self, post_id: str) -> None:
        """Delete one of the account's posts.

        Raises: ``NotFoundError`` when it does not exist, the pipeline's errors.
        Network calls: ``DELETE /v1/posts/{id}``.
        """
        await self.session.request("DELETE", f"/v1/posts/{self._id(post_id)}")

    # -- reading -------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        """One post by id.

        Returns: the ``Post``, with its media.
        Raises: ``NotFoundError``, ``ValidationError`` (not a Chirp id), the pipeline's errors.
        Network calls: ``GET /v1/posts/{id}``.
        """
        entry = await self.session.request_model(
            _wire.Chirp, "GET", f"/v1/posts/{self._id(post_id)}"
        )
        return _mapping.post(entry)

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The account's posts (or another ``account`` id's), newest first, lazily.

        Returns: a resumable ``Paged[Post]`` (``since``/``until``/``limit``/``cursor``).
        Raises (while iterating): ``ValidationError`` for a bad id or cursor, the pipeline's.
        Network calls: ``GET /v1/me`` once when ``account`` is not given, then
        ``GET /v1/users/{id}/items`` per page of up to 50.
        """

        async def fetch(page_cursor: str | None, want: int | None) -> Batch[Post]:
            owner = self._id(account, "account") if account else (await self.me()).id
            size = PAGE_SIZE if want is None else max(1, min(PAGE_SIZE, want))
            params: dict[str, str | int] = {"limit": size}
            if page_cursor is not None:
                params["before"] = page_cursor
            page = await self.session.request_model(
                _wire.ChirpPage, "GET", f"/v1/users/{owner}/items", params=params
            )
            return Batch([_mapping.post(c) for c in page.data], page.next)

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda post: post.created_at,
        )

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Views, likes, shares and replies of each post.

        Returns: ``{post_id: [Metric, ...]}`` under socialkit's canonical names
        (``impressions``, ``likes``, ``reposts``, ``replies``).
        Raises: ``ValidationError`` for an id that is not a Chirp id, the pipeline's errors.
        Network calls: ``GET /v1/posts/metrics`` per 100 ids.
        """
        ids = [self._id(post_id) for post_id in post_ids]
        result: dict[str, list[Metric]] = {}
        for start in range(0, len(ids), METRICS_PER_CALL):
            chunk = ids[start : start + METRICS_PER_CALL]
            page = await self.session.request_model(
                _wire.CountsPage, "GET", "/v1/posts/metrics", params={"ids": ",".join(chunk)}
            )
            for counts in page.data:
                result[counts.id] = _mapping.metrics(counts)
        return result
