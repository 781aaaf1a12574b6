"""Every adapter that logs in with OAuth 2.0 reports a redirect URI the flow cannot use as a
typed socialkit error naming it, before any request: a ``ConfigurationError`` for the setting
(pydantic's own error escaped from five of the six before they shared
``Adapter._new_oauth2``), a ``ValidationError`` for the argument (a bare ``ValueError``
before)."""

from __future__ import annotations

from typing import Any

import pytest

import socialkit
from socialkit import ConfigurationError, ValidationError

#: The settings each adapter needs to start its OAuth 2.0 flow (client ids and secrets).
OAUTH_ADAPTERS: dict[str, dict[str, Any]] = {
    "x": {"client_id": "app"},
    "linkedin": {"client_id": "app", "client_secret": "app-secret"},
    "pinterest": {"client_id": "1234", "client_secret": "app-secret"},
    "reddit": {
        "client_id": "app",
        "app_type": "installed",
        "user_agent": "script:socialkit.test:1.0 (by /u/socialkit)",
    },
    "tiktok": {"client_key": "app", "client_secret": "app-secret"},
    "youtube": {"client_id": "app", "client_secret": "app-secret"},
}
#: TikTok takes its (loopback) redirect URI per login, not as a setting.
WITH_SETTING = sorted(set(OAUTH_ADAPTERS) - {"tiktok"})


@pytest.mark.parametrize("network", WITH_SETTING)
def test_a_redirect_uri_setting_the_flow_cannot_use_is_a_configuration_error(network: str):
    adapter = socialkit.connect(network, redirect_uri="not a url", **OAUTH_ADAPTERS[network])
    with pytest.raises(ConfigurationError) as caught:
        adapter.ex_authorization_url()
    message = str(caught.value)
    assert f"{network}: invalid OAuth 2.0 settings" in message
    assert "redirect_uri: redirect_uri must be an absolute http(s) URL" in message
    assert "app-secret" not in message


@pytest.mark.parametrize("network", sorted(OAUTH_ADAPTERS))
def test_a_redirect_uri_argument_the_flow_cannot_use_is_a_validation_error(network: str):
    adapter = socialkit.connect(network, **OAUTH_ADAPTERS[network])
    with pytest.raises(ValidationError, match="redirect_uri must be an absolute http"):
        adapter.ex_authorization_url(redirect_uri="ftp://127.0.0.1/callback")


@pytest.mark.parametrize("network", sorted(OAUTH_ADAPTERS))
def test_a_usable_redirect_uri_is_in_the_authorization_url(network: str):
    adapter = socialkit.connect(network, **OAUTH_ADAPTERS[network])
    request = adapter.ex_authorization_url(redirect_uri="http://127.0.0.1:8765/callback")
    assert request.url.startswith("https://")
    assert "redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback" in request.url
