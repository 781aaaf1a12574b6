"""The demo end to end (three fakes, simulated days, every workflow), its report checked
against what the simulation planted, and its determinism."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from socialkit.cli import app
from socialkit.cli.demo import START, DemoReport, run_demo

DAYS = 3


def _run(seed: int, out: Path) -> tuple[DemoReport, str]:
    buffer = io.StringIO()
    report = run_demo(seed, out, DAYS, Console(file=buffer, width=140))
    return report, buffer.getvalue().replace(str(out), "<out>")


@pytest.fixture(scope="module")
def first(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoReport, str]:
    return _run(11, tmp_path_factory.mktemp("demo-a"))


def test_demo_runs_clean_and_publishes_everywhere(first: tuple[DemoReport, str]) -> None:
    report, text = first
    assert report.errors == []
    assert set(report.preflight) == {"mastodon", "bluesky", "x"}
    assert all(problems == [] for problems in report.preflight.values())
    # The launch post and its three-post thread, on each network.
    assert {k: len(v) for k, v in report.published.items()} == {
        "mastodon": 4,
        "bluesky": 4,
        "x": 4,
    }
    assert report.published["mastodon"][0].startswith("https://mastodon.fake/@acme/")
    assert report.published["bluesky"][0].startswith("https://bsky.app/profile/acme.bsky.test/")
    for urls in report.published.values():
        for url in urls:
            assert url in text


def test_the_planted_burst_is_alerted_and_nothing_else(first: tuple[DemoReport, str]) -> None:
    report, text = first
    assert report.burst_alerted
    # One incident, one alert: the burst is bad buzz, and nothing else fired.
    assert len(report.alerts) == 1
    (alert,) = report.alerts
    assert alert.polarity == "negative"
    assert alert.start <= report.burst_start < alert.end
    assert alert.count >= report.burst_size
    assert alert.negative > alert.scored / 2
    assert "Planted burst" in text
    assert "alerted" in text


def test_best_hour_found_is_the_planted_peak(first: tuple[DemoReport, str]) -> None:
    report, text = first
    assert report.best_hour == report.peak_hour
    assert report.best_hours[0].confidence > 0.9
    assert f"Post around {report.peak_hour:02d}:00" in " ".join(report.recommendations)
    assert f"best hour found: {report.peak_hour:02d}:00" in text


def test_inbox_queues_have_response_times(first: tuple[DemoReport, str]) -> None:
    report, _ = first
    queues = {q.queue: q for q in report.queues}
    assert {"support", "sales", "community"} <= set(queues)
    support = queues["support"]
    assert support.answered > 0
    assert support.median_seconds is not None
    # Support answers within 15-80 minutes (doubled on the outage day), never before the message.
    assert 15 * 60 <= support.median_seconds <= 2 * 80 * 60 + 3600
    # The burst's angry mentions went to support (the "angry" rule).
    assert support.total >= report.burst_size
    assert report.inbox_items >= report.messages


def test_competitor_and_share_of_voice(first: tuple[DemoReport, str]) -> None:
    report, _ = first
    assert set(report.share_of_voice) == {"acme", "globex"}
    assert report.share_of_voice["acme"] > report.share_of_voice["globex"] > 0
    for row in report.competitor.values():
        assert row["their_posts"] == 2 * DAYS  # two posts a day, read with posts(account=...)
        assert row["their_mean"] > 0


def test_files_are_written(first: tuple[DemoReport, str]) -> None:
    report, _ = first
    assert report.heatmap.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with report.csv.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == report.posts == 3 * (1 + DAYS * 5)  # launch + 5 posts a day, 3 networks
    assert {r["network"] for r in rows} == {"mastodon", "bluesky", "x"}
    assert all(r["created_at"] >= START.isoformat() for r in rows)
    assert report.routing.read_text(encoding="utf-8").startswith("# The inbox routing rules")


def test_same_seed_same_output(first: tuple[DemoReport, str], tmp_path: Path) -> None:
    report, text = first
    again, text_again = _run(11, tmp_path)
    assert text_again == text
    assert again.csv.read_bytes() == report.csv.read_bytes()
    assert again.heatmap.read_bytes() == report.heatmap.read_bytes()


def test_another_seed_plants_elsewhere_and_is_still_found(tmp_path: Path) -> None:
    report, _ = _run(3, tmp_path)
    assert report.best_hour == report.peak_hour
    assert report.burst_alerted


def test_demo_command_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["demo", "--seed", "11", "--days", str(DAYS), "--out", str(tmp_path), "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["found"]["burst_alerted"] is True
    assert data["found"]["best_hour"] == data["planted"]["peak_hour"]
    assert Path(data["files"]["csv"]).exists()
