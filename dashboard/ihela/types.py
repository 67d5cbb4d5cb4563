"""Typed results of gateway calls: amounts are whole francs, statuses are normalised."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

# iHela's own bank: where a payer known to iHela (e-mail, phone, client code) holds an account.
IHELA_BANK_SLUG = "MF1-0001"


class BillStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    FAILED = "failed"
    UNKNOWN = "unknown"


# Init replies say "Initiated", verify replies "Pending", v2 "Initial": all mean "not paid yet".
_STATUS_BY_WIRE = {
    "initiated": BillStatus.PENDING,
    "pending": BillStatus.PENDING,
    "initial": BillStatus.PENDING,
    "paid": BillStatus.PAID,
    "expired": BillStatus.EXPIRED,
    "cancelled": BillStatus.CANCELLED,
    "canceled": BillStatus.CANCELLED,
    "error": BillStatus.FAILED,
}


def normalise_bill_status(raw: str) -> BillStatus:
    """Map a gateway status word to a BillStatus; words we do not know become UNKNOWN."""
    return _STATUS_BY_WIRE.get(raw.strip().lower(), BillStatus.UNKNOWN)


@dataclass(frozen=True)
class Bill:
    code: str
    merchant_reference: str
    amount: int
    description: str
    payer: str | None
    status: BillStatus
    raw_status: str
    confirmation_uri: str | None  # v2 bills have no page: the payer confirms in their app
    payment_reference: str | None
    redirect_uri: str | None
    created_at: datetime | None
    expired: bool
    bank: str | None
    bank_client_id: str | None
    merchant_title: str | None
    raw: dict[str, Any] = field(repr=False)
    # The payer's other identifiers at iHela ((kind, value): email, username, code), when the
    # reply names the payer's iHela user: one person however they were billed.
    payer_identity: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class BillCheck:
    bill_code: str
    merchant_reference: str
    status: BillStatus
    raw_status: str
    bank_reference: str | None
    message: str | None
    raw: dict[str, Any] = field(repr=False)
    payer_name: str | None = None  # the payer's name, when the reply carries one


@dataclass(frozen=True)
class BankLimits:
    """Per-bank bounds in whole francs; ``in_*`` apply to money sent into that bank (cash-ins)."""

    in_minimum: int | None
    in_maximum: int | None
    out_minimum: int | None
    out_maximum: int | None


@dataclass(frozen=True)
class Bank:
    slug: str
    name: str
    bank_type: str
    logo_url: str | None
    icon_url: str | None
    account_mask: str | None
    limits: BankLimits | None
    is_active: bool
    has_lookup: bool
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class AccountHolder:
    bank_slug: str
    account_number: str
    name: str
    raw: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class CashinResult:
    reference: str
    merchant_reference: str
    amount: int
    bank_slug: str
    account: str
    message: str | None
    raw: dict[str, Any] = field(repr=False)


class OperationOutcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    PENDING = "pending"
    NOT_FOUND = "not_found"  # the gateway has no operation under our reference
    UNKNOWN = "unknown"  # a status word we do not know


@dataclass(frozen=True)
class OperationStatus:
    """What the gateway says became of a money-moving operation we asked for."""

    merchant_reference: str
    outcome: OperationOutcome
    raw_status: str
    reference: str | None
    amount: int | None
    message: str | None
    raw: dict[str, Any] = field(repr=False)
