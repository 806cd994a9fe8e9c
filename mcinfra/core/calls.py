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
#: how many links of an SDK exception chain a redacted summary keeps
CHAIN_DEPTH = 8


class RedactedCause(Exception):
    """Stands in for the exception chain behind an mcinfra error: the SDK's exceptions (whose
    text, attributes and request objects may quote a secret) are cut off, and this carries a
    redacted one-line summary of each link, so a printed traceback still says what happened."""


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

    def _clean(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.redact(value)
        if isinstance(value, list | tuple):
            return type(value)(self._clean(x) for x in value)
        if isinstance(value, dict):
            return {self._clean(k): self._clean(x) for k, x in value.items()}
        return value

    def _summary(self, exc: BaseException | None) -> RedactedCause | None:
        """A redacted stand-in for the chain behind an error (None when there is none)."""
        lines, seen = [], set()
        while exc is not None and id(exc) not in seen and len(lines) < CHAIN_DEPTH:
            seen.add(id(exc))
            if isinstance(exc, RedactedCause):
                lines.extend(str(exc).splitlines())
                break
            lines.append(f"{type(exc).__module__}.{type(exc).__qualname__}: {self.redact(str(exc))}")
            exc = exc.__cause__ if exc.__cause__ is not None else (
                None if exc.__suppress_context__ else exc.__context__)
        return RedactedCause("\n".join(lines)) if lines else None

    def scrub(self, exc: McInfraError, cause: BaseException | None = None) -> McInfraError:
        """Redact an mcinfra error in place: its args, every attribute, and its chain (replaced
        by a :class:`RedactedCause` summary; ``cause``: the chain to summarise instead)."""
        exc.args = tuple(self._clean(a) for a in exc.args)
        for attr, value in list(vars(exc).items()):
            if not attr.startswith("__"):
                setattr(exc, attr, self._clean(value))
        if cause is None:
            cause = exc.__cause__ if exc.__cause__ is not None else (
                None if exc.__suppress_context__ else exc.__context__)
        exc.__cause__ = self._summary(cause)
        exc.__context__ = None
        exc.__suppress_context__ = True
        return exc

    def run(self, kind: str, op: str, name: str, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)``, recorded in the call history; any exception leaves as an mcinfra error,
        redacted whole: message, every attribute, args, and the chain behind it."""
        start = time.perf_counter()
        failure: McInfraError | None = None
        try:
            result = fn(*args)
        except McInfraError as exc:
            failure = self.scrub(exc)
        except Exception as exc:  # a driver let a foreign exception through: type it here
            failure = self.scrub(CloudError(self.provider, type(exc).__name__, str(exc)), cause=exc)
            failure.__traceback__ = exc.__traceback__
        if failure is not None:
            # raised outside the except block, so no unredacted exception rides along as __context__
            self._record(kind, op, name, start, failure)
            try:
                raise failure.with_traceback(failure.__traceback__)
            finally:
                failure = None
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
