"""iHela's first API generation, as ihela-python-client 0.0.5 speaks it (ihela-api.md §3.1-3.5).

Form-encoded bodies, resource-keyed replies (``{"bill": ...}``, flat cash-in echo); the reply
readers are in ``replies.py``.
"""

from __future__ import annotations

from typing import Any

from dashboard.money import amount_to_wire

from .errors import AccountNotFound, GatewayRejected, IhelaError
from .replies import (
    parse_account_holder,
    parse_bank_list,
    parse_bill,
    parse_bill_check,
    parse_cashin,
    parse_customer_account,
)
from .types import (
    IHELA_BANK_SLUG,
    AccountHolder,
    Bank,
    Bill,
    BillCheck,
    CashinResult,
    OperationStatus,
)
from .wire import BillRequest, CashinRequest, Operation, WireRequest, lookup_operation

BILL_INIT = Operation("bill init", "POST", "api/v1/payments/bill/init/", moves_money=True)
BILL_VERIFY = Operation("bill verify", "POST", "api/v1/payments/bill/verify/", moves_money=False)
BANK_LIST = Operation("bank list", "GET", "api/v1/payments/bank/", moves_money=False)
LOOKUP = "api/v1/bank/{slug}/account/lookup/"
CASHIN = Operation("cash-in", "POST", "api/v1/payments/cash-in/", moves_money=True)


class V1Dialect:
    name = "v1"
    retries_reads = False  # as before: the services decide when to ask again
    can_check_operations = False  # v1 has no status call: a person settles unknown payouts

    def init_bill(self, bill: BillRequest) -> WireRequest[Bill]:
        bank_client_id = bill.bank_client_id
        if bill.bank is not None and bank_client_id is None:
            # As the 0.0.5 client does: a partner bank needs the payer's id in that bank.
            bank_client_id = bill.payer
        form = {
            "amount": amount_to_wire(bill.amount),
            "user": bill.payer,
            "description": bill.description,
            "merchant_reference": bill.merchant_reference,
            "bank": bill.bank,
            "bank_client_id": bank_client_id,
            "redirect_uri": bill.redirect_uri,
        }
        return WireRequest(
            BILL_INIT,
            lambda reply: parse_bill(
                reply, expected_amount=bill.amount, expected_reference=bill.merchant_reference
            ),
            form=form,
        )

    def verify_bill(self, bill_code: str, merchant_reference: str) -> WireRequest[BillCheck]:
        # v1 names these the other way round: ``reference`` is the bill code, ``code`` ours.
        return WireRequest(
            BILL_VERIFY,
            lambda reply: parse_bill_check(
                reply, bill_code=bill_code, merchant_reference=merchant_reference
            ),
            form={"reference": bill_code, "code": merchant_reference},
        )

    def bank_list(self) -> WireRequest[list[Bank]]:
        return WireRequest(BANK_LIST, parse_bank_list)

    def cashin_bank_list(self) -> None:
        return None  # v1 has one list of banks

    def customer_lookup(self, bank_slug: str, account: str) -> WireRequest[AccountHolder]:
        return WireRequest(
            lookup_operation(LOOKUP, bank_slug),
            lambda reply: parse_account_holder(reply, bank_slug=bank_slug, account=account),
            query={"customer_id": account},
            not_found=AccountNotFound,
        )

    def customer_account(self, customer: str) -> WireRequest[AccountHolder]:
        # The same lookup, asked about a person (e-mail, phone, client code) at iHela's own bank.
        return WireRequest(
            lookup_operation(LOOKUP, IHELA_BANK_SLUG),
            lambda reply: parse_customer_account(reply, bank_slug=IHELA_BANK_SLUG),
            query={"customer_id": customer},
            not_found=AccountNotFound,
        )

    def cashin(self, cashin: CashinRequest) -> WireRequest[CashinResult]:
        form = {
            "bank_slug": cashin.bank_slug,
            "account": cashin.account,
            "amount": amount_to_wire(cashin.amount),
            "merchant_reference": cashin.merchant_reference,
            "description": cashin.description,
        }
        return WireRequest(
            CASHIN,
            lambda reply: parse_cashin(
                reply,
                bank_slug=cashin.bank_slug,
                account=cashin.account,
                amount=cashin.amount,
                merchant_reference=cashin.merchant_reference,
            ),
            form=form,
        )

    def operation_status(self, merchant_reference: str) -> WireRequest[OperationStatus]:
        raise NotImplementedError("iHela's v1 API has no operation status call.")

    def refusal(
        self,
        operation: Operation,
        status: int,
        body: dict[str, Any] | None,
        not_found: type[GatewayRejected],
    ) -> IhelaError | None:
        return None  # the client's common rules are v1's rules

    def says_not_found(
        self, operation: Operation, status: int, body: dict[str, Any] | None
    ) -> bool:
        return status == 404  # v1 answers "not found" with the status alone

    def probes(self) -> dict[str, Operation]:
        return {"bill init": BILL_INIT, "bill verify": BILL_VERIFY, "cash-in": CASHIN}
