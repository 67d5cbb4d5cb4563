"""Reading the gateway's JSON replies into typed results.

Pure functions, no HTTP: the client decides what a bad reply means (unavailable or outcome
unknown); this module only says *that* a reply is bad, by raising ``MalformedReply``.
Every iHela field name and quirk of the v1 replies lives here or in ``client.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dashboard.money import AmountError, amount_from_wire

from .types import (
    AccountHolder,
    Bank,
    BankLimits,
    Bill,
    BillCheck,
    CashinResult,
    normalise_bill_status,
)

NON_FIELD_ERRORS = "non_field_errors"

# Keys of an error reply that carry a message or metadata rather than a field's errors.
_META_KEYS = frozenset(
    {
        "detail",
        "details",
        "error",
        "error_message",
        "error_description",
        "errors",
        "message",
        "status",
        "response_status",
        "success",
        "response_code",
        "response_message",
        "response_data",
    }
)
_MESSAGE_KEYS = (
    "error_message",
    "error_description",
    "detail",
    "details",
    "message",
    "response_message",
)
_MAX_MESSAGE = 500


class MalformedReply(ValueError):
    """A reply that lacks a field we rely on, or holds a value we cannot trust."""


# --- error replies -------------------------------------------------------------------------


def flatten_field_errors(body: Mapping[str, Any]) -> dict[str, list[str]]:
    """Collect DRF-style field errors as ``{"field": ["message", ...]}``.

    Nested serializer errors become dotted keys (``limits.in_minimum``, ``items.0.amount``).
    At the top level only lists and objects count as errors: a plain string there is an echo of
    what we sent (cash-in error replies repeat ``bank_slug``, ``account`` ...), not a complaint.
    Inside ``{"errors": {...}}`` strings are errors too, as the 0.0.x clients wrote them.
    """
    found: dict[str, list[str]] = {}
    errors = body.get("errors")
    if isinstance(errors, Mapping):
        _collect(found, "", errors, strings_are_errors=True)
    elif isinstance(errors, str | list):
        _collect(found, NON_FIELD_ERRORS, errors, strings_are_errors=True)
    for key, value in body.items():
        if key not in _META_KEYS and isinstance(value, list | Mapping):
            _collect(found, str(key), value, strings_are_errors=False)
    return found


def _collect(
    found: dict[str, list[str]], key: str, value: Any, *, strings_are_errors: bool
) -> None:
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            path = f"{key}.{sub_key}" if key else str(sub_key)
            _collect(found, path, sub_value, strings_are_errors=strings_are_errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, str):
                found.setdefault(key or NON_FIELD_ERRORS, []).append(item)
            elif isinstance(item, Mapping | list):
                # DRF reports errors of list items as a list of per-item objects.
                _collect(found, f"{key}.{index}", item, strings_are_errors=strings_are_errors)
    elif isinstance(value, str) and strings_are_errors:
        found.setdefault(key or NON_FIELD_ERRORS, []).append(value)


def error_message(body: Mapping[str, Any] | None, default: str) -> str:
    """The gateway's own explanation of a refusal, else its field errors, else ``default``."""
    if body is None:
        return default
    for key in _MESSAGE_KEYS:
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return _shorten(value)
    oauth_error = body.get("error")
    if isinstance(oauth_error, str) and oauth_error.strip():
        return _shorten(oauth_error)
    fields = flatten_field_errors(body)
    if fields:
        return _shorten("; ".join(f"{name}: {' '.join(texts)}" for name, texts in fields.items()))
    return default


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def is_refusal(body: Mapping[str, Any]) -> bool:
    """Whether a reply says no even though its HTTP status is 2xx (cash-in ``error: true`` ...)."""
    flag = body.get("error")
    if flag is True or (isinstance(flag, str) and flag.strip().lower() not in ("", "false")):
        return True
    return bool(body.get("errors")) or body.get("success") is False


# --- field readers -------------------------------------------------------------------------


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise MalformedReply(f"{what} is missing or not an object")
    return value


def _text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    # Some identifiers (ihela_code, customer_id) come as numbers in some samples.
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise MalformedReply(f"{key!r} is missing or empty")
    return value


def _optional_text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise MalformedReply(f"{key!r} is not text")
    return value


def _flag(data: Mapping[str, Any], key: str, default: bool) -> bool:
    value = data.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise MalformedReply(f"{key!r} is not a boolean")
    return value


def read_amount(value: Any, what: str = "amount") -> int:
    """Whole francs from a wire amount; a fraction or garbage is a bad reply, never rounded."""
    try:
        return amount_from_wire(value)
    except AmountError as exc:
        raise MalformedReply(f"{what}: {exc}") from exc


