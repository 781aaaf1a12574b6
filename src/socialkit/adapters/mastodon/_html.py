"""Mastodon status HTML to plain text, as a reader sees it.

The HTML is parsed by selectolax (the lexbor HTML5 parser: entities, unclosed tags and broken
markup handled the way browsers do). This module only walks the parsed tree and decides what
each element reads as, following Mastodon's own markup (``app/lib/text_formatter.rb``):

* ``<p>`` are paragraphs, separated by a blank line; ``<br>`` is a line break; lists become
  ``- item`` (``1. item`` for ``<ol>``) lines and ``<blockquote>`` lines start with ``> ``;
* mentions (``<a class="u-url mention">@<span>user</span></a>``) and hashtags
  (``<a class="mention hashtag">#<span>tag</span></a>``) read as their text, ``@user`` and
  ``#tag``;
* other links read as their full URL (Mastodon shortens long links visually with
  ``<span class="invisible">`` / ``<span class="ellipsis">``; the ``href`` is the real target).
  A link whose text is not part of its URL (remote servers may send ``<a href=…>here</a>``)
  reads ``text (url)``, so that neither is lost;
* ``<p class="quote-inline">RE: …</p>``, the compatibility line Mastodon adds to quote posts
  and hides in its own interface, is left out (the quote is ``Post.quote_of``);
* custom emoji images read as their ``alt`` (``:shortcode:``); other whitespace collapses as in
  a browser, except inside ``<pre>``.
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

__all__ = ["html_to_text"]

_BLOCKS = frozenset(
    {"p", "div", "blockquote", "pre", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_SKIP = frozenset({"script", "style", "template", "head"})
_SPACES = re.compile(r"[ \t\r\n\f]+")


class _Writer:
    """Collects text, tracking pending line and paragraph breaks."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self._pending = 0  # newlines owed before the next text: 1 line break, 2 paragraph

    def text(self, value: str) -> None:
        if not value:
            return
        if self.parts and self._pending:
            self.parts.append("\n" * self._pending)
        elif not self.parts and value.strip() == "":
            return
        self._pending = 0
        self.parts.append(value)

    def newline(self) -> None:
        # A <br> always yields a line break, even several in a row.
        if self.parts:
            if self._pending:
                self.parts.append("\n" * self._pending)
                self._pending = 0
            self.parts.append("\n")

    def block(self, gap: int) -> None:
        self._pending = max(self._pending, gap)

    def result(self) -> str:
        text = "".join(self.parts)
        lines = [line.rstrip() for line in text.split("\n")]
        return "\n".join(lines).strip("\n").strip()


def _classes(node: LexborNode) -> set[str]:
    value = node.attributes.get("class") or ""
    return set(value.split())


def _plain(node: LexborNode) -> str:
    return _SPACES.sub(" ", node.text(deep=True, separator="", strip=False))


def _link(node: LexborNode, out: _Writer) -> None:
    href = (node.attributes.get("href") or "").strip()
    text = _plain(node).strip()
    classes = _classes(node)
    if "mention" in classes or "hashtag" in classes or text.startswith(("@", "#")):
        out.text(text)
    elif not text:
        out.text(href)
    elif not href or text.rstrip("/") in href:
        out.text(href or text)
    else:
        out.text(f"{text} ({href})")


def _walk(node: LexborNode, out: _Writer, *, pre: bool = False, ordered: int | None = None) -> None:
    for child in node.iter(include_text=True):
        tag = child.tag
        if tag == "-text":
            value = child.text_content or ""
            out.text(value if pre else _SPACES.sub(" ", value))
            continue
        if tag is None or tag.startswith("-") or tag in _SKIP:
            continue
        if tag == "br":
            out.newline()
        elif tag == "a":
            _link(child, out)
        elif tag == "img":
            out.text(child.attributes.get("alt") or "")
        elif tag in _BLOCKS:
            if tag == "p" and "quote-inline" in _classes(child):
                continue
            if tag == "li":
                out.block(1)
                if ordered is not None:
                    ordered += 1
                    out.text(f"{ordered}. ")
                else:
                    out.text("- ")
                _walk(child, out, pre=pre)
                out.block(1)
                continue
            out.block(2)
            if tag == "blockquote":
                inner = _Writer()
                _walk(child, inner)
                quoted = "\n".join(
                    f"> {line}" if line else ">" for line in inner.result().split("\n")
                )
                out.text(quoted)
            else:
                _walk(child, out, pre=pre or tag == "pre", ordered=0 if tag == "ol" else None)
            out.block(2)
        else:
            _walk(child, out, pre=pre, ordered=ordered)


def html_to_text(html: str) -> str:
    """The plain text of a status's ``content`` HTML (see the module docstring for the rules)."""
    if not html:
        return ""
    if "<" not in html and "&" not in html:
        return html.strip()
    tree = LexborHTMLParser(html)
    root = tree.body
    if root is None:
        return ""
    out = _Writer()
    _walk(root, out)
    return out.result()
