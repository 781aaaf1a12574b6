"""Watch a competitor and a keyword across every network, and report share of voice.

Two watches: your brand and a competitor (keywords, hashtags, accounts), plus a topic keyword.
Each poll stores what is new (each post once per watch, with its sentiment and engagement);
the report compares volumes, sentiment and engagement over the period.

    python examples/watch.py --fake --brand acme --competitor globex --keyword outage
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from _common import Fakes, connect_accounts, parser

from socialkit import MemoryStore
from socialkit.workflows import LexiconScorer, Listening, Watch


def simulate_talk(fakes: Fakes, brand: str, competitor: str, keyword: str) -> None:
    """People talk about both brands on the fake networks (only with --fake)."""
    for fake in fakes.networks.values():
        people = [fake.add_user(name) for name in ("ana", "bo", "cy")]
        fake.publish_as(people[0], f"I love my new {brand} phone, the battery lasts forever")
        fake.publish_as(people[1], f"{competitor} support never answers, so disappointed")
        fake.publish_as(people[2], f"Is there a {keyword} at {competitor} right now?")
        fake.publish_as(people[0], f"{brand} or {competitor}? {brand}, easily.")


async def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--brand", default="acme")
    cli.add_argument("--competitor", default="globex")
    cli.add_argument("--keyword", default="outage")
    cli.add_argument("--polls", type=int, default=1, help="how many polls (0: forever)")
    cli.add_argument("--interval", type=float, default=300.0, help="seconds between polls")
    args = cli.parse_args()
    fakes = Fakes(names=args.networks) if args.fake else None
    if fakes is not None:
        simulate_talk(fakes, args.brand, args.competitor, args.keyword)
    adapters = connect_accounts(fakes)
    watches = [
        Watch(name=args.brand, role="brand", keywords=[args.brand]),
        Watch(name=args.competitor, role="competitor", keywords=[args.competitor]),
        Watch(name=args.keyword, role="topic", keywords=[args.keyword]),
    ]
    clock = fakes.clock.now if fakes is not None else None
    listening = (
        Listening(adapters, watches, store=MemoryStore(), scorer=LexiconScorer(), clock=clock)
        if clock is not None
        else Listening(adapters, watches, store=MemoryStore(), scorer=LexiconScorer())
    )
    try:
        polls = 0
        seen: dict[str, int] = {}
        while True:
            for item in await listening.poll():
                seen[item.watch] = seen.get(item.watch, 0) + 1
                mood = "?" if item.sentiment is None else f"{item.sentiment:+.2f}"
                print(f"[{item.watch}] {item.network}: {item.text[:60]!r} sentiment {mood}")
            for label, error in listening.errors.items():
                print(f"{label}: {error}")
            polls += 1
            if args.polls and polls >= args.polls:
                break
            await asyncio.sleep(args.interval)
        now = clock() if clock is not None else datetime.now(timezone.utc)
        week = now - timedelta(days=7)
        share = await listening.share_of_voice(since=week)
        print("share of voice:", {watch: round(value, 2) for watch, value in share.items()})
        for watch, count in sorted(seen.items()):
            print(f"{watch}: {count} new posts in {polls} poll(s)")
    finally:
        for adapter in adapters:
            await adapter.aclose()


if __name__ == "__main__":
    asyncio.run(main())
