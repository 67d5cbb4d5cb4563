"""After a bill is settled, tell the merchant: a POST to ``SANDBOX_CALLBACK_URL`` (if set).

iHela publishes no callback format (ihela-api.md §6 #18), so the sandbox sends the bill as v2's
bill-check shows it, as JSON, signed with ``SANDBOX_CALLBACK_SECRET`` (when set) in
``X-Ihela-Signature: sha256=<hex HMAC-SHA256 of the body>``. It is sent from a background thread
so the payer's click is answered at once; failures are logged, never retried.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading

import requests
from flask import current_app

from dashboard.sandbox.state import Bill

log = logging.getLogger("dashboard.sandbox")

SIGNATURE_HEADER = "X-Ihela-Signature"


def notify_settled(bill: Bill) -> threading.Thread | None:
    url = current_app.config.get("SANDBOX_CALLBACK_URL")
    if not url:
        return None
    from dashboard.sandbox.api_v2 import check_object

    body = json.dumps(check_object(bill)).encode()
    headers = {"Content-Type": "application/json"}
    secret = current_app.config.get("SANDBOX_CALLBACK_SECRET")
    if secret:
        digest = hmac.new(str(secret).encode(), body, hashlib.sha256).hexdigest()
        if current_app.config.get("SANDBOX_CALLBACK_SIGNATURE") == "bare":
            headers["X-iHela-Signature"] = digest  # the SDK's spelling and form
        else:
            headers[SIGNATURE_HEADER] = f"sha256={digest}"
    thread = threading.Thread(
        target=_post, args=(str(url), body, headers), name="sandbox-callback", daemon=True
    )
    thread.start()
    return thread


def _post(url: str, body: bytes, headers: dict[str, str]) -> None:
    try:
        reply = requests.post(url, data=body, headers=headers, timeout=5)
        log.info("callback to %s -> %d", url, reply.status_code)
    except requests.RequestException as exc:
        log.warning("callback to %s failed: %s", url, type(exc).__name__)
