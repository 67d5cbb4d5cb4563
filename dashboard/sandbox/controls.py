"""Test controls under ``/_sandbox/``: no auth, JSON in and out, never faulted."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request
from flask.typing import ResponseReturnValue

from dashboard.sandbox import get_state, public_url
from dashboard.sandbox.callbacks import notify_settled
from dashboard.sandbox.state import (
    CANCELLED,
    ERROR,
    EXPIRED,
    PAID,
    BillNotPending,
    Fault,
    isoformat,
)
from dashboard.sandbox.wire import bill_object, cashin_record

controls = Blueprint("sandbox_controls", __name__, url_prefix="/_sandbox")

_ACTIONS = {"pay": PAID, "expire": EXPIRED, "cancel": CANCELLED, "fail": ERROR}
# Generous but bounded, so a typo cannot park a server thread for hours.
_MAX_DELAY = 120.0


def _json_body() -> dict[str, Any] | None:
    data = request.get_json(silent=True) if request.data else {}
    return data if isinstance(data, dict) else None


@controls.post("/reset")
def reset() -> ResponseReturnValue:
    get_state().reset()
    return {"reset": True}


@controls.get("/bills")
def list_bills() -> ResponseReturnValue:
    base = public_url()
    return {"bills": [bill_object(bill, base) for bill in get_state().list_bills()]}


@controls.get("/bills/<code>")
def show_bill(code: str) -> ResponseReturnValue:
    bill = get_state().get_bill(code)
    if bill is None:
        return {"detail": "Not found."}, 404
    return {"bill": bill_object(bill, public_url())}


@controls.post("/bills/<code>/<action>")
def settle_bill(code: str, action: str) -> ResponseReturnValue:
    status = _ACTIONS.get(action)
    if status is None:
        return {"detail": f"Unknown action {action!r}; use one of {sorted(_ACTIONS)}."}, 404
    try:
        bill = get_state().settle_bill(code, status)
    except KeyError:
        return {"detail": "Not found."}, 404
    except BillNotPending as exc:
        return {
            "detail": f"Bill is already {exc.bill.status}.",
            "bill": bill_object(exc.bill, public_url()),
        }, 409
    notify_settled(bill)
    return {"bill": bill_object(bill, public_url())}


@controls.get("/cashins")
def list_cashins() -> ResponseReturnValue:
    return {"cashins": [cashin_record(c) for c in get_state().list_cashins()]}


@controls.get("/stats")
def stats() -> ResponseReturnValue:
    return get_state().stats()


@controls.post("/tokens/revoke")
def revoke_tokens() -> ResponseReturnValue:
    return {"revoked": get_state().revoke_tokens()}


@controls.get("/clock")
def show_clock() -> ResponseReturnValue:
    return {"now": isoformat(get_state().now())}


@controls.post("/clock")
def advance_clock() -> ResponseReturnValue:
    data = _json_body()
    seconds = data.get("advance") if data is not None else None
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        return {"advance": ["A number of seconds, zero or more, is required."]}, 400
    now = get_state().advance_clock(float(seconds))
    return {"now": isoformat(now), "advanced": seconds}


def _faults_reply() -> dict[str, Any]:
    return {"faults": [fault.as_dict() for fault in get_state().list_faults()]}


@controls.get("/faults")
def list_faults() -> ResponseReturnValue:
    return _faults_reply()


@controls.delete("/faults")
def clear_faults() -> ResponseReturnValue:
    get_state().clear_faults()
    return _faults_reply()


@controls.post("/faults")
def add_fault() -> ResponseReturnValue:
    data = _json_body()
    if data is None:
        return {"detail": "Send a JSON object."}, 400
    fault, errors = _parse_fault(data)
    if fault is None:
        return errors, 400
    get_state().add_fault(fault)
    return _faults_reply()


def _parse_fault(data: dict[str, Any]) -> tuple[Fault | None, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    allowed = {
        "latency",
        "status",
        "stall",
        "garbage",
        "token_ttl",
        "count",
        "path",
        "response_code",
    }
    for key in sorted(set(data) - allowed):
        errors[key] = [f"Unknown fault setting; use {sorted(allowed)}."]

    def seconds(name: str) -> float:
        value = data.get(name, 0)
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors[name] = ["A number of seconds is required."]
            return 0.0
        if not 0 <= value <= _MAX_DELAY:
            errors[name] = [f"Between 0 and {_MAX_DELAY:g} seconds."]
            return 0.0
        return float(value)

    def optional_int(name: str, minimum: int, maximum: int) -> int | None:
        value = data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            errors[name] = [f"An integer from {minimum} to {maximum}, or null."]
            return None
        return value

    latency = seconds("latency")
    stall = seconds("stall")
    status = optional_int("status", 400, 599)
    token_ttl = optional_int("token_ttl", 0, 10**7)
    count = optional_int("count", 1, 10**6)
    garbage = data.get("garbage", False)
    if not isinstance(garbage, bool):
        errors["garbage"] = ["true or false."]
        garbage = False
    path = data.get("path", "/api/")
    if not isinstance(path, str) or not path.startswith("/"):
        errors["path"] = ["A path prefix starting with '/'."]
        path = "/api/"
    response_code = data.get("response_code")
    if response_code is not None and (
        not isinstance(response_code, str) or not response_code.isdigit() or response_code == "00"
    ):
        errors["response_code"] = ['A v2 response code such as "05" or "07", or null.']
        response_code = None
    if not errors and not (
        latency or stall or status or garbage or token_ttl is not None or response_code
    ):
        errors["non_field_errors"] = ["A fault needs at least one effect."]
    if errors:
        return None, errors
    fault = Fault(
        latency=latency,
        status=status,
        stall=stall,
        garbage=garbage,
        token_ttl=token_ttl,
        count=count,
        path=path,
        response_code=response_code,
    )
    return fault, errors
