"""Timing helpers and the printed table."""

from __future__ import annotations

import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NAME_WIDTH = 46


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    ordered = sorted(samples)
    rank = max(math.ceil(fraction * len(ordered)), 1)
    return ordered[rank - 1]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Milliseconds one call took, and what it returned."""
    started = time.perf_counter()
    result = fn()
    return (time.perf_counter() - started) * 1000, result


def measure(
    fn: Callable[[], Any], *, reps: int, budget_s: float, warmup: int = 1, min_reps: int = 3
) -> list[float]:
    """Call ``fn`` up to ``reps`` times (at least ``min_reps``, fewer once ``budget_s`` is spent);
    milliseconds per call. Warm-up calls are not counted."""
    for _ in range(warmup):
        fn()
    samples: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(samples) < reps and (len(samples) < min_reps or time.perf_counter() < deadline):
        samples.append(timed(fn)[0])
    return samples


@dataclass
class Row:
    name: str
    n: int | None = None
    median_ms: float | None = None
    p95_ms: float | None = None
    per_s: float | None = None
    note: str = ""


class Report:
    """Prints rows as they come (a long run shows progress) and keeps them for the summary."""

    def __init__(self, out: Any = None) -> None:
        self.out = out or sys.stdout
        self.rows: list[Row] = []
        self._header_done = False

    def _print(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def header(self) -> None:
        self._print(
            f"{'benchmark':<{NAME_WIDTH}} {'n':>5} {'median ms':>10} {'p95 ms':>9} "
            f"{'per s':>9}  notes"
        )
        self._print("-" * (NAME_WIDTH + 60))

    def section(self, title: str) -> None:
        if not self._header_done:
            self.header()
            self._header_done = True
        self._print(f"[{title}]")

    def add(self, row: Row) -> Row:
        self.rows.append(row)

        def num(value: float | int | None, width: int, digits: int = 1) -> str:
            if value is None:
                return " " * width
            if isinstance(value, int):
                return f"{value:>{width}}"
            return f"{value:>{width}.{digits}f}"

        self._print(
            f"  {row.name:<{NAME_WIDTH - 2}} {num(row.n, 5)} {num(row.median_ms, 10, 2)} "
            f"{num(row.p95_ms, 9, 2)} {num(row.per_s, 9, 0)}  {row.note}"
        )
        return row

    def timing(
        self, name: str, samples_ms: list[float], *, wall_s: float | None = None, note: str = ""
    ) -> Row:
        """A row from per-call samples; ``per s`` is calls / wall time when given (concurrent
        runs), else 1000 / mean."""
        n = len(samples_ms)
        per_s = n / wall_s if wall_s else 1000 / statistics.fmean(samples_ms)
        return self.add(
            Row(
                name,
                n,
                statistics.median(samples_ms),
                percentile(samples_ms, 0.95),
                per_s,
                note,
            )
        )

    def figure(self, name: str, note: str) -> Row:
        return self.add(Row(name, note=note))

    def line(self, text: str) -> None:
        self._print(text)
