"""Bluesky facets: UTF-8 byte offsets and records shaped as ``app.bsky.richtext.facet``
(``../shared/specs/bluesky/lexicons/app/bsky/richtext/facet.json``); handle syntax per the AT
Protocol interop vectors (``../shared/specs/bluesky/interop-tests/syntax/handle_syntax_*.txt``)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from tests._specs import specs_dir

from socialkit.text import (
    FACET_LINK,
    FACET_MENTION,
    FACET_TAG,
    build_facets,
    detect_facets,
    facet_records,
    is_valid_handle,
    mention_handles,
)

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"


def _slices(text: str) -> list[tuple[str, str, str]]:
    data = text.encode("utf-8")
    return [
        (s.kind, data[s.byte_start : s.byte_end].decode("utf-8"), s.value)
        for s in detect_facets(text)
    ]


def test_byte_offsets_after_emoji_and_accents() -> None:
    text = "✨ Héllo 👋🏽 @alice.bsky.social, voir https://exämple.com/ç?x=1 #Fête"
    facets = detect_facets(text)
    data = text.encode("utf-8")
    assert [f.kind for f in facets] == ["mention", "link", "tag"]
    mention, link, tag = facets
    assert data[mention.byte_start : mention.byte_end] == b"@alice.bsky.social"
    # ✨ (3) + space + H é(2) llo + space + 👋🏽 (8) + space = 3+1+6+1+8+1
    assert mention.byte_start == 20
    assert data[link.byte_start : link.byte_end].decode() == "https://exämple.com/ç?x=1"
    assert data[tag.byte_start : tag.byte_end].decode() == "#Fête"
    assert tag.value == "Fête"
    assert text[mention.start : mention.end] == "@alice.bsky.social"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", [("link", "example.com", "https://example.com")]),
        ("go to example.com/path.", [("link", "example.com/path", "https://example.com/path")]),
        ("(https://example.com/x)", [("link", "https://example.com/x", "https://example.com/x")]),
        (
            "https://en.wikipedia.org/wiki/Foo_(bar)",
            [
                (
                    "link",
                    "https://en.wikipedia.org/wiki/Foo_(bar)",
                    "https://en.wikipedia.org/wiki/Foo_(bar)",
                )
            ],
        ),
        ("HTTPS://EXAMPLE.COM", [("link", "HTTPS://EXAMPLE.COM", "HTTPS://EXAMPLE.COM")]),
        ("not.atld", []),
        ("me@example.com", []),
        ("my-site.com", []),  # the SDK's bare-domain rule allows no hyphen
        ("@alice.test hi", [("mention", "@alice.test", "alice.test")]),
        ("@Alice.Example.COM.", [("mention", "@Alice.Example.COM", "alice.example.com")]),
        ("@alice", []),
        ("@alice.notatld", []),
        ("a@alice.com", []),
        ("@-bad-.com", []),
        ("#tag", [("tag", "#tag", "tag")]),
        ("＃全角", [("tag", "＃全角", "全角")]),
        ("#tag!!", [("tag", "#tag", "tag")]),
        ("#123", []),
        ("#1st", [("tag", "#1st", "1st")]),
        ("#️⃣", []),
        ("a#tag", []),
        ("#" + "a" * 64, [("tag", "#" + "a" * 64, "a" * 64)]),
        ("#" + "a" * 65, []),
        ("line1\n#two\n@bob.test", [("tag", "#two", "two"), ("mention", "@bob.test", "bob.test")]),
    ],
)
def test_detection(text: str, expected: list[tuple[str, str, str]]) -> None:
    assert _slices(text) == expected


def test_facets_never_overlap_and_are_sorted() -> None:
    text = "#a @b.test example.com https://x.org/#c (@d.test) #e"
    spans = detect_facets(text)
    ends = [(s.byte_start, s.byte_end) for s in spans]
    assert ends == sorted(ends)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(ends))


def test_records_shape_and_unresolved_mentions_dropped() -> None:
    spans = detect_facets("@a.test @b.test x.com #t")
    assert mention_handles(spans) == ["a.test", "b.test"]
    records = facet_records(spans, {"A.TEST": DID})
    assert [r["features"][0]["$type"] for r in records] == [FACET_MENTION, FACET_LINK, FACET_TAG]
    assert records[0] == {
        "index": {"byteStart": 0, "byteEnd": 7},
        "features": [{"$type": FACET_MENTION, "did": DID}],
    }
    assert records[1]["features"][0]["uri"] == "https://x.com"
    assert records[2]["features"][0]["tag"] == "t"


@pytest.mark.anyio
async def test_build_facets_resolves_each_handle_once() -> None:
    calls: list[str] = []

    async def resolve(handle: str) -> str | None:
        calls.append(handle)
        return DID if handle == "alice.test" else None

    records = await build_facets("@alice.test @Alice.test @ghost.test", resolve)
    assert calls == ["alice.test", "ghost.test"]
    assert [r["index"] for r in records] == [
        {"byteStart": 0, "byteEnd": 11},
        {"byteStart": 12, "byteEnd": 23},
    ]


@pytest.mark.spec
def test_records_validate_against_the_lexicon() -> None:
    from tests._validation.lexicon import LexiconChecker

    checker = LexiconChecker([specs_dir("bluesky", "lexicons")])
    text = "Émile 🇫🇷 @alice.test: https://example.com/ç and example.org #Fête #日本"
    records: list[dict[str, Any]] = facet_records(detect_facets(text), {"alice.test": DID})
    assert len(records) == 5
    for record in records:
        checker.validate("app.bsky.richtext.facet", record)
    data = text.encode("utf-8")
    assert [data[r["index"]["byteStart"] : r["index"]["byteEnd"]].decode() for r in records] == [
        "@alice.test",
        "https://example.com/ç",
        "example.org",
        "#Fête",
        "#日本",
    ]


def _vectors(name: str) -> list[str]:
    path = specs_dir("bluesky", "interop-tests", "syntax", name)
    lines = path.read_text("utf-8").splitlines()
    return [line for line in lines if line and not line.startswith("#")]


@pytest.mark.spec
def test_handle_syntax_matches_interop_vectors() -> None:
    valid = _vectors("handle_syntax_valid.txt")
    invalid = _vectors("handle_syntax_invalid.txt")
    assert valid
    assert invalid
    assert [h for h in valid if not is_valid_handle(h)] == []
    assert [h for h in invalid if is_valid_handle(h)] == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # TLDs delegated after twitter-text's list: the IANA root zone has them (issue 11).
        ("hi @bob.music", [("mention", "@bob.music", "bob.music")]),
        ("example.kids/path", [("link", "example.kids/path", "https://example.kids/path")]),
        ("see shop.BOATS", [("link", "shop.BOATS", "https://shop.BOATS")]),
        ("сайт.рф", []),  # a bare link must start with an ASCII letter (as the SDK's pattern)
        ("http://сайт.рф", [("link", "http://сайт.рф", "http://сайт.рф")]),
        ("@a.xn--p1ai", [("mention", "@a.xn--p1ai", "a.xn--p1ai")]),
        # Not TLDs: private suffixes of the Public Suffix List, reserved names, typos.
        ("example.notatld @bob.blogspot", []),
        ("example.local and @bob.invalid", []),
    ],
)
def test_known_tlds_come_from_the_public_suffix_list(
    text: str, expected: list[tuple[str, str, str]]
) -> None:
    assert _slices(text) == expected


def test_public_suffix_list_is_loaded_on_first_use_not_on_import_and_never_fetched() -> None:
    import subprocess
    import sys

    code = (
        "import socket, sys, socialkit, socialkit.text\n"
        "assert 'publicsuffixlist' not in sys.modules, 'loaded on import'\n"
        "def refuse(*args, **kwargs):\n"
        "    raise AssertionError('the TLD list tried to use the network')\n"
        "socket.socket.connect = refuse\n"
        "socket.create_connection = refuse\n"
        "socket.getaddrinfo = refuse\n"
        "assert socialkit.text.detect_facets('@bob.music')\n"
        "assert 'publicsuffixlist' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
