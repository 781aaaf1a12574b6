"""Settings of the Pinterest adapter (validated by :func:`socialkit.connect`), and the OAuth 2
scopes it asks for by default."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from socialkit.adapters._base import AdapterSettings, HttpURL

__all__ = ["DEFAULT_SCOPES", "PinterestSettings"]

#: Scopes asked for by default (https://developers.pinterest.com/docs/getting-started/scopes/):
#: read and write boards and pins, read the account and its analytics.
DEFAULT_SCOPES: tuple[str, ...] = (
    "boards:read",
    "boards:write",
    "pins:read",
    "pins:write",
    "user_accounts:read",
)


class PinterestSettings(AdapterSettings):
    """Settings of the Pinterest adapter (an app from https://developers.pinterest.com/apps/).

    ``client_id`` and ``client_secret`` with a ``refresh_token`` (from ``socialkit auth login
    pinterest``, or a token already in the token store): access tokens (30 days) are refreshed
    through :class:`socialkit.auth.OAuth2Auth`, and a rotated refresh token is saved before it
    is used. ``access_token`` alone is used as is until it expires.

    Every pin goes to a board: ``board_id`` is the default one; :meth:`PinterestAdapter.ex_publish`
    takes another board (and section) per pin.
    """

    base_url: HttpURL = Field(
        default="https://api.pinterest.com/v5", description="The API root, with its /v5."
    )
    authorize_url: str = Field(
        default="https://www.pinterest.com/oauth/",
        pattern=r"^https?://\S+$",
        description="Where users authorize the app (securitySchemes.pinterest_oauth2).",
    )
    token_url: HttpURL | None = Field(
        default=None, description="The token endpoint; default <base_url>/oauth/token."
    )
    client_id: str | None = Field(default=None, pattern=r"^[0-9]{1,20}$")
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    board_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]{1,25}$",
        description="The board pins go to unless ex_publish names another.",
    )
    board_section_id: str | None = Field(
        default=None, pattern=r"^[0-9]{1,25}$", description="A section of board_id, optional."
    )
    metrics_days: int = Field(
        default=30,
        ge=1,
        le=90,
        description="Days of analytics metrics() sums, ending today (Pinterest keeps 90).",
    )
    bulk_analytics: bool = Field(
        default=False,
        description="metrics() through GET /pins/analytics, 100 pins a call (a beta Pinterest "
        "opens to some apps only); default: one GET /pins/{pin_id}/analytics per pin.",
    )
    media_timeout: float = Field(
        default=600.0, gt=0, description="Longest wait, seconds, for a video to be processed."
    )
    reconcile_margin: float = Field(
        default=60.0, ge=0, description="Seconds before an unanswered create its pin may carry."
    )

    @model_validator(mode="after")
    def _credentials(self) -> PinterestSettings:
        problems = []
        if self.refresh_token is not None and (
            self.client_id is None or self.client_secret is None
        ):
            problems.append("a refresh_token needs the client_id and client_secret that got it")
        if self.client_secret is not None and self.client_id is None:
            problems.append("client_secret without client_id")
        if self.board_section_id is not None and self.board_id is None:
            problems.append("board_section_id needs the board_id it belongs to")
        # Without a token here, one may be in the store (``socialkit auth login pinterest``):
        # ``ensure_credentials`` checks that on ``async with``.
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def token_endpoint(self) -> str:
        return self.token_url or f"{self.base_url}/oauth/token"
