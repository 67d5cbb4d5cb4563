"""Memory while rendering the bills list page again and again."""

from __future__ import annotations

import gc
import resource
import time
import tracemalloc
from pathlib import Path

from flask import Flask

from bench.env import Browser
from bench.harness import Report

MIB = 1024 * 1024


def _status_kib(field: str) -> int | None:
    """A VmRSS / VmHWM figure from /proc (Linux); None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM, so the peak is this benchmark's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def bench_memory(
    app: Flask, report: Report, *, email: str, renders: int = 200, traced: int = 25
) -> None:
    """``renders`` plain renders for RSS and time, then ``traced`` more under tracemalloc
    (which makes Python 2-3x slower, so fewer) for the Python heap's peak and growth."""
    report.section(f"memory: GET /bills/ rendered {renders} times, then {traced} traced")
    browser = Browser(app).login(email)
    browser.get("/bills/")  # templates compiled, pools and caches filled
    gc.collect()
    # Read before the reset below, which may reset it too.
    run_maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_before = _status_kib("VmRSS")
    peak_reset = _reset_peak_rss()
    started = time.perf_counter()
    for _ in range(renders):
        browser.get("/bills/")
    wall = time.perf_counter() - started
    gc.collect()
    rss_after = _status_kib("VmRSS")
    hwm = _status_kib("VmHWM")

    tracemalloc.start()
    baseline, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    for _ in range(traced):
        browser.get("/bills/")
    gc.collect()
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    report.figure(f"{renders} renders", f"{wall:.1f} s, {wall / renders * 1000:.1f} ms each")
    if rss_before is not None and rss_after is not None:
        before, after = rss_before / 1024, rss_after / 1024
        report.figure("RSS before -> after the renders", f"{before:.0f} -> {after:.0f} MiB")
    if hwm is not None and peak_reset:
        report.figure("peak RSS during the renders (VmHWM)", f"{hwm / 1024:.0f} MiB")
    report.figure(
        "peak RSS of the run up to here (ru_maxrss)",
        f"{run_maxrss_kib / 1024:.0f} MiB (set by the bulk insert and what came before)",
    )
    report.figure(
        "tracemalloc: peak Python heap above start",
        f"{(peak - baseline) / MIB:.2f} MiB (one render's working set)",
    )
    report.figure(
        f"tracemalloc: still held after {traced} renders",
        f"{(current - baseline) / 1024:.0f} KiB (steady growth would be a leak)",
    )
