"""``flask ihela check``: what the gateway speaks, asked without moving money."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests
from flask import Flask

from dashboard.sandbox.server import RunningSandbox, start_sandbox

SHAPES = ["v1", "v2", "v2-on-v1"]


@pytest.fixture()
def one_shape_gateway() -> Iterator[Callable[[str], RunningSandbox]]:
    started: list[RunningSandbox] = []

    def start(shape: str) -> RunningSandbox:
        running = start_sandbox(config={"SANDBOX_SHAPES": (shape,)})
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


def stats(gateway: RunningSandbox) -> dict[str, int]:
    return dict(requests.get(gateway.url + "_sandbox/stats", timeout=5).json()["api_requests"])


@pytest.mark.parametrize("shape", SHAPES)
def test_check_names_the_shape_the_gateway_serves_and_moves_no_money(
    make_app: Callable[..., Flask],
    one_shape_gateway: Callable[[str], RunningSandbox],
    shape: str,
) -> None:
    gateway = one_shape_gateway(shape)
    app = make_app(IHELA_BASE_URL=gateway.url, IHELA_API=shape, IHELA_PIN="1234")
    result = app.test_cli_runner().invoke(
        args=["ihela", "check", "--account", "MF1-0001:000016-01"]
    )
    print(result.output)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "issued, lifetime 36000 s" in out
    assert "6 banks (5 active), 3 with a mask" in out
    assert "MF1-0001 000016-01: Niyonzima Aline" in out
    assert f"Recommended: DASHBOARD_IHELA_API={shape} (configured: {shape})" in out
    assert "clock skew" in out and "plain http" in out
    for other in set(SHAPES) - {shape}:
        assert f"{other} bill init" in out
    # Nothing created, nothing sent.
    received = requests.get(gateway.url + "_sandbox/cashins", timeout=5).json()["cashins"]
    bills = requests.get(gateway.url + "_sandbox/bills", timeout=5).json()["bills"]
    assert received == [] and bills == []


@pytest.mark.parametrize(
    ("configured", "served"), [("v1", "v2"), ("v2", "v2-on-v1"), ("v2-on-v1", "v1")]
)
def test_a_wrong_shape_is_detected_and_named(
    make_app: Callable[..., Flask],
    one_shape_gateway: Callable[[str], RunningSandbox],
    configured: str,
    served: str,
) -> None:
    gateway = one_shape_gateway(served)
    app = make_app(IHELA_BASE_URL=gateway.url, IHELA_API=configured, IHELA_PIN="1234")
    result = app.test_cli_runner().invoke(args=["ihela", "check"])
    assert result.exit_code == 1, result.output
    assert (
        f"Wrong shape: DASHBOARD_IHELA_API={configured} is not what this gateway serves; "
        f"it speaks {served}. Set DASHBOARD_IHELA_API={served}."
    ) in result.output
