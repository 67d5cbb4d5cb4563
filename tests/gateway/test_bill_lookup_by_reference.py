"""Can a bill be found by our merchant reference alone? (issue 15, row 3)

An unknown bill is one whose iHela code never came back. Following it would need iHela to look
the bill up by our reference alone. Neither dialect can: v1 verify needs the bill code and our
reference together, and so does v2 bill-check. Asked without the code, the sandbox (which plays
iHela's documented rule, ihela-api.md §7 decision 8) refuses — so the dashboard does not follow
such a bill but says so on it and lists it under *Unknown* until a person settles it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from dashboard.ihela import GatewayRejected, IhelaClient
from dashboard.sandbox.server import RunningSandbox
from tests.conftest import SANDBOX_PIN

PAYER = "clientmail@gmail.com"


@pytest.fixture(params=["v1", "v2"])
def client(request: pytest.FixtureRequest, sandbox: RunningSandbox) -> Iterator[IhelaClient]:
    api = request.param
    with IhelaClient(
        sandbox.url,
        "sandbox-client-id",
        "sandbox-client-secret",
        read_timeout=2,
        api=api,
        pin=SANDBOX_PIN if api == "v2" else None,
    ) as ihela:
        yield ihela


def test_a_bill_cannot_be_looked_up_by_our_reference_alone(client: IhelaClient) -> None:
    reference = uuid.uuid4().hex[:20]
    bill = client.init_bill(2000, PAYER, "Bread", reference)
    assert client.verify_bill(bill.code, reference).merchant_reference == reference
    with pytest.raises(GatewayRejected):
        client.verify_bill("", reference)
