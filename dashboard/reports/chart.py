"""Geometry of the overview's bar chart, drawn by the template as inline SVG (no script)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from dashboard.reports.services import DayFlow

WIDTH = 600
HEIGHT = 180
TOP = 16  # room for the scale's top label
BASELINE = HEIGHT - 20  # room for the day labels under the bars


@dataclass(frozen=True)
class Bar:
    series: str
    day: date
    amount: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: int
    top: int
    largest: int
    bars: list[Bar]
    day_labels: list[tuple[float, str, date]]  # x, text-anchor, day


def bar_chart(flows: list[DayFlow], series: tuple[str, ...]) -> Chart:
    """One bar per day and series (``collected``, ``paid_out``), scaled to the largest amount."""
    largest = max((getattr(flow, name) for flow in flows for name in series), default=0)
    slot = WIDTH / max(len(flows), 1)
    bar_width = slot * 0.8 / max(len(series), 1)
    usable = BASELINE - TOP
    bars = []
    for position, flow in enumerate(flows):
        for offset, name in enumerate(series):
            amount: int = getattr(flow, name)
            height = usable * amount / largest if largest else 0.0
            if amount and height < 1:
                height = 1.0  # a small amount stays visible
            bars.append(
                Bar(
                    name,
                    flow.day,
                    amount,
                    round(position * slot + slot * 0.1 + offset * bar_width, 2),
                    round(BASELINE - height, 2),
                    round(bar_width, 2),
                    round(height, 2),
                )
            )
    # First, middle and last day under the axis: enough to read dates without crowding.
    picks = sorted({0, len(flows) // 2, len(flows) - 1}) if flows else []
    last = len(flows) - 1
    labels = [
        (2.0, "start", flows[i].day)
        if i == 0
        else (WIDTH - 2.0, "end", flows[i].day)
        if i == last
        else (round(i * slot + slot / 2, 2), "middle", flows[i].day)
        for i in picks
    ]
    return Chart(WIDTH, HEIGHT, BASELINE, TOP, largest, bars, labels)
