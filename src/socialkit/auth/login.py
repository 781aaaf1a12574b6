"""The login protocol: what an adapter implements so that ``socialkit auth login`` logs in to it.

An OAuth 2 adapter implements :class:`OAuthLogin`: two methods (usually two lines each over
:class:`~socialkit.auth.OAuth2Client`) and the class attribute ``login_settings``::

    class MyAdapter(Adapter):
        login_settings: ClassVar[tuple[str, ...]] = ("client_id", "client_secret")

        def ex_authorization_url(self, *, redirect_uri=None, scopes=None):
            return self._oauth2().begin(redirect_uri=redirect_uri, scopes=scopes)

        async def ex_exchange_code(self, request, redirect):
            token = await self._oauth2().complete(request, redirect)
            await self._tokens().put(self.name, self._account_key, token)
            return token

``login_settings`` names the settings a user gives for a login (the command prompts for
those missing, hiding ``SecretStr`` ones). Those among them that a login can do without (a
Facebook Page id, needed only when the user manages several Pages) are also named in the
optional class attribute ``optional_login_settings``: the command does not prompt for them, and
takes them from ``--set`` when given. An adapter without the two methods may still set
``login_settings`` (a bot token, an app password): the command then checks them with ``me()``
and stores them. An OAuth adapter's ``ensure_credentials`` raises
:class:`~socialkit.auth.AuthFlowError` while no token is available; when the settings given
are enough without a token (Reddit's script apps: a password grant), the command checks them
with ``me()`` instead of opening a browser.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from socialkit.auth.oauth2 import AuthorizationRequest
    from socialkit.auth.tokens import Token

__all__ = ["OAuthLogin", "login_settings", "supports_oauth_login"]


@runtime_checkable
class OAuthLogin(Protocol):
    """An adapter that logs in through an OAuth 2 authorization code flow (with PKCE).

    ``ex_authorization_url`` starts a login (no request): open ``result.url``, keep
    ``result``. ``ex_exchange_code`` checks the redirect's ``state``, exchanges the code and
    stores the token for the adapter's account (replacing the stored one); it returns it.
    """

    login_settings: ClassVar[tuple[str, ...]]

    def ex_authorization_url(
        self, *, redirect_uri: str | None = None, scopes: Iterable[str] | None = None
    ) -> AuthorizationRequest: ...

    async def ex_exchange_code(
        self, request: AuthorizationRequest, redirect: str | Mapping[str, str]
    ) -> Token: ...


def supports_oauth_login(adapter: object) -> bool:
    """Whether an adapter (or adapter class) implements :class:`OAuthLogin`."""
    return (
        callable(getattr(adapter, "ex_authorization_url", None))
        and callable(getattr(adapter, "ex_exchange_code", None))
        and isinstance(getattr(adapter, "login_settings", None), tuple)
    )


def login_settings(adapter: object) -> tuple[str, ...] | None:
    """The ``login_settings`` of an adapter (or adapter class); ``None`` when it declares none
    (``socialkit auth login`` does not know how to log in to it)."""
    found = getattr(adapter, "login_settings", None)
    if isinstance(found, tuple) and all(isinstance(n, str) for n in found):
        return found
    return None
