"""Meta: ``FacebookAdapter`` (``facebook``), ``InstagramAdapter`` (``instagram``) and
``ThreadsAdapter`` (``threads``), sharing one Graph API client (private modules), and the
webhook helpers (``hub.challenge`` verification, ``X-Hub-Signature-256`` checking).

See ``docs/networks/facebook.md``, ``instagram.md`` and ``threads.md``.
"""

from __future__ import annotations

from socialkit.adapters.meta._auth import (
    INSTAGRAM_LOGIN,
    LOGIN,
    LongLivedToken,
    PageToken,
    appsecret_proof,
)
from socialkit.adapters.meta._common import MetaSettings
from socialkit.adapters.meta._facebook import (
    FACEBOOK_PAGE_METRICS,
    FACEBOOK_POST_METRICS,
    FacebookAdapter,
    FacebookSettings,
)
from socialkit.adapters.meta._graph import DEFAULT_VERSION, decode_graph_error
from socialkit.adapters.meta._instagram import (
    INSTAGRAM_ACCOUNT_METRICS,
    INSTAGRAM_POST_METRICS,
    InstagramAdapter,
    InstagramSettings,
)
from socialkit.adapters.meta._threads import (
    THREADS_ACCOUNT_METRICS,
    THREADS_POST_METRICS,
    ThreadsAdapter,
    ThreadsSettings,
)
from socialkit.adapters.meta._webhooks import (
    SIGNATURE_HEADER,
    check_delivery,
    delivery_id,
    signature,
    verify_signature,
    verify_subscription,
)

__all__ = [
    "DEFAULT_VERSION",
    "FACEBOOK_PAGE_METRICS",
    "FACEBOOK_POST_METRICS",
    "FacebookAdapter",
    "FacebookSettings",
    "INSTAGRAM_ACCOUNT_METRICS",
    "INSTAGRAM_LOGIN",
    "INSTAGRAM_POST_METRICS",
    "InstagramAdapter",
    "InstagramSettings",
    "LOGIN",
    "LongLivedToken",
    "MetaSettings",
    "PageToken",
    "SIGNATURE_HEADER",
    "THREADS_ACCOUNT_METRICS",
    "THREADS_POST_METRICS",
    "ThreadsAdapter",
    "ThreadsSettings",
    "appsecret_proof",
    "check_delivery",
    "decode_graph_error",
    "delivery_id",
    "signature",
    "verify_signature",
    "verify_subscription",
]
