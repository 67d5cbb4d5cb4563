"""The published ihela-sdk 0.4.0 (PyPI, iHela's 2026 rewrite) works against the sandbox unchanged.

Its merchant calls put v2 names and JSON bodies on ``api/v1/`` paths, it has separate bank lists
for money in and out, and its only status lookup is ``ihela/api/v1/transaction-status/``. Both
its sync and its async clients are run here over HTTP, as a merchant would run them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import secrets
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
import requests

from dashboard.sandbox.server import RunningSandbox

sdk = pytest.importorskip("ihela_sdk", reason="ihela-sdk==0.4.0 (dev dependency) is missing")

T = TypeVar("T")
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
PIN = "1234"
PAYER = "clientmail@gmail.com"


def test_it_is_the_release_the_issue_measured() -> None:
    assert sdk.__version__ == "0.4.0"


def fault(sandbox: RunningSandbox, **spec: Any) -> None:
    requests.post(sandbox.url + "_sandbox/faults", json=spec, timeout=5).raise_for_status()


def received(sandbox: RunningSandbox) -> list[dict[str, Any]]:
    return list(requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json()["cashins"])


def ref() -> str:
    return "SDK-" + secrets.token_hex(6)


def api_error(call: Callable[[], Any]) -> Any:
    with pytest.raises(sdk.iHelaAPIError) as caught:
        call()
    return caught.value


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """The coroutine on an event loop of its own, in a thread of its own: in a full run the
    browser tests' (synchronous) Playwright keeps a loop running in this thread."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result(timeout=120)


@pytest.fixture()
def merchant(sandbox: RunningSandbox) -> Any:
    client = sdk.MerchantClient(CLIENT_ID, CLIENT_SECRET, ihela_url=sandbox.url)
    yield client
    client.close()


@pytest.fixture()
def banking(sandbox: RunningSandbox) -> Any:
    client = sdk.BankingClient(CLIENT_ID, CLIENT_SECRET, ihela_url=sandbox.url)
    yield client
    client.close()


# -- sync client: every operation ------------------------------------------------------------


def test_constructor_authenticates(merchant: Any) -> None:
    assert merchant.is_authenticated() and merchant.get_token_type() == "Bearer"


def test_wrong_credentials_are_an_api_error(sandbox: RunningSandbox) -> None:
    error = api_error(lambda: sdk.MerchantClient(CLIENT_ID, "wrong", ihela_url=sandbox.url))
    assert error.status_code == 401


def test_bill_init_and_check_on_the_v1_paths(merchant: Any, sandbox: RunningSandbox) -> None:
    reference = ref()
    bill = merchant.init_bill(2000, PAYER, "Shoes", reference, pin_code=PIN)
    assert bill["response_code"] == "00" and bill["response_status"] == 200
    code = bill["response_data"]["code"]
    check = merchant.verify_bill(code, reference, PIN)
    assert check["response_data"]["status"] == "Initial"
    requests.post(sandbox.url + f"_sandbox/bills/{code}/pay", timeout=5).raise_for_status()
    paid = merchant.verify_bill(code, reference, PIN)["response_data"]
    assert paid["status"] == "Paid" and paid["payment_reference"]
    stats = requests.get(sandbox.url + "_sandbox/stats", timeout=5).json()["api_requests"]
    assert any(p.startswith("/api/v1/payments/bill-init") for p in stats)


def test_cashin_with_a_v2_body_on_the_shared_path(merchant: Any, sandbox: RunningSandbox) -> None:
    reference = ref()
    reply = merchant.cashin_client("MF1-0001", "000016-01", 5000, reference, "Refund", PIN)
    assert reply["response_code"] == "00" and reply["response_data"]["reference"]
    [sent] = received(sandbox)
    assert sent["merchant_reference"] == reference and sent["amount"] == 5000


def test_the_three_bank_lists(merchant: Any) -> None:
    everything = merchant.get_bank_list()
    cashin = merchant.get_cashin_bank_list()["response_data"]["objects"]
    cashout = merchant.get_cashout_bank_list()["response_data"]["objects"]
    slugs = {bank["slug"] for bank in everything["banks"]}
    assert "MF1-0007" in slugs  # the inactive bank is listed among all ...
    assert "MF1-0007" not in {bank["slug"] for bank in cashin}  # ... but takes no money in
    assert {bank["slug"] for bank in cashout} == {"MF1-0001", "MOB-0003", "MOB-0006"}
    masks = {bank["slug"]: bank["account_masked_text"] for bank in cashin}
    assert masks["MF1-0001"] == "000000-00" and masks["MOB-0003"] == "00000000"


