"""English pages write dates day first on a 24-hour clock, as the French ones do: in Bujumbura
12/7 is the 12th of July, and a bill issued at 3:28 in the afternoon was issued at 15:28."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from flask import Flask

from dashboard import audit
from dashboard.db import db
from dashboard.models import Bill, BillState, User
from tests.conftest import WebClient
from tests.http.test_one_language import readable_text

ISSUED = datetime(2026, 12, 7, 13, 28, 5, tzinfo=UTC)  # 15:28 in Bujumbura


def test_english_pages_write_dates_day_first_on_a_24_hour_clock(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    with app.app_context():
        bill = Bill(
            merchant_reference="B261207-" + secrets.token_hex(3).upper(),
            public_token=secrets.token_urlsafe(16),
            amount=2000,
            payer="clientmail@gmail.com",
            payer_kind="email",
            description="bread",
            status=BillState.PENDING,
            issued_by_id=staff["admin"].id,
            created_at=ISSUED,
        )
        db.session.add(bill)
        audit.record("bill.created", actor=staff["admin"], object_type="bill").created_at = ISSUED
        db.session.commit()
        bill_id = bill.id
    web.login("admin@example.com")
    web.post("/lang", {"lang": "en"})
    pages = {
        "bills list": web.get("/bills/").get_data(as_text=True),
        "audit trail": web.get("/admin/audit").get_data(as_text=True),
    }
    for where, page in pages.items():
        assert '<html lang="en">' in page, where
        text = readable_text(page)
        assert "07/12/2026, 15:28" in text, where
        assert "12/7/26" not in text and "3:28 PM" not in text, where
    detail = readable_text(web.get(f"/bills/{bill_id}").get_data(as_text=True))
    assert "7 Dec 2026, 15:28:05" in detail and "PM" not in detail
