"""Two-factor sign-in: the code step of the login, enrolment, and the admins' controls."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any, ParamSpec

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required, login_user
from sqlalchemy import select

from dashboard import messages as msg
from dashboard.admin.forms import EmptyForm
from dashboard.auth import services, twofactor
from dashboard.auth.forms import (
    CodeForm,
    DisableTwoFactorForm,
    EnrolPasswordForm,
    TwoFactorPolicyForm,
)
from dashboard.auth.views import PENDING_KEY, home_for, safe_next
from dashboard.db import db
from dashboard.models import Role, User
from dashboard.security import clear_session, roles_required

bp = Blueprint("two_factor", __name__)
P = ParamSpec("P")


def login_limits() -> services.LoginLimits:
    config = current_app.config
    return services.LoginLimits(
        free_failures=config["LOGIN_FREE_FAILURES"],
        free_failures_known=config["LOGIN_FREE_FAILURES_KNOWN_ADDRESS"],
        failures_per_address=config["LOGIN_FAILURES_PER_ADDRESS"],
        first_delay_seconds=config["LOGIN_FIRST_DELAY_SECONDS"],
        max_delay_seconds=config["LOGIN_MAX_DELAY_SECONDS"],
        window_minutes=config["LOGIN_FAILURE_WINDOW_MINUTES"],
    )


def _pending_user() -> User | None:
    pending = session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    age = time.time() - float(pending.get("at") or 0)
    if age > current_app.config["TWO_FACTOR_CODE_STEP_MINUTES"] * 60:
        return None
    user: User | None = db.session.scalar(select(User).where(User.id == pending.get("user")))
    if user is None or not user.active or not user.two_factor_enabled:
        return None
    if user.login_nonce != pending.get("nonce"):
        return None  # the password changed, or an admin reset it, since
    return user


def _relogin(user: User) -> None:
    """Keep this session after the nonce changed (which ended every other one)."""
    login_user(user)


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    user = _pending_user()
    if user is None:
        session.pop(PENDING_KEY, None)
        flash(_("Log in again with your e-mail and password."), "info")
        return redirect(url_for("auth.login"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            method = twofactor.verify_code(user, form.code.data or "", limits=login_limits())
        except services.AccountError as exc:
            form.code.errors = [exc.message]
            status = 429 if isinstance(exc, services.LoginThrottled) else 401
            return render_template("auth/code.html", form=form), status
        next_url = session[PENDING_KEY].get("next") or None
        clear_session()  # a fresh session at every login (no fixation)
        session.permanent = True
        login_user(user)
        services.record_login(user, summary=msg.coded("audit.logged_in_2fa", method=method))
        flash(_("Welcome, %(name)s.", name=user.name), "success")
        if method == "recovery":
            left = twofactor.recovery_codes_left(user)
            flash(
                ngettext(
                    "You used a recovery code; %(num)d is left.",
                    "You used a recovery code; %(num)d are left.",
                    left,
                ),
                "warning",
            )
        return redirect(safe_next(next_url) or home_for(user))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/code.html", form=form), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def settings() -> ResponseReturnValue:
    """Enrol (password, then QR or key, confirm with a code) or see the state and turn it off."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    next_url = safe_next(request.values.get("next"))
    form = CodeForm()
    secret = None
    if not user.two_factor_enabled and form.validate_on_submit():
        try:
            codes = twofactor.confirm_enrolment(user, form.code.data or "")
        except services.AccountError as exc:
            form.code.errors = [exc.message]
            secret = twofactor.pending_secret(user)  # the same attempt: its key again
            if secret is None:
                flash(_("Type your password again to get a new key."), "info")
        else:
            _relogin(user)
            response = make_response(
                render_template("auth/recovery_codes.html", codes=codes, next_url=next_url)
            )
            response.headers["Cache-Control"] = "no-store"  # shown once, never from a cache
            return response
    status = 400 if form.errors else 200
    return _settings_page(
        user, form, DisableTwoFactorForm(formdata=None), next_url, status, secret=secret
    )


