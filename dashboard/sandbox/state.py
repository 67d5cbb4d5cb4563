"""Everything the sandbox remembers, behind one lock.

Requests arrive on many threads (the werkzeug server is threaded), so every read-modify-write
happens inside ``SandboxState`` while holding ``_lock``; callers only ever get copies.
"""

from __future__ import annotations

import copy
import json
import os
import secrets
import string
import tempfile
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dashboard.sandbox.fixtures import find_bank

INITIATED = "Initiated"
PAID = "Paid"
EXPIRED = "Expired"
CANCELLED = "Cancelled"
ERROR = "Error"

BILL_LIFETIME = timedelta(days=7)
MOBILE_BILL_LIFETIME = timedelta(minutes=10)

_CODE_ALPHABET = string.ascii_uppercase + string.digits


@dataclass
class Bill:
    code: str
    merchant_reference: str
    amount: int
    description: str  # as the merchant sent it; the wire shows it rewritten
    payer: str  # fixture username of the payer
    bank: str | None
    bank_client_id: str | None
    redirect_uri: str | None
    created_at: datetime
    expires_at: datetime
    status: str = INITIATED
    payment_reference: str | None = None
    settled_at: datetime | None = None

    @property
    def is_pending(self) -> bool:
        return self.status == INITIATED


@dataclass(frozen=True)
class CashIn:
    merchant_reference: str
    bank_slug: str
    account: str
    amount: int
    description: str
    reference: str
    received_at: datetime


@dataclass
class Fault:
    """One injected misbehaviour; see the contract's ``/_sandbox/faults``."""

    latency: float = 0.0
    status: int | None = None
    stall: float = 0.0
    garbage: bool = False
    token_ttl: int | None = None
    count: int | None = None
    path: str = "/api/"
    response_code: str | None = None  # v2 only: answer this envelope code without acting

    def matches(self, path: str, is_token_endpoint: bool) -> bool:
        # A token lifetime only means something at the token endpoint, whatever the prefix.
        if self.token_ttl is not None and is_token_endpoint:
            return True
        return path.startswith(self.path)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FaultEffect:
    """The combined effect of every fault that matched one request."""

    latency: float = 0.0
    stall: float = 0.0
    status: int | None = None
    garbage: bool = False
    token_ttl: int | None = None
    response_code: str | None = None

    @property
    def any(self) -> bool:
        return bool(self.latency or self.stall or self.status or self.garbage or self.response_code)


@dataclass
class Stats:
    token_requests: int = 0
    tokens_issued: int = 0
    api_requests: dict[str, int] = field(default_factory=dict)
    faulted_requests: int = 0


class DuplicateReference(Exception):
    """The merchant_reference was already used for an accepted operation."""


class BillNotPending(Exception):
    def __init__(self, bill: Bill) -> None:
        super().__init__(f"Bill {bill.code} is {bill.status}")
        self.bill = bill


