"""The lexicon checker, against the public AT Protocol interop vectors and the official lexicons.

Vectors: ../shared/specs/bluesky/interop-tests (lexicon/record-data-*.json are records of the
catalog lexicon ``example.lexicon.record`` in lexicon/catalog/record.json: every "valid" record
must validate, every "invalid" one must fail; syntax/*_syntax_{valid,invalid}.txt list one string
per line, ``#`` lines are comments). Lexicons: ../shared/specs/bluesky/lexicons
(com.atproto.repo.createRecord, app.bsky.feed.post, app.bsky.richtext.facet, ...).
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from tests._specs import specs_dir
from tests._validation import LexiconChecker, LexiconError
from tests._validation.lexicon import is_valid_format

pytestmark = pytest.mark.spec

PDS = "https://pds.example.test"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
AUTH = {"Authorization": "Bearer test-access-jwt"}

_FORMAT_FILES = {
    "atidentifier": "at-identifier",
    "aturi": "at-uri",
    "cid": "cid",
    "datetime": "datetime",
    "did": "did",
    "handle": "handle",
    "language": "language",
    "nsid": "nsid",
    "recordkey": "record-key",
    "tid": "tid",
    "uri": "uri",
}


def _interop() -> Path:
    return specs_dir() / "bluesky" / "interop-tests"


def _vector_lines(file: Path) -> list[str]:
    return [
        line
        for line in file.read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]


@pytest.fixture(scope="module")
def lexicons() -> LexiconChecker:
    return LexiconChecker()


@pytest.fixture(scope="module")
def catalog() -> LexiconChecker:
    return LexiconChecker([_interop() / "lexicon" / "catalog"])


# -- interop vectors --------------------------------------------------------------------------


def test_record_data_valid_vectors(catalog: LexiconChecker) -> None:
    cases = json.loads((_interop() / "lexicon" / "record-data-valid.json").read_text())
    assert cases
    for case in cases:
        problems = catalog.record_violations("example.lexicon.record", case["data"])
        assert problems == [], case["name"]


def test_record_data_invalid_vectors(catalog: LexiconChecker) -> None:
    cases = json.loads((_interop() / "lexicon" / "record-data-invalid.json").read_text())
    assert len(cases) >= 40
    accepted = [
        case["name"]
        for case in cases
        if not catalog.record_violations("example.lexicon.record", case["data"])
    ]
    assert accepted == []


@pytest.mark.parametrize("name", sorted(_FORMAT_FILES))
def test_syntax_vectors(name: str) -> None:
    fmt = _FORMAT_FILES[name]
    folder = _interop() / "syntax"
    valid = _vector_lines(folder / f"{name}_syntax_valid.txt")
    invalid = _vector_lines(folder / f"{name}_syntax_invalid.txt")
    # *_parse_invalid.txt: well-formed but not real values (e.g. 30 February, a repeated
    # language variant); a lexicon format check must reject them too.
    parse_invalid = folder / f"{name}_parse_invalid.txt"
    if parse_invalid.exists():
        invalid += _vector_lines(parse_invalid)
    assert valid
    assert invalid
    assert [v for v in valid if not is_valid_format(fmt, v)] == []
    assert [v for v in invalid if is_valid_format(fmt, v)] == []


# -- values and records -----------------------------------------------------------------------


def _post(**changes: object) -> dict[str, object]:
    text = "Hi @alice.example.test, see #socialkit 🙂"
    mention = text.encode().index(b"@alice")
    tag = text.encode().index(b"#socialkit")
    post: dict[str, object] = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": "2026-11-30T10:00:00.000Z",
        "langs": ["en"],
        "facets": [
            {
                "index": {"byteStart": mention, "byteEnd": mention + len("@alice.example.test")},
                "features": [{"$type": "app.bsky.richtext.facet#mention", "did": DID}],
            },
            {
                "index": {"byteStart": tag, "byteEnd": tag + len("#socialkit")},
                "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "socialkit"}],
            },
        ],
    }
    post.update(changes)
    return post


def test_post_record_accepted(lexicons: LexiconChecker) -> None:
    lexicons.validate_record("app.bsky.feed.post", _post())
    lexicons.validate("app.bsky.feed.post", _post())
    lexicons.validate("app.bsky.richtext.facet#tag", {"tag": "socialkit"})


def test_post_text_limits_in_graphemes_and_bytes(lexicons: LexiconChecker) -> None:
    # 300 graphemes is the limit: 300 family emoji (each one grapheme, 25 bytes) are too many
    # bytes (7,500 > 3,000) but 120 of them fit both limits.
    family = "👩‍👩‍👧‍👦"
    lexicons.validate_record("app.bsky.feed.post", _post(text=family * 120, facets=[]))
    with pytest.raises(LexiconError, match="more than maxLength 3000"):
        lexicons.validate_record("app.bsky.feed.post", _post(text=family * 300, facets=[]))
    lexicons.validate_record("app.bsky.feed.post", _post(text="é" * 300, facets=[]))
    with pytest.raises(LexiconError, match="301 graphemes, more than maxGraphemes 300"):
        lexicons.validate_record("app.bsky.feed.post", _post(text="é" * 301, facets=[]))


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"createdAt": "yesterday"}, "$.createdAt: 'yesterday' is not a valid datetime"),
        ({"text": 5}, "$.text: expected a string, got an integer"),
        ({"langs": ["english"]}, "is not a valid language"),
        ({"$type": "app.bsky.feed.like"}, "$.$type: 'app.bsky.feed.like' is not"),
        (
            {"facets": [{"index": {"byteStart": 0}, "features": []}]},
            "$.facets[0].index: required field 'byteEnd' is missing",
        ),
        (
            {"facets": [{"index": {"byteStart": -1, "byteEnd": 2}, "features": []}]},
            "$.facets[0].index.byteStart: -1 is below the minimum 0",
        ),
        (
            {
                "facets": [
                    {
                        "index": {"byteStart": 0, "byteEnd": 2},
                        "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "alice"}],
                    }
                ]
            },
            "$.facets[0].features[0].did: 'alice' is not a valid did",
        ),
        (
            {"facets": [{"index": {"byteStart": 0, "byteEnd": 2}, "features": [{"tag": "x"}]}]},
            "$.facets[0].features[0]: a union member needs a $type",
        ),
        (
            {"reply": {"root": {"uri": "at://x", "cid": "bafyrei"}}},
            "required field 'parent' is missing",
        ),
    ],
)
def test_post_record_rejected(
    lexicons: LexiconChecker, changes: dict[str, object], expected: str
) -> None:
    with pytest.raises(LexiconError) as failure:
        lexicons.validate_record("app.bsky.feed.post", _post(**changes))
    assert expected in str(failure.value)


def test_missing_required_field(lexicons: LexiconChecker) -> None:
    post = _post()
    del post["createdAt"]
    with pytest.raises(LexiconError, match="required field 'createdAt' is missing"):
        lexicons.validate_record("app.bsky.feed.post", post)


def test_image_embed_blob_limits(lexicons: LexiconChecker) -> None:
    blob = {
        "$type": "blob",
        "ref": {"$link": "bafkreibme22gw2h7y2h7tg2fhqotaqjucnbc24deqo72b6mkl2egezxhvy"},
        "mimeType": "image/jpeg",
        "size": 512_000,
    }
    embed = {
        "$type": "app.bsky.embed.images",
        "images": [{"image": blob, "alt": "a cat", "aspectRatio": {"width": 4, "height": 3}}],
    }
    lexicons.validate_record("app.bsky.feed.post", _post(embed=embed))
    too_big = {**blob, "size": 5_000_000}
    embed_big = {**embed, "images": [{"image": too_big, "alt": "a cat"}]}
    with pytest.raises(LexiconError, match="more than maxSize"):
        lexicons.validate_record("app.bsky.feed.post", _post(embed=embed_big))
    wrong_type = {**blob, "mimeType": "video/mp4"}
    embed_video = {**embed, "images": [{"image": wrong_type, "alt": "x"}]}
    with pytest.raises(LexiconError, match="'video/mp4' is not accepted"):
        lexicons.validate_record("app.bsky.feed.post", _post(embed=embed_video))
    five = {**embed, "images": [{"image": blob, "alt": str(i)} for i in range(5)]}
    with pytest.raises(LexiconError, match="5 items, more than maxLength 4"):
        lexicons.validate_record("app.bsky.feed.post", _post(embed=five))


# -- XRPC traffic -----------------------------------------------------------------------------


def _create_record(record: object, method: str = "POST", **extra: object) -> httpx.Request:
    body = {"repo": DID, "collection": "app.bsky.feed.post", "record": record, **extra}
    return httpx.Request(
        method, f"{PDS}/xrpc/com.atproto.repo.createRecord", json=body, headers=AUTH
    )


def test_create_record_with_facets_accepted(lexicons: LexiconChecker) -> None:
    lexicons.check_xrpc_request(_create_record(_post(), rkey="3kznmn7xqxl22"))


def test_create_record_checks_the_embedded_record(lexicons: LexiconChecker) -> None:
    with pytest.raises(LexiconError) as failure:
        lexicons.check_xrpc_request(_create_record(_post(text="x" * 3001)))
    assert "input.record.text: 3001 UTF-8 bytes, more than maxLength 3000" in str(failure.value)


def test_apply_writes_checks_every_record(lexicons: LexiconChecker) -> None:
    writes = [
        {
            "$type": "com.atproto.repo.applyWrites#create",
            "collection": "app.bsky.feed.post",
            "rkey": "3kznmn7xqxl22",
            "value": _post(),
        },
        {
            "$type": "com.atproto.repo.applyWrites#create",
            "collection": "app.bsky.feed.post",
            "value": _post(createdAt="now"),
        },
        {
            "$type": "com.atproto.repo.applyWrites#delete",
            "collection": "app.bsky.feed.post",
            "rkey": "3kznmn7xqxl23",
        },
    ]
    request = httpx.Request(
        "POST",
        f"{PDS}/xrpc/com.atproto.repo.applyWrites",
        json={"repo": DID, "writes": writes},
        headers=AUTH,
    )
    problems = lexicons.request_violations(request)
    assert problems == ["input.writes[1].value.createdAt: 'now' is not a valid datetime"]


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (_create_record(_post(), method="GET"), "method must be POST, not GET"),
        (
            httpx.Request("POST", f"{PDS}/xrpc/com.atproto.repo.createRecrod", json={}),
            "com.atproto.repo.createRecrod: no such lexicon",
        ),
        (
            httpx.Request("GET", f"{PDS}/xrpc/com.atproto.repo.listRecords?repo={DID}"),
            "required query parameter 'collection' is missing",
        ),
        (
            httpx.Request(
                "GET",
                f"{PDS}/xrpc/com.atproto.repo.listRecords",
                params={"repo": DID, "collection": "app.bsky.feed.post", "limit": "1000"},
            ),
            "params.limit: 1000 is above the maximum 100",
        ),
        (
            httpx.Request(
                "GET",
                f"{PDS}/xrpc/app.bsky.feed.getPosts",
                params=[("uris", f"at://{DID}/app.bsky.feed.post/3kznmn7xqxl22")] * 26,
            ),
            "params.uris: 26 items, more than maxLength 25",
        ),
        (
            httpx.Request(
                "GET",
                f"{PDS}/xrpc/app.bsky.feed.getAuthorFeed",
                params={"actor": DID, "limt": "5"},
            ),
            "query parameter 'limt' is not declared",
        ),
        (
            httpx.Request(
                "POST",
                f"{PDS}/xrpc/com.atproto.server.createSession",
                json={"identifier": "alice.test", "password": 5},
            ),
            "input.password: expected a string, got an integer",
        ),
        (
            httpx.Request("POST", f"{PDS}/xrpc/com.atproto.repo.createRecord", json=[1]),
            "input: expected an object, got an array",
        ),
        (
            httpx.Request("GET", f"{PDS}/api/v1/statuses"),
            "is not an XRPC path",
        ),
    ],
)
def test_wrong_xrpc_requests_rejected(
    lexicons: LexiconChecker, request_: httpx.Request, expected: str
) -> None:
    with pytest.raises(LexiconError) as failure:
        lexicons.check_xrpc_request(request_)
    assert expected in str(failure.value)


def test_upload_blob_takes_any_content_type(lexicons: LexiconChecker) -> None:
    request = httpx.Request(
        "POST",
        f"{PDS}/xrpc/com.atproto.repo.uploadBlob",
        content=b"\xff\xd8\xff",
        headers={**AUTH, "Content-Type": "image/jpeg"},
    )
    lexicons.check_xrpc_request(request)


def test_xrpc_responses(lexicons: LexiconChecker) -> None:
    request = _create_record(_post())
    ok = httpx.Response(
        200,
        json={
            "uri": f"at://{DID}/app.bsky.feed.post/3kznmn7xqxl22",
            "cid": "bafyreiclp443lavogvhj3d2ob2cxbfuscni2k5jk7bebjzg7khl3esabwq",
        },
    )
    lexicons.check_xrpc_response(request, ok)
    with pytest.raises(LexiconError, match="required field 'cid' is missing"):
        lexicons.check_xrpc_response(request, httpx.Response(200, json={"uri": ok.json()["uri"]}))
    limited = httpx.Response(
        429, json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
    )
    lexicons.check_xrpc_response(request, limited)
    lexicons.check_xrpc_response(request, httpx.Response(400, json={"error": "InvalidSwap"}))
    with pytest.raises(LexiconError, match="lacks a string 'error'"):
        lexicons.check_xrpc_response(request, httpx.Response(400, json={"message": "nope"}))
    with pytest.raises(LexiconError, match="'NoSuchThing' is neither declared"):
        lexicons.check_xrpc_response(request, httpx.Response(400, json={"error": "NoSuchThing"}))
