"""Outside review, security items: redirects, sessions, start-up checks, return URL, exports."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from dashboard.models import Role, User
from tests.conftest import PASSWORD, WebClient

CONTROL_TARGETS = ["/bills/\r\nSet-Cookie: x=1", "/bills/\nX: y", "/bills/\x00", "/bills/\x7f"]


@pytest.mark.parametrize("target", CONTROL_TARGETS)
def test_control_characters_in_next_after_login_give_a_safe_redirect(
    web: WebClient, staff: dict[str, User], target: str
) -> None:
    response = web.post(
        "/login", {"email": "cashier@example.com", "password": PASSWORD, "next": target}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/bills/"
    assert "Set-Cookie: x" not in str(response.headers)


@pytest.mark.parametrize("target", CONTROL_TARGETS)
def test_control_characters_in_next_of_the_language_switch_give_a_safe_redirect(
    web: WebClient, target: str
) -> None:
    response = web.post("/lang", {"lang": "fr", "next": target})
    assert response.status_code == 303
    assert "\n" not in response.headers["Location"] and "\r" not in response.headers["Location"]
    assert response.headers["Location"].startswith("/")
