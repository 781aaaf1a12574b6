"""Every script in examples/ runs against the fake networks (``--fake``) and does its job.

The scripts run in this process (``runpy``), in a scratch folder, under the docs' network
guard: nothing may leave the machine. They also pass ``mypy --strict``.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from tests.docs._prelude import network_guard

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

#: Each script, the arguments it runs with, and lines its output must hold.
CASES = {
    "publish_everywhere.py": ([], ["mastodon: published", "bluesky: published", "x: published"]),
    "reply_bot.py": (["--once"], ["answered mention", "answered direct"]),
    "export_metrics.py": (["--out", "metrics.csv"], ["wrote 90 posts to metrics.csv"]),
    "watch.py": ([], ["share of voice:", "[globex]", "[outage]"]),
    "alert_webhook.py": ([], ["webhook received: negative_volume on acme"]),
}


def test_every_example_is_tested() -> None:
    scripts = {p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_")}
    assert scripts == set(CASES)


@pytest.mark.parametrize("script", sorted(CASES))
def test_example_runs_against_the_fakes(
    script: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    args, expected = CASES[script]
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    monkeypatch.setattr(sys, "argv", [script, "--fake", *args])
    monkeypatch.delenv("SOCIALKIT_EXAMPLES_NETWORKS", raising=False)
    with network_guard():
        runpy.run_path(str(EXAMPLES / script), run_name="__main__")
    out = capsys.readouterr().out
    for line in expected:
        assert line in out, out
    assert "failed" not in out, out


def test_reply_bot_answers_each_message_once_across_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The same fakes across two runs: the second run finds nothing new to answer.
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(EXAMPLES))
    import asyncio

    namespace = runpy.run_path(str(EXAMPLES / "reply_bot.py"), run_name="reply_bot")
    fakes = namespace["Fakes"]()
    adapters = namespace["connect_accounts"](fakes)
    for fake in fakes.networks.values():
        fan = fake.add_user("fan")
        fake.mention(fan, "hello?")

    async def twice() -> tuple[int, int]:
        state: dict[str, dict[str, object]] = {}
        first = sum([await namespace["answer_new"](a, state) for a in adapters])
        second = sum([await namespace["answer_new"](a, state) for a in adapters])
        for adapter in adapters:
            await adapter.aclose()
        return first, second

    with network_guard():
        first, second = asyncio.run(twice())
    assert (first, second) == (3, 0)


def test_examples_pass_mypy_strict(tmp_path: Path) -> None:
    scripts = sorted(str(p) for p in EXAMPLES.glob("*.py"))
    env = {**os.environ, "MYPYPATH": str(EXAMPLES)}
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path), *scripts],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
