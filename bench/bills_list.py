"""The bills list at scale: bulk-insert many bills, then time list_bills and the whole page over
HTTP (gunicorn, one worker) beside the cheapest logged-in page, on SQLite and on PostgreSQL."""

from __future__ import annotations

import contextlib
import gc
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests
from flask import Flask
from sqlalchemy import JSON, MetaData, Table, event, insert, make_url, select
from sqlalchemy.exc import OperationalError

from bench.env import (
    CSRF_INPUT,
    PASSWORD,
    BenchSetupError,
    app_config,
    describe,
    make_user,
    migrate_database,
)
from bench.harness import Report, measure, percentile, timed
from dashboard import create_app
from dashboard.bills import queries
from dashboard.bills.queries import BillFilters
from dashboard.db import db
from dashboard.models import Bill, BillState, Role

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
    deep_id: int = 0  # the bill half-way down the newest-first list
    deep_paid_id: int = 0  # half-way down the paid ones


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


def _bill_rows(
    count: int,
    user_id: int,
    now: datetime,
    *,
    span_days: int = 365,
    issuers: list[int] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    rng = random.Random(20_261_129)  # reproducible data, not secrets
    payers = _payers(rng)
    year = span_days * 86_400
    people = issuers or [user_id]
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
                "issued_by_id": people[i % len(people)],
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
    with app.app_context():
        deep_id, deep_paid_id = _deep_ids(count)
    report.figure(
        f"insert {count:,} bills (core insert, {CHUNK:,}/batch)",
        f"{in_database:.2f} s in execute(), {count / in_database:,.0f} rows/s; "
        f"{wall:.2f} s with generating the rows"
        + (f"; ANALYZE {analyze_ms / 1000:.2f} s" if analyze_ms else ""),
    )
    return Seeded(count, now, sample, deep_id, deep_paid_id)


def _deep_ids(count: int) -> tuple[int, int]:
    """Where a person paging "older" 500 times would be: the cursor of a deep page."""
    newest_first = (Bill.created_at.desc(), Bill.id.desc())
    deep = db.session.scalar(select(Bill.id).order_by(*newest_first).offset(count // 2).limit(1))
    paid = db.session.scalar(
        select(Bill.id)
        .where(Bill.status == BillState.PAID)
        .order_by(*newest_first)
        .offset(count // 4)
        .limit(1)
    )
    db.session.remove()
    return deep or 0, paid or 0


def _cases(seeded: Seeded) -> list[tuple[str, BillFilters, int | None]]:
    """(name, filters, ``older`` cursor) of list_bills() calls."""
    month_start = seeded.now - timedelta(days=120)
    return [
        ("first page, no filter", BillFilters(), None),
        ("status=pending", BillFilters(status=BillState.PENDING.value), None),
        ("status=paid", BillFilters(status=BillState.PAID.value), None),
        (
            "30-day date range",
            BillFilters(date_from=month_start, date_to=month_start + timedelta(days=30)),
            None,
        ),
        ("search 'aline' (payer)", BillFilters(search="aline"), None),
        ("search a reference (1 hit)", BillFilters(search=seeded.sample_reference), None),
        ("search 'sacks of' (description)", BillFilters(search="sacks of"), None),
        (f"deep page (older than the {seeded.rows // 2:,}th)", BillFilters(), seeded.deep_id),
        (
            "deep page, status=paid",
            BillFilters(status=BillState.PAID.value),
            seeded.deep_paid_id,
        ),
    ]


def bench_service(app: Flask, report: Report, seeded: Seeded) -> None:
    report.section(f"list_bills() on {seeded.rows:,} bills, {PAGE_SIZE} per page")
    with app.app_context():
        for name, filters, older in _cases(seeded):
            found: list[int] = []

            def run(
                filters: BillFilters = filters, older: int | None = older, found: list[int] = found
            ) -> None:
                result = queries.list_bills(filters, size=PAGE_SIZE, older=older)
                found[:] = [result.total_count, len(result.bills), result.totals_known]
                db.session.remove()

            samples = measure(run, reps=20, budget_s=1.5)
            matching = f"{found[0]:,}" if found[2] else f"more than {found[0]:,}"
            report.timing(name, samples, note=f"{matching} match, {found[1]} shown")


FLOOR = "/reports/"  # the cheapest logged-in page: the layout, one small form, no query
TARGET = 2.0


def _http_paths(app: Flask, seeded: Seeded) -> list[tuple[str, str]]:
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    month_start = (seeded.now - timedelta(days=120)).astimezone(zone).date()
    month_end = month_start + timedelta(days=29)
    fragment = seeded.sample_reference[2:9].lower()  # "261023-", part of a reference
    return [
        ("floor: GET /reports/ (the cheapest page)", FLOOR),
        ("/bills/ first page", "/bills/"),
        ("/bills/?status=pending", "/bills/?status=pending"),
        ("/bills/?status=paid", "/bills/?status=paid"),
        ("/bills/?from=..&to=.. (30 days)", f"/bills/?from={month_start}&to={month_end}"),
        ("/bills/?q=aline (payer fragment)", "/bills/?q=aline"),
        (f"/bills/?q={fragment} (reference fragment)", f"/bills/?q={fragment}"),
        ("/bills/?q=sacks+of (description)", "/bills/?q=sacks+of"),
        (f"/bills/?older=.. (deep: {seeded.rows // 2:,} down)", f"/bills/?older={seeded.deep_id}"),
        (
            "/bills/?status=paid&older=.. (deep)",
            f"/bills/?status=paid&older={seeded.deep_paid_id}",
        ),
        ("/bills/?newer=.. (back up from deep)", f"/bills/?newer={seeded.deep_id}"),
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _gunicorn(url: str, gateway_url: str) -> Iterator[str]:
    """The dashboard under gunicorn, one sync worker, as in production; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "DASHBOARD_SQLALCHEMY_DATABASE_URI": url,
        "DASHBOARD_SECRET_KEY": "bench-secret-" + os.urandom(8).hex(),
        "DASHBOARD_IHELA_BASE_URL": gateway_url,
        "DASHBOARD_PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        # Staff sign in with a password only here (two-factor has its own tests).
        "DASHBOARD_TWO_FACTOR_DEFAULT_REQUIRED_ROLES": "[]",
    }
    command = [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}"]
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
        [*command, "--log-level", "warning", "wsgi:app"],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(base + "/login", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise BenchSetupError("gunicorn did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _login(base: str, email: str) -> requests.Session:
    session = requests.Session()
    page = session.get(base + "/login", timeout=10).text
    match = CSRF_INPUT.search(page)
    if not match:
        raise BenchSetupError("No CSRF token on the login page.")
    form = {"csrf_token": match.group(1), "email": email, "password": PASSWORD}
    response = session.post(base + "/login", data=form, allow_redirects=False, timeout=10)
    if response.status_code not in (302, 303):
        raise BenchSetupError(f"Login failed: HTTP {response.status_code}.")
    return session


def bench_http(
    app: Flask, report: Report, seeded: Seeded, *, url: str, gateway_url: str, rounds: int = 25
) -> list[tuple[str, float]]:
    """Each list page beside the floor page, in interleaved rounds (so a busy moment of a shared
    machine hits them all alike); p95 of each ÷ p95 of the floor against the 2x target."""
    report.section(f"over HTTP (gunicorn, 1 worker), {rounds} rounds; p95 ratio to the floor")
    paths = _http_paths(app, seeded)
    samples: dict[str, list[float]] = {path: [] for _, path in paths}
    sizes: dict[str, int] = {}
    with _gunicorn(url, gateway_url) as base:
        session = _login(base, LISTS_EMAIL)
        for _, path in paths:  # warm-up: templates compiled, connections open
            response = session.get(base + path, timeout=60)
            if response.status_code != 200:
                raise BenchSetupError(f"GET {path}: HTTP {response.status_code}")
        for _ in range(rounds):
            for _, path in paths:
                started = time.perf_counter()
                response = session.get(base + path, timeout=60)
                samples[path].append((time.perf_counter() - started) * 1000)
                sizes[path] = len(response.content)
    floor_p95 = percentile(samples[FLOOR], 0.95)
    floor_p50 = statistics.median(samples[FLOOR])
    ratios: list[tuple[str, float]] = []
    for name, path in paths:
        p95 = percentile(samples[path], 0.95)
        kib = f"{sizes[path] / 1024:.0f} KiB"
        if path == FLOOR:
            report.timing(name, samples[path], note=f"{kib}; the 1.0x of the ratios")
            continue
        ratio = p95 / floor_p95
        ratios.append((name, ratio))
        verdict = "ok" if ratio <= TARGET else "OVER"
        p50_ratio = statistics.median(samples[path]) / floor_p50
        report.timing(
            name,
            samples[path],
            note=f"p95 {ratio:.2f}x floor (target ≤ {TARGET:.0f}x) {verdict}; "
            f"p50 {p50_ratio:.2f}x; {kib}",
        )
    return ratios


def explain(app: Flask, report: Report, seeded: Seeded, *, only_search: bool = True) -> None:
    """Print the database's plan for each statement list_bills sends (by default: the search by
    a payer's name fragment only, to show the trigram index serves it)."""
    report.line("")
    with app.app_context():
        engine = db.engine
        postgres = engine.dialect.name == "postgresql"
        for name, filters, older in _cases(seeded):
            if only_search and filters.search != "aline":
                continue
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
                queries.list_bills(filters, size=PAGE_SIZE, older=older)
            finally:
                event.remove(engine, "before_cursor_execute", capture)
            db.session.remove()
            report.line(f"  Query plans of list_bills(), {name} ({engine.dialect.name}):")
            raw = engine.raw_connection()
            try:
                cursor = raw.cursor()
                for statement, params in captured:
                    report.line("   " + " ".join(statement.split())[:150] + " …")
                    prefix = "EXPLAIN (ANALYZE, COSTS OFF) " if postgres else "EXPLAIN QUERY PLAN "
                    cursor.execute(prefix + statement, params)
                    for row in cursor.fetchall():
                        report.line("     " + (str(row[0]) if postgres else str(row[-1])))
            finally:
                raw.rollback()
                raw.close()


LISTS_EMAIL = "bench.lists@example.com"
POSTGRES_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_lists"


def _run_on(
    app: Flask, url: str, report: Report, *, rows: int, gateway_url: str, explain_all: bool
) -> Seeded:
    report.line("")
    report.line(f"== bills list on {describe(url)} ==")
    user_id = make_user(app, LISTS_EMAIL, Role.ACCOUNTANT)
    seeded = seed(app, report, count=rows, user_id=user_id)
    bench_service(app, report, seeded)
    bench_http(app, report, seeded, url=url, gateway_url=gateway_url)
    explain(app, report, seeded, only_search=not explain_all)
    return seeded


def bench_lists(
    app: Flask,
    url: str,
    report: Report,
    *,
    rows: int,
    tmpdir: str,
    gateway_url: str,
    explain_all: bool = False,
) -> Seeded:
    """The lists on the run's database (``app``), then on the other kind: PostgreSQL at
    ``BENCH_LISTS_DATABASE_URL`` (default bench_lists on 127.0.0.1) when the run is on SQLite,
    SQLite in ``tmpdir`` when it is on PostgreSQL. Returns what was seeded in the run's own."""
    seeded = _run_on(app, url, report, rows=rows, gateway_url=gateway_url, explain_all=explain_all)
    if url.startswith("postgresql"):
        other = "sqlite:///" + os.path.join(tmpdir, "lists.sqlite3")
    else:
        other = os.environ.get("BENCH_LISTS_DATABASE_URL", "").strip() or POSTGRES_DEFAULT
        name = make_url(other).database or ""
        if not name.startswith("bench"):
            raise BenchSetupError(f"Refusing to wipe database {name!r}: not named bench*.")
    try:
        migrate_database(other)
    except (OperationalError, BenchSetupError) as exc:
        report.line(f"(lists on {describe(other)} skipped: {str(exc).splitlines()[0]})")
        return seeded
    second = create_app(app_config(other, gateway_url))
    try:
        _run_on(second, other, report, rows=rows, gateway_url=gateway_url, explain_all=explain_all)
    finally:
        with second.app_context():
            db.engine.dispose()
    return seeded
