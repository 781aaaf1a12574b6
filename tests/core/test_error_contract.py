"""Every public error path of the core raises a documented socialkit error (docs/errors.md):
bad media, bad model values, lone surrogates, bad kinds and cursors; and errors show their
public class path in tracebacks."""

from __future__ import annotations

import traceback
from pathlib import Path

import httpx
import pydantic
import pytest

import socialkit
from socialkit import Media, Poll, Post
from socialkit.adapters._base import check_id, kinds_filter, path_segment
from socialkit.testing.conformance import GIF_1X1, MP3_HEAD, MP4_HEAD, PNG_1X1

JPEG_HEAD = bytes.fromhex("ffd8ffe000104a46494600010100000100010000")


def test_every_error_in_the_tree_is_exported_and_shows_its_public_path() -> None:
    for name in socialkit.__all__:
        value = getattr(socialkit, name)
        if isinstance(value, type) and issubclass(value, BaseException):
            assert issubclass(value, socialkit.SocialkitError), name
            assert value.__module__ in ("socialkit", "socialkit.auth"), name
    try:
        raise socialkit.RateLimitError("x", retry_after=3)
    except socialkit.RateLimitError:
        shown = traceback.format_exc()
    assert "socialkit.RateLimitError: x answered HTTP 429" in shown


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(socialkit.MediaError, match=r"cannot read media file .*nope\.png"):
        Media.from_path(tmp_path / "nope.png")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(socialkit.MediaError, match="directory"):
        Media.from_path(tmp_path)


def test_unsupported_content(tmp_path: Path) -> None:
    notes = tmp_path / "notes.png"
    notes.write_text("not an image at all")
    with pytest.raises(socialkit.MediaError, match="its name says image/png"):
        Media.from_path(notes)
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(100))
    with pytest.raises(socialkit.MediaError, match="unsupported media type 'application/pdf'"):
        Media.from_path(pdf)


def test_bytes_that_disagree_with_the_name(tmp_path: Path) -> None:
    lying = tmp_path / "cat.png"
    lying.write_bytes(JPEG_HEAD + bytes(300))
    with pytest.raises(socialkit.MediaError, match="holds image/jpeg data, not the image/png"):
        Media.from_path(lying)
    honest = tmp_path / "cat.jpg"
    honest.write_bytes(JPEG_HEAD + bytes(300))
    assert Media.from_path(honest).mime_type == "image/jpeg"


def test_bytes_that_disagree_with_mime_type() -> None:
    with pytest.raises(socialkit.MediaError, match="image/png, not the video/mp4"):
        Media.from_bytes(PNG_1X1, mime_type="video/mp4")
    with pytest.raises(socialkit.MediaError, match="from its content"):
        Media.from_bytes(b"\x00\x01\x02 no magic")


def test_media_kinds_from_their_bytes() -> None:
    kinds = {
        "image/png": Media.from_bytes(PNG_1X1).kind,
        "image/gif": Media.from_bytes(GIF_1X1).kind,
        "video/mp4": Media.from_bytes(MP4_HEAD).kind,
        "audio/mpeg": Media.from_bytes(MP3_HEAD).kind,
    }
    assert kinds == {
        "image/png": "image",
        "image/gif": "gif",
        "video/mp4": "video",
        "audio/mpeg": "audio",
    }


def test_media_errors_are_value_errors_too() -> None:
    with pytest.raises(ValueError, match="media url must be http"):
        Media.from_url("file:///etc/passwd")


def test_bad_model_values_raise_socialkit_and_pydantic_errors() -> None:
    with pytest.raises(socialkit.ValidationError) as info:
        Post(text=42)  # type: ignore[arg-type]
    error = info.value
    assert isinstance(error, socialkit.ModelValidationError)
    assert isinstance(error, pydantic.ValidationError)
    assert isinstance(error, ValueError)
    assert str(error).splitlines()[0] == "1 invalid value for Post"
    assert error.problems() == [
        {"type": "string_type", "loc": ("text",), "msg": "Input should be a valid string"}
    ]


