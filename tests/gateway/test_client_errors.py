"""Every failure is a typed error, classified by whether money may have moved."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from dashboard.ihela import (
    AccountNotFound,
    AuthenticationFailed,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    IhelaClient,
    OutcomeUnknown,
)
from dashboard.sandbox.server import RunningSandbox
from tests.conftest import SANDBOX_PIN

PAYER = "clientmail@gmail.com"


@pytest.fixture()
def client(sandbox: RunningSandbox, dialect: str) -> Iterator[IhelaClient]:
    # Short read timeout so stalled-gateway tests stay quick. Runs in both API dialects.
    with IhelaClient(
        sandbox.url,
        "sandbox-client-id",
        "sandbox-client-secret",
        read_timeout=0.5,
        api=dialect,
        pin=SANDBOX_PIN,
    ) as ihela:
        yield ihela


@pytest.fixture()
def path(api_path: Callable[[str], str]) -> Callable[[str], str]:
    """The exact path the client requests for an operation (with its trailing slash)."""
    return lambda operation: api_path(operation) + "/"


def add_fault(sandbox: RunningSandbox, **settings: Any) -> None:
    requests.post(sandbox.url + "_sandbox/faults", json=settings, timeout=5).raise_for_status()


def sandbox_get(sandbox: RunningSandbox, what: str) -> dict[str, Any]:
    reply = requests.get(sandbox.url + "_sandbox/" + what, timeout=5)
    reply.raise_for_status()
    body: dict[str, Any] = reply.json()
    return body


def new_reference() -> str:
    return uuid.uuid4().hex[:20]


# --- the gateway says no -------------------------------------------------------------------


def test_unknown_payer_is_a_field_error(client: IhelaClient) -> None:
    with pytest.raises(GatewayRejected) as caught:
        client.init_bill(2000, "nobody@example.com", "Bread", new_reference())
    assert caught.value.status == 400
    assert list(caught.value.field_errors) == ["user"]
    assert caught.value.field_errors["user"][0].startswith("No iHela user")
    assert "user" in caught.value.message


def test_duplicate_bill_reference_is_a_field_error(client: IhelaClient) -> None:
    reference = new_reference()
    client.init_bill(2000, PAYER, "Bread", reference)
    with pytest.raises(GatewayRejected) as caught:
        client.init_bill(2000, PAYER, "Bread", reference)
    assert "already exists" in caught.value.field_errors["merchant_reference"][0]


@pytest.mark.parametrize("amount", [0, -5])
def test_bad_amount_is_a_field_error(client: IhelaClient, amount: int) -> None:
    with pytest.raises(GatewayRejected) as caught:
        client.init_bill(amount, PAYER, "Bread", new_reference())
    assert list(caught.value.field_errors) == ["amount"]


def test_duplicate_cashin_reference_is_rejected_and_paid_once(
    client: IhelaClient, sandbox: RunningSandbox, dialect: str
) -> None:
    reference = new_reference()
    client.cashin_client("MF1-0001", "000016-01", 20000, reference, "Refund")
    with pytest.raises(GatewayRejected) as caught:
        client.cashin_client("MF1-0001", "000016-01", 20000, reference, "Refund")
    assert reference in caught.value.message
    assert caught.value.field_errors == {}  # the echoed fields are not errors
    assert caught.value.raw is not None
    assert caught.value.raw["error" if dialect == "v1" else "success"] is (dialect == "v1")
    assert len(sandbox_get(sandbox, "cashins")["cashins"]) == 1


@pytest.mark.parametrize(
    ("bank_slug", "account", "amount", "complaint"),
    [
        ("MOB-0006", "68123456", 500, "at least"),  # PesaFlash in_minimum is 10 000
        ("MF1-0001", "999999-01", 20000, "No account"),
    ],
)
def test_cashin_refusals_carry_the_gateway_reason(
    client: IhelaClient, bank_slug: str, account: str, amount: int, complaint: str
) -> None:
    with pytest.raises(GatewayRejected) as caught:
        client.cashin_client(bank_slug, account, amount, new_reference(), "Payout")
    assert complaint in caught.value.message
    assert not isinstance(caught.value, AccountNotFound)


def test_lookup_of_an_unknown_account_is_account_not_found(client: IhelaClient) -> None:
    with pytest.raises(AccountNotFound) as caught:
        client.customer_lookup("MF1-0001", "999999-01")
    assert caught.value.status == 404
    assert "999999-01" in caught.value.message


@pytest.mark.parametrize("swapped", [False, True])
def test_verify_of_an_unknown_bill_is_rejected(client: IhelaClient, swapped: bool) -> None:
    bill = client.init_bill(2000, PAYER, "Bread", new_reference())
    args = (bill.merchant_reference, bill.code) if swapped else ("BILL-NOPE", "nope")
    with pytest.raises(GatewayRejected) as caught:
        client.verify_bill(*args)
    assert caught.value.status == 404
    assert not isinstance(caught.value, AccountNotFound)


def test_bad_secret_is_authentication_failed(sandbox: RunningSandbox) -> None:
    with (
        IhelaClient(sandbox.url, "sandbox-client-id", "not-the-secret") as ihela,
        pytest.raises(AuthenticationFailed) as caught,
    ):
        ihela.get_bank_list()
    assert caught.value.status == 401
    assert "invalid_client" in caught.value.message


# --- the gateway cannot be reached: nothing was sent ---------------------------------------


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_bank_list(),
        lambda c: c.init_bill(2000, PAYER, "Bread", "ref-1"),
        lambda c: c.cashin_client("MF1-0001", "000016-01", 20000, "ref-2", "Refund"),
    ],
    ids=["bank_list", "init_bill", "cashin"],
)
def test_connection_refused_is_unavailable_even_for_money_calls(
    call: Callable[[IhelaClient], object],
) -> None:
    with (
        IhelaClient(closed_port_url(), "id", "secret", connect_timeout=1) as ihela,
        pytest.raises(GatewayUnavailable) as caught,
    ):
        call(ihela)
    assert type(caught.value) is GatewayUnavailable
    assert caught.value.status is None


def test_token_endpoint_failure_during_a_cashin_is_unavailable(
    client: IhelaClient, sandbox: RunningSandbox
) -> None:
    add_fault(sandbox, status=503, path="/oAuth2/")
    with pytest.raises(GatewayUnavailable) as caught:
        client.cashin_client("MF1-0001", "000016-01", 20000, new_reference(), "Refund")
    assert caught.value.status == 503
    assert sandbox_get(sandbox, "stats")["api_requests"] == {}


# --- calls that move no money --------------------------------------------------------------


def test_5xx_on_verify_is_unavailable(
    client: IhelaClient, sandbox: RunningSandbox, path: Callable[[str], str]
) -> None:
    bill = client.init_bill(2000, PAYER, "Bread", new_reference())
    add_fault(sandbox, status=503, path=path("bill verify"))
    with pytest.raises(GatewayUnavailable) as caught:
        client.verify_bill(bill.code, bill.merchant_reference)
    assert type(caught.value) is GatewayUnavailable
    assert caught.value.status == 503


def test_garbage_bank_list_is_unavailable(
    client: IhelaClient, sandbox: RunningSandbox, path: Callable[[str], str]
) -> None:
    add_fault(sandbox, garbage=True, path=path("bank list"))
    with pytest.raises(GatewayUnavailable) as caught:
        client.get_bank_list()
    assert caught.value.kind == "unreadable"
    assert "could not be read" in caught.value.message


def test_lookup_on_a_bank_without_lookup_is_unavailable(client: IhelaClient) -> None:
    with pytest.raises(GatewayUnavailable) as caught:
        client.customer_lookup("BNQ-0005", "0150012345600")
    assert caught.value.status == 503
    assert "not available for CRDB" in caught.value.message


def test_stalled_verify_times_out_within_the_read_timeout(
    client: IhelaClient, sandbox: RunningSandbox, path: Callable[[str], str]
) -> None:
    bill = client.init_bill(2000, PAYER, "Bread", new_reference())
    add_fault(sandbox, stall=2.0, path=path("bill verify"))
    started = time.monotonic()
    with pytest.raises(GatewayTimeout):
        client.verify_bill(bill.code, bill.merchant_reference)
    assert time.monotonic() - started < 1.5


# --- money-moving calls: the outcome is unknown, and nothing is retried --------------------


FAULTS = {
    "stall": {"stall": 1.0},
    "5xx": {"status": 502},
    "garbage": {"garbage": True},
}
# Each says what happened: a 5xx is an unavailable gateway, not a lost or unreadable answer.
KIND_OF_FAULT = {"stall": "timeout", "5xx": "server_error", "garbage": "unreadable"}


@pytest.mark.parametrize("name", FAULTS.keys())
def test_cashin_without_a_usable_answer_is_outcome_unknown(
    client: IhelaClient, sandbox: RunningSandbox, name: str, path: Callable[[str], str]
) -> None:
    add_fault(sandbox, path=path("cash-in"), **FAULTS[name])
    with pytest.raises(OutcomeUnknown) as caught:
        client.cashin_client("MF1-0001", "000016-01", 20000, new_reference(), "Refund")
    assert "we do not know whether it was applied" in caught.value.message
    assert caught.value.kind == KIND_OF_FAULT[name]
    assert caught.value.operation == "cash-in"
    # Sent exactly once: a money-moving call is never retried on its own.
    assert sandbox_get(sandbox, "stats")["api_requests"][path("cash-in")] == 1


def test_stalled_cashin_was_in_fact_applied(
    client: IhelaClient, sandbox: RunningSandbox, path: Callable[[str], str]
) -> None:
    # Why a timeout must not be read as "failed": the sandbox did the work, then went quiet.
    reference = new_reference()
    add_fault(sandbox, stall=1.0, path=path("cash-in"))
    with pytest.raises(OutcomeUnknown):
        client.cashin_client("MF1-0001", "000016-01", 20000, reference, "Refund")
    cashins = sandbox_get(sandbox, "cashins")["cashins"]
    assert [c["merchant_reference"] for c in cashins] == [reference]


@pytest.mark.parametrize("fault", FAULTS.values(), ids=FAULTS.keys())
def test_init_bill_without_a_usable_answer_is_outcome_unknown(
    client: IhelaClient, sandbox: RunningSandbox, fault: dict[str, Any], path: Callable[[str], str]
) -> None:
    add_fault(sandbox, path=path("bill init"), **fault)
    with pytest.raises(OutcomeUnknown):
        client.init_bill(2000, PAYER, "Bread", new_reference())
    assert sandbox_get(sandbox, "stats")["api_requests"][path("bill init")] == 1


# --- each failure says what kind it was (pages say it in the reader's language) ------------

VERIFY_FAULTS = {
    "server_error": {"status": 503},
    "busy": {"status": 429},
    "timeout": {"stall": 1.0},
    "unreadable": {"garbage": True},
}


@pytest.mark.parametrize("kind", VERIFY_FAULTS)
def test_a_failed_check_tells_its_kind(
    client: IhelaClient, sandbox: RunningSandbox, kind: str, path: Callable[[str], str]
) -> None:
    bill = client.init_bill(2000, PAYER, "Bread", new_reference())
    add_fault(sandbox, path=path("bill verify"), count=2, **VERIFY_FAULTS[kind])  # v2 asks twice
    with pytest.raises(GatewayUnavailable) as caught:
        client.verify_bill(bill.code, bill.merchant_reference)
    assert caught.value.kind == kind
    assert caught.value.operation == "bill verify"
    # A 5xx is an unavailable gateway, never a lost or unreadable answer.
    if kind == "server_error":
        assert "unavailable (HTTP 503" in caught.value.message
        assert caught.value.gateway_text == "Sandbox fault: HTTP 503."


def test_refusals_and_unreachable_gateways_tell_their_kind(client: IhelaClient) -> None:
    with pytest.raises(GatewayRejected) as refused:
        client.init_bill(2000, "nobody@example.com", "Bread", new_reference())
    assert (refused.value.kind, refused.value.operation) == ("refused", "bill init")
    with pytest.raises(AccountNotFound) as missing:
        client.customer_lookup("MF1-0001", "000099-01")
    assert missing.value.kind == "not_found" and "No account" in missing.value.gateway_text
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    down = IhelaClient(f"http://127.0.0.1:{port}/", "id", "secret")
    with down, pytest.raises(GatewayUnavailable) as unreachable:
        down.get_bank_list()
    assert unreachable.value.kind == "connect_failed"
