"""Fault injection via /_sandbox/faults: latency, 5xx, stall, garbage, token_ttl, count, path."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from dashboard.sandbox.server import RunningSandbox

BANKS = "api/v1/payments/bank/"


def _token_reply(sandbox: RunningSandbox) -> requests.Response:
    return requests.post(
        sandbox.url + "oAuth2/token/",
        auth=("sandbox-client-id", "sandbox-client-secret"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )


def _headers(sandbox: RunningSandbox) -> dict[str, str]:
    reply = _token_reply(sandbox)
    reply.raise_for_status()
    return {"Authorization": f"Bearer {reply.json()['access_token']}"}


def _add_fault(sandbox: RunningSandbox, **fault: Any) -> list[dict[str, Any]]:
    reply = requests.post(sandbox.url + "_sandbox/faults", json=fault, timeout=5)
    assert reply.status_code == 200, reply.text
    faults: list[dict[str, Any]] = reply.json()["faults"]
    return faults


def _banks(sandbox: RunningSandbox, headers: dict[str, str], **kwargs: Any) -> requests.Response:
    kwargs.setdefault("timeout", 5)
    return requests.get(sandbox.url + BANKS, headers=headers, **kwargs)  # noqa: S113 (set above)


def test_latency_delays_but_answers(sandbox: RunningSandbox) -> None:
    headers = _headers(sandbox)
    _add_fault(sandbox, latency=0.3)

    started = time.monotonic()
    reply = _banks(sandbox, headers)

    assert time.monotonic() - started >= 0.3
    assert reply.status_code == 200
    assert reply.json()["count"] == 6


def test_status_fault_answers_json_with_that_status_for_count_requests(
    sandbox: RunningSandbox,
) -> None:
    headers = _headers(sandbox)
    _add_fault(sandbox, status=503, count=2)

    replies = [_banks(sandbox, headers) for _ in range(3)]

    assert [r.status_code for r in replies] == [503, 503, 200]
    assert replies[0].headers["Content-Type"].startswith("application/json")
    assert "detail" in replies[0].json()
    assert requests.get(sandbox.url + "_sandbox/faults", timeout=5).json() == {"faults": []}


def test_status_fault_does_not_apply_the_request(sandbox: RunningSandbox) -> None:
    headers = _headers(sandbox)
    _add_fault(sandbox, status=502, count=1)

    reply = requests.post(
        sandbox.url + "api/v1/payments/cash-in/",
        data={
            "bank_slug": "MF1-0001",
            "account": "000016-01",
            "amount": 100,
            "merchant_reference": "F-1",
            "description": "x",
        },
        headers=headers,
        timeout=5,
    )

    assert reply.status_code == 502
    assert requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json() == {"cashins": []}


def test_stall_makes_the_client_time_out_after_the_work_is_done(sandbox: RunningSandbox) -> None:
    headers = _headers(sandbox)
    _add_fault(sandbox, stall=1.5, count=1)

    with pytest.raises(requests.ReadTimeout):
        requests.post(
            sandbox.url + "api/v1/payments/bill/init/",
            data={
                "amount": 2000,
                "user": "clientmail@gmail.com",
                "description": "Stalled",
                "merchant_reference": "STALL-1",
            },
            headers=headers,
            timeout=(2, 0.3),
        )

    # The bill exists: the answer was lost, not the request (the "outcome unknown" case).
    bills = requests.get(sandbox.url + "_sandbox/bills", timeout=5).json()["bills"]
    assert [bill["merchant_reference"] for bill in bills] == ["STALL-1"]
    assert _banks(sandbox, headers).status_code == 200


def test_clearing_faults_releases_stalled_requests(sandbox: RunningSandbox) -> None:
    headers = _headers(sandbox)
    _add_fault(sandbox, stall=30, status=504)

    started = time.monotonic()
    with pytest.raises(requests.ReadTimeout):
        _banks(sandbox, headers, timeout=(2, 0.3))
    requests.delete(sandbox.url + "_sandbox/faults", timeout=5).raise_for_status()
    reply = _banks(sandbox, headers)

    assert reply.status_code == 200
    assert time.monotonic() - started < 5


def test_garbage_is_a_200_with_an_html_body(sandbox: RunningSandbox) -> None:
    headers = _headers(sandbox)
    _add_fault(sandbox, garbage=True, count=1)

    reply = _banks(sandbox, headers)

    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/html")
    with pytest.raises(requests.JSONDecodeError):
        reply.json()
    assert _banks(sandbox, headers).json()["count"] == 6


def test_token_ttl_shortens_tokens_issued_from_now(sandbox: RunningSandbox) -> None:
    before = _token_reply(sandbox).json()
    _add_fault(sandbox, token_ttl=5, count=1)
    short = _token_reply(sandbox).json()
    after = _token_reply(sandbox).json()

    assert before["expires_in"] == 36000
    assert short["expires_in"] == 5
    assert after["expires_in"] == 36000

    # On the sandbox clock the short token dies; the others live on.
    requests.post(sandbox.url + "_sandbox/clock", json={"advance": 6}, timeout=5)
    short_reply = _banks(sandbox, {"Authorization": f"Bearer {short['access_token']}"})
    long_reply = _banks(sandbox, {"Authorization": f"Bearer {before['access_token']}"})
    assert short_reply.status_code == 401
    assert long_reply.status_code == 200


def test_path_prefix_limits_which_requests_are_hit(sandbox: RunningSandbox) -> None:
    headers = _headers(sandbox)
    _add_fault(sandbox, status=500, path="/api/v1/payments/cash-in")

    cashin = requests.post(
        sandbox.url + "api/v1/payments/cash-in/", data={}, headers=headers, timeout=5
    )
    banks = _banks(sandbox, headers)

    assert cashin.status_code == 500
    assert banks.status_code == 200


def test_token_endpoint_can_be_faulted(sandbox: RunningSandbox) -> None:
    _add_fault(sandbox, status=503, path="/oAuth2/", count=1)
    assert _token_reply(sandbox).status_code == 503
    assert _token_reply(sandbox).status_code == 200


def test_faults_stack_and_controls_are_never_faulted(sandbox: RunningSandbox) -> None:
    headers = _headers(sandbox)
    _add_fault(sandbox, latency=0.2, path="/")
    faults = _add_fault(sandbox, status=503, path="/")

    started = time.monotonic()
    reply = _banks(sandbox, headers)
    elapsed = time.monotonic() - started
    stats = requests.get(sandbox.url + "_sandbox/stats", timeout=5)

    assert len(faults) == 2
    assert reply.status_code == 503 and elapsed >= 0.2
    assert stats.status_code == 200
    assert stats.json()["faulted_requests"] == 1


def test_delete_clears_every_fault(sandbox: RunningSandbox) -> None:
    headers = _headers(sandbox)
    _add_fault(sandbox, status=500)
    _add_fault(sandbox, garbage=True)

    cleared = requests.delete(sandbox.url + "_sandbox/faults", timeout=5)

    assert cleared.json() == {"faults": []}
    assert _banks(sandbox, headers).status_code == 200


@pytest.mark.parametrize(
    "fault",
    [
        {},
        {"status": 200},
        {"latency": -1},
        {"stall": "long"},
        {"count": 0, "status": 500},
        {"path": "api", "status": 500},
        {"garbage": "yes"},
        {"stauts": 500},
    ],
    ids=["no-effect", "status-200", "negative", "not-number", "count-0", "path", "bool", "typo"],
)
def test_invalid_faults_are_refused(sandbox: RunningSandbox, fault: dict[str, Any]) -> None:
    reply = requests.post(sandbox.url + "_sandbox/faults", json=fault, timeout=5)
    assert reply.status_code == 400
    assert isinstance(reply.json(), dict)
    assert requests.get(sandbox.url + "_sandbox/faults", timeout=5).json() == {"faults": []}
