"""Sandbox token endpoint and bearer auth, over real HTTP (ihela-api.md §2.1, §6 #1-3)."""

from __future__ import annotations

import pytest
import requests

from dashboard.sandbox.server import RunningSandbox

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
GRANT = {"grant_type": "client_credentials"}


def _token_url(sandbox: RunningSandbox, slash: bool = True) -> str:
    return sandbox.url + ("oAuth2/token/" if slash else "oAuth2/token")


def _assert_token_reply(reply: requests.Response) -> None:
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert set(body) == {"access_token", "expires_in", "token_type", "scope"}
    assert isinstance(body["access_token"], str) and len(body["access_token"]) >= 20
    assert body["expires_in"] == 36000
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "read write"
    assert reply.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("slash", [True, False])
def test_basic_auth_with_form_body_gets_a_token(sandbox: RunningSandbox, slash: bool) -> None:
    reply = requests.post(
        _token_url(sandbox, slash), auth=(CLIENT_ID, CLIENT_SECRET), data=GRANT, timeout=5
    )
    _assert_token_reply(reply)


def test_credentials_in_the_body_get_a_token(sandbox: RunningSandbox) -> None:
    data = {**GRANT, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    _assert_token_reply(requests.post(_token_url(sandbox), data=data, timeout=5))


def test_multipart_body_gets_a_token(sandbox: RunningSandbox) -> None:
    reply = requests.post(
        _token_url(sandbox),
        auth=(CLIENT_ID, CLIENT_SECRET),
        files={"grant_type": (None, "client_credentials")},
        timeout=5,
    )
    assert reply.request.headers["Content-Type"].startswith("multipart/form-data")
    _assert_token_reply(reply)


def test_each_token_is_new(sandbox: RunningSandbox) -> None:
    tokens = {
        requests.post(
            _token_url(sandbox), auth=(CLIENT_ID, CLIENT_SECRET), data=GRANT, timeout=5
        ).json()["access_token"]
        for _ in range(3)
    }
    assert len(tokens) == 3


@pytest.mark.parametrize(
    ("auth", "data"),
    [
        ((CLIENT_ID, "wrong-secret"), GRANT),
        (("wrong-id", CLIENT_SECRET), GRANT),
        (None, GRANT),
        (None, {**GRANT, "client_id": CLIENT_ID, "client_secret": "nope"}),
    ],
    ids=["bad-secret", "bad-id", "no-credentials", "bad-body-secret"],
)
def test_bad_credentials_are_invalid_client(
    sandbox: RunningSandbox, auth: tuple[str, str] | None, data: dict[str, str]
) -> None:
    reply = requests.post(_token_url(sandbox), auth=auth, data=data, timeout=5)
    assert reply.status_code == 401
    assert reply.json() == {"error": "invalid_client"}


@pytest.mark.parametrize("data", [{"grant_type": "password"}, {}], ids=["password", "missing"])
def test_other_grants_are_unsupported(sandbox: RunningSandbox, data: dict[str, str]) -> None:
    reply = requests.post(
        _token_url(sandbox), auth=(CLIENT_ID, CLIENT_SECRET), data=data, timeout=5
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == "unsupported_grant_type"


def test_json_body_is_refused(sandbox: RunningSandbox) -> None:
    reply = requests.post(
        _token_url(sandbox), auth=(CLIENT_ID, CLIENT_SECRET), json=GRANT, timeout=5
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_request"


def test_get_on_the_token_endpoint_is_a_json_405(sandbox: RunningSandbox) -> None:
    reply = requests.get(_token_url(sandbox), timeout=5)
    assert reply.status_code == 405
    assert reply.headers["Content-Type"].startswith("application/json")
    assert "detail" in reply.json()


def _bank_list(sandbox: RunningSandbox, authorization: str | None) -> requests.Response:
    headers = {"Authorization": authorization} if authorization else {}
    return requests.get(sandbox.url + "api/v1/payments/bank/", headers=headers, timeout=5)


def test_api_calls_need_a_valid_bearer_token(sandbox: RunningSandbox) -> None:
    token = requests.post(
        _token_url(sandbox), auth=(CLIENT_ID, CLIENT_SECRET), data=GRANT, timeout=5
    ).json()["access_token"]

    assert _bank_list(sandbox, f"Bearer {token}").status_code == 200
    for refused in (None, "Bearer not-a-token", f"Token {token}", "Basic dXNlcjpwYXNz"):
        reply = _bank_list(sandbox, refused)
        assert reply.status_code == 401, refused
        assert reply.json() == {"detail": "Authentication credentials were not provided."}


def test_configured_credentials_and_lifetime_are_used() -> None:
    from dashboard.sandbox.server import start_sandbox

    config = {"SANDBOX_CLIENT_ID": "id-x", "SANDBOX_CLIENT_SECRET": "s-y", "SANDBOX_TOKEN_TTL": 60}
    with start_sandbox(config=config) as other:
        refused = requests.post(
            _token_url(other), auth=(CLIENT_ID, CLIENT_SECRET), data=GRANT, timeout=5
        )
        accepted = requests.post(_token_url(other), auth=("id-x", "s-y"), data=GRANT, timeout=5)
    assert refused.status_code == 401
    assert accepted.status_code == 200
    assert accepted.json()["expires_in"] == 60
