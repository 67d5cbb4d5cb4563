"""Typed failures of gateway calls.

The classes answer the one question callers care about: did money (possibly) move?
``GatewayRejected`` and ``GatewayUnavailable`` mean it did not; ``OutcomeUnknown`` means it
may have.
Messages are written here or copied from the gateway's own error text, never from request data,
so they are safe to show to staff and to log: they never hold the client secret or a token.
They are English, for logs. Pages say what happened from ``kind`` (one of ``KINDS``),
``operation`` and ``gateway_text`` (the gateway's own words, if any), in the reader's language.
"""

from __future__ import annotations

from typing import Any

# What went wrong, as the dashboard tells staff (dashboard/messages.py has one sentence each).
KINDS = frozenset(
    {
        "refused",  # the gateway answered no (its words in gateway_text)
        "not_found",  # the gateway does not know the account or bill
        "credentials_refused",  # our client id/secret were refused
        "token_refused",  # a freshly issued token was refused
        "no_token",  # the token reply held no usable token
        "connect_failed",  # nothing reached the gateway
        "connection_broken",  # the connection broke after the request was sent
        "timeout",  # no answer within the read timeout
        "busy",  # 408/429: not processed, try later
        "redirected",  # a 3xx: the base URL is wrong
        "server_error",  # a 5xx: the gateway (or a proxy before it) is unavailable
        "unreadable",  # an answer came but could not be read or trusted
        "gateway_down",  # iHela was unreachable on the last attempts: nothing was sent
    }
)


class IhelaError(Exception):
    """Base of every error raised by the iHela client."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        raw: dict[str, Any] | None = None,
        kind: str = "",
        operation: str = "",
        gateway_text: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.raw = raw
        self.kind = kind or self.default_kind
        self.operation = operation  # "bill init", "cash-in", "account lookup" ...
        self.gateway_text = gateway_text

    default_kind = "unreadable"

    def __str__(self) -> str:
        return self.message

    def described(self) -> dict[str, Any]:
        """What went wrong as plain data, said later in the reader's language
        (``dashboard.messages.gateway_failure``): kind, operation, status, the gateway's words."""
        fields: dict[str, list[str]] = getattr(self, "field_errors", None) or {}
        since = getattr(self, "since", None)  # the breaker's GatewayDown
        return {
            "kind": self.kind,
            "operation": self.operation,
            "status": self.status,
            "since": since.isoformat() if since is not None else None,
            "unknown": isinstance(self, OutcomeUnknown),
            # iHela's field errors say more than the envelope around them (v2's "Invalid request.").
            "text": "; ".join(f"{name}: {' '.join(texts)}" for name, texts in fields.items())
            or self.gateway_text,
        }

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
        **about: str,
    ) -> None:
        super().__init__(message, status=status, raw=raw, **about)
        self.field_errors: dict[str, list[str]] = field_errors or {}

    default_kind = "refused"


class AccountNotFound(GatewayRejected):
    """The bank does not know the account (lookup answered 404)."""

    default_kind = "not_found"


class AuthenticationFailed(IhelaError):
    """The gateway refused our client credentials, or a freshly issued token."""

    default_kind = "credentials_refused"


class GatewayUnavailable(IhelaError):
    """The gateway could not be reached or gave no usable answer; nothing was applied."""

    default_kind = "connect_failed"


class GatewayTimeout(GatewayUnavailable):
    """The gateway took longer than the read timeout on a call that moves no money."""

    default_kind = "timeout"


class OutcomeUnknown(IhelaError):
    """A money-moving request may have reached the gateway, but we do not know what it did.

    Never retry blindly: verify (bills) or have a person check (cash-ins) first.
    """

    default_kind = "connection_broken"
