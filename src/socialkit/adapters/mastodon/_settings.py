"""Settings of the Mastodon adapter (validated by :func:`socialkit.connect`)."""

from __future__ import annotations

import httpx
from pydantic import Field, SecretStr, field_validator

from socialkit.adapters._base import AdapterSettings

__all__ = ["MastodonSettings"]


class MastodonSettings(AdapterSettings):
    """Settings of the Mastodon adapter."""

    instance: str = Field(
        default="https://mastodon.social",
        description="Base URL of the Mastodon server (https://…).",
    )
    access_token: SecretStr | None = Field(
        default=None,
        description=(
            "A user access token. Optional when a token for this account is in the token store "
            "(ex_exchange_code saves one)."
        ),
    )
    client_id: SecretStr | None = Field(default=None, description="App client id (login).")
    client_secret: SecretStr | None = Field(default=None, description="App secret (login).")
    media_timeout: float = Field(
        default=600.0, gt=0, description="Seconds to wait for the server to process media."
    )
    media_poll_interval: float = Field(
        default=1.0, gt=0, description="First wait between media status checks (grows to 5 s)."
    )
    media_max_polls: int = Field(
        default=300, ge=1, description="Most media status checks per attachment."
    )

    @field_validator("instance")
    @classmethod
    def _instance(cls, value: str) -> str:
        try:
            url = httpx.URL(value)
        except (httpx.InvalidURL, TypeError):
            raise ValueError("instance is not a valid URL") from None
        if url.scheme not in ("https", "http") or not url.host:
            raise ValueError(
                "instance must be an absolute http(s) URL, e.g. https://mastodon.social"
            )
        if url.query or url.fragment:
            raise ValueError("instance must not have a query or fragment")
        return str(url).rstrip("/")