def test_messages_lose_pydantics_value_error_prefix() -> None:
    with pytest.raises(socialkit.ValidationError) as info:
        Post()
    assert "Value error" not in str(info.value)
    assert "a post needs text, media, a link or a poll" in str(info.value)
    assert all("Value error" not in e["msg"] for e in info.value.errors())  # type: ignore[attr-defined]


def test_model_validate_raises_the_same() -> None:
    with pytest.raises(socialkit.ModelValidationError):
        Post.model_validate({"text": 1})
    with pytest.raises(socialkit.ModelValidationError):
        Post.model_validate_json('{"text": 1}')


@pytest.mark.parametrize(
    "build",
    [
        lambda: Post(text="fine \ud83d then broken"),
        lambda: Post(text="ok", content_warning="\udfff"),
        lambda: Poll(options=["a", "\ud800"], duration=60),
        lambda: Media.from_bytes(PNG_1X1, alt="\udc00"),
    ],
)
def test_lone_surrogates_are_refused(build: object) -> None:
    with pytest.raises(socialkit.ValidationError, match="lone surrogate"):
        build()  # type: ignore[operator]


def test_a_surrogate_pair_written_properly_is_fine() -> None:
    assert Post(text="emoji \U0001f600").text.endswith("\U0001f600")


def test_unknown_message_kind() -> None:
    with pytest.raises(socialkit.ValidationError, match="unknown message kinds"):
        kinds_filter({"gossip"})  # type: ignore[arg-type]


def test_ids_in_paths() -> None:
    with pytest.raises(socialkit.ValidationError, match="is not a x post id"):
        check_id("x", "1/../../users/me", r"[0-9]{1,19}", "post id")
    assert check_id("x", "123", r"[0-9]{1,19}", "post id") == "123"
    assert path_segment("a/b?c#d%") == "a%2Fb%3Fc%23d%25"
    for bad in ("", ".", ".."):
        with pytest.raises(socialkit.ValidationError):
            path_segment(bad)


def test_idempotency_key_must_not_be_blank() -> None:
    class Net(socialkit.Adapter):
        name = "net"
        capabilities = frozenset({socialkit.Capability.PUBLISH_TEXT})

        async def me(self) -> socialkit.Account:
            raise AssertionError("not called")

    net = Net(socialkit.AdapterSettings())
    import anyio

    async def run() -> None:
        await net.publish(Post(text="x"), idempotency_key="  ")

    with pytest.raises(socialkit.ValidationError, match="idempotency_key"):
        anyio.run(run)


def test_models_nested_in_other_models_validate_from_json() -> None:
    """Wrapping __init__ must not change how a model nested in another validates: a Message
    (strict) inside a lax container still accepts ISO datetimes from JSON."""

    class Box(pydantic.BaseModel):
        message: socialkit.Message

    raw = (
        '{"message": {"id": "1", "network": "x", "kind": "mention", "text": "hi", '
        '"author": {"id": "2"}, "created_at": "2024-05-06T09:05:00Z"}}'
    )
    assert Box.model_validate_json(raw).message.created_at.minute == 5


@pytest.mark.anyio
async def test_connecting_without_credentials_fails_at_once_with_the_fix() -> None:
    """Issue 11: `async with connect(...)` without any credential (no secret setting, nothing
    stored) raises AuthFlowError naming the login command, before any request (no transport
    is ever called here)."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"no request may be sent: {request.url}")

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    cases = [
        ("mastodon", {"instance": "https://mastodon.example"}, "socialkit auth login mastodon"),
        ("x", {"client_id": "abc"}, "socialkit auth login x"),
        (
            "bluesky",
            {
                "identifier": "alice.example.com",
                "oauth_client_id": "http://localhost",
                "oauth_redirect_uri": "http://127.0.0.1:8765/callback",
            },
            "socialkit auth login bluesky",
        ),
    ]
    for name, settings, fix in cases:
        adapter = socialkit.connect(name, http=http, store=socialkit.MemoryStore(), **settings)
        with pytest.raises(socialkit.AuthFlowError, match=fix):
            async with adapter:
                raise AssertionError("not reached")
        # An adapter made for the login steps opts out of the check.
        login = socialkit.connect(
            name, http=http, store=socialkit.MemoryStore(), require_credentials=False, **settings
        )
        async with login:
            pass
    await http.aclose()
