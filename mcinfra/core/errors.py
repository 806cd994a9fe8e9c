"""The typed errors every mcinfra call raises.

Callers catch these, never a CSP SDK's own exceptions: drivers map theirs onto this tree
and the core wraps anything that slips through into :class:`CloudError`.
"""

from __future__ import annotations


class McInfraError(Exception):
    """Base of every mcinfra error."""


class InvalidRequest(McInfraError, ValueError):
    """Bad input, found before any lock, store write or CSP call."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(McInfraError, LookupError):
    """The named resource (or CSP id) does not exist."""


class AlreadyExists(McInfraError):
    """The name is taken (in the store, or at the CSP)."""


class InUse(McInfraError):
    """A delete of something another resource still references."""


class Unsupported(McInfraError):
    """The driver lacks this capability."""


class DriverNotInstalled(McInfraError, ImportError):
    """The provider's driver cannot run here; the message says what to install."""

    def __init__(self, provider: str, extra: str | None = None, detail: str = "") -> None:
        if extra:
            msg = f"driver '{provider}' needs its SDK: pip install 'mcinfra[{extra}]'"
            msg += f" ({detail})" if detail else ""
        else:
            msg = f"driver '{provider}' cannot run here: {detail or 'not installed'}"
        super().__init__(msg)
        self.provider = provider
        self.extra = extra


class DriverConflict(McInfraError):
    """Two driver plugins claim one provider and neither says it overrides the other."""


class CloudError(McInfraError):
    """The CSP said no. ``code`` is the CSP's own error code; the original exception is chained.

    ``throttled``: the cloud refused the request without acting on it, so any call may be tried
    again. ``retryable``: trying again may succeed (throttling, a 5xx, a lost connection), but
    the cloud may have acted, so only idempotent calls are. ``retry_after``: the cloud's hint
    in seconds. :class:`mcinfra.drivers.kit.RetryPolicy` is the one place that acts on them.
    """

    def __init__(self, provider: str, code: str, message: str, *, retryable: bool = False,
                 throttled: bool = False, retry_after: float | None = None) -> None:
        super().__init__(f"[{provider}] {code}: {message}")
        self.provider = provider
        self.code = code
        self.message = message
        self.retryable = retryable or throttled
        self.throttled = throttled
        self.retry_after = retry_after


class LockTimeout(McInfraError, TimeoutError):
    """An SP-Lock could not be taken in time."""


class StoreError(McInfraError):
    """The metadata store could not be reached or refused a write."""


__all__ = [
    "AlreadyExists",
    "CloudError",
    "DriverConflict",
    "DriverNotInstalled",
    "InUse",
    "InvalidRequest",
    "LockTimeout",
    "McInfraError",
    "NotFound",
    "StoreError",
    "Unsupported",
]
