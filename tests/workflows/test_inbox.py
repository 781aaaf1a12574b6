"""The unified inbox: routing tables, polling with persisted cursors, replies and reports."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from wf_support import T0, FakeAdapter, message

from socialkit import ConfigurationError, InvalidPostError, MemoryStore, SQLiteStore
from socialkit.workflows import Inbox, LexiconScorer, RoutingRule, RoutingTable

pytestmark = pytest.mark.anyio

TABLE = RoutingTable(
    rules=[
        RoutingRule(name="vip", queue="vip", priority=9, followers_min=10_000),
        RoutingRule(name="press", queue="press", priority=5, keywords=["journalist", "interview"]),
        RoutingRule(name="angry", queue="support", priority=7, sentiment_max=-0.3),
        RoutingRule(name="dm", queue="support", priority=3, kinds=["direct"]),
        RoutingRule(name="order", queue="sales", regex=r"(?i)\border\s+#\d+"),
        RoutingRule(name="french", queue="fr", languages=["fr"]),
        RoutingRule(name="spam", queue="spam", authors=["@SpamBot"], ignore=True),
        RoutingRule(name="x-only", queue="x", networks=["x"]),
    ],
    default_queue="general",
)
SCORER = LexiconScorer()


def route(text: str, **kwargs: object) -> tuple[str, str | None]:
    kwargs.setdefault("network", "mastodon")
    msg = message("1", text, **kwargs)  # type: ignore[arg-type]
    from socialkit.workflows.sentiment import score_or_none

    r = TABLE.route(msg, sentiment=score_or_none(SCORER, msg.text, msg.language))
    return r.queue, r.rule


# -- routing ---------------------------------------------------------------------------------


def test_first_match_wins() -> None:
    # A journalist with a large audience matches "vip" and "press": the first rule wins.
    assert route("I'm a journalist, can we do an interview?", followers=50_000) == ("vip", "vip")
    assert route("I'm a journalist, can we do an interview?", followers=10) == ("press", "press")


def test_each_condition_routes() -> None:
    assert route("Worst service ever, I hate this") == ("support", "angry")
    assert route("hello there", kind="direct") == ("support", "dm")
    assert route("Where is ORDER #1234?") == ("sales", "order")
    assert route("Bonjour, une question", language="fr-FR") == ("fr", "french")
    assert route("buy followers", author="spambot") == ("spam", "spam")
    assert route("hello", network="x") == ("x", "x-only")


def test_default_queue_when_nothing_matches() -> None:
    assert route("hello there") == ("general", None)


def test_keywords_match_whole_words_only() -> None:
    assert route("the interviewer said hi") == ("general", None)


def test_keywords_match_across_unicode_normal_forms() -> None:
    # "remboursé" typed with a combining accent (NFD, as macOS and some clients send it) is
    # the same word as the precomposed one (NFC); and the accent is part of the word, so
    # "rembourse" must not match "remboursé" whatever the form.
    table = RoutingTable(
        rules=[
            RoutingRule(name="refund", queue="billing", keywords=["remboursé"]),
            RoutingRule(name="verb", queue="verb", keywords=["rembourse"]),
        ]
    )
    nfc = unicodedata.normalize("NFC", "Je veux être remboursé !")
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfc != nfd
    assert table.route(message("1", nfc, language="fr")).rule == "refund"
    assert table.route(message("2", nfd, language="fr")).rule == "refund"
    decomposed_rule = RoutingTable(
        rules=[
            RoutingRule(
                name="refund", queue="billing", keywords=[unicodedata.normalize("NFD", "Remboursé")]
            )
        ]
    )
    assert decomposed_rule.route(message("3", nfc, language="fr")).rule == "refund"
    assert table.route(message("4", "Il rembourse demain", language="fr")).rule == "verb"


def test_unknown_audience_or_sentiment_does_not_match() -> None:
    # followers unknown: the vip rule cannot match, the message goes on down the table.
    assert route("journalist here", followers=None) == ("press", "press")
    table = RoutingTable(rules=[RoutingRule(name="neg", queue="q", sentiment_max=0.0)])
    msg = message("1", "terrible", language="es")
    assert table.route(msg, sentiment=None).queue == "inbox"


def test_ignore_rule_sets_status() -> None:
    msg = message("1", "buy now", author="SpamBot")
    assert TABLE.route(msg).status == "ignored"
    assert TABLE.route(message("2", "hi")).status == "new"


TOML = """
default_queue = "general"

