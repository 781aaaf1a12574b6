"""The public API: ``socialkit.__all__`` is sorted and complete, and holds what DESIGN.md names."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import socialkit


def test_all_is_sorted() -> None:
    assert socialkit.__all__ == sorted(socialkit.__all__)


def test_all_names_exist_and_nothing_public_is_missing() -> None:
    for name in socialkit.__all__:
        assert hasattr(socialkit, name), name
    public = {
        n
        for n, v in vars(socialkit).items()
        if not n.startswith("_")
        and (not inspect.ismodule(v) or n == "adapters")
        and n not in {"annotations", "sync", "testing", "text", "auth", "stores", "workflows"}
    }
    # Loaded on first use (module __getattr__), so that `import socialkit` stays light.
    lazy = {"__version__", "MediaFetchError"}
    assert public == set(socialkit.__all__) - lazy


def test_design_contract_names() -> None:
    for name in ("Post", "Media", "Metric", "Message", "Account", "Hub", "connect", "register"):
        assert name in socialkit.__all__
    assert callable(socialkit.adapters)


def test_adapters_is_callable_and_still_the_package() -> None:
    importlib.import_module("socialkit.adapters._base")
    assert socialkit.adapters() == socialkit._registry.adapters()
    assert {i.name for i in socialkit.adapters()} >= {"echo"}
    base = importlib.import_module("socialkit.adapters._base")
    assert socialkit.adapters._base is base  # attribute access to subpackages keeps working


def test_every_subpackage_all_is_sorted() -> None:
    for info in pkgutil.walk_packages(socialkit.__path__, "socialkit."):
        if info.name.split(".")[-1].startswith("_") or ".testing" in info.name:
            continue
        if ".cli" in info.name:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra that this environment lacks
            continue
        names = getattr(module, "__all__", None)
        if names is not None:
            assert list(names) == sorted(names), info.name
