"""HTTP client for the iHela merchant gateway, in any of its shapes (``wire_v1``/``wire_v2``).

What it guarantees, because the dashboard's money rules depend on it:
- a money-moving call (bill init, cash-in) is sent at most once, except the single re-send after
  a 401, which proves the first attempt was refused;
- every failure is one of the typed errors in ``errors.py``, classified by whether the gateway
  may have applied the request;
- the client secret and tokens never reach logs, exception messages or reprs.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from .breaker import BreakerState, CircuitBreaker
from .errors import (
    AuthenticationFailed,
    GatewayRejected,
    GatewayTimeout,
    GatewayUnavailable,
    IhelaError,
    OutcomeUnknown,
)
from .replies import MalformedReply, error_message, flatten_field_errors, is_refusal
from .types import (
    AccountHolder,
    Bank,
    Bill,
    BillCheck,
    CashinResult,
    OperationOutcome,
    OperationStatus,
)
from .wire import (
    TOKEN,
    BillRequest,
    CashinRequest,
    Dialect,
    Operation,
    OperationNotFound,
    WireRequest,
)
from .wire_v1 import V1Dialect
from .wire_v2 import PATH_TABLES, V2Dialect

log = logging.getLogger("dashboard.ihela")

T = TypeVar("T")

# v1; v2 under api/v2/; v2 on api/v1/ paths as the published ihela-sdk 0.4.0 calls it.
API_VERSIONS = ("v1", "v2", "v2-on-v1")


# Transient refusals: the gateway did not act, and asking again later may work.
_TRANSIENT_STATUSES = frozenset({408, 429})
_CREDENTIALS_REFUSED = frozenset({400, 401, 403})


def validate_base_url(base_url: str) -> str:
    """Return the base URL with a trailing slash, or raise ValueError.

    Plain HTTP is accepted only for loopback (the sandbox): the 0.0.x clients defaulted to a
    private ``http://`` address, and bearer tokens must not cross a network in clear text.
    """
    parts = urlsplit(base_url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("The iHela base URL must be an absolute https:// URL.")
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would end up in logs; they belong in client_id/client_secret.
        raise ValueError("The iHela base URL must not contain credentials.")
    if parts.query or parts.fragment:
        raise ValueError("The iHela base URL must not have a query or a fragment.")
    if scheme == "http" and not _is_loopback(parts.hostname):
        raise ValueError("The iHela base URL must use https (http only for loopback addresses).")
    path = parts.path if parts.path.endswith("/") else parts.path + "/"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Secret:
    """A string that shows as ``'***'`` in reprs, so dumping the client's state leaks nothing."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"

    __str__ = __repr__


class _BearerAuth(requests.auth.AuthBase):
    # An auth object rather than a plain header: with no auth given, requests would apply a
    # matching ~/.netrc entry and silently replace our Authorization header.
    def __init__(self, token: _Secret) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        return request

    def __repr__(self) -> str:
        return "_BearerAuth('***')"


@dataclass(frozen=True)
class _Token:
    value: _Secret
    renew_at: float  # time.monotonic() after which we fetch a new one


@dataclass(frozen=True)
class _Reply:
    status: int
    body: dict[str, Any] | None  # None when the body is not a JSON object
    date: str | None = None  # the gateway's Date header (``flask ihela check`` reads the skew)


