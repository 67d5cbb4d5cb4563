"""An unknown v2 cash-in settled in a real browser with *Check with iHela*."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from dashboard.models import User
from tests.browser.conftest import LiveServer
from tests.browser.test_login_flow import log_in
from tests.conftest import WebClient
from tests.http.test_cashins import cashins, confirm, prepare


@pytest.mark.parametrize("dialect", ["v2"])
def test_check_with_ihela_settles_an_unknown_cashin(
    page: Page,
    make_live_server: Callable[..., LiveServer],
    staff: dict[str, User],
    sandbox: Any,
    dialect: str,
) -> None:
    server = make_live_server(IHELA_READ_TIMEOUT=0.5)
    web = WebClient(server.app.test_client())
    web.login("accountant@example.com")
    url = prepare(web).headers["Location"]
    requests.post(
        sandbox.url + "_sandbox/faults",
        json={"stall": 2, "path": "/api/v2/payments/cash-in", "count": 1},
        timeout=5,
    ).raise_for_status()
    confirm(web, url)
    requests.delete(sandbox.url + "_sandbox/faults", timeout=5)
    assert cashins(server.app)[0].status == "unknown"

    log_in(page, server, "accountant@example.com")
    page.goto(server.url + url)
    expect(page.get_by_test_id("unknown-explainer")).to_be_visible()
    page.get_by_test_id("check-with-ihela").click()
    expect(page.get_by_test_id("cashin-status")).to_have_text("Succeeded")
    [recorded] = requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json()["cashins"]
    expect(page.get_by_test_id("gateway-reference")).to_have_text(recorded["reference"])
    expect(page.get_by_test_id("check-with-ihela")).to_have_count(0)
