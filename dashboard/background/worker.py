"""The worker: Huey's consumer, whose scheduler also ticks the dashboard's periodic tasks and
outbox. Run one per machine (or several): ``flask --app wsgi queue worker``, or
``python -m dashboard.background.worker``; `make run` starts one beside the dashboard."""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

from flask import Flask
from huey.consumer import Consumer, Scheduler

from dashboard.background.jobs import QUEUE_EXTENSION

log = logging.getLogger("dashboard.background")


class TickingScheduler(Scheduler):
    """Huey's scheduler (delayed messages), plus the dashboard's tick every few seconds."""

    def __init__(self, queue: Any, tick_seconds: float, **options: Any) -> None:
        super().__init__(**options)
        self.queue = queue
        self.interval = max(tick_seconds, 0.05)

    def loop(self, now: Any = None) -> None:
        started = time.monotonic()
        try:
            for task in self.huey.read_schedule(now):
                self.huey.enqueue(task)
        except Exception:
            log.exception("could not read the queue's schedule")
        try:
            self.queue.tick()
        except Exception:  # a database hiccup: the next tick tries again
            log.exception("worker tick failed")
        self.sleep_for_interval(started, self.interval)


class DashboardConsumer(Consumer):
    def __init__(self, queue: Any, **options: Any) -> None:
        self.queue = queue
        super().__init__(queue.huey, periodic=False, **options)

    def _create_scheduler(self) -> TickingScheduler:
        return TickingScheduler(
            queue=self.queue,
            tick_seconds=float(self.queue.app.config["QUEUE_TICK_SECONDS"]),
            huey=self.huey,
            stop_flag=self.stop_flag,
            interval=1,
            periodic=False,
        )


def make_consumer(app: Flask, workers: int | None = None) -> DashboardConsumer:
    count = int(workers or app.config["QUEUE_WORKERS"])
    # Without a blocking storage (SQLite) workers poll: at least once a second when idle.
    queue = app.extensions[QUEUE_EXTENSION]  # background.queue.Queue
    return DashboardConsumer(queue, workers=count, initial_delay=0.05, backoff=1.5, max_delay=1.0)


def run_worker(app: Flask, workers: int | None = None) -> None:
    """Run until Ctrl-C / SIGTERM (a graceful stop lets running jobs end)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("dashboard").setLevel(logging.INFO)
    make_consumer(app, workers).run()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=None, help="threads (QUEUE_WORKERS)")
    args = parser.parse_args(argv)
    from dashboard import create_app

    run_worker(create_app(), args.workers)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
