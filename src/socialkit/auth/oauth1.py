"""OAuth 1.0a request signing (RFC 5849), as X's user context needs it.

The signature (HMAC-SHA1 by default, the nonce, the timestamp, the ``Authorization: OAuth …``
header) is computed by authlib's ``authlib.oauth1.ClientAuth``. authlib's own httpx wrapper
(``authlib.integrations.httpx_client.OAuth1Auth``) is not used because it rebuilds the request
from the signer's output, which replaces any body that is not a form (X API v2's JSON bodies)
with an empty one; here only the ``Authorization`` header is taken from the signer and the
request is otherwise sent as it was built.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx
from authlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_PLAINTEXT
from authlib.oauth1 import ClientAuth as _OAuth1Signer
from pydantic import SecretStr

from socialkit._errors import ConfigurationError

__all__ = ["OAuth1Auth"]

_FORM = "application/x-www-form-urlencoded"
_METHODS = (SIGNATURE_HMAC_SHA1, SIGNATURE_PLAINTEXT)


def _secret(value: str | SecretStr | None) -> SecretStr | None:
    if value is None or isinstance(value, SecretStr):
        return value
    return SecretStr(value)


class OAuth1Auth(httpx.Auth):
    """Signs every request with OAuth 1.0a (consumer key and secret, access token and secret).

    Form bodies (``application/x-www-form-urlencoded``) are part of the signature, as RFC 5849
    section 3.4.1.3 requires; JSON and multipart bodies are not (X signs only the URL and the
    OAuth parameters for them). Secrets are :class:`~pydantic.SecretStr`; the repr shows the
    consumer key only.
    """

    requires_request_body = True

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str | SecretStr,
        token: str | SecretStr | None = None,
        token_secret: str | SecretStr | None = None,
        *,
        signature_method: str = SIGNATURE_HMAC_SHA1,
        realm: str | None = None,
    ) -> None:
        if not consumer_key:
            raise ConfigurationError("OAuth1Auth needs a consumer key")
        if signature_method not in _METHODS:
            raise ConfigurationError(
                f"Unsupported OAuth 1 signature method {signature_method!r}; "
                f"use one of {', '.join(_METHODS)}"
            )
        self.consumer_key = consumer_key
        self.consumer_secret = _secret(consumer_secret)
        self.token = _secret(token)
        self.token_secret = _secret(token_secret)
        if (self.token is None) != (self.token_secret is None):
            raise ConfigurationError("OAuth1Auth needs both the access token and its secret")
        from socialkit._http._redact import register_secret

        register_secret(self.consumer_secret, self.token, self.token_secret)
        self.signature_method = signature_method
        self.realm = realm

    def __repr__(self) -> str:
        return (
            f"OAuth1Auth(consumer_key={self.consumer_key!r}, "
            f"signature_method={self.signature_method!r}, secrets='**********')"
        )

    def _signer(self) -> _OAuth1Signer:
        # A signer per request: cheap, and the secrets stay in SecretStr between requests.
        return _OAuth1Signer(
            self.consumer_key,
            client_secret=self.consumer_secret.get_secret_value() if self.consumer_secret else None,
            token=self.token.get_secret_value() if self.token else None,
            token_secret=self.token_secret.get_secret_value() if self.token_secret else None,
            signature_method=self.signature_method,
            realm=self.realm,
        )

    def authorization_header(self, request: httpx.Request) -> str:
        """The ``Authorization`` header value for ``request`` (its body must be read)."""
        content_type = request.headers.get("Content-Type", "")
        headers = {"Content-Type": content_type} if content_type else {}
        body: bytes = request.content if _FORM in content_type else b""
        _, signed, _ = self._signer().prepare(request.method, str(request.url), headers, body)
        return str(signed["Authorization"])

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.authorization_header(request)
        yield request
