"""What the X tests share: building the adapter, and checking every exchange against the
official description (``../shared/specs/x/openapi.json``) with ``tests._validation``.

Every request goes through :meth:`XFixtures.check_exchange` (the conformance ``router`` fixture
calls it at teardown for every call), which validates it with ``OpenAPIChecker`` (openapi-core:
path, method, parameters, body, credentials) and validates the mocked response against the
schema of its operation and status.
"""

from __future__ import annotations

import functools
import json
from typing import Any, ClassVar
from urllib.parse import parse_qs

import httpx
import pytest
from openapi_schema_validator import OAS30Validator
from tests._specs import specs_dir
from tests._validation import OpenAPIChecker
from x_bodies import BASE

from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters.x import XAdapter
from socialkit.testing import conformance as c

ACCESS = "at-secret-0123456789"
REFRESH = "rt-secret-0123456789"
CLIENT_SECRET = "cs-secret-0123456789"
CONSUMER_SECRET = "consumer-secret-0123456789"
TOKEN_SECRET = "token-secret-0123456789"
BEARER = "app-bearer-0123456789"


@functools.cache
def x_checker() -> OpenAPIChecker:
    """The checker of openapi.json (loaded once per process: the document is large)."""
    return OpenAPIChecker(specs_dir() / "x" / "openapi.json", server_url=BASE)


def oauth2_settings(**extra: Any) -> dict[str, Any]:
    return {
        "base_url": BASE,
        "client_id": "client-id-123",
        "client_secret": CLIENT_SECRET,
        "access_token": ACCESS,
        "refresh_token": REFRESH,
        "store": MemoryStore(),
        "retry_wait": False,
        **extra,
    }


def oauth1_settings(**extra: Any) -> dict[str, Any]:
    return {
        "base_url": BASE,
        "consumer_key": "consumer-key-123",
        "consumer_secret": CONSUMER_SECRET,
        "access_token": ACCESS,
        "access_token_secret": TOKEN_SECRET,
        "retry_wait": False,
        **extra,
    }


def make_x(http: httpx.AsyncClient, **settings: Any) -> XAdapter:
    values = settings or oauth2_settings()
    values.setdefault("retry_wait", False)
    values.setdefault("base_url", BASE)
    adapter = XAdapter(build_settings(XAdapter, values), http=http)

    async def no_sleep(seconds: float) -> None:
        adapter.slept.append(seconds)  # type: ignore[attr-defined]

    adapter.slept = []  # type: ignore[attr-defined]
    adapter._sleep = no_sleep
    return adapter


def _is_json(content_type: str) -> bool:
    mime = content_type.split(";")[0].strip().lower()
    return mime == "application/json" or mime.endswith("+json")


class XFixtures(c.AdapterFixtures):
    base_url: ClassVar[str] = BASE
    pytestmark = pytest.mark.spec

    def make_adapter(self, http: httpx.AsyncClient) -> XAdapter:
        return make_x(http, **oauth2_settings())

    def secrets(self) -> list[str]:
        return [ACCESS, REFRESH, CLIENT_SECRET]

    # -- validation of every exchange ----------------------------------------------------------

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        api = x_checker()
        if request.url.path == "/2/oauth2/token":
            # The token endpoint is not a path of openapi.json: the description names it only
            # as securitySchemes.OAuth2UserToken.flows.authorizationCode.tokenUrl
            # (https://api.x.com/2/oauth2/token). Check the RFC 6749 refresh request instead.
            form = parse_qs(request.content.decode())
            assert request.method == "POST"
            assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
            assert form.get("grant_type") in (["refresh_token"], ["authorization_code"])
            return
        api.check_request(request)
        if response is None:
            return
        content_type = response.headers.get("content-type", "")
        try:
            body = json.loads(response.content) if _is_json(content_type) else None
        except ValueError:
            # The conformance suite's deliberately broken body ("{not json"): nothing to check.
            return
        if body is None:
            # Non-JSON bodies (an HTML 502 from a proxy) are not X's and not described.
            assert response.status_code >= 500, "only a failing proxy answers without JSON"
            return
        if response.status_code >= 400 and content_type.startswith("application/problem+json"):
            self._check_problem(response.status_code, body)
            return
        api.check_response(request, response)

    def _check_problem(self, status: int, body: Any) -> None:
        """openapi-core (0.23) does not deserialize ``application/problem+json`` bodies (it
        reports every one as "not of type 'object'"), so problem documents are validated here
        against ``#/components/schemas/Problem`` of the same document with
        openapi-schema-validator. Problem types the description omits (``about:blank`` and the
        others the X reference lists, e.g. ``usage-capped``) must at least carry the RFC 7807
        members that reference page names."""
        assert isinstance(body, dict)
        document = x_checker().loaded.document
        mapping = document["components"]["schemas"]["Problem"]["discriminator"]["mapping"]
        if body.get("type") in mapping:
            schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
            errors = sorted(OAS30Validator(schema).iter_errors(body), key=str)
            assert not errors, "problem document does not match Problem: " + "; ".join(
                e.message for e in errors[:3]
            )
        else:
            assert isinstance(body.get("type"), str)
            assert isinstance(body.get("title"), str)
            assert body["type"]
            assert body["title"]
            assert isinstance(body.get("detail"), str)
            assert body.get("status") == status
