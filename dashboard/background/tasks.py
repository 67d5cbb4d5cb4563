"""What each job and each periodic task does: the feature rooms' own services, run by a worker."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import update

from dashboard import banks
from dashboard.background.jobs import Permanent, handler
from dashboard.background.periodic import periodic, seconds_of
from dashboard.bills import counter
from dashboard.bills import services as bills
from dashboard.cashins import settle
from dashboard.db import db, utcnow
from dashboard.models import Bill, CounterDisplay, Job
from dashboard.notifications import services as notifications
from dashboard.reports.services import local_today

log = logging.getLogger("dashboard.background")


# --- periodic -----------------------------------------------------------------------------


@periodic("refresh_bills")
def refresh_bills() -> None:
    """Pending bills (and unknown bills with a known code) not checked for half a period: a bill
    paid while nobody has its page open turns Paid all the same."""
    checked, changed = bills.refresh_pending(min_age_seconds=seconds_of("refresh_bills") / 2)
    if checked:
        log.info("checked %d followed bill(s); %d changed status", checked, changed)


@periodic("settle_cashins")
def settle_cashins() -> None:
    """Cash-ins whose outcome is unknown, asked of iHela where the API can tell (v2)."""
    if settle.can_check_with_ihela():
        settle.settle_unknown(asked_by="cron")


@periodic("refresh_banks")
def refresh_banks() -> None:
    banks.refresh_banks()


@periodic("end_idle_displays")
def end_idle_displays() -> None:
    """Counters (and their customer displays) unused for longer than the idle limit end."""
    db.session.execute(
        update(CounterDisplay)
        .where(
            CounterDisplay.ended_at.is_(None),
            CounterDisplay.touched_at < utcnow() - counter.IDLE_LIMIT,
        )
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


@periodic("watch_cashins")
def watch_cashins() -> None:
    """Cash-ins that need checking: accountants and admins are told, once per problem."""
    notifications.cashin_problems()


@periodic("daily_summary", daily=True)
def daily_summary() -> None:
    """07:00 merchant time: yesterday's figures and the open problems, to the admins."""
    today = local_today(utcnow(), current_app.config["BABEL_DEFAULT_TIMEZONE"])
    notifications.daily_summary(today)


# --- jobs ---------------------------------------------------------------------------------


@handler("refresh_banks")
def refresh_banks_now(job: Job) -> None:
    banks.refresh_banks()


@handler("verify_bill")
def verify_bill(job: Job) -> None:
    """Verify one bill with iHela (after a callback named it); a call that fails is recorded on
    the bill and left to the periodic check."""
    bill = db.session.get(Bill, int(job.payload["bill_id"]))
    if bill is None:
        raise Permanent("no such bill")
    bills.refresh_bill_status(
        bill,
        actor=None,
        actor_label=str(job.payload.get("actor_label") or "iHela callback"),
        min_interval=float(job.payload.get("min_interval") or 0.0),
    )


@handler("email")
def send_email(job: Job) -> None:
    notifications.send(job)


@handler("notify.cashin_awaiting")
def cashin_awaiting(job: Job) -> None:
    notifications.cashin_awaiting(int(job.payload["cashin_id"]))


@handler("notify.bill_paid")
def bill_paid(job: Job) -> None:
    notifications.bill_paid(int(job.payload["bill_id"]))


@handler("notify.noticed")
def noticed(job: Job) -> None:
    """A marker: this event was noticed (its key is what counts)."""
