"""The bank list each page reads from the shared cache row: parsed again only when the row
changed, and then at once (another server stored a new list)."""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from sqlalchemy import update

from dashboard.banks import bank_list
from dashboard.db import db, utcnow
from dashboard.models import CachedDocument


def _bank(slug: str, name: str) -> dict[str, Any]:
    return {
        "slug": slug,
        "name": name,
        "bank_type": "BNQ",
        "account_mask": None,
        "in_minimum": None,
        "in_maximum": None,
        "is_active": True,
        "has_lookup": False,
        "logo_url": None,
        "takes_money_in": True,
    }


def _body(*banks: dict[str, Any], error: str | None = None) -> bytes:
    return json.dumps({"banks": list(banks), "error": error}).encode()


def test_a_list_stored_elsewhere_is_read_at_once(app: Flask) -> None:
    app.config["BANK_LIST_TTL_SECONDS"] = 3600
    with app.app_context():
        fetched = utcnow()
        db.session.add(
            CachedDocument(key="banks", fetched_at=fetched, body=_body(_bank("BCB", "BCB")))
        )
        db.session.commit()
        first = bank_list()
        assert [b.slug for b in first.banks] == ["BCB"]
        assert bank_list() is first  # the same row: not parsed again
        # Another server stores a new list (same second: the body tells them apart)...
        db.session.execute(
            update(CachedDocument)
            .where(CachedDocument.key == "banks")
            .values(body=_body(_bank("BCB", "BCB"), _bank("ECOBANK", "Ecobank")))
        )
        db.session.commit()
        assert [b.slug for b in bank_list().banks] == ["BCB", "ECOBANK"]
        # ...or records that its refresh failed: said on the next page.
        db.session.execute(
            update(CachedDocument)
            .where(CachedDocument.key == "banks")
            .values(body=_body(_bank("BCB", "BCB"), error="gateway down"))
        )
        db.session.commit()
        again = bank_list()
        assert [b.slug for b in again.banks] == ["BCB"] and again.error == "gateway down"
