"""X (API v2): ``XAdapter`` (registry name ``x``), its settings, and the webhook helpers.

Webhooks (Account Activity API): answer X's CRC check with :func:`crc_response` and check each
delivery's ``x-twitter-webhooks-signature`` header with :func:`verify_signature` (HMAC-SHA256
with the app's consumer secret, compared in constant time). See ``docs/networks/x.md``.
"""

from __future__ import annotations

from socialkit.adapters.x._adapter import (
    DEFAULT_SCOPES,
    UserContextRequiredError,
    XAdapter,
    XSettings,
)
from socialkit.adapters.x._webhooks import (
    SIGNATURE_HEADER,
    check_delivery,
    crc_response,
    delivery_id,
    signature,
    verify_signature,
)

__all__ = [
    "DEFAULT_SCOPES",
    "SIGNATURE_HEADER",
    "UserContextRequiredError",
    "XAdapter",
    "XSettings",
    "check_delivery",
    "crc_response",
    "delivery_id",
    "signature",
    "verify_signature",
]
