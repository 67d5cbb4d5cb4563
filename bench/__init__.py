"""Benchmarks that print figures (``make bench`` / ``python -m bench``); not tests.

Everything runs on loopback: the dashboard through Flask's test client, the gateway client
against the sandbox gateway started in this process. The database is a temporary SQLite file,
or ``BENCH_DATABASE_URL`` (PostgreSQL, on a database whose name starts with ``bench``).
"""
