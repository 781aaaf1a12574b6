"""Mastodon's status length, as the server's ``StatusLengthValidator`` counts it.

What Mastodon does (app/validators/status_length_validator.rb, 4.x), and so what this module does:

* the content warning (``spoiler_text``) and the text are counted together;
* every URL with a scheme (``http``, ``https``, ``dat``, ``dweb``, ``ipfs``, ``ipns``, ``ssb``,
  ``gopher``, ``gemini``) counts as ``characters_reserved_per_url`` characters (23 on every
  stock server; instances report it in ``GET /api/v2/instance``). A bare ``example.com`` is
  counted character by character: Mastodon extracts URLs with
  ``extract_url_without_protocol: false``;
* a mention of a remote account, ``@user@example.social``, counts as ``@user``;
* the rest is counted in **grapheme clusters** (``String#each_grapheme_cluster``), so a flag or a
  family emoji is one character, as is ``e`` + a combining accent. (Mastodon's web composer
  shows the same number.)

URLs and mentions are found with Mastodon's variant of the twitter-text rules (see
:mod:`socialkit.text._urls`); where a URL and a mention overlap, the one that starts first wins.
Mastodon's ``xmpp:`` and ``magnet:`` links are counted as plain text, since the validator does
not shorten them either.
"""

from __future__ import annotations

import regex

from socialkit.text._urls import extract_urls
from socialkit.text.graphemes import count_graphemes

__all__ = ["MASTODON_CHARACTERS_PER_URL", "count_mastodon", "mastodon_countable_text"]

MASTODON_CHARACTERS_PER_URL = 23
"""``configuration.statuses.characters_reserved_per_url`` of a stock Mastodon server."""

# Account::MENTION_RE: "@user" or "@user@domain", not preceded by a word character, "=" or "/".
_MENTION = regex.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)"
    r"(?P<domain>@[\w.\-]+\w+)?",
    regex.IGNORECASE | regex.V0,
)
# twitter-text's end_mention_match: a mention directly followed by "@", a Latin accented letter
# or "://" is not one.
_END_MENTION = regex.compile(
    r"[@＠\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263"
    r"\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF]|://"
)


def mastodon_countable_text(text: str, characters_reserved_per_url: int = 23) -> str:
    """``text`` with URLs replaced by ``characters_reserved_per_url`` ``x`` and remote mentions
    by their local part: the string whose graphemes Mastodon counts."""
    entities: list[tuple[int, int, str]] = [
        (url.start, url.end, "x" * characters_reserved_per_url)
        for url in extract_urls(text, mastodon=True)
    ]
    for match in _MENTION.finditer(text):
        if _END_MENTION.match(text, match.end()):
            continue
        entities.append((match.start(), match.end(), "@" + match.group("user")))
    entities.sort(key=lambda item: item[0])

    parts: list[str] = []
    last = 0
    for start, end, replacement in entities:
        if start < last:  # overlaps an earlier entity
            continue
        parts.append(text[last:start])
        parts.append(replacement)
        last = end
    parts.append(text[last:])
    return "".join(parts)


def count_mastodon(
    text: str,
    spoiler_text: str = "",
    *,
    characters_reserved_per_url: int = MASTODON_CHARACTERS_PER_URL,
) -> int:
    """The length Mastodon compares with ``max_characters`` (500 on a stock server)."""
    if characters_reserved_per_url < 0:
        raise ValueError("characters_reserved_per_url must not be negative")
    countable = mastodon_countable_text(text, characters_reserved_per_url)
    # Mastodon joins the two before counting, so do the same.
    return count_graphemes(spoiler_text + countable)
