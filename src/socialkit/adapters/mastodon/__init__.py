"""Mastodon: publish, read, measure and answer on any Mastodon server (API 4.x).

Everything goes through the HTTP pipeline (``socialkit._http.Session``) with Mastodon's own
network description: ``X-RateLimit-*`` headers (reset as an ISO time), the ``media`` and
``delete`` buckets, ``{"error": ...}`` bodies, and an ``Idempotency-Key`` on every create so a
retried ``POST /api/v1/statuses`` never publishes twice.

The limits of the server (characters, characters reserved per URL, media count, sizes and types,
polls) come from ``GET /api/v2/instance``: :meth:`MastodonAdapter.publish` loads them once per
server (a class-level cache keyed by the server's URL, refreshed after a day; concurrent callers
share one read) before its pre-flight check; :meth:`MastodonAdapter.check` never sends a request
and uses the cached limits, or the limits of a stock server until they are known.

Beyond publishing and reading: favourites, boosts and bookmarks on statuses; follows, blocks and
mutes on accounts; account lookup, followers and following, the home timeline, lists and their
timelines; standalone uploads. Every iterator is a resumable :class:`~socialkit.Paged` built on
one paging helper (``max_id`` / ``since_id`` and ``Link`` headers), and every id that goes into
a URL path is checked to be a Mastodon id (decimal digits) before any request.

See ``docs/networks/mastodon.md`` for credentials, scopes and the ``ex_`` methods.
"""

from socialkit.adapters.mastodon._adapter import MastodonAdapter
from socialkit.adapters.mastodon._settings import MastodonSettings

__all__ = ["MastodonAdapter", "MastodonSettings"]
