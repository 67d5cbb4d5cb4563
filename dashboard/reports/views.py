"""The overview (the page after login), the end-of-shift summary, exports for accountants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, get_translations
from flask_babel import gettext as _
from flask_login import current_user

from dashboard.auth.twofactor import may_send_money
from dashboard.bills.queries import BillFilters
from dashboard.cashins.queries import parse_list_filters
from dashboard.db import utcnow
from dashboard.labels import money_texts
from dashboard.models import BillState, CashinState, Role
from dashboard.reports import figures, services
from dashboard.reports.chart import bar_chart, table_rows
from dashboard.security import roles_required

bp = Blueprint("reports", __name__, url_prefix="/reports")
KINDS = {
    "bills": services.bills_csv,
    "cashins": services.cashins_csv,
    "lines": services.lines_csv,
}


def _french() -> bool:
    locale = get_locale()
    return locale is not None and locale.language == "fr"


def _separator_name() -> str:
    """As asked; else semicolons in French (spreadsheets there use the comma for decimals)."""
    asked = request.args.get("sep", "")
    if asked in services.SEPARATORS:
        return asked
    return "semicolon" if _french() else "comma"


def _page(month: str, error: str | None) -> str:
    return render_template("reports/index.html", month=month, error=error, sep=_separator_name())


@bp.get("/")
@roles_required(Role.ACCOUNTANT)
def index() -> ResponseReturnValue:
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    month = request.args.get("month") or datetime.now(ZoneInfo(zone)).strftime("%Y-%m")
    return _page(month, None)


@bp.get("/customers.csv")
@roles_required(Role.ACCOUNTANT)
def customers_csv() -> ResponseReturnValue:
    """The customer directory, whole (the exports' format)."""
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    separator = services.SEPARATORS[_separator_name()]
    stamp = datetime.now(ZoneInfo(zone)).strftime("%Y-%m-%d")
    return Response(
        stream_with_context(services.customers_csv(zone, separator, _french())),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="customers-{stamp}.csv"'},
    )


@bp.get("/<kind>.csv")
@roles_required(Role.ACCOUNTANT)
def export(kind: str) -> ResponseReturnValue:
    if kind not in KINDS:
        return _page("", _("Unknown export.")), 404
    month = request.args.get("month", "")
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    try:
        start, end = services.month_bounds(month, zone)
    except ValueError:
        return _page(month, _("Choose a month, like 2026-11.")), 400
    separator = services.SEPARATORS[_separator_name()]
    rows = KINDS[kind](start, end, zone, separator, _french())
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{kind}-{month}.csv"'},
    )


def _bill_filters(zone: str) -> BillFilters:
    """The bills list's filters from the query string, read as the list reads them."""
    args = request.args
    status = args.get("status", "")
    issued_by = args.get("issued_by", "")
    filters = BillFilters(
        status=status if status in set(BillState) else "",
        search=args.get("q", "").strip()[:100],
        issued_by=int(issued_by) if issued_by.isdigit() and len(issued_by) < 10 else None,
    )
    first, last = _local_day(args.get("from", ""), zone), _local_day(args.get("to", ""), zone)
    filters.date_from = first
    filters.date_to = last + timedelta(days=1) if last else None
    return filters


def _local_day(text: str, zone: str) -> datetime | None:
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        return None
    if not 2000 <= day.year <= 2100:
        return None
    return day.replace(tzinfo=ZoneInfo(zone))


@bp.get("/<kind>/filtered.csv")
@roles_required(Role.ACCOUNTANT)
def export_filtered(kind: str) -> ResponseReturnValue:
    """What the bills or cash-ins list shows with its current filters, every page of it."""
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    separator = services.SEPARATORS[_separator_name()]
    rows: Any
    if kind == "bills":
        rows = services.filtered_bills_csv(_bill_filters(zone), zone, separator, _french())
    elif kind == "cashins":
        filters, errors = parse_list_filters(request.args, zone)
        if errors:
            # The list says which date is wrong; an export of "something else" would mislead.
            return _page("", _("Check the dates of the filter: nothing was exported.")), 400
        rows = services.filtered_cashins_csv(filters, zone, separator, _french())
    else:
        return _page("", _("Unknown export.")), 404
    stamp = datetime.now(ZoneInfo(zone)).strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(rows),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{kind}-{stamp}.csv"'},
    )


CHART_DAYS = 30


@dataclass(frozen=True)
class Tile:
    """One figure of the overview and the list that shows what it counts."""

    key: str
    label: str
    amount: int
    count: int | None
    href: str
    count_text: str = ""  # the count in words ("3 bills", "1 cash-in"), when there is one


def _bills_url(period: services.Period, status: str = "", person: int | None = None) -> str:
    args: dict[str, Any] = {"from": period.first.isoformat(), "to": period.last.isoformat()}
    if status:
        args["status"] = status
    if person is not None:
        args["issued_by"] = person
    return f"{_list_url('bills.index')}?{urlencode(args)}"


def _cashins_url(period: services.Period, status: str, reason: str = "") -> str:
    # The cash-ins list filters by status today; the date range (and reason) are passed along
    # for the list's own filters, under the names the bills list uses.
    args: dict[str, Any] = {
        "status": status,
        "from": period.first.isoformat(),
        "to": period.last.isoformat(),
    }
    if reason:
        args["reason"] = reason
    return f"{_list_url('cashins.index')}?{urlencode(args)}"


