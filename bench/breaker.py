"""A poll while iHela is down, before and after the circuit breaker opens.

"Down" here is a gateway that accepts connections and never answers (the slow kind of down:
each call waits out the read timeout). Before the breaker opens every poll waits; once it is
open a poll answers at once, saying since when iHela is unreachable.
"""

from __future__ import annotations

import contextlib
import socket
import statistics
import threading
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select

from bench.coalescing import _pending_bill
from bench.env import Browser
from bench.harness import Report, timed
from dashboard.db import db
from dashboard.models import GatewayBreaker

TARGET_RATIO = 0.25  # a poll once the breaker is open: at most a quarter of one that waits
TARGET_OVERHEAD = 1.5  # ... and about what a poll costs that does not ask iHela at all
THRESHOLD = 5
READ_TIMEOUT = 0.5


class _SilentGateway:
    """Accepts every connection and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/"
        self._held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self._held.append(conn)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for conn in self._held:
            conn.close()


def bench_breaker(
    app: Flask, make: Callable[[str], Flask], report: Report, *, user_id: int, email: str
) -> None:
    report.section(f"GET /bills/<id>/status with iHela down (read timeout {READ_TIMEOUT:g} s)")
    bill_id = _pending_bill(app, user_id)  # issued while the sandbox answers
    silent = _SilentGateway()
    try:
        down = make(silent.url)
        down.config.update(
            BILL_REFRESH_MIN_SECONDS=0,
            IHELA_READ_TIMEOUT=READ_TIMEOUT,
            IHELA_BREAKER_THRESHOLD=THRESHOLD,
            IHELA_BREAKER_COOLDOWN_SECONDS=600,
        )
        with down.app_context():
            db.session.execute(GatewayBreaker.__table__.delete())
            db.session.commit()
        browser = Browser(down).login(email)
        before: list[float] = []
        for _ in range(THRESHOLD * 2):
            ms, _ = timed(lambda: browser.get(f"/bills/{bill_id}/status"))
            before.append(ms)
            with down.app_context():
                row = db.session.scalars(select(GatewayBreaker)).first()
                if row is not None and row.open_until is not None:
                    break
        after = [timed(lambda: browser.get(f"/bills/{bill_id}/status"))[0] for _ in range(20)]
        note = f"{len(before)} polls to open it"
        report.timing("poll, breaker closed (waits)", before, note=note)
        report.timing("poll, breaker open", after)
        down.config["BILL_REFRESH_MIN_SECONDS"] = 10**6  # checked lately: iHela is not asked
        quiet = [timed(lambda: browser.get(f"/bills/{bill_id}/status"))[0] for _ in range(20)]
        report.timing("poll that does not ask iHela", quiet)
        ratio = statistics.median(after) / statistics.median(before)
        overhead = statistics.median(after) / statistics.median(quiet)
        for name, value, target in (
            ("open / closed", ratio, TARGET_RATIO),
            ("open / not asking", overhead, TARGET_OVERHEAD),
        ):
            verdict = "ok" if value <= target else "MISSED"
            report.line(f"  {name} median: {value:.2f}x (target <= {target:g}x) {verdict}")
        with down.app_context():
            db.session.execute(GatewayBreaker.__table__.delete())
            db.session.commit()
            db.engine.dispose()
    finally:
        silent.close()
