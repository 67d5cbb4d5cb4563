"""Every staff page at scale: three years of a busy shop (bills, cash-ins, audit rows) seeded in
bulk, then each page timed over HTTP (gunicorn, one worker) in interleaved rounds beside the
floor page (/reports/), median and p95 ratio against the 2x target; the same at a tenth of the
size beside it, so the table shows how each page's cost grows with history.

PostgreSQL (when BENCH_DATABASE_URL is set: 1 000 000 bills, 200 000 cash-ins, 2 000 000 audit
rows by default) is loaded by COPY with the row triggers off, then the summaries are counted
once from the rows (what migration f1701a0a0001 does); SQLite (100 000 / 20 000 / 200 000)
takes plain bulk inserts, its triggers keeping the summaries and search tables.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import requests
from flask import Flask
from sqlalchemy import JSON, MetaData, Table, insert, make_url, select, text
from sqlalchemy.exc import DBAPIError

from bench import bills_list
from bench.env import BenchSetupError, app_config, describe, make_user, migrate_database
from bench.harness import Report, percentile
from dashboard import create_app
from dashboard.admin.audit_filter import WHO_TEXT
from dashboard.bills.queries import BILL_TEXT
from dashboard.cashins.queries import CASHIN_TEXT
from dashboard.db import db
from dashboard.models import AuditEvent, Bill, BillState, Cashin, CashinState, Role

TARGET = 2.0
FLOOR = "/reports/"
PAGE = 50  # the app's PAGE_SIZE: "50 steps deep" is 2 500 rows down
DEEP_STEPS = 50
STAFF = 10
BANKS = [
    ("BANCOBU", "Bancobu"),
    ("BCB", "Banque de Crédit de Bujumbura"),
    ("BGF", "Banque de Gestion et de Financement"),
    ("ECOBANK", "Ecobank Burundi"),
    ("IHELA", "iHela Credit Union"),
    ("MOBILE", "Lumicash mobile money"),
]
# Older than a few days a cash-in has settled (a few unknown outcomes stay, never resolved);
# the last days still hold drafts, approvals and sends in progress.
CASHIN_STATES = (
    (CashinState.SUCCEEDED, 86),
    (CashinState.FAILED, 5),
    (CashinState.REJECTED, 3),
    (CashinState.DISCARDED, 6),
    (CashinState.UNKNOWN, 0.05),
)
RECENT_CASHIN_STATES = (
    (CashinState.SUCCEEDED, 70),
    (CashinState.DRAFT, 10),
    (CashinState.AWAITING_APPROVAL, 10),
    (CashinState.FAILED, 5),
    (CashinState.UNKNOWN, 5),
)
RECENT = 3 * 86_400
ACTIONS = (
    ("auth.login", None, 20),
    ("auth.logout", None, 8),
    ("auth.login_failed", None, 2),
    ("bill.created", "bill", 30),
    ("bill.status_changed", "bill", 25),
    ("bill.refreshed", "bill", 6),
    ("cashin.drafted", "cashin", 3),
    ("cashin.confirmed", "cashin", 3),
    ("cashin.approved", "cashin", 1),
    ("setting.changed", "setting", 0.01),
    ("user.password_changed", "user", 0.05),
)
SPAN_DAYS = 3 * 365


@dataclass(frozen=True)
class Size:
    bills: int
    cashins: int
    audit: int

    def tenth(self) -> Size:
        return Size(self.bills // 10, self.cashins // 10, self.audit // 10)

    def __str__(self) -> str:
        return f"{self.bills:,} bills, {self.cashins:,} cash-ins, {self.audit:,} audit rows"


POSTGRES_SIZE = Size(1_000_000, 200_000, 2_000_000)
SQLITE_SIZE = Size(100_000, 20_000, 200_000)


@dataclass
class Seeded:
    size: Size
    now: datetime
    staff: list[int]
    bill_ref: str = ""
    deep_bill: int = 0
    deep_cashin: int = 0
    deep_audit: int = 0
    public_token: str = ""
    holder_word: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


# --- rows -----------------------------------------------------------------------------------


def _ages(rng: random.Random, count: int) -> list[float]:
    """Seconds before now, oldest first (ids grow with time as in real use); denser lately."""
    span = SPAN_DAYS * 86_400
    return sorted((span * rng.random() ** 0.8 for _ in range(count)), reverse=True)


def _cashin_rows(count: int, staff: list[int], now: datetime) -> Iterator[dict[str, Any]]:
    rng = random.Random(20_261_205)
    first = [
        "Aline",
        "Fabrice",
        "Claude",
        "Divine",
        "Eric",
        "Nadine",
        "Jean",
        "Chantal",
        "Pacifique",
        "Olivier",
    ]
    last = [
        "Niyonzima",
        "Bigirimana",
        "Ndayishimiye",
        "Irakoze",
        "Hakizimana",
        "Nshimirimana",
        "Kaneza",
    ]
    people = [f"{f} {ln}" for f in first for ln in last]
    accountants = staff[: max(len(staff) // 3, 1)]
    ages = _ages(rng, count)
    recent = sum(age < RECENT for age in ages)
    states = [
        *rng.choices(
            [s.value for s, _ in CASHIN_STATES], [w for _, w in CASHIN_STATES], k=count - recent
        ),
        *rng.choices(
            [s.value for s, _ in RECENT_CASHIN_STATES],
            [w for _, w in RECENT_CASHIN_STATES],
            k=recent,
        ),
    ]
    for i, (age, status) in enumerate(zip(ages, states, strict=True)):
        created = now - timedelta(seconds=age)
        slug, name = rng.choice(BANKS)
        amount = min(max(round(rng.lognormvariate(10, 1.1) / 100) * 100, 500), 5_000_000)
        done = status in ("succeeded", "failed", "unknown")
        yield {
            "merchant_reference": f"C{created:%y%m%d}-{bills_list._suffix(i)}",
            "bank_slug": slug,
            "bank_name": name,
            "account": f"{rng.randrange(10**9, 10**10)}",
            "holder_name": rng.choice(people),
            "holder_check": "confirmed",
            "amount": amount,
            "description": "Refund" if i % 3 else "Supplier payout",
            "reason": "refund" if i % 3 else "payout",
            "status": status,
            "needs_approval": status == "awaiting_approval",
            "created_by_id": rng.choice(accountants),
            "created_at": created,
            "updated_at": created,
            "submitted_at": created + timedelta(seconds=20) if done else None,
            "completed_at": created + timedelta(seconds=22) if done else None,
            "gateway_reference": f"CI{i:09d}" if status == "succeeded" else None,
        }


def _audit_rows(count: int, staff: list[int], now: datetime) -> Iterator[dict[str, Any]]:
    rng = random.Random(20_261_206)
    actions = rng.choices(range(len(ACTIONS)), [w for *_, w in ACTIONS], k=count)
    for i, (age, which) in enumerate(zip(_ages(rng, count), actions, strict=True)):
        action, kind, _ = ACTIONS[which]
        person = rng.choice(staff)
        failed = action == "auth.login_failed"
        obj = {
            "bill": f"B{i % 997:06d}",
            "cashin": f"C{i % 991:06d}",
            "setting": "CASHIN_MAX_AMOUNT",
            "user": str(person),
        }.get(kind or "")
        yield {
            "created_at": now - timedelta(seconds=age),
            "actor_id": None if failed else person,
            "actor_label": f"typo{i % 50}@example.com" if failed else f"staff{person}@shop.bi",
            "action": action,
            "object_type": kind,
            "object_id": obj,
            "remote_addr": f"10.0.{i % 7}.{i % 250}",
            "summary": "",
            "details": None,
        }


def _table(model: Any) -> Table:
    table = model.__table__.to_metadata(MetaData())
    for column in table.c:
        if isinstance(column.type, JSON):
            column.type = JSON(none_as_null=True)
    return table


def _chunks(rows: Iterator[dict[str, Any]], size: int = 5_000) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _copy(conn: Any, table: Table, rows: Iterator[dict[str, Any]]) -> None:
    """COPY the rows in (PostgreSQL); JSON as text, datetimes as aware values."""
    raw = conn.connection.driver_connection
    columns: list[str] | None = None
    with raw.cursor() as cursor:
        copy_cm: Any = None
        copy: Any = None
        for row in rows:
            if columns is None:
                columns = list(row)
                names = ", ".join(columns)
                copy_cm = cursor.copy(f"COPY {table.name} ({names}) FROM STDIN")
                copy = copy_cm.__enter__()
            copy.write_row(
                [json.dumps(v) if isinstance(v, dict) else v for v in (row[c] for c in columns)]
            )
        if copy_cm is not None:
            copy_cm.__exit__(None, None, None)


RECOUNT = [
    "DELETE FROM bill_day_totals",
    "DELETE FROM bill_month_totals",
    "DELETE FROM cashin_day_totals",
    "DELETE FROM cashin_month_totals",
    "DELETE FROM cashin_banks",
    "INSERT INTO bill_day_totals (day, status, issued_by_id, bills, amount)"
    " SELECT (created_at AT TIME ZONE 'UTC')::date, status, issued_by_id, count(*), sum(amount)"
    " FROM bills GROUP BY 1, 2, 3",
    "INSERT INTO bill_month_totals (month, status, issued_by_id, bills, amount)"
    " SELECT date_trunc('month', day)::date, status, issued_by_id, sum(bills), sum(amount)"
    " FROM bill_day_totals GROUP BY 1, 2, 3",
    "INSERT INTO cashin_day_totals (day, status, reason, cashins, amount)"
    " SELECT (created_at AT TIME ZONE 'UTC')::date, status, reason, count(*), sum(amount)"
    " FROM cashins GROUP BY 1, 2, 3",
    "INSERT INTO cashin_month_totals"
    " (month, status, reason, bank_slug, created_by_id, cashins, amount)"
    " SELECT date_trunc('month', created_at AT TIME ZONE 'UTC')::date, status, reason,"
    " bank_slug, created_by_id, count(*), sum(amount) FROM cashins GROUP BY 1, 2, 3, 4, 5",
    "INSERT INTO cashin_banks (slug, name)"
    " SELECT bank_slug, max(bank_name) FROM cashins GROUP BY bank_slug",
    "DELETE FROM bill_all_time_totals",
    "DELETE FROM cashin_all_time_totals",
    "INSERT INTO bill_all_time_totals (status, issued_by_id, bills, amount)"
    " SELECT status, issued_by_id, sum(bills), sum(amount) FROM bill_month_totals GROUP BY 1, 2",
    "INSERT INTO cashin_all_time_totals"
    " (status, reason, bank_slug, created_by_id, cashins, amount)"
    " SELECT status, reason, bank_slug, created_by_id, sum(cashins), sum(amount)"
    " FROM cashin_month_totals GROUP BY 1, 2, 3, 4",
]


def _role(n: int) -> Role:
    """staff0 the admin (the audit trail), staff1..3 accountants, the others cashiers."""
    return Role.ADMIN if n == 0 else Role.ACCOUNTANT if n < 4 else Role.CASHIER


def seed(app: Flask, report: Report, size: Size) -> Seeded:
    now = datetime.now(UTC)
    started = time.perf_counter()
    staff = [make_user(app, f"staff{n}@shop.bi", _role(n)) for n in range(STAFF)]
    seeded = Seeded(size, now, staff)
    bills = bills_list._bill_rows(size.bills, staff[0], now, span_days=SPAN_DAYS, issuers=staff)
    cashins = _cashin_rows(size.cashins, staff, now)
    audit = _audit_rows(size.audit, staff, now)
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        with db.engine.begin() as conn:
            if postgres:
                for name in ("bills", "cashins", "audit_events"):
                    conn.exec_driver_sql(f"ALTER TABLE {name} DISABLE TRIGGER USER")
                _copy(conn, _table(Bill), (row for chunk in bills for row in chunk))
                _copy(conn, _table(Cashin), cashins)
                _copy(conn, _table(AuditEvent), audit)
                for name in ("bills", "cashins", "audit_events"):
                    conn.exec_driver_sql(f"ALTER TABLE {name} ENABLE TRIGGER USER")
                for statement in RECOUNT:
                    conn.exec_driver_sql(statement)
                for index in (BILL_TEXT, CASHIN_TEXT, WHO_TEXT):  # the search samples
                    conn.exec_driver_sql(f"DELETE FROM {index.sample_table}")  # noqa: S608 - ours
                    conn.execute(
                        text(f"INSERT INTO {index.sample_table} {index.sample_rows_sql()}")
                    )
            else:
                for chunk in bills:
                    conn.execute(insert(_table(Bill)), chunk)
                for rows in _chunks(cashins):
                    conn.execute(insert(_table(Cashin)), rows)
                for rows in _chunks(audit):
                    conn.execute(insert(_table(AuditEvent)), rows)
        if postgres:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
                # A shop's database has long been written out; a checkpoint of the load falling
                # in the timed rounds would be one page's 10x p95. (A superuser's or
                # pg_checkpoint's right: without it the run goes on and says so.)
                try:
                    conn.exec_driver_sql("CHECKPOINT")
                except DBAPIError:
                    report.line("  (no CHECKPOINT after the load: this role may not run it)")
        seeded.seconds = time.perf_counter() - started
        newest = (Bill.created_at.desc(), Bill.id.desc())
        deep = DEEP_STEPS * PAGE
        seeded.deep_bill = (
            db.session.scalar(select(Bill.id).order_by(*newest).offset(deep).limit(1)) or 0
        )
        seeded.deep_cashin = (
            db.session.scalar(
                select(Cashin.id)
                .order_by(Cashin.created_at.desc(), Cashin.id.desc())
                .offset(deep)
                .limit(1)
            )
            or 0
        )
        seeded.deep_audit = (
            db.session.scalar(
                select(AuditEvent.id)
                .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
                .offset(deep)
                .limit(1)
            )
            or 0
        )
        seeded.bill_ref = (
            db.session.scalar(
                select(Bill.merchant_reference).order_by(Bill.id).offset(size.bills // 2).limit(1)
            )
            or ""
        )
        seeded.public_token = (
            db.session.scalar(
                select(Bill.public_token)
                .where(Bill.status == BillState.PAID)
                .order_by(Bill.id.desc())
                .limit(1)
            )
            or ""
        )
        db.session.remove()
    report.figure(
        f"seed {size}",
        f"{seeded.seconds:.0f} s ("
        + ("COPY, triggers off, summaries recounted" if postgres else "bulk inserts, triggers on")
        + ")",
    )
    return seeded


# --- cases ----------------------------------------------------------------------------------


def cases(seeded: Seeded, zone: str) -> list[tuple[str, str, str]]:
    """(name, role, path): role 'a' an accountant, 'c' a cashier, 'x' the admin (the audit
    trail is theirs), '-' nobody logged in."""
    today = seeded.now.astimezone(ZoneInfo(zone)).date()
    month_ago = today - timedelta(days=29)
    last_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    fragment = seeded.bill_ref[2:9].lower()
    span = f"from={month_ago}&to={today}"
    cashier = seeded.staff[-1]
    accountant = seeded.staff[1]
    return [
        ("floor: /reports/", "a", FLOOR),
        ("overview, accountant", "a", "/"),
        ("overview, cashier", "c", "/"),
        ("bills: first page", "a", "/bills/"),
        ("bills: status=pending", "a", "/bills/?status=pending"),
        ("bills: status=unknown", "a", "/bills/?status=unknown"),
        ("bills: issued_by (one person)", "a", f"/bills/?issued_by={cashier}"),
        ("bills: last 30 days", "a", f"/bills/?{span}"),
        ("bills: q=aline (broad)", "a", "/bills/?q=aline"),
        ("bills: q=<part of a reference>", "a", f"/bills/?q={fragment}"),
        ("bills: q=sacks+of (description)", "a", "/bills/?q=sacks+of"),
        ("bills: q=zzqx (finds nothing)", "a", "/bills/?q=zzqx"),
        ("bills: 50 pages deep", "a", f"/bills/?older={seeded.deep_bill}"),
        ("cash-ins: first page", "a", "/cashins/"),
        ("cash-ins: status=succeeded", "a", "/cashins/?status=succeeded"),
        ("cash-ins: needs checking", "a", "/cashins/?status=needs_checking"),
        ("cash-ins: bank=BCB", "a", "/cashins/?bank=BCB"),
        ("cash-ins: prepared_by", "a", f"/cashins/?prepared_by={accountant}"),
        ("cash-ins: reason=payout", "a", "/cashins/?reason=payout"),
        ("cash-ins: last 30 days", "a", f"/cashins/?{span}"),
        ("cash-ins: q=aline (broad)", "a", "/cashins/?q=aline"),
        ("cash-ins: q=kaneza, bank=BCB", "a", "/cashins/?q=kaneza&bank=BCB"),
        ("cash-ins: q=zzqx (finds nothing)", "a", "/cashins/?q=zzqx"),
        ("cash-ins: 50 pages deep", "a", f"/cashins/?older={seeded.deep_cashin}"),
        ("approvals", "a", "/cashins/approvals"),
        ("audit: first page", "x", "/admin/audit"),
        ("audit: person", "x", f"/admin/audit?person={accountant}"),
        ("audit: who=typo (failed logins)", "x", "/admin/audit?who=typo"),
        ("audit: action=cashin.", "x", "/admin/audit?action=cashin."),
        ("audit: object=setting", "x", "/admin/audit?object_type=setting"),
        ("audit: last 30 days", "x", f"/admin/audit?{span}"),
        ("audit: 50 pages deep", "x", f"/admin/audit?older={seeded.deep_audit}"),
        ("payer's return page", "-", f"/pay/return/{seeded.public_token}"),
        ("export bills, month: first byte", "a", f"/reports/bills.csv?month={last_month}"),
        ("export cash-ins, month: first byte", "a", f"/reports/cashins.csv?month={last_month}"),
        ("export bills, filtered: first byte", "a", "/reports/bills/filtered.csv?q=aline"),
        ("export cash-ins, filtered: first byte", "a", "/reports/cashins/filtered.csv?bank=BCB"),
    ]


def _first_byte(session: requests.Session, url: str) -> float:
    """Milliseconds to the first byte of the body; the rest is read (not timed), so the one
    worker is free again before the next request."""
    started = time.perf_counter()
    with session.get(url, stream=True, timeout=120) as response:
        chunks = response.iter_content(65_536)
        next(chunks, b"")
        ms = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise BenchSetupError(f"GET {url}: HTTP {response.status_code}")
        for _ in chunks:
            pass
    return ms


@dataclass
class Timing:
    median: float
    p95: float


def time_pages(
    url: str,
    gateway_url: str,
    seeded: Seeded,
    zone: str,
    rounds: int,
    only: tuple[str, ...] = (),
) -> dict[str, Timing]:
    """Ratios to the floor of each case: medians and p95 of ``rounds`` interleaved rounds.
    ``only``: substrings of the case names to time (the floor always); empty for all."""
    listed = cases(seeded, zone)
    if only:
        listed = [listed[0], *(c for c in listed[1:] if any(o in c[0] for o in only))]
    samples: dict[str, list[float]] = {name: [] for name, _, _ in listed}
    with bills_list._gunicorn(url, gateway_url) as base:
        sessions = {
            "a": bills_list._login(base, "staff1@shop.bi"),
            "c": bills_list._login(base, f"staff{STAFF - 1}@shop.bi"),
            "x": bills_list._login(base, "staff0@shop.bi"),
            "-": requests.Session(),
        }
        for name, role, path in listed:  # warm-up, and each page is what it says it is
            response = sessions[role].get(base + path, timeout=300)
            if response.status_code != 200 or not response.url.endswith(path):
                raise BenchSetupError(
                    f"{name}: GET {path} -> {response.status_code} {response.url}"
                )
        for _ in range(rounds):
            for name, role, path in listed:
                if "first byte" in name:
                    samples[name].append(_first_byte(sessions[role], base + path))
                    continue
                started = time.perf_counter()
                sessions[role].get(base + path, timeout=300)
                samples[name].append((time.perf_counter() - started) * 1000)
    floor = samples[listed[0][0]]
    floor_median, floor_p95 = statistics.median(floor), percentile(floor, 0.95)
    timings = {"floor ms": Timing(floor_median, floor_p95)}
    for name, _, _ in listed[1:]:
        timings[name] = Timing(
            statistics.median(samples[name]) / floor_median,
            percentile(samples[name], 0.95) / floor_p95,
        )
    return timings


# --- the run ----------------------------------------------------------------------------------


def _run_one(
    url: str,
    gateway_url: str,
    report: Report,
    size: Size,
    rounds: int,
    only: tuple[str, ...] = (),
) -> dict[str, Timing]:
    migrate_database(url)
    app = create_app(app_config(url, gateway_url))
    try:
        seeded = seed(app, report, size)
        zone = app.config["BABEL_DEFAULT_TIMEZONE"]
        return time_pages(url, gateway_url, seeded, zone, rounds, only)
    finally:
        with app.app_context():
            db.engine.dispose()


def _postgres_urls() -> tuple[str, str] | None:
    url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if not url:
        return None
    name = make_url(url).database or ""
    if not name.startswith("bench"):
        raise BenchSetupError(f"Refusing to wipe database {name!r}: not named bench*.")
    # Databases of their own: the run's database (the other sections') stays as it is.
    full, tenth = (
        make_url(url).set(database=name + suffix).render_as_string(hide_password=False)
        for suffix in ("_scale", "_scale_tenth")
    )
    return full, tenth


def print_table(
    report: Report,
    title: str,
    sizes: tuple[Size, Size],
    runs: tuple[dict[str, Timing], dict[str, Timing]],
) -> int:
    small, big = runs
    if not small:  # --sizes full: the tenth not run
        small = {name: Timing(float("nan"), float("nan")) for name in big}
    report.line("")
    report.line(f"== {title} ==")
    report.line(
        f"floor /reports/: median {small['floor ms'].median:.1f} / {big['floor ms'].median:.1f} ms,"
        f" p95 {small['floor ms'].p95:.1f} / {big['floor ms'].p95:.1f} ms (tenth / full)"
    )
    report.line(
        f"{'page (ratio to the floor)':<42} {'tenth p50':>9} {'p95':>6}   "
        f"{'full p50':>8} {'p95':>6}  target {TARGET:.0f}x"
    )
    over = 0
    for name, timing in big.items():
        if name == "floor ms":
            continue
        low = small[name]
        ok = timing.median <= TARGET and timing.p95 <= TARGET
        over += not ok
        report.line(
            f"  {name:<40} {low.median:>8.2f}x {low.p95:>5.2f}x   {timing.median:>7.2f}x"
            f" {timing.p95:>5.2f}x  {'ok' if ok else 'OVER'}"
        )
    report.line(f"  {len(big) - 1 - over} of {len(big) - 1} within {TARGET:.0f}x (median and p95)")
    return over


def bench_scale(
    report: Report,
    *,
    tmpdir: str,
    gateway_url: str,
    rounds: int,
    factor: float = 1.0,
    only: tuple[str, ...] = (),
    tenth: bool = True,
    kinds: tuple[str, ...] = ("PostgreSQL", "SQLite"),
) -> None:
    """SQLite always, PostgreSQL when BENCH_DATABASE_URL is set; each at a tenth and in full.
    ``only`` narrows the cases, ``tenth=False`` skips the tenth, ``kinds`` the databases
    (for development)."""
    report.section("every page at scale (gunicorn, 1 worker; ratio to the floor page)")
    try:
        load = os.getloadavg()
        report.line(
            f"machine load before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs"
        )
    except OSError:
        pass
    targets: list[tuple[str, str, str, Size]] = []
    pg = _postgres_urls()
    if pg:
        size = _scaled(POSTGRES_SIZE, factor)
        targets.append(("PostgreSQL", pg[1], pg[0], size))
    sqlite = "sqlite:///" + os.path.join(tmpdir, "scale-{}.sqlite3")
    targets.append(
        ("SQLite", sqlite.format("tenth"), sqlite.format("full"), _scaled(SQLITE_SIZE, factor))
    )
    for kind, tenth_url, full_url, size in targets:
        if kind not in kinds:
            continue
        report.line(f"-- {kind}: {describe(full_url)}")
        small = (
            _run_one(tenth_url, gateway_url, report, size.tenth(), rounds, only) if tenth else {}
        )
        big = _run_one(full_url, gateway_url, report, size, rounds, only)
        print_table(
            report, f"{kind}: {size} (and a tenth of it)", (size.tenth(), size), (small, big)
        )


def _scaled(size: Size, factor: float) -> Size:
    return Size(int(size.bills * factor), int(size.cashins * factor), int(size.audit * factor))


# --- a bill's issue and reload: the app's own work ------------------------------------------

ACTION_BUDGET_MS = 15.0


def bench_actions(report: Report, app: Flask, sandbox_url: str, email: str, reps: int = 15) -> None:
    """Issue and reload a bill with no network delay; the app's own work is each action's time
    minus the time its gateway calls took (the sandbox answers in this same process)."""
    from bench import latency

    waited: list[float] = []
    original = requests.Session.send

    def send(self: requests.Session, request: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return original(self, request, **kwargs)
        finally:
            waited.append((time.perf_counter() - started) * 1000)

    def make(gateway: str) -> Flask:
        return create_app(app_config(app.config["SQLALCHEMY_DATABASE_URI"], gateway))

    report.section("a bill's issue / reload, no network delay: the app's own work")
    requests.Session.send = send  # type: ignore[method-assign]
    try:
        samples, _ = latency._run(make, sandbox_url, email, 0.0, reps)
    finally:
        requests.Session.send = original  # type: ignore[method-assign]
    # Each action makes one gateway call (its median is the gateway's share of an action).
    gateway_share = statistics.median(waited) if waited else 0.0
    for action, rows in samples.items():
        times = [ms for ms, _ in rows]
        own = statistics.median(times) - gateway_share
        verdict = "ok" if own <= ACTION_BUDGET_MS else "OVER"
        report.timing(
            f"{action} a bill (0 ms round trip)",
            times,
            note=f"app's own work {own:.1f} ms (target ≤ {ACTION_BUDGET_MS:.0f} ms) {verdict};"
            f" its gateway call {gateway_share:.1f} ms",
        )
