"""Sentences stored as a code and parameters, said in the reader's language when shown.

History notes, audit summaries, a bill's last error, a cash-in's gateway message and approval
reason are stored as JSON text ``{"code": ..., "params": {...}}`` (or a list of them: sentences
said one after the other), made by ``coded()``. Templates show them with the ``message`` filter,
the CLI and exports with ``render()``. Rows written before this (free English text) are shown
as they are.

A parameter is plain text or a number, or an object that is rendered too:
``{"code": ...}`` (a message), ``{"money": 2000}``, ``{"bill_state": "paid"}``,
``{"cashin_state": "failed"}``, ``{"role": "admin"}``, or ``{"gateway": "..."}`` — the gateway's
own words: translated when the dashboard knows them, otherwise quoted as iHela's message.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flask_babel import format_datetime, get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from dashboard.ihela.errors import IhelaError
from dashboard.labels import bill_state_label, cashin_state_label, request_memo, role_label
from dashboard.money import format_amount

Message = dict[str, Any]

# Every sentence the dashboard stores. Parameters are named as in the template.
TEMPLATES: dict[str, Any] = {
    # --- what went wrong with a gateway call (see ihela.errors.KINDS) ---------------------
    "gw.refused.bill init": _l("iHela refused the bill."),
    "gw.refused.cash-in": _l("iHela refused the cash-in."),
    "gw.refused.bill verify": _l("iHela refused the status check."),
    "gw.refused.account lookup": _l("iHela refused the name check."),
    "gw.refused.bank list": _l("iHela refused to give the bank list."),
    "gw.refused": _l("iHela refused the request."),
    "gw.not_found.account lookup": _l("The bank does not know this account."),
    "gw.not_found.bill verify": _l("iHela does not know this bill."),
    "gw.not_found": _l("iHela does not know what was asked for."),
    "gw.credentials_refused": _l(
        "iHela refused the dashboard's credentials: check the client id and secret."
    ),
    "gw.token_refused": _l("iHela refused the access token it had just issued."),
    "gw.no_token": _l("iHela did not issue a usable access token."),
    "gw.connect_failed": _l("Could not connect to iHela: nothing was sent."),
    "gw.connection_broken": _l("The connection to iHela broke before its answer came."),
    "gw.timeout": _l("iHela did not answer in time."),
    "gw.busy": _l("iHela is busy (HTTP %(status)s): try again in a minute."),
    "gw.redirected": _l(
        "iHela's address answered with a redirect (HTTP %(status)s): check the configured "
        "gateway URL."
    ),
    "gw.server_error": _l("iHela is unavailable (HTTP %(status)s)."),
    "gw.unreadable": _l("iHela's answer could not be read."),
    "gw.gateway_down": _l("iHela unreachable since %(since)s: nothing was sent. Try again later."),
    "gw.unknown.bill init": _l(
        "We do not know whether iHela created the bill: check before issuing it again."
    ),
    "gw.unknown.cash-in": _l(
        "We do not know whether the money left: check with iHela before sending again."
    ),
    "gw.unknown": _l("We do not know whether iHela applied it."),
    "gw.said": _l("iHela's message: %(text)s"),
    # --- bills ----------------------------------------------------------------------------
    "bill.not_created": _l("No bill was created at iHela."),
    "bill.dashboard_failed": _l(
        "The dashboard failed while creating the bill at iHela: we do not know whether iHela "
        "created it."
    ),
    "bill.check_failed": _l("Could not check with iHela."),
    "bill.unknown_status": _l("iHela answered with a status we do not know: %(status)s."),
    "note.retry_of": _l("retry of %(reference)s"),
    "note.bill_code": _l("iHela bill %(code)s"),
    "note.settled_by_ihela": _l(
        "iHela's operation status: %(status)s (%(reference)s); asked by %(asked_by)s"
    ),
    "note.bill_unsafe_link": _l("iHela bill %(code)s: payment link refused (not https)"),
    "note.code_confirmed": _l("iHela bill %(code)s confirmed for this reference"),
    "note.settled_paid": _l("%(name)s checked that this request was paid: %(note)s"),
    "note.settled_not_paid": _l("%(name)s checked that this request will not be paid: %(note)s"),
    "note.bank_reference": _l("bank reference %(reference)s"),
    "note.unexpected_error": _l("unexpected error in the dashboard"),
    # --- cash-ins -------------------------------------------------------------------------
    "cashin.nothing_sent": _l("Nothing was sent: no money left."),
    "cashin.dashboard_failed": _l(
        "The dashboard failed while sending; the money may or may not have left."
    ),
    "cashin.succeeded": _l("Success"),
    "approval.amount": _l("the amount is %(amount)s or more"),
    "approval.split": _l(
        "with today's earlier cash-ins to this account the total reaches %(amount)s"
    ),
    "approval.unconfirmed": _l("the holder's name could not be confirmed by the bank"),
    "approval.two": _l("%(first)s and %(second)s"),
    "approval.three": _l("%(first)s, %(second)s and %(third)s"),
    "approval.not_payer": _l("not the payer's account (the payer's is %(account)s at %(bank)s)"),
    "approval.payer_unchecked": _l(
        "iHela could not be asked for the payer's account, so it is not known whether this is it"
    ),
    # --- ``flask ihela check`` and the Settings page's gateway check (ihela/check.py) ----------
    "check.token": _l("token"),
    "check.bank_list": _l("bank list"),
    "check.cashin_banks": _l("money-in bank list"),
    "check.account": _l("account lookup"),
    "check.route": _l("%(shape)s %(route)s"),
    "check.route.bill init": _l("bill init"),
    "check.route.bill verify": _l("bill verify"),
    "check.route.cash-in": _l("cash-in"),
    "check.route.operation status": _l("operation status"),
    "check.skew": _l("clock skew"),
    "check.tls": _l("TLS"),
    "check.recommended": _l("recommended"),
    "check.token_issued": _l("issued, lifetime %(seconds)s s"),
    "check.token_no_lifetime": _l("issued, no lifetime given"),
    "check.token_failed": _l("refused or unreachable: %(error)s"),
    "check.failed": _l("%(error)s"),
    "check.banks": _l("%(count)s banks (%(active)s active), %(masks)s with a mask"),
    "check.bank_count": _l("%(count)s banks"),
    "check.holder": _l("%(bank)s %(account)s: %(name)s"),
    "check.account_failed": _l("%(bank)s %(account)s: %(error)s"),
    "check.route_answer": _l("POST %(path)s: %(answer)s"),
    "check.served": _l("served"),
    "check.not_served": _l("not served"),
    "check.no_answer": _l("no answer"),
    "check.http_status": _l("HTTP %(status)s"),
    "check.skew_seconds": _l("%(seconds)s s"),
    "check.skew_unreadable": _l("unreadable Date header"),
    "check.no_date": _l("no Date header"),
    "check.tls_verified": _l("https, certificate verified"),
    "check.plain_http": _l("plain http (allowed on loopback only: the sandbox)"),
    "check.no_shape": _l(
        "No shape of iHela's API is fully served at this address: check DASHBOARD_IHELA_BASE_URL."
    ),
    "check.wrong_shape": _l(
        "Wrong shape: DASHBOARD_IHELA_API=%(configured)s is not what this gateway serves; it "
        "speaks %(served)s. Set DASHBOARD_IHELA_API=%(recommended)s."
    ),
    "check.recommend": _l(
        "Recommended: DASHBOARD_IHELA_API=%(recommended)s (configured: %(configured)s)."
    ),
    # --- the audit trail ------------------------------------------------------------------
    "audit.bill_status": _l("%(old)s → %(new)s"),
    "audit.bill_status_note": _l("%(old)s → %(new)s: %(note)s"),
    "audit.bill_created": _l("%(amount)s for %(payer)s: %(description)s"),
    "audit.bill_checked": _l("status checked with iHela"),
    "audit.customer_merged": _l(
        "customer %(merged)s is the same iHela account: merged into this one"
    ),
    "audit.customer_note": _l("note changed"),
    "audit.item_created": _l("%(name)s at %(price)s"),
    "audit.item_changed": _l("%(name)s: %(old)s → %(new)s, %(state)s"),
    "audit.poster_created": _l("%(label)s, payments shown at %(counter)s's counter"),
    "audit.poster_label": _l("%(label)s"),
    "audit.poster_replaced": _l("%(label)s: replaced by poster %(new)s"),
    "audit.self_service": _l("%(amount)s from %(payer)s through the poster %(label)s"),
    "item.active": _l("on sale"),
    "item.inactive": _l("not on sale"),
    "audit.cashin_drafted": _l("%(amount)s to %(holder)s (%(bank)s %(account)s)"),
    "audit.cashin_drafted_warning": _l(
        "%(amount)s to %(holder)s (%(bank)s %(account)s): %(warning)s"
    ),
    "audit.cashin_sent_without_approval": _l("sent without approval"),
    "audit.cashin_discarded": _l("draft discarded"),
    "audit.cashin_approved_warning": _l("%(amount)s to %(holder)s: %(warning)s"),
    "audit.cashin_to": _l("%(amount)s to %(holder)s"),
    "audit.cashin_outcome": _l("%(amount)s to %(holder)s: %(message)s"),
    "audit.cashin_rejected": _l("rejected: %(reason)s"),
    "audit.cashin_resolved": _l("marked %(state)s: %(note)s"),
    "audit.cashin_conflict_kept": _l("conflict settled, kept %(state)s: %(note)s"),
    "audit.cashin_conflict_changed": _l("conflict settled, changed to %(state)s: %(note)s"),
    "audit.cashin_late_reply": _l(
        "iHela answered %(outcome)s after the cash-in was resolved as %(state)s: %(message)s"
    ),
    "audit.cashin_late_conflict": _l(
        "iHela answered %(outcome)s after the cash-in was resolved as %(state)s (conflict): "
        "%(message)s"
    ),
    "audit.user_created": _l("%(email)s created as %(role)s"),
    "audit.password_changed": _l("password of %(email)s changed"),
    "audit.user_activated": _l("%(email)s activated"),
    "audit.user_deactivated": _l("%(email)s deactivated"),
    "audit.role_changed": _l("%(email)s: %(old)s → %(new)s"),
    "audit.login_throttled": _l("login refused: too many failed attempts"),
    "audit.login_failed.bad password": _l("login failed: wrong password"),
    "audit.login_failed.unknown e-mail": _l("login failed: unknown e-mail"),
    "audit.login_failed.inactive account": _l("login failed: inactive account"),
    "audit.logged_in": _l("logged in"),
    "audit.logged_out": _l("logged out"),
    "audit.logged_in_2fa": _l("logged in with two-factor (%(method)s)"),
    "audit.password_ok": _l("password accepted; waiting for the two-factor code"),
    "audit.code_refused": _l("two-factor code refused (%(purpose)s)"),
    "audit.code_wrong_password_off": _l("wrong password (turn off two-factor)"),
    "audit.code_wrong_password_enrol": _l("wrong password (enrol two-factor)"),
    "audit.code_throttled": _l("two-factor code refused (%(purpose)s): too many attempts"),
    "audit.recovery_code_used": _l("recovery code used (%(purpose)s)"),
    "audit.two_factor_on": _l("two-factor sign-in turned on for %(email)s"),
    "audit.two_factor_off": _l("two-factor sign-in turned off by %(email)s"),
    "audit.two_factor_reset": _l("two-factor sign-in of %(email)s reset"),
    "audit.two_factor_policy": _l("two-factor required for: %(roles)s"),
    "audit.display_paired": _l("customer display paired to the counter"),
    "audit.display_wrong_code": _l("customer display: wrong pairing code"),
    "audit.setting_changed": _l("%(key)s: %(old)s → %(new)s"),
    "audit.callback_bad_signature": _l("payment callback refused: bad or missing signature"),
    "audit.callback_not_json": _l("payment callback refused: not a JSON object"),
    "audit.callback_verify": _l("payment callback: status check requested"),
    "audit.callback_ignored": _l("payment callback: no such bill; ignored"),
}

# The gateway's own sentences the dashboard knows (iHela's, as the sandbox plays them), each
# with its translation; named groups become parameters. Anything else is quoted as it came.
_MONEY_GROUPS = frozenset({"amount"})
GATEWAY_TEXTS: list[tuple[re.Pattern[str], Any]] = [
    (re.compile(pattern, re.IGNORECASE), text)
    for pattern, text in [
        (r"This field is required\.", _l("This field is required.")),
        (r"This field may not be null\.", _l("This field is required.")),
        (r"This field may not be blank\.", _l("This field is required.")),
        (r"This query parameter is required\.", _l("This field is required.")),
        (r"Not a valid string\.", _l("This value is not valid text.")),
        (
            r"Ensure this field has no more than (?P<max>\d+) characters\.",
            _l("At most %(max)s characters."),
        ),
        (
            r"Ensure this value is greater than or equal to (?P<amount>\d+)(\.00)?\.",
            _l("The smallest amount iHela accepts is %(amount)s."),
        ),
        (
            r"Ensure this value is less than or equal to (?P<amount>\d+)(\.00)?\.",
            _l("The largest amount iHela accepts is %(amount)s."),
        ),
        (r"A valid number is required\.", _l("Enter an amount in francs.")),
        (
            r"Ensure that there are no more than 0 decimal places\.",
            _l("Whole francs only, without decimals."),
        ),
        (
            r"Only (?P<currency>[A-Z]{3}) \((?P<number>\d+)\) is accepted\.",
            _l("Only %(currency)s is accepted."),
        ),
        (
            r"No iHela user matches this e-mail, phone number, username or client code\.",
            _l("No iHela user has this e-mail, phone number, username or client code."),
        ),
        (r"Object with slug=(?P<slug>\S+) does not exist\.", _l("iHela has no bank %(slug)s.")),
        (r"No bank with slug (?P<slug>\S+)\.", _l("iHela has no bank %(slug)s.")),
        (r"Unknown bank (?P<slug>\S+)\.", _l("iHela has no bank %(slug)s.")),
        (r"This bank is not active\.", _l("This bank is not active at iHela.")),
        (r"Enter a valid URL\.", _l("The return address is not a valid URL.")),
        (r"Not found\.?", _l("iHela does not know it.")),
        (r"Bill not found\.", _l("iHela does not know this bill.")),
        (
            r"No operation with this reference\.",
            _l("iHela has no operation with this reference."),
        ),
        (
            r"(A )?bill with this merchant reference already exists\.",
            _l("iHela already has a bill with this reference."),
        ),
        (r"Invalid request\.", _l("iHela found the request incomplete or invalid.")),
        (r"Required\.", _l("This field is required.")),
        (
            r"Invalid PIN code\.",
            _l("iHela refused the merchant PIN code: check the configured PIN."),
        ),
        (
            r"Service temporarily unavailable\.",
            _l("iHela's service is unavailable for a moment: try again later."),
        ),
        (
            r'Method "(?P<method>[A-Z]+)" not allowed\.',
            _l("iHela does not accept this kind of request (%(method)s)."),
        ),
        (r"Error\.", _l("iHela reported an error.")),
        (
            r"Account lookup is not available for (?P<bank>.+)\.",
            _l("%(bank)s does not offer name checks right now."),
        ),
        (
            r"No account (?P<account>\S+) at (?P<bank>.+)\.",
            _l("No account %(account)s at %(bank)s."),
        ),
        (
            r"(?P<bank>.+) accepts at least (?P<amount>\d+) BIF\.",
            _l("%(bank)s accepts at least %(amount)s."),
        ),
        (
            r"(?P<bank>.+) accepts at most (?P<amount>\d+) BIF\.",
            _l("%(bank)s accepts at most %(amount)s."),
        ),
        (
            r"A cash-in with merchant reference (?P<reference>\S+) already exists\.",
            _l("iHela already has a cash-in with the reference %(reference)s."),
        ),
        (r"(?P<bank>.+) is not active\.", _l("%(bank)s is not active at iHela.")),
        (
            r"Authentication credentials were not provided\.",
            _l("iHela did not receive the dashboard's credentials."),
        ),
        (
            r"The client is not authenticated\.?",
            _l("iHela did not receive the dashboard's credentials."),
        ),
        (r"invalid_client", _l("iHela does not know this client id and secret.")),
        (r"unsupported_grant_type|invalid_request", _l("iHela refused the token request.")),
        (
            r"Send the token request as application/x-www-form-urlencoded or "
            r"multipart/form-data\.",
            _l("iHela refused the token request."),
        ),
        (r"JSON parse error\.", _l("iHela could not read the request.")),
        (
            r"Invalid data\. Expected a dictionary, but got \w+\.",
            _l("iHela could not read the request."),
        ),
        (r"Sandbox fault: HTTP (?P<status>\d+)\.", _l("Simulated fault (HTTP %(status)s).")),
        (r"Sandbox fault\.", _l("Simulated fault.")),
        (
            r"Insufficient funds.*",
            _l("There is not enough money on the merchant's iHela account."),
        ),
        (r"Bill waiting for payment\.?", _l("Bill waiting for payment")),
        (r"Bill paid\.?", _l("Bill paid")),
        (r"Bill expired\.?", _l("Bill expired")),
        (r"Bill cancelled by the payer\.?", _l("Bill cancelled by the payer")),
        (r"Payment failed\.?", _l("Payment failed")),
        (r"Success\.?|Done\.?", _l("Success")),
        (
            r"Transaction successfully done\. Reference: (?P<reference>\S+) >> (?P<bank>.+)",
            _l("Transfer done: reference %(reference)s (%(bank)s)."),
        ),
        (
            r"Payment bill successfully created\. The client has to validate it to complete the "
            r"payment\. Code : (?P<code>\S+)",
            _l("Bill %(code)s created: the payer must confirm it to pay."),
        ),
    ]
]

# The fields iHela names in its refusals ("user: No iHela user matches ..."), as the client
# reports them (v2 names already mapped to v1's). A field not listed here keeps its name.
GATEWAY_FIELDS: dict[str, Any] = {
    "user": _l("Payer"),
    "amount": _l("Amount"),
    "description": _l("Description"),
    "merchant_reference": _l("Reference"),
    "code": _l("Reference"),
    "external_reference": _l("Reference"),
    "reference": _l("iHela bill code"),
    "bill_code": _l("iHela bill code"),
    "bank": _l("Bank"),
    "bank_slug": _l("Bank"),
    "bank_client_id": _l("Account at the bank"),
    "account": _l("Account"),
    "account_number": _l("Account"),
    "customer_id": _l("Account"),
    "redirect_uri": _l("Return address"),
    "currency": _l("Currency"),
    "pin_code": _l("PIN code"),
}
_FIELD_SAID = _l("%(field)s: %(text)s")
# "field: sentence; other_field: sentence" (how the client joins DRF field errors).
_FIELD_PREFIX = re.compile(r"(?:^|; )([a-z_][a-z0-9_.]*): ")


# --- making messages -------------------------------------------------------------------------


def message(key: str, /, **params: Any) -> Message:
    """A message as a parameter of another one (or for ``coded``)."""
    if key not in TEMPLATES:
        raise KeyError(f"unknown message code {key!r}")
    return {"code": key, "params": params} if params else {"code": key}


def coded(what: str | Message | list[Message], /, **params: Any) -> str:
    """The text to store: ``coded("note.bill_code", code=...)``, or a message or a list."""
    value: Message | list[Message] = message(what, **params) if isinstance(what, str) else what
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def money(amount: int) -> dict[str, int]:
    return {"money": int(amount)}


def gateway_said(text: str | None) -> dict[str, str]:
    return {"gateway": text or ""}


def gateway_error(exc: IhelaError) -> list[Message]:
    """What happened, in sentences: the kind of failure, what is unknown, what iHela said."""
    return gateway_failure(exc.described())


def gateway_failure(failure: Mapping[str, Any]) -> list[Message]:
    """``gateway_error`` from a failure described as data (``IhelaError.described()``)."""
    kind, operation = failure.get("kind") or "", failure.get("operation") or ""
    if f"gw.{kind}.{operation}" in TEMPLATES:
        code = f"gw.{kind}.{operation}"
    elif f"gw.{kind}" in TEMPLATES:
        code = f"gw.{kind}"
    else:
        code = "gw.unreadable"
    params: dict[str, Any] = (
        {"status": failure.get("status")} if kind in ("busy", "redirected", "server_error") else {}
    )
    if kind == "gateway_down" and failure.get("since"):
        params = {"since": {"time": failure["since"]}}
    said: list[Message] = [message(code, **params)]
    if failure.get("unknown"):
        unknown = f"gw.unknown.{operation}"
        said.append(message(unknown if unknown in TEMPLATES else "gw.unknown"))
    if failure.get("text"):
        said.append(message("gw.said", text=gateway_said(failure["text"])))
    return said


# --- rendering -------------------------------------------------------------------------------


def decode(stored: str | None) -> Message | list[Message] | None:
    """The message in a stored text, or None for free text (rows written before codes)."""
    if not stored or stored[:2] not in ('{"', "[{"):
        return None
    try:
        value = json.loads(stored)
    except ValueError:
        return None
    if _is_message(value) or (
        isinstance(value, list) and value and all(_is_message(v) for v in value)
    ):
        return value  # type: ignore[no-any-return]
    return None


def _is_message(value: Any) -> bool:
    return isinstance(value, Mapping) and value.get("code") in TEMPLATES


def render(stored: str | None) -> str:
    """Plain text in the reader's language (the CLI, exports, flashes)."""
    if stored is None:
        return ""
    value = decode(stored)
    return stored if value is None else _say(value, html=False)


