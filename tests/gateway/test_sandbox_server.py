"""Running the sandbox: start_sandbox, its state file, and `python -m dashboard.sandbox`."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from dashboard.ihela import IhelaClient
from dashboard.sandbox.server import start_sandbox

GRANT = {"grant_type": "client_credentials"}
SANDBOX_CREDENTIALS = ("sandbox-client-id", "sandbox-client-secret")


def _token(base_url: str, credentials: tuple[str, str] = SANDBOX_CREDENTIALS) -> str:
    reply = requests.post(base_url + "oAuth2/token/", auth=credentials, data=GRANT, timeout=5)
    reply.raise_for_status()
    return str(reply.json()["access_token"])


def test_start_sandbox_picks_a_free_port_and_stops_cleanly() -> None:
    with start_sandbox() as first, start_sandbox() as second:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/", first.url)
        assert first.url != second.url
        assert requests.get(first.url + "_sandbox/stats", timeout=5).ok
        url = first.url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "_sandbox/stats", timeout=2)


def test_stop_is_not_blocked_by_a_stalled_request() -> None:
    running = start_sandbox()
    token = _token(running.url)
    requests.post(running.url + "_sandbox/faults", json={"stall": 60}, timeout=5).raise_for_status()
    outcome: list[object] = []

    def stalled_call() -> None:
        try:
            outcome.append(
                requests.get(
                    running.url + "api/v1/payments/bank/",
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=10,
                ).status_code
            )
        except requests.RequestException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=stalled_call)
    caller.start()
    time.sleep(0.2)  # let the request reach its stall
    started = time.monotonic()
    running.stop()
    caller.join(timeout=10)

    assert time.monotonic() - started < 3
    assert not caller.is_alive()
    assert outcome  # answered (stall cut short) or dropped, but not left hanging


def test_state_file_keeps_bills_and_cashins_across_restarts(tmp_path: Path) -> None:
    config = {"SANDBOX_STATE_FILE": str(tmp_path / "sandbox.json")}
    with start_sandbox(config=config) as running:
        headers = {"Authorization": f"Bearer {_token(running.url)}"}
        bill = requests.post(
            running.url + "api/v1/payments/bill/init/",
            data={"amount": 10, "user": "2", "description": "kept", "merchant_reference": "K-1"},
            headers=headers,
            timeout=5,
        ).json()["bill"]
        requests.post(running.url + f"_sandbox/bills/{bill['code']}/pay", timeout=5)

    with start_sandbox(config=config) as restarted:
        headers = {"Authorization": f"Bearer {_token(restarted.url)}"}
        checked = requests.post(
            restarted.url + "api/v1/payments/bill/verify/",
            data={"code": "K-1", "reference": bill["code"]},
            headers=headers,
            timeout=5,
        )
        duplicate = requests.post(
            restarted.url + "api/v1/payments/bill/init/",
            data={"amount": 10, "user": "2", "description": "again", "merchant_reference": "K-1"},
            headers=headers,
            timeout=5,
        )

    assert checked.json()["bill"]["status"] == "Paid"
    assert duplicate.status_code == 400


def test_module_runs_with_given_credentials_and_public_url() -> None:
    public = "http://127.0.0.1:9/ihela/"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dashboard.sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--client-id",
            "cli-id",
            "--client-secret",
            "cli-secret",
            "--public-url",
            public,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert process.stdout is not None
        banner = [process.stdout.readline() for _ in range(4)]
        match = re.search(r"(http://127\.0\.0\.1:\d+/)", banner[0])
        assert match, banner
        base = match.group(1)
        assert "cli-id" in banner[1] and "cli-secret" in banner[2]

        token = _token(base, ("cli-id", "cli-secret"))
        bill = requests.post(
            base + "api/v1/payments/bill/init/",
            data={"amount": 10, "user": "2", "description": "cli", "merchant_reference": "CLI-1"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()["bill"]
        assert bill["confirmation_uri"].startswith(public + "u/operations/bill/confirm/")
    finally:
        process.send_signal(signal.SIGINT)
        try:
            returncode = process.wait(timeout=10)
        finally:
            if process.poll() is None:
                process.kill()
    assert returncode == 0


def _exchange(sock: socket.socket, request: bytes) -> bytes:
    """Send one request on an open connection and read its whole reply (by Content-Length)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    match = re.search(rb"(?i)content-length: *(\d+)", head)
    assert match, head
    while len(body) < int(match.group(1)):
        body += sock.recv(65536)
    return head


def test_connections_stay_open_between_requests() -> None:
    """Like a gateway behind a balancer: one TCP connection serves many requests, even when a
    request's body was not read by the handler (here a 404 to a POST with a body)."""
    with start_sandbox() as running, socket.create_connection(("127.0.0.1", running.port)) as s:
        s.settimeout(5)
        host = f"Host: 127.0.0.1:{running.port}\r\n".encode()
        unread = b"x" * 5000
        replies = [
            _exchange(s, b"GET /_sandbox/stats HTTP/1.1\r\n" + host + b"\r\n"),
            _exchange(
                s,
                b"POST /nowhere HTTP/1.1\r\n"
                + host
                + f"Content-Length: {len(unread)}\r\n\r\n".encode()
                + unread,
            ),
            _exchange(s, b"GET /_sandbox/stats HTTP/1.1\r\n" + host + b"\r\n"),
        ]
    assert [r.split(b" ")[1] for r in replies] == [b"200", b"404", b"200"]
    assert not any(b"connection: close" in r.lower() for r in replies)


def test_the_client_reuses_its_connection() -> None:
    """A token, a bill and two checks of it: one TCP connection (no set-up per action)."""
    with (
        start_sandbox() as running,
        IhelaClient(running.url, *SANDBOX_CREDENTIALS) as client,
    ):
        reference = uuid.uuid4().hex[:20]
        bill = client.init_bill(2000, "clientmail@gmail.com", "Bread", reference)
        client.verify_bill(bill.code, reference)
        client.verify_bill(bill.code, reference)
        pools = client._session.get_adapter(running.url).poolmanager.pools
        assert sum(pools[key].num_connections for key in list(pools.keys())) == 1


def test_replies_on_a_kept_connection_do_not_wait_for_delayed_acks() -> None:
    """Headers and body leave in two writes; without TCP_NODELAY each reply on a kept
    connection stalls ~40 ms for the client's delayed ACK (10 replies: >= 400 ms)."""
    with start_sandbox() as running, requests.Session() as session:
        session.get(running.url + "_sandbox/stats", timeout=5)
        started = time.perf_counter()
        for _ in range(10):
            session.get(running.url + "_sandbox/stats", timeout=5).raise_for_status()
        assert time.perf_counter() - started < 0.3