class IhelaClient:
    """One merchant's connection to one iHela gateway; safe to share between threads."""

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
        token_margin: float = 60.0,
        api: str = "v1",
        pin: str | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        if api not in API_VERSIONS:
            raise ValueError("The iHela API shape must be one of " + ", ".join(API_VERSIONS) + ".")
        if not client_id or not client_secret:
            raise ValueError("The iHela client id and secret are required.")
        if connect_timeout <= 0 or read_timeout <= 0 or token_margin < 0:
            raise ValueError("Timeouts must be positive and the token margin not negative.")
        self._base_url = validate_base_url(base_url)
        self._client_id = client_id
        self._client_secret = _Secret(client_secret)
        self._timeout = (connect_timeout, read_timeout)
        self._token_margin = token_margin
        self._dialect: Dialect = (
            V1Dialect() if api == "v1" else V2Dialect(pin or "", PATH_TABLES[api])
        )
        self._token: _Token | None = None
        self._token_expires_in: float | None = None
        self._token_lock = threading.Lock()
        # Fails fast while the gateway is unreachable; its state may be shared (see gateway.py).
        self._breaker = breaker or CircuitBreaker()
        self._local = threading.local()  # the breaker state this thread's call started from
        self._session = requests.Session()
        # max_retries=0: urllib3 must never re-send a request on its own (a POST may move money).
        for prefix in ("https://", "http://"):
            self._session.mount(prefix, HTTPAdapter(max_retries=0))
        # The environment's proxies (for the gateway's host) and CA bundle, read once: a
        # process's environment does not change, and requests would read it again on each call.
        self._session.proxies = requests.utils.get_environ_proxies(self._base_url)
        self._session.verify = (
            os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        )
        self._session.trust_env = False

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    @property
    def dialect(self) -> Dialect:
        return self._dialect

    def __repr__(self) -> str:
        return (
            f"IhelaClient(base_url={self._base_url!r}, client_id={self._client_id!r}, "
            f"client_secret='***', api={self._dialect.name!r})"
        )

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> IhelaClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- merchant operations -------------------------------------------------------------

    @property
    def api_version(self) -> str:
        return self._dialect.name

    @property
    def can_check_operations(self) -> bool:
        """Whether ``operation_status`` exists (v2): unknown payouts can then be settled."""
        return self._dialect.can_check_operations

    def init_bill(
        self,
        amount: int,
        payer: str,
        description: str,
        merchant_reference: str,
        *,
        bank: str | None = None,
        bank_client_id: str | None = None,
        redirect_uri: str | None = None,
    ) -> Bill:
        """Ask the gateway to bill ``payer``; the bill waits for the payer to confirm it."""
        bill = BillRequest(
            amount, payer, description, merchant_reference, bank, bank_client_id, redirect_uri
        )
        return self._execute(self._dialect.init_bill(bill))

    def verify_bill(self, bill_code: str, merchant_reference: str) -> BillCheck:
        """Current status of a bill (one gateway call, never cached here)."""
        return self._execute(self._dialect.verify_bill(bill_code, merchant_reference))

    def get_bank_list(self) -> list[Bank]:
        """Every bank the gateway lists, inactive ones included (``is_active`` tells)."""
        return self._execute(self._dialect.bank_list())

    def get_cashin_bank_list(self) -> list[Bank] | None:
        """The banks that take money in (cash-ins), or None where the gateway has no such list."""
        request = self._dialect.cashin_bank_list()
        if request is None:
            return None
        try:
            return self._execute(request)
        except (GatewayRejected, GatewayUnavailable) as exc:
            if exc.status == 404:
                return None  # this gateway does not serve it: the full list stands in
            raise

    def customer_lookup(self, bank_slug: str, account: str) -> AccountHolder:
        """Who holds ``account`` at ``bank_slug``; AccountNotFound when nobody does."""
        return self._execute(self._dialect.customer_lookup(bank_slug, account))

    def find_customer_account(self, customer: str) -> AccountHolder:
        """The iHela Credit Union account of the person with this e-mail, phone or client code;
        AccountNotFound when iHela knows no such account."""
        return self._execute(self._dialect.customer_account(customer))

    def cashin_client(
        self,
        bank_slug: str,
        account: str,
        amount: int,
        merchant_reference: str,
        description: str,
        *,
        holder_name: str | None = None,
    ) -> CashinResult:
        """Send ``amount`` francs to ``account``. Never retried: see OutcomeUnknown."""
        cashin = CashinRequest(
            bank_slug, account, amount, merchant_reference, description, holder_name
        )
        return self._execute(self._dialect.cashin(cashin))

    def operation_status(self, merchant_reference: str) -> OperationStatus:
        """What became of the operation sent under ``merchant_reference`` (v2 only).

        An operation the gateway does not know comes back as ``OperationOutcome.NOT_FOUND``.
        """
        if not self._dialect.can_check_operations:
            raise NotImplementedError(f"iHela's {self._dialect.name} API has no status call.")
        try:
            return self._execute(self._dialect.operation_status(merchant_reference))
        except OperationNotFound as exc:
            return OperationStatus(
                merchant_reference=merchant_reference,
                outcome=OperationOutcome.NOT_FOUND,
                raw_status="",
                reference=None,
                amount=None,
                message=exc.message,
                raw=exc.raw or {},
            )

    def token_lifetime(self) -> float | None:
        """Fetch a fresh token; its ``expires_in`` in seconds (None when not given)."""
        with self._token_lock:
            self._token = self._fetch_token()
            return self._token_expires_in

    def probe(self, path: str) -> tuple[int, str | None]:
        """GET ``path`` with a token: (HTTP status, Date header). Never moves money: a GET on a
        POST-only route answers 405 where the route exists and 404 where it does not."""
        operation = Operation("probe", "GET", path, moves_money=False)
        self._local.breaker_state = self._breaker.before(operation.label)
        reply = self._send(operation, auth=_BearerAuth(self._current_token()))
        return reply.status, reply.date

    def _execute(self, request: WireRequest[T]) -> T:
        """Send one request and read its reply; reads may be asked twice if the dialect allows."""
        operation = request.operation
        attempts = 2 if self._dialect.retries_reads and not operation.moves_money else 1
        for attempt in range(1, attempts + 1):
            # While iHela is known to be down nothing is sent, money included (GatewayDown).
            self._local.breaker_state = self._breaker.before(operation.label)
            try:
                body = self._call(
                    operation,
                    form=request.form,
                    json=request.json,
                    query=request.query,
                    not_found=request.not_found,
                )
                return self._read(operation, body, request.parse)
            except GatewayTimeout:
                raise  # asking again would double an already long wait
            except GatewayUnavailable as exc:
                if attempt >= attempts:
                    raise
                log.info("%s %s: %s; asking once more", operation.method, operation.path, exc)
        raise AssertionError("unreachable")

    # --- one authenticated call ----------------------------------------------------------

    def _call(
        self,
        operation: Operation,
        *,
        form: Mapping[str, str | None] | None = None,
        json: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
        not_found: type[GatewayRejected] = GatewayRejected,
    ) -> dict[str, Any]:
        """Send ``operation`` with a bearer token; return the body of an accepted reply."""
        # Like the 0.0.x clients (and requests), fields set to None are not sent at all.
        data = None if form is None else {k: v for k, v in form.items() if v is not None}
        json_body = None if json is None else {k: v for k, v in json.items() if v is not None}
        token = self._current_token()
        reply = self._send(
            operation, data=data, json=json_body, query=query, auth=_BearerAuth(token)
        )
        if reply.status == 401:
            # The gateway refused the token, so it did not act: renewing and re-sending once
            # is safe even for money-moving calls.
            log.info("%s %s: token refused, fetching a new one", operation.method, operation.path)
            token = self._renew_token(rejected=token)
            reply = self._send(
                operation, data=data, json=json_body, query=query, auth=_BearerAuth(token)
            )
            if reply.status == 401:
                raise AuthenticationFailed(
                    "The iHela gateway refused a freshly issued token.",
                    status=401,
                    raw=reply.body,
                    kind="token_refused",
                    operation=operation.label,
                )
        return self._accepted(operation, reply, not_found)

    def _accepted(
        self, operation: Operation, reply: _Reply, not_found: type[GatewayRejected]
    ) -> dict[str, Any]:
        status, body = reply.status, reply.body
        if status == 404 and not self._dialect.says_not_found(operation, status, body):
            # A proxy's or a wrong path's 404 says nothing about our operation.
            raise self._no_usable_answer(
                operation, "unreadable", status, body, detail="not the gateway's own not-found"
            )
        refusal = self._dialect.refusal(operation, status, body, not_found)
        if refusal is not None:
            raise refusal
        if status >= 500:
            # The gateway's own words help staff ("lookup not available for CRDB").
            reason = error_message(body, "")
            raise self._no_usable_answer(operation, "server_error", status, body, reason)
        # These statuses say the request was not processed, whatever the body looks like.
        if status in _TRANSIENT_STATUSES:
            message = error_message(body, f"The gateway is busy (HTTP {status}); try again later.")
            raise GatewayUnavailable(
                message,
                status=status,
                raw=body,
                kind="busy",
                operation=operation.label,
                gateway_text=error_message(body, ""),
            )
        if 300 <= status < 400:
            # Redirects are not followed: requests would turn a POST into a GET.
            raise GatewayUnavailable(
                f"The iHela gateway redirected the {operation.label} (HTTP {status}); "
                "check the configured base URL.",
                status=status,
                raw=body,
                kind="redirected",
                operation=operation.label,
            )
        if body is None:
            # Even a 4xx: without the gateway's words we cannot tell a refusal from a proxy's
            # page, and for money the cautious reading is "unknown".
            raise self._no_usable_answer(operation, "unreadable", status)
        if status >= 400 or is_refusal(body):
            error_class = not_found if status == 404 else GatewayRejected
            raise error_class(
                error_message(body, f"The iHela gateway refused the {operation.label}."),
                status=status,
                raw=body,
                field_errors=flatten_field_errors(body),
                operation=operation.label,
                gateway_text=error_message(body, ""),
            )
        return body

    def _read(
        self, operation: Operation, body: dict[str, Any], parse: Callable[[dict[str, Any]], T]
    ) -> T:
        try:
            return parse(body)
        except MalformedReply as exc:
            log.warning("%s %s: unusable reply: %s", operation.method, operation.path, exc)
            unusable = self._no_usable_answer(operation, "unreadable", 200, body, detail=str(exc))
            raise unusable from exc

    def _no_usable_answer(
        self,
        operation: Operation,
        kind: str,
        status: int | None,
        body: dict[str, Any] | None = None,
        gateway_text: str = "",
        detail: str = "",
    ) -> IhelaError:
        # Said as it happened: a 5xx is an unavailable gateway, not a lost or garbled answer.
        if kind == "server_error":
            what = f"The iHela gateway is unavailable (HTTP {status}"
            what += f": {gateway_text})" if gateway_text else ")"
            what += f" for the {operation.label}"
        else:
            what = f"The iHela gateway's answer to the {operation.label} could not be read"
            what += f" (HTTP {status})" if status is not None else ""
            what += f" ({detail})" if detail else ""
        about = {"kind": kind, "operation": operation.label, "gateway_text": gateway_text}
        if operation.moves_money:
            return OutcomeUnknown(
                f"{what}: we do not know whether it was applied. Check before trying again.",
                status=status,
                raw=body,
                **about,
            )
        return GatewayUnavailable(f"{what}.", status=status, raw=body, **about)

    # --- HTTP ------------------------------------------------------------------------------

    def _send(
        self,
        operation: Operation,
        *,
        data: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
        auth: requests.auth.AuthBase | tuple[str, str],
    ) -> _Reply:
        started = time.monotonic()
        try:
            response = self._session.request(
                operation.method,
                self._base_url + operation.path,
                data=data,
                json=json,
                params=query,
                headers={"Accept": "application/json"},
                auth=auth,
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            log.warning(
                "%s %s failed after %.0f ms: %s",
                operation.method,
                operation.path,
                _elapsed_ms(started),
                type(exc).__name__,
            )
            # Any failure to get an answer counts (the SDK's rule); an HTTP error does not.
            self._breaker.failed()
            raise self._transport_error(operation, exc) from exc
        self._breaker.succeeded(self._breaker_state())
        log.info(
            "%s %s -> %d in %.0f ms",
            operation.method,
            operation.path,
            response.status_code,
            _elapsed_ms(started),
        )
        return _Reply(response.status_code, _json_object(response), response.headers.get("Date"))

    def _breaker_state(self) -> BreakerState:
        state = getattr(self._local, "breaker_state", None)
        # A call outside _execute (none today) resets the breaker if anything was recorded.
        return state if isinstance(state, BreakerState) else BreakerState(failures=1)

    def _transport_error(self, operation: Operation, exc: requests.RequestException) -> IhelaError:
        label = operation.label
        if _nothing_was_sent(exc):
            return GatewayUnavailable(
                f"Could not connect to the iHela gateway for the {label} ({type(exc).__name__}).",
                kind="connect_failed",
                operation=label,
            )
        timed_out = isinstance(exc, requests.ReadTimeout)
        kind = "timeout" if timed_out else "connection_broken"
        if operation.moves_money:
            what = (
                f"The iHela gateway did not answer the {label} within {self._timeout[1]:g} s"
                if timed_out
                else f"The connection broke after the {label} was sent ({type(exc).__name__})"
            )
            return OutcomeUnknown(
                f"{what}: we do not know whether it was applied. Check before trying again.",
                kind=kind,
                operation=label,
            )
        if timed_out:
            return GatewayTimeout(
                f"The iHela gateway did not answer the {label} within {self._timeout[1]:g} s.",
                kind=kind,
                operation=label,
            )
        return GatewayUnavailable(
            f"The iHela gateway connection failed during the {label} ({type(exc).__name__}).",
            kind=kind,
            operation=label,
        )

    # --- token -----------------------------------------------------------------------------

    def _current_token(self) -> _Secret:
        # Holding the lock while fetching makes concurrent callers wait for one fetch.
        with self._token_lock:
            token = self._token
            if token is None or time.monotonic() >= token.renew_at:
                self._token = None
                token = self._fetch_token()
                self._token = token
            # A token fetched just now is used even if its life is shorter than the margin.
            return token.value

    def _renew_token(self, rejected: _Secret) -> _Secret:
        with self._token_lock:
            token = self._token
            if token is not None and token.value is not rejected:
                return token.value  # another caller renewed it while we waited for the lock
            self._token = None
            token = self._fetch_token()
            self._token = token
            return token.value

    def _fetch_token(self) -> _Token:
        # The token's life starts at the latest when we send the request.
        sent_at = time.monotonic()
        reply = self._send(
            TOKEN,
            data={"grant_type": "client_credentials"},
            auth=(self._client_id, self._client_secret.reveal()),
        )
        body = _without_tokens(reply.body)
        if reply.status in _CREDENTIALS_REFUSED:
            reason = error_message(body, f"HTTP {reply.status}")
            raise AuthenticationFailed(
                f"The iHela gateway refused the client credentials ({reason}).",
                status=reply.status,
                raw=body,
                kind="credentials_refused",
                operation=TOKEN.label,
                gateway_text=error_message(body, ""),
            )
        if not 200 <= reply.status < 300 or reply.body is None:
            raise GatewayUnavailable(
                f"The iHela gateway could not issue a token (HTTP {reply.status}).",
                status=reply.status,
                raw=body,
                kind=_kind_of_status(reply.status),
                operation=TOKEN.label,
                gateway_text=error_message(body, ""),
            )
        access_token = reply.body.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise GatewayUnavailable(
                "The iHela gateway's token reply has no access token.",
                status=200,
                raw=body,
                kind="no_token",
                operation=TOKEN.label,
            )
        life = self._token_life(reply.body)
        self._token_expires_in = None if math.isinf(life) else life + self._token_margin
        return _Token(_Secret(access_token), sent_at + life)

    def _token_life(self, body: Mapping[str, Any]) -> float:
        """Seconds to reuse the token: its ``expires_in`` minus our safety margin."""
        expires_in = body.get("expires_in")
        if isinstance(expires_in, bool) or not isinstance(expires_in, int | float | str):
            # No lifetime given: reuse it until the gateway refuses it (the 401 path renews).
            return math.inf
        try:
            seconds = float(expires_in)
        except ValueError:
            return math.inf
        if not math.isfinite(seconds):
            return math.inf
        return seconds - self._token_margin


def _kind_of_status(status: int) -> str:
    """What an unexpected HTTP status says happened (see errors.KINDS)."""
    if status >= 500:
        return "server_error"
    if status in _TRANSIENT_STATUSES:
        return "busy"
    if 300 <= status < 400:
        return "redirected"
    return "unreadable"


def _nothing_was_sent(exc: requests.RequestException) -> bool:
    """Whether the failure happened before any byte of the request reached the gateway."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    if isinstance(exc, requests.exceptions.ProxyError):
        return True
    if isinstance(exc, requests.ConnectionError) and exc.args:
        # Refused connections and DNS failures arrive wrapped in MaxRetryError; a connection
        # dropped after sending arrives as a ProtocolError instead and may have been acted on.
        reason = exc.args[0]
        if isinstance(reason, urllib3.exceptions.MaxRetryError):
            return isinstance(reason.reason, urllib3.exceptions.NewConnectionError)
    return False


def _json_object(response: requests.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _without_tokens(body: dict[str, Any] | None) -> dict[str, Any] | None:
    # Token replies are kept on errors for support, minus anything that could be used as one.
    if body is None:
        return None
    return {k: v for k, v in body.items() if k not in ("access_token", "refresh_token")}


def _elapsed_ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
