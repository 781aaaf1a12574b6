"""A reply bot: answer new mentions and direct messages on every account, once each.

The bot keeps, per account, the time of the newest message it has seen in a JSON file, so a
restart goes on where it stopped and never answers a message twice. ``--once`` answers what
is there and exits (for cron); without it the bot polls every ``--interval`` seconds.

    python examples/reply_bot.py --fake --once
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from _common import Fakes, connect_accounts, parser

from socialkit import Adapter, Message, SocialkitError


def answer_to(message: Message) -> str:
    """What the bot says (replace with your own rules)."""
    if message.kind == "direct":
        return "Thanks for your message! A human will get back to you within a day."
    if "?" in message.text:
        return "Good question! The answer is in our FAQ: https://example.com/faq"
    return "Thank you! 🙌"


async def answer_new(adapter: Adapter, state: dict[str, dict[str, Any]]) -> int:
    """Answer what arrived since the last run; returns how many were answered.

    A walk goes from the newest message back: new messages are those newer than the newest
    one seen, so the bot keeps that time (and the ids seen at that very time, which may come
    again) rather than a resume cursor, which continues toward older messages.
    """
    me = await adapter.me()
    seen = state.setdefault(adapter.label, {"since": None, "ids": []})
    since = datetime.fromisoformat(seen["since"]) if seen["since"] else None
    # The first run looks at the last 20 messages only.
    feed = adapter.messages(kinds={"mention", "direct"}, since=since, limit=None if since else 20)
    answered = 0
    newest: list[Message] = []
    async for message in feed:
        if message.id in seen["ids"]:
            continue
        newest.append(message)
        if message.author.id == me.id:
            continue  # our own answers show up too
        try:
            await adapter.reply(message, answer_to(message))
            answered += 1
            print(f"{adapter.label}: answered {message.kind} from @{message.author.handle}")
        except SocialkitError as error:
            print(f"{adapter.label}: could not answer {message.id}: {error}")
    if newest:
        top = max(m.created_at for m in newest)
        ids = [m.id for m in newest if m.created_at == top]
        if since is not None and top == since:
            ids += seen["ids"]
        seen.update(since=top.isoformat(), ids=ids)
    return answered


async def main() -> None:
    cli = parser(__doc__)
    cli.add_argument("--once", action="store_true", help="answer what is there, then exit")
    cli.add_argument("--interval", type=float, default=60.0, help="seconds between polls")
    cli.add_argument("--state", type=Path, default=Path("reply-bot.json"), help="state file")
    args = cli.parse_args()
    fakes = Fakes(names=args.networks) if args.fake else None
    adapters = connect_accounts(fakes)
    if fakes is not None:  # someone writes to every fake account
        for fake in fakes.networks.values():
            fan = fake.add_user("fan")
            fake.mention(fan, "does it work offline?")
            fake.direct(fan, "hello, can I get a demo?")
    state: dict[str, dict[str, Any]] = (
        json.loads(args.state.read_text()) if args.state.exists() else {}
    )
    try:
        while True:
            for adapter in adapters:
                await answer_new(adapter, state)
            args.state.write_text(json.dumps(state, indent=2))
            if args.once:
                break
            await asyncio.sleep(args.interval)
    finally:
        for adapter in adapters:
            await adapter.aclose()


if __name__ == "__main__":
    asyncio.run(main())
