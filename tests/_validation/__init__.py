"""Test-side validators: check the traffic adapter tests send against the official descriptions.

- :class:`OpenAPIChecker` (``openapi.py``): OpenAPI 3.0/3.1 documents (X, Mastodon, Pinterest)
  through ``openapi-core``.
- :class:`LexiconChecker` (``lexicon.py``): AT Protocol lexicons (Bluesky), a small validator
  written here because no well-kept Python lexicon validator exists outside the atproto SDK,
  which the project does not depend on.
- :class:`DiscoveryChecker` (``discovery.py``): Google API discovery documents (YouTube).
- :func:`checked` / :class:`CheckedRouter` (``respx_hook.py``): validate every request a respx
  router saw and every response it mocked, at the end of a test.

The descriptions themselves live in ``../shared/specs`` and are read in place; locate them with
``tests._specs.specs_dir()``.
"""

from __future__ import annotations

from tests._validation.discovery import DiscoveryChecker
from tests._validation.lexicon import LexiconChecker, LexiconError
from tests._validation.openapi import OpenAPIChecker
from tests._validation.respx_hook import CheckedRouter, Checker, checked

__all__ = [
    "CheckedRouter",
    "Checker",
    "DiscoveryChecker",
    "LexiconChecker",
    "LexiconError",
    "OpenAPIChecker",
    "checked",
]
