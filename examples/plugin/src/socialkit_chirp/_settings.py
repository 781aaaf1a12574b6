"""Settings of the Chirp adapter (validated by ``socialkit.connect("chirp", ...)``)."""

from __future__ import annotations

import httpx
from pydantic import Field, SecretStr, field_validator
from socialkit import AdapterSettings

__all__ = ["ChirpSettings"]


class ChirpSettings(AdapterSettings):
    """Settings of the Chirp adapter, on top of those every adapter accepts."""

    token: SecretStr = Field(description="An API token (Chirp: Settings → API → New token).")
    base_url: str = Field(
        default="https://api.chirp.example", description="Base URL of the Chirp API."
    )

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        url = httpx.URL(value)
        if url.scheme not in ("https", "http") or not url.host:
            raise ValueError("base_url must be an absolute http(s) URL")
        return str(url).rstrip("/")
