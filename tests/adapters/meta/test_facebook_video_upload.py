"""Facebook Page videos from a local file go up through Meta's Resumable Upload API, a chunk at a
time, then publish once with the file handle (against ``FakeFacebook``, traffic checked against
the Graph specs).

Fixtures follow Meta's pages:

- "Publish with the Video API" (https://developers.facebook.com/docs/video-api/guides/publishing):
  a Page video needs "a video handle ... received when you upload your video file to Meta
  servers using the Resumable Upload API", then ``POST /{page-id}/videos`` with ``title``,
  ``description`` and ``fbuploader_video_file_chunk=<UPLOADED_FILE_HANDLE>``, answered
  ``{"id": "<VIDEO_ID>"}``.
- "Upload a file" / Resumable Upload API (https://developers.facebook.com/docs/graph-api/guides/upload):
  ``POST /{app-id}/uploads`` with ``file_name``, ``file_length``, ``file_type`` answers
  ``{"id": "upload:<UPLOAD_SESSION_ID>"}``; ``POST /upload:<UPLOAD_SESSION_ID>`` with
  ``Authorization: OAuth <token>`` and a ``file_offset`` header carries the bytes and answers
  ``{"h": "<UPLOADED_FILE_HANDLE>"}``; after an interruption ``GET /upload:<UPLOAD_SESSION_ID>``
  answers ``{"id": "upload:<UPLOAD_SESSION_ID>", "file_offset": <OFFSET>}`` and the upload
  resumes with a POST at that ``file_offset``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
from tests.adapters.meta.meta_support import Recorder, violations

from socialkit import Media, Post
from socialkit._errors import ConfigurationError, InvalidPostError, OutcomeUnknownError
from socialkit.adapters._base import MediaSource
from socialkit.testing import conformance as c
from socialkit.testing.fakes import FakeFacebook

pytestmark = pytest.mark.anyio

MIB = 1024 * 1024


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


#: A QuickTime file's first box (``ftyp`` with the ``qt  `` brand).
MOV_HEAD = bytes.fromhex("00000014") + b"ftypqt  " + bytes(4) + b"qt  "


def video_file(
    tmp_path: Path, name: str = "clip.mp4", head: bytes = c.MP4_HEAD
) -> tuple[Path, bytes]:
    data = head + bytes(range(256)) * (10 * 1024) + b"tail"  # 2.5 MiB and a bit
    path = tmp_path / name
    path.write_bytes(data)
    return path, data


class Reads:
    """Counts ``MediaSource.read`` (each chunk) and whole-file reads."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.chunks: list[tuple[int, int]] = []
        self.whole: list[str] = []
        real_read = MediaSource.read
        real_whole = anyio.Path.read_bytes
        real_path_whole = Path.read_bytes

        def counted(source: MediaSource, offset: int, length: int) -> bytes:
            piece = real_read(source, offset, length)
            self.chunks.append((offset, len(piece)))
            return piece

        async def whole_async(path: anyio.Path) -> bytes:
            self.whole.append(str(path))
            return await real_whole(path)

        def whole_sync(path: Path) -> bytes:
            self.whole.append(str(path))
            return real_path_whole(path)

        monkeypatch.setattr(MediaSource, "read", counted)
        monkeypatch.setattr(anyio.Path, "read_bytes", whole_async)
        monkeypatch.setattr(Path, "read_bytes", whole_sync)


