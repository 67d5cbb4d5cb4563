"""What a merchant's gateway speaks, asked without moving money (``flask ihela check``).

Token (and its lifetime), bank lists (counts, masks), an optional account lookup, which bill,
cash-in and status routes exist (a GET on a POST-only route answers 405 where it exists and 404
where it does not), the clock skew from the Date header, TLS; then the shape to configure.
It never creates a bill nor sends money: only GETs and the token request leave.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from .client import API_VERSIONS, IhelaClient
from .errors import IhelaError
from .wire import Dialect
from .wire_v1 import V1Dialect
from .wire_v2 import PATH_TABLES, V2Dialect

# Preferred first when a gateway serves several shapes: the published SDK's, then ours.
_PREFERENCE = ("v2-on-v1", "v2", "v1")
MAX_SKEW_SECONDS = 60


@dataclass
class Row:
    what: str
    result: str
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

    def add(self, what: str, result: str, ok: bool | None = None) -> None:
        self.rows.append(Row(what, result, ok))

    def table(self) -> str:
        width = max(len(row.what) for row in self.rows)
        marks = {True: "ok", False: "NO", None: "  "}
        lines = [f"{'check':<{width}}  ok  result", f"{'-' * width}  --  {'-' * 40}"]
        lines += [f"{r.what:<{width}}  {marks[r.ok]}  {r.result}" for r in self.rows]
        return "\n".join(lines)

    def advice(self) -> str:
        if not self.served:
            return (
                "No shape of iHela's API is fully served at this address: check "
                "DASHBOARD_IHELA_BASE_URL."
            )
        if self.wrong_shape:
            return (
                f"Wrong shape: DASHBOARD_IHELA_API={self.configured} is not what this gateway "
                f"serves; it speaks {', '.join(self.served)}. "
                f"Set DASHBOARD_IHELA_API={self.recommended}."
            )
        return (
            f"Recommended: DASHBOARD_IHELA_API={self.recommended} (configured: {self.configured})."
        )


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
        report.add("token", f"refused or unreachable: {exc.message}", False)
        return report
    life = "no lifetime given" if lifetime is None else f"lifetime {lifetime:.0f} s"
    report.add("token", f"issued, {life}", True)

    try:
        banks = client.get_bank_list()
        masks = sum(1 for bank in banks if bank.account_mask)
        active = sum(1 for bank in banks if bank.is_active)
        report.add("bank list", f"{len(banks)} banks ({active} active), {masks} with a mask", True)
    except IhelaError as exc:
        report.add("bank list", exc.message, False)
    try:
        money_in = client.get_cashin_bank_list()
        said = "not served" if money_in is None else f"{len(money_in)} banks"
        report.add("money-in bank list", said, None if money_in is None else True)
    except IhelaError as exc:
        report.add("money-in bank list", exc.message, False)
    if account is not None:
        bank_slug, number = account
        try:
            holder = client.customer_lookup(bank_slug, number)
            report.add("account lookup", f"{bank_slug} {number}: {holder.name}", True)
        except IhelaError as exc:
            report.add("account lookup", f"{bank_slug} {number}: {exc.message}", False)

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
            answer = {405: "served", 404: "not served", 0: "no answer"}.get(
                status, f"HTTP {status}"
            )
            report.add(f"{name} {label}", f"POST {operation.path}: {answer}", exists)
        served[name] = every
    report.served = [name for name in API_VERSIONS if served.get(name)]
    if report.configured in report.served:
        report.recommended = report.configured
    else:
        report.recommended = next((n for n in _PREFERENCE if n in report.served), None)

    if date_header:
        try:
            skew = (parsedate_to_datetime(date_header) - now()).total_seconds()
            report.add("clock skew", f"{skew:+.0f} s", abs(skew) <= MAX_SKEW_SECONDS)
        except (TypeError, ValueError):
            report.add("clock skew", "unreadable Date header", False)
    else:
        report.add("clock skew", "no Date header", None)
    scheme = urlsplit(client.base_url).scheme
    if scheme == "https":
        report.add("TLS", "https, certificate verified", True)
    else:
        report.add("TLS", "plain http (allowed on loopback only: the sandbox)", None)
    report.add("recommended", report.advice(), not report.wrong_shape and bool(report.served))
    return report
