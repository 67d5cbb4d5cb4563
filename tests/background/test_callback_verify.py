"""A callback's verify is a job in the outbox: it survives the web process dying right after
answering, and a hand-over to the queue that failed is made up for by a worker's tick."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from dashboard.db import db
from dashboard.models import BillEvent, Job, User
from tests.background.conftest import ROOT, Worker, environment, wait_until
from tests.conftest import WebClient
from tests.http.test_bill_callbacks import callback
from tests.http.test_bills import issue, only_bill

NOBODY_POLLS = {"BILL_REFRESH_MIN_SECONDS": 10**6, "PERIODIC_SECONDS": {"refresh_bills": 10**6}}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def web_process() -> Iterator[Callable[[Flask], tuple[str, subprocess.Popen[bytes]]]]:
    """The dashboard served by a process of its own (like a gunicorn worker)."""
    started: list[subprocess.Popen[bytes]] = []

    def start(app: Flask) -> tuple[str, subprocess.Popen[bytes]]:
        port = free_port()
        process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port)],
            env=environment(app),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started.append(process)
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return requests.get(url + "/healthz", timeout=1).status_code == 200
            except requests.RequestException:
                return False

        wait_until(up, 30, "the dashboard process answers")
        return url, process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=5)


def paid_on_ihela(app: Flask, sandbox: Any) -> dict[str, str]:
    """A bill issued by a cashier and paid on iHela's side; the dashboard does not know yet."""
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    assert issue(web).status_code == 303
    bill = only_bill(app)
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    assert bill.code is not None
    return {"bill_code": bill.code, "merchant_reference": bill.merchant_reference}


def last_event_by(app: Flask) -> str | None:
    with app.app_context():
        event = db.session.scalars(select(BillEvent).order_by(BillEvent.id.desc())).first()
        return event.actor_label if event else None


def test_a_callbacks_verify_survives_the_web_process_killed_right_after_answering(
    queued_app: Callable[..., Flask],
    start_worker: Callable[[Flask], Worker],
    web_process: Callable[[Flask], tuple[str, subprocess.Popen[bytes]]],
    staff: dict[str, User],
    sandbox: Any,
) -> None:
    app = queued_app(**NOBODY_POLLS)
    payload = paid_on_ihela(app, sandbox)
    url, process = web_process(app)
    answer = requests.post(
        url + "/ihela/callback",
        data=json.dumps(payload),
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert answer.status_code == 202
    process.kill()  # kill -9 the moment it has answered: nothing of it lives on
    process.wait(timeout=5)
    assert only_bill(app).status == "pending"
    start_worker(app)
    wait_until(lambda: only_bill(app).status == "paid", 30, "the verify ran in the worker")
    assert last_event_by(app) == "iHela callback"


def test_a_verify_the_queue_never_got_is_run_from_the_outbox(
    queued_app: Callable[..., Flask],
    start_worker: Callable[[Flask], Worker],
    staff: dict[str, User],
    sandbox: Any,
) -> None:
    # The web side's queue is unreachable: the hand-over after the commit fails (as when the
    # process dies between its commit and the hand-over). The job is in the database all the same.
    app = queued_app(**NOBODY_POLLS)
    payload = paid_on_ihela(app, sandbox)
    broken = queued_app(**NOBODY_POLLS, QUEUE_URL="redis://127.0.0.1:9/0")
    assert callback(broken, payload, run=False).status_code == 202
    with app.app_context():
        job = db.session.scalars(select(Job).where(Job.kind == "verify_bill")).one()
        assert (job.state, job.enqueued_at) == ("queued", None)
    start_worker(app)
    wait_until(lambda: only_bill(app).status == "paid", 30, "a worker's tick ran the job")
    assert last_event_by(app) == "iHela callback"
