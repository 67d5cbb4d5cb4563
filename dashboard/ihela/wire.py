"""What a wire dialect hands the client: one request to send and how to read its reply.

The client (``client.py``) owns HTTP, tokens, timeouts and what a failure means for money. A
dialect (``wire_v1.py``, ``wire_v2.py`` with its two path tables) owns everything iHela names:
paths, field names, body encoding and reply envelopes. Services only ever see the client's typed
results and errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

from .errors import GatewayRejected, IhelaError
from .types import AccountHolder, Bank, Bill, BillCheck, CashinResult, OperationStatus

T = TypeVar("T")


@dataclass(frozen=True)
class Operation:
    label: str  # used in messages shown to staff
    method: str
    path: str  # relative to the base URL
    moves_money: bool


TOKEN = Operation("token", "POST", "oAuth2/token/", moves_money=False)


@dataclass(frozen=True)
class WireRequest(Generic[T]):
    operation: Operation
    parse: Callable[[dict[str, Any]], T]
    form: Mapping[str, str | None] | None = None  # sent form-encoded; None values dropped
    json: Mapping[str, Any] | None = None  # sent as a JSON body; None values dropped
    query: Mapping[str, str] | None = None
    not_found: type[GatewayRejected] = GatewayRejected  # what a 404 means


@dataclass(frozen=True)
class BillRequest:
    """A bill to ask for, in the dashboard's words (each dialect names the fields its way)."""

    amount: int
    payer: str
    description: str
    merchant_reference: str
    bank: str | None = None
    bank_client_id: str | None = None
    redirect_uri: str | None = None


@dataclass(frozen=True)
class CashinRequest:
    """Money to send to an account, in the dashboard's words."""

    bank_slug: str
    account: str
    amount: int
    merchant_reference: str
    description: str
    holder_name: str | None = None


class Dialect(Protocol):
    """One shape of iHela's merchant API: v1, or v2 on either path table."""

    name: str
    # Whether a read that found the gateway unavailable is asked once more (never money).
    retries_reads: bool
    # Whether ``operation_status`` exists in this shape.
    can_check_operations: bool

    def init_bill(self, bill: BillRequest) -> WireRequest[Bill]: ...

    def verify_bill(self, bill_code: str, merchant_reference: str) -> WireRequest[BillCheck]: ...

    def bank_list(self) -> WireRequest[list[Bank]]: ...

    def cashin_bank_list(self) -> WireRequest[list[Bank]] | None:
        """The banks that take money in, where the shape has such a list."""
        ...

    def customer_lookup(self, bank_slug: str, account: str) -> WireRequest[AccountHolder]: ...

    def customer_account(self, customer: str) -> WireRequest[AccountHolder]: ...

    def cashin(self, cashin: CashinRequest) -> WireRequest[CashinResult]: ...

    def operation_status(self, merchant_reference: str) -> WireRequest[OperationStatus]: ...

    def refusal(
        self,
        operation: Operation,
        status: int,
        body: dict[str, Any] | None,
        not_found: type[GatewayRejected],
    ) -> IhelaError | None:
        """A dialect-specific reading of a reply that says no; None: use the common rules."""
        ...

    def says_not_found(
        self, operation: Operation, status: int, body: dict[str, Any] | None
    ) -> bool:
        """Whether an HTTP 404 is the gateway's own "no such thing" (else: no usable answer).

        Settling money as failed rests on this, so it must be iHela's statement, not a proxy's.
        """
        ...

    def probes(self) -> dict[str, Operation]:
        """The POST-only routes this shape relies on, by label (``flask ihela check`` probes
        them with a GET: 405 where the route exists, 404 where it does not)."""
        ...


def lookup_operation(template: str, bank_slug: str) -> Operation:
    return Operation(
        "account lookup", "GET", template.format(slug=quote(bank_slug, safe="")), False
    )


class OperationNotFound(GatewayRejected):
    """The gateway has no operation under the reference we asked about."""
