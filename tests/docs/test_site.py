"""The site builds with --strict, every internal link and anchor resolves, tables are current."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.docs import gen_tables
from tests.docs.linkcheck import check

ROOT = Path(__file__).resolve().parents[2]


def test_the_network_tables_are_generated_from_the_adapters() -> None:
    page = (ROOT / "docs" / "networks" / "index.md").read_text(encoding="utf-8")
    assert page == gen_tables.render(), "run: python tests/docs/gen_tables.py"


def test_the_tables_cover_every_shipped_network() -> None:
    from socialkit._gen_connect import shipped_networks

    assert set(gen_tables.NETWORKS) == {name for name, _ in shipped_networks()}


def test_the_matrix_names_every_capability_and_every_missing_reason() -> None:
    from socialkit import Capability
    from socialkit.adapters.bluesky import BlueskyAdapter
    from socialkit.adapters.mastodon import MastodonAdapter
    from socialkit.adapters.reddit import RedditAdapter
    from socialkit.adapters.telegram import TelegramAdapter
    from socialkit.adapters.tiktok import TikTokAdapter
    from socialkit.adapters.x import XAdapter

    text = gen_tables.render()
    for capability in Capability:
        assert f"| `{capability.value}` |" in text
    # Every network says why each capability it lacks is missing.
    for cls in (
        MastodonAdapter,
        BlueskyAdapter,
        XAdapter,
        TikTokAdapter,
        RedditAdapter,
        TelegramAdapter,
    ):
        for capability in set(Capability) - cls.capabilities:
            reason = cls.unsupported_reasons.get(capability)
            assert reason, f"{cls.name} does not say why {capability.value} is missing"
            assert reason.replace("|", "\\|") in text
        assert not set(cls.unsupported_reasons) & cls.capabilities


def test_the_linkcheck_finds_a_broken_anchor_and_page(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text(
        '<h1 id="top">x</h1><a href="#top">ok</a><a href="#gone">bad</a>'
        '<a href="missing/">bad</a><a href="https://example.com/">external</a>'
    )
    assert check(tmp_path) == [
        "index.html: #gone (no anchor #gone)",
        "index.html: missing/ (no such page)",
    ]


def test_the_site_builds_strict_and_its_links_resolve(tmp_path: Path) -> None:
    # mkdocs and mkdocstrings are in the dev extra too, so that the tests build the site.
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    assert check(site) == []
