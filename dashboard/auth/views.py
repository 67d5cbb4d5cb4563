"""Log in and out."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from flask_wtf import FlaskForm

from dashboard.audit import client_address
from dashboard.auth import services
from dashboard.auth.forms import LoginForm
from dashboard.db import db
from dashboard.models import User
from dashboard.security import clear_session

bp = Blueprint("auth", __name__)
PENDING_KEY = "two_factor_pending"  # who typed the right password and owes a code


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    # CR/LF would split the Location header; no control character belongs in a path we send.
    if any(ord(char) < 32 or 127 <= ord(char) < 160 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def home_for(user: User) -> str:
    return url_for("home")  # the overview, for every role


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
    if form.validate_on_submit():
        config = current_app.config
        try:
            user = services.authenticate(
                form.email.data or "",
                form.password.data or "",
                address=client_address(),
                limits=services.LoginLimits(
                    free_failures=config["LOGIN_FREE_FAILURES"],
                    free_failures_known=config["LOGIN_FREE_FAILURES_KNOWN_ADDRESS"],
                    failures_per_address=config["LOGIN_FAILURES_PER_ADDRESS"],
                    first_delay_seconds=config["LOGIN_FIRST_DELAY_SECONDS"],
                    max_delay_seconds=config["LOGIN_MAX_DELAY_SECONDS"],
                    window_minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"],
                ),
            )
        except services.AccountError as exc:
            form.password.errors = [exc.message]
            status = 429 if isinstance(exc, services.LoginThrottled) else 401
            return render_template("auth/login.html", form=form), status
        if user.two_factor_enabled:
            return start_code_step(user, form.next.data)
        clear_session()  # a fresh session at every login (no fixation)
        session.permanent = True
        login_user(user)
        flash(_("Welcome, %(name)s.", name=user.name), "success")
        return redirect(safe_next(form.next.data) or home_for(user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


def start_code_step(user: User, next_url: str | None) -> ResponseReturnValue:
    """After a right password: remember who is half-way in (this grants no page), ask the code."""
    clear_session()
    session[PENDING_KEY] = {
        "user": user.id,
        "nonce": user.login_nonce,
        "at": time.time(),
        "next": safe_next(next_url) or "",
    }
    return redirect(url_for("two_factor.login_code"), 303)


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> ResponseReturnValue:
    services.record_logout(current_user)
    logout_user()
    clear_session()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/lang")
def set_language() -> ResponseReturnValue:
    """Remember the language a person chose (French or English), then go back where they were."""
    if not FlaskForm().validate_on_submit():  # only the CSRF token, like every other form
        abort(400)
    lang = request.form.get("lang", "")
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
        if current_user.is_authenticated:  # their e-mails follow the language they chose
            current_user.language = lang
            db.session.commit()
    return redirect(safe_next(request.form.get("next")) or url_for("home"), 303)


@bp.post("/session/keep-alive")
@login_required
def keep_alive() -> ResponseReturnValue:
    """The idle warning's *Stay signed in*: this request itself counts as activity."""
    return "", 204
