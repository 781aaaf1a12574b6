"""What the FakeTelegram tests share: recording the adapter's traffic and checking every
exchange against the official description (``../shared/specs/telegram/api.json``, read in place
once per run by ``tests._validation.telegram.telegram_checker``)."""

from __future__ import annotations

import httpx
from tests._validation.telegram import telegram_checker


class Traffic:
    """Records every exchange of an ``httpx.AsyncClient`` (a response event hook) and checks
    them all in :meth:`verify`: each request against its method's parameters, each answer
    against the method's return type or the error envelope."""

    def __init__(self) -> None:
        self.exchanges: list[tuple[httpx.Request, httpx.Response]] = []

    def attach(self, client: httpx.AsyncClient) -> None:
        client.event_hooks["response"].append(self._record)

    async def _record(self, response: httpx.Response) -> None:
        await response.aread()
        try:
            response.request.content  # noqa: B018 - a multipart upload is a stream
        except httpx.RequestNotRead:
            await response.request.aread()
        self.exchanges.append((response.request, response))

    def methods(self) -> list[str]:
        api = telegram_checker()
        return [api.method_of(request) for request, _ in self.exchanges]

    def verify(self) -> None:
        assert self.exchanges, "no traffic was recorded"
        api = telegram_checker()
        problems = []
        for request, response in self.exchanges:
            found = api.request_violations(request) + api.response_violations(request, response)
            if found:
                problems.append(f"{api.method_of(request)} -> {response.status_code}: {found}")
        if problems:
            raise AssertionError(
                f"{len(problems)} exchange(s) do not conform to api.json:\n" + "\n".join(problems)
            )
