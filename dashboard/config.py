"""Configuration: class defaults, then ``DASHBOARD_*`` environment variables, then overrides."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DEFAULT_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - refused in production by check_config
SANDBOX_CLIENT_ID = "sandbox-client-id"
SANDBOX_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - the sandbox's documented default


class Config:
    """Defaults for the embedded set-up: SQLite under instance/, sandbox gateway on loopback."""

    DEPLOYMENT = "development"  # or "production"
    SECRET_KEY = DEFAULT_SECRET_KEY
    SQLALCHEMY_DATABASE_URI: str | None = None  # None: sqlite file in the instance folder
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}

    SESSION_COOKIE_NAME = "dashboard_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE: bool | None = None  # None: secure everywhere but development
    IDLE_TIMEOUT_MINUTES = 30
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    # The cookie is re-sent only when the session changes; security.py touches it at most once
    # a minute, so status polls and static files carry no Set-Cookie.
    SESSION_REFRESH_EACH_REQUEST = False
    WTF_CSRF_TIME_LIMIT: int | None = None  # CSRF token lives as long as the session

    # Login throttling (README, *Logging in*): delays per account and address, never a lock-out.
    LOGIN_FREE_FAILURES = 5
    LOGIN_FREE_FAILURES_KNOWN_ADDRESS = 20
    LOGIN_FAILURES_PER_ADDRESS = 100
    LOGIN_FIRST_DELAY_SECONDS = 1
    LOGIN_MAX_DELAY_SECONDS = 300
    LOGIN_FAILURE_WINDOW_MINUTES = 60
    # Two-factor sign-in: roles that must enrol before sending money, until an admin decides
    # otherwise on the two-factor page (stored per role; README, *Two-factor sign-in*).
    TWO_FACTOR_DEFAULT_REQUIRED_ROLES: tuple[str, ...] = ("accountant", "admin")
    TWO_FACTOR_CODE_STEP_MINUTES = 5  # how long the code step waits after the password
    TOTP_KEY: str | None = None  # seals two-factor secrets at rest; unset: derived from SECRET_KEY

    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "Africa/Bujumbura"
    LANGUAGES = ("fr", "en")
    # Absolute, so the catalogs are found whatever the working directory (compiled by `make`).
    BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).resolve().parent / "translations")

    MERCHANT_NAME = "Global Test Merchant"
    # Where payers' browsers reach this dashboard (iHela sends them back here after paying);
    # never taken from a request's Host header. Required in production.
    PUBLIC_URL: str | None = "http://127.0.0.1:5000"

    IHELA_BASE_URL = "http://127.0.0.1:8070/"
    IHELA_CLIENT_ID = SANDBOX_CLIENT_ID
    IHELA_CLIENT_SECRET = SANDBOX_CLIENT_SECRET
    IHELA_CONNECT_TIMEOUT = 5.0
    IHELA_READ_TIMEOUT = 20.0
    # Which shape of iHela's API the merchant's gateway speaks: "v1"; "v2" (api/v2/ paths) or
    # "v2-on-v1" (v2 bodies on api/v1/ paths, as ihela-sdk 0.4.0 calls it): both need the PIN.
    # ``flask ihela check`` tells which one a gateway serves.
    IHELA_API = "v1"
    IHELA_PIN: str | None = None
    # Fail fast while iHela is down: after this many connection failures in a row, calls are
    # answered at once ("iHela unreachable since ...") for the cool-down, on every worker.
    IHELA_BREAKER_THRESHOLD = 5
    IHELA_BREAKER_COOLDOWN_SECONDS = 30.0
    # Shared with iHela to sign payment callbacks (HMAC-SHA256); None: unsigned hints accepted.
    IHELA_CALLBACK_SECRET: str | None = None
    # Payment callbacks accepted per minute from one address (iHela's, or anyone's).
    CALLBACK_RATE_PER_MINUTE = 60
    ALLOW_SANDBOX_IN_PRODUCTION = False

    # Where the sandbox is, for `make run` only; the dashboard itself only ever uses IHELA_BASE_URL.
    SANDBOX_PORT = 8070

    PAGE_SIZE = 50
    LOG_LEVEL: str | None = None  # e.g. "INFO" for the dashboard.* loggers

    # Responses compressed by the app itself (gunicorn without a proxy stays light); under
    # 500 bytes (a poll's fragment) compression gains nothing. Static files: dashboard.assets.
    COMPRESS_ALGORITHM = ["br", "gzip"]
    COMPRESS_ALGORITHM_STREAMING = ["br", "gzip"]
    COMPRESS_MIMETYPES = ["text/html", "text/css", "text/javascript", "image/svg+xml"]
    COMPRESS_MIN_SIZE = 500

    BANK_LIST_TTL_SECONDS = 600
    BANK_LIST_BACKGROUND_REFRESH = True
    BANK_LOGO_TTL_SECONDS = 86400
    BANK_LOGO_HOSTS = ("ihela.online", "ihela.bi")

    # Bills: gateway minimum (currency_info.operation_min_amount) and the merchant's own maximum.
    GATEWAY_MIN_AMOUNT = 1
    BILL_MAX_AMOUNT = 10_000_000
    # However many tabs or staff ask, a bill is verified at most once per this many seconds.
    BILL_REFRESH_MIN_SECONDS = 5
    # The cron command skips bills checked more recently than this.
    BILL_CRON_MIN_AGE_SECONDS = 60

    # Cash-ins: at or above this amount a second person must approve (so must an unconfirmed
    # holder name); the merchant's own maxima per cash-in and per receiving account per day.
    CASHIN_APPROVAL_THRESHOLD = 100_000
    CASHIN_MAX_AMOUNT = 5_000_000
    CASHIN_DAILY_MAX_PER_ACCOUNT = 10_000_000
    # Added to the longest possible send (computed from the iHela timeouts) before a row still
    # "submitting" is taken for a crash and offered to a person to resolve.
    CASHIN_STUCK_MARGIN_SECONDS = 60

    # Background work (dashboard/background/, README *Background work*). The queue's storage:
    # None: a SQLite file under instance/; "redis://host:6379/0" for several machines;
    # "sqlite:////path/queue.sqlite3"; "memory://" (one process only: tests).
    QUEUE_URL: str | None = None
    QUEUE_NAME = "dashboard"  # Redis key prefix, to share one Redis between deployments
    QUEUE_WORKERS = 2  # threads per worker process
    # How often a worker looks at the periodic tasks and the outbox.
    QUEUE_TICK_SECONDS = 5.0
    # A job held longer than this by a worker is taken for dead and run again.
    QUEUE_LEASE_SECONDS = 300.0
    # A job handed to the queue and still waiting after this is handed again (its message may
    # have been lost with a worker; running it twice is harmless: workers claim jobs).
    QUEUE_REQUEUE_SECONDS = 60.0
    JOB_MAX_ATTEMPTS = 5
    JOB_RETRY_SECONDS = 30.0  # then doubled at each attempt
    # Seconds between runs of each periodic task (the daily summary: DAILY_SUMMARY_AT).
    PERIODIC_SECONDS: dict[str, float] = {
        "refresh_bills": 60,
        "settle_cashins": 120,
        "watch_cashins": 60,
        "refresh_banks": 300,
        "end_idle_displays": 600,
    }
    DAILY_SUMMARY_AT = "07:00"  # merchant time (BABEL_DEFAULT_TIMEZONE); "" turns it off
    # /healthz says "degraded" when no periodic task ended for this long.
    PERIODIC_STALE_SECONDS = 300

    # E-mail: smtp://user:pw@host:587 (STARTTLS) or smtps://user:pw@host:465 (TLS); None:
    # messages are written to instance/outbox/ as .eml files (development).
    SMTP_URL: str | None = None
    SMTP_TIMEOUT = 20.0
    MAIL_FROM = "dashboard@localhost"
    MAIL_OUTBOX_DIR: str | None = None  # None: instance/outbox
    APPROVAL_MAIL_EVERY_MINUTES = 10.0  # at most one approval e-mail per person; the rest: a digest
    # Receipts e-mailed to payers identified by e-mail (a setting admins switch on the page).
    PAYER_RECEIPTS = False


class ConfigError(RuntimeError):
    """The configuration is unsafe for the deployment it claims to be."""


def is_loopback_url(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in {"localhost", "::1"} or host.startswith("127.")


MIN_SECRET_KEY_BYTES = 32


def _is_https_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback_url(url))


def check_config(config: dict[str, Any]) -> None:
    """Refuse to start production with development defaults (before any default fills in)."""
    api = config.get("IHELA_API", "v1")
    if api not in ("v1", "v2", "v2-on-v1"):
        raise ConfigError("DASHBOARD_IHELA_API must be v1, v2 or v2-on-v1.")
    if api != "v1" and config.get("IHELA_PIN") in (None, ""):
        raise ConfigError(
            f"DASHBOARD_IHELA_API={api} needs the merchant PIN in DASHBOARD_IHELA_PIN."
        )
    public = urlsplit(str(config.get("PUBLIC_URL") or ""))
    if public.scheme not in ("http", "https") or not public.hostname:
        raise ConfigError(
            "DASHBOARD_PUBLIC_URL must be an absolute address, like https://pay.shop.bi"
        )
    if config.get("DEPLOYMENT") != "production":
        return
    problems = []
    secret = config.get("SECRET_KEY") or ""
    secret_bytes = secret if isinstance(secret, bytes) else str(secret).encode()
    if secret in ("", DEFAULT_SECRET_KEY) or len(secret_bytes) < MIN_SECRET_KEY_BYTES:
        problems.append(
            f"DASHBOARD_SECRET_KEY must be set to a random value of at least "
            f"{MIN_SECRET_KEY_BYTES} bytes"
        )
    gateway_url = str(config.get("IHELA_BASE_URL") or "")
    if not _is_https_or_loopback(gateway_url):
        problems.append("DASHBOARD_IHELA_BASE_URL must be an https:// URL (http only on loopback)")
    public_url = str(config.get("PUBLIC_URL") or "")
    left_default = public_url == Config.PUBLIC_URL and not config.get("ALLOW_SANDBOX_IN_PRODUCTION")
    if left_default or not _is_https_or_loopback(public_url):
        problems.append(
            "DASHBOARD_PUBLIC_URL must be the https:// address payers reach the dashboard at"
        )
    sandbox_like = is_loopback_url(str(config.get("IHELA_BASE_URL", ""))) or config.get(
        "IHELA_CLIENT_SECRET"
    ) in (None, "", SANDBOX_CLIENT_SECRET)
    if sandbox_like and not config.get("ALLOW_SANDBOX_IN_PRODUCTION"):
        problems.append(
            "the iHela gateway is the sandbox (set DASHBOARD_IHELA_BASE_URL, "
            "DASHBOARD_IHELA_CLIENT_ID and DASHBOARD_IHELA_CLIENT_SECRET, or "
            "DASHBOARD_ALLOW_SANDBOX_IN_PRODUCTION=true on purpose)"
        )
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        problems.append("DASHBOARD_SQLALCHEMY_DATABASE_URI must name the production database")
    if problems:
        raise ConfigError("Refusing to start in production: " + "; ".join(problems) + ".")
