"""The OpenAPI checker accepts conforming traffic and rejects wrong requests and fixtures.

Documents: ../shared/specs/mastodon/schema.json (Mastodon API 4.7, OpenAPI 3.1) and
../shared/specs/x/openapi.json (X API v2 2.167, OpenAPI 3.0). Every body below is written from
those documents' schemas (TextStatus/MediaStatus/PollStatus, TweetCreateRequest,
TweetCreateResponse, AppendMediaUploadRequest, ...).
"""

from __future__ import annotations

import json

import httpx
import pytest
from tests._specs import specs_dir
from tests._validation import OpenAPIChecker
from tests._validation.openapi import validate_document

pytestmark = pytest.mark.spec

MASTODON = "https://mastodon.example.test"
X = "https://api.x.test"
BEARER = {"Authorization": "Bearer test-token"}


@pytest.fixture(scope="module")
def mastodon() -> OpenAPIChecker:
    return OpenAPIChecker(specs_dir() / "mastodon" / "schema.json", server_url=MASTODON)


@pytest.fixture(scope="module")
def x() -> OpenAPIChecker:
    return OpenAPIChecker(specs_dir() / "x" / "openapi.json", server_url=X)


def _violations(checker: OpenAPIChecker, request: httpx.Request) -> str:
    return "\n".join(checker.request_violations(request))


# -- loading ----------------------------------------------------------------------------------


def test_loader_workarounds_are_exactly_the_documented_defects(
    mastodon: OpenAPIChecker, x: OpenAPIChecker
) -> None:
    assert sorted(x.loaded.workarounds) == [
        "/components/parameters/DmEventExpansionsParameter/schema/items/enum: "
        "removed duplicate values",
        "/components/parameters/NewsFieldsParameter/schema/items/enum: removed duplicate values",
    ]
    assert any("/api/oembed" in w and "'null' default" in w for w in mastodon.loaded.workarounds)
    assert len(mastodon.loaded.workarounds) == 3
    # de-duplicating keeps the allowed values: the duplicated value is still accepted ...
    ok = httpx.Request(
        "GET", f"{X}/2/dm_events?expansions=attachments.media_keys,sender_id", headers=BEARER
    )
    assert x.request_violations(ok) == []
    # ... and validation of that enum is still on.
    bad = httpx.Request("GET", f"{X}/2/dm_events?expansions=bogus", headers=BEARER)
    assert "Invalid query parameter: expansions" in _violations(x, bad)


@pytest.mark.parametrize(
    "document", ["mastodon/schema.json", "x/openapi.json", "pinterest/openapi.json"]
)
def test_documents_are_valid_openapi_after_the_workarounds(document: str) -> None:
    validate_document(specs_dir() / document)


def test_pinterest_metric_types_workaround_keeps_validation_on() -> None:
    pinterest = OpenAPIChecker(
        specs_dir() / "pinterest" / "openapi.json", server_url="https://api.pinterest.test/v5"
    )
    assert sorted(pinterest.loaded.workarounds) == [
        "/components/parameters/query_pin_analytics_metric_types/schema/items/oneOf: "
        "overlapping string enums read as anyOf",
        "/paths//pins/analytics/get/parameters/4/schema/items/oneOf: "
        "overlapping string enums read as anyOf",
    ]
    base = "https://api.pinterest.test/v5/pins/123/analytics?start_date=2026-01-01"
    headers = BEARER

    def check(types: str) -> str:
        url = f"{base}&end_date=2026-01-02&metric_types={types}"
        return _violations(pinterest, httpx.Request("GET", url, headers=headers))

    # In both lists (rejected by the published oneOf), in one list only: accepted ...
    assert check("IMPRESSION,SAVE,PIN_CLICK,OUTBOUND_CLICK,VIDEO_MRC_VIEW") == ""
    assert check("USER_FOLLOW") == ""
    # ... and a value in neither list is still refused.
    assert "metric_types" in check("BOGUS")


def test_the_worked_around_defects_are_still_in_the_files() -> None:
    # Each workaround is needed: the defect it handles is in the published file (read raw here).
    # When a future copy of the file fixes one, this test says which workaround to delete.
    x_raw = json.loads((specs_dir() / "x" / "openapi.json").read_text(encoding="utf-8"))
    for name in ("DmEventExpansionsParameter", "NewsFieldsParameter"):
        enum = x_raw["components"]["parameters"][name]["schema"]["items"]["enum"]
        assert len(enum) > len(set(enum)), name
    m_raw = json.loads((specs_dir() / "mastodon" / "schema.json").read_text(encoding="utf-8"))
    oembed = m_raw["paths"]["/api/oembed"]["get"]["parameters"]
    assert any(p.get("schema", {}).get("default") == "null" for p in oembed)
    create = m_raw["paths"]["/api/v1/statuses"]["post"]
    assert create["parameters"][0]["schema"]["type"] == "object"  # Idempotency-Key
    assert "oneOf" in create["requestBody"]["content"]["application/json"]["schema"]
    p_raw = json.loads((specs_dir() / "pinterest" / "openapi.json").read_text(encoding="utf-8"))
    items = p_raw["components"]["parameters"]["query_pin_analytics_metric_types"]["schema"]
    standard, video = (set(b["enum"]) for b in items["items"]["oneOf"])
    assert standard & video  # the branches overlap