def _optional_amount(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    return None if value is None or value == "" else read_amount(value, key)


def _status_word(value: Any) -> str:
    # Init replies carry {"label": "Initiated", "value": "I", "css": ...}; verify a plain string.
    if isinstance(value, Mapping):
        value = value.get("label") or value.get("value")
    if not isinstance(value, str) or not value.strip():
        raise MalformedReply("'status' is missing")
    return value.strip()


def parse_timestamp(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string; naive values are the gateway's UTC.

    A missing or unreadable timestamp gives None: it is for display, and failing a bill init
    over it would turn a created bill into an "unknown outcome".
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _expect_echo(name: str, sent: object, echoed: object) -> None:
    # The gateway repeats what it acted on; a different value means it acted on something else.
    if echoed != sent:
        raise MalformedReply(f"the gateway answered about {name} {echoed!r}, not {sent!r}")


# --- bills ---------------------------------------------------------------------------------


def parse_bill(
    reply: Mapping[str, Any],
    *,
    expected_amount: int | None = None,
    expected_reference: str | None = None,
) -> Bill:
    """The ``bill`` of an init reply."""
    bill = _object(reply.get("bill"), "'bill'")
    raw_status = _status_word(bill.get("status"))
    amount = read_amount(bill.get("amount"))
    merchant_reference = _text(bill, "merchant_reference")
    if expected_amount is not None:
        _expect_echo("amount", expected_amount, amount)
    if expected_reference is not None:
        _expect_echo("merchant_reference", expected_reference, merchant_reference)
    return Bill(
        code=_text(bill, "code"),
        merchant_reference=merchant_reference,
        amount=amount,
        description=_optional_text(bill, "description") or "",
        payer=_payer(bill.get("initiated_by")),
        status=normalise_bill_status(raw_status),
        raw_status=raw_status,
        confirmation_uri=_text(bill, "confirmation_uri"),
        payment_reference=_optional_text(bill, "payment_reference"),
        redirect_uri=_optional_text(bill, "redirect_uri"),
        created_at=parse_timestamp(bill.get("created_at")),
        expired=_flag(bill, "expired", False),
        bank=_optional_text(bill, "bank"),
        bank_client_id=_optional_text(bill, "bank_client_id"),
        merchant_title=_merchant_title(bill.get("merchant")),
        raw=dict(reply),
        payer_identity=_payer_identity(bill.get("initiated_by")),
    )


def _payer(initiated_by: Any) -> str | None:
    if isinstance(initiated_by, str):
        return initiated_by or None
    if isinstance(initiated_by, Mapping):
        for key in ("email", "username", "ihela_code"):
            value = initiated_by.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)
    return None


def _payer_identity(initiated_by: Any) -> tuple[tuple[str, str], ...]:
    """The identifiers of the payer's iHela user object: e-mail, username and client code."""
    if not isinstance(initiated_by, Mapping):
        return ()
    found = []
    for key, kind in (("email", "email"), ("username", "username"), ("ihela_code", "code")):
        value = initiated_by.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            text = str(value).strip()
            found.append((kind, text.lower() if kind == "email" else text))
    return tuple(found)


def _merchant_title(merchant: Any) -> str | None:
    if not isinstance(merchant, Mapping):
        return None
    title = merchant.get("title")
    if not title and isinstance(merchant.get("merchant"), Mapping):
        title = merchant["merchant"].get("title")
    return title if isinstance(title, str) and title else None


def parse_bill_check(
    reply: Mapping[str, Any], *, bill_code: str, merchant_reference: str
) -> BillCheck:
    """The ``bill`` of a verify reply, whose ``reference`` is the bill code and ``code`` ours."""
    bill = _object(reply.get("bill"), "'bill'")
    echoed_code = _optional_text(bill, "reference")
    echoed_reference = _optional_text(bill, "code")
    if echoed_code is not None:
        _expect_echo("bill", bill_code, echoed_code)
    if echoed_reference is not None:
        _expect_echo("merchant_reference", merchant_reference, echoed_reference)
    raw_status = _status_word(bill.get("status"))
    return BillCheck(
        bill_code=bill_code,
        merchant_reference=merchant_reference,
        status=normalise_bill_status(raw_status),
        raw_status=raw_status,
        bank_reference=_optional_text(bill, "bank_reference"),
        message=_optional_text(bill, "message"),
        raw=dict(reply),
        payer_name=_payer_name(bill.get("paid_by")),
    )


def _payer_name(person: Any) -> str | None:
    """A name from a ``paid_by`` user object, if one ever comes (the v1 samples carry none)."""
    if not isinstance(person, Mapping):
        return None
    full = person.get("full_name") or person.get("name")
    if not full:
        parts = [person.get("first_name"), person.get("last_name")]
        full = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if not isinstance(full, str):
        return None
    return full.strip()[:160] or None


# --- banks and accounts --------------------------------------------------------------------


def parse_bank_list(reply: Mapping[str, Any]) -> list[Bank]:
    """Banks from any known list shape: ``banks`` (v1) or ``response_data.objects`` (v2).

    ``count``/``banksCount`` are ignored: the published samples themselves disagree with them.
    """
    banks = reply.get("banks")
    if banks is None:
        data = reply.get("response_data")
        banks = data.get("objects") if isinstance(data, Mapping) else reply.get("objects")
    if not isinstance(banks, list):
        raise MalformedReply("no list of banks in the reply")
    return [parse_bank(_object(item, "a bank")) for item in banks]


def parse_bank(bank: Mapping[str, Any]) -> Bank:
    slug = _text(bank, "slug")
    company = bank.get("company")
    company = company if isinstance(company, Mapping) else {}
    api_values = bank.get("api_values")
    api_values = api_values if isinstance(api_values, Mapping) else {}
    return Bank(
        slug=slug,
        name=_text(bank, "name"),
        # The slug is "<type>-<code>", so it still tells the type when the field is missing.
        bank_type=_optional_text(bank, "bank_type") or slug.split("-", 1)[0],
        logo_url=_optional_text(company, "logo") or _optional_text(company, "image"),
        icon_url=_optional_text(company, "logo_icon"),
        account_mask=_optional_text(bank, "account_masked_text"),
        limits=_limits(bank.get("limits_config")),
        is_active=_flag(bank, "is_active", True),
        has_lookup=_flag(api_values, "has_lookup", True),
        raw=dict(bank),
    )


def _limits(config: Any) -> BankLimits | None:
    if config is None:
        return None
    config = _object(config, "'limits_config'")
    return BankLimits(
        in_minimum=_optional_amount(config, "in_minimum"),
        in_maximum=_optional_amount(config, "in_maximum"),
        out_minimum=_optional_amount(config, "out_minimum"),
        out_maximum=_optional_amount(config, "out_maximum"),
    )


def parse_account_holder(
    reply: Mapping[str, Any], *, bank_slug: str, account: str
) -> AccountHolder:
    """A lookup reply; the holder's name is the point of the call, so it is required."""
    return AccountHolder(
        bank_slug=bank_slug,
        account_number=_optional_text(reply, "account_number") or account,
        name=_text(reply, "name").strip(),
        raw=dict(reply),
    )


def parse_customer_account(reply: Mapping[str, Any], *, bank_slug: str) -> AccountHolder:
    """A lookup asked about a person: the account number is the answer, so it is required."""
    return AccountHolder(
        bank_slug=bank_slug,
        account_number=_text(reply, "account_number").strip(),
        name=_text(reply, "name").strip(),
        raw=dict(reply),
    )


# --- cash-in -------------------------------------------------------------------------------


def parse_cashin(
    reply: Mapping[str, Any],
    *,
    bank_slug: str,
    account: str,
    amount: int,
    merchant_reference: str,
) -> CashinResult:
    """An accepted cash-in; echoed values must match what we sent (missing ones are assumed).

    The amount and our reference must match exactly. The bank slug may differ in case only; the
    account is not compared, since a gateway may rewrite its format ("16-01" → "000016-01"),
    and the result reports the account the gateway says it credited.
    """
    echoed_amount = reply.get("amount")
    if echoed_amount is not None:
        _expect_echo("amount", amount, read_amount(echoed_amount))
    echoed_reference = _optional_text(reply, "merchant_reference")
    if echoed_reference is not None:
        _expect_echo("merchant_reference", merchant_reference, echoed_reference)
    echoed_bank = _optional_text(reply, "bank_slug") or bank_slug
    _expect_echo("bank_slug", bank_slug.casefold(), echoed_bank.casefold())
    return CashinResult(
        reference=_text(reply, "reference"),
        merchant_reference=merchant_reference,
        amount=amount,
        bank_slug=echoed_bank,
        account=_optional_text(reply, "account") or account,
        message=_optional_text(reply, "error_message"),
        raw=dict(reply),
    )


__all__ = [
    "NON_FIELD_ERRORS",
    "MalformedReply",
    "error_message",
    "flatten_field_errors",
    "is_refusal",
    "parse_account_holder",
    "parse_bank",
    "parse_bank_list",
    "parse_bill",
    "parse_bill_check",
    "parse_cashin",
    "parse_timestamp",
    "read_amount",
]
