"""Declarative base with a naming convention (so Alembic names constraints the same everywhere)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, also on SQLite (which forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use datetime.now(UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


db = SQLAlchemy(model_class=Base)


def utcnow() -> datetime:
    return datetime.now(UTC)


def commit_keeping(*objects: object | None) -> None:
    """Commit, keeping ``objects`` as they are in memory; everything else is expired as usual.

    A plain commit expires every loaded object, so the next read of any of them is a SELECT:
    for a request that goes on to show the bill it just wrote and the person who wrote it,
    two reads of rows it already holds. Keep only objects whose every change in this
    transaction went through the ORM (or was copied onto them, as ``set_committed_value``
    does): a row changed by a Core UPDATE would keep stale values. No server default or
    trigger writes a column of the row it fires on, so a kept object is what a read would give.
    """
    session = db.session()
    kept = {id(_held(obj)) for obj in objects if obj is not None}
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True
    for obj in list(session.identity_map.values()):
        if id(obj) not in kept:
            session.expire(obj)


def _held(obj: object) -> object:
    """The object itself, or the one a proxy (flask_login's ``current_user``) stands for."""
    unwrap = getattr(obj, "_get_current_object", None)
    return unwrap() if callable(unwrap) else obj
