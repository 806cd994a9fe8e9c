"""Turn bad input into ``InvalidRequest`` naming the field, before anything else happens."""

from __future__ import annotations

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


def names(values: Any, field: str) -> list[str]:
    if isinstance(values, str) or not isinstance(values, list | tuple):
        raise InvalidRequest(f"{field} must be a list of names", field=field)
    out = [name(v, field) for v in values]
    if len(set(out)) != len(out):
        raise InvalidRequest(f"{field} lists a name twice: {out}", field=field)
    return out

