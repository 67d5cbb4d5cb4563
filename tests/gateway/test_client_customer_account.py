"""Finding a payer's iHela Credit Union account by e-mail, phone or client code (§3.4).

The real client against the real sandbox over loopback HTTP, once per API generation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from dashboard.ihela import (
    IHELA_BANK_SLUG,
    AccountNotFound,
    GatewayRejected,
    GatewayUnavailable,
    IhelaClient,
)
from dashboard.sandbox.server import RunningSandbox
from tests.conftest import SANDBOX_PIN

pytestmark = pytest.mark.both_dialects


@pytest.fixture()
def client(sandbox: RunningSandbox, dialect: str) -> Iterator[IhelaClient]:
    with IhelaClient(
        sandbox.url,
        "sandbox-client-id",
        "sandbox-client-secret",
        read_timeout=1.0,
        api=dialect,
        pin=SANDBOX_PIN,
    ) as ihela:
        yield ihela


def add_fault(sandbox: RunningSandbox, **settings: Any) -> None:
    requests.post(sandbox.url + "_sandbox/faults", json=settings, timeout=5).raise_for_status()


@pytest.mark.parametrize(
    "customer",
    ["clientmail@gmail.com", "CLIENTMAIL@gmail.com", "79123456", "2", "client-username"],
)
def test_the_fixture_payer_has_an_ihela_credit_union_account(
    client: IhelaClient, customer: str
) -> None:
    holder = client.find_customer_account(customer)
    assert holder.bank_slug == IHELA_BANK_SLUG == "MF1-0001"
    assert holder.account_number == "000002-01"
    assert holder.name == "Ndayishimiye Claude"


def test_each_payer_gets_their_own_account(client: IhelaClient) -> None:
    holder = client.find_customer_account("fabrice.bigirimana@example.com")
    assert (holder.account_number, holder.name) == ("000001-01", "Bigirimana Fabrice")


def test_an_unknown_person_is_account_not_found(client: IhelaClient) -> None:
    with pytest.raises(AccountNotFound) as caught:
        client.find_customer_account("nobody@example.com")
    assert caught.value.status == 404


def test_a_gateway_error_is_unavailable_not_not_found(
    client: IhelaClient, sandbox: RunningSandbox, api_path: Callable[[str], str]
) -> None:
    add_fault(sandbox, status=503, path=api_path("lookup"))
    with pytest.raises(GatewayUnavailable) as caught:
        client.find_customer_account("clientmail@gmail.com")
    assert not isinstance(caught.value, AccountNotFound)


def test_an_unreadable_reply_is_unavailable(
    client: IhelaClient, sandbox: RunningSandbox, api_path: Callable[[str], str]
) -> None:
    add_fault(sandbox, garbage=True, path=api_path("lookup"))
    with pytest.raises(GatewayUnavailable):
        client.find_customer_account("clientmail@gmail.com")


def test_a_closed_gateway_is_unavailable(dialect: str) -> None:
    with (
        IhelaClient(
            "http://127.0.0.1:9/", "id", "secret", connect_timeout=0.5, api=dialect, pin="1234"
        ) as ihela,
        pytest.raises(GatewayUnavailable),
    ):
        ihela.find_customer_account("clientmail@gmail.com")


def test_an_e_mail_is_no_account_to_send_money_to(client: IhelaClient) -> None:
    # The sandbox resolves people in lookups only: a cash-in needs the account number.
    with pytest.raises(GatewayRejected):
        client.cashin_client(IHELA_BANK_SLUG, "clientmail@gmail.com", 1000, "REF-E1", "Refund")
