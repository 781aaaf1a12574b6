"""Helpers of the auth tests: the OAuth 2 server's description, a headless browser, log capture."""

from __future__ import annotations

import contextlib
import html
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

CONFIDENTIAL_SECRET = "socialkit-test-confidential-secret-7f3a9c"


@dataclass(frozen=True)
class OIDCServer:
    issuer: str
    public_client_id: str = "socialkit-public"
    public_redirect_uri: str = "http://127.0.0.1/callback"
    confidential_client_id: str = "socialkit-confidential"
    confidential_secret: str = CONFIDENTIAL_SECRET
    confidential_redirect_uri: str = "http://127.0.0.1/cb"

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/auth"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def revocation_endpoint(self) -> str:
        return f"{self.issuer}/token/revocation"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.issuer}/me"


_FORM = re.compile(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S)
_INPUT = re.compile(r"<input([^>]*)>", re.S)
_ATTR = re.compile(r"(\w+)=\"([^\"]*)\"")


def _form_fields(body: str) -> tuple[str, dict[str, str]]:
    match = _FORM.search(body)
    assert match, "no form on the interaction page"
    action = html.unescape(match.group(1))
    fields: dict[str, str] = {}
    for raw in _INPUT.findall(match.group(2)):
        attrs = dict(_ATTR.findall(raw))
        name = attrs.get("name")
        if not name:
            continue
        if name == "login":
            fields[name] = "alice"
        elif name == "password":
            fields[name] = "any-password"
        else:
            fields[name] = html.unescape(attrs.get("value", ""))
    return action, fields


async def authorize_in_browser(authorization_url: str, redirect_prefix: str) -> str:
    """Follow the authorization URL like a browser whose user logs in and consents.

    Returns the final redirect URL (``redirect_prefix?code=…&state=…&iss=…``), without
    requesting it.
    """
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as browser:
        url = authorization_url
        for _ in range(20):
            response = await browser.get(url)
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                if url.startswith(redirect_prefix):
                    return url
                continue
            assert response.status_code == 200, (response.status_code, response.text[:500])
            action, fields = _form_fields(response.text)
            submitted = await browser.post(urljoin(url, action), data=fields)
            assert submitted.is_redirect, (submitted.status_code, submitted.text[:500])
            url = urljoin(url, submitted.headers["location"])
            if url.startswith(redirect_prefix):
                return url
        raise AssertionError("the authorization did not redirect back")


@contextlib.contextmanager
def captured_logs() -> Iterator[list[str]]:
    """Every log record of the process at DEBUG, formatted with its arguments."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    root = logging.getLogger()
    old = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield records
    finally:
        root.removeHandler(handler)
        root.setLevel(old)
