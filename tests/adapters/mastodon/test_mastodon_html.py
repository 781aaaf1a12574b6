"""Status HTML to plain text. Inputs are the markup Mastodon's ``TextFormatter`` produces
(and what remote servers send), as documented for ``Status.content`` in schema.json."""

from __future__ import annotations

import pytest

from socialkit.adapters.mastodon._html import html_to_text

MENTION = (
    '<span class="h-card" translate="no"><a href="https://mastodon.example/@bob" '
    'class="u-url mention">@<span>bob</span></a></span>'
)
HASHTAG = (
    '<a href="https://mastodon.example/tags/Python" class="mention hashtag" rel="tag">'
    "#<span>Python</span></a>"
)
LONG_LINK = (
    '<a href="https://www.theguardian.com/money/2019/dec/07/i-lost-my-inheritance" '
    'rel="nofollow noopener" target="_blank"><span class="invisible">https://www.</span>'
    '<span class="ellipsis">theguardian.com/money/2019/dec</span><span class="invisible">'
    "/07/i-lost-my-inheritance</span></a>"
)


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello world</p>", "Hello world"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("<p>line 1<br />line 2<br>line 3</p>", "line 1\nline 2\nline 3"),
        ("<p>a<br><br>b</p>", "a\n\nb"),
        (f"<p>{MENTION} hi</p>", "@bob hi"),
        (f"<p>I like {HASHTAG}</p>", "I like #Python"),
        (
            f"<p>Read {LONG_LINK} now</p>",
            "Read https://www.theguardian.com/money/2019/dec/07/i-lost-my-inheritance now",
        ),
        (
            '<p>see <a href="https://e.example/x">this page</a></p>',
            "see this page (https://e.example/x)",
        ),
        ("<p>Fish &amp; chips &lt;3 &quot;yes&quot;</p>", 'Fish & chips <3 "yes"'),
        ("<p>spaced\n   out</p>", "spaced out"),
        (
            '<p class="quote-inline">RE: <a href="https://m.example/@a/1">https://m.example/@a/1</a></p>'
            "<p>my take</p>",
            "my take",
        ),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("<ol><li>one</li><li>two</li></ol>", "1. one\n2. two"),
        ("<blockquote><p>quoted</p></blockquote><p>mine</p>", "> quoted\n\nmine"),
        ("<pre><code>x  = 1\n  y</code></pre>", "x  = 1\n  y"),
        ('<p>hey <img class="custom-emoji" alt=":blobcat:" src="x.png"></p>', "hey :blobcat:"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("", ""),
        ("no markup at all", "no markup at all"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text
