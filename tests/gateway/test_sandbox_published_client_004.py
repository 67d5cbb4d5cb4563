"""The published ihela-python-client 0.0.4 (PyPI) works against the sandbox too.

0.0.4 cannot be aimed at a gateway by argument: any ``ihela_url`` selects its module-level test
constant, and without one it talks to its hard-coded production host ``http://192.168.4.1/``
(ihela-api.md §1). So each scenario points that constant at the sandbox. Its package name
(``ihela_client``) is the one 0.0.5, a dev dependency, already owns in the venv, so 0.0.4 is
installed into a scratch directory and driven in a subprocess that puts that directory first on
``sys.path``; the project venv is never touched.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import requests

from dashboard.sandbox.server import RunningSandbox

VERSION = "0.0.4"
CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
BILL_CODE = re.compile(r"BILL-\d{8}-[A-Z0-9]{10}")

# Runs in the subprocess: reads a JSON job on stdin, prints one JSON object on stdout.
DRIVER = r"""
import json
import sys
from urllib.parse import urlsplit

job = json.load(sys.stdin)
url = job["url"]
if urlsplit(url).hostname != "127.0.0.1":
    raise SystemExit(f"refusing a non-loopback gateway: {url}")
sys.path.insert(0, job["target"])

import requests.adapters

_send = requests.adapters.HTTPAdapter.send


def loopback_only(adapter, request, *args, **kwargs):
    # Whatever 0.0.4 computes, nothing leaves the machine (its prod host is 192.168.4.1).
    if urlsplit(request.url).hostname != "127.0.0.1":
        raise RuntimeError(f"ihela-python-client tried to reach {request.url}")
    return _send(adapter, request, *args, **kwargs)


requests.adapters.HTTPAdapter.send = loopback_only

from importlib.metadata import version

import ihela_client
from ihela_client import merchant_client

merchant_client.iHela_BASE_TEST_URL = url  # what any ihela_url selects in 0.0.4
merchant_client.iHela_BASE_URL = url  # the hard-coded 192.168.4.1, in case
client = merchant_client.MerchantClient(job["client_id"], job["secret"], ihela_url=url)
results = [getattr(client, name)(*args, **kwargs) for name, args, kwargs in job["calls"]]
print(json.dumps({
    "version": ihela_client.__version__,
    "dist_version": version("ihela-python-client"),
    "file": merchant_client.__file__,
    "base_url": client.ihela_base_url,
    "authenticated": client.is_authenticated(),
    "token": client.auth_token_object,
    "results": results,
}))
"""


def _unavailable(reason: str) -> None:
    # Locally a missing registry is a skip; CI must prove 0.0.4 still works.
    if os.environ.get("CI", "").lower() not in ("", "0", "false"):
        pytest.fail(f"CI is set, so not skipping: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def client_004(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ihela-python-client 0.0.4 installed into a scratch directory (not the venv)."""
    target = tmp_path_factory.mktemp("ihela-python-client-004")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--quiet",
        "--disable-pip-version-check",
        "--target",
        str(target),
        f"ihela-python-client=={VERSION}",
    ]
    try:
        installed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        _unavailable(f"pip install ihela-python-client=={VERSION} timed out (registry reachable?)")
    if installed.returncode != 0:
        last = (installed.stderr.strip().splitlines() or ["no output"])[-1]
        _unavailable(f"pip install ihela-python-client=={VERSION} failed: {last}")
    package = target / "ihela_client" / "merchant_client.py"
    assert package.is_file(), f"pip reported success but {package} is missing"
    return target


