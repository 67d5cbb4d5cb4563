"""Two-factor secrets sealed at rest (Fernet: AES-128-CBC with an HMAC-SHA256), with a key of
their own derived by HKDF from ``TOTP_KEY`` (DASHBOARD_TOTP_KEY) or, when that is unset, from
``SECRET_KEY``. A copy of the database alone gives no authenticator secret; the derived key is
never the session key itself. Changing the source key makes sealed secrets unreadable: the people
concerned then enrol again after an admin's reset (see README, *Configuration*)."""

from __future__ import annotations

import base64
import functools
from collections.abc import Mapping
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

_SALT = b"ihela-dashboard"
_INFO = b"two-factor secrets at rest, v1"


class SealBroken(ValueError):
    """A sealed secret that this key cannot open (another key, or altered in the database)."""


@functools.lru_cache(maxsize=4)
def _fernet(material: bytes) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(material)
    return Fernet(base64.urlsafe_b64encode(key))


def _box(config: Mapping[str, Any] | None) -> Fernet:
    config = config if config is not None else current_app.config
    material = config.get("TOTP_KEY") or config["SECRET_KEY"]
    return _fernet(material if isinstance(material, bytes) else str(material).encode())


def seal(secret: str, config: Mapping[str, Any] | None = None) -> str:
    return _box(config).encrypt(secret.encode()).decode("ascii")


def unseal(sealed: str, config: Mapping[str, Any] | None = None) -> str:
    try:
        return _box(config).decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as exc:
        raise SealBroken("this two-factor secret cannot be opened with the configured key") from exc
