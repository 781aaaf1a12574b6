"""The fault matrix (socialkit.testing.faults) for Facebook, Instagram and Threads: one post
published through each fault on the create (``POST /{page}/feed``, ``POST /{ig-user}/
media_publish``, ``POST /{user}/threads_publish``), then the application's one retry with the
same idempotency key; posts counted at the fake: none lost, none duplicated.

The Graph API has no idempotency key: the adapters keep a record per key (the container for
Instagram and Threads, whose status says PUBLISHED once the post went out) and reconcile
against the account's newest posts before sending again.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from socialkit.testing.faults import FaultSuite, NetworkTarget


def _facebook(base_url: str) -> Any:
    from socialkit.testing.fakes import FakeFacebook

    return FakeFacebook(base_url=base_url)


def _instagram(base_url: str) -> Any:
    from socialkit.testing.fakes import FakeInstagram

    return FakeInstagram(base_url=base_url)


def _threads(base_url: str) -> Any:
    from socialkit.testing.fakes import FakeThreads

    return FakeThreads(base_url=base_url)


def _owner_posts(node_type: str) -> Any:
    def count(fake: Any) -> list[str]:
        return [o.id for o in fake.of_type(node_type, fake.owner.id)]

    return count


FACEBOOK = NetworkTarget(
    "facebook",
    _facebook,
    lambda method, path: method == "POST" and path.endswith("/feed"),
    _owner_posts("PagePost"),
)
INSTAGRAM = NetworkTarget(
    "instagram",
    _instagram,
    lambda method, path: method == "POST" and path.endswith("/media_publish"),
    _owner_posts("IGMedia"),
)
THREADS = NetworkTarget(
    "threads",
    _threads,
    lambda method, path: method == "POST" and path.endswith("/threads_publish"),
    _owner_posts("ThreadsMedia"),
)


class TestFacebookFaults(FaultSuite):
    network = "facebook"
    target: ClassVar[NetworkTarget | None] = FACEBOOK


class TestThreadsFaults(FaultSuite):
    network = "threads"
    target: ClassVar[NetworkTarget | None] = THREADS


class TestInstagramFaults(FaultSuite):
    """Instagram refuses a post without media, and the matrix publishes text: here its post
    carries one image by URL (Instagram fetches it), nothing else changes."""

    network = "instagram"
    target: ClassVar[NetworkTarget | None] = INSTAGRAM

    @pytest.fixture(autouse=True)
    def _image_posts(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from socialkit import Media, Post
        from socialkit.testing import faults

        def with_image(*, text: str) -> Post:
            return Post(text=text, media=[Media.from_url("https://media.example/a.jpg", alt="a")])

        monkeypatch.setattr(faults, "Post", with_image)
