"""Authorization codes for the fakes' OAuth 2 logins: the owner approves at once.

A fake serves ``authorize`` at its network's authorization path (a ``GET`` that redirects to
``redirect_uri`` with ``code`` and ``state``, as after the user clicked "Authorize" on the
network's page) and redeems the code at its token endpoint with ``redeem``, which checks the
client, the redirect URI and the PKCE verifier (RFC 6749 section 4.1, RFC 7636). ``approve``
is the same approval without HTTP (the redirect URL, for tests that drive an adapter's
``ex_exchange_code`` themselves).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.responses import JSONResponse, RedirectResponse, Response

__all__ = ["CodeGrants"]


@dataclass(frozen=True)
class _Grant:
    client_id: str
    redirect_uri: str
    user_id: str
    scope: str
    challenge: str | None


class CodeGrants:
    """The codes one fake issued and not yet redeemed.

    ``client_id_parameter`` is the query parameter naming the client (TikTok: ``client_key``);
    ``challenge`` how the PKCE challenge is checked: ``base64url`` (RFC 7636), ``hex``
    (TikTok's Login Kit for Desktop) or ``None`` (not checked, as Reddit); with
    ``challenge_required=False`` a request without one is accepted (PKCE optional, as Meta's).
    """

    def __init__(
        self,
        client_id: str,
        *,
        client_id_parameter: str = "client_id",
        challenge: Literal["base64url", "hex"] | None = "base64url",
        scope_separator: str = " ",
        challenge_required: bool = True,
    ) -> None:
        self.client_id = client_id
        self.client_id_parameter = client_id_parameter
        self.challenge = challenge
        self.challenge_required = challenge_required
        self.scope_separator = scope_separator
        self.approved = 0
        self._grants: dict[str, _Grant] = {}

    def authorize(self, query: Mapping[str, str], user_id: str) -> Response:
        """The authorization endpoint: a 302 to ``redirect_uri`` with a code (400 when the
        request is not one the network would accept)."""
        redirect_uri = query.get("redirect_uri") or ""
        problem = None
        if query.get(self.client_id_parameter) != self.client_id:
            problem = "invalid_client"
        elif not redirect_uri.startswith(("http://127.0.0.1:", "http://localhost:", "https://")):
            problem = "invalid_redirect_uri"
        elif query.get("response_type") != "code":
            problem = "unsupported_response_type"
        elif self.challenge is not None and (
            (self.challenge_required and not query.get("code_challenge"))
            or (query.get("code_challenge") and query.get("code_challenge_method") != "S256")
        ):
            problem = "invalid_request"
        if problem is not None:
            return JSONResponse({"error": problem}, status_code=400)
        code = secrets.token_urlsafe(24)
        self._grants[code] = _Grant(
            client_id=self.client_id,
            redirect_uri=redirect_uri,
            user_id=user_id,
            scope=query.get("scope", ""),
            challenge=(query.get("code_challenge") or None) if self.challenge is not None else None,
        )
        self.approved += 1
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        return RedirectResponse(f"{redirect_uri}{separator}{urlencode(params)}", 302)

    def approve(self, url: str, user_id: str) -> str:
        """The redirect URL (``code`` and ``state``) the authorization ``url`` leads to once
        ``user_id`` approved it; ``ValueError`` for a request the network would refuse."""
        answer = self.authorize(dict(parse_qsl(urlsplit(url).query)), user_id)
        if answer.status_code != 302:
            raise ValueError(f"the authorization request is refused: {bytes(answer.body).decode()}")
        return answer.headers["location"]

    def redeem(self, form: Mapping[str, str], client_id: str | None) -> _Grant | None:
        """The grant of ``form["code"]`` (used once), or ``None``: unknown code, another client,
        another redirect URI or a verifier that does not match the challenge."""
        grant = self._grants.pop(form.get("code") or "", None)
        if grant is None or client_id != grant.client_id:
            return None
        if form.get("redirect_uri") != grant.redirect_uri:
            return None
        if grant.challenge is not None:
            digest = hashlib.sha256((form.get("code_verifier") or "").encode()).digest()
            expected = (
                digest.hex()
                if self.challenge == "hex"
                else base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            )
            if not secrets.compare_digest(expected, grant.challenge):
                return None
        return grant
