"""`make run`: the sandbox gateway and the dashboard together; Ctrl-C stops both."""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

INSTANCE = Path(__file__).resolve().parent.parent / "instance"


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
    try:
        if not _wait_for("127.0.0.1", args.sandbox_port, sandbox, 15):
            print("The sandbox gateway did not start.", file=sys.stderr)
            return 1
        env = dict(os.environ)
        env.setdefault("DASHBOARD_IHELA_BASE_URL", f"http://127.0.0.1:{args.sandbox_port}/")
        env.setdefault("DASHBOARD_PUBLIC_URL", f"http://{args.host}:{args.port}")
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
        print(
            f"\n  Dashboard: http://{args.host}:{args.port}/   (Ctrl-C stops everything)\n",
            flush=True,
        )
        while dashboard.poll() is None and sandbox.poll() is None:
            time.sleep(0.3)
        return dashboard.returncode or sandbox.returncode or 0
    except KeyboardInterrupt:
        return 0
    finally:
        if dashboard is not None:
            _stop(dashboard)
        _stop(sandbox)


if __name__ == "__main__":
    raise SystemExit(main())
