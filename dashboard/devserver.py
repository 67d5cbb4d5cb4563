"""`make run`: the sandbox gateway, the dashboard and a background worker together; Ctrl-C
stops all three."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

INSTANCE = Path(__file__).resolve().parent.parent / "instance"
# How often the worker checks pending bills with iHela here (production: the same default).
REFRESH_EVERY = 60.0


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
            process.wait(timeout=10)
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
        help="seconds between the worker's checks of pending bills",
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
    children = [sandbox]
    try:
        if not _wait_for("127.0.0.1", args.sandbox_port, sandbox, 15):
            print("The sandbox gateway did not start.", file=sys.stderr)
            return 1
        os.environ.setdefault("DASHBOARD_IHELA_BASE_URL", f"http://127.0.0.1:{args.sandbox_port}/")
        os.environ.setdefault("DASHBOARD_PUBLIC_URL", f"http://{args.host}:{args.port}")
        if "DASHBOARD_PERIODIC_SECONDS" not in os.environ:
            os.environ["DASHBOARD_PERIODIC_SECONDS"] = json.dumps(
                {"refresh_bills": args.refresh_every}
            )
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
        children.append(dashboard)
        # The same worker production runs (README, *Background work*): periodic checks,
        # callback verifies, e-mails (written to instance/outbox/ without DASHBOARD_SMTP_URL).
        worker = subprocess.Popen([sys.executable, "-m", "dashboard.background.worker"], env=env)
        children.append(worker)
        print(
            f"\n  Dashboard: http://{args.host}:{args.port}/   (Ctrl-C stops everything)\n"
            f"  A worker checks pending bills with iHela every {args.refresh_every:g} s and sends "
            "e-mails (to instance/outbox/ unless DASHBOARD_SMTP_URL is set).\n",
            flush=True,
        )
        while all(child.poll() is None for child in children):
            time.sleep(0.3)
        return next((c.returncode for c in children if c.returncode), 0)
    except KeyboardInterrupt:
        return 0
    finally:
        for child in reversed(children):
            _stop(child)


if __name__ == "__main__":
    raise SystemExit(main())
