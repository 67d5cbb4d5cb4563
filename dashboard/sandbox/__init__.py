"""A local stand-in for the iHela merchant gateway (v1 and v2 wire contracts, see ihela-api.md).

Every published client's calls are served at once, over the same fixtures, state and rules: v1
under ``/api/v1/`` (``api.py``), v2 under ``/api/v2/`` and, where ihela-sdk 0.4.0 sends v2 bodies,
under ``/api/v1/`` too (``api_v2.py``).

It is a separate Flask app that the dashboard only ever reaches over HTTP, exactly like the
real gateway. ``create_app`` builds it; ``server.start_sandbox`` runs it in a thread for tests;
``python -m dashboard.sandbox`` runs it stand-alone.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from dashboard.sandbox.state import FaultEffect, SandboxState

DEFAULT_CONFIG: dict[str, Any] = {
    "SANDBOX_CLIENT_ID": "sandbox-client-id",
    "SANDBOX_CLIENT_SECRET": "sandbox-client-secret",
    "SANDBOX_PUBLIC_URL": None,
    "SANDBOX_TOKEN_TTL": 36000,
    "SANDBOX_STATE_FILE": None,
    "SANDBOX_MERCHANT_PIN": "1234",  # v2 calls carry it as pin_code
    # When set, the sandbox POSTs a bill's status there after it is paid (or otherwise settled).
    "SANDBOX_CALLBACK_URL": None,
    "SANDBOX_CALLBACK_SECRET": None,  # signs those callbacks (HMAC-SHA256)
    "SANDBOX_CALLBACK_SIGNATURE": "prefixed",  # "sha256=<hex>"; "bare": hex alone, as the SDK
    # Which shapes it serves (all by default); one alone plays a gateway of that shape only.
    "SANDBOX_SHAPES": ("v1", "v2", "v2-on-v1"),
}

# Which shapes use a path (the first matching prefix); unlisted paths belong to every shape.
_SHAPES_BY_PREFIX = (
    ("/api/v1/payments/bill/", {"v1"}),
    ("/api/v1/bank/all", {"v1"}),
    ("/api/v2/", {"v2"}),
    ("/api/v1/payments/bill-", {"v2-on-v1"}),
    ("/api/v1/payments/bank/cash", {"v2-on-v1"}),
    ("/ihela/", {"v2-on-v1"}),
    ("/api/v1/", {"v1", "v2-on-v1"}),
)

_FROM_ENVIRONMENT = (
    "SANDBOX_MERCHANT_PIN",
    "SANDBOX_CALLBACK_URL",
    "SANDBOX_CALLBACK_SECRET",
    "SANDBOX_CALLBACK_SIGNATURE",
)

TOKEN_PATH = "/oAuth2/token"  # noqa: S105 - a path, not a password
CONTROL_PREFIX = "/_sandbox/"

_GARBAGE_BODY = (
    "<html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>Bad Gateway</h1><p>sandbox fault: not JSON</p></body></html>"
)


class _JSONProvider(DefaultJSONProvider):
    # Keep keys in the order of the gateway's samples, easier to compare by eye.
    sort_keys = False


class _SandboxFlask(Flask):
    json_provider_class = _JSONProvider


def get_state(app: Flask | None = None) -> SandboxState:
    state = (app or current_app).extensions["ihela_sandbox"]
    assert isinstance(state, SandboxState)
    return state


def public_url() -> str:
    """Base URL for links the sandbox hands out (confirmation pages, logos), with a slash."""
    configured = current_app.config.get("SANDBOX_PUBLIC_URL")
    base = str(configured) if configured else request.host_url
    return base if base.endswith("/") else base + "/"


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = _SandboxFlask(__name__, template_folder="templates")
    app.config.update(DEFAULT_CONFIG)
    # The v2 and callback settings can also come from the environment (no command-line flags).
    for key in _FROM_ENVIRONMENT:
        if os.environ.get(key):
            app.config[key] = os.environ[key]
    if config:
        app.config.update(config)
    app.extensions["ihela_sandbox"] = SandboxState(
        token_ttl=int(app.config["SANDBOX_TOKEN_TTL"]),
        state_file=app.config["SANDBOX_STATE_FILE"],
    )

    from dashboard.sandbox.api import api
    from dashboard.sandbox.api_v2 import api_v2
    from dashboard.sandbox.controls import controls
    from dashboard.sandbox.payer import payer

    app.register_blueprint(api)
    app.register_blueprint(api_v2)
    app.register_blueprint(controls)
    app.register_blueprint(payer)

    app.before_request(_count_and_inject_faults)
    app.after_request(_finish_response)
    app.register_error_handler(HTTPException, _http_error_as_json)
    return app


def _is_token_endpoint(path: str) -> bool:
    return path.rstrip("/") == TOKEN_PATH


def _count_and_inject_faults() -> Response | None:
    path = request.path
    # Controls are never counted nor faulted: tests must always be able to clear a fault.
    if path.startswith(CONTROL_PREFIX):
        return None
    shapes = next((found for prefix, found in _SHAPES_BY_PREFIX if path.startswith(prefix)), None)
    if shapes is not None and not shapes & set(current_app.config["SANDBOX_SHAPES"]):
        return _not_served()
    state = get_state()
    is_token = _is_token_endpoint(path)
    state.count_request(path, is_token_endpoint=is_token)
    effect = state.take_faults(path, is_token_endpoint=is_token)
    g.sandbox_fault = effect
    state.sleep(effect.latency)
    if effect.status is not None:
        state.sleep(effect.stall)
        response = jsonify(
            {"detail": f"Sandbox fault: HTTP {effect.status}.", "sandbox_fault": True}
        )
        response.status_code = effect.status
        return response
    if effect.garbage:
        state.sleep(effect.stall)
        return Response(_GARBAGE_BODY, status=200, mimetype="text/html")
    if effect.response_code:
        state.sleep(effect.stall)
        messages = {"05": "Insufficient funds.", "07": "Service temporarily unavailable."}
        return jsonify(
            {
                "success": False,
                "response_code": effect.response_code,
                "response_message": messages.get(effect.response_code, "Sandbox fault."),
                "response_data": None,
            }
        )
    return None


def _not_served() -> Response:
    response = jsonify({"detail": "Not found."})
    response.status_code = 404
    return response


def current_fault() -> FaultEffect:
    effect = g.get("sandbox_fault")
    return effect if isinstance(effect, FaultEffect) else FaultEffect()


def _finish_response(response: Response) -> Response:
    # Browsers share cookies across ports of one host, and the dashboard runs on the same host.
    response.headers.remove("Set-Cookie")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    effect = g.get("sandbox_fault")
    # Faulted status/garbage replies already slept before answering (after_request runs for
    # them too). Otherwise the work is done (a bill may exist now) and only the answer is late,
    # like a gateway that applied the request and then hung.
    if (
        isinstance(effect, FaultEffect)
        and effect.stall
        and effect.status is None
        and not effect.garbage
    ):
        get_state().sleep(effect.stall)
    return response


def _http_error_as_json(error: HTTPException) -> Response:
    # Clients parse every reply as a JSON object, errors included (ihela-api.md §3.0).
    detail = {
        404: "Not found.",
        405: f'Method "{request.method}" not allowed.',
    }.get(error.code or 500, error.description or "Error.")
    response = jsonify({"detail": detail})
    response.status_code = error.code or 500
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        response.headers["Allow"] = ", ".join(error.valid_methods)
    return response
