"""Conditional answers for fragments that are polled: 304 when nothing changed."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec

from flask import make_response, request, session
from flask.typing import ResponseReturnValue
from flask_babel import get_locale

from dashboard.db import db
from dashboard.models import Bill

P = ParamSpec("P")

# A fragment is put into a page by htmx: the page's own policy governs what it loads. Opened
# on its own, the fragment needs nothing, so the short policy below is also the safer one
# (the page's policy is ~250 bytes, a quarter of a poll's budget).
FRAGMENT_CSP = "default-src 'none'; frame-ancestors 'none'"


def bill_version(bill: Bill) -> str:
    """What the status fragment shows of a bill, plus the reader's language and session.

    The session's CSRF secret is in it because the fragment's form carries a token of it.
    """
    parts: list[Any] = [
        bill.id,
        bill.state,
        bill.last_checked_at.isoformat() if bill.last_checked_at else "",
        bill.payment_reference or "",
        bill.last_error or "",
        str(get_locale()),
        session.get("csrf_token", ""),
    ]
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:20]


def etag_from_bill(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """Give a bill's fragment a weak ETag; answer 304 (no body) when the browser has it already,
    and a short Content-Security-Policy.

    The view runs first (it may ask iHela for news), then the bill it loaded is versioned.
    A response that tells htmx to do something (an ``HX-*`` header) is never cached: it must
    reach the page.
    """

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        response = make_response(view(*args, **kwargs))
        response.headers["Content-Security-Policy"] = FRAGMENT_CSP
        bill = db.session.get(Bill, kwargs.get("bill_id"))
        if (
            bill is None
            or response.status_code != 200
            or any(name.lower().startswith("hx-") for name, _ in response.headers)
        ):
            return response
        response.set_etag(bill_version(bill), weak=True)
        # The browser keeps it but asks each time (If-None-Match); only this browser.
        response.headers["Cache-Control"] = "private, no-cache"
        return response.make_conditional(request)

    return wrapped


def on_first_read(compute: Callable[[], Any]) -> Any:
    """A value for templates that is computed the first time a template reads it, then kept:
    a banner's count costs its queries on the pages that show the banner, not on every htmx
    fragment rendered in the same app (which never reads it)."""
    from werkzeug.local import LocalProxy

    cached: list[Any] = []

    def value() -> Any:
        if not cached:
            cached.append(compute())
        return cached[0]

    return LocalProxy(value)