[[rules]]
name = "press"
queue = "press"
priority = 5
keywords = ["journalist"]

[[rules]]
name = "big"
queue = "vip"
followers_min = 1000
"""


def test_load_from_toml_text_and_file(tmp_path: Path) -> None:
    table = RoutingTable.from_toml(TOML)
    assert [r.name for r in table.rules] == ["press", "big"]
    assert table.route(message("1", "a journalist", followers=5000)).queue == "press"
    assert table.route(message("1", "hello", followers=5000)).queue == "vip"
    path = tmp_path / "routing.toml"
    path.write_text(TOML, encoding="utf-8")
    assert RoutingTable.from_file(path) == table
    assert RoutingTable.from_toml(str(path)) == table


def test_load_from_json_matches_toml(tmp_path: Path) -> None:
    data = RoutingTable.from_toml(TOML).model_dump(exclude_defaults=True)
    path = tmp_path / "routing.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert RoutingTable.from_file(path) == RoutingTable.from_toml(TOML)
    assert RoutingTable.from_json(json.dumps(data)) == RoutingTable.from_toml(TOML)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[rules]]\nname = "r"\nqueue = "q"\nregex = "(unclosed"\n', "rules[0].regex"),
        ('[[rules]]\nname = "r"\nqueue = "q"\nfolowers_min = 3\n', "rules[0].folowers_min"),
        ('[[rules]]\nname = "r"\nqueue = "q"\nkinds = ["tweet"]\n', "rules[0].kinds[0]"),
        ('[[rules]]\nname = "r"\n', "rules[0].queue"),
        (
            '[[rules]]\nname = "r"\nqueue = "q"\nsentiment_min = 0.5\nsentiment_max = 0.1\n',
            "sentiment_min is greater than sentiment_max",
        ),
        ('[[rules]]\nname = "r"\nqueue = "q"\n[[rules]]\nname = "r"\nqueue = "z"\n', "unique"),
    ],
)
def test_bad_rule_is_a_clear_error(text: str, expected: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        RoutingTable.from_toml(text)
    assert expected in str(info.value)
    assert info.value.problems


def test_bad_syntax_and_suffix_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        RoutingTable.from_toml("rules = [")
    with pytest.raises(ConfigurationError, match="not valid JSON"):
        RoutingTable.from_json("{rules: }")
    with pytest.raises(ConfigurationError, match=r"\.toml or \.json"):
        RoutingTable.from_file(tmp_path / "rules.yaml")
    with pytest.raises(ConfigurationError, match="cannot read"):
        RoutingTable.from_file(tmp_path / "missing.toml")


# -- polling ---------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_poll_merges_sources_newest_first_and_deduplicates() -> None:
    a = FakeAdapter("x", "support")
    b = FakeAdapter("x", "brand")
    c = FakeAdapter("mastodon", "brand")
    shared = message("42", "@support @brand hello", at=T0 + timedelta(minutes=5), network="x")
    a.inbox = [message("1", "first", network="x"), shared]
    b.inbox = [shared]
    c.inbox = [
        message("1", "same id, other network", at=T0 + timedelta(minutes=1), network="mastodon")
    ]
    inbox = Inbox([a, b, c], store=MemoryStore())
    items = await inbox.poll()
    assert [i.key.split("\x1f") for i in items] == [["x", "42"], ["mastodon", "1"], ["x", "1"]]
    merged = await inbox.get(items[0])
    assert sorted(merged.sources) == ["x:brand", "x:support"]
    assert await inbox.poll() == []


async def test_conversations_group_messages() -> None:
    a = FakeAdapter("x", "a")
    a.inbox = [
        message("1", "q1", at=T0, conversation="c1"),
        message("2", "q2", at=T0 + timedelta(minutes=2), conversation="c1"),
        message("3", "comment", at=T0 + timedelta(minutes=1), post_id="p9"),
        message("4", "another comment", at=T0 + timedelta(minutes=3), post_id="p9"),
        message("5", "alone", at=T0 + timedelta(minutes=4)),
    ]
    inbox = Inbox([a], store=MemoryStore())
    await inbox.poll()
    convs = await inbox.conversations()
    assert [[i.message.id for i in c.items] for c in convs] == [["5"], ["4", "3"], ["2", "1"]]
    assert convs[1].open == 2


async def test_restart_loses_nothing_and_repeats_nothing(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    adapter = FakeAdapter("x", "support")
    adapter.inbox = [
        message("m1", "one", at=T0),
        message("m2", "two", at=T0 + timedelta(minutes=1)),
    ]
    store = SQLiteStore(path)
    first = await Inbox([adapter], store=store).poll()
    assert [i.message.id for i in first] == ["m2", "m1"]
    await store.aclose()

    # While the process is down: one message with the SAME timestamp as the newest seen, one
    # that shows up late with an older timestamp (inside the overlap), and a newer one.
    adapter.inbox += [
        message("m3", "same second as m2", at=T0 + timedelta(minutes=1)),
        message("m0", "late arrival", at=T0 + timedelta(seconds=30)),
        message("m5", "newer", at=T0 + timedelta(minutes=5)),
    ]
    store = SQLiteStore(path)
    inbox = Inbox([adapter], store=store)
    second = await inbox.poll()
    assert [i.message.id for i in second] == ["m5", "m3", "m0"]
    # The restarted poll asked from the persisted cursor minus the overlap.
    assert adapter.calls[-1] == ("messages", T0 + timedelta(minutes=1) - timedelta(minutes=10))
    assert await inbox.poll() == []
    assert len(await inbox.items()) == 5
    await store.aclose()


async def test_failing_source_keeps_cursor_and_delivers_what_it_stored() -> None:
    class Flaky(FakeAdapter):
        fail_after: int | None = None

        async def messages(self, **kwargs):  # type: ignore[no-untyped-def, override]
            count = 0
            async for m in super().messages(**kwargs):
                if self.fail_after is not None and count == self.fail_after:
                    raise RuntimeError("connection reset")
                count += 1
                yield m

    store = MemoryStore()
    flaky = Flaky("x", "a")
    other = FakeAdapter("mastodon", "b")
    flaky.inbox = [
        message(f"f{i}", "hi", at=T0 + timedelta(minutes=i), network="x") for i in range(4)
    ]
    other.inbox = [message("o1", "hello", at=T0, network="mastodon")]
    flaky.fail_after = 2
    inbox = Inbox([flaky, other], store=store)
    got = await inbox.poll()
    assert sorted(i.message.id for i in got) == ["f2", "f3", "o1"]
    assert isinstance(inbox.errors["x:a"], RuntimeError)
    assert await store.get("inbox.cursor", "x:a") is None  # the cursor did not move
    flaky.fail_after = None
    again = await inbox.poll()
    assert sorted(i.message.id for i in again) == ["f0", "f1"]
    assert inbox.errors == {}


async def test_two_processes_polling_at_once_deliver_each_message_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    adapter = FakeAdapter("x", "a")
    adapter.inbox = [message(f"m{i}", "hi", at=T0 + timedelta(seconds=i)) for i in range(30)]
    s1, s2 = SQLiteStore(path), SQLiteStore(path)
    r1, r2 = await asyncio.gather(
        Inbox([adapter], store=s1).poll(), Inbox([adapter], store=s2).poll()
    )
    ids = [i.message.id for i in r1] + [i.message.id for i in r2]
    assert sorted(ids) == sorted(f"m{i}" for i in range(30))
    await s1.aclose()
    await s2.aclose()


async def test_seen_set_is_bounded() -> None:
    store = MemoryStore()
    adapter = FakeAdapter("x", "a")
    adapter.inbox = [message(f"m{i}", "hi", at=T0 + timedelta(hours=i)) for i in range(10)]
    inbox = Inbox([adapter], store=store, retention=timedelta(hours=3), overlap=timedelta(hours=1))
    await inbox.poll()
    seen = await store.items("inbox.seen")
    # created within 3 hours of the newest (m9 at +9h): m6..m9
    assert sorted(k.split("\x1f")[1] for k, _ in seen) == ["m6", "m7", "m8", "m9"]
    assert await inbox.poll() == []


async def test_stream_yields_each_message_once() -> None:
    adapter = FakeAdapter("x", "a")
    adapter.inbox = [message("1", "a"), message("2", "b", at=T0 + timedelta(seconds=1))]
    inbox = Inbox([adapter], store=MemoryStore())
    got = [i.message.id async for i in inbox.stream(interval=0, max_polls=3)]
    assert got == ["2", "1"]


# -- acting and reporting --------------------------------------------------------------------


async def test_reply_goes_through_the_originating_adapter_and_records_time() -> None:
    x = FakeAdapter("x", "a")
    masto = FakeAdapter("mastodon", "b")
    masto.inbox = [message("9", "help please", at=T0, network="mastodon")]
    clock = Clock(T0 + timedelta(minutes=5))
    inbox = Inbox([x, masto], store=MemoryStore(), clock=clock)
    (item,) = await inbox.poll()
    clock.now = T0 + timedelta(minutes=20)
    posted = await inbox.reply(item, "We're on it")
    assert masto.replies == [("9", "We're on it")]
    assert x.replies == []
    after = await inbox.get(item)
    assert after.status == "answered"
    assert after.first_response_seconds == 20 * 60
    assert after.replies == [posted.id]
    clock.now = T0 + timedelta(hours=2)
    await inbox.reply(item, "Fixed now")
    assert (await inbox.get(item)).first_response_seconds == 20 * 60  # first answer only


async def test_empty_reply_is_refused_before_any_request() -> None:
    a = FakeAdapter("x", "a")
    a.inbox = [message("1", "hi")]
    inbox = Inbox([a], store=MemoryStore())
    (item,) = await inbox.poll()
    with pytest.raises(InvalidPostError):
        await inbox.reply(item, "   ")
    assert a.replies == []
    assert (await inbox.get(item)).status == "new"


async def test_status_tracking_is_persisted(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    a = FakeAdapter("x", "a")
    a.inbox = [message("1", "hi"), message("2", "yo", at=T0 + timedelta(seconds=1))]
    store = SQLiteStore(path)
    inbox = Inbox([a], store=store)
    await inbox.poll()
    await inbox.assign("x\x1f1", "sam", queue="sales")
    await inbox.ignore("x\x1f2")
    await store.aclose()
    store = SQLiteStore(path)
    reopened = Inbox([a], store=store)
    one = await reopened.get("x\x1f1")
    assert (one.status, one.assignee, one.queue) == ("assigned", "sam", "sales")
    assert (await reopened.get("x\x1f2")).status == "ignored"
    assert [i.message.id for i in await reopened.items(status="assigned")] == ["1"]
    await store.aclose()


async def test_report_per_queue() -> None:
    a = FakeAdapter("x", "a")
    table = RoutingTable(rules=[RoutingRule(name="s", queue="support", keywords=["help"])])
    # Ten support messages created at T0 + i min, answered after 5, 10, ..., 50 minutes; one
    # support message unanswered for 2 hours (a breach); one sales message still inside goal.
    a.inbox = [message(f"s{i}", "help", at=T0 + timedelta(minutes=i)) for i in range(10)]
    a.inbox.append(message("late", "help", at=T0 - timedelta(hours=2)))
    a.inbox.append(message("g1", "hi", at=T0 + timedelta(minutes=59)))
    clock = Clock(T0)
    inbox = Inbox([a], store=MemoryStore(), routing=table, clock=clock, initial_limit=None)
    await inbox.poll()
    for i in range(10):
        clock.now = T0 + timedelta(minutes=i + 5 * (i + 1))
        await inbox.reply(f"x\x1fs{i}", "ok")
    clock.now = T0 + timedelta(minutes=61)
    reports = {r.queue: r for r in await inbox.report(goal=timedelta(minutes=30))}
    support = reports["support"]
    assert (support.total, support.answered, support.open) == (11, 10, 1)
    assert support.median_seconds == pytest.approx(27.5 * 60)
    assert support.p90_seconds == pytest.approx(45.5 * 60)
    # answered within 30 min: 5..30 -> 6 of 10, plus one open breach in the denominator
    assert (support.within_goal, support.breached) == (6, 5)
    assert support.share_within_goal == pytest.approx(6 / 11)
    inbox_q = reports["inbox"]
    assert (inbox_q.total, inbox_q.open, inbox_q.share_within_goal) == (1, 1, None)


def test_documented_routing_example_loads() -> None:
    doc = Path(__file__).resolve().parents[2] / "docs" / "workflows.md"
    example = doc.read_text(encoding="utf-8").split("```toml\n", 1)[1].split("```", 1)[0]
    table = RoutingTable.from_toml(example)
    assert [r.name for r in table.rules] == ["vip", "press", "angry", "orders", "spam"]
    msg = message("1", "Where is order #12?", network="mastodon", followers=3)
    assert table.route(msg).queue == "sales"


def test_public_names_are_sorted_and_importable() -> None:
    import socialkit.workflows as wf

    assert wf.__all__ == sorted(wf.__all__)
    assert all(hasattr(wf, name) for name in wf.__all__)