@bp.post("/account/two-factor/start")
@login_required
def start() -> ResponseReturnValue:
    """The password again, then a new key for this enrolment attempt (never shown on a GET)."""
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    next_url = safe_next(request.values.get("next"))
    if user.two_factor_enabled:
        return redirect(url_for("two_factor.settings"), 303)
    password_form = EnrolPasswordForm()
    status, secret = 400, None
    if password_form.validate_on_submit():
        try:
            secret = twofactor.begin_enrolment(
                user, password_form.password.data or "", limits=login_limits()
            )
            status = 200
        except services.AccountError as exc:
            password_form.password.errors = [exc.message]
            status = 429 if isinstance(exc, services.LoginThrottled) else 401
    return _settings_page(
        user,
        CodeForm(formdata=None),
        DisableTwoFactorForm(formdata=None),
        next_url,
        status,
        secret=secret,
        password_form=password_form,
    )


def _settings_page(
    user: User,
    form: CodeForm,
    disable_form: DisableTwoFactorForm,
    next_url: str | None,
    status: int = 200,
    *,
    secret: str | None = None,
    password_form: EnrolPasswordForm | None = None,
) -> ResponseReturnValue:
    context: dict[str, Any] = {
        "form": form,
        "disable_form": disable_form,
        "password_form": password_form or EnrolPasswordForm(formdata=None),
        "next_url": next_url,
        "required": twofactor.required_for(user.role),
    }
    if user.two_factor_enabled:
        context["codes_left"] = twofactor.recovery_codes_left(user)
    elif secret is not None:
        context["secret"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
        context["qr"] = twofactor.qr_data_uri(twofactor.provisioning_uri(user, secret))
    response = make_response(render_template("auth/two_factor.html", **context), status)
    response.headers["Cache-Control"] = "no-store"  # the page may show the secret
    return response


@bp.post("/account/two-factor/disable")
@login_required
def disable() -> ResponseReturnValue:
    user: User = current_user._get_current_object()  # type: ignore[attr-defined]
    form = DisableTwoFactorForm()
    status = 400
    if user.two_factor_enabled and form.validate_on_submit():
        try:
            twofactor.disable(
                user, form.password.data or "", form.code.data or "", limits=login_limits()
            )
        except services.AccountError as exc:
            getattr(form, exc.field or "code").errors = [exc.message]
            status = 429 if isinstance(exc, services.LoginThrottled) else 401
        else:
            _relogin(user)
            flash(_("Two-factor sign-in is off. Enrol again below, e.g. with a new phone."), "info")
            return redirect(url_for("two_factor.settings"), 303)
    return _settings_page(user, CodeForm(formdata=None), form, None, status)


@bp.route("/admin/two-factor", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def policy() -> ResponseReturnValue:
    """Which roles must use two-factor before they can send money."""
    form = TwoFactorPolicyForm()
    if form.validate_on_submit():
        required = {role.value for role in Role if getattr(form, role.value).data}
        changed = twofactor.set_policies(required, by=current_user)
        if changed:
            flash(_("Two-factor rules saved."), "success")
        else:
            flash(_("Nothing changed."), "info")
        return redirect(url_for("two_factor.policy"), 303)
    if request.method == "GET":
        for role, is_required in twofactor.policies().items():
            getattr(form, role.value).data = is_required
    users = list(db.session.scalars(select(User).where(User.active).order_by(User.name)))
    return render_template("auth/two_factor_policy.html", form=form, users=users)


@bp.post("/admin/users/<id:user_id>/two-factor/reset")
@roles_required(Role.ADMIN)
def admin_reset(user_id: int) -> ResponseReturnValue:
    """An admin removes someone's two-factor (a lost phone); they enrol again after logging in."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    twofactor.reset(user, by=current_user)
    if user.id == current_user.id:
        _relogin(user)
    flash(
        _("Two-factor sign-in of %(name)s was reset; they can enrol again.", name=user.name),
        "success",
    )
    return redirect(url_for("admin.users"), 303)


def two_factor_to_send_money(
    view: Callable[P, ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    """Refuse to send or approve money for a role that must use two-factor and has not enrolled."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_user.is_authenticated and not twofactor.may_send_money(current_user):
            # The page says why (once); the flash says only what did not happen.
            flash(_("Nothing was sent."), "warning")
            cashin_id = kwargs.get("cashin_id")
            back = url_for("cashins.detail", cashin_id=cashin_id) if cashin_id else None
            return redirect(url_for("two_factor.settings", next=back), 303)
        return view(*args, **kwargs)

    return wrapped
