"""iHela's newer API generation, "v2" (ihela-api.md §3.6 and §5).

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
from typing import Any
from urllib.parse import quote

from .errors import AccountNotFound, GatewayRejected, GatewayUnavailable, IhelaError
from .replies import (
    MalformedReply,
    error_message,
    flatten_field_errors,
    parse_bank_list,
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
from .wire import Operation, OperationNotFound, WireRequest

BILL_INIT = Operation("bill init", "POST", "api/v2/payments/bill-init/", moves_money=True)
BILL_CHECK = Operation("bill verify", "POST", "api/v2/payments/bill-check/", moves_money=False)
BANK_LIST = Operation("bank list", "GET", "api/v2/payments/bank/", moves_money=False)
LOOKUP = "api/v2/bank/{slug}/account/lookup/"
CASHIN = Operation("cash-in", "POST", "api/v2/payments/cash-in/", moves_money=True)
STATUS = Operation("operation status", "POST", "api/v2/operations/status/", moves_money=False)

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
    name = "v2"
    retries_reads = True
    can_check_operations = True

    def __init__(self, pin: str) -> None:
        if not pin:
            raise ValueError("iHela's v2 API needs the merchant PIN (DASHBOARD_IHELA_PIN).")
        self._pin = pin

    def __repr__(self) -> str:
        return "V2Dialect(pin='***')"

    def init_bill(
        self,
        amount: int,
        payer: str,
        description: str,
        merchant_reference: str,
        *,
        bank: str | None,
        bank_client_id: str | None,
        redirect_uri: str | None,
    ) -> WireRequest[Bill]:
        # v2 has one payer field; like the SDK we send the payer there, not bank_client_id.
        body = {
            "debit_bank": bank,
            "debit_account": payer,
            "amount": amount,
            "description": description,
            "merchant_description": description,
            "merchant_reference": merchant_reference,
            "redirect_uri": redirect_uri,
            "pin_code": self._pin,
        }

        def parse(reply: dict[str, Any]) -> Bill:
            data = _data(reply)
            _expect_echo(data, "merchant_reference", merchant_reference)
            raw_status = _optional(data, "status") or "Initial"
            return Bill(
                code=_required(data, "code"),
                merchant_reference=merchant_reference,
                amount=amount,
                description=description,
                payer=payer,
                status=normalise_bill_status(raw_status),
                raw_status=raw_status,
                confirmation_uri=_optional(data, "confirmation_uri"),
                payment_reference=_optional(data, "reference"),
                redirect_uri=redirect_uri,
                created_at=None,
                expired=False,
                bank=bank,
                bank_client_id=bank_client_id,
                merchant_title=None,
                raw=dict(reply),
            )

        return WireRequest(BILL_INIT, parse, json=body)

    def verify_bill(self, bill_code: str, merchant_reference: str) -> WireRequest[BillCheck]:
        body = {
            "bill_code": bill_code,
            "merchant_reference": merchant_reference,
            "pin_code": self._pin,
        }

        def parse(reply: dict[str, Any]) -> BillCheck:
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

        return WireRequest(BILL_CHECK, parse, json=body)

    def bank_list(self) -> WireRequest[list[Bank]]:
        return WireRequest(BANK_LIST, parse_bank_list)

    def customer_lookup(self, bank_slug: str, account: str) -> WireRequest[AccountHolder]:
        operation = Operation(
            "account lookup", "GET", LOOKUP.format(slug=quote(bank_slug, safe="")), False
        )

        def parse(reply: dict[str, Any]) -> AccountHolder:
            data = _data(reply)
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
        operation = Operation(
            "account lookup", "GET", LOOKUP.format(slug=quote(IHELA_BANK_SLUG, safe="")), False
        )

        def parse(reply: dict[str, Any]) -> AccountHolder:
            data = _data(reply)
            return AccountHolder(
                bank_slug=IHELA_BANK_SLUG,
                account_number=_required(data, "account_number").strip(),
                name=_required(data, "name").strip(),
                raw=dict(reply),
            )

        return WireRequest(
            operation, parse, query={"account_number": customer}, not_found=AccountNotFound
        )

    def cashin(
        self,
        bank_slug: str,
        account: str,
        amount: int,
        merchant_reference: str,
        description: str,
        holder_name: str | None,
    ) -> WireRequest[CashinResult]:
        body = {
            "credit_bank": bank_slug,
            "credit_account": account,
            # As the SDK does when the holder is not given: the account number stands in.
            "credit_account_holder": holder_name or account,
            "amount": amount,
            "merchant_reference": merchant_reference,
            "description": description,
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
                amount=amount,
                bank_slug=bank_slug,
                account=account,
                message=_optional(reply, "response_message"),
                raw=dict(reply),
            )

        return WireRequest(CASHIN, parse, json=body)

    def operation_status(self, merchant_reference: str) -> WireRequest[OperationStatus]:
        body = {"external_reference": merchant_reference, "pin_code": self._pin}

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

        return WireRequest(STATUS, parse, json=body, not_found=OperationNotFound)

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
            error_class = not_found if code == NOT_FOUND else GatewayRejected
            return error_class(
                message,
                status=status,
                raw=body,
                field_errors=fields,
                operation=operation.label,
                gateway_text=error_message(body, ""),
            )
        return None

    def says_not_found(self, status: int, body: dict[str, Any] | None) -> bool:
        # A bare 404 may come from a proxy or a wrong path: only iHela's envelope says "04".
        return body is not None and _code(body) == NOT_FOUND


def _code(body: Mapping[str, Any]) -> str | None:
    code = body.get("response_code")
    return str(code).strip() if isinstance(code, str | int) and not isinstance(code, bool) else None


def _data(reply: Mapping[str, Any]) -> dict[str, Any]:
    if reply.get("success") is not True:
        raise MalformedReply("the reply does not say 'success': true")
    data = reply.get("response_data")
    if not isinstance(data, dict):
        raise MalformedReply("'response_data' is missing or not an object")
    return data


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
