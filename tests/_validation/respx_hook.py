"""Check all traffic of a respx router against an official description, at the end of a test.

Usage in an adapter test::

    from tests._validation import OpenAPIChecker, checked

    async def test_publish(respx_mock):
        api = OpenAPIChecker(specs_dir() / "mastodon" / "schema.json",
                             server_url="https://mastodon.example")
        with checked(respx_mock, api) as traffic:
            respx_mock.post("https://mastodon.example/api/v1/statuses").respond(200, json=STATUS)
            hook = respx_mock.post("https://hooks.example/notify").respond(204)
            traffic.exempt(hook, reason="webhook of the test app, not part of the Mastodon API")
            ...  # exercise the adapter
        # leaving the block validated every request and every mocked response

or with the fixture (``pytest_plugins = ["tests._validation.respx_hook"]`` in a conftest, or
``from tests._validation.respx_hook import checked_traffic``)::

    def test_x(respx_mock, checked_traffic):
        traffic = checked_traffic(respx_mock, api)  # verified at teardown

Every request the router saw must conform to the description (method, path, parameters, body)
and every response it returned (the fixtures) must match the response schema, unless the
request went through a route the test exempted **with a reason**. An exemption that no request
used also fails, so exemptions cannot go stale.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import httpx
import pytest
import respx

__all__ = ["CheckedRouter", "Checker", "checked", "checked_traffic"]


class Checker(Protocol):
    """What the hook needs from a checker (OpenAPIChecker and LexiconChecker both qualify)."""

    def request_violations(self, request: httpx.Request) -> list[str]: ...

    def response_violations(
        self, request: httpx.Request, response: httpx.Response
    ) -> list[str]: ...


@dataclass
class _Exemption:
    route: respx.Route
    reason: str
    responses_only: bool
    used: int = 0


@dataclass
class CheckedRouter:
    """Collects exemptions for a respx router and validates its calls in :meth:`verify`."""

    router: respx.Router
    checker: Checker
    _exemptions: list[_Exemption] = field(default_factory=list)
    _verified: bool = False

    def exempt(self, route: respx.Route, *, reason: str) -> respx.Route:
        """Do not check requests through ``route`` (nor their responses). ``reason`` must say
        why the request is not in the description (it is printed in failure reports)."""
        self._exemptions.append(_Exemption(route, _reason(reason), responses_only=False))
        return route

    def exempt_response(self, route: respx.Route, *, reason: str) -> respx.Route:
        """Check requests through ``route`` but not the responses it returns (e.g. a status the
        description does not document, reproduced from the network's real behaviour)."""
        self._exemptions.append(_Exemption(route, _reason(reason), responses_only=True))
        return route

    def violations(self) -> list[str]:
        """Every violation, one paragraph per request/response, in call order."""
        for each in self._exemptions:
            each.used = 0
        problems: list[str] = []
        for index, call in enumerate(self.router.calls):
            request, response = call.request, call.optional_response
            exemption = self._exemption_for(call)
            label = f"call {index + 1}: {request.method} {request.url}"
            if exemption is not None:
                exemption.used += 1
            if exemption is None or exemption.responses_only:
                for problem in self.checker.request_violations(request):
                    problems.append(f"{label}\n    request: {_indent(problem)}")
            if response is not None and exemption is None:
                for problem in self.checker.response_violations(request, response):
                    problems.append(
                        f"{label}\n    mocked response {response.status_code}: {_indent(problem)}"
                    )
        for each in self._exemptions:
            if each.used == 0:
                problems.append(
                    f"exemption for {each.route!r} ({each.reason!r}) matched no call: remove it"
                )
        return problems

    def verify(self) -> None:
        """Fail the test (AssertionError) listing every violation."""
        self._verified = True
        problems = self.violations()
        if problems:
            used = [f"  - {e.route!r}: {e.reason}" for e in self._exemptions if e.used]
            report = "\n".join(f"- {p}" for p in problems)
            suffix = ("\nexemptions in force:\n" + "\n".join(used)) if used else ""
            raise AssertionError(
                f"{len(problems)} request(s)/response(s) do not conform to the official "
                f"description ({self.checker!r}):\n{report}{suffix}"
            )

    def __enter__(self) -> CheckedRouter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.verify()

    def _exemption_for(self, call: Any) -> _Exemption | None:
        for exemption in self._exemptions:
            if any(c is call or c.request is call.request for c in exemption.route.calls):
                return exemption
        return None


def _reason(reason: str) -> str:
    if not isinstance(reason, str) or len(reason.strip()) < 8:
        raise ValueError("an exemption needs a reason that says why (at least a few words)")
    return reason.strip()


def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")


def checked(router: respx.Router, checker: Checker) -> CheckedRouter:
    """Wrap ``router``: use as a context manager, or call ``.verify()`` at the end of the test."""
    return CheckedRouter(router, checker)


@pytest.fixture
def checked_traffic() -> Iterator[Callable[[respx.Router, Checker], CheckedRouter]]:
    """Factory fixture: ``checked_traffic(router, checker)``; all are verified at teardown
    (unless the test already called ``verify()`` or used it as a context manager)."""
    created: list[CheckedRouter] = []

    def factory(router: respx.Router, checker: Checker) -> CheckedRouter:
        wrapped = CheckedRouter(router, checker)
        created.append(wrapped)
        return wrapped

    yield factory
    for wrapped in created:
        if not wrapped._verified:
            wrapped.verify()
