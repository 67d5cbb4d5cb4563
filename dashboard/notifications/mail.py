"""Sending one e-mail: through ``SMTP_URL`` (smtp:// with STARTTLS, smtps:// with TLS), or,
without it, written to instance/outbox/ as a .eml file with its subject logged (development)."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from flask import current_app

from dashboard.config import is_loopback_url
from dashboard.db import utcnow

log = logging.getLogger("dashboard.notifications")


class MailConfigError(RuntimeError):
    """The SMTP URL cannot be used as it is (never shows the password)."""


def outbox_dir() -> Path:
    chosen = current_app.config.get("MAIL_OUTBOX_DIR")
    return Path(chosen) if chosen else Path(current_app.instance_path) / "outbox"


def _write_to_outbox(message: EmailMessage) -> Path:
    folder = outbox_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%d-%H%M%S-%f")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", str(message["Subject"] or ""))[:40].strip("-")
    path = folder / f"{stamp}-{slug or 'message'}.eml"
    path.write_bytes(message.as_bytes())
    log.info("e-mail not sent (no DASHBOARD_SMTP_URL), written to %s: %s", path, message["Subject"])
    return path


def deliver(message: EmailMessage) -> None:
    """Hand one message to the SMTP server (raises on any refusal: the job is retried)."""
    url = current_app.config.get("SMTP_URL")
    if not url:
        _write_to_outbox(message)
        return
    parts = urlsplit(str(url))
    host = parts.hostname
    if parts.scheme not in ("smtp", "smtps") or not host:
        raise MailConfigError("DASHBOARD_SMTP_URL must be smtp://user:pw@host:587 or smtps://…")
    timeout = float(current_app.config["SMTP_TIMEOUT"])
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if parts.scheme == "smtps":
        server = smtplib.SMTP_SSL(host, parts.port or 465, timeout=timeout, context=context)
    else:
        server = smtplib.SMTP(host, parts.port or 587, timeout=timeout)
    try:
        server.ehlo()
        if parts.scheme == "smtp":
            if server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
            elif not is_loopback_url(str(url)):
                # Never a password, nor a message, in clear text across a network.
                raise MailConfigError(f"the SMTP server {host} offers no STARTTLS")
        if parts.username:
            server.login(unquote(parts.username), unquote(parts.password or ""))
        server.send_message(message)
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()
