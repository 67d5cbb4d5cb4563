"""The client reads the environment's proxy and CA bundle settings once, as requests would on
each call: a proxy for the gateway's host is used, NO_PROXY and a CA bundle are honoured."""

from __future__ import annotations

import pytest

from dashboard.ihela import IhelaClient

URL = "https://api.ihela.example/"


def _settings(client: IhelaClient) -> dict[str, object]:
    """What requests merges into each call of the client's session."""
    session = client._session
    return dict(session.merge_environment_settings(URL + "api/v1/", {}, None, None, None))


@pytest.fixture(autouse=True)
def _plain_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)


def test_a_proxy_in_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    with IhelaClient(URL, "id", "secret") as client:
        assert _settings(client)["proxies"] == {"https": "http://proxy.example:3128"}
        assert _settings(client)["verify"] is True


def test_no_proxy_for_the_gateways_host_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "api.ihela.example")
    with IhelaClient(URL, "id", "secret") as client:
        assert _settings(client)["proxies"] == {}


def test_a_ca_bundle_in_the_environment_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/bank-ca.pem")
    with IhelaClient(URL, "id", "secret") as client:
        assert _settings(client)["verify"] == "/etc/ssl/bank-ca.pem"
