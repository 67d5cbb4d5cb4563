"""Throttles under real concurrency: requests sent together against a threaded server on loopback
get exactly the tries the rule allows, never more (issue 15, row 4). Run on SQLite by default and
on PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import make_server

from dashboard.db import db
from dashboard.models import AuditEvent, Role, User
from tests.conftest import CSRF_INPUT, PASSWORD
from tests.http.test_auth import wait_seconds
from tests.http.test_two_factor import enrol

pytestmark = pytest.mark.slow


@pytest.fixture()
def serve() -> Iterator[Callable[[Flask], str]]:
    """Serve an app over HTTP on loopback, one thread per request (like gunicorn's threads)."""
    servers: list[Any] = []

    def start(app: Flask) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def together(count: int, send: Callable[[int], int]) -> Counter[int]:
    """Send ``count`` requests at the same instant from as many threads; their status codes."""
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        barrier.wait(timeout=30)
        status = send(n)
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(statuses) == count
    return Counter(statuses)


def count_events(app: Flask, action: str) -> int:
    with app.app_context():
        query = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        return int(db.session.scalar(query) or 0)


def csrf_of(browser: requests.Session, url: str) -> str:
    match = CSRF_INPUT.search(browser.get(url, timeout=10).text)
    assert match, f"no CSRF token on {url}"
    return match.group(1)


def copy_of(browser: requests.Session) -> requests.Session:
    """Another connection carrying the same cookies (the same browser session)."""
    other = requests.Session()
    other.cookies.update(browser.cookies)
    return other


SLOW = {"LOGIN_FREE_FAILURES": 2, "LOGIN_FIRST_DELAY_SECONDS": 60}


def test_16_code_guesses_sent_together_after_a_wait_check_exactly_one(
    make_app: Callable[..., Flask],
    make_user: Callable[..., User],
    serve: Callable[[Flask], str],
) -> None:
    app = make_app(**SLOW)
    make_user(Role.ACCOUNTANT)
    enrol(app, "accountant@example.com")
    url = serve(app)
    browser = requests.Session()
    login = browser.post(
        url + "/login",
        data={
            "csrf_token": csrf_of(browser, url + "/login"),
            "email": "accountant@example.com",
            "password": PASSWORD,
        },
        allow_redirects=False,
        timeout=10,
    )
    assert login.status_code == 303 and login.headers["Location"].endswith("/login/code")
    token = csrf_of(browser, url + "/login/code")

    def guess(n: int) -> int:
        reply = copy_of(browser).post(
            url + "/login/code",
            data={"csrf_token": token, "code": f"{n:06d}"[-6:].replace("0", "9")},
            allow_redirects=False,
            timeout=30,
        )
        return reply.status_code

    assert [guess(100001), guess(100002)] == [401, 401]  # the free tries: now a wait
    assert guess(100003) == 429
    wait_seconds(app, 60)  # the wait ends
    statuses = together(16, guess)
    assert statuses == Counter({401: 1, 429: 15})
    assert count_events(app, "auth.code_failed") == 3  # two before, exactly one now


def test_16_passwords_sent_together_after_a_wait_check_exactly_one(
    make_app: Callable[..., Flask],
    make_user: Callable[..., User],
    serve: Callable[[Flask], str],
) -> None:
    # A real password hash (a tenth of a second), as in production: the time guesses overlap.
    app = make_app(**SLOW, PASSWORD_HASH_METHOD="pbkdf2:sha256:200000")
    make_user(Role.CASHIER)
    url = serve(app)
    browser = requests.Session()
    token = csrf_of(browser, url + "/login")

    def guess(n: int) -> int:
        reply = copy_of(browser).post(
            url + "/login",
            data={"csrf_token": token, "email": "cashier@example.com", "password": f"guess {n}"},
            allow_redirects=False,
            timeout=30,
        )
        return reply.status_code

    assert [guess(101), guess(102)] == [401, 401]
    assert guess(103) == 429
    wait_seconds(app, 60)
    statuses = together(16, guess)
    assert statuses == Counter({401: 1, 429: 15})
    assert count_events(app, "auth.login_failed") == 3


def test_24_pairing_codes_sent_together_check_exactly_ten(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str]
) -> None:
    app = make_app()  # the documented limit: 10 wrong codes per address
    url = serve(app)

    def guess(n: int) -> int:
        reply = requests.get(url + "/display", params={"code": f"WRONG{n:02d}"}, timeout=30)
        return reply.status_code

    statuses = together(24, guess)
    assert statuses == Counter({404: 10, 429: 14})
    assert count_events(app, "display.pairing_failed") == 10


def test_80_callbacks_sent_together_let_exactly_60_in(
    make_app: Callable[..., Flask], serve: Callable[[Flask], str]
) -> None:
    app = make_app()  # the documented rate: 60 a minute per sending address
    url = serve(app)
    body = json.dumps({"bill_code": "NOPE", "merchant_reference": "NOPE"})

    def send(_n: int) -> int:
        reply = requests.post(
            url + "/ihela/callback",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        return reply.status_code

    statuses = together(80, send)
    assert statuses == Counter({202: 60, 429: 20})
    assert count_events(app, "bill.callback") == 60


def test_a_right_pairing_code_is_not_a_wrong_one(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    from tests.conftest import WebClient
    from tests.http.test_counter import pairing_code

    app = make_app(DISPLAY_PAIRING_ATTEMPTS=2)
    make_user(Role.CASHIER)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    code = pairing_code(web)
    display = app.test_client()
    for _ in range(3):
        assert display.get("/display", query_string={"code": code}).status_code == 303
    assert display.get("/display", query_string={"code": "WRONG1"}).status_code == 404
    assert display.get("/display", query_string={"code": code}).status_code == 303
    assert display.get("/display", query_string={"code": "WRONG2"}).status_code == 404
    assert display.get("/display", query_string={"code": code}).status_code == 429
