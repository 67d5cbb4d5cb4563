"""Bytes on the wire: compressed pages, static files cached for good, polls that cost ~nothing."""

from __future__ import annotations

import gzip
import re
import time
from typing import Any

import brotli
import pytest
import requests
from flask import Flask

from dashboard.db import db
from dashboard.models import Bill, User
from tests.conftest import WebClient
from tests.http.test_bills import issue, only_bill

POLL = {"HX-Request": "true", "X-Poll": "1", "Accept-Encoding": "gzip, deflate, br"}
ASSET = re.compile(r'(?:href|src)="(/assets/[^"]+)"')


def poll(web: WebClient, bill: Bill, **headers: str) -> Any:
    return web.get(f"/bills/{bill.id}/status", headers={**POLL, **headers})


def test_unchanged_status_poll_is_a_304_without_set_cookie(
    make_app: Any, staff: dict[str, User], sandbox: Any
) -> None:
    app = make_app(BILL_REFRESH_MIN_SECONDS=3600)  # no gateway check between the two polls
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    issue(web)
    bill = only_bill(app)

    first = poll(web, bill)
    assert first.status_code == 200 and "bill-status" in text(first)
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "private, no-cache"

    again = poll(web, bill, **{"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers.getlist("Set-Cookie") == []
    assert len(_head(again)) < 1024

    # Paid at the gateway: the next poll that checks sees a new state and sends the fragment.
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    with app.app_context():
        db.session.execute(Bill.__table__.update().values(last_checked_at=None))
        db.session.commit()
    changed = poll(web, bill, **{"If-None-Match": etag})
    assert changed.status_code == 200
    assert "Paid" in text(changed)


def test_status_poll_in_another_language_is_not_the_cached_one(
    make_app: Any, staff: dict[str, User], sandbox: Any
) -> None:
    app = make_app(BILL_REFRESH_MIN_SECONDS=3600)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    issue(web)
    bill = only_bill(app)
    etag = poll(web, bill).headers["ETag"]
    with web.client.session_transaction() as session:
        session["lang"] = "fr"
    assert poll(web, bill, **{"If-None-Match": etag}).status_code == 200


def test_session_cookie_is_resent_at_most_once_a_minute(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("cashier@example.com")
    web.get("/bills/")  # the first page after the login form starts the idle clock
    assert web.get("/bills/").headers.getlist("Set-Cookie") == []
    with web.client.session_transaction() as session:
        session["last_seen"] = int(time.time()) - 61
    touched = web.get("/bills/")
    assert any("dashboard_session=" in c for c in touched.headers.getlist("Set-Cookie"))
    assert web.get("/bills/").headers.getlist("Set-Cookie") == []


def test_pages_are_compressed_and_small_fragments_are_not(
    make_app: Any, staff: dict[str, User], sandbox: Any
) -> None:
    app = make_app(BILL_REFRESH_MIN_SECONDS=3600)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    page = web.get("/bills/new", headers={"Accept-Encoding": "gzip, br"})
    assert page.headers["Content-Encoding"] == "br"
    assert b"<!doctype html>" in brotli.decompress(page.get_data())
    page = web.get("/bills/new", headers={"Accept-Encoding": "gzip"})
    assert page.headers["Content-Encoding"] == "gzip"
    assert b"<!doctype html>" in gzip.decompress(page.get_data())
    plain = web.get("/bills/new", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers

    issue(web)
    bill = only_bill(app)
    qr = web.get(f"/bills/{bill.id}/qr.svg", headers={"Accept-Encoding": "br"})
    assert qr.headers.get("Content-Encoding") == "br"


def test_static_files_have_hashed_names_and_are_cached_for_a_year(
    app: Flask, web: WebClient, staff: dict[str, User]
) -> None:
    web.login("cashier@example.com")
    page = web.get("/bills/").get_data(as_text=True)
    urls = ASSET.findall(page)
    names = {re.sub(r"\.[0-9a-f]{12}\.", ".", u) for u in urls}
    assert names >= {
        "/assets/vendor/bootstrap/bootstrap.css",
        "/assets/css/app.css",
        "/assets/favicon.svg",
        "/assets/vendor/htmx/htmx.min.js",
        "/assets/js/app.js",
    }
    assert re.search(r'rel="icon" href="/assets/favicon\.[0-9a-f]{12}\.svg"', page)
    # Tom Select and IMask only where a form needs them; every script deferred.
    assert "tom-select" not in page and "imask" not in page
    assert all(" defer" in tag for tag in re.findall(r"<script [^>]*>", page))

    client = app.test_client()  # no session: static files need none
    for url in urls:
        response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert "Set-Cookie" not in response.headers
        if url.endswith((".css", ".js")):
            assert response.headers["Content-Encoding"] == "br"
            assert len(response.get_data()) < 0.6 * len(brotli.decompress(response.get_data()))
    css = next(u for u in urls if "/css/app." in u)
    plain = client.get(css)  # a client that accepts no compression gets the file itself
    assert "Content-Encoding" not in plain.headers
    with open(app.static_folder + "/css/app.css", "rb") as f:  # type: ignore[operator]
        assert plain.get_data() == f.read()
    assert client.get(css, headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304
    assert client.get("/assets/css/app.000000000000.css").status_code == 404


def test_form_pages_load_their_widgets(app: Flask, web: WebClient, staff: dict[str, User]) -> None:
    web.login("accountant@example.com")
    page = web.get("/cashins/new").get_data(as_text=True)
    assert re.search(r'src="/assets/vendor/imask/imask\.min\.[0-9a-f]{12}\.js" defer', page)
    assert re.search(r"/assets/vendor/tom-select/tom-select\.complete\.min\.[0-9a-f]{12}\.js", page)


def test_payer_return_page_loads_no_script(
    app: Flask, cashier_bill: tuple[WebClient, Bill]
) -> None:
    _, bill = cashier_bill
    page = app.test_client().get(f"/pay/return/{bill.public_token}").get_data(as_text=True)
    assert "<script" not in page
    assert re.search(r'href="/assets/vendor/bootstrap/bootstrap\.[0-9a-f]{12}\.css"', page)


def text(response: Any) -> str:
    body = response.get_data()
    coding = response.headers.get("Content-Encoding")
    if coding == "br":
        body = brotli.decompress(body)
    elif coding == "gzip":
        body = gzip.decompress(body)
    return str(body.decode())


def _head(response: Any) -> bytes:
    """The status line and headers as a server would send them."""
    lines = [f"HTTP/1.1 {response.status}"] + [f"{k}: {v}" for k, v in response.headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture()
def cashier_bill(app: Flask, web: WebClient, staff: dict[str, User], sandbox: Any) -> Any:
    web.login("cashier@example.com")
    issue(web)
    return web, only_bill(app)
