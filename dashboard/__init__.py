"""The iHela merchant dashboard."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy import bindparam, select, text
from werkzeug.exceptions import HTTPException

from dashboard import assets, cli, security, settings, templating
from dashboard.background import queue as background_queue
from dashboard.config import Config, check_config
from dashboard.db import db as sqla
from dashboard.extensions import babel, compress, csrf, login_manager, migrate
from dashboard.models import User

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app: class defaults, then DASHBOARD_* environment, then ``test_config``."""
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    app.config.from_object(Config)
    app.config.from_prefixed_env("DASHBOARD")
    if test_config is not None:
        app.config.update(test_config)
    check_config(app.config)  # before the development defaults below fill anything in
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///" + os.path.join(
            app.instance_path, "dashboard.sqlite3"
        )
    if app.config["SESSION_COOKIE_SECURE"] is None:
        app.config["SESSION_COOKIE_SECURE"] = app.config["DEPLOYMENT"] != "development"
    if app.config.get("TRUST_PROXY_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = int(app.config["TRUST_PROXY_HOPS"])
        proxied = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
        app.wsgi_app = proxied  # type: ignore[method-assign]

    sqla.init_app(app)
    migrate.init_app(app, sqla, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=templating.select_locale,
        timezone_selector=lambda: app.config["BABEL_DEFAULT_TIMEZONE"],
    )
    _init_login(app)
    security.init_app(app)
    templating.init_app(app)
    settings.init_app(app)
    compress.init_app(app)
    assets.init_app(app)
    _register_blueprints(app)
    _register_error_handlers(app)
    cli.init_app(app)
    background_queue.init_app(app)
    if app.config.get("LOG_LEVEL"):
        logging.getLogger("dashboard").setLevel(app.config["LOG_LEVEL"])

    @app.get("/healthz")
    def healthz() -> ResponseReturnValue:
        try:
            sqla.session.execute(text("SELECT 1"))
        except Exception:
            sqla.session.rollback()
            return jsonify(status="error", database="unreachable"), 503
        # Serving works without a worker, but bills and e-mails wait: "degraded", still 200.
        background = background_queue.background_health()
        status = "ok" if background["background"] == "ok" else "degraded"
        return jsonify(status=status, database="ok", **background)

    return app


# Every request's first statement, built once (its construction costs more than its run).
_USER_BY_ID = select(User).where(User.id == bindparam("user_id"))


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    # Flashed messages live in the session cookie: a plain string in the reader's language.
    login_manager.localize_callback = str
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        ident, _, nonce = user_id.partition(":")
        if not ident.isdigit():
            return None
        user: User | None = sqla.session.scalar(_USER_BY_ID, {"user_id": int(ident)})
        if user is None or not user.active or user.login_nonce != nonce:
            return None
        return user


def _register_blueprints(app: Flask) -> None:
    from dashboard.admin.views import bp as admin_bp
    from dashboard.auth.twofactor_views import bp as two_factor_bp
    from dashboard.auth.views import bp as auth_bp
    from dashboard.bank_views import bp as banks_bp
    from dashboard.bills import counter
    from dashboard.bills.callbacks import bp as bill_callbacks_bp
    from dashboard.bills.views import bp as bills_bp
    from dashboard.bills.views import public as bill_public_bp
    from dashboard.cashins.settle import bp as cashin_settle_bp
    from dashboard.cashins.views import bp as cashins_bp
    from dashboard.customers.views import bp as customers_bp
    from dashboard.notifications.views import bp as notifications_bp
    from dashboard.pricelist.views import bp as pricelist_bp
    from dashboard.reports.views import bp as reports_bp
    from dashboard.shop.views import bp as shop_bp
    from dashboard.shop.views import public as shop_public_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(two_factor_bp)
    app.register_blueprint(bills_bp)
    app.register_blueprint(bill_public_bp)
    app.register_blueprint(bill_callbacks_bp)
    app.register_blueprint(counter.bp)
    counter.init_app(app)
    app.register_blueprint(banks_bp)
    app.register_blueprint(cashins_bp)
    app.register_blueprint(cashin_settle_bp)
    app.register_blueprint(customers_bp)
    app.register_blueprint(pricelist_bp)
    app.register_blueprint(shop_bp)
    app.register_blueprint(shop_public_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(reports_bp)

    from dashboard.reports.views import overview

    app.add_url_rule("/", "home", overview)  # the page after login, for every role


def _register_error_handlers(app: Flask) -> None:
    def wants_fragment() -> bool:
        return request.headers.get("HX-Request") == "true"

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        return render_template(
            "errors/error.html",
            code=400,
            title=_("This form has expired"),
            message=_(
                "The page was open too long or was sent twice. Go back, reload the page "
                "and send it again; nothing was changed."
            ),
        ), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        if error.code is None or error.code < 400:
            return error
        titles = {
            400: _("Bad Request"),
            403: _("You cannot open this page"),
            404: _("Page not found"),
            405: _("Not allowed"),
            429: _("Too many requests"),
        }
        messages = {
            400: _("The browser (or proxy) sent a request that this server could not understand."),
            403: _("Your role does not give access to this page. Ask an admin if you need it."),
            404: _("The page does not exist. Check the address or use the menu."),
            405: _("This address does not take this kind of request. Use the menu."),
            429: _("Too many requests in a short time. Wait a minute and try again."),
        }
        if wants_fragment():
            return Response(error.description or "", status=error.code)
        return render_template(
            "errors/error.html",
            code=error.code,
            # Werkzeug's own names and descriptions are English: one language per page.
            title=titles.get(error.code, _("This request could not be handled")),
            message=messages.get(error.code, _("Go back and try again, or use the menu.")),
        ), error.code

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> ResponseReturnValue:
        sqla.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        return render_template(
            "errors/error.html",
            code=500,
            title=_("Something went wrong"),
            message=_(
                "The dashboard hit an unexpected error; nothing was half-saved. "
                "Try again, and tell an admin if it keeps happening."
            ),
        ), 500
