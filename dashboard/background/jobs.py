"""The outbox: jobs written in the same transaction as the change they follow.

A feature calls ``add_job`` before its commit; once the transaction commits, the job's id is
handed to the queue (``after_commit``). If the process dies between the two, the row is still
there and a worker's next tick hands it over (``due_jobs``). A worker claims a job with one
conditional UPDATE, so a job handed over twice still runs once; a worker that dies holding a job
leaves it to be run again once its lease has passed. Failed attempts are retried with a growing
delay, then the job is marked failed (the System page lists it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import and_, event, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dashboard.db import db, utcnow
from dashboard.models import Job, JobState

log = logging.getLogger("dashboard.background")

Handler = Callable[[Job], None]
HANDLERS: dict[str, Handler] = {}
# The queue (background/queue.py) puts itself here: ``push_jobs(ids)`` hands ids to Huey.
QUEUE_EXTENSION = "dashboard.queue"
_TO_PUSH = "dashboard.jobs_to_push"
ERROR_MAX = 2000


class Permanent(Exception):
    """A job that can never succeed (its object is gone, no address...): no retry."""


def handler(kind: str) -> Callable[[Handler], Handler]:
    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


def add_job(
    kind: str,
    key: str,
    payload: dict[str, Any] | None = None,
    *,
    run_after: datetime | None = None,
    recipient_id: int | None = None,
) -> int | None:
    """Write a job in the caller's transaction; nothing if a job with this key exists already.

    Returns the new job's id (None when the key was taken: the event was noticed before).
    """
    values = {
        "kind": kind,
        "key": key[:160],
        "payload": payload or {},
        "recipient_id": recipient_id,
        "state": JobState.QUEUED,
        "attempts": 0,
        "created_at": utcnow(),
        "run_after": run_after or utcnow(),
    }
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    statement = (
        insert(Job)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(Job.id)
    )
    job_id = db.session.scalar(statement)
    if job_id is not None and (run_after is None or run_after <= utcnow()):
        db.session.info.setdefault(_TO_PUSH, []).append(job_id)
    return job_id


@event.listens_for(Session, "after_commit")
def _push_after_commit(session: Session) -> None:
    ids = session.info.pop(_TO_PUSH, None)
    if ids and has_app_context():
        push(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_TO_PUSH, None)


def push(ids: list[int]) -> None:
    """Hand committed jobs to the queue now; if that fails, a worker's tick does it later."""
    queue = current_app.extensions.get(QUEUE_EXTENSION)
    if queue is None:
        return
    try:
        queue.push_jobs(ids)
        with db.engine.begin() as connection:  # the caller's session is between transactions
            connection.execute(
                update(Job)
                .where(Job.id.in_(ids), Job.enqueued_at.is_(None))
                .values(enqueued_at=utcnow())
            )
    except Exception:
        log.exception("could not hand jobs %s to the queue; a worker will pick them up", ids)


def _config_seconds(name: str) -> timedelta:
    return timedelta(seconds=float(current_app.config[name]))


def _handable(now: datetime) -> Any:
    """Jobs due and not in anybody's hands: never handed over, handed over long ago (the
    message was lost with a worker), or held by a worker whose lease ran out (it died)."""
    stale = now - _config_seconds("QUEUE_REQUEUE_SECONDS")
    return and_(
        Job.run_after <= now,
        or_(Job.enqueued_at.is_(None), Job.enqueued_at < stale),
        or_(
            Job.state == JobState.QUEUED,
            and_(Job.state == JobState.RUNNING, Job.lease_until < now),
        ),
    )


def due_jobs(limit: int = 100) -> list[int]:
    """Take the jobs that wait for a hand-over (each taken by one worker's tick only)."""
    now = utcnow()
    waiting = select(Job.id).where(_handable(now)).order_by(Job.id).limit(limit)
    ids = list(db.session.scalars(waiting))
    taken = []
    for job_id in ids:
        result = db.session.execute(
            update(Job)
            .where(Job.id == job_id, _handable(now))
            .values(enqueued_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 0):
            taken.append(job_id)
    db.session.commit()
    return taken


def _claim(job_id: int) -> int | None:
    """Take the job for this worker (one atomic step); returns the attempt number."""
    now = utcnow()
    lease = now + _config_seconds("QUEUE_LEASE_SECONDS")
    result = db.session.execute(
        update(Job)
        .where(
            Job.id == job_id,
            Job.run_after <= now,
            or_(
                Job.state == JobState.QUEUED,
                and_(Job.state == JobState.RUNNING, Job.lease_until < now),
            ),
        )
        .values(state=JobState.RUNNING, lease_until=lease, attempts=Job.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if not getattr(result, "rowcount", 0):
        return None
    return db.session.scalar(select(Job.attempts).where(Job.id == job_id))


def _settle(job_id: int, attempt: int, **values: Any) -> None:
    db.session.execute(
        update(Job)
        .where(Job.id == job_id, Job.state == JobState.RUNNING, Job.attempts == attempt)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def run_job(job_id: int) -> bool:
    """Run one job if nobody else holds it. Returns whether this call ran it."""
    attempt = _claim(job_id)
    if attempt is None:
        return False
    job = db.session.get(Job, job_id)
    assert job is not None
    run = HANDLERS.get(job.kind)
    try:
        if run is None:
            raise Permanent(f"no handler for jobs of kind {job.kind!r}")
        run(job)
    except Exception as exc:
        db.session.rollback()
        error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
        last = isinstance(exc, Permanent) or attempt >= int(current_app.config["JOB_MAX_ATTEMPTS"])
        if last:
            log.error("job %s (%s) failed for good: %s", job_id, job.kind, error)
            _settle(job_id, attempt, state=JobState.FAILED, finished_at=utcnow(), last_error=error)
        else:
            delay = float(current_app.config["JOB_RETRY_SECONDS"]) * 2 ** (attempt - 1)
            log.warning("job %s (%s) failed, again in %.0fs: %s", job_id, job.kind, delay, error)
            _settle(
                job_id,
                attempt,
                state=JobState.QUEUED,
                run_after=utcnow() + timedelta(seconds=delay),
                enqueued_at=None,
                lease_until=None,
                last_error=error,
            )
        return True
    _settle(job_id, attempt, state=JobState.DONE, finished_at=utcnow(), lease_until=None)
    return True


def run_due_jobs(limit: int = 100, rounds: int = 10) -> int:
    """Run every due job here and now, whether or not it was handed to the queue, and the jobs
    those write in turn (the CLI, and tests with no worker)."""
    ran = 0
    for _round in range(rounds):
        now = utcnow()
        claimable = or_(
            Job.state == JobState.QUEUED,
            and_(Job.state == JobState.RUNNING, Job.lease_until < now),
        )
        waiting = select(Job.id).where(Job.run_after <= now, claimable).order_by(Job.id)
        ids = list(db.session.scalars(waiting.limit(limit)))
        db.session.commit()
        done = sum(run_job(job_id) for job_id in ids)
        ran += done
        if not done:
            break
    return ran


def waiting_count() -> int:
    """Jobs queued or running (the System page's queue depth, with the queue's own count)."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.state.in_((JobState.QUEUED, JobState.RUNNING)))
        )
        or 0
    )


def failed_jobs(limit: int = 20) -> list[Job]:
    return list(
        db.session.scalars(
            select(Job)
            .where(Job.state == JobState.FAILED)
            .order_by(Job.finished_at.desc(), Job.id.desc())
            .limit(limit)
        )
    )
