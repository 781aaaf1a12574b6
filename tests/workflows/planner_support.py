"""Helpers of the planner tests: fake networks served by ``socialkit fakes serve`` in their own
process, a config file and environment that point the CLI's accounts at them, and the
databases (a SQLite file, or tables of their own in the test PostgreSQL)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx

from socialkit.workflows.planner import PlanDB, PostgresPlanDB, SQLitePlanDB

POSTGRES_DSN = os.environ.get(
    "SOCIALKIT_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
LABELS = {"mastodon": "masto", "bluesky": "sky", "x": "bird"}
ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "socialkit.cli", *args]


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    src = str(ROOT / "src")
    env["PYTHONPATH"] = (
        src + os.pathsep + env.get("PYTHONPATH", "") if env.get("PYTHONPATH") else src
    )
    env.update(extra or {})
    return env


class ServedFakes:
    """``socialkit fakes serve`` running in a child process (stopped by its own pid)."""

    def __init__(self, names: tuple[str, ...] = ("mastodon", "bluesky", "x")) -> None:
        self.process = subprocess.Popen(
            cli("fakes", "serve", *names, "--port", "0", "--rate-limits", "off"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            self.stop()
            error = self.process.stderr.read() if self.process.stderr else ""
            raise RuntimeError(f"fakes serve did not start: {error}")
        self.info: dict[str, Any] = json.loads(line)["fakes"]
        for fake in self.info.values():
            assert fake["base_url"].startswith("http://127.0.0.1:")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def received(self, name: str) -> dict[str, Any]:
        response = httpx.get(self.info[name]["base_url"] + "/_socialkit/received", timeout=30)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data

    def settings(self, name: str) -> dict[str, Any]:
        return dict(self.info[name]["settings"])

    def config(self, path: Path) -> tuple[Path, dict[str, str]]:
        """A CLI config file for the served fakes, and the environment holding their secrets."""
        m, b, x = self.settings("mastodon"), self.settings("bluesky"), self.settings("x")
        path.write_text(
            f'[accounts.masto]\nnetwork = "mastodon"\ninstance = "{m["instance"]}"\n'
            "retry_wait = false\n\n"
            f'[accounts.sky]\nnetwork = "bluesky"\nservice = "{b["service"]}"\n'
            f'identifier = "{b["identifier"]}"\nretry_wait = false\n\n'
            f'[accounts.bird]\nnetwork = "x"\nbase_url = "{x["base_url"]}"\n'
            f'client_id = "{x["client_id"]}"\nretry_wait = false\n',
            encoding="utf-8",
        )
        env = {
            "SOCIALKIT_MASTO_ACCESS_TOKEN": m["access_token"],
            "SOCIALKIT_SKY_PASSWORD": b["password"],
            "SOCIALKIT_BIRD_ACCESS_TOKEN": x["access_token"],
            "SOCIALKIT_BIRD_REFRESH_TOKEN": x["refresh_token"],
        }
        return path, env

    def adapter_settings(self, name: str, store: Any) -> dict[str, Any]:
        return {**self.settings(name), "account": LABELS[name], "store": store, "retry_wait": False}


@contextmanager
def served_fakes(*names: str) -> Iterator[ServedFakes]:
    fakes = ServedFakes(names or ("mastodon", "bluesky", "x"))
    try:
        yield fakes
    finally:
        fakes.stop()


@asynccontextmanager
async def plan_db(kind: str, tmp_path: Path) -> AsyncIterator[PlanDB]:
    """A plan database: ``sqlite`` (a file in ``tmp_path``) or ``postgres`` (tables of its
    own in the test server, dropped afterwards; skipped when the server is not reachable,
    a failure under CI)."""
    if kind == "sqlite":
        plan: PlanDB = SQLitePlanDB(tmp_path / "plan.db")
    else:
        import asyncpg
        import pytest

        try:
            conn = await asyncpg.connect(POSTGRES_DSN, timeout=5)
        except Exception as exc:
            if os.environ.get("CI"):
                pytest.fail(f"PostgreSQL is not reachable ({exc}); CI must provide it")
            pytest.skip(f"PostgreSQL is not reachable ({exc})")
        await conn.close()
        plan = PostgresPlanDB(POSTGRES_DSN, prefix=unique_prefix())
    try:
        yield plan
    finally:
        if kind == "postgres":
            await plan.drop()
        await plan.aclose()


def unique_prefix() -> str:
    return f"sk_plan_{uuid.uuid4().hex[:12]}"
