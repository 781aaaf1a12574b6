"""Listening: watches across capable adapters, each item once, volume, share of voice, rising."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pydantic
import pytest
from wf_support import T0, FakeAdapter, post

from socialkit import Capability, MemoryStore, SQLiteStore
from socialkit.workflows import LexiconScorer, Listening, Watch

pytestmark = pytest.mark.anyio

WATCHES = [
    Watch(name="acme", role="brand", keywords=["acme"], accounts=["acme"]),
    Watch(name="globex", role="competitor", hashtags=["#globex"], accounts=["globex"]),
]


def adapters() -> tuple[FakeAdapter, FakeAdapter, FakeAdapter]:
    full = FakeAdapter("x", "main")
    search_only = FakeAdapter("mastodon", "m", capabilities=[Capability.SEARCH])
    blind = FakeAdapter("telegram", "t", capabilities=[Capability.PUBLISH_TEXT])
    return full, search_only, blind


def test_watch_validation() -> None:
    with pytest.raises(pydantic.ValidationError, match="needs keywords, hashtags or accounts"):
        Watch(name="empty")
    with pytest.raises(pydantic.ValidationError, match="single non-empty words"):
        Watch(name="w", hashtags=["two words"])
    assert Watch(name="w", hashtags=["#Tag"]).queries() == ["#Tag"]


async def test_sources_follow_capabilities() -> None:
    full, search_only, blind = adapters()
    listening = Listening([full, search_only, blind], WATCHES, store=MemoryStore())
    sources = {(w.name, label, via, q) for w, label, via, q in listening.sources()}
    assert sources == {
        ("acme", "x:main", "search", "acme"),
        ("acme", "x:main", "account", "acme"),
        ("acme", "mastodon:m", "search", "acme"),
        ("globex", "x:main", "search", "#globex"),
        ("globex", "x:main", "account", "globex"),
        ("globex", "mastodon:m", "search", "#globex"),
    }


async def test_items_once_each_across_queries_and_restarts(tmp_path: Path) -> None:
    full, search_only, blind = adapters()
    full.public = [
        post("p1", "acme is great", at=T0),
        post("p2", "#globex launch today", at=T0 + timedelta(minutes=1)),
    ]
    # Posted by the brand account AND matching its keyword: found twice, delivered once.
    own = post("p3", "acme news", at=T0 + timedelta(minutes=2), author="acme")
    full.public.append(own)
    full.others = {"acme": [own], "globex": [post("g1", "our product", at=T0, author="globex")]}
    search_only.public = [post("p1", "acme on mastodon", at=T0, network="mastodon")]
    path = tmp_path / "listen.db"
    store = SQLiteStore(path)
    listening = Listening([full, search_only, blind], WATCHES, store=store)
    first = await listening.poll()
    assert sorted((i.watch, i.network, i.post_id) for i in first) == [
        ("acme", "mastodon", "p1"),
        ("acme", "x", "p1"),
        ("acme", "x", "p3"),
        ("globex", "x", "g1"),
        ("globex", "x", "p2"),
    ]
    assert await listening.poll() == []
    await store.aclose()

    full.public.append(post("p4", "acme again, same second", at=T0 + timedelta(minutes=2)))
    full.others["globex"].append(post("g2", "new", at=T0 + timedelta(hours=1), author="globex"))
    store = SQLiteStore(path)
    listening = Listening([full, search_only, blind], WATCHES, store=store)
    second = await listening.poll()
    assert sorted((i.watch, i.post_id) for i in second) == [("acme", "p4"), ("globex", "g2")]
    assert await listening.poll() == []
    assert len(await listening.items()) == 7
    await store.aclose()


def burst_history() -> tuple[FakeAdapter, list[Watch]]:
    full = FakeAdapter("x", "main")
    for i in range(48):  # two mentions an hour of acme for two days, one of globex
        at = T0 + timedelta(hours=i)
        full.public.append(post(f"a{i}a", "acme works fine", at=at, metrics={"likes": 1}))
        full.public.append(post(f"a{i}b", "using acme today", at=at + timedelta(minutes=30)))
        full.others.setdefault("globex", []).append(
            post(f"g{i}", "globex update #globex", at=at, author="globex", metrics={"likes": i})
        )
    # In the last four hours a new term and hashtag take off.
    for i in range(12):
        at = T0 + timedelta(hours=44, minutes=20 * i)
        full.public.append(
            post(f"r{i}", "acme outage again #acmedown refund please", at=at, metrics={"likes": 3})
        )
    watches = [
        Watch(name="acme", role="brand", keywords=["acme"]),
        Watch(name="globex", role="competitor", accounts=["globex"]),
    ]
    return full, watches


async def test_volume_share_of_voice_and_competitor_engagement() -> None:
    full, watches = burst_history()
    listening = Listening(
        [full], watches, store=MemoryStore(), scorer=LexiconScorer(), initial_limit=None
    )
    await listening.poll()
    buckets = await listening.volume(
        "acme", bucket=timedelta(hours=1), since=T0, until=T0 + timedelta(hours=48)
    )
    assert len(buckets) == 48
    assert [b.count for b in buckets[:44]] == [2] * 44
    assert [b.count for b in buckets[44:]] == [5, 5, 5, 5]
    assert buckets[45].negative == 3  # "outage … refund" scores negative
    assert buckets[45].top_negative[0].post_id.startswith("r")

    share = await listening.share_of_voice(since=T0, until=T0 + timedelta(hours=48))
    assert share == pytest.approx({"acme": 108 / 156, "globex": 48 / 156})
    eng = await listening.competitor_engagement()
    assert set(eng) == {"globex"}
    assert eng["globex"].posts == 48
    assert eng["globex"].total == sum(range(48))
    assert eng["globex"].top[0].post_id == "g47"


async def test_rising_terms_against_their_baseline() -> None:
    full, watches = burst_history()
    listening = Listening([full], watches, store=MemoryStore(), initial_limit=None)
    await listening.poll()
    rising = await listening.rising_terms(
        "acme",
        now=T0 + timedelta(hours=48),
        recent=timedelta(hours=4),
        baseline=timedelta(hours=40),
    )
    terms = [t.term for t in rising]
    assert {"outage", "refund", "#acmedown"} <= set(terms[:5])
    assert "acme" not in terms  # the watch's own keyword is never "rising"
    assert "works" not in terms  # steady terms do not rise
    outage = next(t for t in rising if t.term == "outage")
    assert (outage.recent, outage.baseline) == (12, 0)
    only_tags = await listening.rising_terms(
        "acme", now=T0 + timedelta(hours=48), recent=timedelta(hours=4), only="hashtags"
    )
    assert [t.term for t in only_tags] == ["#acmedown"]


async def test_unknown_watch_is_a_clear_error() -> None:
    listening = Listening([FakeAdapter("x", "a")], WATCHES, store=MemoryStore())
    with pytest.raises(KeyError, match="no watch named 'nope'"):
        await listening.items("nope")


def test_a_streamed_post_matches_its_query_in_either_unicode_form() -> None:
    # A streamed post whose network does not say which query it matched is matched on its
    # text: "remboursé" with a combining accent (NFD) is the keyword "remboursé" (NFC), and
    # "rembourse" is another word.
    import unicodedata

    from socialkit.workflows.listening import _matches

    nfd = unicodedata.normalize("NFD", "Jamais remboursé par Acme")
    found = post("1", nfd, at=T0, language="fr")
    assert _matches(found, "remboursé")
    assert not _matches(found, "rembourse")
    assert _matches(post("2", "Jamais remboursé", at=T0), unicodedata.normalize("NFD", "remboursé"))