def say(value: Message | list[Message], *, html: bool = False) -> str:
    """A message (not stored) in the reader's language: plain text, or safe HTML."""
    return escape(_say(value, html=True)) if html else _say(value, html=False)


def render_html(stored: str | None) -> Markup:
    """Safe HTML in the reader's language; unknown gateway words are quoted and marked. Said
    once per request for each distinct text (the audit trail shows the same ones row after
    row)."""
    if not stored:
        return Markup("")
    said = request_memo("messages.html")
    html: Markup | None = said.get(stored)
    if html is None:
        value = decode(stored)
        html = said[stored] = escape(stored) if value is None else escape(_say(value, html=True))
    return html


def gateway_text(text: str | None, *, html: bool = False) -> str:
    """The gateway's words: translated when known, otherwise quoted as iHela's message."""
    return _gateway(text or "", html)


def _text(text: str, html: bool) -> str:
    return escape(text) if html else text


def _quote(text: str, html: bool) -> str:
    if html:
        return Markup('<q class="gateway-text" data-gateway-text>{}</q>').format(text)
    return f"“{text}”"


def _say(value: Any, html: bool) -> str:
    if isinstance(value, list):
        return (Markup(" ") if html else " ").join(_say(v, html) for v in value)
    template = _text(str(TEMPLATES[value["code"]]), html)
    params = {name: _param(param, html) for name, param in (value.get("params") or {}).items()}
    if not params:
        return template
    try:
        return template % params
    except (KeyError, TypeError, ValueError):  # a code whose parameters changed since
        return template


