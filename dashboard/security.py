"""Roles, idle sessions and response headers."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user
from werkzeug.datastructures import MultiDict
from werkzeug.routing import IntegerConverter, Map
from werkzeug.wrappers import Response

from dashboard.extensions import login_manager
from dashboard.models import Role

P = ParamSpec("P")
R = TypeVar("R")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


MAX_ID = 2**31 - 1  # ids are INTEGER columns: the largest PostgreSQL stores (larger: a 404)


class IdConverter(IntegerConverter):
    """``<id:name>``: a positive integer a database can hold (larger ones are a plain 404)."""

    def __init__(self, url_map: Map) -> None:
        super().__init__(url_map, min=1, max=MAX_ID)


def id_from_text(text: str | None) -> int | None:
    """A positive id from text a person or a form sent; None for anything else."""
    if text and re.fullmatch(r"[0-9]{1,18}", text) and 0 < int(text) <= MAX_ID:
        return int(text)
    return None


def id_arg(name: str) -> int | None:
    return id_from_text(request.args.get(name))


def clear_session() -> None:
    """Forget everything about the session (login, CSRF, flashes) except the chosen language
    and a form that could not be sent because the session had ended (see keep_unsent_form)."""
    kept = {key: session[key] for key in ("lang", UNSENT_FORM) if key in session}
    session.clear()
    session.update(kept)


UNSENT_FORM = "unsent_form"
_NOT_KEPT = re.compile(r"csrf|token|password|secret|^next$", re.IGNORECASE)
_KEPT_CHARACTERS = 2000  # the session is a cookie: keep it well under 4 KB


def keep_unsent_form(user_id: int) -> str | None:
    """Keep what was typed in a form whose submit met an ended session, to fill it in again
    after the same person logs in (never passwords or one-time tokens). Returns the form's
    page, or None when there was nothing worth keeping."""
    fields = typed_fields()
    if not fields:
        return None
    page = form_page()
    session[UNSENT_FORM] = {"user": user_id, "page": page, "fields": fields}
    return page


def typed_fields() -> dict[str, str]:
    """What a person typed into the posted form: no passwords, tokens or CSRF, size-limited."""
    fields: dict[str, str] = {}
    size = 0
    for name, value in request.form.items():
        if _NOT_KEPT.search(name) or len(name) > 60:
            continue
        value = value[:500]
        size += len(name) + len(value)
        if size > _KEPT_CHARACTERS:
            break
        fields[name] = value
    return fields


def form_page() -> str:
    """The page a posted form was on (its POST-only address would answer 405 after login)."""
    came_from = urlsplit(request.headers.get("HX-Current-URL") or request.referrer or "")
    if came_from.path.startswith("/") and came_from.netloc in ("", request.host):
        return came_from.path
    return request.path


def unsent_form_for_this_page() -> dict[str, str] | None:
    """The fields to fill in again on this page for this person, once."""
    kept = session.get(UNSENT_FORM)
    if not isinstance(kept, dict) or request.method != "GET":
        return None
    if not current_user.is_authenticated or kept.get("user") != current_user.id:
        return None
    if kept.get("page") != request.path:
        return None
    session.pop(UNSENT_FORM, None)
    fields = kept.get("fields")
    return fields if isinstance(fields, dict) else None


def to_login() -> Response:
    """Send the person to the login page; for a partial (htmx) request, the whole page goes."""
    if request.headers.get("HX-Request") == "true":
        # The page the person is on, not the fragment's address, is where to come back to.
        current = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = current.path + (f"?{current.query}" if current.query else "")
        target = url_for("auth.login", next=back or None)
        return Response("", status=401, headers={"HX-Redirect": target})
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def roles_required(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Let in logged-in users with one of ``roles`` (admins always); others get the 403 page."""

    def decorator(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()  # type: ignore[attr-defined,no-any-return]
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _has_nul(values: MultiDict[str, str]) -> bool:
    return any("\x00" in key or "\x00" in value for key, value in values.items(multi=True))


def init_app(app: Flask) -> None:
    app.url_map.converters["id"] = IdConverter

    @login_manager.unauthorized_handler
    def unauthorized() -> Response:
        # The front door (``/``) is where everyone starts: the login page, no "log in to see
        # this page" as if something had been refused.
        if request.headers.get("HX-Request") != "true" and request.endpoint != "home":
            flash(_("Please log in to see this page."), "info")
        if request.method == "POST" and typed_fields():
            # Whose session it was is unknown here, so nothing typed is kept: say so at least.
            flash(_("The form you sent was not saved."), "warning")
            if request.headers.get("HX-Request") != "true":
                return redirect(url_for("auth.login", next=form_page()))
        return to_login()

    @app.before_request
    def refuse_nul_characters() -> None:
        """No address, search or form field has a NUL in it (PostgreSQL cannot even store
        one): such a request is a plain 400, before any view reads it."""
        if "\x00" in request.path or _has_nul(request.args):
            abort(400)
        if request.mimetype in _FORM_TYPES and _has_nul(request.form):
            abort(400)

    @app.before_request
    def end_idle_sessions() -> Response | None:
        if not current_user.is_authenticated:
            return None
        now = time.time()
        last_seen = session.get("last_seen")
        idle_limit = app.config["IDLE_TIMEOUT_MINUTES"] * 60
        if isinstance(last_seen, int | float) and now - last_seen > idle_limit:
            user_id = current_user.id
            logout_user()
            clear_session()
            flash(
                _("Your session ended after a period of inactivity. Please log in again."), "info"
            )
            page = keep_unsent_form(user_id) if request.method == "POST" else None
            if page is not None:
                flash(_("The form you sent was not saved."), "warning")
                if request.headers.get("HX-Request") != "true":
                    return redirect(url_for("auth.login", next=page))
            return to_login()
        # Background polling (htmx status checks) must not keep an abandoned session alive.
        # Touched at most once a minute: the cookie is re-sent only when the session changes.
        stale = not isinstance(last_seen, int | float) or now - last_seen >= 60
        if request.headers.get("X-Poll") != "1" and stale:
            session["last_seen"] = int(now)
        return None

    @app.after_request
    def security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if current_user.is_authenticated:
            headers.setdefault("Cache-Control", "no-store")
        return response
