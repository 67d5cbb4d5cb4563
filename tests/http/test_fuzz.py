"""Hostile values against every form and public endpoint, for each role: never a server error
(issue 15, row 7). Seeded and bounded: the same few hundred requests every run, in seconds."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from dashboard.bills.callbacks import signature
from dashboard.models import User
from tests.conftest import WebClient

SEED = 15
HOSTILE: list[str] = [
    "\x00",
    "a\x00b",
    "x" * 20_000,
    "é" * 2_000,
    "-1",
    "0",
    "99999999999999999999999",
    "1e309",
    "NaN",
    "١٢٣٤",  # Arabic-Indic digits
    "\uff11\uff12\uff13",  # full-width digits
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%",
    "../../etc/passwd",
    "\r\nSet-Cookie: x=y",
    "\u202e\u200b",
    "😀" * 50,
    " ",
    "2026-02-30",
]
# Raw query strings the test client would not build from text: a lone surrogate, invalid UTF-8.
RAW_QUERIES = ["q=%ED%A0%80", "q=%FF%FE", "code=%C0%80", "page=%00"]
FIELDS = [
    "q", "page", "status", "from", "to", "bank", "kind", "next", "lang", "code", "email", "name",
    "role", "password", "amount", "payer", "description", "account", "holder_name", "reason",
    "note", "bill_id", "form_token", "send_token", "outcome", "reference", "cashier", "accountant",
    "admin", "MERCHANT_NAME", "value", "by", "action", "sort",
]  # fmt: skip
ROLES = [None, "cashier", "accountant", "admin"]


def _paths(app: Flask, rng: random.Random) -> list[tuple[str, str]]:
    """(method, path) for every route, path parameters filled with odd but routable values."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule
        for name in rule.arguments:
            value = rng.choice(["1", "2", "999999", "9223372036854775807", "x%00y", "é", "a" * 300])
            if re.search(rf"<(int|id):{name}>", path):
                value = rng.choice(["1", "2", "2147483647", "2147483648", "9223372036854775807"])
            path = re.sub(rf"<[^>]*\b{name}>", value, path)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):  # type: ignore[operator]
            found.append((method, path))
    return sorted(found)


def _client(app: Flask, role: str | None) -> WebClient:
    web = WebClient(app.test_client())
    if role is not None:
        assert web.login(f"{role}@example.com").status_code == 302
    return web


def _send(web: WebClient, method: str, path: str, values: dict[str, str]) -> Any:
    if method == "GET":
        return web.get(path, query_string=values)
    return web.post(path, values)


@pytest.fixture()
def fuzzed(make_app: Callable[..., Flask], staff: dict[str, User]) -> Flask:
    # The gateway is on a closed port: whatever a hostile request makes the app ask, iHela's
    # silence is an answer the app must handle (never a 500) too.
    return make_app(IHELA_CALLBACK_SECRET="fuzz-secret", CALLBACK_RATE_PER_MINUTE=10_000)


def test_hostile_values_in_every_form_and_address_never_give_a_server_error(
    fuzzed: Flask,
) -> None:
    rng = random.Random(SEED)
    app = fuzzed
    paths = _paths(app, rng)
    errors: list[str] = []
    sent = 0
    for role in ROLES:
        web = _client(app, role)
        for method, path in paths:
            if path in ("/logout", "/lang"):  # would end or change the session being fuzzed
                continue
            nul_everywhere = dict.fromkeys(FIELDS, "a\x00b")
            mixed = {name: rng.choice(HOSTILE) for name in rng.sample(FIELDS, 6)}
            for values in (mixed, nul_everywhere):
                try:
                    response = _send(web, method, path, values)
                except Exception as exc:  # TESTING propagates errors: report them
                    errors.append(f"{role} {method} {path} {sorted(values)}: {exc!r}"[:300])
                    continue
                sent += 1
                if response.status_code >= 500:
                    errors.append(f"{role} {method} {path}: {response.status_code}")
            if method == "GET":
                for raw in rng.sample(RAW_QUERIES, 1):
                    response = web.client.get(f"{path}?{raw}")
                    sent += 1
                    if response.status_code >= 500:
                        errors.append(f"{role} GET {path}?{raw}: {response.status_code}")
    assert sent > 600
    assert errors == []


def test_the_named_hostile_requests_are_clean_4xx(fuzzed: Flask) -> None:
    """The cases the outside review found: each one a 4xx, not a 500."""
    app = fuzzed
    admin = _client(app, "admin")
    for address in ["/bills/?q=a%00b", "/cashins/?q=a%00b", "/admin/audit?q=a%00b"]:
        assert admin.get(address).status_code == 400, address
    public = app.test_client()
    assert public.get("/display?code=AB%00CD").status_code == 400
    assert public.get("/display/ab%00cd/state").status_code == 400
    assert public.get("/display/ab%00cd").status_code == 400

    def callback(body: bytes, sig: str | None = None, **headers: str) -> int:
        headers = {"Content-Type": "application/json", **headers}
        headers["X-Ihela-Signature"] = sig or signature("fuzz-secret", body)
        return int(public.post("/ihela/callback", data=body, headers=headers).status_code)

    nul = json.dumps({"bill_code": "a\x00b", "merchant_reference": "B\x00"}).encode()
    assert callback(nul) == 202  # names no bill: the usual answer, nothing looked up
    surrogate = b'{"bill_code": "\\ud800", "merchant_reference": "\\udfff"}'
    assert callback(surrogate) == 202
    assert callback(b"{}", sig="sha256=\u00e9\u00e9".encode().decode("latin-1")) == 401
    assert callback(b"{}", sig="sha256=\u2603") == 401
    deep = b"[" * 2000 + b"]" * 2000
    assert callback(deep) == 400
    deep_object = b'{"a":' * 2000 + b"1" + b"}" * 2000
    assert callback(deep_object) == 413  # larger than any callback: refused unread
    for odd in [b"\xff\xfe{\x00}\x00", "{}".encode("utf-16"), b"\xc0\x80{}", b"{\xff}"]:
        assert callback(odd) in (202, 400)  # read as JSON, or refused: never an error
    assert callback(b'{"bill_code": 1e999999}') == 202
