"""`flask --app wsgi user ...`: the same services the admin pages use, speaking the dashboard's
default language (BABEL_DEFAULT_LOCALE) like the services' own messages."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask import Flask
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_babel import pgettext

from dashboard.auth import services, twofactor
from dashboard.models import Role, User

if TYPE_CHECKING:
    from dashboard.ihela.check import Report

user_cli = AppGroup("user", help="Manage staff accounts.")


def _find(email: str) -> User:
    user = services.find_user_by_email(email)
    if user is None:
        raise click.ClickException(_("No account with e-mail %(email)s.", email=email))
    return user


@user_cli.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--password", help="Prompted for when not given.")
def create_user(email: str, name: str, role: str, password: str | None) -> None:
    """Add a staff member."""
    if password is None:
        password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    try:
        user = services.create_user(email, name, role, password, by_label="cli")
    except services.AccountError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(_("Created %(email)s (%(role)s).", email=user.email, role=user.role))


@user_cli.command("set-password")
@click.option("--email", required=True)
@click.option("--password", help="Prompted for when not given.")
def set_password(email: str, password: str | None) -> None:
    """Give a staff member a new password (their open sessions end)."""
    user = _find(email)
    if password is None:
        password = click.prompt(_("New password"), hide_input=True, confirmation_prompt=True)
    try:
        services.set_password(user, password, by_label="cli")
    except services.AccountError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(_("Password of %(email)s changed.", email=user.email))


@user_cli.command("deactivate")
@click.option("--email", required=True)
def deactivate(email: str) -> None:
    """Stop a staff member from logging in."""
    user = _find(email)
    try:
        services.set_active(user, False, by_label="cli")
    except services.AccountError as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(_("%(email)s deactivated.", email=user.email))


@user_cli.command("reset-2fa")
@click.option("--email", required=True)
def reset_two_factor(email: str) -> None:
    """Remove a staff member's two-factor sign-in (lost phone); they enrol again after login."""
    user = _find(email)
    twofactor.reset(user, by_label="cli")
    click.echo(
        _(
            "Two-factor sign-in of %(email)s reset; their open sessions ended.",
            email=user.email,
        )
    )


@user_cli.command("list")
def list_users() -> None:
    """Every staff account."""
    for user in services.list_users():
        state = pgettext("account", "active") if user.active else pgettext("account", "inactive")
        click.echo(f"{user.email}\t{user.name}\t{user.role}\t{state}")


@user_cli.command("ensure-admin")
def ensure_admin() -> None:
    """Create the first admin if there is none, and print its password once."""
    created = services.ensure_first_admin()
    if created is None:
        click.echo("An admin account exists already; log in with it.")
        return
    user, password = created
    click.echo("")
    click.echo("  First admin created. This password is shown only once:")
    click.echo(f"    e-mail:   {user.email}")
    click.echo(f"    password: {password}")
    click.echo("")


bills_cli = AppGroup("bills", help="Bills.")


@bills_cli.command("refresh-pending")
@click.option(
    "--min-age",
    type=float,
    default=None,
    help="Skip bills checked less than this many seconds ago (default from config).",
)
def refresh_pending(min_age: float | None) -> None:
    """Verify every pending bill with iHela (for cron)."""
    from flask import current_app

    from dashboard.bills.services import refresh_pending as run

    age = current_app.config["BILL_CRON_MIN_AGE_SECONDS"] if min_age is None else min_age
    checked, changed = run(min_age_seconds=age)
    click.echo(f"Checked {checked} pending bill(s); {changed} changed status.")


customers_cli = AppGroup("customers", help="The customer directory.")


@customers_cli.command("link-bills")
def link_bills() -> None:
    """Add the payers of bills issued before the directory existed (after an upgrade)."""
    from dashboard.customers.services import link_unlinked_bills

    click.echo(f"Linked {link_unlinked_bills()} bill(s) to their customers.")


def init_app(app: Flask) -> None:
    app.cli.add_command(user_cli)
    app.cli.add_command(ihela_cli)
    app.cli.add_command(bills_cli)
    app.cli.add_command(customers_cli)


ihela_cli = AppGroup("ihela", help="Ask the iHela gateway what it speaks (never moves money).")


@ihela_cli.command("check")
@click.option(
    "--account", help="Also look up an account, as BANK-SLUG:ACCOUNT (e.g. MF1-0001:000016-01)."
)
def ihela_check(account: str | None) -> None:
    """Token, bank lists, which routes exist, clock skew, TLS; then the shape to configure."""
    from dashboard.gateway import gateway
    from dashboard.ihela.check import check_gateway

    asked = None
    if account:
        bank, _sep, number = account.partition(":")
        if not bank or not number:
            raise click.BadParameter("BANK-SLUG:ACCOUNT", param_hint="--account")
        asked = (bank.strip(), number.strip())
    report = check_gateway(gateway(), account=asked)
    click.echo(check_table(report))
    if not report.ok:
        raise SystemExit(1)


def check_table(report: Report) -> str:
    """The gateway check's table in the default language (DASHBOARD_BABEL_DEFAULT_LOCALE)."""
    from dashboard.ihela.check import table
    from dashboard.messages import say

    return table(
        ((say(row.what), say(row.result), row.ok) for row in report.rows),
        headers=(pgettext("gateway check", "check"), _("ok"), _("result")),
        marks=(_("ok"), _("NO")),
    )