class Lossy(httpx.AsyncBaseTransport):
    """Loses the answer to the ``nth`` request that ``match`` picks (1-based): delivered, the
    answer is lost on the way back; not delivered, the request is lost on the way there (a read
    timeout either way, so the client cannot tell which)."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        match: Callable[[httpx.Request], bool],
        nth: int = 1,
        *,
        delivered: bool = True,
    ) -> None:
        self.inner = inner
        self.match = match
        self.nth = nth
        self.delivered = delivered
        self.seen = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        hit = False
        if self.match(request):
            self.seen += 1
            hit = self.seen == self.nth
        if hit and not self.delivered:
            await request.aread()
            raise httpx.ReadTimeout("the request was lost", request=request)
        response = await self.inner.handle_async_request(request)
        if hit:
            raise httpx.ReadTimeout("the answer was lost", request=request)
        return response


def is_chunk(request: httpx.Request) -> bool:
    return request.method == "POST" and "/upload:" in request.url.path


def is_publish(request: httpx.Request) -> bool:
    return request.method == "POST" and request.url.path.endswith("/videos")


def client_for(
    fake: FakeFacebook, lose: Callable[[Recorder], httpx.AsyncBaseTransport] | None = None
) -> tuple[httpx.AsyncClient, Recorder]:
    recorder = Recorder(httpx.ASGITransport(app=fake.app))
    transport = lose(recorder) if lose is not None else recorder
    return httpx.AsyncClient(transport=transport), recorder


def uploads(recorder: Recorder) -> list[httpx.Request]:
    return [r for r, _ in recorder.exchanges if "/upload:" in r.url.path]


def assert_conforms(fake: FakeFacebook, recorder: Recorder) -> None:
    found = violations(fake, recorder)
    assert not found, "\n".join(found)


async def test_a_video_file_goes_up_chunk_by_chunk_and_publishes_with_the_handle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, data = video_file(tmp_path)
    reads = Reads(monkeypatch)
    fake = FakeFacebook()
    client, recorder = client_for(fake)
    net: Any = fake.connect(http=client, upload_chunk_size=MIB)
    try:
        posted = await net.publish(
            Post(text="a long video", media=[Media.from_path(path, alt="The title")])
        )
    finally:
        await net.aclose()
        await client.aclose()
    assert reads.whole == []
    assert reads.chunks == [(0, MIB), (MIB, MIB), (2 * MIB, len(data) - 2 * MIB)]
    [session] = [r for r, _ in recorder.exchanges if r.url.path.endswith("/uploads")]
    assert session.url.path == f"/v25.0/{fake.app_id}/uploads"
    assert json.loads(session.content) == {
        "file_name": "video.mp4",
        "file_length": len(data),
        "file_type": "video/mp4",
    }
    sent = uploads(recorder)
    assert [r.method for r in sent] == ["POST", "POST", "POST"]
    assert [r.headers["file_offset"] for r in sent] == ["0", str(MIB), str(2 * MIB)]
    assert all(r.headers["authorization"] == f"OAuth {fake.owner_token}" for r in sent)
    assert all(len(r.content) <= MIB for r in sent)
    assert b"".join(r.content for r in sent) == data
    assert list(fake.uploads.values()) == [data]
    [publish] = [r for r, _ in recorder.exchanges if is_publish(r)]
    [handle] = fake.handles
    assert json.loads(publish.content) == {
        "description": "a long video",
        "title": "The title",
        "fbuploader_video_file_chunk": handle,
    }
    [video] = fake.of_type("AdVideo", fake.owner.id)
    assert posted.id == video.id
    assert video.data["title"] == "The title"
    assert video.data["description"] == "a long video"
    assert video.data["_bytes"] == len(data)
    assert_conforms(fake, recorder)


@pytest.mark.parametrize("delivered", [True, False], ids=["answer-lost", "request-lost"])
@pytest.mark.parametrize("nth", [2, 3], ids=["middle-chunk", "last-chunk"])
async def test_a_chunk_whose_answer_is_lost_resumes_at_the_offset_meta_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, nth: int, delivered: bool
) -> None:
    path, data = video_file(tmp_path)
    reads = Reads(monkeypatch)
    fake = FakeFacebook()
    client, recorder = client_for(
        fake, lambda inner: Lossy(inner, is_chunk, nth, delivered=delivered)
    )
    net: Any = fake.connect(http=client, upload_chunk_size=MIB, retry_wait=False)
    try:
        posted = await net.publish(Post(text="resumed", media=[Media.from_path(path)]))
    finally:
        await net.aclose()
        await client.aclose()
    sent = uploads(recorder)
    asked = [r for r in sent if r.method == "GET"]
    assert len(asked) == 1  # the offset is asked for, never guessed
    posts = [(r.headers["file_offset"], len(r.content)) for r in sent if r.method == "POST"]
    lost_at = (nth - 1) * MIB
    before = [(str(i * MIB), MIB) for i in range(nth - 1)]
    lost = (str(lost_at), min(MIB, len(data) - lost_at))
    rest = len(data) - 2 * MIB
    if delivered:
        # Meta kept the chunk: nothing is sent twice; after the last one only the (empty)
        # remainder at the end, which answers the handle.
        tail = [(str(2 * MIB), rest)] if nth == 2 else [(str(len(data)), 0)]
    else:
        # The lost request never reached Meta (nor the recorder): the chunk is sent again at
        # the offset Meta gives, which is where it was.
        tail = [(str(2 * MIB), rest)] if nth == 2 else []
    assert posts == [*before, lost, *tail]
    # Every POST is at the offset Meta holds: the bytes it kept are exactly the file.
    assert list(fake.uploads.values()) == [data]
    assert reads.whole == []
    assert all(length <= MIB for _, length in reads.chunks)
    [video] = fake.of_type("AdVideo", fake.owner.id)
    assert posted.id == video.id
    assert video.data["_bytes"] == len(data)
    assert_conforms(fake, recorder)


async def test_a_lost_publish_answer_is_unknown_and_the_retry_publishes_once(
    tmp_path: Path,
) -> None:
    path, data = video_file(tmp_path)
    fake = FakeFacebook()
    client, recorder = client_for(fake, lambda inner: Lossy(inner, is_publish))
    net: Any = fake.connect(http=client, upload_chunk_size=MIB, retry_wait=False)
    post = Post(text="exactly once", media=[Media.from_path(path)])
    try:
        with pytest.raises(OutcomeUnknownError) as info:
            await net.publish(post, idempotency_key="video-7")
        assert info.value.idempotency_key == "video-7"
        again = await net.publish(post, idempotency_key="video-7")
        third = await net.publish(post, idempotency_key="video-7")
    finally:
        await net.aclose()
        await client.aclose()
    online = [v.id for v in fake.of_type("AdVideo", fake.owner.id)]
    assert online == [again.id] == [third.id]
    # The retry found the video (GET /{page}/videos): no second upload, no second publish.
    sessions = [r for r, _ in recorder.exchanges if r.url.path.endswith("/uploads")]
    assert len(sessions) == 1
    assert len([r for r, _ in recorder.exchanges if is_publish(r)]) == 1
    assert list(fake.uploads.values()) == [data]
    assert_conforms(fake, recorder)


class Stuck(httpx.AsyncBaseTransport):
    """Answers every upload POST as if Meta kept none of its bytes (``file_offset`` stays)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if is_chunk(request):
            await request.aread()
            offset = int(request.headers["file_offset"])
            return httpx.Response(200, json={"id": "upload:x", "file_offset": offset})
        return await self.inner.handle_async_request(request)


