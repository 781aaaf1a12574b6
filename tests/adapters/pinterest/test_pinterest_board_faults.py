"""Pinterest creates other than a pin (a board, a saved pin) through a 2xx answer that cannot
be read: Pinterest made the object, so the error must be OutcomeUnknownError (never one that
says nothing was made, after which an application would create it again)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from socialkit import OutcomeUnknownError
from socialkit._http import make_client
from socialkit.testing.fakes import FakePinterest
from socialkit.testing.faults import CASE_SETTINGS, FaultProxy

pytestmark = pytest.mark.anyio

#: The fake answers 2xx (the object is made); the client cannot read the answer.
_UNREADABLE = ["malformed", "html", "empty"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def _through(
    fault: str,
    path: Callable[[str], bool],
    act: Callable[[FakePinterest, Any], Awaitable[Any]],
    count: Callable[[FakePinterest], int],
) -> None:
    proxy = FaultProxy(lambda method, p: method == "POST" and path(p))
    fake = FakePinterest(base_url=f"{proxy.url}/v5")
    await proxy.start(fake.app)
    http = make_client(timeout=float(CASE_SETTINGS["timeout"]))
    adapter = fake.connect(http=http, **CASE_SETTINGS)
    try:
        before = count(fake)
        await proxy.arm(fault)
        with pytest.raises(OutcomeUnknownError):
            await act(fake, adapter)
        await proxy.disarm()
        assert count(fake) - before == 1
    finally:
        await adapter.aclose()
        await http.aclose()
        await proxy.aclose()


@pytest.mark.parametrize("fault", _UNREADABLE)
async def test_a_board_whose_answer_cannot_be_read_is_unknown(fault: str) -> None:
    async def act(fake: FakePinterest, adapter: Any) -> None:
        await adapter.ex_create_board("Recipes")

    await _through(fault, lambda p: p == "/v5/boards", act, lambda fake: len(fake.boards))


@pytest.mark.parametrize("fault", _UNREADABLE)
async def test_a_saved_pin_whose_answer_cannot_be_read_is_unknown(fault: str) -> None:
    theirs: list[str] = []

    async def act(fake: FakePinterest, adapter: Any) -> None:
        await adapter.ex_save_pin(theirs[0])

    def count(fake: FakePinterest) -> int:
        if not theirs:
            theirs.append(fake.publish_as(fake.add_user("chef"), "a recipe"))
        return len(fake.pins_of())

    await _through(fault, lambda p: p.endswith("/save"), act, count)
