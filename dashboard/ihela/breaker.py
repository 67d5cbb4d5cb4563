"""Fail fast while iHela is down: a circuit breaker over connection failures.

After ``threshold`` connection failures in a row (refused, broken or timed out: no HTTP answer;
HTTP errors do not count, a gateway that answers is up), the breaker opens for ``cooldown``
seconds: every call, reads and money alike, is answered at once with ``GatewayDown`` (nothing
is sent, not even a token request). The first call after the cool-down goes through as a probe;
if it connects the breaker closes, if not it opens again. "Down since": the run's first failure.

Its state lives in a ``BreakerStore`` the owner injects (the dashboard keeps it in its database,
so all workers and servers share it; ``MemoryStore`` is one process's). The client stays free of
Flask and databases.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

from .errors import GatewayUnavailable


@dataclass(frozen=True)
class BreakerState:
    failures: int = 0  # connection failures in a row
    down_since: datetime | None = None  # the first of them
    open_until: datetime | None = None  # set once the breaker opened


CLOSED = BreakerState()


class BreakerStore(Protocol):
    """Where the breaker's state lives; each method one atomic step."""

    def load(self) -> BreakerState: ...

    def record_failure(self, now: datetime, threshold: int, cooldown: timedelta) -> BreakerState:
        """Count one more failure; open until ``now + cooldown`` once ``threshold`` is reached."""
        ...

    def record_success(self) -> None:
        """Close the breaker and forget the failures."""
        ...

    def claim_probe(self, now: datetime, cooldown: timedelta) -> bool:
        """After the cool-down, let exactly one caller probe (pushing the others back)."""
        ...


class GatewayDown(GatewayUnavailable):
    """iHela was unreachable on the last attempts: this call was not sent at all."""

    default_kind = "gateway_down"

    def __init__(self, since: datetime, operation: str) -> None:
        super().__init__(
            f"iHela unreachable since {since:%H:%M} UTC: the {operation} was not sent.",
            operation=operation,
        )
        self.since = since


class MemoryStore:
    """One process's breaker state (tests, scripts); the dashboard shares its own in the DB."""

    def __init__(self) -> None:
        self._state = CLOSED
        self._lock = threading.Lock()

    def load(self) -> BreakerState:
        return self._state

    def record_failure(self, now: datetime, threshold: int, cooldown: timedelta) -> BreakerState:
        with self._lock:
            state = self._state
            failures = state.failures + 1
            self._state = BreakerState(
                failures,
                state.down_since or now,
                now + cooldown if failures >= threshold else state.open_until,
            )
            return self._state

    def record_success(self) -> None:
        with self._lock:
            self._state = CLOSED

    def claim_probe(self, now: datetime, cooldown: timedelta) -> bool:
        with self._lock:
            until = self._state.open_until
            if until is None or until > now:
                return False
            self._state = replace(self._state, open_until=now + cooldown)
            return True


class CircuitBreaker:
    def __init__(
        self,
        store: BreakerStore | None = None,
        *,
        threshold: int = 5,
        cooldown: float = 30.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if threshold < 1 or cooldown <= 0:
            raise ValueError("The breaker needs a threshold of 1 or more and a positive cool-down.")
        self.store: BreakerStore = store or MemoryStore()
        self.threshold = threshold
        self.cooldown = timedelta(seconds=cooldown)
        self._clock = clock

    def before(self, operation: str) -> BreakerState:
        """Raise GatewayDown while open; let the call through when closed or as the probe."""
        state = self.store.load()
        if state.open_until is None:
            return state
        now = self._clock()
        if state.open_until <= now and self.store.claim_probe(now, self.cooldown):
            return state  # this call probes
        raise GatewayDown(state.down_since or state.open_until - self.cooldown, operation)

    def failed(self) -> None:
        self.store.record_failure(self._clock(), self.threshold, self.cooldown)

    def succeeded(self, before: BreakerState) -> None:
        if before.failures or before.open_until is not None:
            self.store.record_success()

    def state(self) -> BreakerState:
        return self.store.load()

    def down_since(self) -> datetime | None:
        """While open and cooling down: since when the gateway is unreachable; else None."""
        state = self.store.load()
        if state.open_until is None or state.open_until <= self._clock():
            return None
        return state.down_since or state.open_until - self.cooldown

    def refuse(self, operation: str) -> GatewayDown | None:
        """The error a call would meet now (without taking the probe), or None."""
        since = self.down_since()
        return None if since is None else GatewayDown(since, operation)
