"""Typed failures of gateway calls.

The classes answer the one question callers care about: did money (possibly) move?
``GatewayRejected`` and ``GatewayUnavailable`` mean it did not; ``OutcomeUnknown`` means it
may have.
Messages are written here or copied from the gateway's own error text, never from request data,
so they are safe to show to staff and to log: they never hold the client secret or a token.
"""

from __future__ import annotations

from typing import Any


class IhelaError(Exception):
    """Base of every error raised by the iHela client."""

    def __init__(
        self, message: str, *, status: int | None = None, raw: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.raw = raw

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        # ``raw`` stays out: it can be long, and a repr ends up in logs and tracebacks.
        return f"{type(self).__name__}({self.message!r}, status={self.status!r})"


class GatewayRejected(IhelaError):
    """The gateway answered and said no; nothing was applied."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        raw: dict[str, Any] | None = None,
        field_errors: dict[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message, status=status, raw=raw)
        self.field_errors: dict[str, list[str]] = field_errors or {}


class AccountNotFound(GatewayRejected):
    """The bank does not know the account (lookup answered 404)."""


class AuthenticationFailed(IhelaError):
    """The gateway refused our client credentials, or a freshly issued token."""


class GatewayUnavailable(IhelaError):
    """The gateway could not be reached or gave no usable answer; nothing was applied."""


class GatewayTimeout(GatewayUnavailable):
    """The gateway took longer than the read timeout on a call that moves no money."""


class OutcomeUnknown(IhelaError):
    """A money-moving request may have reached the gateway, but we do not know what it did.

    Never retry blindly: verify (bills) or have a person check (cash-ins) first.
    """
