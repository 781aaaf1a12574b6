"""Analytics: snapshots, engagement rates, best time with shrinkage, frequency, exports, charts."""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from wf_support import T0, FakeAdapter, post

from socialkit import Capability, ConfigurationError, Media, Post, SQLiteStore
from socialkit.workflows import (
    MetricsCollector,
    PostPerformance,
    best_frequency,
    best_hours,
    best_times,
    engagement_rate,
    from_dataframe,
    performance_by,
    plot_heatmap,
    plot_series,
    read_csv,
    recommendations,
    to_dataframe,
    to_records,
    top_posts,
    write_csv,
)
from socialkit.workflows.analytics import content_kind, length_bucket

PARIS = ZoneInfo("Europe/Paris")
PNG = b"\x89PNG\r\n\x1a\n"


# -- definitions -----------------------------------------------------------------------------


def test_engagement_rate_follows_the_network_table() -> None:
    metrics = {"likes": 10, "reposts": 5, "replies": 3, "quotes": 2, "bookmarks": 5}
    assert engagement_rate("x", {**metrics, "impressions": 1000}) == (
        25,
        1000.0,
        "impressions",
        0.025,
    )
    # Mastodon has no impressions: per follower; bookmarks and quotes are not counted there.
    assert engagement_rate("mastodon", metrics, followers=200) == (18, 200.0, "followers", 0.09)
    assert (
        engagement_rate("instagram", {"likes": 8, "saves": 2, "reach": 100, "impressions": 400})[2]
        == "reach"
    )
    # An unknown network uses the default definition; no denominator -> no rate.
    assert engagement_rate("newnet", {"likes": 4, "shares": 1}) == (5, None, None, None)
    assert engagement_rate("newnet", {"likes": 4, "views": 0}, followers=0)[3] is None


def test_content_kind_and_length_buckets() -> None:
    image = Media.from_url("https://e.example/a.png")
    video = Media.from_url("https://e.example/a.mp4")
    assert content_kind(Post(id="1", text="hi")) == "text"
    assert content_kind(Post(id="1", text="see https://e.example/x")) == "link"
    assert content_kind(Post(id="1", text="x", media=[image])) == "image"
    assert content_kind(Post(id="1", text="x", media=[image, video])) == "video"
    assert content_kind(Post(id="1", text="x", thread=[Post(text="y")])) == "thread"
    assert [length_bucket(n) for n in (0, 49, 50, 199, 200, 499, 500)] == [
        "0-49",
        "0-49",
        "50-99",
        "100-199",
        "200-499",
        "200-499",
        "500+",
    ]


# -- collection ------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.mark.anyio
async def test_collector_builds_a_time_series_per_post(tmp_path: Path) -> None:
    x = FakeAdapter("x", "brand", followers=500)
    x.own_posts = [
        post("p1", "launch day #acme", at=T0),
        post("p2", "a thread about https://acme.example", at=T0 + timedelta(hours=3)),
    ]
    x.metric_values = {
        "p1": {"likes": 5, "impressions": 100},
        "p2": {"likes": 1, "impressions": 50},
    }
    masto = FakeAdapter("mastodon", "brand", capabilities=[Capability.READ_POSTS], followers=200)
    masto.own_posts = [post("m1", "hello", at=T0, network="mastodon", metrics={"likes": 4})]
    path = tmp_path / "analytics.db"
    store = SQLiteStore(path)
    clock = Clock(T0 + timedelta(hours=4))
    collector = MetricsCollector([x, masto], store=store, clock=clock)
    assert await collector.collect() == {"x:brand": 2, "mastodon:brand": 1}
    clock.now += timedelta(hours=1)
    x.metric_values["p1"] = {"likes": 9, "reposts": 1, "impressions": 200}
    await collector.collect()
    await store.aclose()

    store = SQLiteStore(path)
    collector = MetricsCollector([x, masto], store=store, clock=clock)
    series = await collector.series("x:brand", "p1")
    assert [s.metrics["likes"] for s in series] == [5.0, 9.0]
    assert [s.measured_at for s in series] == [T0 + timedelta(hours=4), T0 + timedelta(hours=5)]
    perf = {p.post_id: p for p in await collector.performance()}
    assert perf["p1"].engagement_rate == pytest.approx(10 / 200)
    assert perf["p1"].hashtags == ["acme"]
    assert perf["p2"].kind == "link"
    # Without POST_METRICS the counts carried by the posts are used, per follower on Mastodon.
    assert perf["m1"].engagement_rate == pytest.approx(4 / 200)
    assert perf["m1"].denominator_name == "followers"
    await store.aclose()


# -- best time -------------------------------------------------------------------------------