async def test_an_upload_that_makes_no_progress_stops_and_publishes_nothing(
    tmp_path: Path,
) -> None:
    from socialkit._errors import TransportError

    path, _ = video_file(tmp_path)
    fake = FakeFacebook()
    client, recorder = client_for(fake, Stuck)
    net: Any = fake.connect(http=client, upload_chunk_size=MIB, retry_wait=False)
    try:
        with pytest.raises(TransportError, match="no progress"):
            await net.publish(Post(text="stuck", media=[Media.from_path(path)]))
    finally:
        await net.aclose()
        await client.aclose()
    assert not [r for r, _ in recorder.exchanges if is_publish(r)]
    assert fake.of_type("AdVideo", fake.owner.id) == []


async def test_a_small_video_keeps_the_single_request(tmp_path: Path) -> None:
    fake = FakeFacebook()
    client, recorder = client_for(fake)
    net: Any = fake.connect(http=client, upload_chunk_size=MIB)
    try:
        await net.publish(Post(text="short", media=[Media.from_bytes(c.MP4_HEAD)]))
    finally:
        await net.aclose()
        await client.aclose()
    assert uploads(recorder) == []
    [publish] = [r for r, _ in recorder.exchanges if is_publish(r)]
    assert b'name="source"' in publish.content
    assert_conforms(fake, recorder)


