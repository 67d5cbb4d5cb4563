"""The OAuth2 token: fetched lazily, reused, renewed early and after a 401, shared by threads."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest
import requests

from dashboard.ihela import AuthenticationFailed, IhelaClient
from dashboard.sandbox.server import RunningSandbox

BANKS_PATH = "/api/v1/payments/bank/"


def make_client(sandbox: RunningSandbox, **options: float) -> IhelaClient:
    return IhelaClient(sandbox.url, "sandbox-client-id", "sandbox-client-secret", **options)


def add_fault(sandbox: RunningSandbox, **settings: Any) -> None:
    requests.post(sandbox.url + "_sandbox/faults", json=settings, timeout=5).raise_for_status()


def stats(sandbox: RunningSandbox) -> dict[str, Any]:
    reply = requests.get(sandbox.url + "_sandbox/stats", timeout=5)
    reply.raise_for_status()
    body: dict[str, Any] = reply.json()
    return body


def test_token_is_fetched_lazily_then_reused(sandbox: RunningSandbox) -> None:
    with make_client(sandbox) as client:
        assert stats(sandbox)["token_requests"] == 0
        for _ in range(5):
            client.get_bank_list()
        client.customer_lookup("MF1-0001", "000001-01")
    figures = stats(sandbox)
    assert figures["token_requests"] == 1
    assert figures["api_requests"][BANKS_PATH] == 5


def test_revoked_token_is_renewed_once_and_the_call_succeeds(sandbox: RunningSandbox) -> None:
    with make_client(sandbox) as client:
        client.get_bank_list()
        requests.post(sandbox.url + "_sandbox/tokens/revoke", timeout=5).raise_for_status()
        assert client.get_bank_list()
    figures = stats(sandbox)
    assert figures["token_requests"] == 2
    assert figures["api_requests"][BANKS_PATH] == 3  # ok, refused (401), ok


def test_cashin_refused_for_its_token_is_sent_again_and_paid_once(
    sandbox: RunningSandbox,
) -> None:
    reference = uuid.uuid4().hex[:20]
    with make_client(sandbox) as client:
        client.get_bank_list()
        requests.post(sandbox.url + "_sandbox/tokens/revoke", timeout=5).raise_for_status()
        result = client.cashin_client("MF1-0001", "000016-01", 20000, reference, "Refund")
    cashins = requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json()["cashins"]
    assert [c["reference"] for c in cashins] == [result.reference]
    assert stats(sandbox)["api_requests"]["/api/v1/payments/cash-in/"] == 2


def test_token_refused_again_after_renewal_is_authentication_failed(
    sandbox: RunningSandbox,
) -> None:
    add_fault(sandbox, token_ttl=0)  # every token is dead on arrival
    with make_client(sandbox) as client, pytest.raises(AuthenticationFailed) as caught:
        client.get_bank_list()
    assert caught.value.status == 401
    figures = stats(sandbox)
    assert figures["token_requests"] == 2  # the first one and a single renewal, no loop
    assert figures["api_requests"][BANKS_PATH] == 2


def test_token_is_renewed_margin_seconds_before_it_expires(sandbox: RunningSandbox) -> None:
    add_fault(sandbox, token_ttl=2)
    with make_client(sandbox, token_margin=1.2) as client:
        client.get_bank_list()
        client.get_bank_list()
        assert stats(sandbox)["token_requests"] == 1
        time.sleep(0.9)  # past expires_in - margin, still before the real expiry
        client.get_bank_list()
    figures = stats(sandbox)
    assert figures["token_requests"] == 2
    assert figures["api_requests"][BANKS_PATH] == 3  # renewed in advance: no 401 on the way


def test_token_shorter_lived_than_the_margin_is_used_once(sandbox: RunningSandbox) -> None:
    add_fault(sandbox, token_ttl=30)
    with make_client(sandbox, token_margin=60) as client:
        client.get_bank_list()
        client.get_bank_list()
    figures = stats(sandbox)
    assert figures["token_requests"] == 2
    assert figures["api_requests"][BANKS_PATH] == 2


def test_concurrent_callers_share_one_token_fetch(sandbox: RunningSandbox) -> None:
    # A slow token endpoint makes every thread arrive while the first fetch is under way.
    add_fault(sandbox, latency=0.3, path="/oAuth2/")
    callers = 8
    start = threading.Barrier(callers)
    results: list[int] = []
    failures: list[BaseException] = []

    def call(client: IhelaClient) -> None:
        start.wait()
        try:
            results.append(len(client.get_bank_list()))
        except BaseException as exc:  # reported below, in the test's own thread
            failures.append(exc)

    with make_client(sandbox) as client:
        threads = [threading.Thread(target=call, args=(client,)) for _ in range(callers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=10)

    assert failures == []
    assert len(results) == callers
    assert stats(sandbox)["token_requests"] == 1
