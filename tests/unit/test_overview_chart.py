"""The overview chart's geometry: one bar per day and series, scaled to the largest amount."""

from __future__ import annotations

from datetime import date, timedelta

from dashboard.reports.chart import BASELINE, TOP, bar_chart
from dashboard.reports.services import DayFlow


def test_bars_per_day_and_series_scaled_to_the_largest() -> None:
    first = date(2026, 11, 1)
    flows = [DayFlow(first + timedelta(days=n)) for n in range(30)]
    flows[3].collected, flows[3].paid_out = 100_000, 50_000
    flows[29].collected = 10  # tiny, still visible
    chart = bar_chart(flows, ("collected", "paid_out"))
    assert len(chart.bars) == 60 and chart.largest == 100_000
    tallest = next(b for b in chart.bars if b.amount == 100_000)
    half = next(b for b in chart.bars if b.amount == 50_000)
    assert tallest.height == BASELINE - TOP and tallest.y == TOP
    assert half.height == (BASELINE - TOP) / 2
    assert next(b for b in chart.bars if b.amount == 10).height == 1
    assert sum(1 for b in chart.bars if b.height == 0) == 57
    assert all(b.x + b.width <= chart.width for b in chart.bars)
    assert [day for _, _, day in chart.day_labels] == [first, flows[15].day, flows[29].day]


def test_no_money_draws_flat_bars() -> None:
    chart = bar_chart([DayFlow(date(2026, 11, 1))], ("collected",))
    assert chart.largest == 0 and [b.height for b in chart.bars] == [0]
