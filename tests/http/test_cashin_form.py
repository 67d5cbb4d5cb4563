"""The cash-in form says each problem once."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard.models import User
from tests.conftest import WebClient
from tests.http.test_cashins import prepare


@pytest.mark.parametrize(
    ("account", "message"),
    [
        ("12", "This bank&#39;s accounts look like 000000-00"),
        ("999999-99", "No account 999999-99 at iHela Credit Union"),
    ],
)
def test_a_refused_account_is_said_once(
    web: WebClient, staff: dict[str, User], sandbox: Any, account: str, message: str
) -> None:
    web.login("accountant@example.com")
    response = prepare(web, account=account)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    main = page[page.index("<main") :]
    assert main.count(message) == 1, main
    assert 'data-field-error="account"' in main
