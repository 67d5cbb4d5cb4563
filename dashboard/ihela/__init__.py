"""Client for the iHela merchant gateway: typed results, typed errors, no Flask, no database."""

from .client import IhelaClient, validate_base_url
from .errors import (
    AccountNotFound,
    AuthenticationFailed,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    IhelaError,
    OutcomeUnknown,
)
from .types import (
    AccountHolder,
    Bank,
    BankLimits,
    Bill,
    BillCheck,
    BillStatus,
    CashinResult,
    normalise_bill_status,
)

__all__ = [
    "AccountHolder",
    "AccountNotFound",
    "AuthenticationFailed",
    "Bank",
    "BankLimits",
    "Bill",
    "BillCheck",
    "BillStatus",
    "CashinResult",
    "GatewayRejected",
    "GatewayTimeout",
    "GatewayUnavailable",
    "IhelaClient",
    "IhelaError",
    "OutcomeUnknown",
    "normalise_bill_status",
    "validate_base_url",
]
