"""The bills list at scale: bulk-insert many bills, then time list_bills and the whole page."""

from __future__ import annotations

import gc
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import JSON, MetaData, Table, event, insert

from bench.env import Browser
from bench.harness import Report, measure, timed
from dashboard.bills import services
from dashboard.bills.services import BillFilters
from dashboard.db import db
from dashboard.models import Bill, BillState

CHUNK = 5_000
PAGE_SIZE = 50
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

FIRST = "Aline Fabrice Claude Divine Eric Nadine Jean Chantal Pacifique Olivier Sandrine Didier"
LAST = "Niyonzima Bigirimana Ndayishimiye Irakoze Hakizimana Nshimirimana Ntakirutimana Kaneza"
ITEMS = (
    "bags of rice",
    "sacks of beans",
    "crates of Primus",
    "litres of palm oil",
    "school uniforms",
    "bags of cement",
    "phone screen repair",
    "kg of sugar",
    "boxes of soap",
    "pairs of shoes",
    "solar lamps",
    "tins of paint",
)
SERVICES = (
    "School fees, term {n}",
    "Rent for month {n}",
    "Invoice {n}: transport Bujumbura-Gitega",
    "Water and electricity, invoice {n}",
    "Consultation and medicine, file {n}",
    "Wedding catering deposit {n}",
)
OLD_STATUSES = (
    (BillState.PAID, 62),
    (BillState.EXPIRED, 17),
    (BillState.CANCELLED, 6),
    (BillState.FAILED, 4),
    (BillState.REJECTED, 4),
    (BillState.PENDING, 4),
    (BillState.UNKNOWN, 2),
    (BillState.CREATING, 1),
)
RECENT_STATUSES = ((BillState.PENDING, 45), (BillState.PAID, 45), (BillState.EXPIRED, 10))


@dataclass
class Seeded:
    rows: int
    now: datetime
    sample_reference: str


def _payers(rng: random.Random) -> list[tuple[str, str]]:
    people = [(f, ln) for f in FIRST.split() for ln in LAST.split()]
    payers: list[tuple[str, str]] = []
    for i in range(3_000):
        first, last = rng.choice(people)
        kind = rng.choices(("email", "phone", "username", "code"), (40, 35, 15, 10))[0]
        if kind == "email":
            value = f"{first}.{last}{i}@example.com".lower()
        elif kind == "phone":
            value = f"{rng.choice('67')}{rng.randrange(10**7):07d}"
        elif kind == "username":
            value = f"{first[0]}{last}{i}".lower()
        else:
            value = str(10_000 + i)
        payers.append((kind, value))
    return payers


