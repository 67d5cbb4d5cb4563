"""The gateway's bank list and bank logos, cached in the database for every request and server.

A worker refreshes the list periodically; a request that finds it stale anyway serves it and asks
a worker for a refresh (a job). When the gateway is down the last good list is served with a
notice. Logos are fetched by the server and served from
the dashboard's own origin (the Content-Security-Policy stays 'self'); initials stand in for a
missing or broken logo.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from html import escape
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Table, select
from sqlalchemy.exc import IntegrityError

from dashboard import messages
from dashboard.background.jobs import add_job
from dashboard.config import is_loopback_url
from dashboard.db import db, utcnow
from dashboard.gateway import gateway
from dashboard.ihela import Bank, IhelaError
from dashboard.models import CachedDocument

log = logging.getLogger(__name__)

BANK_TYPES = {"MF1": _l("Credit union"), "BNQ": _l("Bank"), "MOB": _l("Mobile money")}
LOGO_TYPES = {"image/svg+xml", "image/png", "image/jpeg", "image/gif", "image/webp"}
MAX_LOGO_BYTES = 256 * 1024


@dataclass(frozen=True)
class BankOption:
    """What the pages need of a bank, as stored in the cache."""

    slug: str
    name: str
    bank_type: str
    account_mask: str | None
    in_minimum: int | None
    in_maximum: int | None
    is_active: bool
    has_lookup: bool
    logo_url: str | None
    # In the gateway's money-in list (or no such list): offered in the cash-in picker.
    takes_money_in: bool = True

    @property
    def type_label(self) -> str:
        return str(BANK_TYPES.get(self.bank_type, self.bank_type))

    @property
    def initials(self) -> str:
        return initials(self.name)

    @classmethod
    def from_gateway(cls, bank: Bank, money_in: set[str] | None = None) -> BankOption:
        limits = bank.limits
        return cls(
            slug=bank.slug,
            name=bank.name,
            bank_type=bank.bank_type,
            account_mask=bank.account_mask,
            in_minimum=limits.in_minimum if limits else None,
            in_maximum=limits.in_maximum if limits else None,
            is_active=bank.is_active,
            has_lookup=bank.has_lookup,
            logo_url=bank.icon_url or bank.logo_url,
            takes_money_in=money_in is None or bank.slug in money_in,
        )


@dataclass(frozen=True)
class BankList:
    banks: list[BankOption]
    fetched_at: datetime | None
    error: str | None  # set when the last refresh failed: the list may be out of date

    @property
    def active(self) -> list[BankOption]:
        return [bank for bank in self.banks if bank.is_active]

    @property
    def money_in(self) -> list[BankOption]:
        """The banks a cash-in can go to: active, and in the money-in list where there is one."""
        return [bank for bank in self.active if bank.takes_money_in]

    def get(self, slug: str) -> BankOption | None:
        return next((bank for bank in self.banks if bank.slug == slug), None)


def initials(name: str) -> str:
    words = [w for w in name.replace("-", " ").split() if w[:1].isalnum()]
    return "".join(w[0] for w in words[:2]).upper() or "?"


_DOCUMENTS: Table = CachedDocument.__table__  # type: ignore[assignment]
_READ_BANKS = select(_DOCUMENTS.c.fetched_at, _DOCUMENTS.c.body).where(_DOCUMENTS.c.key == "banks")
# The list last read from the row, with what the row held: each request reads the row, and
# parses it again only when it changed (another process stored a new list). Nobody changes a
# BankList: one is shared by every request that reads the same row.
_parsed: tuple[datetime, bytes, BankList] | None = None


def _load() -> tuple[BankList | None, datetime | None]:
    global _parsed
    row = db.session.execute(_READ_BANKS).first()
    if row is None:
        return None, None
    fetched_at, body = row.fetched_at, bytes(row.body)
    parsed = _parsed
    if parsed is not None and parsed[0] == fetched_at and parsed[1] == body:
        return parsed[2], fetched_at
    data = json.loads(body)
    banks = [BankOption(**item) for item in data["banks"]]
    stored = BankList(banks, fetched_at, data.get("error"))
    _parsed = (fetched_at, body, stored)
    return stored, fetched_at


def _store(banks: list[BankOption] | None, error: str | None) -> None:
    """Save a fresh list, or record that refreshing failed (keeping the old list)."""
    row = db.session.get(CachedDocument, "banks")
    now = utcnow()
    if banks is None:
        if row is None:
            return
        data = json.loads(row.body)
        data["error"] = error
        row.body = json.dumps(data).encode()  # fetched_at unchanged: the list is no fresher
    else:
        body = json.dumps(
            {"banks": [asdict(b) for b in banks], "fetched_at": now.isoformat(), "error": None}
        ).encode()
        if row is None:
            db.session.add(CachedDocument(key="banks", fetched_at=now, body=body))
        else:
            row.body = body
            row.fetched_at = now
    try:
        db.session.commit()
    except IntegrityError:  # another server stored it at the same moment: theirs is as good
        db.session.rollback()


def refresh_banks() -> BankList:
    """Ask the gateway now; on failure keep the old list and remember the error."""
    try:
        client = gateway()
        listed = client.get_bank_list()
        money_in = client.get_cashin_bank_list()  # None: this gateway has no such list
        slugs = None if money_in is None else {bank.slug for bank in money_in}
        banks = [BankOption.from_gateway(bank, slugs) for bank in listed]
    except IhelaError as exc:
        log.warning("bank list refresh failed: %s", exc.message)
        said = messages.coded(messages.gateway_error(exc))  # shown in the reader's language
        _store(None, said)
        stored, _ = _load()
        return stored or BankList([], None, said)
    _store(banks, None)
    stored, _ = _load()
    assert stored is not None
    return stored


def _refresh_in_background() -> None:
    """Ask a worker to refresh the list (one job per TTL, however many requests notice)."""
    ttl = max(float(current_app.config["BANK_LIST_TTL_SECONDS"]), 1.0)
    add_job("refresh_banks", f"refresh_banks:{int(utcnow().timestamp() // ttl)}")
    db.session.commit()


def bank_list() -> BankList:
    """The bank list for a page: cached, refreshed when stale, never blocking on a cached copy."""
    stored, fetched_at = _load()
    if stored is None or fetched_at is None:
        return refresh_banks()
    ttl = timedelta(seconds=current_app.config["BANK_LIST_TTL_SECONDS"])
    if utcnow() - fetched_at > ttl:
        if current_app.config["BANK_LIST_BACKGROUND_REFRESH"]:
            _refresh_in_background()
        else:
            return refresh_banks()
    return stored


# --- logos ------------------------------------------------------------------------------------


def initials_svg(name: str) -> bytes:
    """A small drawn stand-in for a bank without a usable logo."""
    palette = ["#0d6efd", "#6f42c1", "#d63384", "#fd7e14", "#198754", "#20c997", "#0dcaf0"]
    colour = palette[sum(map(ord, name)) % len(palette)]
    text = escape(initials(name))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40" width="40" height="40">'
        f'<rect width="40" height="40" rx="8" fill="{colour}"/>'
        '<text x="20" y="25" font-family="sans-serif" font-size="15" font-weight="700" '
        f'text-anchor="middle" fill="#fff">{text}</text></svg>'
    ).encode()


def _logo_host_allowed(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    gateway_host = urlsplit(current_app.config["IHELA_BASE_URL"]).hostname
    allowed = [h.lower() for h in current_app.config["BANK_LOGO_HOSTS"]]
    host = parts.hostname.lower()
    return host == gateway_host or any(host == h or host.endswith("." + h) for h in allowed)


def _public_addresses_only(url: str) -> bool:
    """False when the host resolves to a private, loopback or otherwise internal address.

    The sandbox on loopback serves its logos from loopback, so then anything goes.
    """
    if is_loopback_url(current_app.config["IHELA_BASE_URL"]):
        return True
    parts = urlsplit(url)
    try:
        found = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return False
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if not address.is_global or address.is_multicast:
            return False
    return bool(found)


def _fetch_logo(url: str) -> tuple[str, bytes] | None:
    if not _logo_host_allowed(url) or not _public_addresses_only(url):
        return None
    try:
        # No redirects: each hop would have to pass the checks above again, and logos never move.
        with requests.get(url, timeout=(3, 5), stream=True, allow_redirects=False) as response:
            content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
            if response.status_code != 200 or content_type not in LOGO_TYPES:
                return None
            body = response.raw.read(MAX_LOGO_BYTES + 1, decode_content=True)
    except requests.RequestException:
        return None
    if not body or len(body) > MAX_LOGO_BYTES:
        return None
    return content_type, body


def bank_logo(slug: str) -> tuple[str, bytes]:
    """The logo of a bank as (content type, bytes); drawn initials when there is none."""
    key = f"logo:{slug}"
    row = db.session.get(CachedDocument, key)
    ttl = timedelta(seconds=current_app.config["BANK_LOGO_TTL_SECONDS"])
    if row is not None and utcnow() - row.fetched_at < ttl:
        return row.content_type, row.body
    banks = bank_list()
    bank = banks.get(slug)
    if bank is None:  # nothing to cache for a bank the gateway does not list
        return "image/svg+xml", initials_svg(slug)
    name = bank.name
    fetched = _fetch_logo(bank.logo_url) if bank.logo_url else None
    content_type, body = fetched or ("image/svg+xml", initials_svg(name))
    if fetched is None and row is not None:
        return row.content_type, row.body  # keep serving the last good logo
    if row is None:
        db.session.add(
            CachedDocument(key=key, fetched_at=utcnow(), content_type=content_type, body=body)
        )
    else:
        row.content_type, row.body, row.fetched_at = content_type, body, utcnow()
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
    return content_type, body
