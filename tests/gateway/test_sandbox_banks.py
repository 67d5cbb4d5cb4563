"""Sandbox bank list, bank logos and account lookup, over real HTTP (ihela-api.md §3.3, §3.4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from dashboard.sandbox.server import RunningSandbox

BANK_KEYS = {
    "id", "slug", "name", "swift_code", "bank_code", "bank_type", "can_create_account_online",
    "is_active", "is_default", "company", "limits_config", "account_masked_text",
    "ihela_account_inside", "api_values",
}  # fmt: skip
COMPANY_KEYS = {"name", "fullname", "nickname", "slug", "image", "about", "logo", "logo_icon"}


@pytest.fixture()
def api(sandbox: RunningSandbox) -> Iterator[requests.Session]:
    """A session carrying a fresh bearer token for the sandbox."""
    reply = requests.post(
        sandbox.url + "oAuth2/token/",
        auth=("sandbox-client-id", "sandbox-client-secret"),
        data={"grant_type": "client_credentials"},
        timeout=5,
    )
    reply.raise_for_status()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {reply.json()['access_token']}"
    yield session
    session.close()


def _banks_by_slug(api: requests.Session, sandbox: RunningSandbox) -> dict[str, dict]:
    reply = api.get(sandbox.url + "api/v1/payments/bank/", timeout=5)
    reply.raise_for_status()
    return {bank["slug"]: bank for bank in reply.json()["banks"]}


@pytest.mark.parametrize(
    ("path", "count_key"),
    [
        ("api/v1/payments/bank/", "count"),
        ("api/v1/payments/bank", "count"),
        ("api/v1/bank/all", "banksCount"),
        ("api/v1/bank/all/", "banksCount"),
    ],
)
def test_bank_list_on_both_paths_with_their_count_key(
    api: requests.Session, sandbox: RunningSandbox, path: str, count_key: str
) -> None:
    reply = api.get(sandbox.url + path, timeout=5, allow_redirects=False)

    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"banks", count_key}
    assert body[count_key] == len(body["banks"]) == 6
    for bank in body["banks"]:
        assert set(bank) == BANK_KEYS, bank["slug"]
        assert set(bank["company"]) == COMPANY_KEYS
        assert set(bank["api_values"]) >= {"has_lookup", "has_cashin", "has_cashout"}
        assert bank["slug"] == f"{bank['bank_type']}-{bank['bank_code']:04d}"


def test_bank_fixtures_match_the_contract(api: requests.Session, sandbox: RunningSandbox) -> None:
    banks = _banks_by_slug(api, sandbox)

    assert set(banks) == {"MF1-0001", "BNQ-0002", "MOB-0003", "BNQ-0005", "MOB-0006", "MF1-0007"}
    assert {bank["bank_type"] for bank in banks.values()} == {"MF1", "BNQ", "MOB"}
    icu = banks["MF1-0001"]
    assert icu["name"] == "iHela Credit Union"
    assert icu["account_masked_text"] == "000000-00"
    assert icu["limits_config"] is None
    assert banks["BNQ-0002"]["name"] == "Mutec"
    assert banks["BNQ-0002"]["account_masked_text"] is None
    assert banks["MOB-0003"]["account_masked_text"] == "00000000"
    assert banks["MOB-0003"]["limits_config"] == {
        "in_minimum": "1000.00",
        "in_maximum": "2000000.00",
        "out_minimum": "1000.00",
        "out_maximum": "2000000.00",
    }
    assert banks["BNQ-0005"]["swift_code"] == "CORUBIBU"
    assert banks["BNQ-0005"]["api_values"]["has_lookup"] is False
    assert banks["MOB-0006"]["limits_config"]["in_minimum"] == "10000.00"
    assert banks["MOB-0006"]["limits_config"]["in_maximum"] == "50000000.00"
    assert [slug for slug, bank in banks.items() if not bank["is_active"]] == ["MF1-0007"]
    assert all(
        bank["api_values"]["has_lookup"] for slug, bank in banks.items() if slug != "BNQ-0005"
    )


def test_type_filter(api: requests.Session, sandbox: RunningSandbox) -> None:
    reply = api.get(sandbox.url + "api/v1/payments/bank/", params={"type": "MOB"}, timeout=5)
    assert {bank["slug"] for bank in reply.json()["banks"]} == {"MOB-0003", "MOB-0006"}
    assert reply.json()["count"] == 2


def test_bank_list_needs_a_token(sandbox: RunningSandbox) -> None:
    for path in ("api/v1/payments/bank/", "api/v1/bank/all"):
        assert requests.get(sandbox.url + path, timeout=5).status_code == 401


def test_logos_are_svgs_served_by_the_sandbox_itself(
    api: requests.Session, sandbox: RunningSandbox
) -> None:
    for bank in _banks_by_slug(api, sandbox).values():
        company = bank["company"]
        assert company["logo"] == f"{sandbox.url}media/banks/{bank['slug']}.svg"
        assert company["logo_icon"] == f"{sandbox.url}media/banks/icon/{bank['slug']}.svg"
        for url in (company["logo"], company["logo_icon"], company["image"]):
            image = requests.get(url, timeout=5)
            assert image.status_code == 200, url
            assert image.headers["Content-Type"].startswith("image/svg+xml")
            assert image.text.startswith("<svg ")
            # The only URL inside is the SVG namespace name, which browsers never fetch.
            assert image.text.count("://") == 1
            assert "http://www.w3.org/2000/svg" in image.text


def test_unknown_logo_is_a_json_404(sandbox: RunningSandbox) -> None:
    reply = requests.get(sandbox.url + "media/banks/NOPE-0000.svg", timeout=5)
    assert reply.status_code == 404
    assert reply.json() == {"detail": "Not found."}


def test_public_url_setting_is_used_in_links() -> None:
    from dashboard.sandbox.server import start_sandbox

    public = "http://127.0.0.1:9/gateway/"
    with start_sandbox(config={"SANDBOX_PUBLIC_URL": public}) as other:
        token = requests.post(
            other.url + "oAuth2/token/",
            auth=("sandbox-client-id", "sandbox-client-secret"),
            data={"grant_type": "client_credentials"},
            timeout=5,
        ).json()["access_token"]
        banks = requests.get(
            other.url + "api/v1/payments/bank/",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()["banks"]
    assert banks[0]["company"]["logo"] == f"{public}media/banks/{banks[0]['slug']}.svg"


@pytest.mark.parametrize(
    ("query", "account_number", "name"),
    [
        ({"customer_id": "000016-01"}, "000016-01", "Niyonzima Aline"),
        ({"customer_id": "000001-01"}, "000001-01", "Bigirimana Fabrice"),
        ({"account_number": "000001-01"}, "000001-01", "Bigirimana Fabrice"),
        ({"customer_id": "16-01"}, "000016-01", "Niyonzima Aline"),
        ({"customer_id": "0000000016-01"}, "000016-01", "Niyonzima Aline"),
    ],
)
def test_lookup_finds_the_account_holder(
    sandbox: RunningSandbox, query: dict[str, str], account_number: str, name: str
) -> None:
    # v1 lookup is public: PHP and LAR call it without a token.
    reply = requests.get(
        sandbox.url + "api/v1/bank/MF1-0001/account/lookup/", params=query, timeout=5
    )

    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["account_number"] == account_number
    assert body["name"] == name
    assert isinstance(body["customer_id"], str)


@pytest.mark.parametrize(
    ("slug", "account", "name"),
    [
        ("MOB-0003", "79123456", "Ndayishimiye Claude"),
        ("BNQ-0002", "00012345", "Hakizimana Jean"),
        ("MOB-0006", "68000007", "Kaneza Grace"),
    ],
)
def test_lookup_at_other_banks_without_slash_and_with_token(
    api: requests.Session, sandbox: RunningSandbox, slug: str, account: str, name: str
) -> None:
    reply = api.get(
        f"{sandbox.url}api/v1/bank/{slug}/account/lookup",
        params={"customer_id": account},
        timeout=5,
        allow_redirects=False,
    )
    assert reply.status_code == 200
    assert reply.json()["name"] == name


@pytest.mark.parametrize(
    ("slug", "account", "status"),
    [
        ("MF1-0001", "999999-01", 404),
        ("MOB-0003", "70000000", 404),
        ("XYZ-0009", "000016-01", 404),
        ("BNQ-0005", "0150012345600", 503),
        ("MF1-0007", "000003-01", 400),
    ],
    ids=["unknown-account", "unknown-phone", "unknown-bank", "no-lookup-bank", "inactive-bank"],
)
def test_lookup_failures_carry_detail_and_details(
    sandbox: RunningSandbox, slug: str, account: str, status: int
) -> None:
    reply = requests.get(
        f"{sandbox.url}api/v1/bank/{slug}/account/lookup/",
        params={"customer_id": account},
        timeout=5,
    )
    assert reply.status_code == status
    body = reply.json()
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["details"] == body["detail"]


def test_lookup_without_an_account_is_a_field_error(sandbox: RunningSandbox) -> None:
    reply = requests.get(sandbox.url + "api/v1/bank/MF1-0001/account/lookup/", timeout=5)
    assert reply.status_code == 400
    assert list(reply.json()) == ["customer_id"]
