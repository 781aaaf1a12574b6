"""Small helpers shared by the workflows: labelling adapters, time, quantiles, text features."""

from __future__ import annotations

import asyncio
import importlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, TypeVar

import regex

from socialkit._errors import ConfigurationError
from socialkit._hub import Hub

if TYPE_CHECKING:
    from socialkit.adapters._base import Adapter

Clock = Callable[[], datetime]
"""Returns the current time, timezone-aware. Injected so tests control time."""

SEP = "\x1f"
"""Joins the parts of a store key (the unit separator never occurs in ids or labels)."""

#: The interactions counted as "engagement" on items read from other accounts (listening,
#: alerts): the canonical counters every network maps, so the figure compares across networks.
INTERACTIONS: tuple[str, ...] = ("likes", "reposts", "replies", "quotes")

# regex (not re) for \p{..} classes: hashtags and words in any script.
_HASHTAG = regex.compile(r"(?<![\p{L}\p{N}_&])#([\p{L}\p{N}_]*\p{L}[\p{L}\p{N}_]*)")
_WORD = regex.compile(r"[\p{L}\p{N}][\p{L}\p{N}'’_-]*")


T = TypeVar("T")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def label_adapters(adapters: Mapping[str, Adapter] | Iterable[Adapter]) -> dict[str, Adapter]:
    """Label adapters the way :class:`~socialkit.Hub` does (mapping keys, else ``label``)."""
    return dict(Hub(adapters).adapters)


def key(*parts: str) -> str:
    return SEP.join(parts)


def aware(value: datetime, what: str = "datetime") -> datetime:
    """``value`` in UTC; a naive datetime is a clear error, never silently local time."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (for example datetime.now(timezone.utc))")
    return value.astimezone(timezone.utc)


def iso(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def from_iso(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile with linear interpolation between order statistics (numpy's default).

    Written here (not ``statistics.quantiles``) because that one refuses fewer than two values
    and has no single-quantile form.
    """
    if not values:
        return None
    if not 0.0 <= q <= 1.0:
        raise ValueError("q must be between 0 and 1")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def median(values: Sequence[float]) -> float | None:
    return quantile(values, 0.5)


def interactions(metrics: Mapping[str, int]) -> int:
    """likes + reposts + replies + quotes (absent counters count as 0)."""
    return sum(int(metrics.get(name, 0)) for name in INTERACTIONS)


def hashtags(text: str) -> list[str]:
    """The hashtags of ``text``, lower-cased, without ``#``, in order, duplicates kept once."""
    seen: dict[str, None] = {}
    for match in _HASHTAG.finditer(text):
        seen.setdefault(match.group(1).casefold(), None)
    return list(seen)


def words(text: str) -> list[str]:
    """Lower-cased word tokens (letters and digits, any script), hashtags and URLs left out."""
    text = regex.sub(r"https?://\S+", " ", text)
    text = _HASHTAG.sub(" ", text)
    text = regex.sub(r"@[\w.]+", " ", text)
    return [w.casefold().strip("'’_-") for w in _WORD.findall(text)]


def bucket_start(moment: datetime, size: timedelta) -> datetime:
    """The start of the fixed-size bucket holding ``moment`` (buckets aligned on the Unix epoch)."""
    seconds = size.total_seconds()
    if seconds <= 0:
        raise ValueError("bucket size must be positive")
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    offset = (moment - epoch).total_seconds()
    return epoch + timedelta(seconds=math.floor(offset / seconds) * seconds)


def optional_import(module: str, extra: str, purpose: str) -> Any:
    """Import an optional dependency lazily, or raise ConfigurationError naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ConfigurationError(
            f"{purpose} needs {module}, which is not installed; "
            f"install the extra: pip install 'socialkit-client[{extra}]'"
        ) from exc


async def poll_forever(
    poll: Callable[[], Awaitable[list[T]]], interval: float, max_polls: int | None
) -> AsyncIterator[T]:
    """Live mode for a poller: call ``poll`` every ``interval`` seconds, yield what it returns,
    stop after ``max_polls`` polls (``None``: never)."""
    if interval < 0:
        raise ValueError("interval must not be negative")
    polls = 0
    while True:
        for item in await poll():
            yield item
        polls += 1
        if max_polls is not None and polls >= max_polls:
            return
        await asyncio.sleep(interval)