def _param(value: Any, html: bool) -> str:
    if _is_message(value) or (isinstance(value, list) and value and all(map(_is_message, value))):
        return _say(value, html)
    if isinstance(value, Mapping):
        if "money" in value:
            return _text(format_amount(int(value["money"]), _locale()), html)
        if "gateway" in value:
            return _gateway(str(value["gateway"]), html)
        if "failure" in value:  # a gateway failure described as data (IhelaError.described)
            return _say(gateway_failure(value["failure"]), html)
        if "time" in value:  # hh:mm in the merchant's zone
            moment = datetime.fromisoformat(str(value["time"]))
            return _text(format_datetime(moment, "HH:mm"), html)
        labels = _labels()
        for kind, label in labels.items():
            if kind in value:
                return _text(label(value[kind]).lower(), html)
    return _text("" if value is None else str(value), html)


def _labels() -> dict[str, Callable[[str | None], str]]:
    return {"bill_state": bill_state_label, "cashin_state": cashin_state_label, "role": role_label}


def _gateway(text: str, html: bool) -> str:
    text = " ".join(text.split())
    if _FIELD_PREFIX.match(text):
        return _gateway_fields(text, html)
    return _gateway_sentence(text, html)


def _gateway_fields(text: str, html: bool) -> str:
    """``user: No iHela user matches ...; amount: ...``: each field and sentence in words."""
    parts = _FIELD_PREFIX.split(text)[1:]  # name, sentence, name, sentence ...
    said = []
    for name, sentence in zip(parts[::2], parts[1::2], strict=True):
        sentence_said = _gateway_sentence(sentence, html)
        if name == "non_field_errors":
            said.append(sentence_said)
            continue
        field = _text(str(GATEWAY_FIELDS.get(name, name)), html)
        said.append(_text(str(_FIELD_SAID), html) % {"field": field, "text": sentence_said})
    return (Markup(" ") if html else " ").join(said)


def _gateway_sentence(text: str, html: bool) -> str:
    for pattern, template in GATEWAY_TEXTS:
        found = pattern.fullmatch(text)
        if found:
            params = {
                name: format_amount(int(v), _locale()) if name in _MONEY_GROUPS else v
                for name, v in found.groupdict().items()
            }
            return _text(str(template) % params if params else str(template), html)
    return _quote(text, html) if text else ""


def _locale() -> str:
    locale = get_locale()
    return str(locale) if locale else "en"