def _list_url(endpoint: str) -> str:
    """A list's address, built once per request (the overview links to it thirty times)."""
    built: dict[str, str] = g.setdefault("_list_urls", {})
    if endpoint not in built:
        built[endpoint] = url_for(endpoint)
    return built[endpoint]


class _Words:
    """The tiles' words, from the reader's catalogue fetched once (each gettext call would
    look it up again): labels said once for both sections, counts as "3 bills"."""

    def __init__(self) -> None:
        said = get_translations()
        self.said = said
        self.labels = {
            "collected": said.gettext("Money collected"),
            "issued": said.gettext("Bills issued"),
            "paid": said.gettext("Bills paid"),
            "waiting": said.gettext("Waiting for payment"),
            "expired": said.gettext("Expired"),
            "cashins-sent": said.gettext("Cash-ins sent"),
            "cashins-approval": said.gettext("Waiting for approval"),
            "cashins-unknown": said.gettext("Unknown outcome"),
            "refunds": said.gettext("Refunds sent"),
        }

    def bills(self, count: int) -> str:
        return str(self.said.ngettext("%(num)d bill", "%(num)d bills", count) % {"num": count})

    def cashins(self, count: int) -> str:
        text = self.said.ngettext("%(num)d cash-in", "%(num)d cash-ins", count)
        return str(text % {"num": count})


def _bill_tiles(
    period: services.Period, bills: services.BillFigures, person: int | None, words: _Words
) -> list[Tile]:
    paid = _bills_url(period, BillState.PAID, person)
    tiles = [Tile("collected", words.labels["collected"], bills.collected, None, paid)]
    for key, figure, href in (
        ("issued", bills.issued, _bills_url(period, "", person)),
        ("paid", bills.paid, paid),
        ("waiting", bills.waiting, _bills_url(period, BillState.PENDING, person)),
        ("expired", bills.expired, _bills_url(period, BillState.EXPIRED, person)),
    ):
        tiles.append(
            Tile(
                key, words.labels[key], figure.amount, figure.count, href, words.bills(figure.count)
            )
        )
    return tiles


def _cashin_tiles(
    period: services.Period, cashins: services.CashinFigures, words: _Words
) -> list[Tile]:
    return [
        Tile(
            key,
            words.labels[key],
            figure.amount,
            figure.count,
            _cashins_url(period, status, reason),
            words.cashins(figure.count),
        )
        for key, figure, status, reason in (
            ("cashins-sent", cashins.sent, CashinState.SUCCEEDED, ""),
            ("cashins-approval", cashins.awaiting_approval, CashinState.AWAITING_APPROVAL, ""),
            ("cashins-unknown", cashins.unknown, CashinState.UNKNOWN, ""),
            ("refunds", cashins.refunds, CashinState.SUCCEEDED, "refund"),
        )
    ]


@roles_required(Role.CASHIER, Role.ACCOUNTANT)
def overview() -> ResponseReturnValue:
    """Today and this month at a glance: everyone's for accountants, one's own for cashiers."""
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    today = services.local_today(utcnow(), zone)
    everyone = current_user.has_role(Role.ACCOUNTANT)
    person = None if everyone else int(current_user.id)
    # One statement for every figure (dashboard/reports/figures.py).
    found = figures.overview(today, zone, person, CHART_DAYS)
    words = _Words()
    sections = []
    for key, title, section in (
        ("today", _("Today"), found.today),
        ("month", _("This month"), found.month),
    ):
        period, people = section.period, section.people
        tiles = _bill_tiles(period, section.bills, person, words)
        if section.cashins is not None:
            tiles += _cashin_tiles(period, section.cashins, words)
        sections.append(
            {
                "key": key,
                "title": title,
                "period": period,
                "tiles": tiles,
                "people": people,
                "people_urls": {p.user_id: _bills_url(period, "", p.user_id) for p in people},
            }
        )
    chart_period, flows = found.chart, found.flows
    say = money_texts()  # the amounts in words, the reader's locale looked up once
    series = ("collected", "paid_out") if everyone else ("collected",)
    return render_template(
        "reports/overview.html",
        sections=sections,
        everyone=everyone,
        flows=flows,
        series=series,
        chart=bar_chart(flows, series),
        say=say,
        flow_rows=table_rows(flows, series, say),
        chart_period=chart_period,
        # Said here, before the first cash-in is refused for it.
        enrol_two_factor=everyone and not may_send_money(current_user),
    )


@bp.get("/shift")
@roles_required(Role.CASHIER, Role.ACCOUNTANT)
def shift() -> ResponseReturnValue:
    """A printable end-of-shift summary: the bills this person issued today."""
    zone = current_app.config["BABEL_DEFAULT_TIMEZONE"]
    now = utcnow()
    today = services.local_today(now, zone)
    period = services.days_period(today, today, zone)
    bills = services.bill_figures(period, int(current_user.id))
    return render_template(
        "reports/shift.html",
        bills=bills,
        period=period,
        printed_at=now,
        states=[state for state in BillState if state in bills.by_status],
    )
