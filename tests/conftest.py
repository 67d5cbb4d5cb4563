"""Fixtures shared by every test layer: a migrated database, the app, users, the sandbox gateway."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from dashboard import create_app
from dashboard.db import db
from dashboard.models import Role, User

if TYPE_CHECKING:
    from dashboard.sandbox.server import RunningSandbox

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

# Modules whose tests run once per iHela API shape (the sandbox serves all three at once);
# a module can also opt in with ``pytestmark = pytest.mark.both_dialects``.
BOTH_DIALECTS = frozenset(
    {
        "tests.http.test_bills",
        "tests.http.test_cashins",
        "tests.gateway.test_client_errors",
    }
)
SANDBOX_PIN = "1234"  # the sandbox's default merchant PIN (v2)
# Sandbox paths of each operation, without trailing slash (fault paths are prefixes).
API_PATHS = {
    "v1": {
        "bill init": "/api/v1/payments/bill/init",
        "bill verify": "/api/v1/payments/bill/verify",
        "bank list": "/api/v1/payments/bank",
        "lookup": "/api/v1/bank/",
        "cash-in": "/api/v1/payments/cash-in",
    },
    "v2": {
        "bill init": "/api/v2/payments/bill-init",
        "bill verify": "/api/v2/payments/bill-check",
        "bank list": "/api/v2/payments/bank",
        "lookup": "/api/v2/bank/",
        "cash-in": "/api/v2/payments/cash-in",
        "operation status": "/api/v2/operations/status",
    },
    # As the published ihela-sdk 0.4.0 calls it: the v2 bodies on api/v1 paths.
    "v2-on-v1": {
        "bill init": "/api/v1/payments/bill-init",
        "bill verify": "/api/v1/payments/bill-check",
        "bank list": "/api/v1/payments/bank",
        "lookup": "/api/v1/bank/",
        "cash-in": "/api/v1/payments/cash-in",
        "operation status": "/ihela/api/v1/transaction-status",
    },
}
# Every shape a merchant's gateway may speak (DASHBOARD_IHELA_API).
DIALECTS = list(API_PATHS)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dialect" not in metafunc.fixturenames:
        return
    if any(
        m.args and m.args[0] == "dialect" for m in metafunc.definition.iter_markers("parametrize")
    ):
        return  # the test names its dialect itself
    if metafunc.module.__name__ in BOTH_DIALECTS or metafunc.definition.get_closest_marker(
        "both_dialects"
    ):
        metafunc.parametrize("dialect", DIALECTS)


@pytest.fixture()
def dialect() -> str:
    """The iHela API generation the app speaks: v1, or both in the modules listed above."""
    return "v1"


@pytest.fixture()
def api_path(dialect: str) -> Callable[[str], str]:
    """The sandbox path of an operation ("bill init", "cash-in" ...) in this test's dialect."""
    return lambda operation: API_PATHS[dialect][operation]


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[RunningSandbox]:
    """One sandbox gateway on loopback for the whole run; reset before each test that uses it."""
    from dashboard.sandbox.server import start_sandbox

    with start_sandbox() as running:
        yield running


