"""Run by test_store_contract.py in a separate process: increment a counter with compare_and_set.

Usage: python _cas_worker.py CONFIG_JSON COUNT START_FILE
Waits until START_FILE exists (so both processes start together), then performs COUNT
increments of key "counter" in namespace "cas" (read, compare_and_set(old, old + 1), retry when
it lost). Prints the number of lost compare_and_set rounds.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from store_backends import open_store


async def main(config: dict[str, str], count: int, start: Path) -> int:
    store = open_store(config)
    lost = 0
    try:
        await store.get("cas", "warm-up")  # connect and import the driver before the start
        await asyncio.to_thread(wait_for, start)
        for _ in range(count):
            while True:
                current = await store.get("cas", "counter")
                new = str(int(current or "0") + 1)
                if await store.compare_and_set("cas", "counter", current, new):
                    break
                lost += 1
    finally:
        await store.aclose()
    return lost


def wait_for(start: Path) -> None:
    deadline = time.monotonic() + 30
    while not start.exists():
        if time.monotonic() > deadline:
            raise SystemExit("start file never appeared")
        time.sleep(0.005)


if __name__ == "__main__":
    lost = asyncio.run(main(json.loads(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])))
    print(lost)
