"""Model validation: each bad field gives a typed error naming it; good input round-trips."""

from __future__ import annotations

import copy
import json
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pydantic
import pytest

from socialkit import Account, Media, Message, Metric, ModelValidationError, Poll, Post
from socialkit._models import RawPage, read_back_post
from socialkit.testing.conformance import PNG_1X1

UTC = timezone.utc


def _error_fields(exc: pydantic.ValidationError) -> set[str]:
    return {".".join(str(p) for p in e["loc"]) for e in exc.errors()}


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"text": 42}, "text"),
        ({"text": "x", "visibility": "everyone"}, "visibility"),
        ({"text": "x", "language": "not a language!"}, "language"),
        ({"text": "x", "scheduled_at": datetime(2030, 1, 1)}, "scheduled_at"),  # naive
        ({"text": "x", "reply_to": 123}, "reply_to"),
        ({"text": "x", "metrics": {"likes": "3"}}, "metrics.likes"),
        ({"text": "x", "colour": "red"}, "colour"),
    ],
)
def test_post_bad_field_is_named(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(pydantic.ValidationError) as info:
        Post(**kwargs)  # type: ignore[arg-type]
    assert field in _error_fields(info.value)


def test_empty_post_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="needs text, media, a link or a poll"):
        Post()


def test_post_is_frozen_and_datetimes_become_utc() -> None:
    paris = timezone(timedelta(hours=1))
    post = Post(text="hi", scheduled_at=datetime(2030, 1, 1, 12, tzinfo=paris))
    assert post.scheduled_at == datetime(2030, 1, 1, 11, tzinfo=UTC)
    assert post.scheduled_at.tzinfo == UTC
    with pytest.raises(pydantic.ValidationError):
        post.text = "changed"  # type: ignore[misc]


def test_raw_is_excluded_from_dumps_and_repr() -> None:
    post = Post(text="hi", id="1", raw={"secret_field": "network payload"})
    assert "raw" not in post.model_dump()
    assert "network payload" not in repr(post)
    assert post.raw == {"secret_field": "network payload"}


def test_thread_posts_order() -> None:
    post = Post(text="1", thread=[Post(text="2"), Post(text="3")])
    assert [p.text for p in post.posts()] == ["1", "2", "3"]
    assert post.posts()[0].thread == []


def test_media_from_bytes_detects_type_and_size() -> None:
    media = Media.from_bytes(PNG_1X1, alt="pixel")
    assert (media.kind, media.mime_type, media.size) == ("image", "image/png", len(PNG_1X1))
    assert (media.width, media.height) == (1, 1)
    assert b"".join(media.iter_chunks(10)) == PNG_1X1
    assert "data" not in repr(media)


