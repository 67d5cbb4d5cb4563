"""Callbacks that arrive together for one bill (issue 15, row 8): one pending → paid history row,
however many verify it at once. Threads against a real server on loopback; SQLite by default,
PostgreSQL with TEST_DATABASE_URL."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from dashboard.background.jobs import run_job
from dashboard.db import db
from dashboard.models import Bill, Job
from tests.http import test_bill_callbacks
from tests.http.test_bill_callbacks import bill_events
from tests.http.test_bills import only_bill
from tests.http.test_throttle_races import together

pytestmark = pytest.mark.both_dialects
issued = test_bill_callbacks.issued  # the fixture: a pending bill issued through the app


@pytest.fixture()
def serve() -> Iterator[Callable[[Flask], str]]:
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


def test_12_callbacks_sent_together_write_one_paid_row(
    issued: Callable[..., tuple[Flask, Bill]], serve: Callable[[Flask], str], sandbox: Any
) -> None:
    app, bill = issued()
    url = serve(app)
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    body = json.dumps({"bill_code": bill.code, "merchant_reference": bill.merchant_reference})

    def send(_n: int) -> int:
        reply = requests.post(
            url + "/ihela/callback",
            data=body,
            headers={"Content-Type": "application/json"},
            timeout=30,
        )
        return reply.status_code

    statuses = together(12, send)
    assert statuses == {202: 12}
    # Each callback left its verify as a job: twelve workers run them at the same instant.
    with app.app_context():
        jobs = list(db.session.scalars(select(Job.id).where(Job.kind == "verify_bill")))
        db.session.remove()
    assert len(jobs) == 12

    def work(n: int) -> int:
        with app.app_context():
            try:
                return int(run_job(jobs[n]))
            finally:
                db.session.remove()

    together(12, work)
    assert only_bill(app).status == "paid"
    paid = [e for e in bill_events(app, bill.id) if e[1] == "paid"]
    assert paid == [("pending", "paid", "iHela callback")]