@pytest.fixture()
def sandbox(sandbox_server: RunningSandbox) -> RunningSandbox:
    """The sandbox gateway, back to its fixtures (no bills, no faults, fresh clock)."""
    requests.post(sandbox_server.url + "_sandbox/reset", timeout=5).raise_for_status()
    return sandbox_server


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """SQLite by default; PostgreSQL when TEST_DATABASE_URL is set. Migrated once per run."""
    url = os.environ.get("TEST_DATABASE_URL") or "sqlite:///" + str(
        Path(tmp_path_factory.mktemp("db")) / "test.sqlite3"
    )
    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    from flask_migrate import upgrade

    app = create_app(_test_config(url, "http://127.0.0.1:9/"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def _test_config(url: str, gateway: str, dialect: str = "v1", **extra: Any) -> dict[str, Any]:
    return {
        "TESTING": True,
        "IHELA_API": dialect,
        "IHELA_PIN": None if dialect == "v1" else SANDBOX_PIN,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "IHELA_BASE_URL": gateway,
        "IHELA_READ_TIMEOUT": 3.0,
        "IHELA_CONNECT_TIMEOUT": 2.0,
        "SERVER_NAME": None,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast hashing, tests only
        "BABEL_DEFAULT_LOCALE": "en",  # the suite reads English; test_i18n.py reads French
        "PUBLIC_URL": "http://dashboard.test",
        # Tests about money log in without two-factor; tests/*/test_two_factor*.py turn it on.
        "TWO_FACTOR_DEFAULT_REQUIRED_ROLES": (),
        # Jobs wait in the database (tests run them with run_due_jobs, or start a worker).
        "QUEUE_URL": "memory://",
        **extra,
    }


def _wipe(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture()
def make_app(
    database_url: str, request: pytest.FixtureRequest, dialect: str
) -> Iterator[Callable[..., Flask]]:
    """Build an app on the test database with config overrides; every row is wiped afterwards."""
    made: list[Flask] = []

    def factory(**overrides: Any) -> Flask:
        # Only tests that talk to the gateway start the sandbox (and they ask for `sandbox`).
        gateway = (
            request.getfixturevalue("sandbox_server").url
            if "sandbox" in request.fixturenames or "sandbox_server" in request.fixturenames
            else "http://127.0.0.1:9/"
        )
        app = create_app(_test_config(database_url, gateway, dialect, **overrides))
        made.append(app)
        return app

    yield factory
    for app in made:
        _wipe(app)


@pytest.fixture()
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


class WebClient:
    """A test client that behaves like a person's browser: it reads CSRF tokens off pages."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._csrf: str | None = None

    def csrf(self) -> str:
        if self._csrf is None:
            page = self.client.get("/login", follow_redirects=True).get_data(as_text=True)
            match = CSRF_INPUT.search(page)
            assert match, "no CSRF token on the login page"
            self._csrf = match.group(1)
        return self._csrf

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        form = {"csrf_token": self.csrf(), **(data or {})}
        return self.client.post(url, data=form, **kwargs)

    def login(self, email: str, password: str = PASSWORD, **kwargs: Any) -> Any:
        response = self.post("/login", {"email": email, "password": password}, **kwargs)
        self._csrf = None  # a login starts a new session, with a new token
        return response

    def logout(self) -> Any:
        response = self.post("/logout")
        self._csrf = None
        return response


@pytest.fixture()
def web(app: Flask) -> WebClient:
    return WebClient(app.test_client())


@pytest.fixture()
def make_user(app: Flask) -> Callable[..., User]:
    from dashboard.auth import services

    def factory(
        role: Role | str,
        email: str | None = None,
        name: str | None = None,
        password: str = PASSWORD,
    ) -> User:
        role = Role(role)
        with app.app_context():
            user = services.create_user(
                email or f"{role.value}@example.com",
                name or f"Test {role.label}",
                role,
                password,
                by_label="test",
            )
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return factory


@pytest.fixture()
def staff(make_user: Callable[..., User]) -> dict[str, User]:
    """One person of each role, plus a second accountant for approvals."""
    return {
        "cashier": make_user(Role.CASHIER),
        "accountant": make_user(Role.ACCOUNTANT),
        "accountant2": make_user(Role.ACCOUNTANT, "accountant2@example.com", "Second Accountant"),
        "admin": make_user(Role.ADMIN),
    }


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than a second")
    config.addinivalue_line("markers", "both_dialects: run once per iHela API generation")


def run_jobs(app: Flask) -> int:
    """Run the background jobs that wait, here and now, as a worker would (tests with no worker)."""
    from dashboard.background.jobs import run_due_jobs

    with app.app_context():
        try:
            return run_due_jobs()
        finally:
            db.session.remove()
