"""Publish one announcement everywhere, with a variant per network.

Each network gets the text that suits it (X's 280 weighted characters, Bluesky's 300
graphemes, Mastodon's 500), the same image with its alt text, and a thread where the text is
long. Every post is checked offline first; one account failing never stops the others.

    python examples/publish_everywhere.py --fake
"""

from __future__ import annotations

import asyncio

from _common import Fakes, connect_accounts, parser

import socialkit
from socialkit import Adapter, Media, Post

#: A 1x1 PNG, standing in for your launch picture (use Media.from_path("launch.png", ...)).
PICTURE = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100ffff03000006000557bfabd400000000"
    "49454e44ae426082"
)

LONG = (
    "Our spring release is out: faster sync, offline drafts, and a new look for the "
    "inbox. Thank you to everyone who tried the beta and told us what broke. "
)


def variant(adapter: Adapter) -> Post:
    """The post for one network."""
    image = Media.from_bytes(PICTURE, alt="The new inbox, in spring colours")
    if adapter.name == "x":  # short, with the details in a thread
        return Post(
            text="Our spring release is out! 🌱 Faster sync, offline drafts, a new inbox.",
            media=[image],
            thread=[Post(text="Thank you to everyone who tried the beta and told us what broke.")],
        )
    if adapter.name == "bluesky":
        return Post(text=LONG.strip()[:290], media=[image], language="en")
    return Post(text=LONG + "#release", media=[image], language="en")


async def main() -> None:
    args = parser(__doc__).parse_args()
    adapters = connect_accounts(Fakes(names=args.networks) if args.fake else None)
    posts = {a.label: variant(a) for a in adapters}
    async with socialkit.Hub(adapters) as hub:
        for label, problems in hub.check(Post(text=LONG * 4)).items():
            if problems:  # the same text everywhere does not fit every network
                print(f"{label}: one text for all would be refused: {problems[0].message}")
        for label, adapter in zip(posts, adapters, strict=True):
            problems = adapter.check(posts[label])
            assert not problems, (label, problems)  # each variant fits its network
        results = await hub.publish(posts)
    for label, result in results.items():
        if result.ok:
            posted = result.unwrap()
            print(f"{label}: published {posted.url} (+{len(posted.thread)} in the thread)")
        else:
            print(f"{label}: failed: {result.error}")


if __name__ == "__main__":
    asyncio.run(main())
