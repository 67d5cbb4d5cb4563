"""Real workers for the queue's tests: ``python -m dashboard.background.worker`` subprocesses on
the test database, with the queue on a SQLite file (the embedded default) or on Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from flask import Flask

from dashboard.background.queue import queue_of

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/5"  # a database of our own on the machine's Redis
# Quick ticks and short periods: the whole queue suite stays within a minute.
FAST = {
    "QUEUE_TICK_SECONDS": 0.1,
    "QUEUE_WORKERS": 2,
    "QUEUE_REQUEUE_SECONDS": 2.0,
    "DAILY_SUMMARY_AT": "",  # once a day: tests/background/test_emails.py runs it by hand
    "PERIODIC_SECONDS": {
        "refresh_bills": 1.0,
        "settle_cashins": 1.0,
        "watch_cashins": 1.0,
        "refresh_banks": 1.0,
        "end_idle_displays": 1.0,
    },
}


def redis_running() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        return False


@pytest.fixture(params=["sqlite", "redis"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The queue's storage: the embedded SQLite file, then Redis (as several machines use)."""
    name = f"t18-{uuid.uuid4().hex[:10]}"
    if request.param == "sqlite":
        yield {"QUEUE_URL": f"sqlite:///{tmp_path / 'queue.sqlite3'}", "QUEUE_NAME": name}
        return
    if not redis_running():
        pytest.fail("Redis is not running on 127.0.0.1:6379 (.ci/run starts it)")
    yield {"QUEUE_URL": REDIS_URL, "QUEUE_NAME": name}
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)


class Worker:
    def __init__(self, process: subprocess.Popen[bytes], log: Path) -> None:
        self.process = process
        self.log = log

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # graceful: running jobs end first
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def kill(self) -> None:
        """kill -9: no clean-up of any kind."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=5)


def environment(app: Flask) -> dict[str, str]:
    """The app's configuration as DASHBOARD_* variables, for a process of its own."""
    keys = [
        "TESTING",
        "IHELA_API",
        "IHELA_PIN",
        "SECRET_KEY",
        "SQLALCHEMY_DATABASE_URI",
        "IHELA_BASE_URL",
        "IHELA_READ_TIMEOUT",
        "IHELA_CONNECT_TIMEOUT",
        "PASSWORD_HASH_METHOD",
        "BABEL_DEFAULT_LOCALE",
        "PUBLIC_URL",
        "TWO_FACTOR_DEFAULT_REQUIRED_ROLES",
        "QUEUE_URL",
        "QUEUE_NAME",
        "QUEUE_TICK_SECONDS",
        "QUEUE_WORKERS",
        "QUEUE_LEASE_SECONDS",
        "QUEUE_REQUEUE_SECONDS",
        "JOB_MAX_ATTEMPTS",
        "JOB_RETRY_SECONDS",
        "PERIODIC_SECONDS",
        "DAILY_SUMMARY_AT",
        "SMTP_URL",
        "SMTP_TIMEOUT",
        "MAIL_FROM",
        "MAIL_OUTBOX_DIR",
        "BILL_REFRESH_MIN_SECONDS",
        "BANK_LIST_TTL_SECONDS",
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DASHBOARD_")}
    for key in keys:
        env["DASHBOARD_" + key] = json.dumps(app.config[key])
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture()
def start_worker(tmp_path: Path) -> Iterator[Callable[[Flask], Worker]]:
    """Start a real worker process for ``app``'s configuration; all are stopped afterwards."""
    started: list[Worker] = []

    def start(app: Flask) -> Worker:
        log = tmp_path / f"worker-{len(started)}-{time.monotonic_ns()}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "dashboard.background.worker"],
                env=environment(app),
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        worker = Worker(process, log)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


def wait_until(
    check: Callable[[], Any], seconds: float, what: str, show: Callable[[], Any] | None = None
) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds:g} s: {what}" + (f"\n{show()}" if show else ""))


@pytest.fixture()
def queued_app(make_app: Callable[..., Flask], storage: dict[str, Any]) -> Callable[..., Flask]:
    """An app whose queue is the storage under test, with quick ticks and short periods."""

    def factory(**overrides: Any) -> Flask:
        app = make_app(**{**FAST, **storage, **overrides})
        return app

    return factory


def queue_depth(app: Flask) -> int | None:
    return queue_of(app).depth()


class Inbox:
    """What a real SMTP server on loopback (aiosmtpd) received, and how it should misbehave."""

    def __init__(self) -> None:
        import threading

        self.messages: list[tuple[list[str], Any]] = []
        self.refuse: set[str] = set()  # recipients answered "451 try again later", always
        self.stall_once: set[str] = set()  # hold the first RCPT for these until released
        self.stalled = threading.Event()
        self.released = threading.Event()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        import asyncio

        if address in self.refuse:
            return "451 4.3.0 Mailbox busy, try again later"
        if address in self.stall_once:
            self.stall_once.discard(address)
            self.stalled.set()
            while not self.released.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 Gone"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes
        from email.policy import default

        self.messages.append(
            (list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default))
        )
        return "250 Message accepted"

    def to(self, address: str) -> list[Any]:
        return [message for rcpts, message in self.messages if address in rcpts]


@pytest.fixture()
def inbox() -> Iterator[tuple[Inbox, str]]:
    """A real SMTP server on a free loopback port; yields it and its smtp:// URL."""
    import socket

    from aiosmtpd.controller import Controller

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, f"smtp://127.0.0.1:{port}"
    finally:
        handler.released.set()
        controller.stop()
