"""Settings of the X adapter (validated by :func:`socialkit.connect`), and the OAuth 2.0 scopes
it asks for by default."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from socialkit.adapters._base import AdapterSettings, HttpURL

__all__ = ["DEFAULT_SCOPES", "XSettings"]

_MiB = 1024 * 1024

#: OAuth 2.0 scopes asked for by default: post, read, upload media, DMs, and a refresh token.
DEFAULT_SCOPES: tuple[str, ...] = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "media.write",
    "dm.read",
    "dm.write",
    "offline.access",
)


class XSettings(AdapterSettings):
    """Settings of the X adapter. Exactly one way to authenticate:

    - OAuth 2.0 user context: ``client_id`` (and ``client_secret`` for confidential clients),
      with ``access_token`` and ``refresh_token`` or a token already in the token store (from
      :meth:`XAdapter.ex_exchange_code`). Tokens are refreshed, and the rotated refresh token
      saved, through :class:`socialkit.auth.OAuth2Auth`. ``access_token`` alone is a
      user token used as is until it expires (two hours).
    - OAuth 1.0a user context: ``consumer_key``, ``consumer_secret``, ``access_token``,
      ``access_token_secret``.
    - App-only: ``bearer_token`` (public reads: posts, search, public metrics, other accounts;
      set ``user_id`` to read one account's posts and mentions by default).
    """

    base_url: HttpURL = Field(default="https://api.x.com", description="The API host.")
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    authorize_url: str = Field(
        default="https://x.com/i/oauth2/authorize",
        description="Where users authorize the app (docs.x.com, OAuth 2.0 with PKCE).",
    )
    token_url: str | None = Field(
        default=None, description="The token endpoint; default <base_url>/2/oauth2/token."
    )
    consumer_key: str | None = None
    consumer_secret: SecretStr | None = None
    access_token_secret: SecretStr | None = None
    bearer_token: SecretStr | None = None
    user_id: str | None = Field(
        default=None, pattern=r"^[0-9]{1,19}$", description="The account's numeric id."
    )
    chunk_size: int = Field(
        default=4 * _MiB, ge=64 * 1024, le=5 * _MiB, description="Bytes per media upload chunk."
    )
    media_timeout: float = Field(
        default=600.0, gt=0, description="Longest wait, in seconds, for media processing."
    )
    reconcile_margin: float = Field(
        default=30.0,
        ge=0,
        description="Seconds before an unanswered create that its post may carry (clock skew).",
    )

    @model_validator(mode="after")
    def _one_auth(self) -> XSettings:
        oauth1 = self.consumer_key is not None or self.access_token_secret is not None
        oauth2 = self.client_id is not None or self.refresh_token is not None
        app = self.bearer_token is not None
        problems = []
        if oauth1:
            missing = [
                name
                for name in (
                    "consumer_key",
                    "consumer_secret",
                    "access_token",
                    "access_token_secret",
                )
                if getattr(self, name) is None
            ]
            if missing:
                problems.append("OAuth 1.0a needs " + ", ".join(missing))
            if oauth2:
                problems.append("give either OAuth 1.0a keys or OAuth 2.0 client settings")
        elif self.consumer_secret is not None and not app:
            problems.append("consumer_secret without consumer_key")
        if oauth2 and self.refresh_token is not None and self.client_id is None:
            problems.append("a refresh_token needs the client_id that obtained it")
        if app and (oauth1 or oauth2 or self.access_token is not None):
            problems.append(
                "bearer_token is app-only authentication: do not combine it with user tokens"
            )
        if not (oauth1 or oauth2 or app or self.access_token is not None):
            problems.append(
                "no credentials: give an OAuth 2.0 user token (access_token, refresh_token, "
                "client_id), OAuth 1.0a keys (consumer_key, consumer_secret, access_token, "
                "access_token_secret) or an app-only bearer_token; or run "
                "`socialkit auth login x` to log in and store a token"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def auth_mode(self) -> Literal["oauth2", "oauth1", "app"]:
        if self.consumer_key is not None:
            return "oauth1"
        if self.bearer_token is not None:
            return "app"
        return "oauth2"
