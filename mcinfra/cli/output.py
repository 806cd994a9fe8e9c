"""Printing: JSON (``model_dump(mode="json")``) for scripts, rich tables for people."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from enum import Enum
from typing import Any

import typer
from pydantic import BaseModel
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from mcinfra.cli.context import want_json


def console(*, stderr: bool = False) -> Console:
    """A console bound to the current stdout/stderr (so test runners that swap them see the output).

    Without a terminal (CI logs, pipes) rich would squeeze tables into 80 columns; give them room."""
    con = Console(stderr=stderr, highlight=False)
    if not con.is_terminal and "COLUMNS" not in os.environ:
        con.width = 160
    return con


def jsonable(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, dict):
        return {str(k): jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | set):
        return [jsonable(v) for v in obj]
    return obj


def emit_json(obj: Any) -> None:
    typer.echo(json.dumps(jsonable(obj), indent=2))


def show(obj: Any, as_json: bool, render: Callable[[Any], RenderableType]) -> None:
    """Print ``obj`` as JSON (``--json``) or through its rich renderer."""
    if want_json(as_json):
        emit_json(obj)
    else:
        console().print(render(obj))


def done(message: str, as_json: bool, data: dict[str, Any] | None = None) -> None:
    """Report a call that returns nothing: a green line, or ``{"ok": true, ...}`` with --json."""
    if want_json(as_json):
        emit_json({"ok": True, **(data or {})})
    else:
        console().print(Text(message, style="green"))


def error(message: str) -> None:
    console(stderr=True).print(Text(f"error: {message}", style="bold red"), soft_wrap=True)


# ---------------------------------------------------------------- renderers
def cell(value: Any) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "-"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={cell(v)}" for k, v in value.items())
    if isinstance(value, BaseModel):
        return str(value)
    return str(value)


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    t = Table(title=title, title_justify="left", header_style="bold cyan")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*(cell(v) for v in r))
    return t


def detail(title: str, obj: BaseModel, formatters: dict[str, Callable[[Any], str]] | None = None) -> Table:
    """One object as a two-column (field, value) table."""
    t = Table(title=title, title_justify="left", show_header=False)
    t.add_column("field", style="bold cyan")
    t.add_column("value", overflow="fold")
    for name in type(obj).model_fields:
        value = getattr(obj, name)
        fmt = (formatters or {}).get(name)
        t.add_row(name, fmt(value) if fmt else cell(value))
    return t


def iid_name(obj: Any) -> str:
    return obj.iid.name_id


def iid_sid(obj: Any) -> str:
    return obj.iid.system_id
