"""Rich tables shared by ``socialkit report`` and ``socialkit demo``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from rich.table import Table

if TYPE_CHECKING:
    from socialkit.workflows import GroupStat, PostPerformance, QueueReport, Slot

__all__ = [
    "duration",
    "networks_table",
    "queues_table",
    "short",
    "slots_table",
    "top_posts_table",
    "value",
]


def short(text: str, width: int = 60) -> str:
    """One line of at most ``width`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def value(number: float, rate: bool) -> str:
    return f"{number:.2%}" if rate else f"{number:.1f}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d}"


def networks_table(stats: Sequence[GroupStat], title: str = "Per network") -> Table:
    table = Table(title=title)
    table.add_column("network")
    table.add_column("posts", justify="right")
    table.add_column("mean engagement", justify="right")
    table.add_column("median", justify="right")
    table.add_column("interactions / post", justify="right")
    for s in stats:
        table.add_row(
            s.group,
            str(s.posts),
            value(s.mean, s.rate),
            value(s.median, s.rate),
            f"{s.mean_interactions:.1f}",
        )
    return table


def top_posts_table(perfs: Sequence[PostPerformance], title: str = "Top posts") -> Table:
    table = Table(title=title)
    table.add_column("#", justify="right")
    table.add_column("network")
    table.add_column("posted (UTC)")
    table.add_column("kind")
    table.add_column("interactions", justify="right")
    table.add_column("rate", justify="right")
    table.add_column("url", overflow="fold")
    for index, p in enumerate(perfs, 1):
        table.add_row(
            str(index),
            p.network,
            f"{p.created_at:%a %Y-%m-%d %H:%M}",
            p.kind,
            str(p.interactions),
            "-" if p.engagement_rate is None else f"{p.engagement_rate:.2%}",
            p.url or p.post_id,
        )
    return table


def slots_table(slots: Sequence[Slot], rate: bool, title: str) -> Table:
    table = Table(title=title)
    table.add_column("slot")
    table.add_column("posts", justify="right")
    table.add_column("raw mean", justify="right")
    table.add_column("estimate (shrunk)", justify="right")
    table.add_column("confidence", justify="right")
    for s in slots:
        table.add_row(
            s.label,
            str(s.posts),
            "-" if s.raw_mean is None else value(s.raw_mean, rate),
            value(s.estimate, rate),
            f"{s.confidence:.0%}",
        )
    return table


def queues_table(reports: Sequence[QueueReport], title: str = "Inbox queues") -> Table:
    table = Table(title=title)
    for name, justify in (
        ("queue", "left"),
        ("messages", "right"),
        ("answered", "right"),
        ("open", "right"),
        ("ignored", "right"),
        ("median response", "right"),
        ("p90 response", "right"),
        ("within goal", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for q in reports:
        table.add_row(
            q.queue,
            str(q.total),
            str(q.answered),
            str(q.open),
            str(q.ignored),
            duration(q.median_seconds),
            duration(q.p90_seconds),
            "-" if q.share_within_goal is None else f"{q.share_within_goal:.0%}",
        )
    return table


def jsonable(model: Any) -> Any:
    """A pydantic model (or a list / mapping of them) as JSON-ready data."""
    if isinstance(model, Mapping):
        return {str(k): jsonable(v) for k, v in model.items()}
    if isinstance(model, (list, tuple)):
        return [jsonable(v) for v in model]
    dump = getattr(model, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    return model