async def test_bytes_over_the_chunk_size_go_up_in_chunks_too() -> None:
    data = c.MP4_HEAD + b"\x01" * (MIB + 10)
    fake = FakeFacebook()
    client, recorder = client_for(fake)
    net: Any = fake.connect(http=client, upload_chunk_size=MIB)
    try:
        await net.publish(Post(text="from memory", media=[Media.from_bytes(data)]))
    finally:
        await net.aclose()
        await client.aclose()
    sent = uploads(recorder)
    assert [r.headers["file_offset"] for r in sent] == ["0", str(MIB)]
    assert list(fake.uploads.values()) == [data]
    assert_conforms(fake, recorder)


async def test_without_app_id_a_large_video_is_refused_before_any_request(
    tmp_path: Path,
) -> None:
    path, _ = video_file(tmp_path)
    fake = FakeFacebook()
    client, recorder = client_for(fake)
    net: Any = fake.connect(http=client, upload_chunk_size=MIB, app_id=None)
    try:
        with pytest.raises(ConfigurationError, match="app_id"):
            await net.publish(Post(text="no app", media=[Media.from_path(path)]))
    finally:
        await net.aclose()
        await client.aclose()
    assert recorder.exchanges == []


async def test_a_large_video_that_is_not_mp4_is_refused_before_any_request(
    tmp_path: Path,
) -> None:
    # The Resumable Upload API takes video/mp4 (file_type, "Upload a file").
    path, _ = video_file(tmp_path, "clip.mov", MOV_HEAD)
    media = Media.from_path(path)
    assert media.mime_type == "video/quicktime"
    fake = FakeFacebook()
    client, recorder = client_for(fake)
    net: Any = fake.connect(http=client, upload_chunk_size=MIB)
    try:
        post = Post(text="a movie", media=[media])
        assert [p.code for p in net.check(post)] == ["unsupported_media"]
        with pytest.raises(InvalidPostError):
            await net.publish(post)
    finally:
        await net.aclose()
        await client.aclose()
    assert recorder.exchanges == []


# -- the fake serves the protocol as Meta describes it ---------------------------------------


async def test_the_fake_refuses_uploads_out_of_step() -> None:
    fake = FakeFacebook()
    auth = {"Authorization": f"OAuth {fake.owner_token}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app), base_url=fake.base_url
    ) as http:
        start = await http.post(
            f"/v25.0/{fake.app_id}/uploads",
            params={"file_name": "a.mp4", "file_length": "10", "file_type": "video/mp4"},
            headers=auth,
        )
        session = start.json()["id"]
        assert session.startswith("upload:")
        url = f"/v25.0/{session}"
        ahead = await http.post(url, content=b"abc", headers={**auth, "file_offset": "3"})
        assert ahead.status_code == 400
        first = await http.post(url, content=b"abcd", headers={**auth, "file_offset": "0"})
        assert first.status_code == 200
        assert "h" not in first.json()
        again = await http.post(url, content=b"abcd", headers={**auth, "file_offset": "0"})
        assert again.status_code == 400  # behind the bytes Meta holds: out of step
        status = await http.get(url, headers=auth)
        assert status.json() == {"id": session, "file_offset": 4}
        too_long = await http.post(url, content=b"x" * 7, headers={**auth, "file_offset": "4"})
        assert too_long.status_code == 400
        no_token = await http.post(url, content=b"efghij", headers={"file_offset": "4"})
        assert no_token.status_code in (400, 401)
        last = await http.post(url, content=b"efghij", headers={**auth, "file_offset": "4"})
        handle = last.json()["h"]
        assert fake.uploads[session] == b"abcdefghij"
        unknown = await http.post(
            f"/v25.0/{fake.owner.id}/videos",
            json={"fbuploader_video_file_chunk": "2:unknown"},
            headers={"Authorization": f"Bearer {fake.owner_token}"},
        )
        assert unknown.status_code == 400
        published = await http.post(
            f"/v25.0/{fake.owner.id}/videos",
            json={"fbuploader_video_file_chunk": handle, "description": "d"},
            headers={"Authorization": f"Bearer {fake.owner_token}"},
        )
        assert published.status_code == 200
        bad_type = await http.post(
            f"/v25.0/{fake.app_id}/uploads",
            params={"file_name": "a.mov", "file_length": "10", "file_type": "video/quicktime"},
            headers=auth,
        )
        assert bad_type.status_code == 400
