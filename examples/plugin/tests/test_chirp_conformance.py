"""ChirpAdapter against socialkit's conformance suites.

The suites hold the tests; this module holds what is Chirp's: how to build the adapter, and
respx routes with bodies shaped like Chirp's API reference (https://chirp.example/developers,
"Chirp post object", "Error object", "Pagination").
"""

from __future__ import annotations

import json

import httpx
import respx
from pydantic import SecretStr
from socialkit.testing import conformance as c

from socialkit_chirp import ChirpAdapter, ChirpSettings

BASE = "https://api.chirp.example"
TOKEN = "chirp-secret-token-123"
ME = {"id": "7", "handle": "owner", "name": "Owner", "followers": 12}


def post_object(post_id: str, text: str = "hi", reply_to: str | None = None) -> dict[str, object]:
    """A Chirp post object (API reference: "Chirp post object")."""
    return {
        "id": post_id,
        "text": text,
        "url": f"https://chirp.example/@owner/{post_id}",
        "created_at": f"2026-12-01T10:{int(post_id) % 60:02d}:00Z",
        "author": ME,
        "reply_to": reply_to,
        "media": [],
    }


class ChirpFixtures(c.AdapterFixtures):
    base_url = BASE

    def make_adapter(self, http: httpx.AsyncClient) -> ChirpAdapter:
        settings = ChirpSettings(token=SecretStr(TOKEN), base_url=BASE, retry_wait=False)
        return ChirpAdapter(settings, http=http)

    def secrets(self) -> list[str]:
        return [TOKEN]

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        if request.method == "POST" and request.url.path == "/v1/posts":
            assert request.headers.get("idempotency-key"), "a create carries its key"

    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{BASE}/v1/me")

    def probe_ok(self) -> httpx.Response:
        return c.json_response(200, ME)

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        body = {"error": {"code": f"http_{status}", "message": message or f"failed ({status})"}}
        return c.json_response(status, body)

    def rate_limit_headers(self, *, remaining: int, reset_in: float) -> dict[str, str]:
        return {
            "ratelimit-limit": "300",
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(int(reset_in)),
        }

    def mock_publish_text(self, router: respx.MockRouter, text: str) -> str:
        router.post(f"{BASE}/v1/posts").mock(
            return_value=c.json_response(201, post_object("101", text))
        )
        return "101"

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        media = {"id": "55", "url": "https://media.chirp.example/55", "mime_type": "image/png"}
        router.post(f"{BASE}/v1/media").mock(
            return_value=c.json_response(201, {**media, "alt": alt})
        )
        router.post(f"{BASE}/v1/posts").mock(
            return_value=c.json_response(201, post_object("102", text))
        )
        return "102"

    def mock_publish_thread(self, router: respx.MockRouter, texts: list[str]) -> list[str]:
        ids = ["201", "202", "203"]

        def answer(request: httpx.Request) -> httpx.Response:
            body = json.loads(request.content)
            index = texts.index(body["text"])
            assert body.get("reply_to") == (ids[index - 1] if index else None)
            return c.json_response(201, post_object(ids[index], body["text"], body.get("reply_to")))

        router.post(f"{BASE}/v1/posts").mock(side_effect=answer)
        return ids

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        router.post(f"{BASE}/v1/posts").mock(
            return_value=c.json_response(201, post_object("301", text, parent_id))
        )
        return "301"

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        pages = [["60", "59"], ["58", "57"], ["56"]]
        router.get(f"{BASE}/v1/me").mock(return_value=c.json_response(200, ME))

        def answer(request: httpx.Request) -> httpx.Response:
            before = request.url.params.get("before")
            index = {None: 0, "59": 1, "57": 2}[before]
            nxt = pages[index][-1] if index < 2 else None
            data = [post_object(i) for i in pages[index]]
            return c.json_response(200, {"data": data, "next": nxt})

        router.get(f"{BASE}/v1/users/7/items").mock(side_effect=answer)
        return pages

    def extra_read_calls(self) -> int:
        return 1  # GET /v1/me, for the account's id

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        counts = [
            {"id": "11", "views": 900, "likes": 40, "shares": 7, "replies": 3},
            {"id": "12", "views": 50, "likes": 2, "shares": 1, "replies": 0},
        ]
        router.get(f"{BASE}/v1/posts/metrics").mock(
            return_value=c.json_response(200, {"data": counts})
        )
        expected: dict[str, dict[str, int | float]] = {
            "11": {"impressions": 900, "likes": 40, "reposts": 7, "replies": 3},
            "12": {"impressions": 50, "likes": 2, "reposts": 1, "replies": 0},
        }
        return ["11", "12"], expected


class TestChirpErrors(ChirpFixtures, c.ErrorSuite): ...


class TestChirpPublishing(ChirpFixtures, c.PublishSuite): ...


class TestChirpPreflight(ChirpFixtures, c.PreflightSuite): ...


class TestChirpReading(ChirpFixtures, c.ReadSuite): ...


class TestChirpMetrics(ChirpFixtures, c.MetricsSuite): ...
