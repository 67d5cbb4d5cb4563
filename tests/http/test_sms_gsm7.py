"""A bill's SMS (the payment request and the receipt) uses only the GSM 7-bit alphabet, so it
costs as few parts as possible, in French and English; WhatsApp and e-mail keep typography."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from flask import Flask
from sqlalchemy import select, update

from dashboard.db import db
from dashboard.models import Bill, User
from dashboard.sms import sms_text
from tests.conftest import WebClient
from tests.http import test_bills as bills

# GSM 03.38 (3GPP TS 23.038): the default alphabet, code 0x00 to 0x7F (0x1B is the escape) ...
GSM_03_38_BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
# ... and its extension table, reached through the escape.
GSM_03_38_EXTENSION = "\f^{}\\[~]|€"
GSM7 = set(GSM_03_38_BASIC.replace("\x1b", "")) | set(GSM_03_38_EXTENSION)
# A description as people type them, with the typography French writing uses.
DESCRIPTION = "Riz « spécial » \u2013 2 sacs, œufs, pâtes… l\u2019été"


def not_gsm7(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X} {c!r}" for c in text if c not in GSM7})


def test_the_alphabet_has_its_128_codes() -> None:
    assert len(GSM_03_38_BASIC) == 128 and len(set(GSM_03_38_BASIC)) == 128


def test_sms_text_keeps_gsm_letters_and_replaces_the_rest() -> None:
    said = sms_text("Boutique : 20\u202f000\u00a0FBu — « Riz » l\u2019été, reçu, pâtes… ça 😀")
    assert said == 'Boutique : 20 000 FBu - " Riz " l\'été, recu, pates... ca ?'
    assert not not_gsm7(said)
    assert sms_text("é è à ù É Ä ñ €") == "é è à ù É Ä ñ €"  # in the alphabet: kept


def links_on(page: str) -> dict[str, str]:
    found = re.findall(r'href="([^"]+)"[^>]*data-testid="((?:share|receipt)-[a-z]+)"', page)
    return {name: html.unescape(href) for href, name in found}


def body(link: str, key: str) -> str:
    return unquote(link.split(key, 1)[1].split("&", 1)[0])


def pay(app: Flask, sandbox: Any, web: WebClient) -> int:
    with app.app_context():
        bill = db.session.scalars(select(Bill).order_by(Bill.id.desc())).first()
        assert bill is not None and bill.code
        db.session.execute(update(Bill).values(last_checked_at=None))
        db.session.commit()
        bill_id, code = bill.id, bill.code
    requests.post(sandbox.url + f"_sandbox/bills/{code}/pay", timeout=5).raise_for_status()
    web.get(f"/bills/{bill_id}/status")
    return bill_id


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_bill_and_receipt_sms_are_pure_gsm7_and_whatsapp_keeps_typography(
    app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any, lang: str
) -> None:
    web.login("cashier@example.com")
    web.post("/lang", {"lang": lang})
    bills.issue(web, amount="20 000", description=DESCRIPTION)
    with app.app_context():
        bill_id = db.session.scalars(select(Bill.id).order_by(Bill.id.desc())).first()
    pending = links_on(web.get(f"/bills/{bill_id}").get_data(as_text=True))
    pay(app, sandbox, web)
    paid = links_on(web.get(f"/bills/{bill_id}").get_data(as_text=True))

    for what, links in [("request", pending), ("receipt", paid)]:
        prefix = "share" if what == "request" else "receipt"
        sms = body(links[f"{prefix}-sms"], "body=")
        whatsapp = body(links[f"{prefix}-whatsapp"], "text=")
        email = body(links[f"{prefix}-email"], "body=")
        assert not not_gsm7(sms), f"{lang} {what} SMS: {not_gsm7(sms)} in {sms!r}"
        assert "20 000" in sms or "20,000" in sms, sms
        assert "Riz" in sms and "2 sacs" in sms
        # The same words with their typography where it costs nothing.
        for rich in (whatsapp, email):
            assert "—" in rich and "« spécial »" in rich and "…" in rich, rich
            if lang == "fr":
                assert "20\u202f000\u00a0FBu" in rich, rich
        # "…" became "..." and "œ" "oe": nothing else was added or lost.
        assert len(sms) == len(whatsapp) + 3, (sms, whatsapp)
