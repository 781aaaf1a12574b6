"""One package per network. Adapters never import each other; each is loaded on first use.

``socialkit.adapters`` is both this package and the public function that lists the registered
networks (``socialkit.adapters()``). Python binds a subpackage as an attribute of its parent
when it is imported, so rather than fight that, the package itself is callable: calling it
lists the networks, and ``import socialkit.adapters.x as x`` keeps working.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from socialkit._registry import AdapterInfo


class _CallablePackage(types.ModuleType):
    def __call__(self) -> list[AdapterInfo]:
        from socialkit._registry import adapters

        return adapters()


sys.modules[__name__].__class__ = _CallablePackage
