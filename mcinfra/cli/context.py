"""What every command shares: the root state (store URL, --json), the common options, and the
mapping of mcinfra errors to one-line messages and exit codes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import BaseModel, ValidationError

from mcinfra.core.errors import (
    AlreadyExists,
    CloudError,
    DriverNotInstalled,
    InUse,
    InvalidRequest,
    LockTimeout,
    McInfraError,
    NotFound,
    StoreError,
    Unsupported,
)
from mcinfra.core.validation import invalid

if TYPE_CHECKING:
    from mcinfra.core.connection import Connection
    from mcinfra.core.infra import Infra

#: Exit code per error type (checked in this order; the first match wins). Click itself uses 2 for usage errors.
EXIT_CODES: tuple[tuple[type[McInfraError], int], ...] = (
    (InvalidRequest, 3),
    (NotFound, 4),
    (AlreadyExists, 5),
    (InUse, 6),
    (Unsupported, 7),
    (DriverNotInstalled, 8),
    (CloudError, 9),
    (LockTimeout, 10),
    (StoreError, 11),
)
M = TypeVar("M", bound=BaseModel)

#: Any other McInfraError.
GENERIC_ERROR = 1
#: `destroy` could not delete everything.
DESTROY_INCOMPLETE = 12


def exit_code(exc: McInfraError) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return GENERIC_ERROR


@dataclass
class State:
    """The root context's object: built once per command line, closed when it ends."""

    db: str | None = None
    json: bool = False
    _infra: Infra | None = field(default=None, repr=False)

    def infra(self) -> Infra:
        if self._infra is None:
            from mcinfra.core.infra import Infra  # the store and drivers load only when a command needs them

            self._infra = Infra(self.db)
        return self._infra

    def close(self) -> None:
        if self._infra is not None:
            self._infra.close()
            self._infra = None


_current: State | None = None


def begin(st: State) -> State:
    """Make ``st`` the state of the command line being run (called by the root callback)."""
    global _current
    _current = st
    return st


def end(st: State) -> None:
    global _current
    st.close()
    if _current is st:
        _current = None


def state() -> State:
    """The running command line's state. A sub-app run on its own (without the root callback)
    gets one built from the environment ($MCINFRA_DB or the embedded store)."""
    if _current is None:
        import os

        begin(State(db=os.environ.get("MCINFRA_DB")))
    assert _current is not None
    return _current


def infra() -> Infra:
    """The Infra of this command line (``--db`` or the embedded store)."""
    return state().infra()


def cloud(connection: str) -> Connection:
    inf = infra()
    try:
        return inf.connect(connection)
    except NotFound:
        if any(c.name == connection for c in inf.connections.list()):
            raise
        raise NotFound(f"connection {connection!r} does not exist (add it with `mcinfra connection add`)") from None


def want_json(flag: bool) -> bool:
    return flag or state().json


def parse_value(text: str) -> Any:
    """JSON when it parses (numbers, true/false/null, lists, objects), else the plain string."""
    try:
        return json.loads(text)
    except ValueError:
        return text


def build(model: type[M], label: str, field_name: str, **fields: Any) -> M:
    """``model(**fields)`` with a validation failure as InvalidRequest("<label>: <why>")."""
    try:
        return model(**fields)
    except ValidationError as exc:
        raise invalid(exc, label, field=field_name) from None


def parse_pairs(items: list[str] | None, field_name: str, *, json_values: bool = False) -> dict[str, Any]:
    """``["k=v", ...]`` -> ``{"k": "v"}``; InvalidRequest naming the option for a malformed item."""
    out: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            # the value may be a secret: never echo the item back
            raise InvalidRequest(f"--{field_name} expects KEY=VALUE (got an item without '=' or with an empty key)",
                                 field=field_name)
        out[key.strip()] = parse_value(value) if json_values else value
    return out


# ---------------------------------------------------------------- shared options and arguments
ConnOpt = Annotated[str, typer.Option(
    "--connection", "-c", envvar="MCINFRA_CONNECTION", show_envvar=True,
    help="Connection to use (see `mcinfra connection list`).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
NameArg = Annotated[str, typer.Argument(help="The resource's name.")]
SystemIdArg = Annotated[str, typer.Argument(help="The CSP's own id of the resource.")]
