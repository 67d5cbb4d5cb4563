"""Payment callbacks: iHela (or the sandbox) tells us a bill may have changed.

A callback is only a hint. Its payload names a bill; we then verify that bill with the gateway,
exactly as a poll would, and never take the status it claims. So a forged callback can at most
cause one extra verify, and a flood of them is bounded by a rate limit counted in the database
(dashboard/throttle.py, like failed logins, per sending address), which holds across processes.

When ``IHELA_CALLBACK_SECRET`` is set, the raw body must carry a valid signature in
``X-Ihela-Signature: sha256=<hex HMAC-SHA256 of the body>``, or the bare hex as the published
ihela-sdk 0.4.0 signs (``X-iHela-Signature``: header names are not case-sensitive). The verify
is a job written in the same transaction as the callback's audit event and run by a worker, so
iHela is answered at once and the verify survives this process dying right after answering.

Payload (JSON): ``{"bill_code": "...", "merchant_reference": "...", ...}``; other keys ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy import select

from dashboard import audit, throttle
from dashboard import messages as msg
from dashboard.background.jobs import add_job
from dashboard.db import db
from dashboard.extensions import csrf
from dashboard.models import Bill, BillState

log = logging.getLogger("dashboard.bills")

bp = Blueprint("ihela_callbacks", __name__)
csrf.exempt(bp)

SIGNATURE_HEADER = "X-Ihela-Signature"
ACCEPTED = "bill.callback"
REFUSED = "bill.callback_refused"
# A callback verifies even if a poll just did (the payment may have come in between); the
# rate limit and "pending bills only" bound how often that can be.
MIN_INTERVAL_SECONDS = 0.0
_MAX_BODY = 4096


def signature(secret: str, body: bytes) -> str:
    """The header value a sender computes: ``sha256=`` and the hex HMAC of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """``sha256=<hex>`` (ours) or the bare hex the published ihela-sdk 0.4.0 sends."""
    if header is None:
        return False
    given = header.strip()
    given = given[len("sha256=") :] if given.lower().startswith("sha256=") else given
    expected = signature(secret, body).removeprefix("sha256=")
    # Compared as bytes: a header that is not ASCII is simply wrong, never an error.
    return hmac.compare_digest(expected.encode(), given.lower().encode("utf-8", "replace"))


def _claim_callback() -> int:
    """Count this callback for its sending address if the rate allows it (0), else the seconds
    to wait: checked and counted in one step in the database, all servers together (a flood from
    one sender cannot starve iHela's own; behind a proxy this needs ``TRUST_PROXY_HOPS``)."""
    rate = int(current_app.config["CALLBACK_RATE_PER_MINUTE"])
    rule = throttle.Rule(free=rate, first_delay=60, max_delay=60, window=timedelta(minutes=1))
    return throttle.claim(throttle.key("callback", audit.client_address() or ""), rule)


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    # Printable text only: a NUL (which PostgreSQL refuses) or a control character names no bill.
    if isinstance(value, str) and 0 < len(value.strip()) <= 64 and value.isprintable():
        return value.strip()
    return None


@bp.post("/ihela/callback")
def payment_callback() -> ResponseReturnValue:
    config = current_app.config
    wait = _claim_callback()
    if wait:
        return {"detail": "Too many callbacks; try again later."}, 429, {"Retry-After": str(wait)}
    # Read at most one byte more than allowed, whatever Content-Length says (or not).
    body = request.stream.read(_MAX_BODY + 1)
    if len(body) > _MAX_BODY:
        return {"detail": "Body too large."}, 413
    secret = config.get("IHELA_CALLBACK_SECRET")
    if secret and not _signature_ok(str(secret), body, request.headers.get(SIGNATURE_HEADER)):
        audit.record(
            REFUSED, actor_label="iHela callback", summary=msg.coded("audit.callback_bad_signature")
        )
        db.session.commit()
        return {"detail": "Bad signature."}, 401
    try:
        payload = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, or nested thousands of levels deep
        payload = None
    if not isinstance(payload, dict):
        audit.record(
            REFUSED, actor_label="iHela callback", summary=msg.coded("audit.callback_not_json")
        )
        db.session.commit()
        return {"detail": "Send a JSON object."}, 400
    reference = _text(payload, "merchant_reference")
    code = _text(payload, "bill_code")
    bill = (
        db.session.scalar(select(Bill).where(Bill.merchant_reference == reference))
        if reference
        else None
    )
    # Both names must belong to one bill we issued; the claimed status is never read.
    matched = bill is not None and code is not None and bill.code == code
    audit.record(
        ACCEPTED,
        actor_label="iHela callback",
        object_type="bill" if matched else None,
        object_id=reference if matched else None,
        summary=msg.coded("audit.callback_verify" if matched else "audit.callback_ignored"),
    )
    if matched and bill is not None and bill.state == BillState.PENDING:
        _verify_later(bill.id)
    db.session.commit()
    # The same answer whether or not the bill exists: callers learn nothing from it.
    return {"received": True}, 202


def _verify_later(bill_id: int) -> None:
    """A job, committed with the callback's audit event (each callback its own verify)."""
    add_job(
        "verify_bill",
        f"verify_bill:{bill_id}:{uuid.uuid4().hex}",
        {"bill_id": bill_id, "actor_label": "iHela callback", "min_interval": MIN_INTERVAL_SECONDS},
    )