def isoformat(moment: datetime) -> str:
    """UTC with a ``Z``, as iHela writes ``created_at``."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class SandboxState:
    def __init__(self, *, token_ttl: int = 36000, state_file: str | Path | None = None) -> None:
        self._lock = threading.RLock()
        self._token_ttl = token_ttl
        self._state_file = Path(state_file) if state_file else None
        self._clock_offset = 0.0
        self._bills: dict[str, Bill] = {}
        self._cashins: list[CashIn] = []
        self._tokens: dict[str, datetime] = {}
        self._faults: list[Fault] = []
        self._stats = Stats()
        self._wake = threading.Event()
        self._stopped = False
        # References stay unique across resets and restarts: a dashboard database outlives both.
        self._reference_series = 10 + secrets.randbelow(90)
        self._next_reference = 100 + secrets.randbelow(900)
        self._load()

    # -- clock -------------------------------------------------------------------------------

    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + timedelta(seconds=self._clock_offset)

    def advance_clock(self, seconds: float) -> datetime:
        with self._lock:
            self._clock_offset += seconds
            self._save()
            return self.now()

    # -- tokens ------------------------------------------------------------------------------

    def issue_token(self, ttl: int | None = None) -> tuple[str, int]:
        """A new bearer token and its lifetime in seconds (sandbox clock)."""
        lifetime = self._token_ttl if ttl is None else ttl
        with self._lock:
            now = self.now()
            self._tokens = {tok: exp for tok, exp in self._tokens.items() if exp > now}
            token = secrets.token_urlsafe(22)[:30]
            self._tokens[token] = now + timedelta(seconds=lifetime)
            self._stats.tokens_issued += 1
            return token, lifetime

    def token_is_valid(self, token: str) -> bool:
        with self._lock:
            expires_at = self._tokens.get(token)
            return expires_at is not None and expires_at > self.now()

    def revoke_tokens(self) -> int:
        with self._lock:
            revoked = len(self._tokens)
            self._tokens.clear()
            return revoked

    # -- bills -------------------------------------------------------------------------------

    def create_bill(
        self,
        *,
        amount: int,
        payer: str,
        description: str,
        merchant_reference: str,
        bank: str | None,
        bank_client_id: str | None,
        redirect_uri: str | None,
        code_prefix: str = "BILL",
    ) -> Bill:
        """A new pending bill; v1 codes look like BILL-YYYYMMDD-XXXXXXXXXX, v2 CODE-…-XXXXXXX."""
        with self._lock:
            if any(b.merchant_reference == merchant_reference for b in self._bills.values()):
                raise DuplicateReference(merchant_reference)
            now = self.now()
            bank_obj = find_bank(bank) if bank else None
            lifetime = (
                MOBILE_BILL_LIFETIME
                if bank_obj is not None and bank_obj.bank_type == "MOB"
                else BILL_LIFETIME
            )
            code = self._new_bill_code(now, code_prefix)
            bill = Bill(
                code=code,
                merchant_reference=merchant_reference,
                amount=amount,
                description=description,
                payer=payer,
                bank=bank,
                bank_client_id=bank_client_id,
                redirect_uri=redirect_uri,
                created_at=now,
                expires_at=now + lifetime,
            )
            self._bills[code] = bill
            self._save()
            return copy.copy(bill)

    def _new_bill_code(self, now: datetime, prefix: str) -> str:
        length = 7 if prefix == "CODE" else 10
        while True:
            suffix = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))
            code = f"{prefix}-{now:%Y%m%d}-{suffix}"
            if code not in self._bills:
                return code

    def _refresh_expiry(self, bill: Bill) -> None:
        if bill.is_pending and self.now() >= bill.expires_at:
            bill.status = EXPIRED
            bill.settled_at = bill.expires_at
            self._save()

    def get_bill(self, code: str) -> Bill | None:
        with self._lock:
            bill = self._bills.get(code)
            if bill is None:
                return None
            self._refresh_expiry(bill)
            return copy.copy(bill)

    def find_bill(self, *, bill_code: str, merchant_reference: str) -> Bill | None:
        """The bill only when both values belong to it (verify's rule)."""
        with self._lock:
            bill = self._bills.get(bill_code)
            if bill is None or bill.merchant_reference != merchant_reference:
                return None
            self._refresh_expiry(bill)
            return copy.copy(bill)

    def list_bills(self) -> list[Bill]:
        with self._lock:
            for bill in self._bills.values():
                self._refresh_expiry(bill)
            return [copy.copy(bill) for bill in self._bills.values()]

    def settle_bill(self, code: str, status: str) -> Bill:
        """Move a pending bill to a final status; raises KeyError or BillNotPending."""
        if status not in (PAID, EXPIRED, CANCELLED, ERROR):
            raise ValueError(status)
        with self._lock:
            bill = self._bills[code]
            self._refresh_expiry(bill)
            if not bill.is_pending:
                raise BillNotPending(copy.copy(bill))
            bill.status = status
            bill.settled_at = self.now()
            if status == PAID:
                bill.payment_reference = self._new_reference()
            self._save()
            return copy.copy(bill)

    # -- cash-ins ----------------------------------------------------------------------------

    def record_cashin(
        self,
        *,
        merchant_reference: str,
        bank_slug: str,
        account: str,
        amount: int,
        description: str,
        numeric_reference: bool = False,
    ) -> CashIn:
        """Record a cash-in; v2 references are 14 digits, v1 ones CPT-<n>/01-<n>."""
        with self._lock:
            if any(c.merchant_reference == merchant_reference for c in self._cashins):
                raise DuplicateReference(merchant_reference)
            reference = self._new_reference()
            if numeric_reference:
                number = reference.rsplit("-", 1)[1]
                reference = f"{self.now():%y%m%d%H%M}{int(number) % 10000:04d}"
            cashin = CashIn(
                merchant_reference=merchant_reference,
                bank_slug=bank_slug,
                account=account,
                amount=amount,
                description=description,
                reference=reference,
                received_at=self.now(),
            )
            self._cashins.append(cashin)
            self._save()
            return cashin

    def find_cashin(self, merchant_reference: str) -> CashIn | None:
        with self._lock:
            for cashin in self._cashins:
                if cashin.merchant_reference == merchant_reference:
                    return cashin
            return None

    def find_bill_by_reference(self, merchant_reference: str) -> Bill | None:
        with self._lock:
            for bill in self._bills.values():
                if bill.merchant_reference == merchant_reference:
                    self._refresh_expiry(bill)
                    return copy.copy(bill)
            return None

    def list_cashins(self) -> list[CashIn]:
        with self._lock:
            return list(self._cashins)

    def _new_reference(self) -> str:
        number = self._next_reference
        self._next_reference += 1
        return f"CPT-{self._reference_series}/01-{number}"

    # -- statistics and faults ---------------------------------------------------------------

    def count_request(self, path: str, *, is_token_endpoint: bool) -> None:
        with self._lock:
            if is_token_endpoint:
                self._stats.token_requests += 1
            elif path.startswith("/api/"):
                self._stats.api_requests[path] = self._stats.api_requests.get(path, 0) + 1

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "token_requests": self._stats.token_requests,
                "tokens_issued": self._stats.tokens_issued,
                "api_requests": dict(self._stats.api_requests),
                "faulted_requests": self._stats.faulted_requests,
                "bills": len(self._bills),
                "cashins": len(self._cashins),
                "active_faults": len(self._faults),
                "now": isoformat(self.now()),
            }

    def add_fault(self, fault: Fault) -> list[Fault]:
        with self._lock:
            self._faults.append(fault)
            return [copy.copy(f) for f in self._faults]

    def list_faults(self) -> list[Fault]:
        with self._lock:
            return [copy.copy(f) for f in self._faults]

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._interrupt_sleepers()

    def take_faults(self, path: str, *, is_token_endpoint: bool) -> FaultEffect:
        """Combine the faults matching this request and use up one of each one's count."""
        with self._lock:
            latency = stall = 0.0
            status: int | None = None
            garbage = False
            token_ttl: int | None = None
            response_code: str | None = None
            kept: list[Fault] = []
            for fault in self._faults:
                if fault.matches(path, is_token_endpoint):
                    latency += fault.latency
                    stall += fault.stall
                    status = fault.status if fault.status is not None else status
                    garbage = garbage or fault.garbage
                    response_code = fault.response_code or response_code
                    if fault.token_ttl is not None and is_token_endpoint:
                        token_ttl = fault.token_ttl
                    if fault.count is not None:
                        fault.count -= 1
                        if fault.count <= 0:
                            continue
                kept.append(fault)
            self._faults = kept
            effect = FaultEffect(latency, stall, status, garbage, token_ttl, response_code)
            if effect.any:
                self._stats.faulted_requests += 1
            return effect

    # -- sleeping that shutdown and reset can cut short --------------------------------------

    def sleep(self, seconds: float) -> None:
        """Wait up to ``seconds``; returns early on reset, fault clearing or shutdown."""
        with self._lock:
            wake = self._wake
        if seconds > 0:
            wake.wait(seconds)

    def _interrupt_sleepers(self) -> None:
        self._wake.set()
        if not self._stopped:
            self._wake = threading.Event()

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            self._wake.set()

    # -- reset and persistence ---------------------------------------------------------------

    def reset(self) -> None:
        with self._lock:
            self._clock_offset = 0.0
            self._bills.clear()
            self._cashins.clear()
            self._tokens.clear()
            self._faults.clear()
            self._stats = Stats()
            self._interrupt_sleepers()
            self._save()

    def _save(self) -> None:
        if self._state_file is None:
            return
        data = {
            "clock_offset": self._clock_offset,
            "reference_series": self._reference_series,
            "next_reference": self._next_reference,
            "bills": [
                {
                    **asdict(bill),
                    "created_at": isoformat(bill.created_at),
                    "expires_at": isoformat(bill.expires_at),
                    "settled_at": isoformat(bill.settled_at) if bill.settled_at else None,
                }
                for bill in self._bills.values()
            ],
            "cashins": [
                {**asdict(cashin), "received_at": isoformat(cashin.received_at)}
                for cashin in self._cashins
            ],
        }
        directory = self._state_file.parent
        directory.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a crash never leaves half a file behind.
        fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".sandbox-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=1)
        os.replace(tmp_name, self._state_file)

    def _load(self) -> None:
        if self._state_file is None or not self._state_file.exists():
            return
        data = json.loads(self._state_file.read_text(encoding="utf-8"))
        self._clock_offset = float(data.get("clock_offset", 0.0))
        self._reference_series = int(data.get("reference_series", self._reference_series))
        self._next_reference = int(data.get("next_reference", self._next_reference))
        for raw in data.get("bills", []):
            bill = Bill(
                **{
                    **raw,
                    "created_at": _parse_time(raw["created_at"]),
                    "expires_at": _parse_time(raw["expires_at"]),
                    "settled_at": _parse_time(raw["settled_at"]) if raw["settled_at"] else None,
                }
            )
            self._bills[bill.code] = bill
        for raw in data.get("cashins", []):
            self._cashins.append(CashIn(**{**raw, "received_at": _parse_time(raw["received_at"])}))
