"""Settings of the Bluesky adapter (validated by :func:`socialkit.connect`)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from socialkit.adapters._base import AdapterSettings, HttpURL
from socialkit.adapters.bluesky._oauth import check_client_id

__all__ = ["BlueskySettings"]

#: The chat service the PDS proxies chat.bsky.* to (the atproto-proxy header).
CHAT_PROXY = "did:web:api.bsky.chat#bsky_chat"

# Handle and DID syntax (atproto.com/specs/handle, /specs/did): the identifier setting is one.
_HANDLE = (
    r"([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+"
    r"[a-zA-Z]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
)
_DID = r"did:[a-z]+:[a-zA-Z0-9._:%-]*[a-zA-Z0-9._-]"
_ACTOR = f"({_DID}|{_HANDLE})"


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
    stream_source: Literal["repos", "jetstream"] = Field(
        default="repos",
        description=(
            "What stream() reads: the repository event stream (com.atproto.sync.subscribeRepos) "
            "or Jetstream's JSON events."
        ),
    )
    stream_url: str | None = Field(
        default=None,
        description=(
            "The network-wide stream stream() reads by default: a relay (wss://bsky.network) "
            "or a Jetstream /subscribe URL. Unset: the account's own PDS, which carries only "
            "the repositories it hosts (so mentions and queries need this setting)."
        ),
    )

    @field_validator("identifier")
    @classmethod
    def _identifier(cls, value: str) -> str:
        text = value.strip().lstrip("@")
        if re.fullmatch(_ACTOR, text) is None:
            raise ValueError("must be a handle (alice.bsky.social) or a DID (did:plc:…)")
        return text

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
