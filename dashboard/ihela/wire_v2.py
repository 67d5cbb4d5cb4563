"""iHela's newer API generation, "v2" (ihela-api.md §3.6 and §5), on either path table.

One dialect, two shapes that differ only by their paths (``V2Paths``): ``v2`` under ``api/v2/``
as we read iHela's documentation, and ``v2-on-v1`` as the published ihela-sdk 0.4.0 calls it
(``api/v1/payments/bill-init/`` ..., status by ``ihela/api/v1/transaction-status/``).

JSON bodies carrying the merchant PIN, and every reply in one envelope:
``{"success": bool, "response_code": "00", "response_message": str, "response_data": {...}}``.
Response code "05" is a refusal for insufficient funds, "07" a transient failure (nothing done).

Assumption (no source shows it): ``operations/status/`` is a POST of
``{external_reference, pin_code}`` answering ``response_data`` =
``{external_reference, reference, status, amount, date}`` with status ``Success``, ``Failed`` or
``Pending``, and HTTP 404 when no operation carries that reference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import AccountNotFound, GatewayRejected, GatewayUnavailable, IhelaError
from .replies import (
    MalformedReply,
    error_message,
    flatten_field_errors,
    parse_bank_list,
    parse_bill_check,
    read_amount,
)
from .types import (
    IHELA_BANK_SLUG,
    AccountHolder,
    Bank,
    Bill,
    BillCheck,
    BillStatus,
    CashinResult,
    OperationOutcome,
    OperationStatus,
    normalise_bill_status,
)
from .wire import (
    BillRequest,
    CashinRequest,
    Operation,
    OperationNotFound,
    WireRequest,
    lookup_operation,
)


@dataclass(frozen=True)
class V2Paths:
    """Where one v2-speaking gateway serves each call: the only difference between shapes."""

    name: str  # the DASHBOARD_IHELA_API value
    bill_init: Operation
    bill_check: Operation
    bank_list: Operation
    cashin_bank_list: Operation
    lookup: str  # with {slug}
    cashin: Operation
    status: Operation
    status_with_pin: bool  # operations/status carries the PIN; transaction-status does not
    # The SDK's lookup is v1's own route (the one 0.0.x calls), which answers as v1 does.
    lookup_answers_as_v1: bool


def _paths(name: str, prefix: str, status: str, *, status_with_pin: bool) -> V2Paths:
    v1_lookup = prefix == "api/v1"
    return V2Paths(
        name=name,
        bill_init=Operation("bill init", "POST", f"{prefix}/payments/bill-init/", True),
        bill_check=Operation("bill verify", "POST", f"{prefix}/payments/bill-check/", False),
        bank_list=Operation("bank list", "GET", f"{prefix}/payments/bank/", False),
        cashin_bank_list=Operation("bank list", "GET", f"{prefix}/payments/bank/cashin/", False),
        lookup=prefix + "/bank/{slug}/account/lookup/",
        cashin=Operation("cash-in", "POST", f"{prefix}/payments/cash-in/", True),
        status=Operation("operation status", "POST", status, False),
        status_with_pin=status_with_pin,
        lookup_answers_as_v1=v1_lookup,
    )


# Our reading of iHela's v2 documentation: everything under api/v2/.
V2_PATHS = _paths("v2", "api/v2", "api/v2/operations/status/", status_with_pin=True)
# As the published ihela-sdk 0.4.0 calls it: the v2 bodies on api/v1/ paths, and its only
# status lookup, ihela/api/v1/transaction-status/ with {external_reference, reference}.
SDK_PATHS = _paths("v2-on-v1", "api/v1", "ihela/api/v1/transaction-status/", status_with_pin=False)
PATH_TABLES = {table.name: table for table in (V2_PATHS, SDK_PATHS)}

SUCCESS = "00"
NOT_FOUND = "04"  # iHela's own "no such operation/account/bill": the only reply read as not found
INSUFFICIENT_FUNDS = "05"
TRY_LATER = "07"

# v2 field names → the v1 names the rest of the dashboard knows (services map those to forms).
_FIELD_NAMES = {
    "debit_account": "user",
    "debit_bank": "bank",
    "credit_bank": "bank_slug",
    "credit_account": "account",
    "credit_account_holder": "account",
}

_OUTCOME_BY_WORD = {
    "success": OperationOutcome.SUCCEEDED,
    "succeeded": OperationOutcome.SUCCEEDED,
    "successful": OperationOutcome.SUCCEEDED,
    "done": OperationOutcome.SUCCEEDED,
    "paid": OperationOutcome.SUCCEEDED,
    "failed": OperationOutcome.FAILED,
    "error": OperationOutcome.FAILED,
    "rejected": OperationOutcome.FAILED,
    "canceled": OperationOutcome.FAILED,
    "cancelled": OperationOutcome.FAILED,
    "pending": OperationOutcome.PENDING,
    "initial": OperationOutcome.PENDING,
    "processing": OperationOutcome.PENDING,
}


class V2Dialect:
    retries_reads = True
    can_check_operations = True

    def __init__(self, pin: str, paths: V2Paths = V2_PATHS) -> None:
        if not pin:
            raise ValueError("iHela's v2 API needs the merchant PIN (DASHBOARD_IHELA_PIN).")
        self._pin = pin
        self.paths = paths
        self.name = paths.name

    def __repr__(self) -> str:
        return f"V2Dialect(pin='***', paths={self.name!r})"

    def init_bill(self, bill: BillRequest) -> WireRequest[Bill]:
        # v2 has one payer field; like the SDK we send the payer there, not bank_client_id.
        body = {
            "debit_bank": bill.bank,
            "debit_account": bill.payer,
            "amount": bill.amount,
            "description": bill.description,
            "merchant_description": bill.description,
            "merchant_reference": bill.merchant_reference,
            "redirect_uri": bill.redirect_uri,
            "pin_code": self._pin,
        }

        def parse(reply: dict[str, Any]) -> Bill:
            # The SDK's own fixtures answer {"bill": {...}}, as v1 does: read that too.
            data = _data(reply, resource="bill")
            _expect_echo(data, "merchant_reference", bill.merchant_reference)
            echoed_amount = data.get("amount")
            if echoed_amount is not None and read_amount(echoed_amount) != bill.amount:
                raise MalformedReply(f"the gateway answered about amount {echoed_amount!r}")
            raw_status = _status(data) or "Initial"
            return Bill(
                code=_required(data, "code"),
                merchant_reference=bill.merchant_reference,
                amount=bill.amount,
                description=bill.description,
                payer=bill.payer,
                status=normalise_bill_status(raw_status),
                raw_status=raw_status,
                confirmation_uri=_optional(data, "confirmation_uri"),
                payment_reference=_optional(data, "reference")
                or _optional(data, "payment_reference"),
                redirect_uri=bill.redirect_uri,
                created_at=None,
                expired=False,
                bank=bill.bank,
                bank_client_id=bill.bank_client_id,
                merchant_title=None,
                raw=dict(reply),
            )

        return WireRequest(self.paths.bill_init, parse, json=body)

    def verify_bill(self, bill_code: str, merchant_reference: str) -> WireRequest[BillCheck]:
        body = {
            "bill_code": bill_code,
            "merchant_reference": merchant_reference,
            "pin_code": self._pin,
        }

        def parse(reply: dict[str, Any]) -> BillCheck:
            if "response_data" not in reply and isinstance(reply.get("bill"), dict):
                # A v1-shaped verify reply: its own reader knows its crossed-over names.
                return parse_bill_check(
                    reply, bill_code=bill_code, merchant_reference=merchant_reference
                )
            data = _data(reply)
            _expect_echo(data, "bill_code", bill_code)
            _expect_echo(data, "merchant_reference", merchant_reference)
            raw_status = _required(data, "status")
            status = normalise_bill_status(raw_status)
            return BillCheck(
                bill_code=bill_code,
                merchant_reference=merchant_reference,
                status=status,
                raw_status=raw_status,
                bank_reference=_optional(data, "payment_reference"),
                message=_optional(reply, "response_message")
                if status != BillStatus.PENDING
                else None,
                raw=dict(reply),
            )

        return WireRequest(self.paths.bill_check, parse, json=body)

    def bank_list(self) -> WireRequest[list[Bank]]:
        return WireRequest(self.paths.bank_list, parse_bank_list)

    def cashin_bank_list(self) -> WireRequest[list[Bank]]:
        return WireRequest(self.paths.cashin_bank_list, parse_bank_list)

    def customer_lookup(self, bank_slug: str, account: str) -> WireRequest[AccountHolder]:
        operation = lookup_operation(self.paths.lookup, bank_slug)

        def parse(reply: dict[str, Any]) -> AccountHolder:
            data = _data(reply, flat=True)
            return AccountHolder(
                bank_slug=bank_slug,
                account_number=_optional(data, "account_number") or account,
                name=_required(data, "name").strip(),
                raw=dict(reply),
            )

        return WireRequest(
            operation, parse, query={"account_number": account}, not_found=AccountNotFound
        )

    def customer_account(self, customer: str) -> WireRequest[AccountHolder]:
        # DOC2: ``account_number`` also accepts the person's e-mail or phone number.
        operation = lookup_operation(self.paths.lookup, IHELA_BANK_SLUG)

        def parse(reply: dict[str, Any]) -> AccountHolder:
            data = _data(reply, flat=True)
            return AccountHolder(
                bank_slug=IHELA_BANK_SLUG,
                account_number=_required(data, "account_number").strip(),
                name=_required(data, "name").strip(),
                raw=dict(reply),
            )

        return WireRequest(
            operation, parse, query={"account_number": customer}, not_found=AccountNotFound
        )

    def cashin(self, cashin: CashinRequest) -> WireRequest[CashinResult]:
        merchant_reference = cashin.merchant_reference
        body = {
            "credit_bank": cashin.bank_slug,
            "credit_account": cashin.account,
            # As the SDK does when the holder is not given: the account number stands in.
            "credit_account_holder": cashin.holder_name or cashin.account,
            "amount": cashin.amount,
            "merchant_reference": merchant_reference,
            "description": cashin.description,
            "pin_code": self._pin,
            "currency": "BIF",
        }

        def parse(reply: dict[str, Any]) -> CashinResult:
            data = _data(reply)
            _expect_echo(data, "merchant_reference", merchant_reference)
            if data.get("is_partial") is True:
                # Only part of the money left: not a success we can record as such.
                raise MalformedReply("the gateway says the cash-in was partial")
            return CashinResult(
                reference=_required(data, "reference"),
                merchant_reference=merchant_reference,
                amount=cashin.amount,
                bank_slug=cashin.bank_slug,
                account=cashin.account,
                message=_optional(reply, "response_message"),
                raw=dict(reply),
            )

        return WireRequest(self.paths.cashin, parse, json=body)

    def operation_status(self, merchant_reference: str) -> WireRequest[OperationStatus]:
        body: dict[str, Any] = {"external_reference": merchant_reference}
        if self.paths.status_with_pin:
            body["pin_code"] = self._pin
        else:
            body["reference"] = ""  # iHela's own reference: unknown when the answer was lost

        def parse(reply: dict[str, Any]) -> OperationStatus:
            data = _data(reply)
            _expect_echo(data, "external_reference", merchant_reference)
            raw_status = _required(data, "status")
            amount = data.get("amount")
            return OperationStatus(
                merchant_reference=merchant_reference,
                outcome=_OUTCOME_BY_WORD.get(raw_status.strip().lower(), OperationOutcome.UNKNOWN),
                raw_status=raw_status,
                reference=_optional(data, "reference"),
                amount=None if amount is None else read_amount(amount),
                message=_optional(reply, "response_message"),
                raw=dict(reply),
            )

        return WireRequest(self.paths.status, parse, json=body, not_found=OperationNotFound)

    def refusal(
        self,
        operation: Operation,
        status: int,
        body: dict[str, Any] | None,
        not_found: type[GatewayRejected],
    ) -> IhelaError | None:
        if body is None:
            return None
        code = _code(body)
        if code == TRY_LATER:
            # iHela says it did not act and asking later may work, even for money.
            return GatewayUnavailable(
                error_message(body, "The iHela gateway is busy; try again later."),
                status=status,
                raw=body,
                kind="busy",
                operation=operation.label,
                gateway_text=error_message(body, ""),
            )
        if status >= 500 or status in (408, 429) or 300 <= status < 400:
            return None  # the common rules: unavailable, or outcome unknown for money
        if code == INSUFFICIENT_FUNDS:
            return GatewayRejected(
                error_message(body, "Insufficient funds on the merchant account."),
                status=status,
                raw=body,
                operation=operation.label,
                gateway_text=error_message(body, ""),
            )
        if body.get("success") is False or (code is not None and code != SUCCESS) or status >= 400:
            data = body.get("response_data")
            found = flatten_field_errors(data if isinstance(data, Mapping) else body)
            fields = {_FIELD_NAMES.get(k, k): v for k, v in found.items()}
            # "Invalid request." says less than the field errors it comes with.
            message = (
                error_message({"response_data": None, **fields}, "")
                if fields
                else error_message(body, f"The iHela gateway refused the {operation.label}.")
            )
            said_not_found = code == NOT_FOUND or (
                status == 404 and self.says_not_found(operation, status, body)
            )
            error_class = not_found if said_not_found else GatewayRejected
            return error_class(
                message,
                status=status,
                raw=body,
                field_errors=fields,
                operation=operation.label,
                gateway_text=error_message(body, ""),
            )
        return None

    def says_not_found(
        self, operation: Operation, status: int, body: dict[str, Any] | None
    ) -> bool:
        # A bare 404 may come from a proxy or a wrong path: only iHela's envelope says "04".
        if body is not None and _code(body) == NOT_FOUND:
            return True
        # v1's lookup route says "no such account" with the status (a read: no money rides on it).
        return operation.label == "account lookup" and self.paths.lookup_answers_as_v1

    def probes(self) -> dict[str, Operation]:
        paths = self.paths
        return {
            "bill init": paths.bill_init,
            "bill verify": paths.bill_check,
            "cash-in": paths.cashin,
            "operation status": paths.status,
        }


def _code(body: Mapping[str, Any]) -> str | None:
    code = body.get("response_code")
    return str(code).strip() if isinstance(code, str | int) and not isinstance(code, bool) else None


def _data(
    reply: Mapping[str, Any], resource: str | None = None, *, flat: bool = False
) -> dict[str, Any]:
    """The object an accepted reply is about.

    Read as the SDK reads it: a 2xx whose ``response_code`` is "00" or absent is success (a
    refusal was caught before, in ``refusal``); ``success`` need not be there. The object is
    ``response_data`` or, for a reply shaped as v1 shapes it, ``resource`` (``{"bill": ...}``)
    or, with ``flat``, the reply itself (v1's account lookup).
    Anything else is not understood, so it never reads as success.
    """
    data = reply.get("response_data")
    if isinstance(data, dict):
        return data
    named = reply.get(resource) if resource is not None else None
    if isinstance(named, dict):
        return named
    if flat and "response_data" not in reply:
        return dict(reply)  # a lookup on api/v1/ may answer as v1 does: the holder, flat
    raise MalformedReply("'response_data' is missing or not an object")


def _status(data: Mapping[str, Any]) -> str | None:
    value = data.get("status")
    if isinstance(value, Mapping):  # v1's {"label": "Initiated", "value": "I", ...}
        value = value.get("label") or value.get("value")
    return _optional({"status": value}, "status")


def _required(data: Mapping[str, Any], key: str) -> str:
    value = _optional(data, key)
    if value is None:
        raise MalformedReply(f"{key!r} is missing or empty")
    return value


def _optional(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise MalformedReply(f"{key!r} is not text")
    return value.strip()


def _expect_echo(data: Mapping[str, Any], key: str, sent: str) -> None:
    echoed = _optional(data, key)
    if echoed is not None and echoed != sent:
        raise MalformedReply(f"the gateway answered about {key} {echoed!r}, not {sent!r}")
