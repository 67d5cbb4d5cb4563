"""Replies the sandbox never sends (redirects, HTML errors, fractions), from a scripted server.

A few lines of stdlib HTTP server on loopback: still real HTTP through the real client, no
mocking of requests. It also keeps connections alive, which the werkzeug sandbox does not,
so connection reuse can be observed here.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from dashboard.ihela import (
    GatewayRejected,
    GatewayUnavailable,
    IhelaClient,
    OutcomeUnknown,
)

TOKEN_REPLY = {"access_token": "scripted-token", "expires_in": 36000, "token_type": "Bearer"}
CASHIN_PATH = "/api/v1/payments/cash-in/"
CASHIN_ECHO = {
    "bank_slug": "MF1-0001",
    "account": "000016-01",
    "amount": "20000.00",
    "merchant_reference": "REF-1",
    "error": False,
    "error_message": "Success",
    "reference": "CPT-5/01-199",
}


class ScriptedGateway(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.replies: dict[str, tuple[int, dict[str, str], str]] = {}
        self.requested: list[str] = []
        self.connections = 0
        self.answer("/oAuth2/token/", 200, TOKEN_REPLY)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def answer(
        self, path: str, status: int, body: Any, headers: dict[str, str] | None = None
    ) -> None:
        text = body if isinstance(body, str) else json.dumps(body)
        kind = "text/html" if isinstance(body, str) else "application/json"
        self.replies[path] = (status, {"Content-Type": kind, **(headers or {})}, text)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server: ScriptedGateway

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1

    def _reply(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = self.path.split("?", 1)[0]
        self.server.requested.append(path)
        if path == "/oAuth2/token/":
            status, headers, text = (
                200,
                {"Content-Type": "application/json"},
                json.dumps(TOKEN_REPLY),
            )
        else:
            status, headers, text = self.server.replies.get(path, (404, {}, '{"detail": "x"}'))
        payload = text.encode()
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = _reply

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet


@pytest.fixture()
def gateway() -> Iterator[ScriptedGateway]:
    server = ScriptedGateway()
    # A short poll interval keeps shutdown() quick.
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture()
def client(gateway: ScriptedGateway) -> Iterator[IhelaClient]:
    with IhelaClient(gateway.url, "id", "secret", read_timeout=2) as ihela:
        yield ihela


def cashin(client: IhelaClient) -> object:
    return client.cashin_client("MF1-0001", "000016-01", 20000, "REF-1", "Refund")


def test_one_connection_serves_many_calls(client: IhelaClient, gateway: ScriptedGateway) -> None:
    gateway.answer("/api/v1/payments/bank/", 200, {"banks": [], "count": 0})
    for _ in range(5):
        assert client.get_bank_list() == []
    assert gateway.requested.count("/api/v1/payments/bank/") == 5
    assert gateway.connections == 1


def test_redirects_are_not_followed(client: IhelaClient, gateway: ScriptedGateway) -> None:
    gateway.answer(CASHIN_PATH, 302, "", {"Location": "/elsewhere/"})
    with pytest.raises(GatewayUnavailable) as caught:
        cashin(client)
    assert caught.value.status == 302
    assert "/elsewhere/" not in gateway.requested


def test_a_busy_gateway_did_not_take_the_cashin(
    client: IhelaClient, gateway: ScriptedGateway
) -> None:
    gateway.answer(CASHIN_PATH, 429, "<html>Slow down</html>")
    with pytest.raises(GatewayUnavailable) as caught:
        cashin(client)
    assert caught.value.status == 429


def test_an_html_refusal_is_unknown_for_money_and_unavailable_otherwise(
    client: IhelaClient, gateway: ScriptedGateway
) -> None:
    gateway.answer(CASHIN_PATH, 400, "<html>Bad request</html>")
    gateway.answer("/api/v1/payments/bill/verify/", 404, "<html>Not here</html>")
    with pytest.raises(OutcomeUnknown):
        cashin(client)
    with pytest.raises(GatewayUnavailable):
        client.verify_bill("BILL-1", "REF-1")


@pytest.mark.parametrize(
    "reply",
    [
        {**CASHIN_ECHO, "amount": "20000.50"},  # a fraction is never rounded away
        {**CASHIN_ECHO, "amount": "2000.00"},  # not what we asked for
        {**CASHIN_ECHO, "reference": None},
        ["not", "an", "object"],
    ],
    ids=["fraction", "other-amount", "no-reference", "array"],
)
def test_a_wrong_shaped_cashin_reply_is_outcome_unknown(
    client: IhelaClient, gateway: ScriptedGateway, reply: Any
) -> None:
    gateway.answer(CASHIN_PATH, 200, reply)
    with pytest.raises(OutcomeUnknown):
        cashin(client)


def test_a_bank_limit_with_a_fraction_makes_the_list_unavailable(
    client: IhelaClient, gateway: ScriptedGateway
) -> None:
    bank = {"slug": "MOB-0006", "name": "PesaFlash", "limits_config": {"in_minimum": "10.5"}}
    gateway.answer("/api/v1/payments/bank/", 200, {"banks": [bank], "count": 1})
    with pytest.raises(GatewayUnavailable, match="in_minimum"):
        client.get_bank_list()


def test_errors_inside_a_200_are_a_refusal(client: IhelaClient, gateway: ScriptedGateway) -> None:
    gateway.answer("/api/v1/payments/bill/init/", 200, {"errors": {"amount": "Must be positive"}})
    with pytest.raises(GatewayRejected) as caught:
        client.init_bill(2000, "clientmail@gmail.com", "Bread", "REF-1")
    assert caught.value.field_errors == {"amount": ["Must be positive"]}


# -- v2 replies read as tolerantly as ihela-sdk 0.4.0 reads them --------------------------------

V2_BILL_INIT = {"v2": "/api/v2/payments/bill-init/", "v2-on-v1": "/api/v1/payments/bill-init/"}
V2_CASHIN = {"v2": "/api/v2/payments/cash-in/", "v2-on-v1": "/api/v1/payments/cash-in/"}


@pytest.fixture(params=["v2", "v2-on-v1"])
def v2_client(request: pytest.FixtureRequest, gateway: ScriptedGateway) -> Iterator[IhelaClient]:
    with IhelaClient(
        gateway.url, "id", "secret", read_timeout=2, api=request.param, pin="1234"
    ) as ihela:
        yield ihela


def init_bill(client: IhelaClient) -> Any:
    return client.init_bill(2000, "clientmail@gmail.com", "Shoes", "REF-1")


@pytest.mark.parametrize(
    "reply",
    [
        # What the SDK reads as success: response_code "00", no `success` at all.
        {"response_code": "00", "response_message": "OK", "response_data": {"code": "CODE-1"}},
        # A 2xx without any code, as the SDK also accepts.
        {"response_data": {"code": "CODE-1", "merchant_reference": "REF-1"}},
        # The SDK's own test fixtures: the v1-shaped {"bill": {...}} reply.
        {
            "bill": {
                "code": "CODE-1",
                "merchant_reference": "REF-1",
                "amount": "2000.00",
                "status": {"label": "Initiated", "value": "I"},
                "confirmation_uri": "https://gate.example/u/operations/bill/confirm/CODE-1",
            }
        },
    ],
    ids=["code 00 without success", "2xx without a code", "bill-shaped"],
)
def test_a_v2_bill_reply_as_the_sdk_reads_it_issues_the_bill(
    v2_client: IhelaClient, gateway: ScriptedGateway, reply: dict[str, Any]
) -> None:
    gateway.answer(V2_BILL_INIT[v2_client.api_version], 200, reply)
    bill = init_bill(v2_client)
    assert bill.code == "CODE-1" and bill.status.value == "pending" and bill.amount == 2000


@pytest.mark.parametrize(
    "reply",
    [
        "<html>502 Bad Gateway</html>",
        {},
        {"response_code": "00", "response_data": None},
        {"success": True, "response_data": {"reference": None}},
        {"bill": {"code": "CODE-1", "amount": "2500.00"}},  # not the amount we asked for
        {"bill": "CODE-1"},
    ],
    ids=["html", "empty", "no data", "no code", "other amount", "bill not an object"],
)
def test_an_unreadable_v2_bill_reply_leaves_the_outcome_unknown(
    v2_client: IhelaClient, gateway: ScriptedGateway, reply: Any
) -> None:
    gateway.answer(V2_BILL_INIT[v2_client.api_version], 200, reply)
    with pytest.raises(OutcomeUnknown):
        init_bill(v2_client)


def test_a_v2_cashin_reply_without_success_is_a_success_and_garbage_is_unknown(
    v2_client: IhelaClient, gateway: ScriptedGateway
) -> None:
    path = V2_CASHIN[v2_client.api_version]
    gateway.answer(path, 200, {"response_code": "00", "response_data": {"reference": "12345"}})
    assert cashin(v2_client).reference == "12345"  # type: ignore[attr-defined]
    gateway.answer(path, 200, {"response_code": "00", "response_message": "Done"})
    with pytest.raises(OutcomeUnknown):
        cashin(v2_client)
    gateway.answer(path, 404, {"detail": "Not found."})  # a proxy's or a wrong path's 404
    with pytest.raises(OutcomeUnknown):
        cashin(v2_client)
