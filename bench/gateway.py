"""The gateway client against the sandbox over loopback HTTP."""

from __future__ import annotations

import threading
import time

import requests

from bench.harness import Report, measure, timed
from dashboard.config import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from dashboard.ihela import IhelaClient

PAYER = "clientmail@gmail.com"


def sandbox_stats(sandbox_url: str) -> dict[str, object]:
    reply = requests.get(sandbox_url + "_sandbox/stats", timeout=5)
    reply.raise_for_status()
    stats: dict[str, object] = reply.json()
    return stats


def verify_count(sandbox_url: str) -> int:
    api = sandbox_stats(sandbox_url)["api_requests"]
    assert isinstance(api, dict)
    return sum(int(n) for path, n in api.items() if "verify" in path)


def bench_client(
    sandbox_url: str, report: Report, *, calls: int = 200, threads: int = 8, inits: int = 50
) -> None:
    report.section("IhelaClient -> sandbox gateway (loopback HTTP, one shared client)")
    tokens_before = int(str(sandbox_stats(sandbox_url)["token_requests"]))
    with IhelaClient(sandbox_url, SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET) as client:
        first_ms, bill = timed(
            lambda: client.init_bill(1_000, PAYER, "bench: first call", "BENCH-FIRST")
        )
        report.figure("first call (token fetch + init_bill)", f"{first_ms:.1f} ms")

        counter = iter(range(10**9))

        def init() -> None:
            client.init_bill(20_000, PAYER, "2 bags of rice", f"BENCH-{next(counter):06d}")

        report.timing("init_bill, sequential", measure(init, reps=inits, budget_s=20, warmup=0))

        def verify() -> None:
            client.verify_bill(bill.code, "BENCH-FIRST")

        report.timing("verify_bill, sequential", measure(verify, reps=calls, budget_s=30, warmup=0))

        samples: list[float] = []
        lock = threading.Lock()
        barrier = threading.Barrier(threads)

        def worker(share: int) -> None:
            mine: list[float] = []
            barrier.wait()
            for _ in range(share):
                mine.append(timed(verify)[0])
            with lock:
                samples.extend(mine)

        shares = [calls // threads + (i < calls % threads) for i in range(threads)]
        pool = [threading.Thread(target=worker, args=(share,)) for share in shares]
        started = time.perf_counter()
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
        wall = time.perf_counter() - started
        report.timing(
            f"verify_bill, {threads} threads", samples, wall_s=wall, note=f"wall {wall:.2f} s"
        )
    tokens = int(str(sandbox_stats(sandbox_url)["token_requests"])) - tokens_before
    report.figure("token requests for all the calls above", f"{tokens} (expected 1: reused)")
