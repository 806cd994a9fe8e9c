"""Fixtures of the catalog tests: an Infra with mock connections, and a counter of catalog row writes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

import mcinfra
from mcinfra.drivers.mock.state import reset as reset_mock


class WriteCounter:
    """Counts INSERT/UPDATE/DELETE statements (and their rows) that touch catalog row tables."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.rows = 0

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, _ctx: Any,
                 executemany: bool) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb not in ("INSERT", "UPDATE", "DELETE") or "catalog_partitions" in statement:
            return
        if "catalog_" not in statement:
            return
        self.statements.append(statement)
        self.rows += len(parameters) if executemany else 1


@pytest.fixture
def infra() -> Iterator[mcinfra.Infra]:
    reset_mock()
    with mcinfra.Infra("sqlite:///:memory:") as i:
        i.connections.add("m1", provider="mock")
        yield i
    reset_mock()


@pytest.fixture
def writes(infra: mcinfra.Infra) -> Iterator[WriteCounter]:
    counter = WriteCounter()
    event.listen(infra.store.engine, "before_cursor_execute", counter)
    yield counter
    event.remove(infra.store.engine, "before_cursor_execute", counter)
