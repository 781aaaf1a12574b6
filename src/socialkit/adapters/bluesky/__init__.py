"""Bluesky (AT Protocol) through XRPC over httpx: no atproto SDK.

Sign in with a handle (or DID) and an app password (:mod:`._auth`), or with AT Protocol OAuth
(PAR, PKCE and DPoP: :mod:`._oauth`, ``ex_oauth_begin`` / ``ex_oauth_complete``); the session
is kept in the token store and reused across adapter instances and runs. Posts are
``app.bsky.feed.post`` records created with a client-chosen record key (a TID), so a retried
create never makes a second post. Reads, metrics, notifications and search go through the
AppView the PDS proxies ``app.bsky.*`` to; a PDS without one (self-hosted, tests) still
publishes and reads its own records through ``com.atproto.repo.*``. Direct messages go to the
chat service through the PDS with the ``atproto-proxy`` header.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime, timezone
from typing import Any, ClassVar, Literal

import httpx
from pydantic import Field, SecretStr, field_validator

from socialkit._capabilities import Capability, Limits
from socialkit._errors import (
    APIError,
    ConfigurationError,
    InvalidPostError,
    InvalidRequestError,
    NotFoundError,
    OutcomeUnknownError,
    ServerError,
    ThreadIncompleteError,
    TransportError,
    UnsupportedError,
)
from socialkit._models import Account, Media, Message, MessageKind, Metric, Post, Problem
from socialkit.adapters._base import Adapter, AdapterSettings, HttpURL, as_post, kinds_filter
from socialkit.adapters.bluesky._auth import BlueskySessionAuth, SessionData
from socialkit.adapters.bluesky._mapping import (
    NETWORK,
    NOTIFICATION_KINDS,
    POST_COLLECTION,
    account_from_profile,
    account_metrics_from_profile,
    message_from_chat,
    message_from_notification,
    metrics_from_view,
    parse_at_uri,
    parse_datetime,
    post_from_record,
    post_from_view,
    reply_root,
)
from socialkit.adapters.bluesky._network import is_no_service, make_network
from socialkit.adapters.bluesky._oauth import SCOPE, BlueskyOAuthAuth, check_client_id
from socialkit.adapters.bluesky._tid import TidClock
from socialkit.adapters.bluesky._wire import (
    AuthorFeed,
    ChatMessage,
    ChatProfile,
    ConvoList,
    CreatedRecord,
    ListedRecords,
    MessagePage,
    Notification,
    NotificationPage,
    PostList,
    Profile,
    RecordOut,
    ResolvedHandle,
    SearchResult,
    SessionInfo,
    UploadedBlob,
    decode,
)
from socialkit.auth import TokenStore
from socialkit.text import build_facets, count_graphemes, utf8_length

__all__ = ["BlueskyAdapter", "BlueskySettings"]

logger = logging.getLogger("socialkit.bluesky")

# Limits from the lexicons (bluesky-social/atproto lexicons/, checked by the tests):
MAX_GRAPHEMES = 300  # app.bsky.feed.post#main record.text maxGraphemes
MAX_BYTES = 3000  # app.bsky.feed.post#main record.text maxLength (UTF-8 bytes)
MAX_IMAGES = 4  # app.bsky.embed.images#main images maxLength
IMAGE_MAX_SIZE = 2_000_000  # app.bsky.embed.images#image image maxSize
THUMB_MAX_SIZE = 1_000_000  # app.bsky.embed.external#external thumb maxSize
MAX_LANGS = 3  # app.bsky.feed.post#main langs maxLength
GET_POSTS_MAX = 25  # app.bsky.feed.getPosts uris maxLength
PAGE_MAX = 100  # getAuthorFeed / listRecords / searchPosts / listNotifications limit maximum
DM_MAX_GRAPHEMES = 1000  # chat.bsky.convo.defs#messageInput text maxGraphemes
DM_MAX_BYTES = 10000  # chat.bsky.convo.defs#messageInput text maxLength

CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"
_SELF_LABELS = frozenset({"sexual", "nudity", "porn", "graphic-media"})


class BlueskySettings(AdapterSettings):
    """Settings of the Bluesky adapter."""

    service: HttpURL = Field(
        default="https://bsky.social",
        description="The PDS (or entryway) URL the account signs in at.",
    )
    identifier: str = Field(description="The account's handle (alice.bsky.social) or DID.")
    password: SecretStr | None = Field(
        default=None,
        description=(
            "An app password (Settings -> Privacy and security -> App passwords). Leave it out "
            "to use an OAuth session (see oauth_client_id and ex_oauth_begin)."
        ),
    )
    oauth_client_id: str | None = Field(
        default=None,
        description=(
            "OAuth client_id: the https URL of the client metadata document, or the loopback "
            "form http://localhost?redirect_uri=...&scope=... for development. Default (no "
            "password): the loopback client, or the client id of the stored session."
        ),
    )
    oauth_redirect_uri: str | None = Field(
        default=None,
        description="OAuth redirect_uri (one of the client metadata's redirect_uris).",
    )
    plc_directory: str = Field(
        default="https://plc.directory",
        description="The did:plc directory the OAuth login resolves DID documents at.",
    )
    appview: str | None = Field(
        default=None,
        description=(
            "Service DID (with #fragment) to proxy app.bsky.* calls to through the atproto-proxy "
            "header, e.g. did:web:api.bsky.app#bsky_appview; default: the PDS's own choice."
        ),
    )
    chat_service: str = Field(
        default=CHAT_PROXY, description="atproto-proxy target of the chat.bsky.* calls."
    )
    follow_pds_endpoint: bool = Field(
        default=True,
        description=(
            "Send requests to the PDS named in the session's DID document (as the official "
            "clients do) instead of the sign-in service."
        ),
    )
    feed_filter: Literal[
        "posts_with_replies", "posts_no_replies", "posts_and_author_threads", "posts_with_media"
    ] = Field(
        default="posts_with_replies",
        description="getAuthorFeed filter for posts(); reposts and pins are always left out.",
    )
    tid_clock_id: int | None = Field(
        default=None,
        ge=0,
        lt=1024,
        description=(
            "The clock id in the record keys (TIDs) this adapter makes; random by default so "
            "that two writers never collide. Fix it only for reproducible simulations."
        ),
    )
    sensitive_label: Literal["sexual", "nudity", "porn", "graphic-media"] = Field(
        default="graphic-media",
        description="The self-label (com.atproto.label.defs#selfLabels) a sensitive post gets.",
    )

    @field_validator("oauth_client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        return None if value is None else check_client_id(value)

    @field_validator("oauth_redirect_uri", "plc_directory")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value

    @field_validator("appview", "chat_service")
    @classmethod
    def _proxy(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("did:") and "#" in value):
            raise ValueError("a proxy target is a service DID with a #fragment")
        return value


class _NoAppView(Exception):
    """The PDS has no AppView (or chat service) for this method."""


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _language(tag: str) -> str:
    primary, _, rest = tag.replace("_", "-").partition("-")
    return primary.lower() + ("-" + rest if rest else "")


class BlueskyAdapter(Adapter):
    """Bluesky: publish, read, metrics, notifications, direct messages and search."""

    name: ClassVar[str] = "bluesky"
    Settings: ClassVar[type[AdapterSettings]] = BlueskySettings
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.PUBLISH_TEXT,
            Capability.PUBLISH_IMAGE,
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
    )
    docs_url: ClassVar[str | None] = "https://docs.bsky.app/docs/category/http-reference"

    def __init__(self, settings: AdapterSettings, *, http: httpx.AsyncClient | None = None):
        super().__init__(settings, http=http)
        assert isinstance(settings, BlueskySettings)
        self.settings: BlueskySettings = settings
        store = settings.store
        self._owns_store = store is None
        if store is None:
            self._tokens = TokenStore()
        elif isinstance(store, TokenStore):
            self._tokens = store
        else:
            from socialkit._store import Store

            if not isinstance(store, Store):
                raise ConfigurationError("bluesky: store must be a socialkit Store or TokenStore")
            self._tokens = TokenStore(store)
        self._network = make_network(settings.service)
        self.auth: BlueskySessionAuth | BlueskyOAuthAuth
        if settings.password is not None:
            if settings.oauth_client_id is not None or settings.oauth_redirect_uri is not None:
                raise ConfigurationError(
                    "bluesky: set either an app password or OAuth settings (oauth_client_id, "
                    "oauth_redirect_uri), not both"
                )
            self.auth = BlueskySessionAuth(
                store=self._tokens,
                identifier=settings.identifier,
                password=settings.password,
                service=settings.service,
            )
        else:
            # OAuth: the stored session is used; with none, the first request raises an
            # AuthError saying to log in (ex_oauth_begin / ex_oauth_complete).
            self.auth = BlueskyOAuthAuth(
                store=self._tokens,
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

    async def aclose(self) -> None:
        await super().aclose()
        if self._owns_store:
            await self._tokens.aclose()

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
        """
        return await self._oauth().begin(handle_or_did, redirect_uri=redirect_uri, scope=scope)

    async def ex_oauth_complete(self, redirect: str | Mapping[str, str]) -> SessionData:
        """Finish the OAuth login from the redirect URL (or its query parameters): checks
        ``state`` and ``iss`` before sending anything, exchanges the code, checks that the
        token is for the account's DID and stores the session (reused across runs)."""
        return await self._oauth().complete(redirect)

    async def session_data(self) -> SessionData:
        """The DID, handle and PDS endpoint of the signed-in account (logs in if needed)."""
        return await self.auth.data()

    async def _post_uri(self, post_id: str) -> str:
        """An AT-URI from an AT-URI, a bsky.app post URL or a record key of the account."""
        text = post_id.strip()
        if text.startswith("at://"):
            parts = parse_at_uri(text)
            if parts is None or parts.collection != POST_COLLECTION:
                raise InvalidRequestError(
                    NETWORK, None, "invalid_id", f"{post_id!r} is not the AT-URI of a post"
                )
            return str(parts)
        if text.startswith("https://bsky.app/profile/"):
            bits = text[len("https://bsky.app/profile/") :].split("/")
            if len(bits) == 3 and bits[1] == "post" and bits[0] and bits[2]:
                return f"at://{bits[0]}/{POST_COLLECTION}/{bits[2]}"
        elif text and all(c.isalnum() or c in "_~.:-" for c in text) and text not in (".", ".."):
            data = await self.auth.data()
            return f"at://{data.did}/{POST_COLLECTION}/{text}"
        raise InvalidRequestError(
            NETWORK,
            None,
            "invalid_id",
            f"{post_id!r} is neither an AT-URI, a bsky.app post URL nor a record key",
        )

    async def _get_record(self, uri: str) -> RecordOut:
        parts = parse_at_uri(uri)
        assert parts is not None
        response = await self._xrpc(
            "GET",
            "com.atproto.repo.getRecord",
            params={"repo": parts.repo, "collection": parts.collection, "rkey": parts.rkey},
        )
        return decode(RecordOut, response)

    async def _strong_ref(self, post_id: str) -> tuple[dict[str, str], dict[str, Any]]:
        """``({uri, cid}, record value)`` of a post, read with getRecord."""
        record = await self._get_record(await self._post_uri(post_id))
        if record.cid is None:
            raise InvalidRequestError(
                NETWORK, None, "no_cid", f"the record {record.uri} came back without its CID"
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
            did: str | None = decode(ResolvedHandle, response).did
        except (NotFoundError, InvalidRequestError):
            did = None  # HandleNotFound, or not a handle: the mention stays plain text
        self._handles[handle] = did
        return did

    # -- account -----------------------------------------------------------------------------

    async def me(self) -> Account:
        data = await self.auth.data()
        try:
            response = await self._appview("app.bsky.actor.getProfile", {"actor": data.did})
        except _NoAppView:
            info = decode(SessionInfo, await self._xrpc("GET", "com.atproto.server.getSession"))
            return Account(
                id=info.did,
                handle=info.handle,
                url=f"https://bsky.app/profile/{info.handle}",
                network=NETWORK,
                raw=info,
            )
        return account_from_profile(decode(Profile, response))

    async def account_metrics(
        self, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[Metric]:
        """Followers, follows and posts of the account now (Bluesky keeps no history)."""
        if since is not None or until is not None:
            raise UnsupportedError(
                NETWORK, "account metrics over a window", "Bluesky reports current counts only"
            )
        data = await self.auth.data()
        try:
            response = await self._appview("app.bsky.actor.getProfile", {"actor": data.did})
        except _NoAppView as exc:
            raise self._needs_appview(Capability.ACCOUNT_METRICS, exc) from None
        return account_metrics_from_profile(decode(Profile, response), self.now())

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
        """Upload a blob (com.atproto.repo.uploadBlob); the size is checked first."""
        if media.url is not None:
            # Without the account's token, from a public address only (media_fetch_allow).
            from socialkit._http import MediaFetcher

            data = await MediaFetcher.for_settings(self.settings).fetch(media)
        else:
            data = media.read()
        if len(data) > max_size:
            raise InvalidPostError(
                NETWORK,
                [
                    Problem(
                        code="media_too_large",
                        message=(
                            f"{where} is {len(data):,} bytes; bluesky accepts up to "
                            f"{max_size:,} bytes"
                        ),
                        field=where,
                        limit=max_size,
                        actual=len(data),
                    )
                ],
            )
        response = await self._xrpc(
            "POST",
            "com.atproto.repo.uploadBlob",
            content=data,
            headers={"Content-Type": media.mime_type},
            kind="write",  # content-addressed: uploading twice stores one blob
        )
        return decode(UploadedBlob, response).blob.model_dump(by_alias=True)

    async def _images(self, media: list[Media]) -> dict[str, Any]:
        images = []
        for index, item in enumerate(media):
            blob = await self._upload(item, IMAGE_MAX_SIZE, f"media[{index}]")
            image: dict[str, Any] = {"image": blob, "alt": item.alt or ""}
            if item.width and item.height:
                image["aspectRatio"] = {"width": item.width, "height": item.height}
            images.append(image)
        return {"$type": "app.bsky.embed.images", "images": images}

    async def _embed(self, post: Post, card: dict[str, Any] | None) -> dict[str, Any] | None:
        media: dict[str, Any] | None = None
        if post.media:
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

    async def _create(self, record: dict[str, Any]) -> tuple[Post, dict[str, str]]:
        """createRecord with a new TID as record key; a retry with that key that the server
        refuses (the first attempt did arrive) is recognised by reading the record back."""
        data = await self.auth.data()
        rkey = self._tids.next()
        body = {"repo": data.did, "collection": POST_COLLECTION, "rkey": rkey, "record": record}
        try:
            response = await self._xrpc(
                "POST", "com.atproto.repo.createRecord", json=body, kind="create", retry_safe=True
            )
            created = decode(CreatedRecord, response)
        except (InvalidRequestError, ServerError, OutcomeUnknownError, TransportError) as exc:
            existing = await self._existing(data.did, rkey, record)
            if existing is None:
                raise
            logger.info(
                "%s: the post %s was already created by an earlier attempt (%s); not posting "
                "it again",
                NETWORK,
                existing.uri,
                type(exc).__name__,
            )
            assert existing.cid is not None
            created = CreatedRecord(uri=existing.uri, cid=existing.cid)
        author = Account(id=data.did, handle=data.handle, network=NETWORK)
        post = post_from_record(
            created.uri,
            record,
            author=author,
            raw={"uri": created.uri, "cid": created.cid, "value": record},
        )
        return post, {"uri": created.uri, "cid": created.cid}

    async def _existing(self, did: str, rkey: str, record: dict[str, Any]) -> RecordOut | None:
        """The record at ``rkey`` if it is the one this create sent (same text and createdAt)."""
        try:
            found = await self._get_record(f"at://{did}/{POST_COLLECTION}/{rkey}")
        except NotFoundError:
            return None
        value = found.value
        if found.cid is None:
            return None
        if value.get("createdAt") != record["createdAt"] or value.get("text") != record["text"]:
            return None
        return found

    async def _publish_one(self, post: Post) -> Post:
        reply = await self._reply_refs(post.reply_to) if post.reply_to else None
        published, _ = await self._create(await self._record(post, reply))
        return published

    async def _publish(self, post: Post) -> Post:
        """Publish a post and its thread: each thread post replies to the one before, with the
        thread's root as ``root`` (no extra read per post)."""
        return await self._publish_thread(post, None)

    async def _publish_thread(self, post: Post, card: dict[str, Any] | None) -> Post:
        posts = post.posts()
        reply = await self._reply_refs(posts[0].reply_to) if posts[0].reply_to else None
        first, ref = await self._create(await self._record(posts[0], reply, card))
        if len(posts) == 1:
            return first
        root = reply["root"] if reply else ref
        published = [first]
        for item in posts[1:]:
            try:
                child, ref = await self._create(
                    await self._record(item, {"root": root, "parent": ref})
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
    ) -> Post:
        """Publish ``post`` (which has a ``link`` and no media) with a link card of your own
        title, description and optional thumbnail (uploaded as a blob, at most 1,000,000 bytes).
        A plain ``publish`` makes a card titled with the URL itself."""
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
        return await self._publish_thread(post, card)

    async def delete(self, post_id: str) -> None:
        """Delete a post of the account (com.atproto.repo.deleteRecord; deleting a post that
        is already gone succeeds)."""
        parts = parse_at_uri(await self._post_uri(post_id))
        assert parts is not None
        data = await self.auth.data()
        if parts.repo not in (data.did, data.handle):
            raise InvalidRequestError(
                NETWORK, None, "not_own_post", f"{post_id} belongs to another account"
            )
        await self._xrpc(
            "POST",
            "com.atproto.repo.deleteRecord",
            json={"repo": data.did, "collection": POST_COLLECTION, "rkey": parts.rkey},
            kind="write",  # idempotent: "delete, or ensure it does not exist"
        )

    # -- reading -----------------------------------------------------------------------------

    async def get_post(self, post_id: str) -> Post:
        """A post by AT-URI, bsky.app URL or record key: its view with counters from the
        AppView (app.bsky.feed.getPosts), else the record (com.atproto.repo.getRecord)."""
        uri = await self._post_uri(post_id)
        try:
            response = await self._appview("app.bsky.feed.getPosts", {"uris": [uri]})
        except _NoAppView:
            record = await self._get_record(uri)
            return post_from_record(
                record.uri,
                record.value,
                raw={"uri": record.uri, "cid": record.cid, "value": record.value},
            )
        posts = decode(PostList, response).posts
        if not posts:
            raise NotFoundError(NETWORK, None, "NotFound", f"no post {uri}")
        return post_from_view(posts[0])

    def posts(
        self,
        *,
        account: str | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Post]:
        """The account's posts (or ``account``'s: a handle or DID), newest first, lazily.

        Through app.bsky.feed.getAuthorFeed (``feed_filter`` setting, default
        ``posts_with_replies``; reposts and pinned repeats are left out); when the service has
        no AppView, through com.atproto.repo.listRecords of the app.bsky.feed.post collection.
        """
        if limit is not None and limit < 0:
            raise ValueError("limit must not be negative")
        return self._posts(account, since, limit)

    async def _posts(
        self, account: str | None, since: datetime | None, limit: int | None
    ) -> AsyncIterator[Post]:
        if limit == 0:
            return
        actor = account.lstrip("@") if account else (await self.auth.data()).did
        count = 0
        cursor: str | None = None
        while not self._no_appview:
            params: dict[str, Any] = {
                "actor": actor,
                "limit": min(PAGE_MAX, limit - count) if limit else PAGE_MAX,
                "filter": self.settings.feed_filter,
            }
            if cursor:
                params["cursor"] = cursor
            try:
                response = await self._appview("app.bsky.feed.getAuthorFeed", params)
            except _NoAppView:
                if cursor is not None:
                    raise
                break
            page = decode(AuthorFeed, response)
            for item in page.feed:
                if item.reason is not None:
                    continue  # a repost or the pinned post repeated at the top
                if since is not None and parse_datetime(item.post.indexed_at) < since:
                    return
                yield post_from_view(item.post)
                count += 1
                if limit is not None and count >= limit:
                    return
            cursor = page.cursor
            if not cursor or not page.feed:
                return
        async for post in self._records(actor, since, limit):
            yield post

    async def _records(
        self, actor: str, since: datetime | None, limit: int | None
    ) -> AsyncIterator[Post]:
        """Posts as repository records (newest record key first): no AppView needed."""
        count = 0
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {
                "repo": actor,
                "collection": POST_COLLECTION,
                "limit": min(PAGE_MAX, limit - count) if limit else PAGE_MAX,
            }
            if cursor:
                params["cursor"] = cursor
            page = decode(
                ListedRecords,
                await self._xrpc("GET", "com.atproto.repo.listRecords", params=params),
            )
            for record in page.records:
                post = post_from_record(
                    record.uri,
                    record.value,
                    raw={"uri": record.uri, "cid": record.cid, "value": record.value},
                )
                if since is not None and post.created_at is not None and post.created_at < since:
                    return
                yield post
                count += 1
                if limit is not None and count >= limit:
                    return
            cursor = page.cursor
            if not cursor or not page.records:
                return

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
            views = {view.uri: view for view in decode(PostList, response).posts}
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
        limit: int | None = None,
    ) -> AsyncIterator[Post]:
        """Posts matching ``query`` (app.bsky.feed.searchPosts, newest first), lazily."""
        if not query.strip():
            raise ValueError("the search query must not be empty")
        return self._search(query, since, limit)

    async def _search(
        self, query: str, since: datetime | None, limit: int | None
    ) -> AsyncIterator[Post]:
        count = 0
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {
                "q": query,
                "sort": "latest",
                "limit": min(PAGE_MAX, limit - count) if limit else PAGE_MAX,
            }
            if since is not None:
                params["since"] = _iso(since)
            if cursor:
                params["cursor"] = cursor
            try:
                response = await self._appview("app.bsky.feed.searchPosts", params)
            except _NoAppView as exc:
                raise self._needs_appview(Capability.SEARCH, exc) from None
            page = decode(SearchResult, response)
            for view in page.posts:
                yield post_from_view(view)
                count += 1
                if limit is not None and count >= limit:
                    return
            cursor = page.cursor
            if not cursor or not page.posts:
                return

    # -- messages ----------------------------------------------------------------------------

    def messages(
        self,
        *,
        kinds: Iterable[MessageKind] | None = None,
        since: datetime | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[Message]:
        """Mentions, replies and quotes (app.bsky.notification.listNotifications) and direct
        messages (chat.bsky.convo.*), merged newest first, lazily. Messages the account sent
        itself are left out; ``comment`` has no Bluesky equivalent (replies are ``reply``)."""
        wanted = kinds_filter(kinds)
        return self._messages(wanted, since, limit)

    async def _messages(
        self, wanted: frozenset[str], since: datetime | None, limit: int | None
    ) -> AsyncIterator[Message]:
        if limit == 0:
            return
        reasons = [r for r, kind in NOTIFICATION_KINDS.items() if kind in wanted]
        me = (await self.auth.data()).did
        sources: list[AsyncIterator[Message]] = []
        if reasons:
            sources.append(self._notifications(reasons, since))
        convos = self._convos(me, since) if "direct" in wanted else None
        count = 0
        async for message in _merge_newest(sources, convos):
            if since is not None and message.created_at < since:
                continue
            yield message
            count += 1
            if limit is not None and count >= limit:
                return

    async def _notifications(
        self, reasons: list[str], since: datetime | None
    ) -> AsyncIterator[Message]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"reasons": reasons, "limit": PAGE_MAX}
            if cursor:
                params["cursor"] = cursor
            try:
                response = await self._appview("app.bsky.notification.listNotifications", params)
            except _NoAppView as exc:
                raise self._needs_appview(Capability.MENTIONS, exc) from None
            page = decode(NotificationPage, response)
            for item in page.notifications:
                if since is not None and parse_datetime(item.indexed_at) < since:
                    return
                if item.reason in reasons:
                    yield message_from_notification(item)
            cursor = page.cursor
            if not cursor or not page.notifications:
                return

    async def _convos(
        self, me: str, since: datetime | None
    ) -> AsyncIterator[tuple[datetime, AsyncIterator[Message]]]:
        """Each conversation (most recently active first) with the time of its last message and
        a lazy iterator over its messages."""
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"limit": PAGE_MAX}
            if cursor:
                params["cursor"] = cursor
            page = decode(
                ConvoList, await self._chat("GET", "chat.bsky.convo.listConvos", params=params)
            )
            for convo in page.convos:
                last = convo.last_message or {}
                sent = last.get("sentAt")
                if not isinstance(sent, str):
                    continue  # no message yet
                newest = parse_datetime(sent)
                if since is not None and newest < since:
                    return
                members = {m.did: m for m in convo.members}
                yield newest, self._convo_messages(convo.id, members, me, since)
            cursor = page.cursor
            if not cursor or not page.convos:
                return

    async def _convo_messages(
        self, convo_id: str, members: dict[str, ChatProfile], me: str, since: datetime | None
    ) -> AsyncIterator[Message]:
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"convoId": convo_id, "limit": PAGE_MAX}
            if cursor:
                params["cursor"] = cursor
            page = decode(
                MessagePage, await self._chat("GET", "chat.bsky.convo.getMessages", params=params)
            )
            for profile in page.related_profiles or []:
                members.setdefault(profile.did, profile)
            for item in page.messages:
                if since is not None and parse_datetime(item.sent_at) < since:
                    return
                if item.text is None or item.sender is None or item.sender.did == me:
                    continue  # deleted or system messages, and the account's own
                yield message_from_chat(item, convo_id, members)
            cursor = page.cursor
            if not cursor or not page.messages:
                return

    async def reply(self, to: Message | str, post: Post | str) -> Post:
        """Answer a post (by id), a mention/reply/quote (a post reply with root and parent
        refs) or a direct message (chat.bsky.convo.sendMessage in its conversation)."""
        answer = as_post(post)
        if isinstance(to, str):
            return await self.publish(answer.model_copy(update={"reply_to": to}))
        if to.network != NETWORK:
            raise InvalidRequestError(
                NETWORK, None, "wrong_network", f"this message is from {to.network}, not bluesky"
            )
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
        published, _ = await self._create(await self._record(answer, refs))
        return published

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
        sent = decode(ChatMessage, response)
        data = await self.auth.data()
        return Post(
            text=sent.text or answer.text,
            id=sent.id,
            network=NETWORK,
            author=Account(id=data.did, handle=data.handle, network=NETWORK),
            created_at=parse_datetime(sent.sent_at),
            raw=sent,
        )


