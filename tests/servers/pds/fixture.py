"""Session-scoped pytest fixture: a real Bluesky PDS (+ in-memory PLC) on 127.0.0.1.

Use it from a conftest or a test module::

    from tests.servers.pds.fixture import pds_server  # noqa: F401  (registers the fixture)

    def test_something(pds_server):
        account = pds_server.create_account("alice.test", "password-1")
        ...  # talk XRPC to pds_server.url

or as a plugin in the root conftest: ``pytest_plugins = ["tests.servers.pds.fixture"]``.

The Node project next to this file (package.json + package-lock.json) is installed with
``npm ci`` on first use when ``node_modules`` is missing (about 3 minutes cold: better-sqlite3
compiles from source), then reused. When Node/npm are not installed the tests are skipped with
the reason, except under CI (env ``CI`` set to a true value) where they fail instead: integration
tests must not vanish silently in CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.servers.node_cache import NpmError, ensure_node_modules

__all__ = ["PDSServer", "pds_server", "start_pds"]

PDS_DIR = Path(__file__).resolve().parent
STARTUP_TIMEOUT = 90.0
NPM_CI_TIMEOUT = 1800.0


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _unavailable(reason: str) -> None:
    """Skip locally, fail in CI."""
    if _in_ci():
        pytest.fail(f"PDS integration server unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"PDS integration server unavailable: {reason}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ensure_installed() -> None:
    """Install the locked npm dependencies once per lock file (see ``node_cache``)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable("`node` and `npm` are needed (Node 20 or newer)")
    try:
        ensure_node_modules(PDS_DIR, "@atproto/pds/package.json", timeout=NPM_CI_TIMEOUT)
    except NpmError as exc:
        pytest.fail(str(exc), pytrace=False)


@dataclass
class PDSServer:
    """A running PDS. ``url`` is its public URL (``http://localhost:<port>``, the host name the
    PDS was configured with; it listens on 127.0.0.1 only)."""

    url: str
    plc_url: str
    admin_password: str = field(repr=False)
    process: subprocess.Popen[str] = field(repr=False)
    log_path: Path = field(repr=False)
    startup_seconds: float = 0.0

    def create_account(
        self, handle: str, password: str, *, email: str | None = None
    ) -> dict[str, Any]:
        """``com.atproto.server.createAccount``; returns its JSON output (did, handle,
        accessJwt, refreshJwt, didDoc). Handles must end in ``.test``."""
        if not handle.endswith(".test"):
            raise ValueError(f"test handles must end in '.test', got {handle!r}")
        body = {
            "handle": handle,
            "password": password,
            "email": email or f"{handle.replace('.', '-')}@example.com",
        }
        response = httpx.post(
            f"{self.url}/xrpc/com.atproto.server.createAccount", json=body, timeout=30
        )
        if response.status_code != 200:
            raise AssertionError(
                f"createAccount({handle!r}) failed: {response.status_code} {response.text}"
            )
        result: dict[str, Any] = response.json()
        return result

    def log_tail(self, chars: int = 4000) -> str:
        """The end of the servers' stderr (for failure messages)."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return ""


def _read_ready_line(process: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    result: dict[str, Any] = {}

    def reader() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            line = line.strip()
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    data = json.loads(line)
                    if data.get("ready"):
                        result.update(data)
                        return

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    thread.join(timeout)
    return result


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(OSError):
        if process.stdin is not None:
            process.stdin.close()  # server.mjs shuts down when stdin closes
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@contextlib.contextmanager
def start_pds(data_dir: Path, *, rate_limits: bool = True) -> Iterator[PDSServer]:
    """Start PLC + PDS on free ports, wait for ``/xrpc/_health``, yield, then stop them."""
    ensure_installed()
    pds_port, plc_port = _free_port(), _free_port()
    admin_password = secrets.token_urlsafe(18)
    env = {
        **os.environ,
        "PDS_PORT": str(pds_port),
        "PLC_PORT": str(plc_port),
        "PDS_DATA_DIRECTORY": str(data_dir),
        "PDS_ADMIN_PASSWORD": admin_password,
        "PDS_JWT_SECRET": secrets.token_hex(16),
        "PDS_DPOP_SECRET": secrets.token_hex(32),
        "PDS_RATE_LIMITS_ENABLED": "true" if rate_limits else "false",
        "LOG_ENABLED": "false",
        "NODE_NO_WARNINGS": "1",
    }
    log_path = data_dir / "server.log"
    started = time.monotonic()
    with log_path.open("w", encoding="utf-8") as log:
        process = subprocess.Popen(
            ["node", "server.mjs"],
            cwd=PDS_DIR,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    server: PDSServer | None = None
    try:
        ready = _read_ready_line(process, STARTUP_TIMEOUT)
        if not ready:
            raise AssertionError(
                f"the PDS did not start within {STARTUP_TIMEOUT:.0f}s "
                f"(exit code {process.poll()}):\n{log_path.read_text(errors='replace')[-4000:]}"
            )
        server = PDSServer(
            url=str(ready["pdsUrl"]),
            plc_url=str(ready["plcUrl"]),
            admin_password=admin_password,
            process=process,
            log_path=log_path,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            try:
                if httpx.get(f"{server.url}/xrpc/_health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"/xrpc/_health never answered:\n{server.log_tail()}")
            time.sleep(0.1)
        server.startup_seconds = time.monotonic() - started
        yield server
    finally:
        _stop(process)
        if process.stdout is not None:
            process.stdout.close()


@pytest.fixture(scope="session")
def pds_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PDSServer]:
    """A real PDS for the whole test session (rate limits on, as in production)."""
    if shutil.which("node") is None:
        _unavailable("`node` is not installed")
    with start_pds(tmp_path_factory.mktemp("pds-data")) as server:
        yield server
