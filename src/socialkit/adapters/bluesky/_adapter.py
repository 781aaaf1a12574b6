"""The Bluesky adapter class (:class:`BlueskyAdapter`); the package docstring has the overview."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar

import httpx

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    ConfigurationError,
    InvalidPostError,
    InvalidRequestError,
    MalformedResponseError,
    NotFoundError,
    OutcomeUnknownError,
    RateLimitError,
    ThreadIncompleteError,
    TransportError,
    UnsupportedError,
    ValidationError,
)
from socialkit._models import (
    Account,
    Feed,
    Media,
    Message,
    MessageKind,
    Metric,
    Post,
    Problem,
    RawPage,
    UploadedMedia,
)
from socialkit._paging import Batch, Paged
from socialkit.adapters._base import (
    Adapter,
    AdapterSettings,
    as_post,
    check_id,
    kinds_filter,
)
from socialkit.adapters.bluesky._auth import BlueskySessionAuth, SessionData
from socialkit.adapters.bluesky._mapping import (
    NETWORK,
    NOTIFICATION_KINDS,
    POST_COLLECTION,
    account_from_profile,
    account_metrics_from_profile,
    feed_from_generator,
    feed_from_list,
    message_from_chat,
    message_from_notification,
    metrics_from_view,
    page_accounts,
    parse_at_uri,
    parse_datetime,
    post_from_feed_item,
    post_from_record,
    post_from_view,
    post_time,
    reply_root,
)
from socialkit.adapters.bluesky._network import is_no_service, make_network
from socialkit.adapters.bluesky._oauth import SCOPE, BlueskyOAuthAuth
from socialkit.adapters.bluesky._settings import _ACTOR, BlueskySettings
from socialkit.adapters.bluesky._tid import TidClock, tid_for_key
from socialkit.adapters.bluesky._wire import (
    AuthorFeed,
    ChatMessage,
    Convo,
    ConvoList,
    CreatedRecord,
    FeedGenerators,
    Followers,
    Follows,
    ListedRecords,
    Lists,
    MessagePage,
    Notification,
    NotificationPage,
    PostList,
    PostView,
    Preferences,
    Profile,
    RecordOut,
    RepoDescription,
    ResolvedHandle,
    SearchResult,
    SessionInfo,
    UploadedBlob,
)
from socialkit.auth import TokenStore
from socialkit.text import build_facets, count_graphemes, utf8_length

if TYPE_CHECKING:
    from socialkit._stream import EventStream, StreamKind, StreamPolicy

__all__ = ["BlueskyAdapter"]

logger = logging.getLogger("socialkit.bluesky")

# Limits from the lexicons (bluesky-social/atproto lexicons/, checked by the tests):
MAX_GRAPHEMES = 300  # app.bsky.feed.post#main record.text maxGraphemes
MAX_BYTES = 3000  # app.bsky.feed.post#main record.text maxLength (UTF-8 bytes)
MAX_IMAGES = 4  # app.bsky.embed.images#main images maxLength
IMAGE_MAX_SIZE = 2_000_000  # app.bsky.embed.images#image image maxSize
VIDEO_MAX_SIZE = 300_000_000  # app.bsky.embed.video#main video maxSize
VIDEO_TYPES = frozenset({"video/mp4"})  # app.bsky.embed.video#main video accept
THUMB_MAX_SIZE = 1_000_000  # app.bsky.embed.external#external thumb maxSize
MAX_LANGS = 3  # app.bsky.feed.post#main langs maxLength
GET_POSTS_MAX = 25  # app.bsky.feed.getPosts uris maxLength
PAGE_MAX = 100  # getAuthorFeed / listRecords / searchPosts / listNotifications limit maximum
DM_MAX_GRAPHEMES = 1000  # chat.bsky.convo.defs#messageInput text maxGraphemes
DM_MAX_BYTES = 10000  # chat.bsky.convo.defs#messageInput text maxLength

GET_FEED_GENERATORS_MAX = 100  # a batch of saved feeds per getFeedGenerators call
MAX_HIDDEN_REPLIES = 300  # app.bsky.feed.threadgate hiddenReplies maxLength

_SELF_LABELS = frozenset({"sexual", "nudity", "porn", "graphic-media"})

LIKE_COLLECTION = "app.bsky.feed.like"
REPOST_COLLECTION = "app.bsky.feed.repost"
FOLLOW_COLLECTION = "app.bsky.graph.follow"
BLOCK_COLLECTION = "app.bsky.graph.block"
THREADGATE_COLLECTION = "app.bsky.feed.threadgate"
LIST_COLLECTION = "app.bsky.graph.list"
GENERATOR_COLLECTION = "app.bsky.feed.generator"

# Identifier syntax (https://atproto.com/specs/handle, /did, /nsid, /record-key), checked
# before any request: a bad id is a ValidationError, never a request the PDS refuses.
_NSID = r"[a-zA-Z]([a-zA-Z0-9-]{0,62})?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+"
_RKEY = r"(?!\.{1,2}$)[a-zA-Z0-9_~.:-]{1,512}"
_AT_URI_SYNTAX = f"at://{_ACTOR}/{_NSID}/{_RKEY}"

T = TypeVar("T")


class _NoAppView(Exception):
    """The PDS has no AppView (or chat service) for this method."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _language(tag: str) -> str:
    primary, _, rest = tag.replace("_", "-").partition("-")
    return primary.lower() + ("-" + rest if rest else "")


