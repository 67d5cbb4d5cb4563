"""kill -9 of a worker in the middle of a task: after a restart the task completes, and no
e-mail is sent twice (a real worker process, a real SMTP server on loopback)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from dashboard.models import User
from tests.background.conftest import Inbox, Worker, wait_until
from tests.background.test_emails import submit_for_approval
from tests.conftest import WebClient


def test_a_worker_killed_mid_send_leaves_the_job_to_the_next_one_and_nobody_gets_two(
    queued_app: Callable[..., Flask],
    start_worker: Callable[[Flask], Worker],
    inbox: tuple[Inbox, str],
    staff: dict[str, User],
    sandbox: Any,
) -> None:
    server, url = inbox
    # A short lease: a job held by a dead worker is taken up again after 2 s (5 minutes by default).
    app = queued_app(SMTP_URL=url, QUEUE_LEASE_SECONDS=2.0, QUEUE_WORKERS=1)
    server.stall_once.add("admin@example.com")  # the SMTP server holds this one's first try
    first = start_worker(app)
    web = WebClient(app.test_client())
    web.login("accountant@example.com")
    submit_for_approval(web)
    wait_until(server.stalled.is_set, 30, "the worker is in the middle of sending")
    first.kill()  # kill -9, mid-conversation with the SMTP server
    server.released.set()
    assert server.to("admin@example.com") == []
    start_worker(app)
    wait_until(lambda: server.to("admin@example.com"), 30, "the restarted worker sent it")
    wait_until(lambda: server.to("accountant2@example.com"), 30, "the other approver's too")
    time.sleep(3)  # leases pass, ticks go by: nothing is sent again
    assert len(server.to("admin@example.com")) == 1
    assert len(server.to("accountant2@example.com")) == 1
    assert sorted(a for rcpts, _m in server.messages for a in rcpts) == [
        "accountant2@example.com",
        "admin@example.com",
    ]
