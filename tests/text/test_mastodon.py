"""Mastodon status length, as app/validators/status_length_validator.rb counts it (Mastodon 4.x):
content warning + text, URLs with a scheme as ``characters_reserved_per_url`` (23, reported by
``GET /api/v2/instance`` as ``configuration.statuses.characters_reserved_per_url``), remote
mentions as their local part, the rest in grapheme clusters."""

from __future__ import annotations

import pytest

from socialkit.text import count_mastodon, mastodon_countable_text

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Hello", 5, id="plain"),
        pytest.param("https://example.com/" + "a" * 100, 23, id="long URL is 23"),
        pytest.param("http://a.co", 23, id="short URL is 23 too"),
        pytest.param("see gemini://example.org/x", 4 + 23, id="gemini scheme"),
        pytest.param("example.com", 11, id="bare domain counts as text"),
        pytest.param("@alice@mastodon.social", 6, id="remote mention by local part"),
        pytest.param("@alice", 6, id="local mention unchanged"),
        pytest.param("hi @bob@example.social!", 3 + 4 + 1, id="mention then punctuation"),
        pytest.param("mail bob@example.social", 23, id="address is not a mention"),
        pytest.param(FAMILY, 1, id="ZWJ family is one grapheme"),
        pytest.param("🇫🇷e\u0301", 2, id="flag and combining accent"),
        pytest.param("日本語", 3, id="CJK one each"),
        pytest.param("https://example.com/@alice@example.social", 23, id="mention inside URL"),
        pytest.param("(https://example.com/a_(b))", 1 + 23 + 1, id="balanced parens kept"),
        pytest.param("https://example.com/path.", 23 + 1, id="trailing period left out"),
        pytest.param("https://example.com/日本", 23, id="Unicode path kept (Mastodon rule)"),
    ],
)
def test_count(text: str, expected: int) -> None:
    assert count_mastodon(text) == expected


def test_spoiler_text_counts_too() -> None:
    assert count_mastodon("body", "CW") == 6


def test_characters_per_url_is_a_parameter() -> None:
    text = "a https://example.com/x b"
    assert count_mastodon(text, characters_reserved_per_url=10) == 2 + 10 + 2
    assert mastodon_countable_text(text, 3) == "a xxx b"
    with pytest.raises(ValueError):
        count_mastodon(text, characters_reserved_per_url=-1)


def test_500_boundary() -> None:
    body = "a" * 477 + " " + "https://example.com/" + "z" * 200
    assert count_mastodon(body) == 501
    assert count_mastodon(body[1:]) == 500
