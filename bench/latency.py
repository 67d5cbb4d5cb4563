"""Issue and reload a bill with 200 ms between the dashboard and the gateway.

A small TCP proxy on loopback stands between the dashboard's gateway client and the sandbox:
each byte takes half the round trip each way, and a new connection costs one more round trip
before anything moves (the TCP handshake). An action's time is then compared with one round
trip per gateway call it makes: 1.00x means nothing but the network, a new connection per call
shows as ~2x.
"""

from __future__ import annotations

import queue
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from flask import Flask
from sqlalchemy import update

from bench.env import Browser
from bench.gateway import sandbox_stats
from bench.harness import Report, timed
from dashboard.db import db
from dashboard.models import Bill

RTT_S = 0.200
FORM_TOKEN = re.compile(r'name="form_token"[^>]*value="([^"]+)"')
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class LatencyProxy:
    """Forwards 127.0.0.1:<port> to ``target`` with ``rtt`` seconds of round trip."""

    def __init__(self, target: tuple[str, int], rtt: float = RTT_S) -> None:
        self.target = target
        self.rtt = rtt
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True, name="latency-proxy")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            upstream = socket.create_connection(self.target)
            for end in (client, upstream):  # forward each write at once, as a router would
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            opened = time.monotonic() + self.rtt  # the handshake's round trip
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst, opened), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, opened: float) -> None:
        chunks: queue.Queue[tuple[float, bytes]] = queue.Queue()

        def send() -> None:
            while True:
                due, data = chunks.get()
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if not data:
                    break
                try:
                    dst.sendall(data)
                except OSError:
                    break
            with suppress(OSError):
                dst.shutdown(socket.SHUT_WR)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            chunks.put((max(time.monotonic(), opened) + self.rtt / 2, data))
            if not data:
                break
        sender.join()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=2)


@contextmanager
def latency_proxy(sandbox_url: str, rtt: float = RTT_S) -> Iterator[LatencyProxy]:
    host, _, port = sandbox_url.removeprefix("http://").rstrip("/").partition(":")
    proxy = LatencyProxy((host, int(port)), rtt)
    try:
        yield proxy
    finally:
        proxy.close()


def _api_calls(sandbox_url: str) -> int:
    stats = sandbox_stats(sandbox_url)
    api = stats["api_requests"]
    assert isinstance(api, dict)
    return sum(int(n) for n in api.values()) + int(str(stats["token_requests"]))


Samples = dict[str, list[tuple[float, int]]]  # action -> (ms, gateway calls) per run


def _run(
    make_app: Callable[[str], Flask], sandbox_url: str, email: str, rtt: float, reps: int
) -> tuple[Samples, int]:
    """Issue then reload ``reps`` bills through a proxy of ``rtt``; samples, new connections."""
    with latency_proxy(sandbox_url, rtt) as proxy:
        app = make_app(proxy.url)
        client = Browser(app).login(email).client
        samples: Samples = {"issue": [], "reload": []}

        def issue() -> int:
            page = client.get("/bills/new").get_data(as_text=True)
            form = {
                "csrf_token": CSRF.search(page).group(1),  # type: ignore[union-attr]
                "form_token": FORM_TOKEN.search(page).group(1),  # type: ignore[union-attr]
                "amount": "20000",
                "payer_kind": "email",
                "payer": "clientmail@gmail.com",
                "description": "bench: latency",
                "bank_slug": "",
                "bank_client_id": "",
            }
            before = _api_calls(sandbox_url)
            ms, response = timed(lambda: client.post("/bills/new", data=form))
            if response.status_code not in (302, 303):
                raise RuntimeError(f"issue: HTTP {response.status_code}")
            bill_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
            samples["issue"].append((ms, _api_calls(sandbox_url) - before))
            return bill_id

        def reload(bill_id: int) -> None:
            page = client.get(f"/bills/{bill_id}").get_data(as_text=True)
            token = CSRF.search(page).group(1)  # type: ignore[union-attr]
            with app.app_context():  # the last check was long ago
                db.session.execute(
                    update(Bill).where(Bill.id == bill_id).values(last_checked_at=None)
                )
                db.session.commit()
            before = _api_calls(sandbox_url)
            ms, response = timed(
                lambda: client.post(
                    f"/bills/{bill_id}/refresh",
                    data={"csrf_token": token},
                    headers={"HX-Request": "true"},
                )
            )
            if response.status_code != 200:
                raise RuntimeError(f"reload: HTTP {response.status_code}")
            samples["reload"].append((ms, _api_calls(sandbox_url) - before))

        reload(issue())  # warm-up: the token, the bank list, the first connection
        samples["issue"].clear()
        samples["reload"].clear()
        connections_before = proxy.connections
        for _ in range(reps):
            reload(issue())
        with app.app_context():
            db.engine.dispose()
        return samples, proxy.connections - connections_before


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


def bench_latency(
    make_app: Callable[[str], Flask], report: Report, sandbox_url: str, email: str, reps: int = 5
) -> None:
    """``make_app(gateway_url)`` builds the dashboard on the bench database."""
    report.section(f"issue / reload a bill, {RTT_S * 1000:.0f} ms round trip to the gateway")
    base, _ = _run(make_app, sandbox_url, email, 0.0, reps)
    slow, new_connections = _run(make_app, sandbox_url, email, RTT_S, reps)
    for action, rows in slow.items():
        calls = int(_median([c for _, c in rows]))
        ms = _median([ms for ms, _ in rows])
        ms_base = _median([ms for ms, _ in base[action]])
        ratio = ms / (calls * RTT_S * 1000)
        network = (ms - ms_base) / (calls * RTT_S * 1000)
        over = "" if ratio <= 1.15 else "  (over)"
        report.figure(
            f"{action} a bill: time / (calls x round trip)",
            f"{ratio:.2f}x (target ≤ 1.15x){over}; {ms:.0f} ms, {ms_base:.0f} ms of it "
            f"the app's own work (at 0 ms): network part {network:.2f}x; "
            f"{calls} gateway call(s) per action",
        )
    report.figure(
        "new connections to the gateway for those actions",
        f"{new_connections} (0: the client reuses one kept connection)",
    )
