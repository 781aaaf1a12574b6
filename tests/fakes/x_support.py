"""What the FakeX tests share: recording the adapter's traffic and checking every exchange
against the official description (``../shared/specs/x/openapi.json``, read in place).

Requests are validated with ``tests._validation.OpenAPIChecker`` (openapi-core: path, method,
parameters, body, credentials); JSON responses against the schema of their operation and
status. Problem documents (``application/problem+json``) are checked against
``#/components/schemas/Problem`` with openapi-schema-validator, because openapi-core does not
deserialize that media type (the same approach as tests/adapters/x/x_fixtures.py).
"""

from __future__ import annotations

import functools
import json
from typing import Any
from urllib.parse import parse_qs

import httpx
from openapi_schema_validator import OAS30Validator
from tests._specs import specs_dir
from tests._validation import OpenAPIChecker

from socialkit.testing.fakes.x import FakeX

TOKEN_PATH = "/2/oauth2/token"


@functools.cache
def x_checker() -> OpenAPIChecker:
    """The checker of openapi.json for the fake's base URL (the document is loaded once)."""
    return OpenAPIChecker(specs_dir("x", "openapi.json"), server_url=FakeX.default_base_url)


def _is_json(content_type: str) -> bool:
    mime = content_type.split(";")[0].strip().lower()
    return mime == "application/json" or mime.endswith("+json")


def check_problem(status: int, body: Any) -> None:
    """A problem document: types of the description's ``Problem`` mapping must match their
    schema; the others (``about:blank``, ``unsupported-authentication``, which the X reference
    "Response codes and errors" lists beyond the description) must carry the RFC 7807 members."""
    assert isinstance(body, dict), body
    document = x_checker().loaded.document
    mapping = document["components"]["schemas"]["Problem"]["discriminator"]["mapping"]
    if body.get("type") in mapping:
        schema = {"$ref": "#/components/schemas/Problem", "components": document["components"]}
        errors = sorted(OAS30Validator(schema).iter_errors(body), key=str)
        assert not errors, "problem document does not match Problem: " + "; ".join(
            e.message for e in errors[:3]
        )
    else:
        for member in ("type", "title", "detail"):
            assert isinstance(body.get(member), str), (member, body)
            assert body[member], (member, body)
        assert body.get("status") == status, body


def check_exchange(
    request: httpx.Request, response: httpx.Response, *, check_request: bool = True
) -> None:
    """Raise AssertionError when the request or the fake's answer departs from the
    description (``check_request=False``: the answer only, for deliberately bad requests)."""
    if request.url.path == TOKEN_PATH:
        # The token endpoint is not a path of openapi.json (it is named only as
        # securitySchemes.OAuth2UserToken.flows.authorizationCode.tokenUrl); check the RFC 6749
        # section 6 refresh request and answer instead.
        form = parse_qs(request.content.decode())
        assert request.method == "POST"
        assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
        assert form.get("grant_type") == ["refresh_token"]
        if response.status_code == 200:
            answer = json.loads(response.content)
            assert answer["token_type"].lower() == "bearer"
            assert isinstance(answer["access_token"], str)
            assert isinstance(answer["expires_in"], int)
        return
    api = x_checker()
    if check_request:
        api.check_request(request)
    content_type = response.headers.get("content-type", "")
    assert _is_json(content_type), f"the fake answered {content_type!r}"
    if response.status_code >= 400 and content_type.startswith("application/problem+json"):
        check_problem(response.status_code, json.loads(response.content))
        return
    api.check_response(request, response)


class Traffic:
    """Records every exchange of an ``httpx.AsyncClient`` (a response event hook) and checks
    them all in :meth:`verify`."""

    def __init__(self) -> None:
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def attach(self, client: httpx.AsyncClient) -> None:
        client.event_hooks["response"].append(self._record)

    async def _record(self, response: httpx.Response) -> None:
        await response.aread()
        self.exchanges.append((response.request, response))

    def calls(self, method: str, path: str) -> list[tuple[httpx.Request, httpx.Response]]:
        return [
            (rq, rs) for rq, rs in self.exchanges if rq.method == method and rq.url.path == path
        ]

    def verify(self) -> None:
        assert self.exchanges, "no traffic was recorded"
        problems = []
        for request, response in self.exchanges:
            try:
                check_exchange(request, response)
            except AssertionError as exc:
                problems.append(f"{request.method} {request.url} -> {response.status_code}: {exc}")
        if problems:
            raise AssertionError(
                f"{len(problems)} exchange(s) do not conform to openapi.json:\n"
                + "\n".join(problems)
            )