def perf(
    pid: str, at: datetime, rate: float, *, kind: str = "text", tags: list[str] | None = None
) -> PostPerformance:
    return PostPerformance(
        source="x:brand",
        network="x",
        post_id=pid,
        created_at=at,
        kind=kind,  # type: ignore[arg-type]
        length=120,
        length_bucket="100-199",
        hashtags=tags or [],
        interactions=round(rate * 1000),
        denominator=1000.0,
        denominator_name="impressions",
        engagement_rate=rate,
    )


def synthetic_history(seed: int = 5, n: int = 700) -> list[PostPerformance]:
    """Posts at random local hours (Paris) over 16 weeks; the true rate is 2 % plus 2 points at
    18:00 local, with noise of sd 1 point (so a single post says little)."""
    rng = random.Random(seed)
    start = datetime(2024, 1, 1, tzinfo=PARIS)
    out = []
    for i in range(n):
        local = start + timedelta(days=rng.randrange(112), hours=rng.randrange(8, 23))
        local = local.replace(minute=rng.randrange(60))
        rate = 0.02 + (0.02 if local.hour == 18 else 0.0) + rng.gauss(0, 0.01)
        out.append(perf(f"p{i}", local.astimezone(timezone.utc), max(rate, 0.0)))
    return out


def test_best_time_recovers_a_planted_peak_hour() -> None:
    history = synthetic_history()
    hours = best_hours(history, "Europe/Paris")
    top = hours.top(1)[0]
    assert top.hour == 18
    assert top.confidence > 0.99
    assert top.estimate == pytest.approx(0.04, abs=0.005)
    grid = best_times(history, "Europe/Paris")
    assert all(s.hour == 18 for s in grid.top(3))
    assert grid.timezone == "Europe/Paris"
    assert sum(s.posts for s in grid.slots) == len(history)
    # In UTC the peak is one or two hours earlier (CET/CEST): the zone matters.
    assert best_hours(history, "UTC").top(1)[0].hour in (16, 17)


def test_shrinkage_pulls_thin_cells_toward_the_mean() -> None:
    history = synthetic_history()
    # One lucky post at 03:00, 5 sd above the mean: its raw mean beats all, its estimate not.
    lucky = perf("lucky", datetime(2024, 2, 7, 3, 10, tzinfo=PARIS).astimezone(timezone.utc), 0.07)
    grid = best_hours([*history, lucky], "Europe/Paris")
    cell = grid.cell(None, 3)
    assert cell.posts == 1
    assert cell.raw_mean == pytest.approx(0.07)
    assert grid.mean < cell.estimate < 0.07
    assert grid.top(1)[0].hour == 18  # the well-supported peak still wins
    assert cell.confidence < grid.top(1)[0].confidence
    # Exact formula with a fixed prior strength k: mu + n/(n+k) (ybar - mu).
    fixed = best_hours([*history, lucky], "Europe/Paris", prior_strength=4.0)
    lucky_cell = fixed.cell(None, 3)
    assert lucky_cell.estimate == pytest.approx(fixed.mean + (1 / 5) * (0.07 - fixed.mean))
    # Empty cells sit exactly at the mean; big cells barely move.
    assert fixed.cell(None, 5).estimate == pytest.approx(fixed.mean)
    busy = fixed.cell(None, 18)
    assert busy.raw_mean is not None
    assert busy.posts > 30
    weight = busy.posts / (busy.posts + 4.0)
    assert busy.estimate == pytest.approx(fixed.mean + weight * (busy.raw_mean - fixed.mean))
    assert weight > 0.9


@pytest.mark.parametrize("zone", ["Mars/Olympus", "America"])  # "America": a folder of zones
def test_unknown_time_zone_is_a_clear_error(zone: str) -> None:
    with pytest.raises(ConfigurationError, match=f"unknown time zone '{zone}'"):
        best_times(synthetic_history(n=20), zone)


def test_best_frequency_and_recommendations() -> None:
    rng = random.Random(9)
    history = []
    for day in range(60):
        per_day = 1 + day % 5  # 1..5 posts a day
        for j in range(per_day):
            at = datetime(2024, 3, 1, 9, tzinfo=PARIS) + timedelta(days=day, hours=2 * j)
            rate = 0.05 - 0.008 * (per_day - 1) + rng.gauss(0, 0.002)
            history.append(perf(f"d{day}-{j}", at.astimezone(timezone.utc), rate))
    freq = best_frequency(history, "Europe/Paris")
    assert [f.posts_per_day for f in freq] == ["1", "2", "3", "4+"]
    assert [f.days for f in freq] == [12, 12, 12, 24]
    assert freq[0].per_post > freq[1].per_post > freq[2].per_post > freq[3].per_post
    sentences = recommendations(history, "Europe/Paris")
    text = " ".join(sentences)
    assert "On days with 1 post(s) each post earned 5.0%" in text
    assert "with 4+ it was" in text


