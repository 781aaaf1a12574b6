"""``MediaSource``: a medium read by range for chunked uploads (TikTok, LinkedIn, YouTube,
Instagram, Facebook), never whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialkit import ValidationError
from socialkit.adapters._base import MediaSource


def test_ranges_of_a_file_and_of_bytes(tmp_path: Path) -> None:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(range(256)) * 4)
    for source in (MediaSource(path), MediaSource(path.read_bytes())):
        assert source.size == 1024
        assert source.read(0, 10) == bytes(range(10))
        assert source.read(1020, 10) == bytes(range(252, 256))  # the end: fewer


def test_a_file_cut_while_it_is_uploaded_is_refused(tmp_path: Path) -> None:
    # The size is taken when the upload begins and each chunk's range comes from it: a file
    # cut in between would send a short chunk and leave the upload incomplete.
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"x" * 1000)
    source = MediaSource(path)
    assert source.read(0, 400) == b"x" * 400
    path.write_bytes(b"x" * 500)
    with pytest.raises(ValidationError, match="changed while it was uploaded"):
        source.read(400, 400)
    path.unlink()
    with pytest.raises(ValidationError, match="cannot read"):
        source.read(0, 10)
