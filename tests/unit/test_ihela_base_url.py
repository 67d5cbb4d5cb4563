"""The gateway base URL is explicit, https, and plain http only on loopback."""

from __future__ import annotations

import pytest

from dashboard.ihela import IhelaClient, validate_base_url


@pytest.mark.parametrize(
    ("url", "normalised"),
    [
        ("https://testgate.ihela.online/", "https://testgate.ihela.online/"),
        ("https://testgate.ihela.online", "https://testgate.ihela.online/"),
        ("https://api.ihela.bi/testenv", "https://api.ihela.bi/testenv/"),
        ("HTTPS://gate.ihela.online/", "https://gate.ihela.online/"),
        ("http://127.0.0.1:8070/", "http://127.0.0.1:8070/"),
        ("http://127.5.6.7:8070", "http://127.5.6.7:8070/"),
        ("http://localhost:8070/", "http://localhost:8070/"),
        ("http://[::1]:8070/", "http://[::1]:8070/"),
    ],
)
def test_accepted_urls_end_with_a_slash(url: str, normalised: str) -> None:
    assert validate_base_url(url) == normalised


@pytest.mark.parametrize(
    "url",
    [
        "http://192.168.4.1/",  # the 0.0.4/0.0.5 "production" default: private, clear text
        "http://testgate.ihela.online/",
        "http://10.30.0.7/",
        "ftp://testgate.ihela.online/",
        "testgate.ihela.online",
        "/api/v1/",
        "",
        "https://user:pw@testgate.ihela.online/",
        "https://testgate.ihela.online/?env=test",
        "https://testgate.ihela.online/#x",
    ],
)
def test_other_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        validate_base_url(url)


def test_client_validates_its_base_url() -> None:
    with pytest.raises(ValueError, match="https"):
        IhelaClient("http://testgate.ihela.online/", "id", "secret")


@pytest.mark.parametrize(
    "kwargs",
    [{"connect_timeout": 0}, {"read_timeout": -1}, {"token_margin": -5}],
)
def test_client_refuses_nonsense_timeouts(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="Timeouts"):
        IhelaClient("https://testgate.ihela.online/", "id", "secret", **kwargs)


@pytest.mark.parametrize(("client_id", "secret"), [("", "secret"), ("id", "")])
def test_client_requires_credentials(client_id: str, secret: str) -> None:
    with pytest.raises(ValueError, match="required"):
        IhelaClient("https://testgate.ihela.online/", client_id, secret)


def test_repr_masks_the_secret_and_construction_makes_no_call() -> None:
    # Port 9 on loopback has no listener: building the client must not try to connect.
    client = IhelaClient("http://127.0.0.1:9/", "my-client-id", "s3cr3t-value-Xy9")
    assert client.base_url == "http://127.0.0.1:9/"
    assert "s3cr3t-value-Xy9" not in repr(client)
    assert "s3cr3t-value-Xy9" not in str(vars(client))
    assert "client_secret='***'" in repr(client)
    client.close()
