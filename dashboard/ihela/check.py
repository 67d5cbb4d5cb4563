"""What a merchant's gateway speaks, asked without moving money (``flask ihela check``, and the
admins' *Settings* page).

Token (and its lifetime), bank lists (counts, masks), an optional account lookup, which bill,
cash-in and status routes exist (a GET on a POST-only route answers 405 where it exists and 404
where it does not), the clock skew from the Date header, TLS; then the shape to configure.
It never creates a bill nor sends money: only GETs and the token request leave.

Each row says what was checked and its outcome as a code and parameters
(``{"code": "check.…", "params": {...}}``, the shape of ``dashboard.messages``): the CLI and the
page say them in the reader's language.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

from .client import API_VERSIONS, IhelaClient
from .errors import IhelaError
from .wire import Dialect
from .wire_v1 import V1Dialect
from .wire_v2 import PATH_TABLES, V2Dialect

# Preferred first when a gateway serves several shapes: the published SDK's, then ours.
_PREFERENCE = ("v2-on-v1", "v2", "v1")
MAX_SKEW_SECONDS = 60

Said = dict[str, Any]  # {"code": ..., "params": {...}}: a sentence, said when shown


def said(code: str, /, **params: Any) -> Said:
    return {"code": code, "params": params} if params else {"code": code}


def failure(exc: IhelaError) -> dict[str, Any]:
    """A gateway failure as a parameter (``messages`` says it as it says any gateway error)."""
    return {"failure": exc.described()}


# What a probe's HTTP status says about a route.
_ROUTE_ANSWERS = {405: "check.served", 404: "check.not_served", 0: "check.no_answer"}


@dataclass
class Row:
    what: Said
    result: Said
    ok: bool | None  # None: for information


@dataclass
class Report:
    configured: str
    rows: list[Row] = field(default_factory=list)
    served: list[str] = field(default_factory=list)  # the shapes whose every route exists
    recommended: str | None = None

    @property
    def wrong_shape(self) -> bool:
        return bool(self.served) and self.configured not in self.served

    @property
    def ok(self) -> bool:
        return bool(self.served) and not self.wrong_shape

    def add(self, what: Said, result: Said, ok: bool | None = None) -> None:
        self.rows.append(Row(what, result, ok))

    def advice(self) -> Said:
        if not self.served:
            return said("check.no_shape")
        if self.wrong_shape:
            return said(
                "check.wrong_shape",
                configured=self.configured,
                served=", ".join(self.served),
                recommended=self.recommended,
            )
        return said("check.recommend", recommended=self.recommended, configured=self.configured)


def table(
    rows: Iterable[tuple[str, str, bool | None]],
    headers: tuple[str, str, str] = ("check", "ok", "result"),
    marks: tuple[str, str] = ("ok", "NO"),
) -> str:
    """The rows, already said, as the CLI prints them (README, *Checking a gateway*)."""
    rows = list(rows)
    width = max(len(headers[0]), *(len(what) for what, _r, _ok in rows))
    mark_width = max(len(headers[1]), *(len(m) for m in marks))
    shown = {True: marks[0], False: marks[1], None: ""}
    lines = [
        f"{headers[0]:<{width}}  {headers[1]:<{mark_width}}  {headers[2]}",
        f"{'-' * width}  {'-' * mark_width}  {'-' * 40}",
    ]
    lines += [f"{what:<{width}}  {shown[ok]:<{mark_width}}  {result}" for what, result, ok in rows]
    return "\n".join(lines)


def _dialects() -> dict[str, Dialect]:
    found: dict[str, Dialect] = {"v1": V1Dialect()}
    for name, paths in PATH_TABLES.items():
        found[name] = V2Dialect("0000", paths)  # never sent: only its paths are read
    return found


def check_gateway(
    client: IhelaClient,
    *,
    account: tuple[str, str] | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Report:
    report = Report(configured=client.api_version)
    try:
        lifetime = client.token_lifetime()
    except IhelaError as exc:
        report.add(said("check.token"), said("check.token_failed", error=failure(exc)), False)
        return report
    if lifetime is None:
        report.add(said("check.token"), said("check.token_no_lifetime"), True)
    else:
        report.add(said("check.token"), said("check.token_issued", seconds=f"{lifetime:.0f}"), True)

    try:
        banks = client.get_bank_list()
        report.add(
            said("check.bank_list"),
            said(
                "check.banks",
                count=len(banks),
                active=sum(1 for bank in banks if bank.is_active),
                masks=sum(1 for bank in banks if bank.account_mask),
            ),
            True,
        )
    except IhelaError as exc:
        report.add(said("check.bank_list"), said("check.failed", error=failure(exc)), False)
    try:
        money_in = client.get_cashin_bank_list()
        if money_in is None:
            report.add(said("check.cashin_banks"), said("check.not_served"), None)
        else:
            report.add(
                said("check.cashin_banks"), said("check.bank_count", count=len(money_in)), True
            )
    except IhelaError as exc:
        report.add(said("check.cashin_banks"), said("check.failed", error=failure(exc)), False)
    if account is not None:
        bank_slug, number = account
        try:
            holder = client.customer_lookup(bank_slug, number)
            result = said("check.holder", bank=bank_slug, account=number, name=holder.name)
            report.add(said("check.account"), result, True)
        except IhelaError as exc:
            result = said(
                "check.account_failed", bank=bank_slug, account=number, error=failure(exc)
            )
            report.add(said("check.account"), result, False)

    date_header: str | None = None
    served: dict[str, bool] = {}
    seen: dict[str, int] = {}
    for name, dialect in _dialects().items():
        every = True
        for label, operation in dialect.probes().items():
            if operation.path not in seen:
                try:
                    seen[operation.path], date = client.probe(operation.path)
                    date_header = date_header or date
                except IhelaError:
                    seen[operation.path] = 0
            status = seen[operation.path]
            exists = status == 405
            every = every and exists
            answer = (
                said(_ROUTE_ANSWERS[status])
                if status in _ROUTE_ANSWERS
                else said("check.http_status", status=status)
            )
            report.add(
                said("check.route", shape=name, route=said(f"check.route.{label}")),
                said("check.route_answer", path=operation.path, answer=answer),
                exists,
            )
        served[name] = every
    report.served = [name for name in API_VERSIONS if served.get(name)]
    if report.configured in report.served:
        report.recommended = report.configured
    else:
        report.recommended = next((n for n in _PREFERENCE if n in report.served), None)

    if date_header:
        try:
            skew = (parsedate_to_datetime(date_header) - now()).total_seconds()
            result = said("check.skew_seconds", seconds=f"{skew:+.0f}")
            report.add(said("check.skew"), result, abs(skew) <= MAX_SKEW_SECONDS)
        except (TypeError, ValueError):
            report.add(said("check.skew"), said("check.skew_unreadable"), False)
    else:
        report.add(said("check.skew"), said("check.no_date"), None)
    if urlsplit(client.base_url).scheme == "https":
        report.add(said("check.tls"), said("check.tls_verified"), True)
    else:
        report.add(said("check.tls"), said("check.plain_http"), None)
    report.add(said("check.recommended"), report.advice(), report.ok)
    return report
