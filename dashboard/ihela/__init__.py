"""Client for the iHela merchant gateway: typed results, typed errors, no Flask, no database."""

from .breaker import BreakerState, BreakerStore, CircuitBreaker, GatewayDown, MemoryStore
from .client import API_VERSIONS, IhelaClient, validate_base_url
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
    IHELA_BANK_SLUG,
    AccountHolder,
    Bank,
    BankLimits,
    Bill,
    BillCheck,
    BillStatus,
    CashinResult,
    OperationOutcome,
    OperationStatus,
    normalise_bill_status,
)
from .wire import OperationNotFound

__all__ = [
    "API_VERSIONS",
    "IHELA_BANK_SLUG",
    "AccountHolder",
    "AccountNotFound",
    "AuthenticationFailed",
    "Bank",
    "BankLimits",
    "Bill",
    "BillCheck",
    "BillStatus",
    "BreakerState",
    "BreakerStore",
    "CashinResult",
    "CircuitBreaker",
    "GatewayDown",
    "GatewayRejected",
    "GatewayTimeout",
    "GatewayUnavailable",
    "IhelaClient",
    "IhelaError",
    "MemoryStore",
    "OperationNotFound",
    "OperationOutcome",
    "OperationStatus",
    "OutcomeUnknown",
    "normalise_bill_status",
    "validate_base_url",
]
