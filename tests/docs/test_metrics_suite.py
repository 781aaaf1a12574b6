"""The conformance MetricsSuite catches two swapped metrics (issue 18): it compares the exact
set of names and every value, and the X fixture gives each native counter its own value."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialkit.adapters.x import _mapping

ROOT = Path(__file__).resolve().parents[2]
X_METRICS = "tests/adapters/x/test_x_conformance.py::TestXMetrics"


def _run_x_metrics_suite() -> int:
    return int(pytest.main(["-q", "-p", "no:cacheprovider", "--no-header", str(ROOT / X_METRICS)]))


def test_x_passes_with_its_real_mapping() -> None:
    assert _run_x_metrics_suite() == pytest.ExitCode.OK


def test_swapping_organic_reposts_and_replies_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    swapped = dict(_mapping.POST_METRICS)
    for native in ("retweet_count", "repost_count"):
        swapped[("organic_metrics", native)] = ("organic_replies",)
    swapped[("organic_metrics", "reply_count")] = ("organic_reposts",)
    monkeypatch.setattr(_mapping, "POST_METRICS", swapped)
    assert _run_x_metrics_suite() == pytest.ExitCode.TESTS_FAILED


def test_a_metric_left_out_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    fewer = {k: v for k, v in _mapping.POST_METRICS.items() if v != ("bookmarks",)}
    monkeypatch.setattr(_mapping, "POST_METRICS", fewer)
    assert _run_x_metrics_suite() == pytest.ExitCode.TESTS_FAILED
