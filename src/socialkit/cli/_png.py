"""Small PNG files without an imaging library: the demo's image and a fallback heatmap.

Written with zlib and struct (the PNG format is a signature and three chunks for an 8-bit RGB
image) because the ``cli`` extra does not pull in Pillow or matplotlib; the heatmap uses
matplotlib (:func:`socialkit.workflows.plot_heatmap`) when the ``analytics`` extra is there.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialkit.workflows import TimeGrid

__all__ = ["demo_image", "png_bytes", "write_heatmap"]

RGB = tuple[int, int, int]


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def png_bytes(pixels: Sequence[Sequence[RGB]]) -> bytes:
    """An 8-bit RGB PNG of ``pixels`` (rows of ``(r, g, b)``, all rows the same length)."""
    height = len(pixels)
    width = len(pixels[0]) if height else 0
    if not width or any(len(row) != width for row in pixels):
        raise ValueError("pixels must be a non-empty rectangle")
    raw = bytearray()
    for row in pixels:
        raw.append(0)  # filter type 0 (None) for every scanline
        for r, g, b in row:
            raw += bytes((r, g, b))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + _chunk(b"IEND", b"")
    )


def demo_image(width: int = 96, height: int = 64) -> bytes:
    """A gradient with a bar chart: the image the demo publishes (deterministic)."""
    bars = (0.35, 0.55, 0.45, 0.8, 0.65, 0.95)
    bar_w = width // (len(bars) * 2)
    pixels: list[list[RGB]] = []
    for y in range(height):
        row: list[RGB] = []
        for x in range(width):
            r = 30 + 60 * x // width
            g = 40 + 80 * y // height
            b = 120 + 100 * (width - x) // width
            index, offset = divmod(x - bar_w // 2, bar_w * 2)
            in_bar = 0 <= index < len(bars) and offset < bar_w
            if in_bar and height - y <= bars[index] * (height - 8):
                r, g, b = 250, 190 - 20 * index, 60
            row.append((r, g, b))
        pixels.append(row)
    return png_bytes(pixels)


def _color(t: float) -> RGB:
    """A dark-blue to yellow scale (close to viridis' ends) for ``t`` in [0, 1]."""
    t = min(1.0, max(0.0, t))
    stops = ((68, 1, 84), (59, 82, 139), (33, 145, 140), (94, 201, 98), (253, 231, 37))
    position = t * (len(stops) - 1)
    low = int(position)
    high = min(low + 1, len(stops) - 1)
    frac = position - low
    a, b = stops[low], stops[high]
    return (
        round(a[0] + (b[0] - a[0]) * frac),
        round(a[1] + (b[1] - a[1]) * frac),
        round(a[2] + (b[2] - a[2]) * frac),
    )


def _heatmap_plain(grid: TimeGrid, path: Path, cell: int = 16) -> Path:
    rows = sorted({s.weekday for s in grid.slots}, key=lambda d: -1 if d is None else d)
    values = [[grid.cell(d, h).estimate for h in range(24)] for d in rows]
    flat = [v for row in values for v in row]
    low, high = min(flat), max(flat)
    span = high - low or 1.0
    pixels: list[list[RGB]] = []
    for row in values:
        line: list[RGB] = []
        for v in row:
            colour = _color((v - low) / span)
            line.extend([colour] * (cell - 1) + [(255, 255, 255)])
        for _ in range(cell - 1):
            pixels.append(list(line))
        pixels.append([(255, 255, 255)] * len(line))
    path.write_bytes(png_bytes(pixels))
    return path


def write_heatmap(
    grid: TimeGrid, path: str | os.PathLike[str], *, title: str | None = None
) -> Path:
    """The weekday x hour grid as a PNG: matplotlib's chart when installed, else plain cells."""
    target = Path(path)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return _heatmap_plain(grid, target)
    from socialkit.workflows import plot_heatmap

    return plot_heatmap(grid, target, title=title)
