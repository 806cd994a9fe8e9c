"""How the store's hot-path statements run: one small interface, two executors.

SQLAlchemy's execution machinery costs ~100 us per statement where SQLite itself takes ~10 us,
which made the store most of a manager call's cost. For SQLite the managers' per-call
statements therefore run on the pooled DBAPI connection directly. What stays SQLAlchemy's:
the SQL (each prebuilt statement compiled once for the dialect) and the values (passed through
the column types' own bind and result processors), so a row written on one path reads back the
same on the other. Other databases use the plain SQLAlchemy executor.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql import ClauseElement


class Executor(Protocol):
    def one(self, stmt: ClauseElement, params: dict[str, Any]) -> tuple[Any, ...] | None: ...
    def all(self, stmt: ClauseElement, params: dict[str, Any]) -> list[tuple[Any, ...]]: ...
    def insert(self, stmt: ClauseElement, params: dict[str, Any]) -> int: ...
    def run(self, stmt: ClauseElement, params: dict[str, Any] | Sequence[dict[str, Any]]) -> None: ...


class SAExecutor:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def one(self, stmt: ClauseElement, params: dict[str, Any]) -> tuple[Any, ...] | None:
        row = self.conn.execute(stmt, params).first()
        return tuple(row) if row is not None else None

    def all(self, stmt: ClauseElement, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.conn.execute(stmt, params)]

    def insert(self, stmt: ClauseElement, params: dict[str, Any]) -> int:
        return int(self.conn.execute(stmt, params).inserted_primary_key[0])

    def run(self, stmt: ClauseElement, params: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        self.conn.execute(stmt, params)


class _Prepared:
    """A statement compiled once for SQLite (qmark style), with its value processors."""

    def __init__(self, stmt: Any, dialect: Any, column_keys: list[str] | None) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=column_keys)
        self.compiled = compiled
        self.sql = compiled.string
        self.names = list(compiled.positiontup or [])
        self.bind = {name: b.type.bind_processor(dialect) for name, b in compiled.binds.items()}
        columns = getattr(stmt, "selected_columns", None) if getattr(stmt, "is_select", False) else None
        self.result = [c.type.result_processor(dialect, None) for c in columns] if columns is not None else []

    def params(self, values: dict[str, Any]) -> tuple[Any, ...]:
        full = self.compiled.construct_params(values)  # adds the statement's own literal values
        out = []
        for name in self.names:
            value = full[name]
            process = self.bind.get(name)
            out.append(process(value) if process is not None and value is not None else value)
        return tuple(out)

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        return tuple(p(v) if p is not None else v for p, v in zip(self.result, raw, strict=True))


class SQLiteExecutor:
    def __init__(self, cursor: Any, cache: dict[Any, _Prepared], dialect: Any) -> None:
        self.cur = cursor
        self._cache = cache
        self._dialect = dialect

    def _prep(self, stmt: Any, params: dict[str, Any]) -> _Prepared:
        keys = sorted(params) if getattr(stmt, "is_insert", False) else None
        # keyed on the statement itself (not its id(), which a new statement could reuse once the
        # old one is gone); the hot path runs module-level statements, so the cache stays small
        key = (stmt, tuple(keys) if keys else None)
        prep = self._cache.get(key)
        if prep is None:
            prep = self._cache[key] = _Prepared(stmt, self._dialect, keys)
        return prep

    def one(self, stmt: ClauseElement, params: dict[str, Any]) -> tuple[Any, ...] | None:
        prep = self._prep(stmt, params)
        raw = self.cur.execute(prep.sql, prep.params(params)).fetchone()
        return prep.row(raw) if raw is not None else None

    def all(self, stmt: ClauseElement, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        prep = self._prep(stmt, params)
        return [prep.row(r) for r in self.cur.execute(prep.sql, prep.params(params)).fetchall()]

    def insert(self, stmt: ClauseElement, params: dict[str, Any]) -> int:
        prep = self._prep(stmt, params)
        self.cur.execute(prep.sql, prep.params(params))
        return int(self.cur.lastrowid)

    def run(self, stmt: ClauseElement, params: dict[str, Any] | Sequence[dict[str, Any]]) -> None:
        rows = [params] if isinstance(params, dict) else list(params)
        if rows:
            prep = self._prep(stmt, rows[0])
            self.cur.executemany(prep.sql, [prep.params(r) for r in rows])


class SQLiteRaw:
    """Transactions on a pooled SQLite DBAPI connection (the engine's connect hook set it to
    autocommit mode, so BEGIN IMMEDIATE / COMMIT are ours)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._cache: dict[Any, _Prepared] = {}
        self._dbapi = engine.dialect.dbapi

    @contextmanager
    def tx(self, write: bool) -> Iterator[SQLiteExecutor]:
        raw = self.engine.raw_connection()
        cur = raw.cursor()
        try:
            if write:
                cur.execute("BEGIN IMMEDIATE")
            try:
                yield SQLiteExecutor(cur, self._cache, self.dialect)
            except BaseException:
                if write and raw.dbapi_connection.in_transaction:
                    cur.execute("ROLLBACK")
                raise
            if write:
                cur.execute("COMMIT")
        except self._dbapi.IntegrityError as exc:  # type: ignore[union-attr]
            raise IntegrityError("sqlite", None, exc) from exc
        except self._dbapi.Error as exc:  # type: ignore[union-attr]
            raise DBAPIError("sqlite", None, exc) from exc
        finally:
            cur.close()
            raw.close()
