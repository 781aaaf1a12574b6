"""Settings of the LinkedIn adapter."""

from __future__ import annotations

from pydantic import Field, SecretStr, model_validator

from socialkit.adapters._base import AdapterSettings, HttpURL

__all__ = ["AUTHOR_URN", "DEFAULT_SCOPES", "LinkedInSettings"]

#: A post's author: a member (``urn:li:person:…``) or an organization (``urn:li:organization:…``).
AUTHOR_URN = r"urn:li:(?:person|organization):[A-Za-z0-9_-]{1,64}"

#: Scopes asked for by default: sign-in (``openid``, ``profile``) and posting as the member.
#: An organization's page needs ``w_organization_social``, ``r_organization_social`` and
#: ``rw_organization_admin`` (statistics) instead; see ``docs/networks/linkedin.md``.
DEFAULT_SCOPES: tuple[str, ...] = ("openid", "profile", "w_member_social")


class LinkedInSettings(AdapterSettings):
    """Settings of the LinkedIn adapter (an app from https://www.linkedin.com/developers/apps).

    ``client_id`` and ``client_secret`` with a token stored by ``socialkit auth login
    linkedin`` (or given as ``access_token``, and ``refresh_token`` where LinkedIn granted the
    app refresh tokens); ``access_token`` alone is used as is until it expires (60 days).
    ``author`` is who posts: an organization's URN, or by default the member who logged in.
    """

    base_url: HttpURL = Field(default="https://api.linkedin.com", description="The API host.")
    authorize_url: HttpURL = Field(default="https://www.linkedin.com/oauth/v2/authorization")
    token_url: HttpURL = Field(default="https://www.linkedin.com/oauth/v2/accessToken")
    client_id: str | None = None
    client_secret: SecretStr | None = None
    access_token: SecretStr | None = None
    refresh_token: SecretStr | None = None
    redirect_uri: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    author: str | None = Field(
        default=None,
        pattern=rf"^{AUTHOR_URN}$",
        description="Who posts: urn:li:organization:… or urn:li:person:… (default: the member).",
    )
    version: str = Field(
        default="202511",
        pattern=r"^20[0-9]{2}(0[1-9]|1[0-2])$",
        description="The LinkedIn-Version header (YYYYMM): the API version every call asks for.",
    )
    media_timeout: float = Field(
        default=600.0, gt=0, description="Longest wait, seconds, for an upload to be AVAILABLE."
    )
    reconcile_margin: float = Field(
        default=60.0, ge=0, description="Seconds before an unanswered create its post may carry."
    )
    message_posts: int = Field(
        default=20, ge=1, le=100, description="How many recent posts messages() reads comments of."
    )

    @model_validator(mode="after")
    def _credentials(self) -> LinkedInSettings:
        problems = []
        if self.refresh_token is not None and (
            self.client_id is None or self.client_secret is None
        ):
            problems.append("a refresh_token needs the client_id and client_secret that got it")
        if (
            self.require_credentials
            and self.access_token is None
            and (self.client_id is None or self.client_secret is None)
        ):
            problems.append(
                "no credentials: give client_id and client_secret and log in with "
                "`socialkit auth login linkedin`, or pass an access_token"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self
