"""The app's one iHela client, built from configuration on first use."""

from __future__ import annotations

import threading

from flask import Flask, current_app

from dashboard.ihela import IhelaClient

_lock = threading.Lock()


def gateway(app: Flask | None = None) -> IhelaClient:
    """The shared client (thread-safe; its token cache is the only per-process state)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    client: IhelaClient | None = app.extensions.get("ihela_client")
    if client is None:
        with _lock:
            client = app.extensions.get("ihela_client")
            if client is None:
                config = app.config
                client = IhelaClient(
                    config["IHELA_BASE_URL"],
                    config["IHELA_CLIENT_ID"],
                    config["IHELA_CLIENT_SECRET"],
                    connect_timeout=float(config["IHELA_CONNECT_TIMEOUT"]),
                    read_timeout=float(config["IHELA_READ_TIMEOUT"]),
                    api=str(config["IHELA_API"]),
                    # From the environment a PIN of digits arrives as a number.
                    pin=None if config["IHELA_PIN"] in (None, "") else str(config["IHELA_PIN"]),
                )
                app.extensions["ihela_client"] = client
    return client
