"""`make run`: the sandbox gateway and the dashboard together; Ctrl-C stops both."""

from __future__ import annotations

import argparse
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask

INSTANCE = Path(__file__).resolve().parent.parent / "instance"
# What cron does in production (`flask bills refresh-pending`), every minute here.
REFRESH_EVERY = 60.0

log = logging.getLogger(__name__)


def refresh_pending_bills(app: Flask, min_age_seconds: float) -> tuple[int, int]:
    """One run of the pending-bill refresh: the same service `flask bills refresh-pending` calls."""
    from dashboard.bills.services import refresh_pending
    from dashboard.db import db

    with app.app_context():
        try:
            return refresh_pending(min_age_seconds=min_age_seconds)
        finally:
            db.session.remove()


class BillRefresher:
    """Runs the pending-bill refresh in a background thread every ``interval`` seconds, so a
    bill paid while nobody has its page open does not stay "pending" in the list."""

    def __init__(self, app: Flask, interval: float = REFRESH_EVERY) -> None:
        self.app = app
        self.interval = interval
        self.stopped = threading.Event()
        self.runs = 0
        self.thread = threading.Thread(target=self._loop, name="bill-refresher", daemon=True)

    def start(self) -> BillRefresher:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=10)

    def _loop(self) -> None:
        # Bills checked in the last half interval (by a page's poll) are left alone.
        while not self.stopped.wait(self.interval):
            try:
                refresh_pending_bills(self.app, min_age_seconds=self.interval / 2)
            except Exception:  # a gateway or database hiccup must not end the loop
                log.exception("pending-bill refresh failed; trying again in %ss", self.interval)
            self.runs += 1


def _port_in_use(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def _wait_for(host: str, port: int, process: subprocess.Popen[bytes], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if _port_in_use(host, port):
            return True
        time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    parser.add_argument("--sandbox-port", type=int, default=8070)
    parser.add_argument(
        "--refresh-every",
        type=float,
        default=REFRESH_EVERY,
        help="seconds between pending-bill refreshes (0: none)",
    )
    args = parser.parse_args(argv)

    for name, port in (("dashboard", args.port), ("sandbox gateway", args.sandbox_port)):
        if _port_in_use("127.0.0.1", port):
            print(
                f"Port {port} (for the {name}) is already in use: stop what runs there, or "
                f"choose another with PORT=… / SANDBOX_PORT=….",
                file=sys.stderr,
            )
            return 1
    INSTANCE.mkdir(exist_ok=True)
    sandbox = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [
            sys.executable,
            "-m",
            "dashboard.sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(args.sandbox_port),
            # The sandbox remembers its bills and cash-ins across restarts, like a real gateway.
            "--state-file",
            str(INSTANCE / "sandbox-state.json"),
        ]
    )
    dashboard = None
    refresher = None
    try:
        if not _wait_for("127.0.0.1", args.sandbox_port, sandbox, 15):
            print("The sandbox gateway did not start.", file=sys.stderr)
            return 1
        os.environ.setdefault("DASHBOARD_IHELA_BASE_URL", f"http://127.0.0.1:{args.sandbox_port}/")
        os.environ.setdefault("DASHBOARD_PUBLIC_URL", f"http://{args.host}:{args.port}")
        env = dict(os.environ)
        dashboard = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "run",
                "--host",
                args.host,
                "--port",
                str(args.port),
                "--no-reload",
                "--with-threads",
            ],
            env=env,
        )
        from dashboard import create_app

        if args.refresh_every > 0:
            refresher = BillRefresher(create_app(), interval=args.refresh_every).start()
        print(
            f"\n  Dashboard: http://{args.host}:{args.port}/   (Ctrl-C stops everything)\n"
            f"  Pending bills are checked with iHela every {args.refresh_every:g} s "
            "(in production: cron runs `flask bills refresh-pending`).\n",
            flush=True,
        )
        while dashboard.poll() is None and sandbox.poll() is None:
            time.sleep(0.3)
        return dashboard.returncode or sandbox.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        if refresher is not None:
            refresher.stop()
        if dashboard is not None:
            _stop(dashboard)
        _stop(sandbox)


if __name__ == "__main__":
    raise SystemExit(main())
