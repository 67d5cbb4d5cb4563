"""The app's one iHela client, built from configuration on first use.

Its circuit breaker keeps its state in the database (``gateway_breaker``, one row), so every
worker and every server learns at once that iHela is down, and each change of that state is one
atomic statement. The client itself knows nothing of Flask or databases: the store is injected.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from flask import Flask, current_app
from sqlalchemy import Engine, Table, and_, case, func, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from dashboard.db import UTCDateTime, db
from dashboard.ihela import BreakerState, CircuitBreaker, IhelaClient
from dashboard.models import GatewayBreaker

log = logging.getLogger("dashboard.ihela")

_lock = threading.Lock()
_ROW = 1
T = TypeVar("T")


class DatabaseBreakerStore:
    """The breaker's state in one row, read and changed on connections of its own.

    Its own short transactions, never the request's session: a failure is recorded even when the
    request rolls back, and nothing waits on the request's locks for long. A database error
    counts as "closed": the breaker only ever saves time, it never stops a call by mistake.
    """

    def __init__(self, engine: Callable[[], Engine]) -> None:
        self._get_engine = engine
        self._engine: Engine | None = None
        self._table: Table = GatewayBreaker.__table__  # type: ignore[assignment]
        self._select = select(self._table).where(self._table.c.id == _ROW)  # read each call

    def _run(self, step: Callable[..., T], fallback: T, *, one_statement: bool = False) -> T:
        """``step`` in a transaction of its own; ``one_statement``: a step of a single
        statement, which needs none (no BEGIN and COMMIT around it: two round trips)."""
        try:
            if self._engine is None:
                self._engine = self._get_engine()
            if one_statement:
                with self._engine.connect() as connection:
                    connection.execution_options(isolation_level="AUTOCOMMIT")
                    return step(connection)
            with self._engine.begin() as connection:
                return step(connection)
        except SQLAlchemyError as exc:
            log.warning("gateway breaker state unavailable: %s", type(exc).__name__)
            return fallback

    def load(self) -> BreakerState:
        return self._run(self._load_with, BreakerState(), one_statement=True)

    def record_failure(self, now: datetime, threshold: int, cooldown: timedelta) -> BreakerState:
        table = self._table

        def step(connection: object) -> BreakerState:
            execute = connection.execute  # type: ignore[attr-defined]
            changed = execute(
                update(table)
                .where(table.c.id == _ROW)
                .values(
                    failures=table.c.failures + 1,
                    down_since=func.coalesce(table.c.down_since, _moment(now)),
                    open_until=case(
                        (table.c.failures + 1 >= threshold, _moment(now + cooldown)),
                        else_=table.c.open_until,
                    ),
                )
            ).rowcount
            if not changed:
                try:
                    with connection.begin_nested():  # type: ignore[attr-defined]
                        execute(
                            insert(table).values(
                                id=_ROW,
                                failures=1,
                                down_since=now,
                                open_until=now + cooldown if threshold <= 1 else None,
                            )
                        )
                except IntegrityError:  # another worker inserted it: count on its row
                    return step(connection)
            return self._load_with(connection)

        return self._run(step, BreakerState())

    def _load_with(self, connection: object) -> BreakerState:
        row = connection.execute(self._select).first()  # type: ignore[attr-defined]
        if row is None:
            return BreakerState()
        return BreakerState(row.failures, row.down_since, row.open_until)

    def record_success(self) -> None:
        table = self._table

        def step(connection: object) -> None:
            connection.execute(  # type: ignore[attr-defined]
                update(table)
                .where(
                    table.c.id == _ROW,
                    or_(table.c.failures > 0, table.c.open_until.is_not(None)),
                )
                .values(failures=0, down_since=None, open_until=None)
            )

        self._run(step, None)

    def claim_probe(self, now: datetime, cooldown: timedelta) -> bool:
        table = self._table

        def step(connection: object) -> bool:
            claimed = connection.execute(  # type: ignore[attr-defined]
                update(table)
                .where(and_(table.c.id == _ROW, table.c.open_until <= now))
                .values(open_until=now + cooldown)
            ).rowcount
            return bool(claimed)

        return self._run(step, True)


def _moment(value: datetime) -> Any:
    return literal(value, UTCDateTime())


def gateway(app: Flask | None = None) -> IhelaClient:
    """The shared client (thread-safe; its token cache is the only per-process state)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    client: IhelaClient | None = app.extensions.get("ihela_client")
    if client is None:
        with _lock:
            client = app.extensions.get("ihela_client")
            if client is None:
                config = app.config
                breaker = CircuitBreaker(
                    DatabaseBreakerStore(lambda: _engine(app)),
                    threshold=int(config["IHELA_BREAKER_THRESHOLD"]),
                    cooldown=float(config["IHELA_BREAKER_COOLDOWN_SECONDS"]),
                )
                client = IhelaClient(
                    config["IHELA_BASE_URL"],
                    config["IHELA_CLIENT_ID"],
                    config["IHELA_CLIENT_SECRET"],
                    connect_timeout=float(config["IHELA_CONNECT_TIMEOUT"]),
                    read_timeout=float(config["IHELA_READ_TIMEOUT"]),
                    api=str(config["IHELA_API"]),
                    # From the environment a PIN of digits arrives as a number.
                    pin=None if config["IHELA_PIN"] in (None, "") else str(config["IHELA_PIN"]),
                    breaker=breaker,
                )
                app.extensions["ihela_client"] = client
    return client


def _engine(app: Flask) -> Engine:
    with app.app_context():
        return db.engine
