"""The fault matrix (socialkit.testing.faults) for YouTube: one video published through each
fault on the create, then the application's one retry with the same idempotency key; videos
counted at FakeYouTube: none lost, none duplicated.

YouTube's create is the resumable upload's ``PUT`` (the video exists once its last byte
arrives; the session's start creates nothing). The matrix publishes text, which YouTube
cannot take: here its post carries a short video, nothing else changes. An upload whose answer
is lost asks the session what it holds (``Content-Range: bytes */size``): a finished upload
answers the video, so nothing is sent twice; the session's URI is kept under the key, so the
retry resumes the same session.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from socialkit.testing.faults import FaultSuite, NetworkTarget


def _youtube(base_url: str) -> Any:
    from socialkit.testing.fakes import FakeYouTube

    return FakeYouTube(base_url=base_url, processing_reads=0)


YOUTUBE = NetworkTarget(
    "youtube",
    _youtube,
    lambda method, path: method == "PUT" and path == "/upload/youtube/v3/videos",
    lambda fake: fake.own_videos(),
)


class TestYouTubeFaults(FaultSuite):
    network = "youtube"
    target: ClassVar[NetworkTarget | None] = YOUTUBE

    @pytest.fixture(autouse=True)
    def _video_posts(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from socialkit import Media, Post
        from socialkit.testing import conformance as c
        from socialkit.testing import faults

        def with_video(*, text: str) -> Post:
            return Post(text=text, media=[Media.from_bytes(c.MP4_HEAD)])

        monkeypatch.setattr(faults, "Post", with_video)
