"""google.api_core / google.auth / requests exceptions and failed operations -> mcinfra errors."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import AlreadyExists, CloudError, InUse, McInfraError, NotFound

PROVIDER = "gcp"
IN_USE_REASON = "resourceInUseByAnotherResource"
RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})

#: Operation error codes (the upper-case form the operation resource uses)
_OP_CODES: dict[str, type[McInfraError]] = {
    "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE": InUse,
    "RESOURCE_NOT_FOUND": NotFound,
    "NOT_FOUND": NotFound,
    "RESOURCE_ALREADY_EXISTS": AlreadyExists,
    "ALREADY_EXISTS": AlreadyExists,
}


def _reasons(exc: Any) -> list[str]:
    out = []
    for e in getattr(exc, "errors", None) or []:
        if isinstance(e, dict) and e.get("reason"):
            out.append(str(e["reason"]))
    reason = getattr(exc, "reason", None)
    if reason:
        out.append(str(reason))
    return out


def map_exception(exc: BaseException, what: str) -> McInfraError:
    """The mcinfra error for an SDK exception raised by the call ``what`` (e.g. 'instances.get')."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as aexc
    from requests import exceptions as rexc

    if isinstance(exc, gexc.GoogleAPICallError):
        code = exc.code or 0
        reasons = _reasons(exc)
        message = f"{what}: {exc.message}"
        if IN_USE_REASON in reasons:
            return InUse(message)
        if code == 404:
            return NotFound(message)
        if code == 409:
            return AlreadyExists(message)
        err_code = reasons[0] if reasons else str(code or type(exc).__name__)
        return CloudError(PROVIDER, err_code, message, retryable=code in RETRYABLE_STATUS, throttled=code == 429)
    if isinstance(exc, aexc.GoogleAuthError):
        # google.auth messages name the failure (invalid_grant...), never the key itself.
        return CloudError(PROVIDER, "AuthError", f"{what}: {type(exc).__name__}: {exc}")
    if isinstance(exc, rexc.RequestException):
        return CloudError(PROVIDER, "ConnectionError", f"{what}: {type(exc).__name__}", retryable=True)
    if isinstance(exc, gexc.GoogleAPIError):
        return CloudError(PROVIDER, type(exc).__name__, f"{what}: {exc}")
    return CloudError(PROVIDER, type(exc).__name__, f"{what}: {exc}")


def map_operation_error(op: Any, what: str) -> McInfraError:
    """The error of an operation that finished with ``op.error`` set."""
    errors = list(op.error.errors) if op.error else []
    first = errors[0] if errors else None
    code = first.code if first else str(op.http_error_status_code or "OperationFailed")
    message = "; ".join(e.message for e in errors) or op.http_error_message or "operation failed"
    message = f"{what}: {message}"
    cls = _OP_CODES.get(code)
    if cls is not None:
        return cls(message)
    if op.http_error_status_code == 404:
        return NotFound(message)
    if op.http_error_status_code == 409:
        return AlreadyExists(message)
    return CloudError(PROVIDER, code, message)
