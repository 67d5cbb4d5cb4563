"""`flask --app wsgi queue ...`: run the worker, or one piece of background work by hand."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from dashboard.background import jobs, periodic

queue_cli = AppGroup("queue", help="Background work.")


@queue_cli.command("worker")
@click.option("--workers", type=int, default=None, help="Threads (default QUEUE_WORKERS).")
def worker(workers: int | None) -> None:
    """Run a worker: periodic tasks, and the jobs the dashboard writes (Ctrl-C stops it)."""
    from dashboard.background.worker import run_worker

    run_worker(current_app._get_current_object(), workers)  # type: ignore[attr-defined]


@queue_cli.command("run")
@click.argument("name", type=click.Choice(sorted(periodic.TASKS)))
def run_task(name: str) -> None:
    """Run one periodic task now, here."""
    periodic.run_now(name)
    click.echo(f"{name}: done.")


@queue_cli.command("run-due")
def run_due() -> None:
    """Run every job that waits, here (when no worker runs)."""
    ran = jobs.run_due_jobs()
    click.echo(f"Ran {ran} job(s).")


def init_app(app: Flask) -> None:
    app.cli.add_command(queue_cli)
