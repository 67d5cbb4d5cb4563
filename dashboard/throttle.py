"""Throttles: "may this key try now? then count the try" as one atomic step in the database.

Every limit on guessing or flooding (passwords, two-factor codes, the customer display's pairing
code, payment callbacks) goes through :func:`claim`. A row per key holds how many tries were
counted and when the last one was; a try is counted *before* it is checked (as if it failed) by a
conditional UPDATE on the row's version, so of any number of requests arriving together, on one
server or many, exactly as many get through as the rule allows. A try that turned out right (the
right password, a pairing code that matched) is given back with :func:`forgive` or :func:`clear`
(those are written by the caller's commit; :func:`claim` commits at once).

The rule of a key (:class:`Rule`): ``free`` tries, then a wait after each further try of
``first_delay`` seconds doubling up to ``max_delay``; a key untouched for ``window`` forgets its
tries. With ``first_delay == max_delay`` it is a plain "so many per window" limit.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from dashboard.db import db, utcnow
from dashboard.models import Throttle

_ATTEMPTS = 200  # compare-and-swap rounds before giving up (each lost round means another won)


@dataclass(frozen=True)
class Rule:
    free: int  # tries counted before any wait
    first_delay: float  # seconds after the first try past ``free``, then doubling …
    max_delay: float  # … up to this
    window: timedelta  # a key idle this long starts again from zero

    def wait_after(self, tries: int, last: datetime, now: datetime) -> float:
        """Seconds still to wait after ``tries`` counted tries, the last at ``last``."""
        if tries < self.free:
            return 0.0
        delay = min(self.first_delay * 2.0 ** min(tries - self.free, 30), self.max_delay)
        return delay - (now - last).total_seconds()


def key(kind: str, *parts: object) -> str:
    """The row key of a throttled thing: its kind and a digest of what it is about (an e-mail
    and an address, an account id …), so any text a client sends fits and stays out of sight."""
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass"))
    return f"{kind}:{digest.hexdigest()[:40]}"


class ThrottleBusy(RuntimeError):
    """The compare-and-swap never won (cannot happen unless the database misbehaves)."""


def _insert(key: str, now: datetime) -> bool:
    """Add the key's row with this first try; False when another request added it first."""
    values = {"key": key, "tries": 1, "last_at": now, "version": 1}
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(Throttle).values(values).on_conflict_do_nothing()
    elif dialect == "sqlite":
        stmt = sqlite.insert(Throttle).values(values).on_conflict_do_nothing()  # type: ignore[assignment]
    else:  # pragma: no cover - the dashboard runs on PostgreSQL or SQLite
        raise NotImplementedError(dialect)
    return db.session.execute(stmt.returning(Throttle.key)).first() is not None


def claim(key: str, rule: Rule) -> int:
    """Count one try for ``key`` if the rule allows it now: 0 then, else the seconds to wait.

    Commits at once (so the count holds across requests, processes and servers): call it before
    the request changes anything. Each round is a read and a conditional write on the row's
    version; a round lost to another request reads again (and then usually has to wait).
    """
    key = key[:200]
    columns = (Throttle.tries, Throttle.last_at, Throttle.version)
    for _ in range(_ATTEMPTS):
        now = utcnow()
        row = db.session.execute(select(*columns).where(Throttle.key == key)).one_or_none()
        if row is None:
            won = _insert(key, now)
            db.session.commit()
            if won:
                return 0
            continue  # another request inserted it first: read it
        last = row.last_at
        tries = 0 if now - last > rule.window else row.tries
        wait = rule.wait_after(tries, last, now)
        if wait > 0:
            db.session.commit()  # ends the read (and the caller's snapshot on PostgreSQL)
            return max(1, math.ceil(wait))
        result = db.session.execute(
            update(Throttle)
            .where(Throttle.key == key, Throttle.version == row.version)
            .values(tries=tries + 1, last_at=now, version=row.version + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return 0
    raise ThrottleBusy(key)


def forgive(key: str) -> None:
    """Give back one counted try (it turned out right, or another limit turned it away).

    Part of the caller's transaction: written by its commit, with what it records."""
    db.session.execute(
        update(Throttle)
        .where(Throttle.key == key[:200], Throttle.tries > 0)
        .values(tries=Throttle.tries - 1, version=Throttle.version + 1)
        .execution_options(synchronize_session=False)
    )


def clear(key: str) -> None:
    """Forget every try of ``key`` (the person proved who they are); the caller commits."""
    db.session.execute(
        update(Throttle)
        .where(Throttle.key == key[:200])
        .values(tries=0, version=Throttle.version + 1)
        .execution_options(synchronize_session=False)
    )
