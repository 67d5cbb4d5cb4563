"""``python -m bench``: run every benchmark once and print the figures."""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time

from bench import bills_list, scale
from bench.breaker import bench_breaker
from bench.bytes import bench_bytes
from bench.coalescing import bench_coalescing
from bench.customers import bench_customers
from bench.env import (
    BenchSetupError,
    app_config,
    database_url,
    describe,
    make_user,
    migrate_database,
)
from bench.gateway import bench_client
from bench.harness import Report
from bench.latency import bench_latency
from bench.memory import bench_memory
from dashboard import create_app
from dashboard.db import db
from dashboard.models import Role
from dashboard.sandbox.server import start_sandbox

EMAIL = "bench.cashier@example.com"
SECTIONS = (
    "scale",
    "bills",
    "gateway",
    "breaker",
    "coalescing",
    "memory",
    "latency",
    "bytes",
    "customers",
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000, help="bills to insert (100000)")
    parser.add_argument(
        "--only",
        default=",".join(SECTIONS),
        help=f"comma-separated sections to run, from {','.join(SECTIONS)}",
    )
    parser.add_argument(
        "--customers", type=int, default=100_000, help="customers to insert (100000)"
    )
    parser.add_argument(
        "--scale-factor",
        type=float,
        default=1.0,
        help="the scale section's sizes times this (1: 1 000 000 bills on PostgreSQL, "
        "100 000 on SQLite, and a tenth of each)",
    )
    parser.add_argument(
        "--rounds", type=int, default=25, help="interleaved rounds of the scale section (25)"
    )
    parser.add_argument(
        "--cases",
        default="",
        help="scale section: comma-separated parts of case names to time (the floor always)",
    )
    parser.add_argument(
        "--no-tenth", action="store_true", help="scale section: skip the tenth-size run"
    )
    parser.add_argument(
        "--db",
        default="PostgreSQL,SQLite",
        help="scale section: PostgreSQL, SQLite or both (PostgreSQL needs BENCH_DATABASE_URL)",
    )
    parser.add_argument(
        "--no-actions", action="store_true", help="scale section: skip the bill actions"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the query plans of every list_bills() case"
    )
    args = parser.parse_args(argv)
    args.only = {s.strip() for s in args.only.split(",") if s.strip()}
    unknown = args.only - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections: {', '.join(sorted(unknown))}")
    return args


def run(args: argparse.Namespace) -> None:
    started = time.perf_counter()
    tmpdir = tempfile.mkdtemp(prefix="dashboard-bench-")
    report = Report()
    try:
        url = database_url(tmpdir)
        report.line(
            f"Python {platform.python_version()} on {platform.system()}, "
            f"{os.cpu_count()} CPUs; database {describe(url)}"
        )
        migrate_database(url)
        with start_sandbox() as sandbox:
            app = create_app(app_config(url, sandbox.url))
            user_id = make_user(app, EMAIL)
            report.line(f"sandbox gateway {sandbox.url}")
            report.line("")
            if "scale" in args.only:
                scale.bench_scale(
                    report,
                    tmpdir=tmpdir,
                    gateway_url=sandbox.url,
                    rounds=args.rounds,
                    factor=args.scale_factor,
                    only=tuple(c.strip() for c in args.cases.split(",") if c.strip()),
                    tenth=not args.no_tenth,
                    kinds=tuple(k.strip() for k in args.db.split(",") if k.strip()),
                )
                if not args.no_actions:
                    scale.bench_actions(report, app, sandbox.url, EMAIL)
            if "bills" in args.only:
                bills_list.bench_lists(
                    app,
                    url,
                    report,
                    rows=args.rows,
                    tmpdir=tmpdir,
                    gateway_url=sandbox.url,
                    explain_all=args.explain,
                )
            if "gateway" in args.only:
                bench_client(sandbox.url, report)
            if "breaker" in args.only:
                make_down = lambda gateway: create_app(app_config(url, gateway))  # noqa: E731
                bench_breaker(app, make_down, report, user_id=user_id, email=EMAIL)
            if "coalescing" in args.only:
                bench_coalescing(app, report, sandbox.url, user_id=user_id, email=EMAIL)
            if "memory" in args.only:
                bench_memory(app, report, email=EMAIL)
            if "latency" in args.only:
                make = lambda gateway: create_app(app_config(url, gateway))  # noqa: E731
                bench_latency(make, report, sandbox.url, EMAIL)
            if "bytes" in args.only:
                accountant = "bench.accountant@example.com"
                make_user(app, accountant, Role.ACCOUNTANT)
                bench_bytes(
                    report,
                    database_url=url,
                    gateway_url=sandbox.url,
                    cashier=EMAIL,
                    accountant=accountant,
                )
            if "customers" in args.only:
                bench_customers(app, report, url=url, gateway_url=sandbox.url, count=args.customers)
            with app.app_context():
                db.engine.dispose()
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)
    report.line("")
    report.line(f"whole run: {time.perf_counter() - started:.1f} s")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        run(args)
    except BenchSetupError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
