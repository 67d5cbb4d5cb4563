"""Periodic tasks: each runs once per period, however many workers tick.

A period is a number (seconds since the epoch divided by the task's period, or the merchant's
day for the daily summary). A worker that wants to run a task claims its period with one
conditional UPDATE; only the one whose UPDATE changed the row runs it. A claim whose run never
ended (the worker died) may be taken again once the lease has passed, so the period's work is
still done — the tasks themselves are safe to run twice (their e-mails carry idempotency keys).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from dashboard.config import Config
from dashboard.db import db, utcnow
from dashboard.models import PeriodicTask

log = logging.getLogger("dashboard.background")

ERROR_MAX = 2000


@dataclass(frozen=True)
class Periodic:
    name: str
    run: Callable[[], Any]
    daily: bool = False  # at DAILY_SUMMARY_AT merchant time, instead of every N seconds


TASKS: dict[str, Periodic] = {}


def periodic(name: str, *, daily: bool = False) -> Callable[[Callable[[], Any]], Callable[[], Any]]:
    def register(function: Callable[[], Any]) -> Callable[[], Any]:
        TASKS[name] = Periodic(name, function, daily)
        return function

    return register


def seconds_of(name: str) -> float:
    """The task's period: DASHBOARD_PERIODIC_SECONDS='{"refresh_bills": 30}' sets one, the
    others keep their defaults."""
    chosen = current_app.config["PERIODIC_SECONDS"].get(name)
    return float(chosen if chosen is not None else Config.PERIODIC_SECONDS.get(name, 60))


def period_of(task: Periodic, now: datetime) -> int | None:
    """The period ``now`` falls in; None when the task is not due at all yet (the daily
    summary before its hour)."""
    if not task.daily:
        return int(now.timestamp() // max(seconds_of(task.name), 0.1))
    at = str(current_app.config.get("DAILY_SUMMARY_AT") or "")
    if not at:
        return None  # turned off
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    local = now.astimezone(zone)
    hour, minute = (int(part) for part in at.split(":"))
    if local.time() < time(hour, minute):
        return None
    return local.date().toordinal()


def _ensure_rows() -> None:
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for name in TASKS:
        db.session.execute(
            insert(PeriodicTask)
            .values(name=name, claimed_period=0, done_period=0, runs=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )
    db.session.commit()


def claim_due(now: datetime | None = None) -> list[tuple[str, int]]:
    """Claim every periodic task whose period has come (and that nobody claimed for it)."""
    now = now or utcnow()
    _ensure_rows()
    abandoned = now - timedelta(seconds=float(current_app.config["QUEUE_LEASE_SECONDS"]))
    claimed = []
    for task in TASKS.values():
        period = period_of(task, now)
        if period is None:
            continue
        result = db.session.execute(
            update(PeriodicTask)
            .where(
                PeriodicTask.name == task.name,
                or_(
                    PeriodicTask.claimed_period < period,
                    and_(
                        PeriodicTask.claimed_period == period,
                        PeriodicTask.done_period < period,
                        PeriodicTask.claimed_at < abandoned,
                    ),
                ),
            )
            .values(claimed_period=period, claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0):
            claimed.append((task.name, period))
    db.session.commit()
    return claimed


def run(name: str, period: int) -> None:
    """Run a claimed periodic task and record how it went (never raises)."""
    task = TASKS.get(name)
    if task is None:
        log.error("no periodic task named %r", name)
        return
    values: dict[str, Any]
    try:
        task.run()
    except Exception as exc:
        db.session.rollback()
        log.exception("periodic task %s failed", name)
        values = {"last_failure_at": utcnow(), "last_error": f"{type(exc).__name__}: {exc}"}
        values["last_error"] = values["last_error"][:ERROR_MAX]
    else:
        values = {"last_ok_at": utcnow()}
    # The tests read this line: one run per task and period, whatever number of workers.
    log.info("periodic task %s ran for period %s", name, period)
    db.session.execute(
        update(PeriodicTask)
        .where(PeriodicTask.name == name, PeriodicTask.done_period < period)
        .values(done_period=period, runs=PeriodicTask.runs + 1, last_run_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def run_now(name: str) -> None:
    """Run a periodic task by hand (the CLI): it counts as a run, not as a period's claim."""
    TASKS[name].run()


def states() -> list[PeriodicTask]:
    """Each periodic task's row, in the registry's order (absent: never ran)."""
    rows = {row.name: row for row in db.session.scalars(select(PeriodicTask))}
    return [rows.get(name) or PeriodicTask(name=name, runs=0) for name in TASKS]


def last_run() -> datetime | None:
    """When a periodic task last ended (the health check's sign of life)."""
    latest: datetime | None = db.session.scalar(select(func.max(PeriodicTask.last_run_at)))
    return latest
