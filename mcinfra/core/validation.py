"""Turn bad input into ``InvalidRequest`` naming the field, before anything else happens."""

from __future__ import annotations

import json
import math
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from mcinfra.core.errors import InvalidRequest
from mcinfra.core.models import NAME_RULE, check_name

M = TypeVar("M", bound=BaseModel)


def build(model: type[M], what: str, value: Any = None, /, **fields: Any) -> M:
    """``model(**fields)`` (or ``model.model_validate(value)``), with errors as InvalidRequest."""
    try:
        if value is not None:
            return value if isinstance(value, model) else model.model_validate(value)
        return model(**fields)
    except ValidationError as exc:
        raise invalid(exc, what) from None


def invalid(exc: ValidationError, what: str, *, field: str | None = None) -> InvalidRequest:
    """One InvalidRequest for a pydantic failure: every error with its location; ``field`` names
    the input as the caller knows it (default: the first error's location)."""
    parts, first = [], None
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or what
        first = first or loc
        msg = err["msg"].removeprefix("Value error, ")
        parts.append(f"{loc}: {msg}")
    return InvalidRequest(f"invalid {what}: " + "; ".join(parts), field=field or first)


def name(value: Any, field: str = "name") -> str:
    try:
        return check_name(value, field)
    except ValueError:
        raise InvalidRequest(f"{field} {value!r} is invalid: {NAME_RULE}", field=field) from None


def optional_name(value: Any, field: str) -> str | None:
    return None if value is None else name(value, field)


def seconds(value: Any, field: str, *, allow_zero: bool = False, maximum: float = 86_400.0) -> float:
    """A duration: a real number (not a bool, not a string), finite, within (0 or >0, maximum]."""
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero) or value > maximum:
        bound = ">= 0" if allow_zero else "> 0"
        raise InvalidRequest(f"{field} must be a number of seconds {bound} and <= {maximum:g}, not {value!r}",
                             field=field)
    return float(value)


def count(value: Any, field: str, *, minimum: int = 1, maximum: int = 1_000_000) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= maximum:
        raise InvalidRequest(f"{field} must be an integer from {minimum} to {maximum}, not {value!r}", field=field)
    return value


def flag(value: Any, field: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidRequest(f"{field} must be True or False, not {value!r}", field=field)
    return value


def optional_text(value: Any, field: str) -> str | None:
    """An optional free-form string (a disk type, an operation name)."""
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise InvalidRequest(f"{field} must be a non-empty string or None, not {value!r}", field=field)
    return value


def mapping(value: Any, field: str) -> dict[str, Any]:
    """An optional mapping with string keys (None: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise InvalidRequest(f"{field} must be a mapping with string keys", field=field)
    return dict(value)


def document(value: Any, field: str) -> dict[str, Any]:
    """An optional mapping with string keys that the store can keep as JSON (None: empty)."""
    out = mapping(value, field)
    try:
        json.dumps(out, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"{field} must hold only JSON values (str, number, bool, None, list, mapping): {exc}",
                             field=field) from None
    return out


def optional_datetime(value: Any, field: str) -> datetime | None:
    if value is not None and not isinstance(value, datetime):
        raise InvalidRequest(f"{field} must be a datetime or None, not {value!r}", field=field)
    return value


def optional_flag(value: Any, field: str) -> bool | None:
    return None if value is None else flag(value, field)


def names(values: Any, field: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise InvalidRequest(f"{field} must be a list of names", field=field)
    out = [name(v, field) for v in values]
    if len(set(out)) != len(out):
        raise InvalidRequest(f"{field} lists a name twice: {out}", field=field)
    return out

