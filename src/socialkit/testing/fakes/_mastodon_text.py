"""Mastodon's status markup for the fake: plain text in, ``content`` HTML out.

Mastodon renders a local status's plain text with ``TextFormatter`` (app/lib/text_formatter.rb):
paragraphs split on blank lines become ``<p>``, single newlines ``<br />``, and URLs, mentions
and hashtags become links with the classes its clients (and :mod:`socialkit.adapters.mastodon`)
read. This module does the same for the fake server. URLs are found with socialkit's own
Mastodon flavour of the twitter-text rules (:func:`socialkit.text._urls.extract_urls`), the ones
the server's length validator uses; mentions and hashtags with Mastodon's ``MENTION_RE`` and
``HASHTAG_RE``. Written here rather than taken from a library because no Python library
produces Mastodon's exact markup.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from socialkit.text import extract_urls

__all__ = ["Rendered", "find_hashtags", "find_mentions", "render"]

# Account::MENTION_RE: "@user" or "@user@domain", not preceded by a word character, "=" or "/".
MENTION_RE = re.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.\-]+[a-z0-9_]+)?)(?:@(?P<domain>[\w.\-]+\w+))?",
    re.IGNORECASE,
)
# Tag::HASHTAG_RE (simplified to Python's \w): "#tag" with at least one letter.
HASHTAG_RE = re.compile(r"(?<![=/)\w])#(?P<tag>\w*[^\W\d_]\w*)")
_PARAGRAPHS = re.compile(r"\n{2,}")


@dataclass(frozen=True)
class Rendered:
    """A status's HTML and what it links: mentioned account ids and hashtags (lower case)."""

    html: str
    mention_ids: tuple[str, ...]
    tags: tuple[str, ...]


def find_mentions(text: str) -> list[tuple[str, str | None]]:
    """``(username, domain)`` of each ``@mention`` in ``text``."""
    return [(m.group("user"), m.group("domain")) for m in MENTION_RE.finditer(text)]


def find_hashtags(text: str) -> list[str]:
    """The hashtags of ``text``, lower case, without ``#``, in order, without repeats."""
    return list(dict.fromkeys(m.group("tag").lower() for m in HASHTAG_RE.finditer(text)))


def render(
    text: str,
    *,
    resolve: Callable[[str, str | None], tuple[str, str, str] | None],
    tag_url: Callable[[str], str],
) -> Rendered:
    """Render ``text`` as Mastodon does.

    ``resolve(username, domain)`` returns ``(account id, profile url, username)`` of a known
    account, or None (an unknown mention stays plain text, as on Mastodon).
    """
    mention_ids: list[str] = []
    tags: list[str] = []
    paragraphs = []
    for paragraph in _PARAGRAPHS.split(text.strip("\n")):
        lines = [
            _render_line(line, resolve, tag_url, mention_ids, tags)
            for line in paragraph.split("\n")
        ]
        paragraphs.append("<p>" + "<br />".join(lines) + "</p>")
    body = "".join(paragraphs) if text.strip() else ""
    return Rendered(
        html=body,
        mention_ids=tuple(dict.fromkeys(mention_ids)),
        tags=tuple(dict.fromkeys(tags)),
    )


def _render_line(
    line: str,
    resolve: Callable[[str, str | None], tuple[str, str, str] | None],
    tag_url: Callable[[str], str],
    mention_ids: list[str],
    tags: list[str],
) -> str:
    entities: list[tuple[int, int, str]] = []
    for url in extract_urls(line, mastodon=True):
        entities.append((url.start, url.end, _link(url.url)))
    for match in MENTION_RE.finditer(line):
        found = resolve(match.group("user"), match.group("domain"))
        if found is None:
            continue
        account_id, profile, username = found
        mention_ids.append(account_id)
        entities.append(
            (
                match.start(),
                match.end(),
                f'<span class="h-card" translate="no"><a href="{html.escape(profile)}" '
                f'class="u-url mention">@<span>{html.escape(username)}</span></a></span>',
            )
        )
    for match in HASHTAG_RE.finditer(line):
        tag = match.group("tag")
        tags.append(tag.lower())
        entities.append(
            (
                match.start(),
                match.end(),
                f'<a href="{html.escape(tag_url(tag.lower()))}" class="mention hashtag" '
                f'rel="tag">#<span>{html.escape(tag)}</span></a>',
            )
        )
    entities.sort(key=lambda item: item[0])
    parts: list[str] = []
    last = 0
    for start, end, markup in entities:
        if start < last:  # overlaps an earlier entity (e.g. a "#" inside a URL)
            continue
        parts.append(html.escape(line[last:start]))
        parts.append(markup)
        last = end
    parts.append(html.escape(line[last:]))
    return "".join(parts)


def _link(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    prefix = scheme + sep if sep else ""
    shown = rest if sep else url
    return (
        f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener" translate="no">'
        f'<span class="invisible">{html.escape(prefix)}</span>'
        f'<span class="">{html.escape(shown)}</span><span class="invisible"></span></a>'
    )
