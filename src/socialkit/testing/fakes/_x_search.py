"""The query language of X's recent search (``GET /2/tweets/search/recent``), for FakeX.

A subset of the operators X documents ("Build a query", docs.x.com/x-api/posts/search):
keywords (matched as whole words, case-insensitive), ``"exact phrases"``, ``@mentions``,
``#hashtags``, ``$cashtags``, ``from:``, ``to:``, ``conversation_id:``,
``in_reply_to_tweet_id:``, ``quotes_of_tweet_id:``, ``retweets_of_tweet_id:``, ``retweets_of:``,
``url:``, ``lang:``, ``is:reply`` / ``is:retweet`` / ``is:quote`` / ``is:verified``,
``has:media`` / ``has:images`` / ``has:videos`` / ``has:links`` / ``has:mentions`` /
``has:hashtags``; terms side by side are ANDed, ``OR`` between them, ``-`` negates, parentheses
group. As on X, a query needs at least one standalone operator (``is:``, ``has:`` and ``lang:``
only narrow), and an unknown operator is an error.

Written here because no library implements X's query language (it is X's own; a parser of a
generic boolean syntax would still need X's operators and its whole-word keyword matching).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Candidate", "QueryError", "parse_query"]


class QueryError(ValueError):
    """The query is not one X accepts (the fake answers 400 invalid-request)."""


@dataclass(frozen=True)
class Candidate:
    """What a search term can look at in one post."""

    id: str
    text: str
    author: str  # username, lower case
    conversation_id: str
    reply_to: str | None = None
    reply_to_user: str | None = None  # username, lower case
    quote_of: str | None = None
    repost_of: str | None = None
    repost_of_user: str | None = None  # username, lower case
    lang: str = "und"
    media_kinds: frozenset[str] = field(default_factory=frozenset)  # photo, video, animated_gif
    verified: bool = False


Predicate = Callable[[Candidate], bool]

_TOKEN = re.compile(
    r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<neg>-)(?=[^\s)])|(?P<phrase>"[^"]*")|(?P<word>[^\s()"]+))'
)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def _word(text: str, word: str) -> bool:
    # X matches keywords against the tokenized text: punctuation and symbols split tokens, so
    # "launch" matches "#launch!" but not "launches".
    pattern = r"(?<![\w])" + re.escape(word) + r"(?![\w])"
    return re.search(pattern, text, re.IGNORECASE) is not None


def _has_prefixed(text: str, prefix: str) -> bool:
    return re.search(r"(?<![\w])" + re.escape(prefix) + r"\w", text) is not None


def _term(word: str) -> tuple[Predicate, bool]:
    """A predicate for one term, and whether it is a standalone operator."""
    lowered = word.lower()
    if lowered.startswith("@") and len(word) > 1:
        return (lambda c: _word(c.text, word)), True
    if lowered.startswith(("#", "$")) and len(word) > 1:
        return (lambda c: _word(c.text, word)), True
    name, sep, value = word.partition(":")
    if not sep or not name or name.startswith("http"):
        return (lambda c: _word(c.text, word) or word.lower() in c.text.lower().split()), True
    if not value:
        raise QueryError(f"There were errors processing your request: empty value for '{name}:'")
    name = name.lower()
    value_l = value.lower().removeprefix("@")
    standalone: dict[str, Predicate] = {
        "from": lambda c: c.author == value_l,
        "to": lambda c: c.reply_to_user == value_l,
        "conversation_id": lambda c: c.conversation_id == value,
        "in_reply_to_tweet_id": lambda c: c.reply_to == value,
        "in_reply_to_status_id": lambda c: c.reply_to == value,
        "quotes_of_tweet_id": lambda c: c.quote_of == value,
        "retweets_of_tweet_id": lambda c: c.repost_of == value,
        "retweets_of": lambda c: c.repost_of_user == value_l,
        "url": lambda c: any(value_l in u.lower() for u in _URL.findall(c.text)),
    }
    if name in standalone:
        return standalone[name], True
    if name == "lang":
        return (lambda c: c.lang == value_l), False
    if name == "is":
        flags: dict[str, Predicate] = {
            "reply": lambda c: c.reply_to is not None,
            "retweet": lambda c: c.repost_of is not None,
            "quote": lambda c: c.quote_of is not None,
            "verified": lambda c: c.verified,
        }
        if value_l not in flags:
            raise QueryError(f"There were errors processing your request: unknown 'is:{value}'")
        return flags[value_l], False
    if name == "has":
        has: dict[str, Predicate] = {
            "media": lambda c: bool(c.media_kinds),
            "images": lambda c: "photo" in c.media_kinds,
            "videos": lambda c: bool(c.media_kinds & {"video", "animated_gif"}),
            "links": lambda c: _URL.search(c.text) is not None,
            "mentions": lambda c: _has_prefixed(c.text, "@"),
            "hashtags": lambda c: _has_prefixed(c.text, "#"),
        }
        if value_l not in has:
            raise QueryError(f"There were errors processing your request: unknown 'has:{value}'")
        return has[value_l], False
    raise QueryError(
        f"There were errors processing your request: Reference to invalid operator '{name}'. "
        "Operator is not available in current product or product packaging."
    )


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens: list[tuple[str, str]] = []
        position = 0
        while position < len(query):
            match = _TOKEN.match(query, position)
            if match is None or match.end() == position:
                if query[position:].strip():
                    raise QueryError("There were errors processing your request: unbalanced quotes")
                break
            position = match.end()
            kind = match.lastgroup
            assert kind is not None
            self.tokens.append((kind, match.group(kind)))
        self.index = 0
        self.standalone = False

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def parse(self) -> Predicate:
        if not self.tokens:
            raise QueryError("There were errors processing your request: empty query")
        result = self.or_expr()
        if self.peek() is not None:
            raise QueryError("There were errors processing your request: unbalanced parentheses")
        if not self.standalone:
            raise QueryError(
                "There were errors processing your request: Rules must contain at least one "
                "positive, non-stopword clause"
            )
        return result

    def or_expr(self) -> Predicate:
        branches = [self.and_expr()]
        while self.peek() == ("word", "OR"):
            self.index += 1
            branches.append(self.and_expr())
        if len(branches) == 1:
            return branches[0]
        return lambda c: any(b(c) for b in branches)

    def and_expr(self) -> Predicate:
        parts: list[Predicate] = []
        while True:
            token = self.peek()
            if token is None or token[0] == "rp" or token == ("word", "OR"):
                break
            parts.append(self.unary())
        if not parts:
            raise QueryError("There were errors processing your request: empty clause")
        if len(parts) == 1:
            return parts[0]
        return lambda c: all(p(c) for p in parts)

    def unary(self) -> Predicate:
        token = self.peek()
        if token is not None and token[0] == "neg":
            self.index += 1
            saved = self.standalone
            inner = self.atom()
            self.standalone = saved  # a negated term is not a positive clause
            return lambda c: not inner(c)
        return self.atom()

    def atom(self) -> Predicate:
        token = self.peek()
        if token is None:
            raise QueryError("There were errors processing your request: incomplete query")
        kind, value = token
        self.index += 1
        if kind == "lp":
            inner = self.or_expr()
            if self.peek() != ("rp", ")"):
                raise QueryError(
                    "There were errors processing your request: unbalanced parentheses"
                )
            self.index += 1
            return inner
        if kind == "rp":
            raise QueryError("There were errors processing your request: unbalanced parentheses")
        if kind == "phrase":
            phrase = value[1:-1].lower()
            self.standalone = self.standalone or bool(phrase.strip())
            return lambda c: phrase in c.text.lower()
        predicate, standalone = _term(value)
        self.standalone = self.standalone or standalone
        return predicate


def parse_query(query: str) -> Predicate:
    """Compile ``query`` into a predicate over :class:`Candidate`; raises :class:`QueryError`."""
    return _Parser(query).parse()
