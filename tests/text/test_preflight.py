"""Pre-flight on hostile text: X's invalid characters, and refusing text far over a limit without
counting all of it (issue 12 item 5, issue 11 "One error contract").

Invalid characters are twitter-text's ``hasInvalidCharacters`` (U+FFFE, U+FEFF, U+FFFF,
``conformance/validate.yml`` ``UnicodeDirectionalMarkerCounterTest``) plus unpaired surrogates,
which cannot be encoded as UTF-8 at all.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from socialkit import Post, ValidationError
from socialkit._capabilities import Limits, check_post
from socialkit._registry import build_settings
from socialkit._store import MemoryStore
from socialkit.adapters.x import XAdapter
from socialkit.text import (
    bounded_count,
    count_graphemes,
    count_mastodon,
    count_x,
    utf16_length,
    x_invalid_characters,
)

COUNTERS: list[Callable[[str], int]] = [
    count_x,
    count_mastodon,
    count_graphemes,
    utf16_length,
    len,
]


def _x_adapter() -> XAdapter:
    # Offline: check() sends nothing, so the base URL is never reached.
    settings = {
        "base_url": "http://127.0.0.1:9",
        "client_id": "client-id",
        "client_secret": "client-secret",
        "access_token": "access-token",
        "refresh_token": "refresh-token",
        "store": MemoryStore(),
        "retry_wait": False,
    }
    return XAdapter(build_settings(XAdapter, settings))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", []),
        ("a\ufffeb", [(1, "the noncharacter U+FFFE")]),
        ("\ufeffhi", [(0, "the byte order mark U+FEFF")]),
        ("x\uffff", [(1, "the noncharacter U+FFFF")]),
        ("lone \ud83d here", [(5, "an unpaired surrogate U+D83D")]),
        (
            "\udfff\ud800",
            [(0, "an unpaired surrogate U+DFFF"), (1, "an unpaired surrogate U+D800")],
        ),
        ("emoji \U0001f600 is fine", []),
    ],
)
def test_x_invalid_characters(text: str, expected: list[tuple[int, str]]) -> None:
    found = x_invalid_characters(text)
    assert [(bad.index, bad.description) for bad in found] == expected
    assert all(text[bad.index] == bad.character for bad in found)


def test_x_check_reports_invalid_characters_with_position() -> None:
    adapter = _x_adapter()
    problems = adapter.check(
        Post(text="hello\ufeff", thread=[Post(text="ok"), Post(text="x\uffff")])
    )
    invalid = [p for p in problems if p.code == "invalid_characters"]
    assert [(p.field, p.message) for p in invalid] == [
        (
            "text",
            "the text of the post contains the byte order mark U+FEFF at index 5; "
            "x refuses such text",
        ),
        (
            "thread[1].text",
            "the text of post thread[1] contains the noncharacter U+FFFF at index 1; "
            "x refuses such text",
        ),
    ]
    assert adapter.check(Post(text="hello")) == []
    # An unpaired surrogate never reaches check(): no network stores one, so the model
    # refuses it (x_invalid_characters still reports it for text checked on its own).
    with pytest.raises(ValidationError, match="lone surrogate U\\+D800"):
        Post(text="\ud800")


@pytest.mark.parametrize("count", COUNTERS, ids=lambda c: c.__name__)
def test_bounded_count_is_exact_for_ordinary_text(count: Callable[[str], int]) -> None:
    text = "Read https://example.com/a and café 日本 👩🏾‍💻 " * 3
    assert bounded_count(text, count, 280) == (count(text), True)
    long = "word " * 20_000  # far over, but each counter gives it the same answer
    assert bounded_count(long, count, 10**6) == (count(long), True)


@pytest.mark.parametrize("count", COUNTERS, ids=lambda c: c.__name__)
def test_bounded_count_far_over_gives_a_lower_bound_from_a_prefix(
    count: Callable[[str], int],
) -> None:
    # URLs, emoji and combining marks right up to the spaces the prefix may be cut at.
    unit = "https://example.com/" + "p" * 50 + " 👨‍👩‍👧‍👦 e\u0301\u0302 @a@b.social "
    text = unit * 3_000
    length, exact = bounded_count(text, count, 500)
    assert not exact
    assert 500 < length <= count(text)


def test_bounded_count_without_spaces_counts_in_full() -> None:
    text = "a" * 200_000
    assert bounded_count(text, count_x, 280) == (200_000, True)


def test_check_post_refuses_a_megabyte_at_once_and_says_at_least() -> None:
    limits = Limits(max_text=280, count=count_x, text_unit="weighted characters")
    text = "Hello world, see example.com/page 🎉 " * 30_000  # about 1 MB
    started = time.process_time()
    problems = check_post(Post(text=text), limits, "x")
    elapsed = time.process_time() - started
    (problem,) = [p for p in problems if p.code == "text_too_long"]
    assert problem.limit == 280
    assert isinstance(problem.actual, int)
    assert 280 < problem.actual <= count_x(text)
    assert f"is at least {problem.actual} weighted characters long; x allows 280" in problem.message
    assert elapsed < 1.0  # a prefix of ~22,000 characters, not the megabyte


def test_check_post_exact_count_when_not_far_over() -> None:
    limits = Limits(max_text=280, count=count_x, text_unit="weighted characters")
    (problem,) = check_post(Post(text="x" * 300), limits, "x")
    assert problem.actual == 300
    assert "is 300 weighted characters long; x allows 280" in problem.message


def test_x_check_of_a_megabyte_with_a_link_is_quick() -> None:
    adapter = _x_adapter()
    text = "Hello world, see example.com/page " * 30_000
    started = time.process_time()
    problems = adapter.check(Post(text=text, link="https://example.org/x"))
    assert time.process_time() - started < 2.0
    codes = [(p.code, p.field) for p in problems]
    assert ("text_too_long", "text") in codes
    assert ("text_too_long", "link") in codes
