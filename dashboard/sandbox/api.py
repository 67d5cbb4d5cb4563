"""The v1 merchant API: token, bill init/verify, bank list, account lookup, cash-in.

``api/v1/payments/cash-in/`` is shared with ihela-sdk 0.4.0's v2 body: ``api_v2.py`` routes it.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from functools import wraps
from typing import Any, ParamSpec
from urllib.parse import urlsplit

from flask import Blueprint, current_app, request
from flask.typing import ResponseReturnValue

from dashboard.money import AmountError, amount_from_wire
from dashboard.sandbox import current_fault, get_state, public_url
from dashboard.sandbox.fixtures import (
    BANKS,
    CURRENCY_ALPHA,
    CURRENCY_NUMERIC,
    OPERATION_MAX_AMOUNT,
    OPERATION_MIN_AMOUNT,
    Bank,
    Person,
    find_account,
    find_bank,
    find_customer_account,
    find_payer,
)
from dashboard.sandbox.state import DuplicateReference
from dashboard.sandbox.wire import (
    amount_text,
    bank_object,
    bill_object,
    cashin_object,
    verify_object,
)

api = Blueprint("sandbox_api", __name__)

P = ParamSpec("P")
FieldErrors = dict[str, list[str]]
JSONReply = tuple[dict[str, Any], int]

_NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided."}
_REQUIRED = "This field is required."


def _route(rule: str, view: Callable[..., ResponseReturnValue], methods: list[str]) -> None:
    """Serve ``rule`` with and without its trailing slash, never redirecting (POSTs included)."""
    endpoint = view.__name__
    api.add_url_rule(rule, endpoint, view, methods=methods)
    api.add_url_rule(rule.rstrip("/"), endpoint + "_no_slash", view, methods=methods)


def _requires_token(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    @wraps(view)
    def guarded(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not get_state().token_is_valid(token.strip()):
            return _NOT_AUTHENTICATED, 401, {"WWW-Authenticate": 'Bearer realm="api"'}
        return view(*args, **kwargs)

    return guarded


class _BadBody(Exception):
    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__(reply)
        self.reply = reply


def _request_fields() -> dict[str, Any]:
    """The body as a dict, whether it came form-encoded, multipart or as JSON."""
    if request.is_json:
        data = request.get_json(silent=True)
        if data is None:
            raise _BadBody({"detail": "JSON parse error."})
        if not isinstance(data, dict):
            raise _BadBody(
                {
                    "non_field_errors": [
                        f"Invalid data. Expected a dictionary, but got {type(data).__name__}."
                    ]
                }
            )
        return data
    return request.form.to_dict()


def _text(
    data: dict[str, Any],
    name: str,
    errors: FieldErrors,
    *,
    required: bool = True,
    max_length: int = 255,
) -> str | None:
    value = data.get(name)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            if name not in data:
                errors[name] = [_REQUIRED]
            elif value is None:
                errors[name] = ["This field may not be null."]
            else:
                errors[name] = ["This field may not be blank."]
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        errors[name] = ["Not a valid string."]
        return None
    text = str(value).strip()
    if len(text) > max_length:
        errors[name] = [f"Ensure this field has no more than {max_length} characters."]
        return None
    return text


def _amount(data: dict[str, Any], errors: FieldErrors) -> int | None:
    raw = data.get("amount")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        errors["amount"] = [_REQUIRED]
        return None
    try:
        amount = amount_from_wire(raw)
    except AmountError:
        errors["amount"] = [_amount_problem(raw)]
        return None
    if amount < OPERATION_MIN_AMOUNT:
        errors["amount"] = [
            f"Ensure this value is greater than or equal to {OPERATION_MIN_AMOUNT}."
        ]
        return None
    if amount > OPERATION_MAX_AMOUNT:
        errors["amount"] = [f"Ensure this value is less than or equal to {OPERATION_MAX_AMOUNT}."]
        return None
    return amount


def _amount_problem(raw: object) -> str:
    if isinstance(raw, bool):
        return "A valid number is required."
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        return "A valid number is required."
    if not number.is_finite():
        return "A valid number is required."
    # BIF has no minor units, so any fraction is refused, never rounded.
    return "Ensure that there are no more than 0 decimal places."


def _currency(data: dict[str, Any], errors: FieldErrors) -> None:
    value = data.get("currency")
    if value is None or value == "":
        return
    if str(value).strip().upper() not in (CURRENCY_ALPHA, str(CURRENCY_NUMERIC)):
        errors["currency"] = [f"Only {CURRENCY_ALPHA} ({CURRENCY_NUMERIC}) is accepted."]


def _valid_redirect(uri: str) -> bool:
    parts = urlsplit(uri)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


# -- token ---------------------------------------------------------------------------------


def issue_token() -> ResponseReturnValue:
    """Client-credentials grant, shaped like django-oauth-toolkit (ihela-api.md §2.1, §6 #1-2)."""
    if request.is_json:
        # DOT reads form bodies only, so a JSON body carries no grant type at all.
        return {
            "error": "invalid_request",
            "error_description": "Send the token request as application/x-www-form-urlencoded "
            "or multipart/form-data.",
        }, 400
    if request.form.get("grant_type") != "client_credentials":
        return {"error": "unsupported_grant_type"}, 400
    auth = request.authorization
    if auth is not None and auth.type == "basic":
        client_id, client_secret = auth.username or "", auth.password or ""
    else:
        client_id = request.form.get("client_id", "")
        client_secret = request.form.get("client_secret", "")
    expected_id = str(current_app.config["SANDBOX_CLIENT_ID"])
    expected_secret = str(current_app.config["SANDBOX_CLIENT_SECRET"])
    id_ok = hmac.compare_digest(client_id.encode(), expected_id.encode())
    secret_ok = hmac.compare_digest(client_secret.encode(), expected_secret.encode())
    if not (id_ok and secret_ok):
        return {"error": "invalid_client"}, 401
    token, lifetime = get_state().issue_token(current_fault().token_ttl)
    reply = {
        "access_token": token,
        "expires_in": lifetime,
        "token_type": "Bearer",
        "scope": "read write",
    }
    return reply, 200, {"Cache-Control": "no-store", "Pragma": "no-cache"}


_route("/oAuth2/token/", issue_token, ["POST"])


# -- bills ---------------------------------------------------------------------------------


def bill_parties(
    errors: FieldErrors,
    *,
    payer: tuple[str, str | None],
    bank: tuple[str, str | None],
    redirect_uri: str | None,
) -> tuple[Person | None, Bank | None]:
    """Who a bill asks to pay and through which bank, as iHela checks them (v1 and v2 alike):
    each of ``payer`` and ``bank`` is (the field's name in this shape, what was sent); what is
    wrong goes to ``errors`` under that field, in iHela's words."""
    payer_field, payer_text = payer
    bank_field, bank_slug = bank
    person = find_payer(payer_text) if payer_text else None
    if payer_text and person is None:
        errors[payer_field] = [
            "No iHela user matches this e-mail, phone number, username or client code."
        ]
    found = find_bank(bank_slug) if bank_slug else None
    if bank_slug and found is None:
        errors[bank_field] = [f"Object with slug={bank_slug} does not exist."]
    elif found is not None and not found.is_active:
        errors[bank_field] = ["This bank is not active."]
    if redirect_uri and not _valid_redirect(redirect_uri):
        errors["redirect_uri"] = ["Enter a valid URL."]
    return person, found


@_requires_token
def init_bill() -> ResponseReturnValue:
    try:
        data = _request_fields()
    except _BadBody as bad:
        return bad.reply, 400
    errors: FieldErrors = {}
    amount = _amount(data, errors)
    user = _text(data, "user", errors)
    description = _text(data, "description", errors)
    merchant_reference = _text(data, "merchant_reference", errors, max_length=64)
    redirect_uri = _text(data, "redirect_uri", errors, required=False, max_length=500)
    # 0.0.5 and LAR send "bank", PHP 0.0.7+ sends "bank_slug".
    bank_slug = _text(data, "bank", errors, required=False, max_length=20) or _text(
        data, "bank_slug", errors, required=False, max_length=20
    )
    bank_client_id = _text(data, "bank_client_id", errors, required=False, max_length=64)
    _currency(data, errors)

    payer, bank = bill_parties(
        errors, payer=("user", user), bank=("bank", bank_slug), redirect_uri=redirect_uri
    )
    if errors or payer is None or amount is None or description is None:
        return errors, 400
    assert merchant_reference is not None

    try:
        bill = get_state().create_bill(
            amount=amount,
            payer=payer.username,
            description=description,
            merchant_reference=merchant_reference,
            bank=bank.slug if bank else None,
            bank_client_id=bank_client_id if bank else None,
            redirect_uri=redirect_uri,
        )
    except DuplicateReference:
        return {"merchant_reference": ["bill with this merchant reference already exists."]}, 400
    return {"bill": bill_object(bill, public_url())}, 200


@_requires_token
def verify_bill() -> ResponseReturnValue:
    try:
        data = _request_fields()
    except _BadBody as bad:
        return bad.reply, 400
    errors: FieldErrors = {}
    # iHela's verify vocabulary: code = merchant reference, reference = bill code (§4).
    merchant_reference = _text(data, "code", errors, max_length=64)
    bill_code = _text(data, "reference", errors, max_length=64)
    if errors or merchant_reference is None or bill_code is None:
        return errors, 400
    bill = get_state().find_bill(bill_code=bill_code, merchant_reference=merchant_reference)
    if bill is None:
        return {"detail": "Not found."}, 404
    return {"bill": verify_object(bill)}, 200


_route("/api/v1/payments/bill/init/", init_bill, ["POST"])
_route("/api/v1/payments/bill/verify/", verify_bill, ["POST"])


# -- banks ---------------------------------------------------------------------------------


# Which banks each list holds: all of them, those that take money in (cash-in: active ones),
# those that pay money out (ihela-sdk 0.4.0's ``bank/cashin/`` and ``bank/cashout/``).
BANK_LISTS: dict[str, Callable[[Bank], bool]] = {
    "all": lambda bank: True,
    "cashin": lambda bank: bank.is_active,
    "cashout": lambda bank: bank.is_active and bank.has_cashout,
}


def _bank_list(which: str = "all") -> list[dict[str, Any]]:
    wanted_type = request.args.get("type", "").strip().upper()
    base = public_url()
    keep = BANK_LISTS[which]
    return [
        bank_object(bank, base)
        for bank in BANKS
        if keep(bank) and (not wanted_type or bank.bank_type == wanted_type)
    ]


@_requires_token
def list_banks() -> ResponseReturnValue:
    banks = _bank_list()
    return {"banks": banks, "count": len(banks)}, 200


@_requires_token
def list_all_banks() -> ResponseReturnValue:
    """The 0.0.4 path and count key."""
    banks = _bank_list()
    return {"banks": banks, "banksCount": len(banks)}, 200


_route("/api/v1/payments/bank/", list_banks, ["GET"])
_route("/api/v1/bank/all/", list_all_banks, ["GET"])


def _lookup_error(message: str, status: int) -> JSONReply:
    # LAR reads "details", DRF clients read "detail": give both.
    return {"detail": message, "details": message}, status


def lookup_account(slug: str) -> ResponseReturnValue:
    """Public in v1: PHP and LAR call it without a token (ihela-api.md §3.4)."""
    bank = find_bank(slug)
    if bank is None:
        return _lookup_error(f"No bank with slug {slug}.", 404)
    if not bank.is_active:
        return _lookup_error(f"{bank.name} is not active.", 400)
    if not bank.has_lookup:
        return _lookup_error(f"Account lookup is not available for {bank.name}.", 503)
    identifier = (
        request.args.get("customer_id") or request.args.get("account_number") or ""
    ).strip()
    if not identifier:
        return {"customer_id": ["This query parameter is required."]}, 400
    account = find_customer_account(bank, identifier)
    if account is None:
        return _lookup_error(f"No account {identifier} at {bank.name}.", 404)
    return {
        "account_number": account.number,
        "name": account.holder,
        "customer_id": account.customer_id,
    }, 200


_route("/api/v1/bank/<slug>/account/lookup/", lookup_account, ["GET"])


def cashin_fields(
    data: dict[str, Any], errors: FieldErrors, *, bank: str, account: str
) -> tuple[str, str, int, str, str] | None:
    """bank slug, account, amount, merchant reference and description, or None (see errors)."""
    bank_slug = _text(data, bank, errors, max_length=20)
    account_number = _text(data, account, errors, max_length=64)
    amount = _amount(data, errors)
    merchant_reference = _text(data, "merchant_reference", errors, max_length=64)
    description = _text(data, "description", errors)
    _currency(data, errors)
    if (
        errors
        or bank_slug is None
        or account_number is None
        or amount is None
        or merchant_reference is None
        or description is None
    ):
        return None
    return bank_slug, account_number, amount, merchant_reference, description


def cashin_refusal(bank_slug: str, account_number: str, amount: int) -> tuple[Bank | None, str]:
    """The receiving bank, and why the cash-in is refused ("" when it is not)."""
    bank = find_bank(bank_slug)
    if bank is None:
        return None, f"Unknown bank {bank_slug}."
    if not bank.is_active:
        return bank, f"{bank.name} is not active."
    if find_account(bank, account_number) is None:
        return bank, f"No account {account_number} at {bank.name}."
    if bank.limits is not None:
        if amount < bank.limits.in_minimum:
            return bank, f"{bank.name} accepts at least {bank.limits.in_minimum} BIF."
        if amount > bank.limits.in_maximum:
            return bank, f"{bank.name} accepts at most {bank.limits.in_maximum} BIF."
    return bank, ""


# -- cash-in -------------------------------------------------------------------------------


@_requires_token
def cash_in() -> ResponseReturnValue:
    try:
        data = _request_fields()
    except _BadBody as bad:
        return bad.reply, 400
    errors: FieldErrors = {}
    fields = cashin_fields(data, errors, bank="bank_slug", account="account")
    if fields is None:
        return errors, 400
    bank_slug, account_number, amount, merchant_reference, description = fields

    def refused(message: str) -> JSONReply:
        return {
            "bank_slug": bank_slug,
            "account": account_number,
            "amount": amount_text(amount),
            "description": description,
            "merchant_reference": merchant_reference,
            "error": True,
            "error_message": message,
            "reference": None,
        }, 400

    bank, refusal = cashin_refusal(bank_slug, account_number, amount)
    if bank is None or refusal:
        return refused(refusal)
    try:
        cashin = get_state().record_cashin(
            merchant_reference=merchant_reference,
            bank_slug=bank.slug,
            account=account_number,
            amount=amount,
            description=description,
        )
    except DuplicateReference:
        return refused(f"A cash-in with merchant reference {merchant_reference} already exists.")
    return cashin_object(cashin), 200