async def _merge_newest(
    sources: list[AsyncIterator[Message]],
    lazy: AsyncIterator[tuple[datetime, AsyncIterator[Message]]] | None,
) -> AsyncIterator[Message]:
    """Merge newest-first streams into one newest-first stream, lazily.

    ``lazy`` yields further streams (conversations) in order of their newest item, with that
    item's time: a conversation is only opened once its newest message could come next.
    """
    heap: list[tuple[float, int, Message, AsyncIterator[Message]]] = []
    order = 0

    async def push(stream: AsyncIterator[Message]) -> None:
        nonlocal order
        try:
            item = await stream.__anext__()
        except StopAsyncIteration:
            return
        order += 1
        heapq.heappush(heap, (-item.created_at.timestamp(), order, item, stream))

    for stream in sources:
        await push(stream)
    pending: tuple[datetime, AsyncIterator[Message]] | None = None
    if lazy is not None:
        pending = await anext_or_none(lazy)
    while heap or pending is not None:
        while pending is not None and (not heap or -heap[0][0] <= pending[0].timestamp()):
            await push(pending[1])
            pending = await anext_or_none(lazy) if lazy is not None else None
        if not heap:
            continue
        _, _, item, stream = heapq.heappop(heap)
        yield item
        await push(stream)


async def anext_or_none(
    iterator: AsyncIterator[tuple[datetime, AsyncIterator[Message]]],
) -> tuple[datetime, AsyncIterator[Message]] | None:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        return None
