"""Customers at 100 000: the payer suggestions (what a cashier's every keystroke costs) and the
directory, each beside the floor page over HTTP, in interleaved rounds."""

from __future__ import annotations

import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from flask import Flask
from sqlalchemy import func, insert, select

from bench.bills_list import FLOOR, TARGET, _gunicorn, _login
from bench.env import BenchSetupError, make_user
from bench.harness import Report, percentile, timed
from dashboard.customers.services import terms_of
from dashboard.db import db
from dashboard.models import Customer, CustomerIdentifier, CustomerTerm, Role

EMAIL = "bench.customers@example.com"
FIRST = ["Aline", "Claude", "Fabrice", "Divine", "Jean", "Marie", "Eric", "Grace", "Pascal", "Ange"]
LAST = [
    "Niyonzima",
    "Ndayishimiye",
    "Bigirimana",
    "Irakoze",
    "Hakizimana",
    "Nshimirimana",
    "Ndikumana",
    "Niyonkuru",
    "Manirakiza",
    "Ntahomvukiye",
]


def seed(app: Flask, report: Report, *, count: int) -> None:
    """``count`` customers, each with an e-mail and a phone, a name for two in three."""
    rng = random.Random(19)
    now = datetime.now(UTC)

    def run() -> None:
        with app.app_context():
            done = 0
            while done < count:
                size = min(5000, count - done)
                customers, identifiers, terms = [], [], []
                for n in range(done, done + size):
                    first, last = rng.choice(FIRST), rng.choice(LAST)
                    name = f"{last} {first}" if n % 3 else None
                    email = f"{first}.{last}.{n}@example.com".lower()
                    phone = f"{6 + n % 2}{n:07d}"  # unique 8-digit Burundi numbers
                    at = now - timedelta(minutes=n)
                    cid = n + 1
                    customers.append(
                        {
                            "id": cid,
                            "name": name,
                            "created_at": at,
                            "first_bill_at": at,
                            "last_bill_at": at,
                            "bills_count": 1 + n % 5,
                            "paid_amount": 1000 * (n % 50),
                        }
                    )
                    pairs = [("email", email), ("phone", phone)]
                    identifiers += [{"customer_id": cid, "kind": k, "value": v} for k, v in pairs]
                    terms += [{"term": t, "customer_id": cid} for t in terms_of(name, pairs)]
                db.session.execute(insert(Customer), customers)
                db.session.execute(insert(CustomerIdentifier), identifiers)
                db.session.execute(insert(CustomerTerm), terms)
                db.session.commit()
                done += size
            if db.engine.dialect.name == "postgresql":
                with db.engine.connect() as conn:
                    conn.exec_driver_sql("ANALYZE customers; ANALYZE customer_terms")

    ms, _ = timed(run)
    with app.app_context():
        terms = db.session.scalar(select(func.count()).select_from(CustomerTerm)) or 0
    report.line(f"seeded {count:,} customers ({terms:,} search terms) in {ms / 1000:.1f} s")


def bench_customers(
    app: Flask, report: Report, *, url: str, gateway_url: str, count: int, rounds: int = 25
) -> None:
    report.section(f"customers at {count:,}: suggestions and directory, p95 ratio to the floor")
    make_user(app, EMAIL, Role.ACCOUNTANT)
    seed(app, report, count=count)
    with app.app_context():
        deep = db.session.scalar(
            select(Customer.id).order_by(Customer.last_bill_at.desc()).offset(count // 2).limit(1)
        )
    paths = [
        ("floor: GET /reports/ (the cheapest page)", FLOOR),
        ("suggest ?q=al (two letters, broad)", "/customers/suggest?q=al"),
        ("suggest ?q=niyonzima (a name)", "/customers/suggest?q=niyonzima"),
        ("suggest ?q=niyo al (two words)", "/customers/suggest?q=niyo%20al"),
        ("suggest ?q=7000 (phone digits)", "/customers/suggest?q=7000"),
        ("suggest ?q=zz (nothing)", "/customers/suggest?q=zz"),
        ("/customers/ first page", "/customers/"),
        ("/customers/?q=aline", "/customers/?q=aline"),
        (f"/customers/?older=.. (deep: {count // 2:,} down)", f"/customers/?older={deep}"),
    ]
    samples: dict[str, list[float]] = {path: [] for _, path in paths}
    with _gunicorn(url, gateway_url) as base:
        session = _login(base, EMAIL)
        for _, path in paths:
            response = session.get(base + path, timeout=60)
            if response.status_code != 200:
                raise BenchSetupError(f"GET {path}: HTTP {response.status_code}")
        for _ in range(rounds):
            for _, path in paths:
                started = time.perf_counter()
                session.get(base + path, timeout=60)
                samples[path].append((time.perf_counter() - started) * 1000)
    floor_p95 = percentile(samples[FLOOR], 0.95)
    floor_p50 = statistics.median(samples[FLOOR])
    for name, path in paths:
        if path == FLOOR:
            report.timing(name, samples[path], note="the 1.0x of the ratios")
            continue
        ratio = percentile(samples[path], 0.95) / floor_p95
        verdict = "ok" if ratio <= TARGET else "OVER"
        report.timing(
            name,
            samples[path],
            note=f"p95 {ratio:.2f}x floor (target ≤ {TARGET:.0f}x) {verdict}; "
            f"p50 {statistics.median(samples[path]) / floor_p50:.2f}x",
        )