def test_recommendations_name_the_peak_with_figures() -> None:
    sentences = recommendations(synthetic_history(), "Europe/Paris")
    peak = next(s for s in sentences if s.startswith("Post around"))
    assert "18:00 (Europe/Paris)" in peak
    assert "%" in peak
    assert "posts" in peak
    assert "confidence" in peak
    assert sentences[0].startswith("Across 700 posts the average engagement rate is")


def test_performance_by_group_and_top_posts() -> None:
    at = T0
    rows = [perf(f"v{i}", at, 0.05, kind="video", tags=["launch"]) for i in range(5)]
    rows += [perf(f"t{i}", at, 0.01, kind="text") for i in range(5)]
    rows.append(perf("best", at, 0.2, kind="image", tags=["launch", "promo"]))
    kinds = performance_by(rows, "kind")
    assert [s.group for s in kinds] == ["image", "video", "text"]
    assert kinds[1].posts == 5
    assert kinds[1].mean == pytest.approx(0.05)
    tags = {s.group: s for s in performance_by(rows, "hashtag")}
    assert tags["#launch"].posts == 6
    assert next(p.post_id for p in top_posts(rows, 2)) == "best"


# -- export ----------------------------------------------------------------------------------


def sample() -> list[PostPerformance]:
    rows = synthetic_history(n=30)
    rows[0] = rows[0].model_copy(
        update={"engagement_rate": None, "denominator": None, "hashtags": ["a", "b"]}
    )
    return rows


def test_csv_round_trip(tmp_path: Path) -> None:
    rows = sample()
    path = tmp_path / "posts.csv"
    write_csv(rows, path)
    assert read_csv(path) == rows
    buffer = io.StringIO()
    write_csv(rows, buffer)
    buffer.seek(0)
    assert read_csv(buffer) == rows
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("source,network,post_id,created_at,kind")


def test_records_and_dataframe_round_trip() -> None:
    rows = sample()
    records = to_records(rows)
    assert records[0]["hashtags"] == ["a", "b"]
    assert [PostPerformance.model_validate(r) for r in records] == rows
    frame = to_dataframe(rows)
    assert list(frame.columns)[:3] == ["source", "network", "post_id"]
    assert str(frame["created_at"].dt.tz) == "UTC"
    assert len(frame) == 30
    assert from_dataframe(frame) == rows


def test_missing_extra_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import socialkit.workflows._common as common

    real = common.importlib.import_module

    def fake_import(name: str, package: str | None = None):  # type: ignore[no-untyped-def]
        if name.startswith(("pandas", "matplotlib")):
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(common.importlib, "import_module", fake_import)
    with pytest.raises(ConfigurationError, match=r"socialkit-client\[analytics\]"):
        to_dataframe(sample())
    with pytest.raises(ConfigurationError, match=r"socialkit-client\[analytics\]"):
        plot_heatmap(best_times(sample()), "/nonexistent/x.png")


def test_heatmap_and_series_png(tmp_path: Path) -> None:
    grid = best_times(synthetic_history(), "Europe/Paris")
    heat = plot_heatmap(grid, tmp_path / "heat.png")
    data = heat.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 20_000
    points = {
        "likes": [(T0 + timedelta(hours=i), float(i * i)) for i in range(12)],
        "reposts": [(T0 + timedelta(hours=i), float(3 * i)) for i in range(12)],
    }
    line = plot_series(points, tmp_path / "series.png", title="p1")
    data = line.read_bytes()
    assert data.startswith(PNG)
    assert len(data) > 10_000
    with pytest.raises(ValueError, match="nothing to plot"):
        plot_series({"likes": []}, tmp_path / "empty.png")


def test_three_posts_claim_nothing() -> None:
    """Issue 13: with 3 posts one hour got 100 % confidence (two posts in one hour gave a
    near-zero variance). Below MIN_POSTS a grid makes no claim and says so."""
    from socialkit.workflows.analytics import MIN_POSTS

    few = synthetic_history(n=3)
    grid = best_hours(few)
    assert not grid.enough_data
    assert grid.posts == 3
    assert {s.confidence for s in grid.slots} == {0.5}
    for slot in grid.slots:
        assert slot.low <= slot.estimate <= slot.high
    said = recommendations(few)
    assert any(f"at least {MIN_POSTS} needed" in line for line in said)
    assert not any("Post around" in line for line in said)


def test_two_agreeing_posts_do_not_make_a_cell_certain() -> None:
    history = synthetic_history(n=30)
    grid = best_hours(history)
    assert grid.enough_data
    assert all(s.high - s.low > 0 for s in grid.slots)
    assert max(s.confidence for s in grid.slots if s.posts <= 2) < 0.99
