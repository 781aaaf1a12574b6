"""ex_send_document through a 2xx answer that cannot be read: Telegram sent the document, so
the error must be OutcomeUnknownError (never one that says nothing was sent, after which an
application would send the document again)."""

from __future__ import annotations

import pytest

from socialkit import OutcomeUnknownError
from socialkit._http import make_client
from socialkit.testing.fakes import FakeTelegram
from socialkit.testing.faults import CASE_SETTINGS, FaultProxy

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.parametrize("fault", ["malformed", "html", "empty"])
async def test_a_document_whose_answer_cannot_be_read_is_unknown(fault: str) -> None:
    proxy = FaultProxy(lambda method, path: method == "POST" and path.endswith("/sendDocument"))
    fake = FakeTelegram(base_url=proxy.url)
    await proxy.start(fake.app)
    http = make_client(timeout=float(CASE_SETTINGS["timeout"]))
    adapter = fake.connect(http=http, **CASE_SETTINGS)
    try:
        await proxy.arm(fault)
        with pytest.raises(OutcomeUnknownError):
            await adapter.ex_send_document(b"%PDF-1.4 a report", filename="report.pdf")
        await proxy.disarm()
        assert len(fake.chat_messages()) == 1
    finally:
        await adapter.aclose()
        await http.aclose()
        await proxy.aclose()
