from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

# The real Bluesky PDS is one session fixture for the whole run (it takes ~10 s to start).
pytest_plugins = ["tests.servers.pds.fixture"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# CI skips nothing: a test or module that skips there (a missing service, tool or spec file)
# is reported as a failure with the skip's reason, so that a green run means every test ran.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if _in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which must run every test: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if _in_ci() and report.skipped:
        report.outcome = "failed"
        report.longrepr = f"module skipped in CI, which must run every test: {report.longrepr}"


@pytest.fixture(params=["direct", "client"])
def http_lane(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test through each of the session's lanes (socialkit._http._lane): ``direct``
    hands prepared requests to the transport (for any client without cookies, not only
    make_client's), ``client`` sends everything through ``httpx.AsyncClient.send``. Directories
    whose suites must pass through both use it from an autouse fixture of their conftest."""
    from socialkit._http import _lane

    lane: str = request.param
    monkeypatch.setattr(_lane, "MODE", "always" if lane == "direct" else "never")
    return lane