def test_customer_lookup(merchant: Any) -> None:
    holder = merchant.customer_lookup("MF1-0001", account_number="000016-01")
    assert holder["name"] == "Niyonzima Aline"
    error = api_error(lambda: merchant.customer_lookup("MF1-0001", account_number="999999-01"))
    assert error.status_code == 404


def test_transaction_status_of_a_cashin_and_of_nothing(
    merchant: Any, banking: Any, sandbox: RunningSandbox
) -> None:
    reference = ref()
    sent = merchant.cashin_client("MF1-0001", "000016-01", 5000, reference, "Refund", PIN)
    status = banking.transaction_status(reference, sent["response_data"]["reference"])
    assert status["response_data"]["status"] == "Success"
    assert status["response_data"]["external_reference"] == reference
    missing = api_error(lambda: banking.transaction_status("NO-SUCH-" + reference, ""))
    assert missing.status_code == 404 and missing.response_code == "04"


# -- sync client: error paths -----------------------------------------------------------------


def test_wrong_pin(merchant: Any, sandbox: RunningSandbox) -> None:
    error = api_error(
        lambda: merchant.cashin_client("MF1-0001", "000016-01", 5000, ref(), "x", "9999")
    )
    assert error.status_code == 403 and error.response_code == "08"
    assert received(sandbox) == []


@pytest.mark.parametrize(
    ("bank", "account"), [("XXX-0404", "000016-01"), ("MF1-0001", "999999-01")]
)
def test_unknown_bank_or_account(
    merchant: Any, sandbox: RunningSandbox, bank: str, account: str
) -> None:
    error = api_error(lambda: merchant.cashin_client(bank, account, 5000, ref(), "x", PIN))
    assert error.status_code == 400 and error.response_code == "03"
    assert received(sandbox) == []


def test_unknown_payer(merchant: Any) -> None:
    error = api_error(
        lambda: merchant.init_bill(2000, "nobody@example.com", "x", ref(), pin_code=PIN)
    )
    assert error.status_code == 400 and error.response_code == "03"


def test_duplicate_reference(merchant: Any, sandbox: RunningSandbox) -> None:
    reference = ref()
    merchant.cashin_client("MF1-0001", "000016-01", 5000, reference, "x", PIN)
    error = api_error(
        lambda: merchant.cashin_client("MF1-0001", "000016-01", 5000, reference, "x", PIN)
    )
    assert error.response_code == "06"
    bill_reference = ref()
    merchant.init_bill(2000, PAYER, "x", bill_reference, pin_code=PIN)
    again = api_error(lambda: merchant.init_bill(2000, PAYER, "x", bill_reference, pin_code=PIN))
    assert again.response_code == "06"
    assert len(received(sandbox)) == 1


@pytest.mark.parametrize(
    ("spec", "status", "code", "retryable"),
    [
        ({"response_code": "05"}, 200, "05", False),
        ({"response_code": "07"}, 200, "07", True),
        ({"status": 503}, 503, None, True),
    ],
)
def test_faults_on_the_sdk_paths(
    merchant: Any,
    banking: Any,
    sandbox: RunningSandbox,
    spec: dict[str, Any],
    status: int,
    code: str | None,
    retryable: bool,
) -> None:
    calls: list[tuple[str, Callable[[], Any]]] = [
        (
            "/api/v1/payments/cash-in",
            lambda: merchant.cashin_client("MF1-0001", "000016-01", 5000, ref(), "x", PIN),
        ),
        (
            "/api/v1/payments/bill-init",
            lambda: merchant.init_bill(2000, PAYER, "x", ref(), pin_code=PIN),
        ),
        ("/api/v1/payments/bill-check", lambda: merchant.verify_bill("CODE-X", "REF-X", PIN)),
        ("/api/v1/payments/bank/cashin", merchant.get_cashin_bank_list),
        ("/api/v1/payments/bank/cashout", merchant.get_cashout_bank_list),
        ("/api/v1/bank/", lambda: merchant.customer_lookup("MF1-0001", account_number="000016-01")),
        ("/ihela/api/v1/transaction-status", lambda: banking.transaction_status("R", "")),
    ]
    for path, call in calls:
        fault(sandbox, path=path, count=1, **spec)
        error = api_error(call)
        assert (error.status_code, error.response_code) == (status, code), path
        assert error.is_retryable is retryable, path
    assert received(sandbox) == []  # a fault answers without acting


