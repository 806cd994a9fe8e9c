"""The one choke point every handler call passes: history, error typing, redaction.

Retries are not done here: one handler call may make several SDK calls, and only the driver
knows which of those may be repeated. Each driver runs its SDK calls through
:class:`mcinfra.drivers.kit.RetryPolicy`, the one retry policy.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from mcinfra.core.errors import CloudError, McInfraError

if TYPE_CHECKING:
    from mcinfra.store import Store

log = logging.getLogger("mcinfra.calls")
T = TypeVar("T")
REDACTED = "***"


class CallGate:
    """Runs a handler call for one connection and records it (never with secret values)."""

    def __init__(self, store: Store, connection: str, provider: str, secrets: list[str]) -> None:
        self.store = store
        self.connection = connection
        self.provider = provider
        # longest first, so a secret containing another is hidden whole
        self._secrets = sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True)

    def redact(self, text: str) -> str:
        for s in self._secrets:
            text = text.replace(s, REDACTED)
        return text

    def run(self, kind: str, op: str, name: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, recorded in the call history; any exception leaves as an mcinfra error."""
        start = time.perf_counter()
        try:
            result = fn(*args)
        except McInfraError as exc:
            exc.args = tuple(self.redact(a) if isinstance(a, str) else a for a in exc.args)
            self._record(kind, op, name, start, exc)
            raise
        except Exception as exc:  # a driver let a foreign exception through: type it here
            err = CloudError(self.provider, type(exc).__name__, self.redact(str(exc)))
            self._record(kind, op, name, start, err)
            raise err from exc
        self._record(kind, op, name, start, None)
        return result

    def _record(self, kind: str, op: str, name: str, start: float, exc: Exception | None) -> None:
        duration_ms = (time.perf_counter() - start) * 1000
        error = None if exc is None else f"{type(exc).__name__}: {exc}"
        self.store.record_call(
            at=datetime.now(UTC), connection=self.connection, provider=self.provider, operation=f"{kind}.{op}",
            kind=kind, name=name, duration_ms=round(duration_ms, 3), ok=exc is None, error=error,
        )
        if exc is not None:
            log.info("%s %s.%s %s failed after %.1f ms: %s", self.connection, kind, op, name, duration_ms, error)