class BlueskyAdapter(Adapter):
    """Bluesky: publish, read, metrics, notifications, direct messages, search, engagement
    (likes, reposts, bookmarks, follows, blocks, mutes, hidden replies), people and feeds.

    Accounts are named by handle (``alice.bsky.social``, ``@alice.bsky.social``) or by DID
    (``did:plc:…``, ``did:web:…``): a string starting with ``did:`` is a DID, anything else a
    handle, so the two never clash.
    """

    name: ClassVar[str] = "bluesky"
    Settings: ClassVar[type[AdapterSettings]] = BlueskySettings
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
            Capability.DIRECT_MESSAGES,
            Capability.REPLY,
            Capability.SEARCH,
            Capability.LIKE,
            Capability.REPOST,
            Capability.BOOKMARK,
            Capability.FOLLOW,
            Capability.BLOCK,
            Capability.MUTE,
            Capability.HIDE,
            Capability.ACCOUNTS,
            Capability.FOLLOWERS,
            Capability.TIMELINE,
            Capability.FEEDS,
            Capability.UPLOAD,
            Capability.STREAM,
        }
    )
    limits = Limits(
        max_text=MAX_GRAPHEMES,
        count=count_graphemes,
        text_unit="graphemes",
        max_media=MAX_IMAGES,
        max_images=MAX_IMAGES,
        mix_media=False,
        image_max_bytes=IMAGE_MAX_SIZE,
        max_videos=1,
        video_max_bytes=VIDEO_MAX_SIZE,
    )
    docs_url: ClassVar[str | None] = "https://docs.bsky.app/docs/category/http-reference"
    unsupported_reasons: ClassVar[Mapping[Capability, str]] = {
        Capability.COMMENTS: (
            "Bluesky has replies, not comments: they come from messages() as kind 'reply'"
        ),
        Capability.EDIT: "Bluesky has no post editing (a post record is not updated in place)",
        Capability.NATIVE_SCHEDULING: "Bluesky has no scheduled posts",
        Capability.PUBLISH_AUDIO: "Bluesky embeds take images and MP4 videos, not audio",
        Capability.PUBLISH_GIF: (
            "Bluesky has no GIF upload (app.bsky.embed.images takes still images)"
        ),
        Capability.PUBLISH_POLL: "Bluesky has no polls",
        Capability.WEBHOOKS: (
            "Bluesky has no webhooks (events stream from the firehose): poll messages() instead"
        ),
    }

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None):
        super().__init__(settings, http=http)
        assert isinstance(settings, BlueskySettings)
        self.settings: BlueskySettings = settings
        store = settings.store
        self._owns_store = store is None
        if store is not None and not isinstance(store, TokenStore):
            from socialkit._store import Store

            if not isinstance(store, Store):
                raise ConfigurationError("bluesky: store must be a socialkit Store or TokenStore")
        self._network = make_network(settings.service)
        self.auth: BlueskySessionAuth | BlueskyOAuthAuth
        if settings.password is not None:
            if settings.oauth_client_id is not None or settings.oauth_redirect_uri is not None:
                raise ConfigurationError(
                    "bluesky: set either an app password or OAuth settings (oauth_client_id, "
                    "oauth_redirect_uri), not both"
                )
            self.auth = BlueskySessionAuth(
                store=self._tokens(),
                identifier=settings.identifier,
                password=settings.password,
                service=settings.service,
            )
        else:
            # OAuth: the stored session is used; with none, the first request raises an
            # AuthError saying to log in (ex_oauth_begin / ex_oauth_complete).
            self.auth = BlueskyOAuthAuth(
                store=self._tokens(),
                identifier=settings.identifier,
                service=settings.service,
                client_id=settings.oauth_client_id,
                redirect_uri=settings.oauth_redirect_uri,
                plc_directory=settings.plc_directory,
            )
        # Login and refresh go through this same Session, without the auth (auth=None).
        self._session = self._make_session(self._network, auth=self.auth)
        self.auth.session = self._session
        # With a simulated clock (the clock setting), record keys follow it too, and the
        # clock id is fixed by tid_clock_id, so that a seeded simulation is reproducible.
        self._tids = TidClock(
            clock=(lambda: int(self.now().timestamp() * 1_000_000)) if settings.clock else None,
            clock_id=settings.tid_clock_id,
        )
        self._no_appview = False
        self._handles: dict[str, str | None] = {}

    async def ensure_credentials(self) -> None:
        """With OAuth (no app password), a session must be stored for the identifier.

        Raises ``AuthFlowError`` naming the login steps. No request (reads the token store).
        """
        from socialkit.adapters.bluesky._oauth import BlueskyOAuthAuth

        if isinstance(self.auth, BlueskyOAuthAuth) and await self.auth._load() is None:
            raise self.auth._not_logged_in()

    async def aclose(self) -> None:
        """Close the HTTP client (unless it was given) and the token store it made. No request."""
        await super().aclose()
        if self._owns_store:
            await self._tokens().aclose()

    # -- real time -------------------------------------------------------------------------

    def stream(
        self,
        *,
        kinds: Iterable[StreamKind] | None = None,
        query: str | Iterable[str] | None = None,
        cursor: str | None = None,
        policy: StreamPolicy | None = None,
        ex_source: Literal["repos", "jetstream"] | None = None,
        ex_url: str | None = None,
        ex_dids: Iterable[str] | None = None,
        ex_collections: Iterable[str] | None = None,
    ) -> EventStream:
        """Records as they are committed, from the repository event stream
        (``com.atproto.sync.subscribeRepos`` on a relay, the ``stream_url`` setting or
        ``ex_url``, else the account's own PDS) or from Jetstream (``stream_source`` /
        ``ex_source="jetstream"``), filtered to ``ex_collections`` (default: posts) and
        ``ex_dids``; posts, deletions, and the replies, quotes and mentions addressed to the
        account (these, and ``query``, need a network-wide source). The cursor resumes where a
        stream stopped. See ``socialkit.adapters.bluesky._stream``."""
        from socialkit.adapters.bluesky import _stream

        spec = _stream.plan(
            kinds,
            query,
            source=ex_source or self.settings.stream_source,
            url=ex_url or self.settings.stream_url,
            dids=ex_dids,
            collections=ex_collections,
        )
        return _stream.open_stream(self, spec, cursor=cursor, policy=policy)

    # -- XRPC plumbing -----------------------------------------------------------------------

    async def _base(self) -> str:
        if isinstance(self.auth, BlueskyOAuthAuth):
            return (await self.auth.data()).endpoint or self.settings.service  # the token's PDS
        if self.settings.follow_pds_endpoint:
            data = await self.auth.data()
            if data.endpoint:
                return data.endpoint
        return self.settings.service

    async def _xrpc(
        self,
        method: str,
        nsid: str,
        *,
        params: Any = None,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        kind: Literal["read", "write", "create"] | None = None,
        retry_safe: bool = False,
        proxy: str | None = None,
    ) -> httpx.Response:
        base = await self._base()
        if proxy is not None:
            headers = {**(headers or {}), "atproto-proxy": proxy}
        return await self._session.request(
            method,
            f"{base}/xrpc/{nsid}",
            params=params,
            json=json,
            content=content,
            headers=headers,
            kind=kind,
            retry_safe=retry_safe,
        )

    async def _appview(self, nsid: str, params: Any) -> httpx.Response:
        """A GET of an app.bsky.* method (proxied by the PDS to its AppView)."""
        if self._no_appview:
            raise _NoAppView(nsid)
        try:
            return await self._xrpc("GET", nsid, params=params, proxy=self.settings.appview)
        except APIError as exc:
            if is_no_service(exc):
                logger.info("%s: the service has no AppView (%s)", NETWORK, exc.message)
                self._no_appview = True
                raise _NoAppView(nsid) from exc
            raise

    def _needs_appview(self, capability: Capability, exc: _NoAppView) -> UnsupportedError:
        return UnsupportedError(
            NETWORK,
            capability.value,
            f"{exc.args[0]} needs an AppView and {self.settings.service} has none configured",
        )

    async def _chat(self, method: str, nsid: str, **kwargs: Any) -> httpx.Response:
        return await self._xrpc(method, nsid, proxy=self.settings.chat_service, **kwargs)

    # -- OAuth login --------------------------------------------------------------------------

    def _oauth(self) -> BlueskyOAuthAuth:
        if not isinstance(self.auth, BlueskyOAuthAuth):
            raise ConfigurationError(
                "bluesky: this adapter signs in with an app password; leave the password out "
                "of the settings to log in with OAuth"
            )
        return self.auth

    async def ex_oauth_begin(
        self,
        handle_or_did: str | None = None,
        *,
        redirect_uri: str | None = None,
        scope: str = SCOPE,
    ) -> tuple[str, str]:
        """Start an AT Protocol OAuth login: ``(authorization_url, state)``.

        Resolves the account (``handle_or_did``, default the ``identifier`` setting) to its
        PDS, discovers its authorization server and pushes the authorization request (PKCE
        S256, DPoP). Open the URL in a browser; pass the redirect to :meth:`ex_oauth_complete`.
        ``redirect_uri`` overrides the ``oauth_redirect_uri`` setting (e.g. the one of
        :class:`socialkit.auth.LoopbackServer`).

        Raises ``AuthFlowError`` / ``ConfigurationError`` when the account or its servers cannot
        be used. Network calls: handle/DID resolution (``com.atproto.identity.resolveHandle``
        or the PLC directory), the PDS's and the authorization server's metadata, one pushed
        authorization request (PAR).
        """
        return await self._oauth().begin(handle_or_did, redirect_uri=redirect_uri, scope=scope)

    async def ex_oauth_complete(self, redirect: str | Mapping[str, str]) -> SessionData:
        """Finish the OAuth login from the redirect URL (or its query parameters): checks
        ``state`` and ``iss`` before sending anything, exchanges the code, checks that the
        token is for the account's DID and stores the session (reused across runs).

        Returns the session's DID, handle and PDS. Raises ``StateMismatchError`` /
        ``AuthFlowError`` before any request for a redirect that does not match. Network
        calls: ``POST`` of the code to the authorization server's token endpoint (DPoP-signed).
        """
        return await self._oauth().complete(redirect)

    async def session_data(self) -> SessionData:
        """The DID, handle and PDS endpoint of the signed-in account (logs in if needed).

        Network calls: ``com.atproto.server.createSession`` or ``refreshSession`` only when no
        valid session is stored."""
        return await self.auth.data()

    async def _post_uri(self, post_id: str) -> str:
        """An AT-URI from an AT-URI, a bsky.app post URL or a record key of the account.

        Checked against the AT Protocol syntax before any request: anything else is a
        :class:`~socialkit.ValidationError`.
        """
        text = post_id.strip() if isinstance(post_id, str) else post_id
        if isinstance(text, str) and text.startswith("at://"):
            check_id(NETWORK, text, _AT_URI_SYNTAX, "post AT-URI")
            parts = parse_at_uri(text)
            if parts is None or parts.collection != POST_COLLECTION:
                raise ValidationError(f"{post_id!r} is not the AT-URI of a bluesky post")
            return str(parts)
        if isinstance(text, str) and text.startswith("https://bsky.app/profile/"):
            bits = text[len("https://bsky.app/profile/") :].split("/")
            if (
                len(bits) == 3
                and bits[1] == "post"
                and re.fullmatch(_ACTOR, bits[0])
                and re.fullmatch(_RKEY, bits[2])
            ):
                return f"at://{bits[0]}/{POST_COLLECTION}/{bits[2]}"
        elif isinstance(text, str) and re.fullmatch(_RKEY, text):
            data = await self.auth.data()
            return f"at://{data.did}/{POST_COLLECTION}/{text}"
        raise ValidationError(
            f"{post_id!r} is neither an AT-URI, a bsky.app post URL nor a record key of a "
            "bluesky post"
        )

    async def _get_record(self, uri: str) -> RecordOut:
        parts = parse_at_uri(uri)
        assert parts is not None
        response = await self._xrpc(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": parts.repo, "collection": parts.collection, "rkey": parts.rkey},
        )
        return self._session.parse_model(RecordOut, response)

    async def _strong_ref(self, post_id: str) -> tuple[dict[str, str], dict[str, Any]]:
        """``({uri, cid}, record value)`` of a post, read with getRecord."""
        record = await self._get_record(await self._post_uri(post_id))
        if record.cid is None:
            raise MalformedResponseError(
                NETWORK, 200, "no_cid", f"the record {record.uri} came back without its CID"
            )
        return {"uri": record.uri, "cid": record.cid}, record.value

    async def _resolve_handle(self, handle: str) -> str | None:
        """A handle's DID (com.atproto.identity.resolveHandle), ``None`` if it does not exist."""
        if handle in self._handles:
            return self._handles[handle]
        try:
            response = await self._xrpc(
                "GET", "com.atproto.identity.resolveHandle", params={"handle": handle}
            )
            did: str | None = self._session.parse_model(ResolvedHandle, response).did
        except (NotFoundError, InvalidRequestError):
            did = None  # HandleNotFound, or not a handle: the mention stays plain text
        self._handles[handle] = did
        return did

    # -- account -----------------------------------------------------------------------------

    async def me(self) -> Account:
        """The signed-in account.

        Returns its ``Account`` (profile counts when the AppView answers). Raises ``AuthError``
        and the pipeline's errors. Network calls: ``app.bsky.actor.getProfile`` through the
        AppView, or ``com.atproto.server.getSession`` on a PDS without one (plus a login when
        no session is stored)."""
        data = await self.auth.data()
        try:
            response = await self._appview("app.bsky.actor.getProfile", {"actor": data.did})
        except _NoAppView:
            info = self._session.parse_model(
                SessionInfo, await self._xrpc("GET", "com.atproto.server.getSession")
            )
            return Account(
                id=info.did,
                handle=info.handle,
                url=f"https://bsky.app/profile/{info.handle}",
                network=NETWORK,
                raw=info,
            )
        return account_from_profile(self._session.parse_model(Profile, response))

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """Followers, follows and posts of the account now (Bluesky keeps no history).

        Raises ``UnsupportedError`` for a ``since`` / ``until`` window or a PDS without an
        AppView. Network calls: ``app.bsky.actor.getProfile``."""
        if since is not None or until is not None:
            raise UnsupportedError(
                NETWORK, "account metrics over a window", "Bluesky reports current counts only"
            )
        data = await self.auth.data()
        try:
            response = await self._appview("app.bsky.actor.getProfile", {"actor": data.did})
        except _NoAppView as exc:
            raise self._needs_appview(Capability.ACCOUNT_METRICS, exc) from None
        return account_metrics_from_profile(
            self._session.parse_model(Profile, response), self.now()
        )

    # -- pre-flight --------------------------------------------------------------------------

    @staticmethod
    def _text_of(post: Post) -> str:
        """The text as posted: a link that cannot be a card (images take the embed) is added
        to the text, where it becomes a link facet."""
        if post.link and post.media and post.link not in post.text:
            return f"{post.text}\n{post.link}" if post.text else post.link
        return post.text

    def _check_extra(self, post: Post) -> list[Problem]:
        problems: list[Problem] = []
        for index, item in enumerate(post.posts()):
            prefix = "" if index == 0 else f"thread[{index - 1}]."
            where = "the post" if index == 0 else f"post thread[{index - 1}]"
            text = self._text_of(item)
            if text != item.text:
                graphemes = count_graphemes(text)
                if graphemes > MAX_GRAPHEMES:
                    problems.append(
                        Problem(
                            code="text_too_long",
                            message=(
                                f"the text of {where} with its link is {graphemes} graphemes "
                                f"long; bluesky allows {MAX_GRAPHEMES}"
                            ),
                            field=f"{prefix}text",
                            limit=MAX_GRAPHEMES,
                            actual=graphemes,
                        )
                    )
            size = utf8_length(text)
            if size > MAX_BYTES:
                problems.append(
                    Problem(
                        code="text_too_long",
                        message=(
                            f"the text of {where} is {size} bytes in UTF-8; bluesky allows "
                            f"{MAX_BYTES}"
                        ),
                        field=f"{prefix}text",
                        limit=MAX_BYTES,
                        actual=size,
                    )
                )
            if item.visibility != "public":
                problems.append(
                    Problem(
                        code="visibility_unsupported",
                        message=f"bluesky posts are public; {item.visibility!r} is not possible",
                        field=f"{prefix}visibility",
                    )
                )
            if item.content_warning is not None:
                problems.append(
                    Problem(
                        code="content_warning_unsupported",
                        message=(
                            "bluesky has no content warning text; set sensitive=True for a "
                            "self-label instead"
                        ),
                        field=f"{prefix}content_warning",
                    )
                )
            for i, media in enumerate(item.media):
                if media.kind == "video" and media.mime_type not in VIDEO_TYPES:
                    problems.append(
                        Problem(
                            code="media_type_unsupported",
                            message=f"bluesky videos must be video/mp4, not {media.mime_type}",
                            field=f"{prefix}media[{i}]",
                        )
                    )
                if media.kind == "image" and not media.mime_type.startswith("image/"):
                    problems.append(
                        Problem(
                            code="media_type_unsupported",
                            message=f"bluesky images must be image/*, not {media.mime_type}",
                            field=f"{prefix}media[{i}]",
                        )
                    )
            if item.link is not None and not item.link.startswith(("https://", "http://")):
                problems.append(
                    Problem(
                        code="invalid_link",
                        message=f"the link {item.link!r} is not an http(s) URL",
                        field=f"{prefix}link",
                    )
                )
        return problems

    # -- publishing --------------------------------------------------------------------------

    async def _upload(self, media: Media, max_size: int, where: str) -> dict[str, Any]:
        """Upload a blob (com.atproto.repo.uploadBlob); the size is checked first. Media from
        :meth:`upload` (``Media.from_upload``) is not sent again: its blob is referenced."""
        if media.uploaded is not None:
            return _blob_of(media.uploaded)
        if media.size is not None and media.size > max_size:
            raise _too_large(where, media.size, max_size)  # known before reading anything
        if media.url is not None:
            # Without the account's token, from a public address only (media_fetch_allow).
            from socialkit._http import MediaFetcher

            data = await MediaFetcher.for_settings(self.settings).fetch(media)
        else:
            data = media.read()
        if len(data) > max_size:
            raise _too_large(where, len(data), max_size)
        response = await self._xrpc(
            "POST",
            "com.atproto.repo.uploadBlob",
            content=data,
            headers={"Content-Type": media.mime_type},
            kind="write",  # content-addressed: uploading twice stores one blob
        )
        return self._session.parse_model(UploadedBlob, response).blob.model_dump(by_alias=True)

    async def upload(self, media: Media) -> UploadedMedia:
        """Upload an image or an MP4 video on its own (com.atproto.repo.uploadBlob), to attach
        to posts with :meth:`Media.from_upload <socialkit.Media.from_upload>`.

        The blob is usable at once and can be referenced by any number of posts
        (``reusable``). Images need no processing; a video is processed by Bluesky's video
        service once a post referencing it appears (the app shows it a few seconds later). A
        blob that no record references is deleted by the PDS after a while, so attach it soon.
        """
        if media.uploaded is not None:
            if media.uploaded.network != NETWORK:
                raise ValidationError(
                    f"this media was uploaded to {media.uploaded.network}, not bluesky"
                )
            return media.uploaded
        if media.kind == "image":
            if not media.mime_type.startswith("image/"):
                raise ValidationError(f"bluesky images must be image/*, not {media.mime_type}")
            blob = await self._upload(media, IMAGE_MAX_SIZE, "media")
        elif media.kind == "video":
            if media.mime_type not in VIDEO_TYPES:
                raise ValidationError(f"bluesky videos must be video/mp4, not {media.mime_type}")
            blob = await self._upload(media, VIDEO_MAX_SIZE, "media")
        else:
            raise self.unsupported(
                Capability.UPLOAD,
                f"{media.kind} uploads: bluesky takes images and MP4 videos"
                + (" (a GIF is posted as an MP4 video)" if media.kind == "gif" else ""),
            )
        cid, mime, size = blob["ref"]["$link"], blob["mimeType"], blob["size"]
        return UploadedMedia(
            id=cid,
            network=NETWORK,
            kind=media.kind,
            mime_type=mime,
            alt=media.alt,
            size=size,
            width=media.width,
            height=media.height,
            url=self._blob_url(await self._base(), (await self.auth.data()).did, cid),
            reusable=True,
            raw=blob,
        )

    @staticmethod
    def _blob_url(base: str, did: str, cid: str) -> str:
        """Where the PDS serves a blob (com.atproto.sync.getBlob)."""
        return str(
            httpx.URL(f"{base}/xrpc/com.atproto.sync.getBlob", params={"did": did, "cid": cid})
        )

    async def _images(self, media: list[Media]) -> dict[str, Any]:
        images = []
        for index, item in enumerate(media):
            blob = await self._upload(item, IMAGE_MAX_SIZE, f"media[{index}]")
            image: dict[str, Any] = {"image": blob, "alt": item.alt or ""}
            if item.width and item.height:
                image["aspectRatio"] = {"width": item.width, "height": item.height}
            images.append(image)
        return {"$type": "app.bsky.embed.images", "images": images}

    async def _video(self, item: Media) -> dict[str, Any]:
        """app.bsky.embed.video: the MP4 uploaded as a blob to the PDS, the simple method of
        Bluesky's video guide (docs.bsky.app/docs/tutorials/video); the video service
        processes it once the post is in the firehose."""
        blob = await self._upload(item, VIDEO_MAX_SIZE, "media[0]")
        video: dict[str, Any] = {"$type": "app.bsky.embed.video", "video": blob}
        if item.alt:
            video["alt"] = item.alt
        if item.width and item.height:
            video["aspectRatio"] = {"width": item.width, "height": item.height}
        return video

    async def _embed(self, post: Post, card: dict[str, Any] | None) -> dict[str, Any] | None:
        media: dict[str, Any] | None = None
        if post.media and post.media[0].kind == "video":
            media = await self._video(post.media[0])
        elif post.media:
            media = await self._images(post.media)
        elif post.link:
            external: dict[str, Any] = {"uri": post.link, "title": post.link, "description": ""}
            if card:
                external.update({k: v for k, v in card.items() if k != "thumb_media"})
                if card.get("thumb_media") is not None:
                    external["thumb"] = await self._upload(
                        card["thumb_media"], THUMB_MAX_SIZE, "thumb"
                    )
            media = {"$type": "app.bsky.embed.external", "external": external}
        if post.quote_of is None:
            return media
        ref, _ = await self._strong_ref(post.quote_of)
        quote = {"$type": "app.bsky.embed.record", "record": ref}
        if media is None:
            return quote
        return {"$type": "app.bsky.embed.recordWithMedia", "record": quote, "media": media}

    async def _record(
        self, post: Post, reply: dict[str, Any] | None, card: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The app.bsky.feed.post record of ``post``."""
        text = self._text_of(post)
        record: dict[str, Any] = {"$type": POST_COLLECTION, "text": text}
        facets = await build_facets(text, self._resolve_handle)
        if facets:
            record["facets"] = facets
        if reply is not None:
            record["reply"] = reply
        embed = await self._embed(post, card)
        if embed is not None:
            record["embed"] = embed
        if post.language:
            record["langs"] = [_language(post.language)]
        if post.sensitive:
            record["labels"] = {
                "$type": "com.atproto.label.defs#selfLabels",
                "values": [{"val": self.settings.sensitive_label}],
            }
        record["createdAt"] = _iso(self.now())
        return record

    async def _reply_refs(self, parent_id: str) -> dict[str, Any]:
        """``{root, parent}`` strong refs for a reply: the parent's own root when it is a reply
        itself, else the parent."""
        parent, value = await self._strong_ref(parent_id)
        return {"root": reply_root(value) or parent, "parent": parent}

    def _new_key(self) -> str:
        """An idempotency key for a publish the caller gave none: a fresh TID, which is then
        its own record key (so the account's posts keep time-ordered keys)."""
        return self._tids.next()

    async def _create(
        self, record: dict[str, Any], key: str, *, look_first: bool = False
    ) -> tuple[Post, dict[str, str]]:
        """createRecord at the record key derived from the idempotency ``key``.

        The record key makes the create repeatable: the pipeline may retry it (a lost answer,
        a 5xx), and a PDS refuses a second record at the same key. Whenever the create does
        not answer cleanly, the record is read back: found with this content, the post exists
        (created by an earlier attempt or an earlier ``publish`` with the same key). When it
        cannot be told, :class:`~socialkit.OutcomeUnknownError` carries the key and the post's
        AT-URI; publishing again with that key is safe. ``look_first`` (a key the caller gave,
        maybe a retry) reads the record before creating it.
        """
        data = await self.auth.data()
        rkey = tid_for_key(key)
        uri = f"at://{data.did}/{POST_COLLECTION}/{rkey}"
        found: RecordOut | None = None
        if look_first:
            found = await self._existing(data.did, rkey, record, key)
        if found is None:
            body = {
                "repo": data.did,
                "collection": POST_COLLECTION,
                "rkey": rkey,
                "record": record,
            }
            try:
                response = await self._xrpc(
                    "POST",
                    "com.atproto.repo.createRecord",
                    json=body,
                    kind="create",
                    retry_safe=True,
                )
                created = self._session.parse_model(CreatedRecord, response)
            except (APIError, OutcomeUnknownError, TransportError) as exc:
                if isinstance(exc, RateLimitError) and exc.local:
                    raise  # refused before sending: nothing happened
                try:
                    found = await self._existing(data.did, rkey, record, key)
                except (APIError, OutcomeUnknownError, TransportError) as again:
                    raise self._unknown(key, uri, exc) from again
                if found is None:
                    if isinstance(exc, InvalidRequestError) or (
                        isinstance(exc, APIError)
                        and not isinstance(exc, MalformedResponseError)
                        and exc.status is not None
                        and exc.status < 500
                    ):
                        raise  # refused: the PDS said why, and nothing was created
                    raise self._unknown(key, uri, exc) from exc
                logger.info(
                    "%s: the post %s was already created by an earlier attempt (%s); not "
                    "posting it again",
                    NETWORK,
                    uri,
                    type(exc).__name__,
                )
        if found is not None:
            assert found.cid is not None
            record = found.value
            created = CreatedRecord(uri=found.uri, cid=found.cid)
        author = Account(id=data.did, handle=data.handle, network=NETWORK)
        base = await self._base()
        post = post_from_record(
            created.uri,
            record,
            author=author,
            raw={"uri": created.uri, "cid": created.cid, "value": record},
            blob_url=lambda did, cid: self._blob_url(base, did, cid),
        )
        return post, {"uri": created.uri, "cid": created.cid}

    def _unknown(self, key: str, uri: str, cause: BaseException) -> OutcomeUnknownError:
        error = OutcomeUnknownError(
            NETWORK,
            "POST",
            "/xrpc/com.atproto.repo.createRecord",
            cause,
            idempotency_key=key,
            post_id=uri,
        )
        error.__cause__ = cause
        return error

    async def _existing(
        self, did: str, rkey: str, record: dict[str, Any], key: str
    ) -> RecordOut | None:
        """The post at ``rkey`` if there is one: ``None`` when there is none, the record when
        it holds this content (its ``createdAt`` may be an earlier attempt's), and a
        :class:`~socialkit.ValidationError` when the key was used for another post."""
        try:
            found = await self._get_record(f"at://{did}/{POST_COLLECTION}/{rkey}")
        except NotFoundError:
            return None
        except InvalidRequestError as exc:
            if exc.code == "RecordNotFound" or "not found" in str(exc.message).lower():
                return None
            raise
        if found.cid is None:
            return None
        if _fingerprint(found.value) != _fingerprint(record):
            raise ValidationError(
                f"idempotency_key {key!r} was already used for another post ({found.uri}); "
                "use a new key for new content"
            )
        return found

    async def _publish_one(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        reply = await self._reply_refs(post.reply_to) if post.reply_to else None
        look = idempotency_key is not None
        key = idempotency_key if idempotency_key is not None else self._new_key()
        published, _ = await self._create(await self._record(post, reply), key, look_first=look)
        return published

    async def _publish(self, post: Post, *, idempotency_key: str | None = None) -> Post:
        """Publish a post and its thread: each thread post replies to the one before, with the
        thread's root as ``root`` (no extra read per post). Thread posts use the keys
        ``key``, ``key/1``, ``key/2`` … so that publishing the thread again with the same key
        completes it without repeating a post."""
        return await self._publish_thread(post, None, idempotency_key)

    async def _publish_thread(
        self,
        post: Post,
        card: dict[str, Any] | None,
        idempotency_key: str | None,
        *,
        reply: dict[str, Any] | None = None,
    ) -> Post:
        """Publish ``post`` and its thread; ``reply``: the first post's reply refs when they
        are known already (else read for its ``reply_to``)."""
        look = idempotency_key is not None
        key = idempotency_key if idempotency_key is not None else self._new_key()
        posts = post.posts()
        if reply is None and posts[0].reply_to:
            reply = await self._reply_refs(posts[0].reply_to)
        first, ref = await self._create(
            await self._record(posts[0], reply, card), key, look_first=look
        )
        if len(posts) == 1:
            return first
        root = reply["root"] if reply else ref
        published = [first]
        for index, item in enumerate(posts[1:], start=1):
            try:
                child, ref = await self._create(
                    await self._record(item, {"root": root, "parent": ref}),
                    f"{key}/{index}",
                    look_first=look,
                )
            except Exception as exc:
                raise ThreadIncompleteError(NETWORK, published, len(posts), exc) from exc
            published.append(child)
        return first.model_copy(update={"thread": published[1:]})

    async def ex_publish_link_card(
        self,
        post: Post,
        *,
        title: str,
        description: str = "",
        thumb: Media | None = None,
        idempotency_key: str | None = None,
    ) -> Post:
        """Publish ``post`` (which has a ``link`` and no media) with a link card of your own
        title, description and optional thumbnail (uploaded as a blob, at most 1,000,000 bytes).
        A plain ``publish`` makes a card titled with the URL itself. ``idempotency_key`` as
        for :meth:`publish`.

        Returns the post as published. Raises ``InvalidPostError`` before any request (no
        link, media, a thumbnail that is not an image), then as :meth:`publish`. Network calls:
        ``com.atproto.repo.uploadBlob`` for the thumbnail, ``com.atproto.repo.createRecord``
        (``app.bsky.feed.post``) per post."""
        problems = self.check(post)
        if not post.link or post.media:
            problems.append(
                Problem(
                    code="link_card_needs_link",
                    message="a link card needs a post with a link and no media",
                    field="link",
                )
            )
        if thumb is not None and not thumb.mime_type.startswith("image/"):
            problems.append(
                Problem(
                    code="media_type_unsupported",
                    message=f"a card thumbnail must be an image, not {thumb.mime_type}",
                    field="thumb",
                )
            )
        if problems:
            raise InvalidPostError(NETWORK, problems)
        card = {"title": title, "description": description, "thumb_media": thumb}
        return await self._publish_thread(post, card, idempotency_key)

    async def delete(self, post_id: str) -> None:
        """Delete a post of the account (com.atproto.repo.deleteRecord; deleting a post that
        is already gone succeeds)."""
        parts = parse_at_uri(await self._post_uri(post_id))
        assert parts is not None
        data = await self.auth.data()
        if parts.repo not in (data.did, data.handle):
            raise ValidationError(
                f"{post_id} belongs to another account; only one's own posts can be deleted"
            )
        await self._xrpc(
            "POST",
            "com.atproto.repo.deleteRecord",
            json={"repo": data.did, "collection": POST_COLLECTION, "rkey": parts.rkey},
            kind="write",  # idempotent: "delete, or ensure it does not exist"
        )

    # -- reading -----------------------------------------------------------------------------

    async def _blob_urls(self) -> Callable[[str, str], str]:
        base = await self._base()
        return lambda did, cid: self._blob_url(base, did, cid)

    async def get_post(self, post_id: str) -> Post:
        """A post by AT-URI, bsky.app URL or record key: its view with counters and media
        URLs from the AppView (app.bsky.feed.getPosts), else the record
        (com.atproto.repo.getRecord, media URLs from com.atproto.sync.getBlob)."""
        uri = await self._post_uri(post_id)
        try:
            response = await self._appview("app.bsky.feed.getPosts", {"uris": [uri]})
        except _NoAppView:
            record = await self._get_record(uri)
            return post_from_record(
                record.uri,
                record.value,
                raw={"uri": record.uri, "cid": record.cid, "value": record.value},
                blob_url=await self._blob_urls(),
            )
        posts = self._session.parse_model(PostList, response).posts
        if not posts:
            raise NotFoundError(NETWORK, None, "NotFound", f"no post {uri}")
        return post_from_view(posts[0])

    async def _actor(self, account: Account | str | None) -> str:
        """A handle or DID to put in a query, checked first (default: this account's DID)."""
        if account is None:
            return (await self.auth.data()).did
        if isinstance(account, Account):
            if account.network not in (None, NETWORK):
                raise ValidationError(f"this account is on {account.network}, not bluesky")
            account = account.id
        text = account.strip().lstrip("@") if isinstance(account, str) else account
        return check_id(NETWORK, text, _ACTOR, "handle or DID")

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The account's posts (or ``account``'s: a handle or DID), newest first, lazily.

        Through app.bsky.feed.getAuthorFeed (``feed_filter`` setting, default
        ``posts_with_replies``; reposts and pinned repeats are left out); when the service has
        no AppView, through com.atproto.repo.listRecords of the app.bsky.feed.post collection
        (newest record key first). Neither takes a time window: ``since``/``until`` are
        applied to the posts read.
        """
        if account is not None:
            check_id(NETWORK, account.strip().lstrip("@"), _ACTOR, "handle or DID")
        actor: list[str] = []

        async def page(page_cursor: str | None, size: int) -> tuple[list[Post], str | None]:
            if not actor:
                actor.append(await self._actor(account))
            if not self._no_appview:
                params: dict[str, Any] = {
                    "actor": actor[0],
                    "limit": size,
                    "filter": self.settings.feed_filter,
                }
                if page_cursor:
                    params["cursor"] = page_cursor
                try:
                    response = await self._appview("app.bsky.feed.getAuthorFeed", params)
                except _NoAppView:
                    if page_cursor is not None:
                        raise
                else:
                    feed = self._session.parse_model(AuthorFeed, response)
                    # a repost or the pinned post repeated at the top is not the account's post
                    accounts = page_accounts()
                    items = [
                        post_from_view(i.post, accounts=accounts)
                        for i in feed.feed
                        if i.reason is None
                    ]
                    return items, feed.cursor if feed.feed else None
            return await self._record_page(actor[0], page_cursor, size)

        return Paged(
            _pages(page),
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda p: p.created_at,
        )

    async def _record_page(
        self, actor: str, page_cursor: str | None, size: int
    ) -> tuple[list[Post], str | None]:
        """Posts as repository records (newest record key first): no AppView needed."""
        params: dict[str, Any] = {"repo": actor, "collection": POST_COLLECTION, "limit": size}
        if page_cursor:
            params["cursor"] = page_cursor
        listed = self._session.parse_model(
            ListedRecords, await self._xrpc("GET", "com.atproto.repo.listRecords", params=params)
        )
        blob_url = await self._blob_urls()
        items = [
            post_from_record(
                record.uri,
                record.value,
                raw={"uri": record.uri, "cid": record.cid, "value": record.value},
                blob_url=blob_url,
            )
            for record in listed.records
        ]
        return items, listed.cursor if listed.records else None

    async def metrics(self, post_ids: Iterable[str]) -> dict[str, list[Metric]]:
        """Likes, reposts, replies, quotes and bookmarks of each post, through
        app.bsky.feed.getPosts in batches of 25 URIs (its maximum)."""
        ids = list(dict.fromkeys(post_ids))
        uris = {post_id: await self._post_uri(post_id) for post_id in ids}
        result: dict[str, list[Metric]] = {}
        for start in range(0, len(ids), GET_POSTS_MAX):
            batch = ids[start : start + GET_POSTS_MAX]
            try:
                response = await self._appview(
                    "app.bsky.feed.getPosts", {"uris": [uris[i] for i in batch]}
                )
            except _NoAppView as exc:
                raise self._needs_appview(Capability.POST_METRICS, exc) from None
            views = {view.uri: view for view in self._session.parse_model(PostList, response).posts}
            measured = self.now()
            for post_id in batch:
                view = views.get(uris[post_id])
                if view is not None:
                    result[post_id] = metrics_from_view(view, post_id, measured)
        return result

    def search(
        self,
        query: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """Posts matching ``query`` (app.bsky.feed.searchPosts, ``sort=latest``), newest first,
        lazily; ``since``/``until`` are sent as the method's own parameters."""
        if not isinstance(query, str) or not query.strip():
            raise ValidationError("the search query must not be empty")

        async def page(page_cursor: str | None, size: int) -> tuple[list[Post], str | None]:
            params: dict[str, Any] = {"q": query, "sort": "latest", "limit": size}
            if since is not None:
                params["since"] = _iso(since)
            if until is not None:
                params["until"] = _iso(until)
            if page_cursor:
                params["cursor"] = page_cursor
            try:
                response = await self._appview("app.bsky.feed.searchPosts", params)
            except _NoAppView as exc:
                raise self._needs_appview(Capability.SEARCH, exc) from None
            found = self._session.parse_model(SearchResult, response)
            accounts = page_accounts()
            # The page's body is kept once for the posts' ``raw`` (their views, decoded when
            # read), not a view per post.
            raws = RawPage(response.content, _search_views)
            posts = [
                post_from_view(view, raw=raws.item(index), accounts=accounts)
                for index, view in enumerate(found.posts)
            ]
            return posts, (found.cursor if found.posts else None)

        return Paged(
            _pages(page),
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=lambda p: p.created_at,
        )

    def _feed_paged(
        self,
        nsid: str,
        params: dict[str, Any],
        capability: Capability,
        *,
        since: datetime | None,
        until: datetime | None,
        limit: int | None,
        cursor: str | None,
        ordered: bool = True,
    ) -> Paged[Post]:
        """A Paged over a feed method answering ``{cursor, feed: feedViewPost[]}``; reposted
        posts stand at the time of their repost."""

        async def page(page_cursor: str | None, size: int) -> tuple[list[Post], str | None]:
            query = {**params, "limit": size}
            if page_cursor:
                query["cursor"] = page_cursor
            try:
                response = await self._appview(nsid, query)
            except _NoAppView as exc:
                raise self._needs_appview(capability, exc) from None
            feed = self._session.parse_model(AuthorFeed, response)
            accounts = page_accounts()
            posts = [post_from_feed_item(i, accounts) for i in feed.feed]
            return posts, (feed.cursor if feed.feed else None)

        return Paged(
            _pages(page),
            key_of=_feed_key,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
            time_of=post_time,
            ordered=ordered,
        )

    def timeline(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The home feed (app.bsky.feed.getTimeline): posts and reposts of the accounts this
        account follows, newest first; a reposted post's ``raw`` is its feed item."""
        return self._feed_paged(
            "app.bsky.feed.getTimeline",
            {},
            Capability.TIMELINE,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )

    def feeds(self, *, limit: int | None = None, cursor: str | None = None) -> Paged[Feed]:
        """The account's lists (app.bsky.graph.getLists), then the feed generators it saved
        (the ``savedFeedsPrefV2`` preference of app.bsky.actor.getPreferences, described by
        app.bsky.feed.getFeedGenerators)."""

        async def page(page_cursor: str | None, size: int) -> tuple[list[Feed], str | None]:
            if page_cursor is None or page_cursor.startswith("lists:"):
                params: dict[str, Any] = {"actor": await self._actor(None), "limit": size}
                if page_cursor:
                    params["cursor"] = page_cursor[len("lists:") :]
                try:
                    response = await self._appview("app.bsky.graph.getLists", params)
                except _NoAppView as exc:
                    raise self._needs_appview(Capability.FEEDS, exc) from None
                lists = self._session.parse_model(Lists, response)
                items = [feed_from_list(v) for v in lists.lists]
                more = f"lists:{lists.cursor}" if lists.cursor and lists.lists else "saved:0"
                return items, more
            offset = int(page_cursor.partition(":")[2] or 0)
            saved = await self._saved_generators()
            chunk = saved[offset : offset + GET_FEED_GENERATORS_MAX]
            if not chunk:
                return [], None
            response = await self._appview("app.bsky.feed.getFeedGenerators", {"feeds": chunk})
            views = {v.uri: v for v in self._session.parse_model(FeedGenerators, response).feeds}
            items = [feed_from_generator(views[u]) for u in chunk if u in views]
            end = offset + len(chunk)
            return items, f"saved:{end}" if end < len(saved) else None

        async def fetch_page(page_cursor: str | None, size: int) -> tuple[list[Feed], str | None]:
            items, more = await page(page_cursor, size)
            while not items and more is not None:
                page_cursor = more
                items, more = await page(page_cursor, size)
            return items, more

        return Paged(_pages(fetch_page), limit=limit, cursor=cursor)

    async def _saved_generators(self) -> list[str]:
        """The AT-URIs of the feed generators the account saved, in its order."""
        try:
            response = await self._appview("app.bsky.actor.getPreferences", {})
        except _NoAppView as exc:
            raise self._needs_appview(Capability.FEEDS, exc) from None
        uris: list[str] = []
        for pref in self._session.parse_model(Preferences, response).preferences:
            if pref.get("$type") != "app.bsky.actor.defs#savedFeedsPrefV2":
                continue
            for item in pref.get("items") or []:
                value = item.get("value") if isinstance(item, dict) else None
                if (
                    isinstance(item, dict)
                    and item.get("type") == "feed"
                    and isinstance(value, str)
                    and value not in uris
                ):
                    uris.append(value)
        return uris

    def feed(
        self,
        feed: Feed | str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Post]:
        """The posts of a list (app.bsky.feed.getListFeed) or of a feed generator
        (app.bsky.feed.getFeed), by :class:`Feed` or AT-URI. A generator chooses its own
        order, so ``since``/``until`` skip posts there instead of ending the walk."""
        if isinstance(feed, Feed):
            if feed.network != NETWORK:
                raise ValidationError(f"this feed is on {feed.network}, not bluesky")
            feed = feed.id
        check_id(NETWORK, feed, _AT_URI_SYNTAX, "list or feed AT-URI")
        parts = parse_at_uri(feed)
        assert parts is not None
        if parts.collection == LIST_COLLECTION:
            return self._feed_paged(
                "app.bsky.feed.getListFeed",
                {"list": feed},
                Capability.FEEDS,
                since=since,
                until=until,
                limit=limit,
                cursor=cursor,
            )
        if parts.collection == GENERATOR_COLLECTION:
            return self._feed_paged(
                "app.bsky.feed.getFeed",
                {"feed": feed},
                Capability.FEEDS,
                since=since,
                until=until,
                limit=limit,
                cursor=cursor,
                ordered=False,
            )
        raise ValidationError(
            f"{feed!r} is neither a list ({LIST_COLLECTION}) nor a feed generator "
            f"({GENERATOR_COLLECTION})"
        )

    # -- people ------------------------------------------------------------------------------

    async def account(self, handle_or_id: str) -> Account:
        """An account by handle (``alice.bsky.social``, ``@alice.bsky.social``) or DID
        (``did:plc:…``): app.bsky.actor.getProfile, or com.atproto.repo.describeRepo on a PDS
        without an AppView. A DID starts with ``did:``, which no handle can, so the two never
        clash. Raises :class:`~socialkit.NotFoundError` when there is no such account."""
        actor = await self._actor(handle_or_id)
        try:
            response = await self._appview("app.bsky.actor.getProfile", {"actor": actor})
        except _NoAppView:
            try:
                found = self._session.parse_model(
                    RepoDescription,
                    await self._xrpc(
                        "GET", "com.atproto.repo.describeRepo", params={"repo": actor}
                    ),
                )
            except InvalidRequestError as exc:
                raise _not_found(exc, actor) from None
            return Account(
                id=found.did,
                handle=found.handle,
                url=f"https://bsky.app/profile/{found.handle}",
                network=NETWORK,
                raw=found,
            )
        except InvalidRequestError as exc:
            raise _not_found(exc, actor) from None
        return account_from_profile(self._session.parse_model(Profile, response))

    def followers(
        self,
        account: Account | str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Account]:
        """The followers of ``account`` (default: this account), newest first
        (app.bsky.graph.getFollowers)."""
        return self._people("app.bsky.graph.getFollowers", account, limit, cursor)

    def following(
        self,
        account: Account | str | None = None,
        *,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Account]:
        """The accounts ``account`` (default: this account) follows, newest first
        (app.bsky.graph.getFollows)."""
        return self._people("app.bsky.graph.getFollows", account, limit, cursor)

    def _people(
        self, nsid: str, account: Account | str | None, limit: int | None, cursor: str | None
    ) -> Paged[Account]:
        if account is not None and not isinstance(account, Account):
            check_id(NETWORK, account.strip().lstrip("@"), _ACTOR, "handle or DID")

        async def page(page_cursor: str | None, size: int) -> tuple[list[Account], str | None]:
            params: dict[str, Any] = {"actor": await self._actor(account), "limit": size}
            if page_cursor:
                params["cursor"] = page_cursor
            try:
                response = await self._appview(nsid, params)
            except _NoAppView as exc:
                raise self._needs_appview(Capability.FOLLOWERS, exc) from None
            except InvalidRequestError as exc:
                raise _not_found(exc, str(params["actor"])) from None
            if nsid.endswith("getFollowers"):
                followers = self._session.parse_model(Followers, response)
                people, more = followers.followers, followers.cursor
            else:
                follows = self._session.parse_model(Follows, response)
                people, more = follows.follows, follows.cursor
            return [account_from_profile(p) for p in people], more if people else None

        return Paged(_pages(page), limit=limit, cursor=cursor)

    # -- engagement --------------------------------------------------------------------------
    # A like, repost, follow or block is a record in the account's repository; taking it back
    # deletes that record. Its record key is derived from what it is about (so that a retried
    # create cannot make a second one), and the AppView's viewer state (``viewer.like``,
    # ``viewer.following`` …) names a record made elsewhere (the app) to take back. On a PDS
    # without an AppView the account's own records are read instead.

    async def like(self, post_id: str) -> None:
        """Like a post (an app.bsky.feed.like record; liking a liked post changes nothing)."""
        await self._engage(LIKE_COLLECTION, post_id, "like")

    async def unlike(self, post_id: str) -> None:
        """Take a like back (delete the like record; a post not liked is fine).

        Network calls: the post's viewer state (``app.bsky.feed.getPosts``, or
        ``com.atproto.repo.listRecords`` on a PDS without an AppView), then the deletion of
        the like records (``com.atproto.repo``)."""
        await self._disengage(LIKE_COLLECTION, post_id, "like")

    async def repost(self, post_id: str) -> None:
        """Repost a post (an app.bsky.feed.repost record; reposting twice changes nothing)."""
        await self._engage(REPOST_COLLECTION, post_id, "repost")

    async def unrepost(self, post_id: str) -> None:
        """Take a repost back (delete the repost record).

        Network calls: as :meth:`unlike` (``app.bsky.feed.getPosts``, then
        ``com.atproto.repo`` deletions), for the repost records."""
        await self._disengage(REPOST_COLLECTION, post_id, "repost")

    async def bookmark(self, post_id: str) -> None:
        """Bookmark a post (app.bsky.bookmark.createBookmark: private, kept by the AppView)."""
        ref, _ = await self._post_state(await self._post_uri(post_id), Capability.BOOKMARK)
        await self._appview_call(
            "app.bsky.bookmark.createBookmark",
            {"uri": ref["uri"], "cid": ref["cid"]},
            Capability.BOOKMARK,
        )

    async def unbookmark(self, post_id: str) -> None:
        """Remove a bookmark (app.bsky.bookmark.deleteBookmark; none there is fine)."""
        uri = await self._post_uri(post_id)
        await self._appview_call(
            "app.bsky.bookmark.deleteBookmark", {"uri": uri}, Capability.BOOKMARK
        )

    async def follow(self, account: Account | str) -> None:
        """Follow an account (an app.bsky.graph.follow record)."""
        await self._engage_actor(FOLLOW_COLLECTION, account, "following")

    async def unfollow(self, account: Account | str) -> None:
        """Stop following an account (delete the follow record).

        Network calls: ``app.bsky.actor.getProfile`` (the viewer's follow; handle resolution or
        ``com.atproto.repo.listRecords`` on a PDS without an AppView), then the deletion of the
        follow records (``com.atproto.repo``)."""
        await self._disengage_actor(FOLLOW_COLLECTION, account, "following")

    async def block(self, account: Account | str) -> None:
        """Block an account (an app.bsky.graph.block record; blocks are public on Bluesky)."""
        await self._engage_actor(BLOCK_COLLECTION, account, "blocking")

    async def unblock(self, account: Account | str) -> None:
        """Unblock an account (delete the block record).

        Network calls: as :meth:`unfollow` (``app.bsky.actor.getProfile``, then
        ``com.atproto.repo`` deletions), for the block records."""
        await self._disengage_actor(BLOCK_COLLECTION, account, "blocking")

    async def mute(self, account: Account | str) -> None:
        """Mute an account (app.bsky.graph.muteActor: private, kept by the AppView)."""
        actor = await self._actor(account)
        await self._appview_call("app.bsky.graph.muteActor", {"actor": actor}, Capability.MUTE)

    async def unmute(self, account: Account | str) -> None:
        """Unmute an account (app.bsky.graph.unmuteActor)."""
        actor = await self._actor(account)
        await self._appview_call("app.bsky.graph.unmuteActor", {"actor": actor}, Capability.MUTE)

    async def _appview_call(self, nsid: str, body: dict[str, Any], capability: Capability) -> None:
        """A procedure of the AppView (idempotent: the same call twice leaves one state)."""
        if self._no_appview:
            raise self._needs_appview(capability, _NoAppView(nsid))
        try:
            await self._xrpc("POST", nsid, json=body, kind="write", proxy=self.settings.appview)
        except APIError as exc:
            if is_no_service(exc):
                self._no_appview = True
                raise self._needs_appview(capability, _NoAppView(nsid)) from None
            raise

    async def _post_state(
        self, uri: str, capability: Capability
    ) -> tuple[dict[str, str], dict[str, Any] | None]:
        """``({uri, cid}, viewer state)`` of a post: from the AppView (getPosts) when there is
        one (``None`` viewer state without), else from the record (getRecord)."""
        try:
            response = await self._appview("app.bsky.feed.getPosts", {"uris": [uri]})
        except _NoAppView as exc:
            if capability == Capability.BOOKMARK:
                raise self._needs_appview(capability, exc) from None
            ref, _ = await self._strong_ref(uri)
            return ref, None
        posts: list[PostView] = self._session.parse_model(PostList, response).posts
        if not posts:
            raise NotFoundError(NETWORK, None, "NotFound", f"no post {uri}")
        return {"uri": posts[0].uri, "cid": posts[0].cid}, posts[0].viewer or {}

    async def _own_records(
        self, collection: str, match: Callable[[dict[str, Any]], bool]
    ) -> list[str]:
        """The AT-URIs of the account's records of ``collection`` that ``match`` (listRecords;
        used on a PDS without an AppView)."""
        did = (await self.auth.data()).did
        found: list[str] = []
        page_cursor: str | None = None
        while True:
            params: dict[str, Any] = {"repo": did, "collection": collection, "limit": PAGE_MAX}
            if page_cursor:
                params["cursor"] = page_cursor
            listed = self._session.parse_model(
                ListedRecords,
                await self._xrpc("GET", "com.atproto.repo.listRecords", params=params),
            )
            found.extend(r.uri for r in listed.records if match(r.value))
            if not listed.cursor or not listed.records:
                return found
            page_cursor = listed.cursor

    async def _put_subject(self, collection: str, subject: Any, key: str) -> None:
        """Create the account's ``collection`` record about ``subject`` at the record key
        derived from ``key``; one that exists already there is success."""
        data = await self.auth.data()
        rkey = tid_for_key(f"{collection} {key}")
        record = {"$type": collection, "subject": subject, "createdAt": _iso(self.now())}
        body = {"repo": data.did, "collection": collection, "rkey": rkey, "record": record}
        try:
            await self._xrpc(
                "POST", "com.atproto.repo.createRecord", json=body, kind="create", retry_safe=True
            )
        except (APIError, OutcomeUnknownError, TransportError) as exc:
            if isinstance(exc, RateLimitError) and exc.local:
                raise
            try:
                await self._get_record(f"at://{data.did}/{collection}/{rkey}")
            except (APIError, TransportError):
                raise exc from None  # not there (or not known): the create's error stands
            # found: an earlier attempt created it

    async def _delete_own(self, uris: Iterable[str]) -> None:
        did = (await self.auth.data()).did
        for uri in dict.fromkeys(uris):
            parts = parse_at_uri(uri)
            if parts is None or parts.repo != did:
                continue
            await self._xrpc(
                "POST",
                "com.atproto.repo.deleteRecord",
                json={"repo": did, "collection": parts.collection, "rkey": parts.rkey},
                kind="write",  # idempotent: "delete, or ensure it does not exist"
            )

    async def _engage(self, collection: str, post_id: str, viewer_key: str) -> None:
        capability = Capability.LIKE if collection == LIKE_COLLECTION else Capability.REPOST
        uri = await self._post_uri(post_id)
        ref, viewer = await self._post_state(uri, capability)
        if viewer is not None:
            if viewer.get(viewer_key):
                return
        elif await self._own_records(collection, lambda v: _subject_uri(v) == ref["uri"]):
            return
        await self._put_subject(collection, ref, ref["uri"])

    async def _disengage(self, collection: str, post_id: str, viewer_key: str) -> None:
        capability = Capability.LIKE if collection == LIKE_COLLECTION else Capability.REPOST
        uri = await self._post_uri(post_id)
        did = (await self.auth.data()).did
        mine = f"at://{did}/{collection}/{tid_for_key(f'{collection} {uri}')}"
        try:
            ref, viewer = await self._post_state(uri, capability)
        except NotFoundError:
            ref, viewer = {"uri": uri}, {}
        if viewer is not None:
            found = [v for v in (viewer.get(viewer_key),) if isinstance(v, str)]
        else:
            found = await self._own_records(collection, lambda v: _subject_uri(v) == ref["uri"])
        # The record made here is deleted as well: the AppView may not have indexed it yet.
        await self._delete_own([*found, mine])

    async def _subject_did(self, account: Account | str) -> tuple[str, dict[str, Any] | None]:
        """The DID of an account and this account's viewer state of it (``None`` without an
        AppView)."""
        actor = await self._actor(account)
        try:
            response = await self._appview("app.bsky.actor.getProfile", {"actor": actor})
        except _NoAppView:
            if actor.startswith("did:"):
                return actor, None
            did = await self._resolve_handle(actor)
            if did is None:
                raise NotFoundError(NETWORK, None, "NotFound", f"no account {actor}") from None
            return did, None
        except InvalidRequestError as exc:
            raise _not_found(exc, actor) from None
        profile = self._session.parse_model(Profile, response)
        return profile.did, profile.viewer or {}

    async def _engage_actor(self, collection: str, account: Account | str, viewer_key: str) -> None:
        did, viewer = await self._subject_did(account)
        if viewer is not None:
            if viewer.get(viewer_key):
                return
        elif await self._own_records(collection, lambda v: v.get("subject") == did):
            return
        await self._put_subject(collection, did, did)

    async def _disengage_actor(
        self, collection: str, account: Account | str, viewer_key: str
    ) -> None:
        did, viewer = await self._subject_did(account)
        me = (await self.auth.data()).did
        mine = f"at://{me}/{collection}/{tid_for_key(f'{collection} {did}')}"
        if viewer is not None:
            found = [v for v in (viewer.get(viewer_key),) if isinstance(v, str)]
        else:
            found = await self._own_records(collection, lambda v: v.get("subject") == did)
        await self._delete_own([*found, mine])

    async def hide(self, reply: Message | str) -> None:
        """Hide a reply in a thread the account started: its AT-URI goes into the
        ``hiddenReplies`` of the thread's threadgate record (app.bsky.feed.threadgate, at the
        root post's record key), created or updated with a compare-and-swap."""
        await self._gate(reply, hide=True)

    async def unhide(self, reply: Message | str) -> None:
        """Show a hidden reply again (take it out of the threadgate's ``hiddenReplies``).

        Network calls: the post's threadgate (``com.atproto.repo.getRecord``), then
        ``com.atproto.repo.putRecord`` of the threadgate."""
        await self._gate(reply, hide=False)

    async def _gate(self, reply: Message | str, *, hide: bool) -> None:
        if isinstance(reply, Message):
            if reply.network != NETWORK:
                raise ValidationError(f"this message is from {reply.network}, not bluesky")
            if reply.kind == "direct":
                raise ValidationError("a direct message is not a reply that can be hidden")
            reply = reply.id
        uri = await self._post_uri(reply)
        _, value = await self._strong_ref(uri)
        root = reply_root(value)
        if root is None:
            raise ValidationError(f"{uri} is not a reply")
        data = await self.auth.data()
        parts = parse_at_uri(root["uri"])
        if parts is None or parts.repo not in (data.did, data.handle):
            raise ValidationError(
                f"{uri} replies in a thread another account started; only the thread's author "
                "can hide replies"
            )
        gate_uri = f"at://{data.did}/{THREADGATE_COLLECTION}/{parts.rkey}"
        try:
            gate = await self._get_record(gate_uri)
        except NotFoundError:
            gate = None
        except InvalidRequestError as exc:
            if exc.code != "RecordNotFound":
                raise
            gate = None
        if gate is None:
            if not hide:
                return
            record: dict[str, Any] = {
                "$type": THREADGATE_COLLECTION,
                "post": f"at://{data.did}/{POST_COLLECTION}/{parts.rkey}",
                "hiddenReplies": [uri],
                "createdAt": _iso(self.now()),
            }
            body: dict[str, Any] = {
                "repo": data.did,
                "collection": THREADGATE_COLLECTION,
                "rkey": parts.rkey,
                "record": record,
            }
            await self._xrpc("POST", "com.atproto.repo.putRecord", json=body, kind="write")
            return
        hidden = [u for u in gate.value.get("hiddenReplies") or [] if isinstance(u, str)]
        if (uri in hidden) == hide:
            return
        hidden = [*hidden, uri] if hide else [u for u in hidden if u != uri]
        if len(hidden) > MAX_HIDDEN_REPLIES:
            raise ValidationError(f"a bluesky thread can hide at most {MAX_HIDDEN_REPLIES} replies")
        body = {
            "repo": data.did,
            "collection": THREADGATE_COLLECTION,
            "rkey": parts.rkey,
            "record": {**gate.value, "hiddenReplies": hidden},
        }
        if gate.cid is not None:
            body["swapRecord"] = gate.cid  # fails rather than overwrite a concurrent change
        await self._xrpc("POST", "com.atproto.repo.putRecord", json=body, kind="write")

    # -- messages ----------------------------------------------------------------------------

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Paged[Message]:
        """Mentions, replies and quotes (app.bsky.notification.listNotifications) and direct
        messages (chat.bsky.convo.*), merged newest first, lazily. Messages the account sent
        itself are left out; ``comment`` has no Bluesky equivalent (replies are ``reply``)."""
        wanted = kinds_filter(kinds)
        reasons = [r for r, kind in NOTIFICATION_KINDS.items() if kind in wanted]
        sources: dict[str, Callable[[str | None, int | None], Awaitable[Batch[Message]]]] = {}
        if reasons:
            sources["notifications"] = _pages(self._notification_page(reasons))
        if "direct" in wanted:
            sources["direct"] = self._direct_fetch
        if not sources:
            return Paged.empty()
        return Paged.merge(
            sources,
            time_of=lambda m: m.created_at,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )

    def _notification_page(self, reasons: list[str]) -> PageFetch[Message]:
        async def page(page_cursor: str | None, size: int) -> tuple[list[Message], str | None]:
            params: dict[str, Any] = {"reasons": reasons, "limit": size}
            if page_cursor:
                params["cursor"] = page_cursor
            try:
                response = await self._appview("app.bsky.notification.listNotifications", params)
            except _NoAppView as exc:
                raise self._needs_appview(Capability.MENTIONS, exc) from None
            found = self._session.parse_model(NotificationPage, response)
            items = [
                message_from_notification(n) for n in found.notifications if n.reason in reasons
            ]
            return items, found.cursor if found.notifications else None

        return page

    async def _direct_fetch(self, cursor: str | None, want: int | None) -> Batch[Message]:
        """The direct messages of every conversation, merged newest first.

        The network cursor is this walk's own: the getMessages cursor of the page each
        conversation is at, and the (time, id) of the last message yielded. A page is read
        again on resume and what is not older than that mark is dropped, so that messages that
        arrived in between (newer than the walk) are neither repeated nor mixed in. A batch
        yields only messages at least as new as every conversation's unread part, so the merge
        stays in order (written here: the chat service has no cross-conversation listing).
        """
        state: dict[str, Any] = {"w": None, "c": {}}
        if cursor is not None:
            try:
                state = json.loads(cursor)
            except ValueError:
                state = {}
            mark_ok = (
                state.get("w") is None
                or (
                    isinstance(state.get("w"), list)
                    and len(state["w"]) == 2
                    and all(isinstance(v, str) for v in state["w"])
                )
                if isinstance(state, dict)
                else False
            )
            if (
                not isinstance(state, dict)
                or set(state) != {"w", "c"}
                or not mark_ok
                or not isinstance(state["c"], dict)
                or not all(
                    v is None or v is False or isinstance(v, str) for v in state["c"].values()
                )
            ):
                raise ValidationError("this cursor does not belong to a bluesky iterator")
        mark = tuple(state["w"]) if state["w"] else None
        positions: dict[str, Any] = dict(state["c"])
        me = (await self.auth.data()).did
        convos = await self._all_convos()
        frontier: tuple[str, str] | None = None
        pages: dict[str, tuple[list[tuple[tuple[str, str], Message]], str | None]] = {}
        for convo in convos:
            position = positions.get(convo.id)
            if position is False:
                continue  # read to its end
            newest = _last_key(convo)
            if newest is None:
                continue  # no message yet
            if frontier is not None and newest < frontier:
                break  # this one and the rest are older than what can be yielded now
            members = {m.did: m for m in convo.members}
            while True:
                params: dict[str, Any] = {"convoId": convo.id, "limit": PAGE_MAX}
                if position:
                    params["cursor"] = position
                page = self._session.parse_model(
                    MessagePage,
                    await self._chat("GET", "chat.bsky.convo.getMessages", params=params),
                )
                for profile in page.related_profiles or []:
                    members.setdefault(profile.did, profile)
                keep = [
                    (_message_key(m), message_from_chat(m, convo.id, members))
                    for m in page.messages
                    if m.text is not None
                    and m.sender is not None
                    and m.sender.did != me  # the account's own
                    and (mark is None or _message_key(m) < mark)
                ]
                more = page.cursor if page.messages else None
                if keep or not more:
                    break
                position = positions[convo.id] = more  # nothing left to yield on this page
            positions.setdefault(convo.id, position)
            pages[convo.id] = (keep, more)
            if more and page.messages:
                oldest = min(_message_key(m) for m in page.messages)
                frontier = oldest if frontier is None else max(frontier, oldest)
        ready = sorted(
            (
                (key, convo_id, message)
                for convo_id, (keep, _) in pages.items()
                for key, message in keep
                if frontier is None or key >= frontier
            ),
            key=lambda item: item[0],
            reverse=True,
        )
        start = dict(positions)
        after = dict(positions)
        for convo_id, (keep, more) in pages.items():
            if all(frontier is None or key >= frontier for key, _ in keep):
                after[convo_id] = more if more else False
        if not ready:
            return Batch([])
        return Batch(
            [message for _, _, message in ready],
            next=json.dumps({"w": list(ready[-1][0]), "c": after}),
            item_cursors=[json.dumps({"w": list(key), "c": start}) for key, _, _ in ready],
        )

    async def _all_convos(self) -> list[Convo]:
        """Every conversation, most recently active first (chat.bsky.convo.listConvos)."""
        convos: list[Convo] = []
        page_cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE_MAX}
            if page_cursor:
                params["cursor"] = page_cursor
            page = self._session.parse_model(
                ConvoList, await self._chat("GET", "chat.bsky.convo.listConvos", params=params)
            )
            convos.extend(page.convos)
            if not page.cursor or not page.convos:
                break
            page_cursor = page.cursor
        return sorted(convos, key=lambda c: _last_key(c) or ("", ""), reverse=True)

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a post (by id), a mention/reply/quote (a post reply with root and parent
        refs) or a direct message (chat.bsky.convo.sendMessage in its conversation)."""
        answer = as_post(post)
        if isinstance(to, str):
            return await self.publish(answer.model_copy(update={"reply_to": to}))
        if to.network != NETWORK:
            raise ValidationError(f"this message is from {to.network}, not bluesky")
        if to.kind == "direct":
            return await self._send_dm(to, answer)
        problems = self.check(answer)
        if problems:
            raise InvalidPostError(NETWORK, problems)
        raw = to.raw
        if isinstance(raw, Notification):
            parent = {"uri": raw.uri, "cid": raw.cid}
            refs: dict[str, Any] = {"root": reply_root(raw.record) or parent, "parent": parent}
        else:
            refs = await self._reply_refs(to.id)
        return await self._publish_thread(answer, None, None, reply=refs)

    async def _send_dm(self, to: Message, answer: Post) -> Post:
        problems: list[Problem] = []
        graphemes, size = count_graphemes(answer.text), utf8_length(answer.text)
        if not answer.text.strip():
            problems.append(
                Problem(code="text_required", message="a direct message needs text", field="text")
            )
        if graphemes > DM_MAX_GRAPHEMES or size > DM_MAX_BYTES:
            problems.append(
                Problem(
                    code="text_too_long",
                    message=(
                        f"a direct message is at most {DM_MAX_GRAPHEMES} graphemes and "
                        f"{DM_MAX_BYTES} bytes; this one is {graphemes} graphemes, {size} bytes"
                    ),
                    field="text",
                    limit=DM_MAX_GRAPHEMES,
                    actual=graphemes,
                )
            )
        if answer.media or answer.link or answer.quote_of or answer.poll or answer.thread:
            problems.append(
                Problem(
                    code="unsupported",
                    message="bluesky direct messages carry text only",
                    field="media",
                )
            )
        if answer.scheduled_at is not None:
            problems.append(
                Problem(
                    code="unsupported",
                    message="bluesky does not schedule direct messages: it would go out now",
                    field="scheduled_at",
                )
            )
        if to.conversation_id is None:
            problems.append(
                Problem(code="no_conversation", message="the message has no conversation id")
            )
        if problems:
            raise InvalidPostError(NETWORK, problems)
        message: dict[str, Any] = {"text": answer.text}
        facets = await build_facets(answer.text, self._resolve_handle)
        if facets:
            message["facets"] = facets
        # sendMessage is not idempotent and has no client-chosen id: never re-sent after it
        # may have arrived (the pipeline raises OutcomeUnknownError instead).
        response = await self._chat(
            "POST",
            "chat.bsky.convo.sendMessage",
            json={"convoId": to.conversation_id, "message": message},
            kind="create",
        )
        try:
            sent = self._session.parse_model(ChatMessage, response)
        except MalformedResponseError as exc:
            # A 2xx whose body cannot be read: the message was most likely sent.
            raise OutcomeUnknownError(
                NETWORK, "POST", "/xrpc/chat.bsky.convo.sendMessage", exc
            ) from exc
        data = await self.auth.data()
        return Post(
            text=sent.text or answer.text,
            reply_to=to.id,
            visibility="direct",
            id=sent.id,
            network=NETWORK,
            author=Account(id=data.did, handle=data.handle, network=NETWORK),
            created_at=parse_datetime(sent.sent_at),
            raw=sent,
        )


def _too_large(where: str, size: int, max_size: int) -> InvalidPostError:
    return InvalidPostError(
        NETWORK,
        [
            Problem(
                code="media_too_large",
                message=f"{where} is {size:,} bytes; bluesky accepts up to {max_size:,} bytes",
                field=where,
                limit=max_size,
                actual=size,
            )
        ],
    )


def _subject_uri(value: dict[str, Any]) -> str | None:
    subject = value.get("subject")
    uri = subject.get("uri") if isinstance(subject, dict) else None
    return uri if isinstance(uri, str) else None


def _not_found(exc: InvalidRequestError, actor: str) -> APIError:
    """The AppView's "Profile not found" (and the PDS's "Could not find repo") are 400s:
    a NotFoundError for the caller; any other 400 stays as it was."""
    text = f"{exc.code} {exc.message}".lower()
    if "not found" in text or "could not find" in text or "notfound" in text:
        return NotFoundError(NETWORK, exc.status, exc.code, f"no account {actor}")
    return exc


def _blob_of(uploaded: UploadedMedia) -> dict[str, Any]:
    """The blob reference of an earlier upload (rebuilt from its CID, type and size when the
    UploadedMedia was stored and loaded again without ``raw``)."""
    if uploaded.network != NETWORK:
        raise ValidationError(f"this media was uploaded to {uploaded.network}, not bluesky")
    raw = uploaded.raw
    if isinstance(raw, dict) and isinstance(raw.get("ref"), dict):
        return dict(raw)
    if uploaded.size is None:
        raise ValidationError("a bluesky upload needs its size to be attached to a post")
    return {
        "$type": "blob",
        "ref": {"$link": uploaded.id},
        "mimeType": uploaded.mime_type,
        "size": uploaded.size,
    }


def _fingerprint(record: dict[str, Any]) -> str:
    """What makes two post records "the same post" for idempotency: everything but
    ``createdAt`` (each attempt stamps its own time) and ``facets`` (derived from the text)."""
    same = {k: v for k, v in record.items() if k not in ("createdAt", "facets", "$type")}
    return json.dumps(same, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


PageFetch = Callable[[str | None, int], Awaitable[tuple[list[T], str | None]]]
"""``fetch_page(network_cursor, limit) -> (items, next_cursor)``: one page of a listing."""


def _pages(fetch_page: PageFetch[T]) -> Callable[[str | None, int | None], Awaitable[Batch[T]]]:
    """A :class:`~socialkit.Paged` fetch over a listing whose cursors are opaque per page.

    Bluesky's cursors name a page, not an item, so each batch carries the next page's cursor
    only; ``Paged`` resumes mid-page by the last item's key and time. A page that holds nothing
    to yield (all reposts, say) is passed over here, so that it does not end the walk.
    """

    async def fetch(cursor: str | None, want: int | None) -> Batch[T]:
        limit = PAGE_MAX if want is None else max(1, min(PAGE_MAX, want))
        items, next_cursor = await fetch_page(cursor, limit)
        while not items and next_cursor:
            items, next_cursor = await fetch_page(next_cursor, limit)
        return Batch(items, next=next_cursor or None)

    return fetch


def _search_views(body: bytes) -> list[PostView]:
    """The posts of a searchPosts body (the ``raw`` of the posts read from it)."""
    return SearchResult.model_validate_json(body).posts


def _feed_key(post: Post) -> str:
    """A feed item's identity: a post appears once per repost in a timeline."""
    when = post_time(post)
    return f"{post.id} {when.isoformat() if when else ''}"


def _last_key(convo: Convo) -> tuple[str, str] | None:
    last = convo.last_message or {}
    sent, ident = last.get("sentAt"), last.get("id")
    if not isinstance(sent, str):
        return None
    return parse_datetime(sent).strftime("%Y-%m-%dT%H:%M:%S.%f"), str(ident or "")


def _message_key(message: ChatMessage) -> tuple[str, str]:
    """A chat message's place in time, newest last: (sentAt to the microsecond, id)."""
    return parse_datetime(message.sent_at).strftime("%Y-%m-%dT%H:%M:%S.%f"), message.id
