"""A real OAuth 2 server for the auth tests: oidc-provider (tests/servers/oidc/server.mjs).

The session fixture installs the server's npm dependencies when ``node_modules`` is missing
(``npm ci`` from the committed package-lock.json), starts it on a free port of 127.0.0.1, waits
until its discovery document answers and stops it after the session. Without node or npm the
tests are skipped locally with the reason, and FAIL when env ``CI`` is set.

``oidc_helpers.authorize_in_browser`` plays the user's browser through the server's development
login and consent pages (two form POSTs; any login is accepted).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from oidc_helpers import CONFIDENTIAL_SECRET, OIDCServer
from tests.servers.node_cache import NpmError, ensure_node_modules

SERVER_DIR = Path(__file__).resolve().parents[1] / "servers" / "oidc"


def _missing(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}; the OAuth 2 server tests must run in CI", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def oidc_server() -> Iterator[OIDCServer]:
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        _missing("node and npm are needed to run the oidc-provider test server")
    assert node is not None
    assert npm is not None
    try:
        ensure_node_modules(SERVER_DIR, "oidc-provider/package.json")
    except NpmError as exc:
        _missing(str(exc))
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    log = (SERVER_DIR / "server.log").open("w") if os.environ.get("SOCIALKIT_OIDC_LOG") else None
    proc = subprocess.Popen(
        [node, "server.mjs", str(port)],
        cwd=SERVER_DIR,
        env={**os.environ, "OIDC_CONFIDENTIAL_SECRET": CONFIDENTIAL_SECRET},
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
                pytest.fail(f"the oidc-provider server exited: {err[-2000:]}", pytrace=False)
            try:
                r = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=1)
                if r.status_code == 200 and r.json()["issuer"] == issuer:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("the oidc-provider server did not answer within 30 s", pytrace=False)
            time.sleep(0.1)
        yield OIDCServer(issuer=issuer)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log is not None:
            log.close()
