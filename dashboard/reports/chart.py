"""Geometry of the overview's bar chart, drawn as inline SVG (no script): the bars' markup is
written here, in one pass (sixty bars through the template's loop cost more than the figures),
the rest by the template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from dashboard.reports.services import DayFlow

COLOURS = {"collected": "#198754"}
OTHER = "#dc6b2f"  # paid out

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

    def bars_svg(self, say: Callable[[int], str]) -> Markup:
        """Every bar as an SVG rect with its day and amount (``say``: the amount in words).
        Numbers and dates need no escaping; the words and the series name are escaped (an
        f-string: Markup.format's escaping formatter costs more than the rest of the chart)."""
        return Markup(  # noqa: S704 - every text part is escaped above
            "\n".join(
                f'<rect class="bar" x="{bar.x}" y="{bar.y}" width="{bar.width}"'
                f' height="{bar.height}" fill="{COLOURS.get(bar.series, OTHER)}"'
                f' data-series="{escape(bar.series)}" data-day="{bar.day}"'
                f' data-amount="{bar.amount}"><title>{bar.day}: {escape(say(bar.amount))}</title>'
                "</rect>"
                for bar in self.bars
            )
        )


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


def table_rows(flows: list[DayFlow], series: tuple[str, ...], say: Callable[[int], str]) -> Markup:
    """The chart's figures as a table's rows, the newest day first (in one pass, as the bars)."""
    paid_out = "paid_out" in series
    return Markup(  # noqa: S704 - the amounts in words are escaped; dates need no escaping
        "\n".join(
            f'<tr><th scope="row" class="fw-normal">{flow.day}</th>'
            f'<td class="text-end text-nowrap">{escape(say(flow.collected))}</td>'
            + (
                f'<td class="text-end text-nowrap">{escape(say(flow.paid_out))}</td>'
                if paid_out
                else ""
            )
            + "</tr>"
            for flow in reversed(flows)
        )
    )
