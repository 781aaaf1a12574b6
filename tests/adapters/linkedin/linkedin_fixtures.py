"""Fixtures of LinkedIn's answers, each following the reference page named beside it (under
https://learn.microsoft.com/en-us/linkedin/marketing/community-management/), and the respx
fixtures of the conformance suites, whose traffic goes through tests/_validation/linkedin.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import respx
from tests._validation.linkedin import linkedin_violations

from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters.linkedin import LinkedInAdapter
from socialkit.testing import conformance as c

BASE = "https://api.linkedin.example"
ACCESS = "AQVexample-linkedin-access-token-0123456789"
ORG = "urn:li:organization:2414183"
MEMBER = "urn:li:person:8675309"


def enc(urn: str) -> str:
    return quote(urn, safe="")


def post(urn: str, created: int, text: str = "a post", **extra: Any) -> dict[str, Any]:
    """A Post (shares/posts-api, "Post Schema" and the sample response of "Retrieve Posts")."""
    return {
        "isReshareDisabledByAuthor": False,
        "createdAt": created,
        "lifecycleState": "PUBLISHED",
        "lastModifiedAt": created,
        "visibility": "PUBLIC",
        "publishedAt": created,
        "author": ORG,
        "id": urn,
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "thirdPartyDistributionChannels": [],
        },
        "commentary": text,
        "lifecycleStateInfo": {"isEditedByAuthor": False},
        **extra,
    }


def page(elements: list[dict[str, Any]], start: int, count: int, total: int) -> dict[str, Any]:
    """A Rest.li collection (shares/posts-api "Find Posts by Authors" sample response)."""
    return {
        "paging": {"start": start, "count": count, "links": [], "total": total},
        "elements": elements,
    }


def comment(target: str, number: str, text: str, time: int, actor: str = MEMBER) -> dict[str, Any]:
    """A Comment (shares/comments-api, "Retrieve Comments" sample response)."""
    urn = f"urn:li:comment:({target},{number})"
    stamp = {"actor": actor, "time": time}
    return {
        "actor": actor,
        "commentUrn": urn,
        "created": stamp,
        "id": number,
        "lastModified": stamp,
        "message": {"attributes": [], "text": text},
        "object": target,
        "$URN": urn,
    }


def share_statistics(urn: str, base: int) -> dict[str, Any]:
    """An element of organizations/share-statistics ("Retrieve Statistics for Specific
    Shares" sample response); each count distinct, so that a swap shows."""
    return {
        "totalShareStatistics": {
            "uniqueImpressionsCount": base + 1,
            "shareCount": base + 2,
            "engagement": 0.25,
            "clickCount": base + 3,
            "likeCount": base + 4,
            "impressionCount": base + 5,
            "commentCount": base + 6,
        },
        "share": urn,
        "organizationalEntity": ORG,
    }


def error(status: int, code: str, message: str, service: int = 100) -> httpx.Response:
    """LinkedIn's error body (https://learn.microsoft.com/en-us/linkedin/shared/api-guide/
    concepts/error-handling)."""
    return c.json_response(
        status,
        {"status": status, "serviceErrorCode": service, "code": code, "message": message},
        headers={"x-li-uuid": "AAYfYRj0dV7AVJ6f3rHkZA=="},
    )


class LinkedInFixtures(c.AdapterFixtures):
    base_url = BASE

    def make_adapter(self, http: httpx.AsyncClient) -> LinkedInAdapter:
        values = {
            "base_url": BASE,
            "access_token": ACCESS,
            "author": ORG,
            "store": MemoryStore(),
            "retry_wait": False,
        }
        adapter = LinkedInAdapter(build_settings(LinkedInAdapter, values), http=http)

        async def no_sleep(seconds: float) -> None:
            return None

        adapter._sleep = no_sleep
        return adapter

    def secrets(self) -> list[str]:
        return [ACCESS]

    def check_exchange(self, request: httpx.Request, response: httpx.Response | None) -> None:
        if request.url.host == "api.linkedin.example":
            assert request.headers.get("authorization") == f"Bearer {ACCESS}"
        problems = linkedin_violations(request, base_host="api.linkedin.example")
        assert not problems, problems

    def mock_probe(self, router: respx.MockRouter) -> respx.Route:
        return router.get(f"{BASE}/rest/organizations/2414183")

    def probe_ok(self) -> httpx.Response:
        # organizations/organization-lookup-api, "Retrieve an Administered Organization".
        return c.json_response(
            200, {"id": 2414183, "localizedName": "Devtestco", "vanityName": "devtestco"}
        )

    def error_response(self, status: int, message: str | None = None) -> httpx.Response:
        codes = {
            400: "ILLEGAL_ARGUMENT",
            401: "EXPIRED_ACCESS_TOKEN",
            403: "ACCESS_DENIED",
            404: "NOT_FOUND",
            422: "UNPROCESSABLE_ENTITY",
            429: "TOO_MANY_REQUESTS",
            500: "INTERNAL_SERVER_ERROR",
            502: "BAD_GATEWAY",
            503: "SERVICE_UNAVAILABLE",
        }
        return error(status, codes[status], message or f"error {status}")

    def mock_publish_text(self, router: respx.MockRouter, text: str) -> str:
        urn = "urn:li:share:6844785523593134080"
        # shares/posts-api "Create a Text-Only Post": 201, the URN in x-restli-id.
        router.post(f"{BASE}/rest/posts").mock(
            return_value=httpx.Response(201, headers={"x-restli-id": urn})
        )
        return urn

    def mock_publish_image(self, router: respx.MockRouter, text: str, alt: str) -> str:
        image = "urn:li:image:C4E10AQFoyyAjHPMQuQ"
        upload = "https://www.linkedin.example/dms-uploads/C4E10AQFoyyAjHPMQuQ/uploadedImage/0"
        # shares/images-api "Initialize Image Upload" and "Get a Single Image".
        router.post(f"{BASE}/rest/images", params={"action": "initializeUpload"}).mock(
            return_value=c.json_response(
                200,
                {
                    "value": {
                        "uploadUrlExpiresAt": 1650567510704,
                        "uploadUrl": upload,
                        "image": image,
                    }
                },
            )
        )
        router.put(upload).mock(return_value=httpx.Response(201))
        router.get(f"{BASE}/rest/images/{enc(image)}").mock(
            return_value=c.json_response(
                200,
                {
                    "owner": ORG,
                    "status": "AVAILABLE",
                    "downloadUrl": "https://media.licdn.example/dms/image/C4E10AQFoyyAjHPMQuQ",
                    "downloadUrlExpiresAt": 1650567510704,
                    "id": image,
                },
            )
        )
        return self.mock_publish_text(router, text)

    def parent_id(self) -> str:
        return "urn:li:share:6844785523593134080"

    def mock_reply(self, router: respx.MockRouter, parent_id: str, text: str) -> str:
        body = comment(parent_id, "6636062862760562688", text, 1_700_000_000_000, actor=ORG)
        # shares/comments-api "Create a Comment": 201 with the comment.
        router.post(f"{BASE}/rest/socialActions/{enc(parent_id)}/comments").mock(
            return_value=c.json_response(201, body)
        )
        return str(body["$URN"])

    def mock_posts(self, router: respx.MockRouter) -> list[list[str]]:
        ids = [f"urn:li:share:{n}" for n in range(6900, 6895, -1)]
        items = [post(urn, 1_700_000_000_000 - i * 60_000) for i, urn in enumerate(ids)]
        router.get(f"{BASE}/rest/posts").mock(
            side_effect=[
                c.json_response(200, page(items[0:2], 0, 2, 5)),
                c.json_response(200, page(items[2:4], 2, 2, 5)),
                c.json_response(200, page(items[4:5], 4, 2, 5)),
            ]
        )
        return [ids[0:2], ids[2:4], ids[4:5]]

    def mock_metrics(
        self, router: respx.MockRouter
    ) -> tuple[list[str], dict[str, dict[str, int | float]]]:
        ids = ["urn:li:share:6901", "urn:li:share:6902"]
        router.get(f"{BASE}/rest/organizationalEntityShareStatistics").mock(
            return_value=c.json_response(
                200,
                {
                    "paging": {"start": 0, "count": 10, "links": []},
                    "elements": [share_statistics(ids[0], 10), share_statistics(ids[1], 20)],
                },
            )
        )

        def values(base: int) -> dict[str, int | float]:
            return {
                "reach": base + 1,
                "reposts": base + 2,
                "engagement_rate": 0.25,
                "clicks": base + 3,
                "likes": base + 4,
                "impressions": base + 5,
                "replies": base + 6,
            }

        return ids, {ids[0]: values(10), ids[1]: values(20)}

    def mock_messages(self, router: respx.MockRouter) -> list[tuple[str, str]]:
        first, second = "urn:li:share:6910", "urn:li:share:6911"
        router.get(f"{BASE}/rest/posts").mock(
            return_value=c.json_response(
                200,
                page([post(second, 1_700_000_100_000), post(first, 1_700_000_000_000)], 0, 20, 2),
            )
        )
        router.get(f"{BASE}/rest/socialActions/{enc(second)}/comments").mock(
            return_value=c.json_response(
                200, page([comment(second, "12", "newest", 1_700_000_300_000)], 0, 100, 1)
            )
        )
        router.get(f"{BASE}/rest/socialActions/{enc(first)}/comments").mock(
            return_value=c.json_response(
                200,
                page(
                    [
                        comment(first, "11", "middle", 1_700_000_200_000),
                        comment(first, "10", "oldest", 1_700_000_150_000),
                    ],
                    0,
                    100,
                    2,
                ),
            )
        )
        return [
            (f"urn:li:comment:({second},12)", "comment"),
            (f"urn:li:comment:({first},11)", "comment"),
            (f"urn:li:comment:({first},10)", "comment"),
        ]
