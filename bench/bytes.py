"""Bytes a browser receives, measured in headless Chromium from CDP network events.

The dashboard runs under gunicorn (1 worker, 4 threads, as README's deployment line but one
worker), on the bench database, talking to the bench sandbox. Chromium asks with its usual
``Accept-Encoding``; each request's size is CDP's ``encodedDataLength`` (headers and body as
received, compressed). Skipped, with a note, when Chromium or Playwright is missing.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.env import PASSWORD
from bench.harness import Report

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parent.parent
STATIC = re.compile(r"/(assets|static)/|/favicon\.ico$")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def gunicorn(database_url: str, gateway_url: str) -> Iterator[str]:
    """The dashboard as deployed (without its TLS proxy), on loopback."""
    port = free_port()
    env = {
        **os.environ,
        "DASHBOARD_SECRET_KEY": "bench-secret",
        "DASHBOARD_SQLALCHEMY_DATABASE_URI": database_url,
        "DASHBOARD_IHELA_BASE_URL": gateway_url,
        "DASHBOARD_BABEL_DEFAULT_LOCALE": "en",
    }
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4"]
    command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
    process = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url + "/healthz", timeout=5)
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Traffic:
    """What one page (or one wait) cost on the wire, from CDP events."""

    urls: dict[str, str] = field(default_factory=dict)  # requestId -> url
    status: dict[str, int] = field(default_factory=dict)
    cached: set[str] = field(default_factory=set)  # served from the browser's cache
    sizes: dict[str, int] = field(default_factory=dict)  # requestId -> encoded bytes

    def on_request(self, event: dict[str, Any]) -> None:
        self.urls[event["requestId"]] = event["request"]["url"]

    def on_response(self, event: dict[str, Any]) -> None:
        response = event["response"]
        self.status[event["requestId"]] = int(response["status"])
        if response.get("fromDiskCache") or response.get("fromMemoryCache"):
            self.cached.add(event["requestId"])

    def on_raw(self, event: dict[str, Any]) -> None:
        # The status as it came over the wire: a revalidated 304 shows as 200 elsewhere.
        self.status[event["requestId"] + ":raw"] = int(event["statusCode"])

    def on_cache(self, event: dict[str, Any]) -> None:
        self.cached.add(event["requestId"])

    def on_finished(self, event: dict[str, Any]) -> None:
        self.sizes[event["requestId"]] = int(event["encodedDataLength"])

    def network(self, pattern: str = "") -> list[tuple[str, int, int]]:
        """(url, status, bytes) of each request that went to the server, matching ``pattern``."""
        rows = []
        for rid, url in self.urls.items():
            if rid in self.cached or rid not in self.sizes or not re.search(pattern, url):
                continue
            status = self.status.get(rid + ":raw", self.status.get(rid, 0))
            rows.append((url, status, self.sizes[rid]))
        return rows

    def total(self, pattern: str = "") -> int:
        return sum(size for _, _, size in self.network(pattern))

    def static_requests(self) -> int:
        return len([u for u, _, _ in self.network() if STATIC.search(u)])


class Recorder:
    def __init__(self, page: Any) -> None:
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.send("Network.enable")
        self.traffic = Traffic()
        self.cdp.on("Network.requestWillBeSent", lambda e: self.traffic.on_request(e))
        self.cdp.on("Network.responseReceived", lambda e: self.traffic.on_response(e))
        self.cdp.on("Network.requestServedFromCache", lambda e: self.traffic.on_cache(e))
        self.cdp.on("Network.responseReceivedExtraInfo", lambda e: self.traffic.on_raw(e))
        self.cdp.on("Network.loadingFinished", lambda e: self.traffic.on_finished(e))

    def start(self) -> Traffic:
        self.traffic = Traffic()
        return self.traffic


def kb(n: int) -> str:
    return f"{n / 1024:.1f} KB"


def verdict(value: float, target: float) -> str:
    return f"{value / target:.2f}x of target" + ("" if value <= target else "  (over)")


def log_in(page: Any, url: str, email: str) -> None:
    page.goto(url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def issue_bill(page: Any, url: str) -> str:
    page.goto(url + "/bills/new")
    page.fill("input[name=amount]", "15000")
    page.fill("input[name=payer]", "clientmail@gmail.com")
    page.fill("textarea[name=description], input[name=description]", "bench: bytes")
    page.click("form[data-once] button[type=submit]")
    page.wait_for_url(re.compile(r"/bills/\d+$"))
    return str(page.url)


def bench_bytes(
    report: Report, *, database_url: str, gateway_url: str, cashier: str, accountant: str
) -> None:
    report.section("bytes on the wire: headless Chromium, CDP encodedDataLength (gunicorn)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        report.line("  skipped: playwright is not installed (make install)")
        return
    if not CHROMIUM.exists():
        report.line(f"  skipped: {CHROMIUM} is missing")
        return
    args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with (
        gunicorn(database_url, gateway_url) as url,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            # Log in and issue a bill in one context; measure in a fresh one (cold cache).
            setup = browser.new_context(locale="en-GB")
            setup_page = setup.new_page()
            log_in(setup_page, url, cashier)
            bill_url = issue_bill(setup_page, url)
            state = setup.storage_state()
            setup.close()

            context = browser.new_context(locale="en-GB", storage_state=state)
            page = context.new_page()
            recorder = Recorder(page)

            traffic = recorder.start()
            page.goto(bill_url)
            page.wait_for_load_state("networkidle")
            first = traffic.total()
            report.figure(
                "first load of a bill page, every asset",
                f"{kb(first)} in {len(traffic.network())} requests; target ≤ 200 KB: "
                + verdict(first, 200 * 1024),
            )
            for asset_url, _, size in sorted(traffic.network(), key=lambda r: -r[2])[:6]:
                report.line(f"      {kb(size):>9}  {asset_url.replace(url, '')[:80]}")

            traffic = recorder.start()
            page.goto(url + "/bills/")
            page.wait_for_load_state("networkidle")
            traffic = recorder.start()
            page.goto(bill_url)
            page.wait_for_load_state("networkidle")
            repeat = traffic.total()
            report.figure(
                "repeat visit of the bill page",
                f"{kb(repeat)}, {traffic.static_requests()} static requests; target ≤ 30 KB "
                f"and 0: {verdict(repeat, 30 * 1024)}",
            )

            # The page polls its status after 5 s, then 8 s later: the first fetch of the
            # fragment is a 200, the next (nothing changed) a 304.
            traffic = recorder.start()
            page.wait_for_timeout(14_000)
            polls = traffic.network(r"/status(\?[^/]*)?$")
            for n, (_, status, size) in enumerate(polls, 1):
                why = "unchanged" if status == 304 else "re-checked"
                report.figure(
                    f"status poll {n} (HTTP {status}, {why})",
                    f"{size} B with headers; target ≤ 1 KB: {verdict(size, 1024)}",
                )
            if not polls:
                report.figure("status poll", "no poll seen in 14 s")
            # A second tab (or a poll) within BILL_REFRESH_MIN_SECONDS: no new check, same state.
            traffic = recorder.start()
            page.evaluate(
                "u => fetch(u, {headers: {'HX-Request': 'true', 'X-Poll': '1'}})"
                ".then(r => r.text())",
                # The same address the page polls (with its ?shown=), so the browser's cache
                # sends If-None-Match as a second poll would.
                polls[-1][0] if polls else bill_url + "/status",
            )
            page.wait_for_timeout(500)
            for _, status, size in traffic.network(r"/status(\?[^/]*)?$"):
                report.figure(
                    f"status poll, unchanged (HTTP {status})",
                    f"{size} B with headers; target ≤ 1 KB: {verdict(size, 1024)}",
                )
            context.close()

            # Cash-in form: what it adds once the common files are in the cache.
            context = browser.new_context(locale="en-GB")
            page = context.new_page()
            recorder = Recorder(page)
            log_in(page, url, accountant)
            page.goto(url + "/cashins/")
            page.wait_for_load_state("networkidle")
            traffic = recorder.start()
            page.goto(url + "/cashins/new")
            page.wait_for_load_state("networkidle")
            extra = traffic.total(str(STATIC.pattern))
            report.figure(
                "cash-in form extra (its own scripts and CSS)",
                f"{kb(extra)} ({traffic.static_requests()} files; was 145 KB)",
            )
            context.close()
        finally:
            browser.close()
