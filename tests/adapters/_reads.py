"""Counting the reads of a local file, for the tests of uploads that must read a file one
chunk at a time (TikTok, LinkedIn), never whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


class _CountedReads:
    """Wraps the file object ``Path.open`` returns for one file: records every ``read``'s size
    (a whole-file ``read()`` records -1)."""

    def __init__(self, handle: Any, reads: list[int]) -> None:
        self._handle = handle
        self._reads = reads

    def read(self, size: int = -1) -> bytes:
        self._reads.append(size)
        data: bytes = self._handle.read(size)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def __enter__(self) -> _CountedReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self._handle.close()


def count_reads(monkeypatch: pytest.MonkeyPatch, path: Path) -> list[int]:
    reads: list[int] = []
    original = Path.open

    def counted(self: Path, *args: Any, **kwargs: Any) -> Any:
        handle = original(self, *args, **kwargs)
        return _CountedReads(handle, reads) if self == path else handle

    monkeypatch.setattr(Path, "open", counted)
    return reads
