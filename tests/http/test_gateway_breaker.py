"""Fail fast while iHela is down: the circuit breaker, with a sandbox that really stops.

The sandbox runs on a port of its own with a state file, so it can be stopped (connections
refused), replaced by a loopback listener that counts every connection attempt, and started
again with its bills. Nothing here is timed: attempts are counted.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import Cashin, GatewayBreaker, User
from dashboard.sandbox.server import RunningSandbox, start_sandbox
from tests.conftest import WebClient
from tests.http.test_bills import issue, only_bill
from tests.http.test_cashins import cashins, prepare, token_on

pytestmark = pytest.mark.both_dialects


class CountingListener:
    """Listens where the sandbox was: counts each connection and drops it unanswered."""

    def __init__(self, port: int) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(16)
        self.connects = 0
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connects += 1
            conn.close()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() in the thread
        self.sock.close()
        self._thread.join(timeout=5)


class Gateway:
    """A sandbox on a fixed port that can be stopped and started again with its state."""

    def __init__(self, state_file: Path) -> None:
        self.config = {"SANDBOX_STATE_FILE": str(state_file)}
        self.running: RunningSandbox | None = start_sandbox(config=self.config)
        self.port = self.running.port
        self.url = self.running.url

    def stop(self) -> None:
        assert self.running is not None
        self.running.stop()
        self.running = None

    def start(self) -> None:
        self.running = start_sandbox(port=self.port, config=self.config)


@pytest.fixture()
def own_gateway(tmp_path: Path) -> Iterator[Gateway]:
    gateway = Gateway(tmp_path / "sandbox-state.json")
    yield gateway
    if gateway.running is not None:
        gateway.running.stop()


def test_once_open_ten_polls_make_no_connection_and_money_is_refused_up_front(
    make_app: Callable[..., Flask],
    staff: dict[str, User],
    own_gateway: Gateway,
    dialect: str,
) -> None:
    app = make_app(
        IHELA_BASE_URL=own_gateway.url,
        BILL_REFRESH_MIN_SECONDS=0,  # every poll asks iHela
        IHELA_BREAKER_THRESHOLD=3,
        IHELA_BREAKER_COOLDOWN_SECONDS=60,
    )
    cashier = WebClient(app.test_client())
    cashier.login("cashier@example.com")
    assert issue(cashier).status_code == 303
    bill = only_bill(app)
    poll = f"/bills/{bill.id}/status"
    accountant = WebClient(app.test_client())
    accountant.login("accountant@example.com")
    draft_url = prepare(accountant).headers["Location"]  # reviewed, ready to send

    own_gateway.stop()

    # Connections refused: the polls fail (v2 asks reads twice) until the breaker opens.
    def breaker() -> GatewayBreaker | None:
        with app.app_context():
            row = db.session.scalars(select(GatewayBreaker)).first()
            if row is not None:
                db.session.expunge(row)
            return row

    polls_to_open = 0
    while (row := breaker()) is None or row.open_until is None:
        polls_to_open += 1
        assert polls_to_open <= 3, "three refused polls should have opened it"
        cashier.get(poll)
    assert row.down_since is not None
    since = row.down_since

    listener = CountingListener(own_gateway.port)
    try:
        said = [cashier.get(poll).get_data(as_text=True) for _ in range(10)]
        # A cash-in while it is known down: refused up front, nothing sent, the draft stays.
        send_token = token_on(accountant, draft_url, "send_token")
        page = accountant.post(
            draft_url + "/confirm", {"send_token": send_token}, follow_redirects=True
        ).get_data(as_text=True)
        assert listener.connects == 0  # not one attempt: no poll, no token, no cash-in
    finally:
        listener.close()
    with app.test_request_context("/"):
        from flask_babel import format_datetime

        hhmm = format_datetime(since, "HH:mm")
    for text in said:
        assert f"iHela unreachable since {hhmm}" in text, text[-2000:]
    assert f"iHela unreachable since {hhmm}" in page
    [draft] = cashins(app)
    assert draft.status == "draft"

    # French readers read it in French.
    french = cashier.get(poll, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert f"iHela injoignable depuis {hhmm}" in french

    # iHela comes back: after the cool-down the first call probes, and all works again
    # without restarting the dashboard.
    own_gateway.start()
    with app.app_context():
        db.session.execute(GatewayBreaker.__table__.update().values(open_until=db.func.now()))
        db.session.commit()
    requests.post(own_gateway.url + f"_sandbox/bills/{bill.code}/pay", timeout=5)
    page = cashier.get(poll).get_data(as_text=True)
    assert "unreachable" not in page
    assert only_bill(app).status == "paid"
    row = breaker()
    assert row is not None and row.failures == 0 and row.open_until is None
    send_token = token_on(accountant, draft_url, "send_token")
    accountant.post(draft_url + "/confirm", {"send_token": send_token}, follow_redirects=True)
    assert cashins(app)[0].status == "succeeded"
    with app.app_context():
        assert db.session.scalar(select(Cashin.gateway_reference)) is not None


def test_http_errors_never_open_the_breaker(
    make_app: Callable[..., Flask], staff: dict[str, User], sandbox: Any, api_path: Any
) -> None:
    app = make_app(BILL_REFRESH_MIN_SECONDS=0, IHELA_BREAKER_THRESHOLD=2)
    cashier = WebClient(app.test_client())
    cashier.login("cashier@example.com")
    issue(cashier)
    bill = only_bill(app)
    requests.post(
        sandbox.url + "_sandbox/faults",
        json={"status": 503, "path": api_path("bill verify"), "count": 10},
        timeout=5,
    ).raise_for_status()
    for _ in range(4):
        page = cashier.get(f"/bills/{bill.id}/status").get_data(as_text=True)
    assert "unreachable" not in page and re.search(r"503", page)
    with app.app_context():
        assert db.session.scalars(select(GatewayBreaker)).first() is None
