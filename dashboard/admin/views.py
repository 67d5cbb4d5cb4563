"""Staff accounts and the audit trail (admins only)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from dashboard import audit, search
from dashboard.admin.audit_filter import (
    KNOWN_ACTIONS,
    OBJECT_TYPES,
    AuditFilter,
    object_links,
    object_type_label,
)
from dashboard.admin.forms import EmptyForm, NewUserForm, SettingsForm, UserRoleForm
from dashboard.auth import services
from dashboard.background import jobs, periodic
from dashboard.background.queue import background_health, queue_of
from dashboard.db import db
from dashboard.gateway import gateway
from dashboard.ihela.check import check_gateway
from dashboard.labels import role_label
from dashboard.messages import coded
from dashboard.models import AuditEvent, Role, User
from dashboard.paging import keyset_page
from dashboard.security import id_arg, roles_required
from dashboard.settings import (
    SPECS,
    SettingsError,
    env_name,
    locked_settings,
    save_settings,
    saved_rows,
    setting,
)

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
@roles_required(Role.ADMIN)
def admins_only() -> None:
    return None


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


@bp.route("/users", methods=["GET", "POST"])
def users() -> ResponseReturnValue:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                form.email.data or "",
                form.name.data or "",
                form.role.data or "",
                form.password.data or "",
                by=current_user,
            )
        except services.AccountError as exc:
            for problem in exc.all:
                field = getattr(form, problem.field or "email")
                field.errors = [*field.errors, problem.message]
        else:
            flash(
                _(
                    "%(name)s can now log in as %(role)s.",
                    name=user.name,
                    role=role_label(user.role).lower(),
                ),
                "success",
            )
            return redirect(url_for("admin.users"))
    status = 400 if form.errors else 200
    return render_template(
        "admin/users.html",
        users=services.list_users(),
        form=form,
        role_form=UserRoleForm(),
        action_form=EmptyForm(),
        password_errors={},
    ), status


@bp.post("/users/<id:user_id>/password")
def reset_password(user_id: int) -> ResponseReturnValue:
    """An admin gives a staff member a new password (their open sessions end)."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    user = _user_or_404(user_id)
    try:
        services.set_password(user, request.form.get("password", ""), by=current_user)
    except services.AccountError as exc:
        return render_template(
            "admin/users.html",
            users=services.list_users(),
            form=NewUserForm(formdata=None),
            role_form=UserRoleForm(),
            action_form=EmptyForm(),
            password_errors={user.id: exc.message},
        ), 422
    flash(_("%(name)s has a new password; tell it to them in person.", name=user.name), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/active")
def toggle_active(user_id: int) -> ResponseReturnValue:
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    user = _user_or_404(user_id)
    try:
        services.set_active(user, request.form.get("active") == "1", by=current_user)
    except services.AccountError as exc:
        flash(exc.message, "danger")
    else:
        if user.active:
            flash(_("%(name)s is now active.", name=user.name), "success")
        else:
            flash(_("%(name)s is now inactive.", name=user.name), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<id:user_id>/role")
def change_role(user_id: int) -> ResponseReturnValue:
    form = UserRoleForm()
    if not form.validate_on_submit():
        flash(_("Choose cashier, accountant or admin."), "danger")
        return redirect(url_for("admin.users"))
    user = _user_or_404(user_id)
    try:
        services.set_role(user, form.role.data or "", by=current_user)
    except services.AccountError as exc:
        flash(exc.message, "danger")
    else:
        flash(
            _("%(name)s is now %(role)s.", name=user.name, role=role_label(user.role).lower()),
            "success",
        )
    return redirect(url_for("admin.users"))


@bp.get("/audit")
def audit_trail() -> ResponseReturnValue:
    found = AuditFilter.from_args(request.args, current_app.config["BABEL_DEFAULT_TIMEZONE"])
    # Counted up to COUNT_BOUND: past it the page says "more than 1 000" (filters narrow it).
    total, query, known = found.bounded()
    listed = keyset_page(
        query,
        (AuditEvent.created_at, AuditEvent.id),
        size=current_app.config["PAGE_SIZE"],
        older=id_arg("older"),
        newer=id_arg("newer"),
        known=known,
    )
    return render_template(
        "admin/audit.html",
        events=listed.rows,
        listed=listed,
        total=search.COUNT_BOUND if total is None else total,
        total_known=total is not None,
        filters=found,
        people=services.list_users(),
        links=object_links(listed.rows),
        object_type_label=object_type_label,
        known_actions=KNOWN_ACTIONS,
        object_types=OBJECT_TYPES,
    )


@bp.route("/settings", methods=["GET", "POST"])
def settings_page() -> ResponseReturnValue:
    """Limits and merchant name; a setting the environment gives is shown locked."""
    locked = locked_settings()
    form = SettingsForm()
    for key in locked:
        del form[key.lower()]  # a forged value for it is never read
    if request.method == "GET":
        for spec in SPECS:
            if spec.key not in locked:
                value = setting(spec.key)
                form[spec.key.lower()].data = bool(value) if spec.is_switch else str(value)
    elif form.validate_on_submit():
        new: dict[str, int | str | bool] = {}
        for spec in SPECS:
            if spec.key in locked:
                continue
            entry = form[spec.key.lower()]
            if spec.is_switch:
                new[spec.key] = bool(entry.data)
            else:
                new[spec.key] = entry.amount if spec.is_amount else (entry.data or "").strip()
        try:
            changed = save_settings(new, by=current_user)
        except SettingsError as exc:
            for key, message in exc.problems.items():
                entry = form._fields.get(key.lower())
                if entry is not None:
                    entry.errors = [*entry.errors, message]
        else:
            if changed:
                flash(_("Settings saved; they apply from the next page anyone opens."), "success")
            else:
                flash(_("Nothing changed."), "info")
            return redirect(url_for("admin.settings_page"), 303)
    rows = saved_rows()
    shown = [
        {
            "spec": spec,
            "field": None if spec.key in locked else form[spec.key.lower()],
            "locked": spec.key in locked,
            "env_name": env_name(spec.key),
            "value": setting(spec.key),
            "saved": None if spec.key in locked else rows.get(spec.key),
        }
        for spec in SPECS
    ]
    status = 422 if form.errors else 200
    return render_template("admin/settings.html", form=form, shown=shown), status


@bp.post("/settings/ihela-check")
def ihela_check() -> ResponseReturnValue:
    """``flask ihela check`` from the page: what the gateway speaks, asked without moving money
    (only the token request and GETs leave); the table and the shape to configure."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    report = check_gateway(gateway())
    audit.record(
        "settings.gateway_checked",
        actor=current_user,
        object_type="setting",
        object_id="IHELA_API",
        summary=coded(report.advice()),
        details={
            "configured": report.configured,
            "served": report.served,
            "recommended": report.recommended,
        },
    )
    db.session.commit()
    return render_template("admin/ihela_check.html", report=report, form=EmptyForm())


PERIODIC_LABELS = {
    "refresh_bills": _l("Check pending bills with iHela"),
    "settle_cashins": _l("Ask iHela about cash-ins with an unknown outcome"),
    "watch_cashins": _l("Tell staff about cash-ins to check"),
    "refresh_banks": _l("Refresh the bank list"),
    "end_idle_displays": _l("End idle customer displays"),
    "daily_summary": _l("Morning summary to admins"),
}
JOB_LABELS = {
    "verify_bill": _l("Check a bill after iHela's callback"),
    "refresh_banks": _l("Refresh the bank list"),
    "notify.cashin_awaiting": _l("Find who may approve a cash-in"),
    "notify.bill_paid": _l("Find who to tell about a paid bill"),
    "email:approval": _l("E-mail: cash-in to approve"),
    "email:approval_digest": _l("E-mail: cash-ins to approve (summary)"),
    "email:cashin_problem": _l("E-mail: cash-in to check"),
    "email:daily_summary": _l("E-mail: morning summary"),
    "email:bill_paid": _l("E-mail: bill paid"),
    "email:receipt": _l("E-mail: receipt to a payer"),
}


@bp.get("/system")
def system() -> ResponseReturnValue:
    """Background work: each periodic task's last run and failure, the queue, failed jobs."""
    tasks = [
        {
            "name": row.name,
            "label": PERIODIC_LABELS.get(row.name, row.name),
            "daily": periodic.TASKS[row.name].daily,
            "seconds": periodic.seconds_of(row.name),
            "row": row,
        }
        for row in periodic.states()
    ]
    failed = []
    for job in jobs.failed_jobs():
        kind = job.kind
        if kind == "email":
            kind = f"email:{job.payload.get('topic')}"
        recipient = db.session.get(User, job.recipient_id) if job.recipient_id else None
        failed.append(
            {
                "job": job,
                "label": JOB_LABELS.get(kind, kind),
                "to": recipient.email if recipient else job.payload.get("to"),
            }
        )
    return render_template(
        "admin/system.html",
        tasks=tasks,
        queue_depth=queue_of(current_app._get_current_object()).depth(),  # type: ignore[attr-defined]
        waiting=jobs.waiting_count(),
        failed=failed,
        health=background_health(),
        smtp=bool(current_app.config.get("SMTP_URL")),
        daily_at=current_app.config["DAILY_SUMMARY_AT"],
    )
