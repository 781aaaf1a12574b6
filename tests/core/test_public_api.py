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
        if not n.startswith("_") and not inspect.ismodule(v) and n != "annotations"
    }
    assert public == set(socialkit.__all__) - {"__version__"}


def test_design_contract_names() -> None:
    for name in ("Post", "Media", "Metric", "Message", "Account", "Hub", "connect", "register"):
        assert name in socialkit.__all__
    assert callable(socialkit.adapters)


def test_adapters_is_the_function_even_after_importing_the_subpackage() -> None:
    importlib.import_module("socialkit.adapters._base")
    assert inspect.isfunction(socialkit.adapters)
    assert isinstance(socialkit.adapters(), list)


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
