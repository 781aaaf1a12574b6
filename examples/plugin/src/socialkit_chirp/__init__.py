"""Chirp for socialkit: ``ChirpAdapter`` (registry name ``entry``) and its settings.

This file only re-exports: the adapter class lives in ``_adapter.py``, its settings in
``_settings.py``, the wire models in ``_wire.py``, the mapping to socialkit's common model in
``_mapping.py`` and the pipeline's description of the network in ``_network.py``. ``fake.py``
is an in-memory Chirp server for tests.
"""

from __future__ import annotations

from socialkit_chirp._adapter import ChirpAdapter
from socialkit_chirp._settings import ChirpSettings

__all__ = ["ChirpAdapter", "ChirpSettings"]
