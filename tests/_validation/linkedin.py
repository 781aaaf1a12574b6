"""Check LinkedIn traffic against the rules of its reference pages.

LinkedIn publishes no machine-readable description, so the rules are written here from the
pages, each named beside its endpoint (under
https://learn.microsoft.com/en-us/linkedin/marketing/community-management/): every ``/rest``
call carries ``LinkedIn-Version: YYYYMM`` and ``X-Restli-Protocol-Version: 2.0.0``
(https://learn.microsoft.com/en-us/linkedin/marketing/versioning); URNs in paths and query
values are URL-encoded (Rest.li 2.0,
https://learn.microsoft.com/en-us/linkedin/shared/api-guide/concepts/protocol-version); a
request names a documented endpoint and its JSON body carries that endpoint's required fields
and no field the page does not name.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

__all__ = ["ENDPOINTS", "linkedin_violations"]

_URN_PART = r"urn%3Ali%3A[A-Za-z]+%3A[^/?&]+"

#: (method, path pattern, required body fields, allowed body fields, reference page).
ENDPOINTS: list[tuple[str, str, set[str], set[str], str]] = [
    ("GET", r"/v2/userinfo", set(), set(), "sign-in-with-linkedin-v2"),
    ("GET", r"/rest/organizations/[0-9]+", set(), set(), "organization-lookup-api"),
    (
        "POST",
        r"/rest/posts",
        {"author", "commentary", "visibility", "distribution", "lifecycleState"},
        {
            "author",
            "commentary",
            "visibility",
            "distribution",
            "lifecycleState",
            "isReshareDisabledByAuthor",
            "content",
            "reshareContext",
            "contentLandingPage",
            "contentCallToActionLabel",
        },
        "shares/posts-api#create",
    ),
    ("GET", r"/rest/posts", set(), set(), "shares/posts-api#find-posts-by-authors"),
    ("GET", rf"/rest/posts/{_URN_PART}", set(), set(), "shares/posts-api#retrieve"),
    ("POST", rf"/rest/posts/{_URN_PART}", {"patch"}, {"patch"}, "shares/posts-api#update"),
    ("DELETE", rf"/rest/posts/{_URN_PART}", set(), set(), "shares/posts-api#delete"),
    (
        "POST",
        r"/rest/images",
        {"initializeUploadRequest"},
        {"initializeUploadRequest"},
        "shares/images-api#initialize-image-upload",
    ),
    ("GET", rf"/rest/images/{_URN_PART}", set(), set(), "shares/images-api#get-a-single-image"),
    ("GET", r"/rest/images", set(), set(), "shares/images-api#get-multiple-images"),
    ("GET", r"/rest/videos", set(), set(), "shares/videos-api#get-multiple-videos"),
    (
        "POST",
        r"/rest/videos",
        set(),
        {"initializeUploadRequest", "finalizeUploadRequest"},
        "shares/videos-api#initialize-video-upload",
    ),
    ("GET", rf"/rest/videos/{_URN_PART}", set(), set(), "shares/videos-api#get-a-video"),
    (
        "GET",
        rf"/rest/socialActions/{_URN_PART}",
        set(),
        set(),
        "shares/network-update-social-actions#retrieve-social-actions",
    ),
    (
        "GET",
        rf"/rest/socialActions/{_URN_PART}/comments(/[0-9]+)?",
        set(),
        set(),
        "shares/comments-api",
    ),
    (
        "POST",
        rf"/rest/socialActions/{_URN_PART}/comments",
        {"actor", "object", "message"},
        {"actor", "object", "message", "parentComment", "content"},
        "shares/comments-api#create-comment",
    ),
    (
        "DELETE",
        rf"/rest/socialActions/{_URN_PART}/comments/[0-9]+",
        set(),
        set(),
        "shares/comments-api#delete-comment",
    ),
    (
        "POST",
        rf"/rest/socialActions/{_URN_PART}/likes",
        {"actor", "object"},
        {"actor", "object"},
        "shares/network-update-social-actions#create-a-like-on-a-share",
    ),
    (
        "GET",
        rf"/rest/socialActions/{_URN_PART}/likes",
        set(),
        set(),
        "shares/network-update-social-actions#retrieve-likes-on-shares",
    ),
    (
        "DELETE",
        rf"/rest/socialActions/{_URN_PART}/likes/{_URN_PART}",
        set(),
        set(),
        "shares/network-update-social-actions#delete-a-like",
    ),
    (
        "GET",
        r"/rest/organizationalEntityShareStatistics",
        set(),
        set(),
        "organizations/share-statistics",
    ),
    (
        "GET",
        r"/rest/organizationalEntityFollowerStatistics",
        set(),
        set(),
        "organizations/follower-statistics",
    ),
    (
        "GET",
        rf"/rest/networkSizes/{_URN_PART}",
        set(),
        set(),
        "organizations/organization-lookup-api",
    ),
]

_QUERY_RULES: dict[str, tuple[set[str], str]] = {
    "/rest/images": ({"ids"}, "ids=List(…)"),
    "/rest/videos": ({"ids"}, "ids=List(…)"),
    "/rest/posts": ({"q", "author"}, "q=author"),
    "/rest/organizationalEntityShareStatistics": (
        {"q", "organizationalEntity"},
        "q=organizationalEntity",
    ),
    "/rest/organizationalEntityFollowerStatistics": (
        {"q", "organizationalEntity"},
        "q=organizationalEntity",
    ),
}


def _raw_path(request: httpx.Request) -> str:
    return request.url.raw_path.decode("ascii").split("?", 1)[0]


def linkedin_violations(request: httpx.Request, *, base_host: str | None = None) -> list[str]:
    """What in ``request`` breaks the reference pages' rules (empty when nothing does).
    Requests to other hosts (the signed upload URLs, the token endpoint) are not API calls."""
    if base_host is not None and request.url.host != base_host:
        return []
    path = _raw_path(request)
    if path.startswith(("/oauth/", "/dms-uploads/")):
        return []
    problems: list[str] = []
    if path.startswith("/rest/"):
        version = request.headers.get("linkedin-version", "")
        if re.fullmatch(r"20[0-9]{2}(0[1-9]|1[0-2])", version) is None:
            problems.append(f"LinkedIn-Version {version!r} is not YYYYMM")
        if request.headers.get("x-restli-protocol-version") != "2.0.0":
            problems.append("X-Restli-Protocol-Version: 2.0.0 is missing")
    query = request.url.query.decode("ascii")
    if "urn:li:" in path or "urn:li:" in query:
        problems.append("a URN is not URL-encoded")
    found = [
        e for e in ENDPOINTS if e[0] == request.method and re.fullmatch(e[1], path) is not None
    ]
    if not found:
        return [*problems, f"{request.method} {path} is no documented endpoint"]
    _, _, required, allowed, page = found[0]
    rule = _QUERY_RULES.get(path)
    if rule is not None and request.method == "GET":
        names = {k for k, _ in request.url.params.multi_items()}
        if not rule[0] <= names:
            problems.append(f"{path} needs {rule[1]} ({page})")
    if request.method in ("POST", "PUT") and (required or allowed):
        try:
            body: Any = json.loads(request.content or b"{}")
        except ValueError:
            return [*problems, f"the body of {path} is not JSON"]
        if not isinstance(body, dict):
            return [*problems, f"the body of {path} is not an object"]
        missing = required - set(body)
        extra = set(body) - allowed
        if missing:
            problems.append(f"{path}: missing {sorted(missing)} ({page})")
        if extra:
            problems.append(f"{path}: fields {sorted(extra)} are not on {page}")
    return problems