def test_media_from_path_reads_only_the_head(tmp_path: Path) -> None:
    big = tmp_path / "clip.mp4"
    # An ISO-BMFF header ("ftypisom") followed by 5 MB: the type comes from the first bytes.
    with big.open("wb") as fh:
        fh.write(b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41")
        fh.seek(5 * 1024 * 1024)
        fh.write(b"\0")
    media = Media.from_path(big, alt="clip")
    assert media.kind == "video"
    assert media.mime_type == "video/mp4"
    assert media.size == 5 * 1024 * 1024 + 1
    assert media.data is None
    chunks = list(media.iter_chunks(1024 * 1024))
    assert len(chunks) == 6


def test_media_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read media file"):
        Media.from_path(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="cannot tell the media type"):
        Media.from_bytes(b"plain text, not media")
    with pytest.raises(ValueError, match="must be http"):
        Media.from_url("ftp://example.com/a.png")
    with pytest.raises(pydantic.ValidationError, match="exactly one source"):
        Media(kind="image", mime_type="image/png")
    with pytest.raises(ValueError, match="unsupported media type"):
        Media.from_bytes(b"%PDF-1.7\n" + b"0" * 300)


def test_media_from_url_guesses_from_name() -> None:
    media = Media.from_url("https://cdn.example/pic.jpg?size=large", alt="a pic")
    assert (media.kind, media.mime_type, media.size) == ("image", "image/jpeg", None)


def test_metric_and_message_and_account() -> None:
    metric = Metric(name="likes", value=3, network="x", post_id="1", native_name="like_count")
    assert metric.is_canonical
    with pytest.raises(pydantic.ValidationError) as info:
        Metric(name="Likes Count", value=1, network="x")
    assert "name" in _error_fields(info.value)
    author = Account(id="7", handle="alice")
    with pytest.raises(pydantic.ValidationError) as info:
        Account(id=7)  # type: ignore[arg-type]
    assert "id" in _error_fields(info.value)
    msg = Message(
        id="m1",
        network="x",
        kind="mention",
        text="hi",
        author=author,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert msg.kind == "mention"
    with pytest.raises(pydantic.ValidationError) as info:
        Message(
            id="m1",
            network="x",
            kind="shout",  # type: ignore[arg-type]
            text="hi",
            author=author,
            created_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    assert "kind" in _error_fields(info.value)


def test_poll_duration_accepts_seconds() -> None:
    poll = Poll(options=["yes", "no"], duration=3600)  # type: ignore[arg-type]
    assert poll.duration == timedelta(hours=1)
    with pytest.raises(pydantic.ValidationError) as info:
        Poll(options=["only one"], duration=timedelta(hours=1))
    assert "options" in _error_fields(info.value)


# -- read-back posts (adapters' fast path) -------------------------------------------------


def _read_back_values() -> dict[str, object]:
    return {
        "text": "Read back ✓",
        "media": [Media.from_url("https://example.com/a.png")],
        "link": "https://example.com/a",
        "id": "1460323737035677698",
        "network": "x",
        "url": "https://x.com/a/status/1460323737035677698",
        "author": Account(id="1", handle="a", network="x"),
        "created_at": datetime(2024, 5, 1, 12, 34, 56, tzinfo=UTC),
        "reply_to": None,
        "language": "en",
        "metrics": {"likes": 3, "reposts": 1},
        "raw": {"id": "1460323737035677698"},
    }


def test_read_back_post_is_the_validated_post() -> None:
    values = _read_back_values()
    fast, validated = read_back_post(**values), Post(**values)  # type: ignore[arg-type]
    assert fast == validated
    assert repr(fast) == repr(validated)
    assert fast.model_dump() == validated.model_dump()
    assert fast.model_dump_json() == validated.model_dump_json()
    assert fast.model_fields_set == validated.model_fields_set
    assert fast.raw == validated.raw
    assert fast.thread == []
    assert fast.thread is not read_back_post(**values).thread  # defaults are not shared
    with pytest.raises(pydantic.ValidationError):
        fast.text = "changed"  # type: ignore[misc]
    assert fast.model_copy(update={"text": "other"}).text == "other"
    assert Post.model_validate_json(fast.model_dump_json()) == fast.model_copy(update={"raw": None})
    assert pickle.loads(pickle.dumps(fast)) == validated
    assert copy.deepcopy(fast) == validated


def test_read_back_posts_share_field_names_never_values() -> None:
    """A read-back post's ``__dict__`` is a copy of one template (the keys table shared):
    neither another post's values nor a copy's update reach the template."""
    first = read_back_post(**_read_back_values())
    changed = first.model_copy(update={"text": "changed", "language": "fr"})
    bare = read_back_post(id="2", network="x")
    assert (first.text, changed.text, bare.text) == ("Read back ✓", "changed", "")
    assert bare.language is None
    assert bare.author is None
    assert bare.metrics == {}
    assert list(bare.__dict__) == list(Post.model_fields)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"text": "lone \ud800 surrogate"}, "text"),
        ({"content_warning": "\udc00"}, "content_warning"),
        ({"created_at": datetime(2024, 5, 1, 12)}, "created_at"),  # naive
        ({"language": "not a language!"}, "language"),
        ({"metrics": {"likes": "3"}}, "metrics.likes"),
        ({"url": 42}, "url"),
        ({"visibility": "everyone"}, "visibility"),
    ],
)
def test_read_back_post_validates_what_does_not_fit(change: dict[str, object], field: str) -> None:
    with pytest.raises(ModelValidationError) as info:
        read_back_post(**{**_read_back_values(), **change})
    assert field in _error_fields(info.value)


def test_read_back_post_converts_like_validation() -> None:
    # Values validation would change (another zone, a bool among counts) take the slow path.
    paris = timezone(timedelta(hours=2))
    values = {**_read_back_values(), "created_at": datetime(2024, 5, 1, 14, tzinfo=paris)}
    post = read_back_post(**values)
    assert post.created_at == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert post.created_at.tzinfo is UTC


def test_lazy_raw_is_decoded_once_on_access() -> None:
    decoded: list[bytes] = []

    def decode(body: bytes) -> list[dict[str, int]]:
        decoded.append(body)
        return [{"n": n} for n in json.loads(body)]

    page = RawPage(b"[1, 2]", decode)
    first = read_back_post(**{**_read_back_values(), "raw": page.item(0)})
    second = read_back_post(**{**_read_back_values(), "raw": page.item(1)})
    eager = read_back_post(**{**_read_back_values(), "raw": {"n": 2}})
    assert "raw" not in first.model_dump()
    assert "LazyRaw" not in repr(first)
    assert decoded == []  # neither a dump nor a repr decodes
    assert second == eager  # equality decodes
    assert first != eager
    assert decoded == [b"[1, 2]"]
    assert first.raw == {"n": 1}
    assert first.raw is first.raw
    assert second.model_copy().raw == {"n": 2}
    assert pickle.loads(pickle.dumps(first)).raw == {"n": 1}
    assert copy.deepcopy(second).raw == {"n": 2}
    assert decoded == [b"[1, 2]"]  # still decoded once
