"""The database, the sandbox gateway, the app and a logged-in browser-like client."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import sys
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

from dashboard import create_app
from dashboard.db import db
from dashboard.models import Role, User

PASSWORD = "quiet river lantern 1234"  # noqa: S105 - a throwaway account in a temporary database
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


class BenchSetupError(RuntimeError):
    """The benchmark cannot run on what it was given."""


def database_url(tmpdir: str) -> str:
    """``BENCH_DATABASE_URL`` when set, else a SQLite file in ``tmpdir``."""
    url = os.environ.get("BENCH_DATABASE_URL", "").strip()
    if not url:
        return "sqlite:///" + os.path.join(tmpdir, "bench.sqlite3")
    if not url.startswith("postgresql"):
        raise BenchSetupError("BENCH_DATABASE_URL must be a postgresql+psycopg:// URL.")
    name = make_url(url).database or ""
    if not name.startswith("bench"):
        raise BenchSetupError(
            f"Refusing to wipe database {name!r}: its name must start with 'bench'."
        )
    host = urlsplit(url.replace("+psycopg", "")).hostname or ""
    if host not in {"127.0.0.1", "localhost", "::1"}:
        raise BenchSetupError("BENCH_DATABASE_URL must point at a loopback server.")
    return url


def describe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def app_config(url: str, gateway_url: str, **extra: Any) -> dict[str, Any]:
    """As tests/conftest.py's _test_config."""
    return {
        "TESTING": True,
        "SECRET_KEY": "bench-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "IHELA_BASE_URL": gateway_url,
        "IHELA_READ_TIMEOUT": 10.0,
        "IHELA_CONNECT_TIMEOUT": 2.0,
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing, benchmarks only
        **extra,
    }


def _ensure_postgres_database(url: str) -> None:
    """Create the (bench*) database when missing, then give it an empty public schema."""
    engine = create_engine(url)
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        name = make_url(url).database
        admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def migrate_database(url: str) -> None:
    """An empty database at the latest migration (PostgreSQL: the schema is dropped first)."""
    if url.startswith("postgresql"):
        _ensure_postgres_database(url)
    from flask_migrate import upgrade

    app = create_app(app_config(url, "http://127.0.0.1:9/"))
    chatter = io.StringIO()
    try:
        with app.app_context(), contextlib.redirect_stderr(chatter):
            upgrade()
            db.engine.dispose()
    except Exception:
        sys.stderr.write(chatter.getvalue())
        raise
    finally:
        _unhook(chatter)


def _unhook(stream: io.StringIO) -> None:
    """Alembic's logging config binds its handlers to the stderr of the moment (our buffer, which
    keeps its INFO lines out of the table): point them back at the real stderr."""
    loggers = [logging.getLogger(), *logging.root.manager.loggerDict.values()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and handler.stream is stream:
                handler.setStream(sys.stderr)


def make_user(app: Flask, email: str, role: Role = Role.CASHIER) -> int:
    from dashboard.auth import services

    with app.app_context():
        user: User = services.create_user(email, "Bench Cashier", role, PASSWORD, by_label="bench")
        return user.id


class Browser:
    """A test client that logs in like a person: it reads the CSRF token off the login page."""

    def __init__(self, app: Flask) -> None:
        self.client: FlaskClient = app.test_client()

    def login(self, email: str, password: str = PASSWORD) -> Browser:
        page = self.client.get("/login").get_data(as_text=True)
        match = CSRF_INPUT.search(page)
        if not match:
            raise BenchSetupError("No CSRF token on the login page.")
        form = {"csrf_token": match.group(1), "email": email, "password": password}
        response = self.client.post("/login", data=form)
        if response.status_code not in (302, 303):
            raise BenchSetupError(f"Login failed: HTTP {response.status_code}.")
        return self

    def get(self, path: str) -> Any:
        response = self.client.get(path)
        if response.status_code != 200:
            raise BenchSetupError(f"GET {path}: HTTP {response.status_code}.")
        return response
