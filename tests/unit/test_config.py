from __future__ import annotations

import pytest

from dashboard.config import Config, ConfigError, check_config


def _production(**extra: object) -> dict[str, object]:
    base = {k: getattr(Config, k) for k in dir(Config) if k.isupper()}
    base.update(
        DEPLOYMENT="production",
        SQLALCHEMY_DATABASE_URI="postgresql+psycopg://db/x",
        PUBLIC_URL="https://dashboard.shop.example",
    )
    base.update(extra)
    return base


def test_production_refuses_default_secret_key() -> None:
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        check_config(
            _production(IHELA_BASE_URL="https://gate.example/", IHELA_CLIENT_SECRET="real")
        )


def test_production_refuses_the_sandbox_unless_told() -> None:
    config = _production(SECRET_KEY="x" * 40)
    with pytest.raises(ConfigError, match="sandbox"):
        check_config(config)
    config["ALLOW_SANDBOX_IN_PRODUCTION"] = True
    check_config(config)


def test_production_with_real_settings_starts() -> None:
    check_config(
        _production(
            SECRET_KEY="x" * 40,
            IHELA_BASE_URL="https://gate.example/",
            IHELA_CLIENT_SECRET="real-secret",
        )
    )


def test_development_defaults_are_fine() -> None:
    check_config({k: getattr(Config, k) for k in dir(Config) if k.isupper()})


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard import create_app

    monkeypatch.setenv("DASHBOARD_MERCHANT_NAME", "Boutique Kira")
    monkeypatch.setenv("DASHBOARD_PAGE_SIZE", "25")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["MERCHANT_NAME"] == "Boutique Kira"
    assert app.config["PAGE_SIZE"] == 25