def test_specs_are_loaded_once_per_process(mastodon: OpenAPIChecker) -> None:
    again = OpenAPIChecker(
        specs_dir() / "mastodon" / "schema.json", server_url="https://other.test"
    )
    assert again.loaded is mastodon.loaded


# -- Mastodon ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"status": "hello", "visibility": "public", "language": "en"},
        {"status": "with media", "media_ids": ["1", "2"], "sensitive": True},
        {"media_ids": ["1"]},
        {"status": "poll", "poll": {"options": ["a", "b"], "expires_in": 300}},
        {"status": "later", "scheduled_at": "2030-01-01T00:00:00Z"},
    ],
)
def test_mastodon_create_status_accepted(mastodon: OpenAPIChecker, body: dict[str, object]) -> None:
    request = httpx.Request(
        "POST",
        f"{MASTODON}/api/v1/statuses",
        json=body,
        headers={**BEARER, "Idempotency-Key": "8d3e0c1a"},
    )
    mastodon.check_request(request)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (  # wrong method
            httpx.Request(
                "PUT", f"{MASTODON}/api/v1/statuses", json={"status": "x"}, headers=BEARER
            ),
            "PUT /api/v1/statuses is not in schema.json: the path exists only with",
        ),
        (  # unknown path
            httpx.Request("GET", f"{MASTODON}/api/v1/statusez", headers=BEARER),
            "GET /api/v1/statusez: no such path in schema.json",
        ),
        (  # wrong body type
            httpx.Request(
                "POST", f"{MASTODON}/api/v1/statuses", json={"status": 5}, headers=BEARER
            ),
            "at status: 5 is not of type 'string'",
        ),
        (  # misspelt field
            httpx.Request(
                "POST",
                f"{MASTODON}/api/v1/statuses",
                json={"status": "a", "visiblity": "public"},
                headers=BEARER,
            ),
            "request body field /visiblity is not declared by the schema",
        ),
        (  # form body where the description only has JSON
            httpx.Request(
                "POST", f"{MASTODON}/api/v1/statuses", data={"status": "a"}, headers=BEARER
            ),
            "mimetype not found: application/x-www-form-urlencoded",
        ),
        (  # media together with a poll (documented as impossible)
            httpx.Request(
                "POST",
                f"{MASTODON}/api/v1/statuses",
                json={"media_ids": ["1"], "poll": {"options": ["a", "b"], "expires_in": 60}},
                headers=BEARER,
            ),
            "should not be valid under {'required': ['media_ids', 'poll']}",
        ),
        (  # no credentials
            httpx.Request("POST", f"{MASTODON}/api/v1/statuses", json={"status": "a"}),
            "security",
        ),
        (  # wrong query parameter type
            httpx.Request(
                "GET", f"{MASTODON}/api/v1/accounts/1/statuses?limit=many", headers=BEARER
            ),
            "Query parameter error: limit",
        ),
        (  # undeclared query parameter
            httpx.Request("GET", f"{MASTODON}/api/v1/accounts/1/statuses?limt=5", headers=BEARER),
            "query parameter 'limt' is not declared for this operation",
        ),
        (  # outside the server under test
            httpx.Request("GET", "https://elsewhere.test/api/v1/statuses/1", headers=BEARER),
            "is outside the server under test",
        ),
    ],
)
def test_mastodon_wrong_requests_rejected(
    mastodon: OpenAPIChecker, request_: httpx.Request, expected: str
) -> None:
    with pytest.raises(AssertionError) as failure:
        mastodon.check_request(request_)
    assert expected in str(failure.value)
    assert f"{request_.method} {request_.url}" in str(failure.value)


def test_mastodon_rails_style_array_query(mastodon: OpenAPIChecker) -> None:
    ok = httpx.Request("GET", f"{MASTODON}/api/v1/statuses?id[]=1&id[]=2", headers=BEARER)
    assert mastodon.request_violations(ok) == []
    wrong = httpx.Request("GET", f"{MASTODON}/api/v1/statuses?ids[]=1", headers=BEARER)
    assert "query parameter 'ids[]' is not declared" in _violations(mastodon, wrong)


def test_mastodon_multipart_media_upload(mastodon: OpenAPIChecker) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe"
    ok = httpx.Request(
        "POST",
        f"{MASTODON}/api/v2/media",
        files={"file": ("a.png", png, "image/png")},
        data={"description": "Alt text, ünïcode", "focus": "0.0,0.5"},
        headers=BEARER,
    )
    assert mastodon.request_violations(ok) == []
    misnamed = httpx.Request(
        "POST",
        f"{MASTODON}/api/v2/media",
        files={"media": ("a.png", png, "image/png")},
        data={"description": "alt"},
        headers=BEARER,
    )
    problems = _violations(mastodon, misnamed)
    assert "multipart part 'media' is not a property of the body schema" in problems
    assert "lacks the required part 'file'" in problems


