"""Writing the audit trail. Callers commit together with the change they record."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from sqlalchemy import Table, insert

from dashboard.db import db
from dashboard.models import AuditEvent, User

_TABLE: Table = AuditEvent.__table__  # type: ignore[assignment]
_ADD = insert(_TABLE)  # built once: each run binds its values


def client_address() -> str | None:
    """The address the request came from (behind a proxy, ProxyFix makes this the client's)."""
    if not has_request_context():
        return None
    return request.remote_addr


def record(
    action: str,
    *,
    actor: User | None = None,
    actor_label: str | None = None,
    object_type: str | None = None,
    object_id: object = None,
    summary: str = "",
    details: dict[str, Any] | None = None,
    now: bool = False,
) -> AuditEvent | None:
    """Add an audit event to the session (the caller's commit writes it with the change).
    ``now``: written at once by one INSERT of the row (no object, no flush; returns None), for a
    caller already writing in its transaction and committing next. Without it the row waits for
    the caller's flush: it opens no transaction that a gateway call would then keep open."""
    columns = _columns(action, actor, actor_label, object_type, object_id, summary, details)
    if now:
        db.session.execute(_ADD, columns)
        return None
    event = AuditEvent(**columns)
    db.session.add(event)
    return event


def _columns(
    action: str,
    actor: User | None,
    actor_label: str | None,
    object_type: str | None,
    object_id: object,
    summary: str,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "actor_id": actor.id if actor is not None else None,
        "actor_label": actor_label or (actor.email if actor is not None else "system"),
        "action": action,
        "object_type": object_type,
        "object_id": None if object_id is None else str(object_id),
        "remote_addr": client_address(),
        "summary": summary,
        "details": details,
    }