def _description(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return f"{rng.randint(1, 40)} {rng.choice(ITEMS)}"
    return rng.choice(SERVICES).format(n=rng.randint(1, 9999))


def _suffix(i: int) -> str:
    # A bijection on 0..32**6-1, so references are unique but not sequential to the eye.
    value = (i * 387_420_489 + 12_345) % 32**6
    return "".join(ALPHABET[(value >> (5 * k)) & 31] for k in range(6))


def _bill_rows(count: int, user_id: int, now: datetime) -> Iterator[list[dict[str, Any]]]:
    rng = random.Random(20_261_129)  # reproducible data, not secrets
    payers = _payers(rng)
    year = 365 * 86_400
    # Sorted by time, so ids grow with created_at as they do in real use.
    ages = sorted((rng.uniform(0, year) for _ in range(count)), reverse=True)
    # Statuses drawn in bulk: one choices() call per age group instead of one per row.
    recent = sum(age < 2 * 86_400 for age in ages)
    old = rng.choices(
        [s.value for s, _ in OLD_STATUSES], [w for _, w in OLD_STATUSES], k=count - recent
    )
    new = rng.choices(
        [s.value for s, _ in RECENT_STATUSES], [w for _, w in RECENT_STATUSES], k=recent
    )
    statuses = old + new
    unsent = {BillState.CREATING.value, BillState.REJECTED.value, BillState.UNKNOWN.value}
    paid = BillState.PAID.value
    chunk: list[dict[str, Any]] = []
    for i, (age, status) in enumerate(zip(ages, statuses, strict=True)):
        created = now - timedelta(seconds=age)
        kind, payer = rng.choice(payers)
        amount = min(max(round(rng.lognormvariate(10, 1.2) / 100) * 100, 500), 10_000_000)
        suffix = _suffix(i)
        code = None if status in unsent else f"BILL-{i:07d}{suffix[:3]}"
        chunk.append(
            {
                "merchant_reference": f"B{created:%y%m%d}-{suffix}",
                # Unique like the app's secrets.token_urlsafe(16), but cheaper to make.
                "form_token": f"{rng.getrandbits(128):032x}",
                "public_token": f"{rng.getrandbits(128):032x}",
                "amount": amount,
                "payer": payer,
                "payer_kind": kind,
                "description": _description(rng),
                "bank_slug": None,
                "bank_client_id": None,
                "status": status,
                "raw_status": "Paid" if status == paid else None,
                "code": code,
                "confirmation_uri": f"http://127.0.0.1:8070/pay/{code}/" if code else None,
                "payment_reference": f"FT{i:010d}" if status == paid else None,
                "issued_by_id": user_id,
                "created_at": created,
                "updated_at": created + timedelta(seconds=rng.randrange(36_000)),
                "last_checked_at": created + timedelta(minutes=5) if code else None,
                "last_error": None,
                "field_errors": None,
                "gateway_reply": (
                    {"bill": {"code": code, "amount": f"{amount}.00", "status": "Initiated"}}
                    if code
                    else None
                ),
                "retry_of_id": None,
            }
        )
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _insert_table() -> Table:
    """Bill.__table__, but with None stored as SQL NULL in its JSON columns (as the ORM does for
    attributes never set) rather than as the JSON text 'null'."""
    table = Bill.__table__.to_metadata(MetaData())
    for name in ("field_errors", "gateway_reply"):
        table.c[name].type = JSON(none_as_null=True)
    return table


def seed(app: Flask, report: Report, *, count: int, user_id: int) -> Seeded:
    report.section("bulk insert")
    now = datetime.now(UTC)
    started = time.perf_counter()
    in_database = 0.0
    gc.disable()  # hundreds of thousands of fresh dicts would trigger collections for nothing
    try:
        with app.app_context():
            table = _insert_table()
            with db.engine.begin() as conn:
                for chunk in _bill_rows(count, user_id, now):
                    ms, _ = timed(lambda chunk=chunk: conn.execute(insert(table), chunk))
                    in_database += ms / 1000
            wall = time.perf_counter() - started
            with db.engine.connect() as conn:
                sample = conn.execute(
                    table.select()
                    .with_only_columns(table.c.merchant_reference)
                    .order_by(table.c.id)
                    .offset(count // 2)
                    .limit(1)
                ).scalar_one()
            analyze_ms = 0.0
            if db.engine.dialect.name == "postgresql":
                # Autovacuum would do it soon after a bulk load; SQLite is left as the app
                # leaves it (no ANALYZE, so no sqlite_stat1).
                with db.engine.begin() as conn:
                    analyze_ms, _ = timed(lambda: conn.exec_driver_sql("ANALYZE bills"))
    finally:
        gc.enable()
    report.figure(
        f"insert {count:,} bills (core insert, {CHUNK:,}/batch)",
        f"{in_database:.2f} s in execute(), {count / in_database:,.0f} rows/s; "
        f"{wall:.2f} s with generating the rows"
        + (f"; ANALYZE {analyze_ms / 1000:.2f} s" if analyze_ms else ""),
    )
    return Seeded(count, now, sample)


def _cases(seeded: Seeded) -> list[tuple[str, BillFilters, int]]:
    month_start = seeded.now - timedelta(days=120)
    return [
        ("first page, no filter", BillFilters(), 1),
        ("status=pending", BillFilters(status=BillState.PENDING.value), 1),
        ("status=paid", BillFilters(status=BillState.PAID.value), 1),
        (
            "30-day date range",
            BillFilters(date_from=month_start, date_to=month_start + timedelta(days=30)),
            1,
        ),
        ("search 'aline' (payer)", BillFilters(search="aline"), 1),
        ("search a reference (1 hit)", BillFilters(search=seeded.sample_reference), 1),
        ("page 1000, no filter", BillFilters(), 1000),
    ]


def bench_service(app: Flask, report: Report, seeded: Seeded) -> None:
    report.section(f"list_bills() on {seeded.rows:,} bills, {PAGE_SIZE} per page")
    with app.app_context():
        for name, filters, page in _cases(seeded):
            found: list[int] = []

            def run(
                filters: BillFilters = filters, page: int = page, found: list[int] = found
            ) -> None:
                result = services.list_bills(filters, page=page, size=PAGE_SIZE)
                found[:] = [result.total_count, len(result.bills)]
                db.session.remove()

            samples = measure(run, reps=20, budget_s=3.0)
            report.timing(name, samples, note=f"{found[0]:,} match, {found[1]} shown")


def bench_http(app: Flask, report: Report, seeded: Seeded, email: str) -> None:
    report.section("GET /bills/ page through the test client (logged in)")
    browser = Browser(app).login(email)
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    month_start = (seeded.now - timedelta(days=120)).astimezone(zone).date()
    month_end = month_start + timedelta(days=29)
    paths = [
        ("/bills/", "/bills/"),
        ("/bills/?status=pending", "/bills/?status=pending"),
        ("/bills/?from=..&to=.. (30 days)", f"/bills/?from={month_start}&to={month_end}"),
        ("/bills/?q=aline", "/bills/?q=aline"),
        ("/bills/?page=1000", "/bills/?page=1000"),
    ]
    for name, path in paths:
        size: list[int] = [0]

        def run(path: str = path, size: list[int] = size) -> None:
            size[0] = len(browser.get(path).data)

        samples = measure(run, reps=20, budget_s=3.0)
        report.timing(name, samples, note=f"{size[0] / 1024:.0f} KiB of HTML")


def explain(app: Flask, report: Report, seeded: Seeded) -> None:
    """Print the database's plan for each statement list_bills sends."""
    report.line("")
    report.line("Query plans of list_bills():")
    with app.app_context():
        engine = db.engine
        postgres = engine.dialect.name == "postgresql"
        for name, filters, page in _cases(seeded):
            captured: list[tuple[str, Any]] = []

            def capture(
                conn: Any,
                cursor: Any,
                statement: str,
                params: Any,
                *_: Any,
                captured: list[tuple[str, Any]] = captured,
            ) -> None:
                captured.append((statement, params))

            event.listen(engine, "before_cursor_execute", capture)
            try:
                services.list_bills(filters, page=page, size=PAGE_SIZE)
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            db.session.remove()
            report.line(f"  -- {name}")
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                for statement, params in captured:
                    prefix = "EXPLAIN (ANALYZE, COSTS OFF) " if postgres else "EXPLAIN QUERY PLAN "
                    cursor.execute(prefix + statement, params)
                    for row in cursor.fetchall():
                        report.line("     " + (str(row[0]) if postgres else str(row[-1])))
            finally:
                raw.close()
