"""One task queue for background work: periodic tasks once per period whatever number of
workers, a bill paid with no page open turning Paid, all through real worker processes, with the
queue on its embedded SQLite storage and again on Redis."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import requests
from flask import Flask
from sqlalchemy import select

from dashboard.background import periodic
from dashboard.db import db
from dashboard.models import BillEvent, PeriodicTask, User
from tests.background.conftest import Worker, wait_until
from tests.conftest import WebClient
from tests.http.test_bills import issue, only_bill

RAN = re.compile(r"periodic task (\w+) ran for period (\d+)")


def done_periods(app: Flask) -> dict[str, int]:
    with app.app_context():
        rows = db.session.scalars(select(PeriodicTask)).all()
        return {row.name: row.runs for row in rows}


def test_two_workers_run_each_periodic_task_once_per_period(
    queued_app: Callable[..., Flask],
    start_worker: Callable[[Flask], Worker],
    sandbox: Any,
) -> None:
    app = queued_app()
    every_few_seconds = [name for name, task in periodic.TASKS.items() if not task.daily]
    assert len(every_few_seconds) == 5
    workers = [start_worker(app), start_worker(app)]
    wait_until(
        lambda: all("consumer started" in worker.text() for worker in workers), 30, "both started"
    )
    before = done_periods(app)
    wait_until(
        lambda: (
            (runs := done_periods(app))
            and all(runs.get(n, 0) >= before.get(n, 0) + 3 for n in every_few_seconds)
        ),
        40,
        "every periodic task ran in three more periods with both workers up",
        lambda: (done_periods(app), workers[0].text()[-4000:]),
    )
    assert all(worker.process.poll() is None for worker in workers), workers[0].text()[-3000:]
    for worker in workers:
        worker.stop()
    runs = [RAN.findall(worker.text()) for worker in workers]
    both = Counter(run for ran in runs for run in ran)
    twice = [run for run, count in both.items() if count > 1]
    assert twice == [], "a periodic task ran twice in one period"
    for name in every_few_seconds:
        assert len({p for n, p in both if n == name}) >= 3, name


def test_a_bill_paid_with_no_page_open_turns_paid(
    queued_app: Callable[..., Flask],
    start_worker: Callable[[Flask], Worker],
    staff: dict[str, User],
    sandbox: Any,
) -> None:
    # Pages answer polls from the row for a long time: only the worker asks iHela.
    app = queued_app(BILL_REFRESH_MIN_SECONDS=10**6)
    web = WebClient(app.test_client())
    web.login("cashier@example.com")
    assert issue(web).status_code == 303
    bill = only_bill(app)
    start_worker(app)
    # The payer pays on iHela's page; nobody has the bill's page open.
    requests.post(sandbox.url + f"_sandbox/bills/{bill.code}/pay", timeout=5).raise_for_status()
    wait_until(lambda: only_bill(app).status == "paid", 60, "the bill turned paid")
    with app.app_context():
        event = db.session.scalars(select(BillEvent).order_by(BillEvent.id.desc())).first()
        assert event is not None and (event.to_status, event.actor_label) == ("paid", "cron")
