"""Public API docstrings: every public class and method has one (the API reference is built
from them), and every public method an adapter defines says which network calls it makes."""

from __future__ import annotations

import inspect
import re

import pytest

import socialkit
from socialkit.adapters._base import Adapter
from socialkit.adapters.bluesky import BlueskyAdapter
from socialkit.adapters.mastodon import MastodonAdapter
from socialkit.adapters.meta import FacebookAdapter, InstagramAdapter, ThreadsAdapter
from socialkit.adapters.meta._common import ContainerAdapter, MetaAdapter
from socialkit.adapters.x import XAdapter

#: The Meta adapters' shared methods are defined on their private bases: checked there.
ADAPTERS = (
    MastodonAdapter,
    BlueskyAdapter,
    XAdapter,
    MetaAdapter,
    ContainerAdapter,
    FacebookAdapter,
    InstagramAdapter,
    ThreadsAdapter,
)

#: What "which network calls it makes" looks like in a docstring: an HTTP method and path, an
#: XRPC method, or an explicit statement that nothing is sent.
NETWORK_CALLS = re.compile(
    r"\b(GET|POST|PUT|DELETE|PATCH)\b|com\.atproto\.|app\.bsky\.|chat\.bsky\.|/2/|/api/v[12]/"
    r"|[Nn]o request|[Nn]etwork calls: none|nothing is sent|[Nn]ever sends"
)


def _public_members(cls: type) -> list[tuple[str, object]]:
    found = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, property):
            found.append((name, value.fget))
        elif isinstance(value, (classmethod, staticmethod)):
            found.append((name, value.__func__))
        elif inspect.isfunction(value):
            found.append((name, value))
    return found


@pytest.mark.parametrize("cls", [Adapter, *ADAPTERS], ids=lambda c: c.__name__)
def test_every_public_method_has_a_docstring(cls: type) -> None:
    assert cls.__doc__
    missing = [name for name, f in _public_members(cls) if not getattr(f, "__doc__", None)]
    assert not missing, f"{cls.__name__}: no docstring on {missing}"


@pytest.mark.parametrize("cls", ADAPTERS, ids=lambda c: c.__name__)
def test_adapter_methods_name_their_network_calls(cls: type) -> None:
    lacking = [
        name
        for name, f in _public_members(cls)
        if inspect.iscoroutinefunction(f) or name.startswith(("ex_", "posts", "messages"))
        if not NETWORK_CALLS.search(getattr(f, "__doc__", "") or "")
    ]
    assert not lacking, f"{cls.__name__}: say which network calls {lacking} make"


def test_every_exported_class_and_function_has_a_docstring() -> None:
    missing = [
        name
        for name in socialkit.__all__
        if (inspect.isclass(obj := getattr(socialkit, name)) or inspect.isfunction(obj))
        and not obj.__doc__
    ]
    assert not missing, missing