def _run(
    target: Path,
    sandbox: RunningSandbox,
    *calls: tuple[str, list[Any], dict[str, Any]],
    secret: str = CLIENT_SECRET,
) -> dict[str, Any]:
    """Build a 0.0.4 MerchantClient on the sandbox in a fresh interpreter and make ``calls``."""
    assert sandbox.url.startswith("http://127.0.0.1:")
    job = {
        "target": str(target),
        "url": sandbox.url,
        "client_id": CLIENT_ID,
        "secret": secret,
        "calls": calls,
    }
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run(
        [sys.executable, "-c", DRIVER],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=target,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    reply: dict[str, Any] = json.loads(done.stdout)
    # Really 0.0.4's code, from the scratch directory, aimed at the sandbox only.
    assert reply["version"] == reply["dist_version"] == VERSION
    assert Path(reply["file"]).resolve().is_relative_to(target.resolve())
    assert reply["base_url"] == sandbox.url
    assert reply["base_url"].startswith("http://127.0.0.1")
    return reply


def test_constructor_authenticates(client_004: Path, sandbox: RunningSandbox) -> None:
    reply = _run(client_004, sandbox)

    assert reply["authenticated"] is True
    assert reply["token"]["token_type"] == "Bearer"
    assert reply["token"]["access_token"]
    assert reply["token"]["response_status"] == 200


def test_bad_credentials_leave_init_bill_refused_locally(
    client_004: Path, sandbox: RunningSandbox
) -> None:
    reply = _run(
        client_004,
        sandbox,
        ("init_bill", [2000, "clientmail@gmail.com", "My description", "REF-1"], {}),
        secret="wrong",
    )

    assert reply["authenticated"] is False
    assert reply["token"] == {"error": "invalid_client", "response_status": 401}
    assert reply["results"] == [{"errors": {"authentication": "The client is not authenticated"}}]
    bills = requests.get(sandbox.url + "_sandbox/bills", timeout=5).json()["bills"]
    assert bills == []


def test_init_and_verify_bill_as_the_readme_calls_them(
    client_004: Path, sandbox: RunningSandbox
) -> None:
    reference = secrets.token_hex(10)
    redirect_uri = "https://yourapp.com/uri/to/redirect/to/"

    [bill] = _run(
        client_004,
        sandbox,
        (
            "init_bill",
            [2000, "clientmail@gmail.com", "My description", reference],
            {"redirect_uri": redirect_uri},
        ),
    )["results"]

    assert bill["response_status"] == 200
    code = bill["bill"]["code"]
    assert BILL_CODE.fullmatch(code)
    assert bill["bill"]["amount"] == "2000.00"
    assert bill["bill"]["merchant_reference"] == reference
    assert bill["bill"]["description"] == f"Global Test Merchant (1) My description {reference}"
    assert bill["bill"]["status"]["label"] == "Initiated"
    assert bill["bill"]["redirect_uri"] == redirect_uri
    assert bill["bill"]["confirmation_uri"].startswith(sandbox.url)
    assert code in bill["bill"]["confirmation_uri"]

    # README order: merchant reference first, then the bill code.
    verify = ("verify_bill", [reference, code], {})
    [pending] = _run(client_004, sandbox, verify)["results"]

    assert pending["response_status"] == 200
    assert pending["bill"]["reference"] == code
    assert pending["bill"]["code"] == reference
    assert pending["bill"]["status"] == "Pending"
    assert pending["bill"]["bank_reference"] is None

    paying = requests.post(f"{sandbox.url}_sandbox/bills/{code}/pay", timeout=5)
    assert paying.status_code == 200
    [paid] = _run(client_004, sandbox, verify)["results"]

    assert paid["response_status"] == 200
    assert paid["bill"]["status"] == "Paid"
    assert paid["bill"]["bank_reference"]


def test_get_bank_list_uses_the_0_0_4_path_and_count_key(
    client_004: Path, sandbox: RunningSandbox
) -> None:
    [banks] = _run(client_004, sandbox, ("get_bank_list", [], {}))["results"]

    assert banks["response_status"] == 200
    assert "count" not in banks
    assert banks["banksCount"] == len(banks["banks"]) == 6
    first = banks["banks"][0]
    assert first["slug"] == "MF1-0001"
    assert first["account_masked_text"] == "000000-00"
    assert {"slug", "name", "bank_type", "bank_code", "company", "is_active"} <= set(first)
    assert first["company"]["logo"].startswith(sandbox.url)


def test_cashin_client(client_004: Path, sandbox: RunningSandbox) -> None:
    reference = secrets.token_hex(10)
    cashin_args = ["MF1-0001", "000016-01", 20000, reference, "Cashin description"]

    cashin, again = _run(
        client_004, sandbox, ("cashin_client", cashin_args, {}), ("cashin_client", cashin_args, {})
    )["results"]

    assert cashin["response_status"] == 200
    assert cashin["error"] is False
    assert cashin["error_message"] == "Success"
    assert cashin["bank_slug"] == "MF1-0001"
    assert cashin["account"] == "000016-01"
    assert cashin["amount"] == "20000.00"
    assert cashin["merchant_reference"] == reference
    assert re.fullmatch(r"CPT-\d+/01-\d+", cashin["reference"])
    assert again["response_status"] == 400
    assert again["error"] is True
    recorded = requests.get(sandbox.url + "_sandbox/cashins", timeout=5).json()["cashins"]
    assert [c["merchant_reference"] for c in recorded] == [reference]
