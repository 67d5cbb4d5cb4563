"""Many staff tabs polling one pending bill: the server should ask iHela once."""

from __future__ import annotations

import threading
import time

from flask import Flask
from sqlalchemy import update

from bench.env import Browser
from bench.gateway import verify_count
from bench.harness import Report, measure, timed
from dashboard.bills import services
from dashboard.db import db
from dashboard.models import Bill, BillState, User


def _pending_bill(app: Flask, user_id: int) -> int:
    with app.app_context():
        user = db.session.get(User, user_id)
        assert user is not None
        request = services.BillRequest(15_000, "email", "clientmail@gmail.com", "bench: coalescing")
        bill = services.issue_bill(
            request,
            by=user,
            form_token=f"bench-coalescing-{time.time_ns()}",
            return_url=lambda token: f"http://127.0.0.1/pay/return/{token}",
        )
        if bill.state != BillState.PENDING:
            raise RuntimeError(f"Could not issue a pending bill: {bill.status} {bill.last_error}")
        # As if never checked: the first poll must call iHela.
        db.session.execute(update(Bill).where(Bill.id == bill.id).values(last_checked_at=None))
        db.session.commit()
        return bill.id


def bench_coalescing(
    app: Flask, report: Report, sandbox_url: str, *, user_id: int, email: str, requests: int = 50
) -> None:
    report.section(f"{requests} concurrent GET /bills/<id>/status on one pending bill")
    bill_id = _pending_bill(app, user_id)
    leader = Browser(app).login(email)
    cookie = leader.client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    browsers = []
    for _ in range(requests):
        browser = Browser(app)
        browser.client.set_cookie(cookie.key, cookie.value)  # the same logged-in session
        browsers.append(browser)

    samples: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(requests)

    def worker(browser: Browser) -> None:
        barrier.wait()
        try:
            ms, _ = timed(lambda: browser.get(f"/bills/{bill_id}/status"))
        except Exception as exc:  # reported, not raised: the figure is the point
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}")
            return
        with lock:
            samples.append(ms)

    before = verify_count(sandbox_url)
    threads = [threading.Thread(target=worker, args=(b,)) for b in browsers]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    calls = verify_count(sandbox_url) - before
    if samples:
        report.timing("status fragment latency", samples, wall_s=wall, note=f"wall {wall:.2f} s")
    report.figure(
        "verify calls that reached the sandbox",
        f"{calls} (expected 1)" + (f"; {len(failures)} requests FAILED" if failures else ""),
    )
    for failure in sorted(set(failures))[:3]:
        report.line(f"    failure: {failure}")
    # The same poll alone, for comparison (checked just now, so no verify call).
    single = measure(lambda: leader.get(f"/bills/{bill_id}/status"), reps=30, budget_s=3.0)
    report.timing("one poll at a time (no verify call)", single)
