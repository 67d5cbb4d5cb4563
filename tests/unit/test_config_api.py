"""The API generation setting: checked at start-up, PIN kept as text."""

from __future__ import annotations

from typing import Any

import pytest

from dashboard import create_app
from dashboard.config import ConfigError, check_config
from dashboard.gateway import gateway


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"IHELA_API": "v3"}, "v1, v2 or v2-on-v1"),
        ({"IHELA_API": "v2", "IHELA_PIN": None}, "PIN"),
        ({"IHELA_API": "v2-on-v1", "IHELA_PIN": ""}, "PIN"),
    ],
)
def test_bad_api_settings_refuse_to_start(settings: dict[str, Any], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        check_config({"DEPLOYMENT": "development", **settings})


def test_a_pin_from_the_environment_stays_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DASHBOARD_IHELA_API", "v2")
    monkeypatch.setenv("DASHBOARD_IHELA_PIN", "0042")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    client = gateway(app)
    assert client.api_version == "v2" and client.can_check_operations
    monkeypatch.setenv("DASHBOARD_IHELA_PIN", "4242")  # JSON-parsed to a number by Flask
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["IHELA_PIN"] == 4242
    dialect = getattr(gateway(app), "_dialect")  # noqa: B009 - a private detail, on purpose
    assert getattr(dialect, "_pin") == "4242"  # noqa: B009 - sent as "4242", not 4242
    assert "4242" not in repr(gateway(app))
