"""The task queue: Huey, on a SQLite file by default and on Redis for several machines.

Huey carries job ids and periodic claims from whoever noticed the work to the workers; what must
survive a crash lives in the database (``jobs``, ``periodic``). A lost message costs a delay,
never the work: the next tick hands the job over again.
"""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask
from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey

from dashboard.background import jobs, periodic
from dashboard.config import ConfigError
from dashboard.db import db

log = logging.getLogger("dashboard.background")


def make_huey(app: Flask) -> Huey:
    """The Huey of this deployment, from ``QUEUE_URL``."""
    url = app.config.get("QUEUE_URL") or ""
    name = str(app.config["QUEUE_NAME"])
    options: dict[str, Any] = {"results": False, "utc": True}
    if not url:
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "queue.sqlite3")
        return SqliteHuey(name, filename=path, **options)
    if url.startswith("sqlite:///"):
        return SqliteHuey(name, filename=url.removeprefix("sqlite:///"), **options)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(name, url=url, **options)
    if url == "memory://":
        return MemoryHuey(name, **options)
    raise ConfigError("DASHBOARD_QUEUE_URL must be redis://…, sqlite:///… or memory://")


class Queue:
    """One app's queue: the Huey storage and the two kinds of message it carries."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.huey = make_huey(app)

        def run_job(job_id: int) -> None:
            with app.app_context():
                try:
                    jobs.run_job(job_id)
                finally:
                    db.session.remove()

        def run_periodic(name: str, period: int) -> None:
            with app.app_context():
                try:
                    periodic.run(name, period)
                finally:
                    db.session.remove()

        self._run_job = self.huey.task(name="dashboard.run_job")(run_job)
        self._run_periodic = self.huey.task(name="dashboard.run_periodic")(run_periodic)

    def push_jobs(self, ids: list[int]) -> None:
        for job_id in ids:
            self.huey.enqueue(self._run_job.s(job_id))

    def push_periodic(self, name: str, period: int) -> None:
        self.huey.enqueue(self._run_periodic.s(name, period))

    def depth(self) -> int | None:
        """Messages waiting in the queue's storage (None when it cannot be read)."""
        try:
            return int(self.huey.pending_count()) + int(self.huey.scheduled_count())
        except Exception:
            log.exception("could not read the queue's depth")
            return None

    def tick(self) -> None:
        """One round of a worker's scheduler: claim the periodic tasks whose period came, and
        hand over the jobs that wait (new, retried, or left by a dead worker)."""
        with self.app.app_context():
            try:
                for name, period in periodic.claim_due():
                    self.push_periodic(name, period)
                ids = jobs.due_jobs()
                if ids:
                    self.push_jobs(ids)
            finally:
                db.session.remove()


def init_app(app: Flask) -> None:
    from dashboard.background import (
        commands,
        tasks,  # noqa: F401 - registers the jobs and periodic tasks
    )

    app.extensions[jobs.QUEUE_EXTENSION] = Queue(app)
    commands.init_app(app)


def background_health() -> dict[str, Any]:
    """For /healthz: whether the periodic tasks ran lately (a worker is alive)."""
    from datetime import timedelta

    from flask import current_app

    from dashboard.db import utcnow

    last = periodic.last_run()
    stale = timedelta(seconds=float(current_app.config["PERIODIC_STALE_SECONDS"]))
    fresh = last is not None and utcnow() - last < stale
    return {
        "background": "ok" if fresh else "stale",
        "periodic_last_run": last.isoformat() if last else None,
    }


def queue_of(app: Flask) -> Queue:
    queue: Queue = app.extensions[jobs.QUEUE_EXTENSION]
    return queue
