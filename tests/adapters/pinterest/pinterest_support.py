"""What the Pinterest tests share: the checker of the official description
(``../shared/specs/pinterest/openapi.json`` 5.23.0, loaded once per run through
``tests._specs``), and recording a client's traffic to check every exchange against it.

Requests are validated with ``tests._validation.OpenAPIChecker`` (openapi-core: path, method,
parameters, body, credentials: ``Authorization: Bearer`` for the API, HTTP Basic for
``POST /oauth/token``); answers against the schema of their operation and status. The one
request outside the description is the video upload to the ``upload_url`` that
``POST /media`` returns (an S3 form POST to another host, ``MediaUpload.upload_url``): it is
checked for the form fields ``upload_parameters`` named, not against ``openapi.json``.
"""

from __future__ import annotations

import functools
import json

import httpx
from tests._specs import specs_dir
from tests._validation import OpenAPIChecker

from socialkit.testing.fakes.pinterest import FakePinterest

BASE = "https://api.pinterest.example/v5"


@functools.cache
def pinterest_checker(server_url: str = BASE) -> OpenAPIChecker:
    """The checker of openapi.json for ``server_url`` (the document itself is loaded once)."""
    return OpenAPIChecker(specs_dir("pinterest", "openapi.json"), server_url=server_url)


def is_upload(request: httpx.Request) -> bool:
    """The S3 form upload of a video (``upload_url``), not a path of openapi.json."""
    return request.method == "POST" and "/_upload/" in request.url.path


def check_exchange(
    checker: OpenAPIChecker, request: httpx.Request, response: httpx.Response | None
) -> None:
    if is_upload(request):
        content_type = request.headers.get("content-type", "")
        assert content_type.startswith("multipart/form-data"), content_type
        assert "authorization" not in request.headers, "the upload goes without the token"
        return
    checker.check_request(request)
    if response is None or response.status_code == 204:
        return
    try:
        json.loads(response.content)
    except ValueError:
        # The conformance suite's deliberately broken bodies ("{not json", a proxy's HTML
        # 502): not Pinterest's, and not described.
        assert response.status_code >= 500 or response.status_code == 200
        return
    checker.check_response(request, response)


class Traffic:
    """Records every exchange of an ``httpx.AsyncClient`` and checks them in :meth:`verify`."""

    def __init__(self, server_url: str = FakePinterest.default_base_url) -> None:
        self.checker = pinterest_checker(server_url)
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def attach(self, client: httpx.AsyncClient) -> httpx.AsyncClient:
        client.event_hooks["response"].append(self._record)
        return client

    async def _record(self, response: httpx.Response) -> None:
        await response.aread()
        self.exchanges.append((response.request, response))

    def verify(self) -> None:
        assert self.exchanges, "no traffic was recorded"
        problems = []
        for request, response in self.exchanges:
            try:
                check_exchange(self.checker, request, response)
            except AssertionError as exc:
                problems.append(f"{request.method} {request.url} -> {response.status_code}: {exc}")
        if problems:
            raise AssertionError(
                f"{len(problems)} exchange(s) do not conform to openapi.json:\n"
                + "\n".join(problems)
            )