def test_mastodon_response_fixtures(mastodon: OpenAPIChecker) -> None:
    request = httpx.Request(
        "POST", f"{MASTODON}/api/v1/statuses", json={"status": "hi"}, headers=BEARER
    )
    error = httpx.Response(422, json={"error": "Validation failed: Text can't be blank"})
    mastodon.check_response(request, error)
    incomplete = httpx.Response(200, json={"id": "1", "content": "<p>hi</p>"})
    with pytest.raises(AssertionError) as failure:
        mastodon.check_response(request, incomplete)
    assert "response 200 does not conform" in str(failure.value)
    assert "'account' is a required property" in str(failure.value)


# -- X ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"text": "hello"},
        {"text": "reply", "reply": {"in_reply_to_tweet_id": "1460323737035677698"}},
        {"text": "quote", "quote_tweet_id": "1460323737035677698"},
        {"text": "media", "media": {"media_ids": ["1146654567674912769"]}},
        {"text": "poll", "poll": {"options": ["yes", "no"], "duration_minutes": 60}},
    ],
)
def test_x_create_post_accepted(x: OpenAPIChecker, body: dict[str, object]) -> None:
    x.check_request(httpx.Request("POST", f"{X}/2/tweets", json=body, headers=BEARER))


def test_x_create_post_with_oauth1_accepted(x: OpenAPIChecker) -> None:
    oauth1 = {"Authorization": 'OAuth oauth_consumer_key="k", oauth_signature="s"'}
    x.check_request(httpx.Request("POST", f"{X}/2/tweets", json={"text": "hi"}, headers=oauth1))


def test_x_lookup_accepted(x: OpenAPIChecker) -> None:
    # The description names the field-selection parameter `post.fields`.
    request = httpx.Request(
        "GET",
        f"{X}/2/tweets",
        params={"ids": "1460323737035677698,1293593516040269825", "post.fields": "public_metrics"},
        headers=BEARER,
    )
    x.check_request(request)


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (  # wrong method
            httpx.Request("PUT", f"{X}/2/tweets", json={"text": "x"}, headers=BEARER),
            "PUT /2/tweets is not in openapi.json",
        ),
        (  # unknown path
            httpx.Request("GET", f"{X}/2/tweetz", headers=BEARER),
            "GET /2/tweetz: no such path in openapi.json",
        ),
        (  # missing required parameter
            httpx.Request("GET", f"{X}/2/tweets", headers=BEARER),
            "Missing required query parameter: ids",
        ),
        (  # wrong parameter value
            httpx.Request("GET", f"{X}/2/tweets?ids=abc", headers=BEARER),
            "Invalid query parameter: ids",
        ),
        (  # more ids than the maximum of 100
            httpx.Request(
                "GET",
                f"{X}/2/tweets?ids=" + ",".join(str(i) for i in range(1, 102)),
                headers=BEARER,
            ),
            "Invalid query parameter: ids",
        ),
        (  # wrong body type
            httpx.Request("POST", f"{X}/2/tweets", json={"text": ["hi"]}, headers=BEARER),
            "at text: ['hi'] is not of type 'string'",
        ),
        (  # wrong nested body
            httpx.Request(
                "POST",
                f"{X}/2/tweets",
                json={"text": "r", "reply": {"in_reply_to": "1"}},
                headers=BEARER,
            ),
            "reply",
        ),
        (  # no credentials
            httpx.Request("POST", f"{X}/2/tweets", json={"text": "hi"}),
            "security",
        ),
    ],
)
def test_x_wrong_requests_rejected(
    x: OpenAPIChecker, request_: httpx.Request, expected: str
) -> None:
    with pytest.raises(AssertionError) as failure:
        x.check_request(request_)
    assert expected in str(failure.value)


def test_x_chunked_upload_append(x: OpenAPIChecker) -> None:
    chunk = bytes(range(256)) * 4
    ok = httpx.Request(
        "POST",
        f"{X}/2/media/upload/1880028106020515840/append",
        files={"media": ("blob", chunk, "application/octet-stream")},
        data={"segment_index": "0"},
        headers=BEARER,
    )
    assert x.request_violations(ok) == []
    out_of_range = httpx.Request(
        "POST",
        f"{X}/2/media/upload/1880028106020515840/append",
        files={"media": ("blob", chunk, "application/octet-stream")},
        data={"segment_index": "1000"},
        headers=BEARER,
    )
    assert "'segment_index'=1000 is above the maximum 999" in _violations(x, out_of_range)


def test_x_response_fixtures(x: OpenAPIChecker) -> None:
    request = httpx.Request("POST", f"{X}/2/tweets", json={"text": "hi"}, headers=BEARER)
    x.check_response(
        request, httpx.Response(201, json={"data": {"id": "1445880548472328192", "text": "hi"}})
    )
    with pytest.raises(AssertionError) as failure:
        x.check_response(request, httpx.Response(201, json={"data": {"id": 1445880548472328192}}))
    text = str(failure.value)
    assert "at data: 'text' is a required property" in text
    assert "at data/id: 1445880548472328192 is not of type 'string'" in text
