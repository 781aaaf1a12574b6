"""Testing tools shipped in the wheel (extra ``testing``: pytest, respx, anyio).

- :mod:`socialkit.testing.conformance`: the adapter conformance suite every adapter's tests
  subclass, in the way fsspec ships its abstract tests.
"""

from __future__ import annotations

__all__: list[str] = []
