"""Extension objects, unbound; create_app() binds them."""

from __future__ import annotations

from flask_babel import Babel
from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

from dashboard.db import db

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
# HTML, fragments and generated SVG, compressed per response (static files: dashboard.assets).
compress = Compress()
migrate = Migrate()

__all__ = ["babel", "compress", "csrf", "db", "login_manager", "migrate"]