# -- async clients ------------------------------------------------------------------------------


def test_the_async_clients_do_the_same(sandbox: RunningSandbox) -> None:
    merchant = sdk.AsyncMerchantClient(CLIENT_ID, CLIENT_SECRET, ihela_url=sandbox.url)
    banking = sdk.AsyncBankingClient(CLIENT_ID, CLIENT_SECRET, ihela_url=sandbox.url)
    reference, bill_reference = ref(), ref()

    async def scenario() -> dict[str, Any]:
        seen: dict[str, Any] = {}
        seen["bill"] = await merchant.init_bill(2000, PAYER, "Shoes", bill_reference, pin_code=PIN)
        code = seen["bill"]["response_data"]["code"]
        seen["check"] = await merchant.verify_bill(code, bill_reference, PIN)
        seen["banks"] = await merchant.get_bank_list()
        seen["cashin banks"] = await merchant.get_cashin_bank_list()
        seen["cashout banks"] = await merchant.get_cashout_bank_list()
        seen["lookup"] = await merchant.customer_lookup("MF1-0001", account_number="000016-01")
        seen["cashin"] = await merchant.cashin_client(
            "MF1-0001", "000016-01", 5000, reference, "Refund", PIN
        )
        seen["status"] = await banking.transaction_status(reference, "")
        for name, call in {
            "wrong pin": merchant.cashin_client("MF1-0001", "000016-01", 5000, ref(), "x", "9999"),
            "unknown bank": merchant.cashin_client("XXX-0404", "000016-01", 5000, ref(), "x", PIN),
            "unknown account": merchant.cashin_client(
                "MF1-0001", "999999-01", 5000, ref(), "x", PIN
            ),
            "unknown payer": merchant.init_bill(
                2000, "nobody@example.com", "x", ref(), pin_code=PIN
            ),
            "duplicate": merchant.cashin_client("MF1-0001", "000016-01", 5000, reference, "x", PIN),
            "no such operation": banking.transaction_status("NO-SUCH-" + reference, ""),
        }.items():
            try:
                await call
            except sdk.iHelaAPIError as error:
                seen[name] = (error.status_code, error.response_code)
        for code_or_status in ("05", "07", 503):
            spec = (
                {"status": code_or_status}
                if code_or_status == 503
                else {"response_code": code_or_status}
            )
            fault(sandbox, path="/api/v1/payments/cash-in", count=1, **spec)
            try:
                await merchant.cashin_client("MF1-0001", "000016-01", 5000, ref(), "x", PIN)
            except sdk.iHelaAPIError as error:
                seen[f"fault {code_or_status}"] = (error.status_code, error.response_code)
        return seen

    seen = run(scenario())
    assert seen["bill"]["response_code"] == "00"
    assert seen["check"]["response_data"]["status"] == "Initial"
    assert len(seen["banks"]["banks"]) == 6
    assert len(seen["cashin banks"]["response_data"]["objects"]) == 5
    assert len(seen["cashout banks"]["response_data"]["objects"]) == 3
    assert seen["lookup"]["name"] == "Niyonzima Aline"
    assert seen["cashin"]["response_code"] == "00"
    assert seen["status"]["response_data"]["status"] == "Success"
    assert seen["wrong pin"] == (403, "08")
    assert seen["unknown bank"] == seen["unknown account"] == seen["unknown payer"] == (400, "03")
    assert seen["duplicate"] == (400, "06")
    assert seen["no such operation"] == (404, "04")
    assert seen["fault 05"] == (200, "05") and seen["fault 07"] == (200, "07")
    assert seen["fault 503"] == (503, None)
    assert len(received(sandbox)) == 1
