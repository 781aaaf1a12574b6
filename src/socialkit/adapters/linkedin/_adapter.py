"""The LinkedIn adapter: posts of a member or an organization (text, articles, images,
videos, reshares), comments and likes, share and follower statistics.

Reference pages (LinkedIn publishes no machine-readable description), under
https://learn.microsoft.com/en-us/linkedin/marketing/community-management/:
``shares/posts-api``, ``shares/images-api``, ``shares/videos-api``,
``shares/little-text-format``, ``shares/network-update-social-actions``,
``organizations/share-statistics``, ``organizations/follower-statistics``; OAuth:
https://learn.microsoft.com/en-us/linkedin/shared/authentication/authorization-code-flow and
…/programmatic-refresh-tokens.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar
from urllib.parse import urlsplit

import anyio
import httpx
import pydantic

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    ConfigurationError,
    InvalidPostError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    TimeoutError,
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
from socialkit._paging import Batch, Paged
from socialkit.adapters._base import (
    Adapter,
    AdapterSettings,
    MediaSource,
    as_post,
    check_id,
    kinds_filter,
    path_segment,
)
from socialkit.adapters.linkedin import _mapping as mapping
from socialkit.adapters.linkedin import _wire as wire
from socialkit.adapters.linkedin._settings import AUTHOR_URN, LinkedInSettings

if TYPE_CHECKING:
    from socialkit._http import Session
    from socialkit.auth import AuthorizationRequest, OAuth2Client, Token

__all__ = ["LinkedInAdapter", "LinkedInMediaError"]

logger = logging.getLogger("socialkit.adapters.linkedin")

T = TypeVar("T")

_MiB = 1024 * 1024
_POST_URN = r"urn:li:(?:share|ugcPost):[0-9]{1,25}"
_COMMENT_URN = re.compile(r"urn:li:comment:\((urn:li:[A-Za-z]+:[0-9]{1,25}),([0-9]{1,25})\)")
_MEDIA_URN = r"urn:li:(?:image|video):[A-Za-z0-9_-]{1,100}"
_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif"})
_VIDEO_TYPES = frozenset({"video/mp4"})
_VISIBILITY = {"public": "PUBLIC", "followers": "CONNECTIONS"}

#: Share statistics (``organizations/share-statistics``) under their canonical names.
_SHARE_METRICS: Mapping[str, str] = {
    "impressions": "impressionCount",
    "reach": "uniqueImpressionsCount",
    "clicks": "clickCount",
    "likes": "likeCount",
    "replies": "commentCount",
    "reposts": "shareCount",
    "engagement_rate": "engagement",
}


class LinkedInMediaError(APIError):
    """An upload LinkedIn reported ``PROCESSING_FAILED`` (the file is not one it takes)."""

    def __init__(self, urn: str) -> None:
        self.urn = urn
        super().__init__("linkedin", None, "PROCESSING_FAILED", f"LinkedIn could not process {urn}")


#: A URN as one path segment or query value (``:``, ``(``, ``)``, ``,`` encoded), as
#: Rest.li 2.0 wants it.
_enc = path_segment


def _post_urn(value: object) -> str:
    return check_id("linkedin", value, _POST_URN, "post URN (urn:li:share:… or urn:li:ugcPost:…)")


def _target_urn(value: object) -> str:
    """A post or a comment URN (what comments, likes and replies act on)."""
    if isinstance(value, str) and _COMMENT_URN.fullmatch(value):
        return value
    return check_id("linkedin", value, _POST_URN, "post or comment URN")


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class LinkedInAdapter(Adapter):
    """LinkedIn (a member or an organization page). See ``docs/networks/linkedin.md`` for the
    app, the scopes each call needs, the limits and the ``ex_`` methods.

    Ids are URNs: posts ``urn:li:share:…`` / ``urn:li:ugcPost:…``, comments
    ``urn:li:comment:(…)``, accounts ``urn:li:person:…`` / ``urn:li:organization:…``.
    """

    name: ClassVar[str] = "linkedin"
    Settings: ClassVar[type[AdapterSettings]] = LinkedInSettings
    docs_url: ClassVar[str | None] = (
        "https://learn.microsoft.com/en-us/linkedin/marketing/community-management/shares/posts-api"
    )
    login_settings: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGE,
            Capability.PUBLISH_VIDEO,
            Capability.QUOTE,
            Capability.DELETE,
            Capability.EDIT,
            Capability.READ_POSTS,
            Capability.POST_METRICS,
            Capability.ACCOUNT_METRICS,
            Capability.COMMENTS,
            Capability.REPLY,
            Capability.LIKE,
            Capability.UPLOAD,
        }
    )
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.PUBLISH_GIF: (
            "LinkedIn takes a GIF through the Images API as an image and reads it back as one: "
            "attach it as an image"
        ),
        Capability.PUBLISH_AUDIO: "LinkedIn posts carry no audio",
        Capability.PUBLISH_THREAD: "LinkedIn has no threads",
        Capability.PUBLISH_POLL: "the Posts API creates polls only for approved partners",
        Capability.NATIVE_SCHEDULING: "the Posts API publishes at once; it has no schedule",
        Capability.READ_OTHERS: "the API lists only posts of authors the token administers",
        Capability.MENTIONS: "the API gives apps no mentions of a member",
        Capability.DIRECT_MESSAGES: "LinkedIn's messaging API is closed to most apps",
        Capability.SEARCH: "LinkedIn has no public post search API",
        Capability.WEBHOOKS: "LinkedIn's webhooks are for approved partners only",
        Capability.REPOST: "a reshare is a post of its own: publish Post(quote_of=…)",
        Capability.BOOKMARK: "LinkedIn has no bookmarks API",
        Capability.FOLLOW: "the API cannot follow members or pages",
        Capability.BLOCK: "the API cannot block members",
        Capability.MUTE: "the API cannot mute members",
        Capability.HIDE: "the API cannot hide comments",
        Capability.ACCOUNTS: "the API looks up no members by handle",
        Capability.FOLLOWERS: "the API lists no followers (only their statistics)",
        Capability.TIMELINE: "the API gives apps no feed",
        Capability.FEEDS: "LinkedIn has no lists or feeds",
        Capability.STREAM: "LinkedIn offers apps no real-time stream",
    }
    limits = Limits(
        max_text=3000,
        max_media=20,
        max_videos=1,
        mix_media=False,
        video_max_bytes=500 * _MiB,
        media_types=_IMAGE_TYPES | _VIDEO_TYPES,
        max_alt_text=4086,
    )

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None) -> None:
        super().__init__(settings, http=http)
        assert isinstance(settings, LinkedInSettings)
        self.settings: LinkedInSettings = settings
        self._session: Session | None = None
        self._oauth2_client: OAuth2Client | None = None
        self._author: str | None = settings.author
        #: Sleeps between media status polls (replace in tests to record the waits).
        self._sleep: Callable[[float], Awaitable[None]] = anyio.sleep

    # -- plumbing ---------------------------------------------------------------------------

    def _oauth2(self) -> OAuth2Client:
        if self._oauth2_client is None:
            s = self.settings
            if s.client_id is None or s.client_secret is None:
                raise ConfigurationError("linkedin: the login needs client_id and client_secret")
            self._oauth2_client = self._new_oauth2(
                authorization_endpoint=s.authorize_url,
                token_endpoint=s.token_url,
                client_id=s.client_id,
                client_secret=s.client_secret,
                # LinkedIn reads the client's credentials from the form body.
                token_endpoint_auth_method="client_secret_post",
                scopes=s.scopes,
                redirect_uri=s.redirect_uri,
            )
        return self._oauth2_client

    async def ensure_credentials(self) -> None:
        """Without a token in the settings (``access_token`` or ``refresh_token``), one must
        be stored (``socialkit auth login linkedin``). Raises ``AuthFlowError`` naming the
        command. No request."""
        if self.settings.access_token is not None or self.settings.refresh_token is not None:
            return
        if await self._tokens().get(self.name, self._account_key) is None:
            from socialkit.auth import AuthFlowError

            raise AuthFlowError(
                self.name,
                code="not_logged_in",
                message=(
                    f"no access_token setting and no stored token for account "
                    f"{self._account_key!r}: log in with `socialkit auth login linkedin "
                    f"--account {self._account_key}` (or ex_authorization_url / "
                    "ex_exchange_code), or pass access_token="
                ),
            )

    def ex_authorization_url(
        self, *, redirect_uri: str | None = None, scopes: Iterable[str] | None = None
    ) -> AuthorizationRequest:
        """Start a login (3-legged OAuth 2.0, authorization code). Open ``result.url`` in a
        browser; keep ``result`` for :meth:`ex_exchange_code`. Raises ``ConfigurationError``
        without ``client_id`` and ``client_secret``. Network calls: none."""
        chosen = tuple(self.settings.scopes if scopes is None else scopes)
        return self._oauth2().begin(redirect_uri=redirect_uri, scopes=chosen)

    async def ex_exchange_code(
        self, request: AuthorizationRequest, redirect: str | Mapping[str, str]
    ) -> Token:
        """Finish the login: check ``state``, exchange the code, store the token (and the
        refresh token, for apps LinkedIn gives one) for this account. Returns the token.
        Network calls: ``POST /oauth/v2/accessToken``."""
        token = await self._finish_login(self._oauth2(), request, redirect)
        self._session = None
        return token

    async def _auth(self) -> httpx.Auth:
        from socialkit.auth import BearerAuth

        s = self.settings
        if s.access_token is not None and (s.refresh_token is None or s.client_id is None):
            return BearerAuth(s.access_token)
        return await self._oauth2_auth(self._oauth2(), s.access_token, s.refresh_token)

    async def _api(self) -> Session:
        if self._session is None:
            from socialkit.adapters.linkedin._network import make_network

            auth = await self._auth()
            if self._session is None:
                self._session = self._make_session(make_network(self.settings.base_url), auth=auth)
        return self._session

    def _headers(self, method: str | None = None) -> dict[str, str]:
        """The headers of every call: the API version and Rest.li 2.0 (and the Rest.li method
        where the reference asks for one)."""
        headers = {
            "LinkedIn-Version": self.settings.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }
        if method is not None:
            headers["X-RestLi-Method"] = method
        return headers

    async def _request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        kind: Literal["read", "write", "create"] | None = None,
        restli: str | None = None,
    ) -> httpx.Response:
        session = await self._api()
        return await session.request(
            method, path, json=body, kind=kind, headers=self._headers(restli)
        )

    async def _get(self, model: type[T], path: str) -> T:
        session = await self._api()
        return await session.request_model(model, "GET", path, headers=self._headers())

    async def aclose(self) -> None:
        """Close the OAuth client and the HTTP client (unless it was given). No request."""
        if self._oauth2_client is not None:
            await self._oauth2_client.aclose()
        await super().aclose()
        self._session = None

    # -- the author -------------------------------------------------------------------------

    async def _author_urn(self) -> str:
        """The ``author`` setting, or the member who logged in (``/v2/userinfo``)."""
        if self._author is None:
            info = await self._get(wire.UserInfo, "/v2/userinfo")
            self._author = check_id(self.name, f"urn:li:person:{info.sub}", AUTHOR_URN, "member")
        return self._author

    def _organization(self) -> str | None:
        author = self._author
        return author if author is not None and author.startswith("urn:li:organization:") else None

    async def me(self) -> Account:
        """The author: the organization (``GET /rest/organizations/{id}``,
        ``rw_organization_admin``) or the member (``GET /v2/userinfo``, ``openid profile``)."""
        author = self.settings.author
        if author is not None and author.startswith("urn:li:organization:"):
            org = await self._get(
                wire.Organization, f"/rest/organizations/{author.rsplit(':', 1)[1]}"
            )
            vanity = org.vanityName
            return Account(
                id=author,
                handle=vanity,
                name=org.localizedName,
                url=f"https://www.linkedin.com/company/{vanity}/" if vanity else None,
                network=self.name,
                raw=org.model_dump(),
            )
        info = await self._get(wire.UserInfo, "/v2/userinfo")
        if author is None:
            self._author = f"urn:li:person:{info.sub}"
        return Account(
            id=author or f"urn:li:person:{info.sub}",
            name=info.name,
            avatar_url=info.picture,
            network=self.name,
            raw=info.model_dump(),
        )

    # -- pre-flight -------------------------------------------------------------------------

    def _check_extra(self, post: Post) -> list[Problem]:
        problems: list[Problem] = []
        if post.visibility not in _VISIBILITY:
            problems.append(
                Problem(
                    code="unsupported_visibility",
                    message="linkedin posts are public or for connections (visibility followers)",
                    field="visibility",
                )
            )
        elif post.visibility == "followers" and (self.settings.author or "").startswith(
            "urn:li:organization:"
        ):
            problems.append(
                Problem(
                    code="unsupported_visibility",
                    message="an organization's posts are public",
                    field="visibility",
                )
            )
        if post.content_warning is not None:
            problems.append(
                Problem(
                    code="unsupported",
                    message="linkedin has no content warnings",
                    field="content_warning",
                )
            )
        if post.link is not None and post.media:
            problems.append(
                Problem(
                    code="link_with_media",
                    message="a linkedin post carries an article link or media, not both",
                    field="link",
                )
            )
        if post.quote_of is not None and (post.media or post.link is not None):
            problems.append(
                Problem(
                    code="quote_with_content",
                    message="a reshare carries text only",
                    field="quote_of",
                )
            )
        if post.reply_to is not None and (post.media or post.link is not None):
            problems.append(
                Problem(
                    code="reply_with_media",
                    message="a comment is text only through the API",
                    field="reply_to",
                )
            )
        for field, value in (("reply_to", post.reply_to), ("quote_of", post.quote_of)):
            if value is not None:
                try:
                    (_target_urn if field == "reply_to" else _post_urn)(value)
                except ValidationError as exc:
                    problems.append(Problem(code="invalid_id", message=str(exc), field=field))
        return problems

    # -- publishing -------------------------------------------------------------------------

    async def _publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        return await super()._publish(post, idempotency_key=key)

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """Upload the media, then ``POST /rest/posts`` (or a comment for ``reply_to``), once
        per ``idempotency_key``: LinkedIn takes no idempotency key, so a key whose create got
        no answer is reconciled first (the author's newest posts, or the target's comments,
        for one with this text made since the attempt); found, it is the answer; not found,
        the create is sent again (LinkedIn creates synchronously: a post it made shows)."""
        key = idempotency_key if idempotency_key is not None else f"sk-{uuid.uuid4()}"
        record = await self._load_record(key)
        if record is not None and record.get("post"):
            return Post.model_validate_json(str(record["post"]))
        author = await self._author_urn()
        commentary = mapping.escape_little(post.text)
        if record is not None:
            found = await self._reconcile(post, commentary, record, key)
            if found is not None:
                await self._save_record(key, {"post": found.model_dump_json()})
                return found
        content = None
        if post.reply_to is None:
            content, post = await self._content(post, author)
        started = {"started": self.now().isoformat()}
        await self._save_record(key, started)
        try:
            if post.reply_to is not None:
                published = await self._comment_create(post, author, commentary)
            else:
                published = await self._post_create(post, author, commentary, content)
        except OutcomeUnknownError as exc:
            raise OutcomeUnknownError(self.name, exc.method, exc.path, idempotency_key=key) from exc
        except (APIError, TransportError):
            await self._drop_record(key)
            raise
        if published is None:
            # LinkedIn answered 2xx without the new id: it made the post; find it.
            found = await self._reconcile(post, commentary, started, key)
            if found is None:
                raise OutcomeUnknownError(self.name, "POST", "/rest/posts", idempotency_key=key)
            published = found
        await self._save_record(key, {"post": published.model_dump_json()})
        return published

    async def _post_create(
        self, post: Post, author: str, commentary: str, content: dict[str, Any] | None
    ) -> Post | None:
        body: dict[str, Any] = {
            "author": author,
            "commentary": commentary,
            "visibility": _VISIBILITY[post.visibility],
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if content is not None:
            body["content"] = content
        if post.quote_of is not None:
            body["reshareContext"] = {"parent": _post_urn(post.quote_of)}
        response = await self._request("POST", "/rest/posts", body=body, kind="create")
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if urn is None or re.fullmatch(_POST_URN, urn) is None:
            return None
        return post.model_copy(
            update={
                "id": urn,
                "network": self.name,
                "url": mapping.post_url(urn),
                "author": Account(id=author, network=self.name),
                "created_at": self.now(),
                "raw": {"x-restli-id": urn},
            }
        )

    async def _comment_create(self, post: Post, author: str, commentary: str) -> Post | None:
        target = _target_urn(post.reply_to)
        match = _COMMENT_URN.fullmatch(target)
        body: dict[str, Any] = {
            "actor": author,
            "object": match.group(1) if match else target,
            "message": {"text": commentary},
        }
        if match is not None:
            body["parentComment"] = target
        response = await self._request(
            "POST", f"/rest/socialActions/{_enc(target)}/comments", body=body, kind="create"
        )
        try:
            comment = wire.Comment.model_validate_json(response.content)
        except ValueError:
            return None
        return mapping.reply_post_of(comment, body["object"], json.loads(response.content))

    async def _content(self, post: Post, author: str) -> tuple[dict[str, Any] | None, Post]:
        """The ``content`` of a post: its media uploaded (one image or video as ``media``,
        several images as ``multiImage``), or its ``link`` as an article; and the post with
        its media replaced by the uploads."""
        if post.link is not None:
            return {"article": {"source": post.link, "title": post.link}}, post
        if not post.media:
            return None, post
        uploads = [await self._upload_one(m, author) for m in post.media]
        items: list[dict[str, Any]] = []
        for upload, item in zip(uploads, post.media, strict=True):
            entry: dict[str, Any] = {"id": upload.id}
            if item.alt:
                entry["altText"] = item.alt
            items.append(entry)
        content = {"media": items[0]} if len(items) == 1 else {"multiImage": {"images": items}}
        attached = [
            Media.from_upload(u, alt=m.alt) for u, m in zip(uploads, post.media, strict=True)
        ]
        return content, post.model_copy(update={"media": attached})

    async def _reconcile(
        self, post: Post, commentary: str, record: Mapping[str, Any], key: str
    ) -> Post | None:
        started = datetime.fromisoformat(str(record.get("started") or self.now().isoformat()))
        since = _ms(started - timedelta(seconds=self.settings.reconcile_margin))
        author = await self._author_urn()
        try:
            if post.reply_to is not None:
                target = _target_urn(post.reply_to)
                page = await self._get(
                    wire.Elements, f"/rest/socialActions/{_enc(target)}/comments?start=0&count=50"
                )
                for raw in page.elements:
                    comment = _element(wire.Comment, raw)
                    if (
                        comment.actor == author
                        and comment.message.text == commentary
                        and comment.created.time >= since
                    ):
                        return mapping.reply_post_of(comment, target, raw)
                return None
            page = await self._get(wire.Elements, self._finder(author, 0, 20))
        except (APIError, TransportError, OutcomeUnknownError) as exc:
            raise OutcomeUnknownError(
                self.name, "POST", "/rest/posts", idempotency_key=key
            ) from exc
        for raw in page.elements:
            item = _element(wire.Post, raw)
            if item.commentary == commentary and (item.createdAt or 0) >= since:
                logger.info("linkedin: the create under key %s was found: %s", key, item.id)
                return await self._post_of(item, raw)
        return None

    async def delete(self, post_id: str) -> None:
        """Delete a post (``DELETE /rest/posts/{urn}``) or a comment (``DELETE
        /rest/socialActions/{urn}/comments/{id}``); scope ``w_member_social`` or
        ``w_organization_social``. A post already gone is not an error."""
        target = _target_urn(post_id)
        match = _COMMENT_URN.fullmatch(target)
        if match is not None:
            author = await self._author_urn()
            path = (
                f"/rest/socialActions/{_enc(match.group(1))}/comments/{match.group(2)}"
                f"?actor={_enc(author)}"
            )
        else:
            path = f"/rest/posts/{_enc(target)}"
        try:
            await self._request("DELETE", path, kind="write", restli="DELETE")
        except NotFoundError:
            return

    async def edit(self, post_id: str, post: Post) -> Post:
        """Replace a post's text (``POST /rest/posts/{urn}`` with ``X-RestLi-Method:
        PARTIAL_UPDATE``); LinkedIn edits nothing else of a post. Returns the post as read
        back."""
        urn = _post_urn(post_id)
        if post.media or post.link or post.quote_of or post.reply_to:
            raise ValidationError("linkedin edits a post's text only")
        problems = self.check(post)
        if problems:
            raise InvalidPostError(self.name, problems)
        body = {"patch": {"$set": {"commentary": mapping.escape_little(post.text)}}}
        await self._request(
            "POST", f"/rest/posts/{_enc(urn)}", body=body, kind="write", restli="PARTIAL_UPDATE"
        )
        return await self.get_post(urn)

    # -- media --------------------------------------------------------------------------------

    async def upload(self, media: Media) -> UploadedMedia:
        """Upload an image (Images API) or a video (Videos API: initialize, upload each part,
        finalize) and wait until LinkedIn reports it ``AVAILABLE``. The URN can be attached
        to posts of the same owner, more than once."""
        problems = self.check(Post(media=[media]))
        if problems:
            raise InvalidPostError(self.name, problems)
        return await self._upload_one(media, await self._author_urn())

    async def _upload_one(self, media: Media, owner: str) -> UploadedMedia:
        if media.uploaded is not None:
            return media.uploaded
        if media.path is None and media.data is None:
            from socialkit._http import MediaFetcher

            fetched: bytes = await MediaFetcher.for_settings(self.settings).fetch(media)
            content = MediaSource(fetched)
        else:
            # A video file (up to 500 MB) is read one part at a time while it is sent.
            content = MediaSource(media.path if media.path is not None else media.read())
        if media.kind == "video":
            urn = await self._upload_video(content, owner)
            resource = "videos"
        else:
            # An image goes up in one PUT.
            image = content.read(0, content.size)
            urn = await self._upload_image(image, owner, media.mime_type)
            resource = "images"
        asset = await self._wait_available(resource, urn)
        return UploadedMedia(
            id=urn,
            network=self.name,
            kind="video" if media.kind == "video" else "image",
            mime_type=media.mime_type,
            alt=media.alt,
            size=content.size,
            url=asset.downloadUrl,
            raw=asset.model_dump(),
        )

    async def _upload_image(self, content: bytes, owner: str, mime: str) -> str:
        body = {"initializeUploadRequest": {"owner": owner}}
        session = await self._api()
        init = await session.request_model(
            wire.ImageInit,
            "POST",
            "/rest/images?action=initializeUpload",
            json=body,
            kind="write",
            headers=self._headers(),
        )
        await self._put(init.value.uploadUrl, content, mime)
        return check_id(self.name, init.value.image, _MEDIA_URN, "image URN")

    async def _upload_video(self, content: MediaSource, owner: str) -> str:
        body = {
            "initializeUploadRequest": {
                "owner": owner,
                "fileSizeBytes": content.size,
                "uploadCaptions": False,
                "uploadThumbnail": False,
            }
        }
        session = await self._api()
        init = await session.request_model(
            wire.VideoInit,
            "POST",
            "/rest/videos?action=initializeUpload",
            json=body,
            kind="write",
            headers=self._headers(),
        )
        urn = check_id(self.name, init.value.video, _MEDIA_URN, "video URN")
        etags = []
        for part in init.value.uploadInstructions:
            if not 0 <= part.firstByte <= part.lastByte < content.size:
                raise MalformedResponseError(
                    self.name, 200, "malformed_response", "an upload part outside the file"
                )
            response = await self._put(
                part.uploadUrl,
                content.read(part.firstByte, part.lastByte + 1 - part.firstByte),
                "application/octet-stream",
            )
            etag = response.headers.get("etag")
            if not etag:
                raise MalformedResponseError(
                    self.name, response.status_code, "malformed_response", "a part without ETag"
                )
            etags.append(etag)
        await self._request(
            "POST",
            "/rest/videos?action=finalizeUpload",
            body={
                "finalizeUploadRequest": {
                    "video": urn,
                    "uploadToken": init.value.uploadToken,
                    "uploadedPartIds": etags,
                }
            },
            kind="write",
        )
        return urn

    async def _put(self, url: str, content: bytes, mime: str) -> httpx.Response:
        """``PUT`` bytes to an upload URL LinkedIn gave. The token goes only to LinkedIn's own
        hosts (the Images API's sample sends it; the URLs are signed anyway). Sending the
        same bytes to the same URL again replaces them, so retries are safe."""
        if not url.startswith(("https://", "http://")):
            raise MalformedResponseError(self.name, 200, "malformed_response", "no upload URL")
        from socialkit._http import USE_SESSION_AUTH

        host = urlsplit(url).hostname or ""
        own = host == "linkedin.com" or host.endswith(".linkedin.com")
        session = await self._api()
        return await session.request(
            "PUT",
            url,
            content=content,
            headers={"Content-Type": mime, **self._headers()},
            auth=USE_SESSION_AUTH if own else None,
            kind="write",
            retry_safe=True,
            bucket="upload",
        )

    async def _wait_available(self, resource: str, urn: str) -> wire.MediaAsset:
        """Poll ``GET /rest/{images|videos}/{urn}`` until ``AVAILABLE``
        (``WAITING_UPLOAD`` / ``PROCESSING`` before; ``PROCESSING_FAILED`` raises)."""
        waited = 0.0
        delay = 1.0
        while True:
            asset = await self._get(wire.MediaAsset, f"/rest/{resource}/{_enc(urn)}")
            if asset.status == "AVAILABLE":
                return asset
            if asset.status == "PROCESSING_FAILED":
                raise LinkedInMediaError(urn)
            if waited >= self.settings.media_timeout:
                raise TimeoutError(
                    self.name,
                    f"{urn} was not AVAILABLE after {waited:.0f} s (the media_timeout setting)",
                )
            await self._sleep(delay)
            waited += delay
            delay = min(delay * 2, 15.0)

    # -- reading ------------------------------------------------------------------------------

    def _finder(self, author: str, start: int, count: int) -> str:
        return (
            f"/rest/posts?author={_enc(author)}&q=author&count={count}&start={start}&sortBy=CREATED"
        )

    async def _assets(self, posts: Iterable[wire.Post]) -> dict[str, wire.MediaAsset]:
        """The images and videos of ``posts`` (for their download URLs): one batch get per
        resource and 20 URNs (``GET /rest/images?ids=List(…)``, ``/rest/videos?ids=…``)."""
        wanted: dict[str, list[str]] = {"images": [], "videos": []}
        for post in posts:
            content = post.content
            if content is None:
                continue
            urns = [content.media.id] if content.media is not None else []
            if content.multiImage is not None:
                urns.extend(i.id for i in content.multiImage.images)
            for urn in urns:
                if re.fullmatch(_MEDIA_URN, urn) is not None:
                    kind = "videos" if urn.startswith("urn:li:video:") else "images"
                    if urn not in wanted[kind]:
                        wanted[kind].append(urn)
        found: dict[str, wire.MediaAsset] = {}
        for resource, urns in wanted.items():
            for first in range(0, len(urns), 20):
                ids = ",".join(_enc(u) for u in urns[first : first + 20])
                batch = await self._get(wire.BatchAssets, f"/rest/{resource}?ids=List({ids})")
                found.update(batch.results)
        return found

    async def _posts_of(self, items: list[tuple[wire.Post, Any]]) -> list[Post]:
        assets = await self._assets(p for p, _ in items)
        return [mapping.post_of(p, assets, raw) for p, raw in items]

    async def _post_of(self, post: wire.Post, raw: Any) -> Post:
        return (await self._posts_of([(post, raw)]))[0]

    async def get_post(self, post_id: str) -> Post:
        """A post (``GET /rest/posts/{urn}``, with its media's download URLs from the Images
        and Videos APIs) or a comment (``GET /rest/socialActions/{urn}/comments/{id}``), as a
        Post replying to its target. Scopes ``r_organization_social`` (an organization's) or
        ``r_member_social`` (a member's, restricted by LinkedIn)."""
        target = _target_urn(post_id)
        match = _COMMENT_URN.fullmatch(target)
        session = await self._api()
        if match is not None:
            response = await session.request(
                "GET",
                f"/rest/socialActions/{_enc(match.group(1))}/comments/{match.group(2)}",
                headers=self._headers(),
            )
            comment = session.parse_model(wire.Comment, response)
            return mapping.reply_post_of(comment, match.group(1), json.loads(response.content))
        response = await session.request(
            "GET", f"/rest/posts/{_enc(target)}", headers=self._headers()
        )
        post = session.parse_model(wire.Post, response)
        return await self._post_of(post, json.loads(response.content))

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The author's posts, newest first (``GET /rest/posts?q=author&sortBy=CREATED``,
        up to 100 a page). LinkedIn pages by offset; the cursor also keeps the last post read,
        so posts published between two walks do not repeat."""
        if account is not None and account not in (self.settings.author, self._author):
            raise self.unsupported(Capability.READ_OTHERS, "the API lists the author's own posts")

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Post]:
            author = await self._author_urn()
            start, anchor_time, anchor_id = _parse_cursor(network_cursor)
            count = 10 if want is None else max(1, min(100, want))
            while True:
                page = await self._get(wire.Elements, self._finder(author, start, count))
                items = [(_element(wire.Post, raw), raw) for raw in page.elements]
                got = len(items)
                if anchor_id is not None:
                    ids = [p.id for p, _ in items]
                    if anchor_id in ids:
                        items = items[ids.index(anchor_id) + 1 :]
                    else:
                        items = [(p, r) for p, r in items if (p.createdAt or 0) <= anchor_time]
                total = page.paging.total
                more = start + got < total if total is not None else got >= count
                if items or not more:
                    break
                start += got
            posts = await self._posts_of(items)
            following = None
            if more and posts:
                last = items[-1][0]
                following = f"{start + got}:{last.createdAt or 0}:{last.id}"
            return Batch(posts, following)

        return Paged(fetch, since=since, until=until, limit=limit, cursor=cursor, time_of=_created)

    # -- comments and likes -------------------------------------------------------------------

    async def _collection(
        self, path: str, start: int, count: int
    ) -> tuple[list[dict[str, Any]], int | None]:
        """One page of a Rest.li collection: its elements and the next ``start`` (``None``
        at the end: ``paging.total`` reached, or a short page where LinkedIn gives none)."""
        page = await self._get(wire.Elements, f"{path}?start={start}&count={count}")
        got = len(page.elements)
        total = page.paging.total
        more = got > 0 and (start + got < total if total is not None else got >= count)
        return page.elements, start + got if more else None

    async def _comments(self, target: str) -> list[Message]:
        found: list[Message] = []
        start: int | None = 0
        while start is not None:
            elements, start = await self._collection(
                f"/rest/socialActions/{_enc(target)}/comments", start, 100
            )
            found.extend(
                mapping.message_of(_element(wire.Comment, raw), target, raw) for raw in elements
            )
        return found

    def ex_comments(
        self, post_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Paged[Message]:
        """The comments on a post (or the replies to a comment), in LinkedIn's order (``GET
        /rest/socialActions/{urn}/comments``, 100 a page; ``r_organization_social`` or
        ``r_member_social``). Raises ``ValidationError`` for a bad URN before any request."""
        target = _target_urn(post_id)
        path = f"/rest/socialActions/{_enc(target)}/comments"

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Message]:
            count = 100 if want is None else max(1, min(100, want))
            elements, following = await self._collection(path, _offset(network_cursor), count)
            items = [
                mapping.message_of(_element(wire.Comment, raw), target, raw) for raw in elements
            ]
            return Batch(items, None if following is None else str(following))

        return Paged(fetch, limit=limit, cursor=cursor)

    def ex_likes(
        self, post_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Paged[Account]:
        """Who liked a post or a comment (``GET /rest/socialActions/{urn}/likes``, 100 a
        page), as accounts with only their URN. Raises ``ValidationError`` for a bad URN
        before any request."""
        target = _target_urn(post_id)
        path = f"/rest/socialActions/{_enc(target)}/likes"

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Account]:
            count = 100 if want is None else max(1, min(100, want))
            elements, following = await self._collection(path, _offset(network_cursor), count)
            items = [
                Account(id=_element(wire.Like, raw).actor, network=self.name, raw=raw)
                for raw in elements
            ]
            return Batch(items, None if following is None else str(following))

        return Paged(fetch, limit=limit, cursor=cursor)

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """First-level comments on the author's ``message_posts`` newest posts, newest first
        (``GET /rest/socialActions/{urn}/comments``). Only ``comment`` messages exist here;
        replies to a comment come from :meth:`ex_comments` of that comment."""
        wanted = kinds_filter(kinds)
        if "comment" not in wanted:
            return Paged.empty()

        async def fetch(network_cursor: str | None, want: int | None) -> Batch[Message]:
            author = await self._author_urn()
            page = await self._get(
                wire.Elements, self._finder(author, 0, self.settings.message_posts)
            )
            found: list[Message] = []
            for raw in page.elements:
                found.extend(await self._comments(_element(wire.Post, raw).id))
            found.sort(key=lambda m: (m.created_at, m.id), reverse=True)
            return Batch(found, None)

        return Paged(
            fetch,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda m: m.created_at,
        )

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Comment on a post, or answer a comment (a nested comment), as the author
        (``POST /rest/socialActions/{urn}/comments``; ``w_member_social`` or
        ``w_organization_social``). Exactly once per call, as :meth:`publish`."""
        target = to.id if isinstance(to, Message) else to
        return await self.publish(
            as_post(post).model_copy(update={"reply_to": _target_urn(target)})
        )

    async def like(self, post_id: str) -> None:
        """Like a post or a comment as the author (``POST /rest/socialActions/{urn}/likes``).
        Liking again changes nothing."""
        target = _target_urn(post_id)
        author = await self._author_urn()
        try:
            await self._request(
                "POST",
                f"/rest/socialActions/{_enc(target)}/likes",
                body={"actor": author, "object": target},
                kind="write",
            )
        except APIError as exc:
            if exc.status != 409:  # already liked
                raise

    async def unlike(self, post_id: str) -> None:
        """Take the author's like back (``DELETE /rest/socialActions/{urn}/likes/{actor}``).
        A like that is not there is not an error."""
        target = _target_urn(post_id)
        author = await self._author_urn()
        try:
            await self._request(
                "DELETE",
                f"/rest/socialActions/{_enc(target)}/likes/{_enc(author)}?actor={_enc(author)}",
                kind="write",
                restli="DELETE",
            )
        except NotFoundError:
            return

    # -- metrics ------------------------------------------------------------------------------

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """An organization's posts: share statistics (``GET
        /rest/organizationalEntityShareStatistics``, ``r_organization_social``): impressions,
        reach (unique impressions), clicks, likes, replies (comments), reposts (shares) and
        engagement_rate, 20 posts a call. A member's posts: ``likes`` and ``replies`` from
        the social actions summary (``GET /rest/socialActions/{urn}``)."""
        wanted = {given: _post_urn(given) for given in post_ids}
        author = await self._author_urn()
        moment = self.now()
        urns = list(dict.fromkeys(wanted.values()))
        values: dict[str, dict[str, tuple[int | float, str]]] = {}
        if self._organization() is not None:
            for first in range(0, len(urns), 20):
                chunk = urns[first : first + 20]
                stats = await self._get(wire.ShareStatistics, _share_query(author, chunk))
                for element in stats.elements:
                    urn = element.share or element.ugcPost
                    if urn is None:
                        continue
                    totals = element.totalShareStatistics
                    values[urn] = {
                        name: (getattr(totals, native), native)
                        for name, native in _SHARE_METRICS.items()
                    }
        else:
            for urn in urns:
                summary = await self._get(wire.SocialSummary, f"/rest/socialActions/{_enc(urn)}")
                values[urn] = {
                    "likes": (summary.likesSummary.totalLikes, "likesSummary.totalLikes"),
                    "replies": (
                        summary.commentsSummary.aggregatedTotalComments,
                        "commentsSummary.aggregatedTotalComments",
                    ),
                }
        return {
            given: [
                Metric(
                    name=name,
                    value=value,
                    network=self.name,
                    post_id=given,
                    native_name=native,
                    measured_at=moment,
                )
                for name, (value, native) in values[urn].items()
            ]
            for given, urn in wanted.items()
            if urn in values
        }

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """An organization's ``followers`` (``GET /rest/networkSizes/{urn}``), its share
        statistics over all its posts (lifetime, or summed over days between ``since`` and
        ``until``), and, for a window, ``followers_gained`` (organic and paid, ``GET
        /rest/organizationalEntityFollowerStatistics``); ``rw_organization_admin``. LinkedIn
        keeps these for organizations only: a member's raise UnsupportedError.

        ``reach`` (``uniqueImpressionsCount``) is lifetime only: for a window LinkedIn counts
        unique members per day, and a member seen on two days is in both, so days do not add
        up to a window's reach; it is left out rather than overstated."""
        author = await self._author_urn()
        if self._organization() is None:
            raise self.unsupported(
                Capability.ACCOUNT_METRICS, "LinkedIn gives statistics of organizations only"
            )
        moment = self.now()
        size = await self._get(
            wire.NetworkSize,
            f"/rest/networkSizes/{_enc(author)}?edgeType=COMPANY_FOLLOWED_BY_MEMBER",
        )
        found = [
            Metric(
                name="followers",
                value=size.firstDegreeSize,
                network=self.name,
                native_name="firstDegreeSize",
                measured_at=moment,
            )
        ]
        start = end = None
        window = ""
        if since is not None or until is not None:
            end = until or moment
            start = since or end - timedelta(days=30)
            window = _window(start, end)
        stats = await self._get(wire.ShareStatistics, _share_query(author, [], window))
        sums: dict[str, int | float] = {}
        engaged = 0.0
        for element in stats.elements:
            totals = element.totalShareStatistics
            for name, native in _SHARE_METRICS.items():
                if window and name == "reach":
                    continue  # unique members of each day: not summable
                sums[name] = sums.get(name, 0) + getattr(totals, native)
            engaged += totals.engagement * totals.impressionCount
        if window and stats.elements:
            # Each day's rate is per its impressions: over days, weigh them so.
            impressions = sums.get("impressions", 0)
            sums["engagement_rate"] = engaged / impressions if impressions else 0.0
        for name, value in sums.items():
            found.append(
                Metric(
                    name=name,
                    value=value,
                    network=self.name,
                    native_name=_SHARE_METRICS[name],
                    start=start,
                    end=end,
                    measured_at=moment,
                )
            )
        if window:
            gains = await self._get(wire.FollowerStatistics, _follower_query(author, window))
            gained = sum(
                e.followerGains.organicFollowerGain + e.followerGains.paidFollowerGain
                for e in gains.elements
                if e.followerGains is not None
            )
            found.append(
                Metric(
                    name="followers_gained",
                    value=gained,
                    network=self.name,
                    native_name="followerGains",
                    start=start,
                    end=end,
                    measured_at=moment,
                )
            )
        return found

    async def ex_follower_statistics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[dict[str, Any]]:
        """LinkedIn's follower statistics of the organization as it sends them (``GET
        /rest/organizationalEntityFollowerStatistics``, ``rw_organization_admin``): without a
        window, one element of lifetime counts broken down by association type, seniority,
        industry, function, staff count range and place; with ``since`` / ``until``, an
        element per day with its ``followerGains``. Raises UnsupportedError for a member."""
        author = await self._author_urn()
        if self._organization() is None:
            raise self.unsupported(
                Capability.ACCOUNT_METRICS, "LinkedIn gives statistics of organizations only"
            )
        window = ""
        if since is not None or until is not None:
            end = until or self.now()
            window = _window(since or end - timedelta(days=30), end)
        page = await self._get(wire.Elements, _follower_query(author, window))
        return page.elements


def _window(start: datetime, end: datetime) -> str:
    """A Rest.li ``timeIntervals`` query of days from ``start`` to ``end``."""
    if start >= end:
        raise ValidationError("since must be earlier than until")
    return f"&timeIntervals=(timeRange:(start:{_ms(start)},end:{_ms(end)}),timeGranularityType:DAY)"


def _follower_query(organization: str, window: str) -> str:
    return (
        "/rest/organizationalEntityFollowerStatistics?q=organizationalEntity"
        f"&organizationalEntity={_enc(organization)}{window}"
    )


def _share_query(organization: str, urns: list[str], window: str = "") -> str:
    """``organizationalEntityShareStatistics`` for ``urns`` (Rest.li lists of encoded URNs,
    shares and ugcPosts apart), or for all the organization's posts."""
    query = (
        "/rest/organizationalEntityShareStatistics?q=organizationalEntity"
        f"&organizationalEntity={_enc(organization)}"
    )
    shares = [u for u in urns if u.startswith("urn:li:share:")]
    ugc = [u for u in urns if u.startswith("urn:li:ugcPost:")]
    if shares:
        query += "&shares=List(" + ",".join(_enc(u) for u in shares) + ")"
    if ugc:
        query += "&ugcPosts=List(" + ",".join(_enc(u) for u in ugc) + ")"
    return query + window


def _parse_cursor(cursor: str | None) -> tuple[int, int, str | None]:
    """``(start, anchor time in ms, anchor id)`` of a posts cursor ``start:time:id``."""
    if cursor is None:
        return 0, 0, None
    match = re.fullmatch(r"([0-9]{1,9}):([0-9]{1,15}):(" + _POST_URN + ")", cursor)
    if match is None:
        raise ValidationError(f"{cursor!r} is not a linkedin posts cursor")
    return int(match.group(1)), int(match.group(2)), match.group(3)


def _element(model: type[T], raw: Any) -> T:
    """One element of a collection as ``model``; one that does not match is a
    :class:`~socialkit.MalformedResponseError` (naming the model, never the values)."""
    try:
        return model.model_validate(raw)  # type: ignore[attr-defined, no-any-return]
    except pydantic.ValidationError:
        raise MalformedResponseError(
            "linkedin", 200, "malformed_response", f"an element is not a {model.__name__}"
        ) from None


def _offset(cursor: str | None) -> int:
    """The ``start`` of an offset cursor."""
    if cursor is None:
        return 0
    if not cursor.isdigit() or len(cursor) > 9:
        raise ValidationError(f"{cursor!r} is not a linkedin cursor")
    return int(cursor)


def _created(post: Post) -> datetime | None:
    return post.created_at
