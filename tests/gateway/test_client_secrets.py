"""The client secret and tokens never show in logs, error messages or reprs."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
import requests

from dashboard.ihela import (
    AuthenticationFailed,
    GatewayRejected,
    GatewayTimeout,
    IhelaClient,
    IhelaError,
    OutcomeUnknown,
)
from dashboard.sandbox.server import RunningSandbox

SECRET = "sandbox-client-secret"
CLIENT_ID = "sandbox-client-id"


def add_fault(sandbox: RunningSandbox, **settings: Any) -> None:
    requests.post(sandbox.url + "_sandbox/faults", json=settings, timeout=5).raise_for_status()


def revealing_texts(error: IhelaError) -> list[str]:
    texts = [str(error), repr(error), repr(error.raw), repr(vars(error))]
    if error.__cause__ is not None:
        texts += [str(error.__cause__), repr(error.__cause__)]
    return texts


def test_logs_name_the_call_and_never_the_credentials(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3 and requests included
    caplog.set_level(logging.DEBUG, logger="dashboard.ihela")
    errors: list[IhelaError] = []
    with IhelaClient(sandbox.url, CLIENT_ID, SECRET, read_timeout=0.5) as client:
        client.get_bank_list()
        requests.post(sandbox.url + "_sandbox/tokens/revoke", timeout=5).raise_for_status()
        bill = client.init_bill(2000, "clientmail@gmail.com", "Bread", "secrets-ref-1")
        try:
            client.init_bill(2000, "clientmail@gmail.com", "Bread", "secrets-ref-1")
        except GatewayRejected as exc:
            errors.append(exc)
        add_fault(sandbox, stall=1.0, path="/api/v1/payments/bill/verify/", count=1)
        try:
            client.verify_bill(bill.code, bill.merchant_reference)
        except GatewayTimeout as exc:
            errors.append(exc)
        add_fault(sandbox, stall=1.0, path="/api/v1/payments/cash-in/", count=1)
        try:
            client.cashin_client("MF1-0001", "000016-01", 2000, "secrets-ref-2", "Refund")
        except OutcomeUnknown as exc:
            errors.append(exc)
        # The only way to learn the live token is the client's private state.
        token = client._token.value.reveal() if client._token else None
        client_repr = repr(client)

    assert token
    assert len(errors) == 3
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    texts = [caplog.text, client_repr, *(t for e in errors for t in revealing_texts(e))]
    for text in texts:
        for forbidden in (SECRET, basic, token, "Bearer", "Authorization"):
            assert forbidden not in text
    assert "POST api/v1/payments/bill/init/ -> 200 in" in caplog.text
    assert "POST api/v1/payments/bill/init/ -> 400 in" in caplog.text
    assert "POST api/v1/payments/bill/init/ -> 401 in" in caplog.text
    assert "POST oAuth2/token/ -> 200 in" in caplog.text
    assert "failed after" in caplog.text  # the stalls
    assert all(r.name == "dashboard.ihela" for r in caplog.records if "->" in r.getMessage())


def test_a_refused_secret_shows_nowhere(
    sandbox: RunningSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong_secret = "wr0ng-Secret-Th4t-Must-Not-Leak"
    with IhelaClient(sandbox.url, CLIENT_ID, wrong_secret) as client:
        with pytest.raises(AuthenticationFailed) as caught:
            client.get_bank_list()
        client_repr = repr(client)
    for text in [caplog.text, client_repr, *revealing_texts(caught.value)]:
        assert wrong_secret not in text
    assert "client_secret='***'" in client_repr
