"""How the store's hot-path statements run: one small interface, two executors.

SQLAlchemy's execution machinery costs ~100 us per statement where SQLite itself takes ~10 us,
which made the store most of a manager call's cost. For SQLite the managers' per-call
statements therefore run on the pooled DBAPI connection directly. What stays SQLAlchemy's:
the SQL (each prebuilt statement compiled once for the dialect) and the values (passed through
the column types' own bind and result processors), so a row written on one path reads back the
same on the other. Other databases use the plain SQLAlchemy executor.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime
from operator import itemgetter
from typing import Any, Protocol

from sqlalchemy import Connection, DateTime, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.sql import ClauseElement

from mcinfra.core.errors import StoreError


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


def _iso(value: datetime) -> str:
    return value.isoformat(" ")


def _bind_processor(type_: Any, dialect: Any) -> Any:
    """The column type's own bind processor; datetimes are written as ISO text with their zone
    (``2026-11-26 17:31:05.896887+00:00``, what sqlite3's default adapter wrote before it was
    deprecated), which the SQLite dialect's result processor reads back zone-aware."""
    process = type_.bind_processor(dialect)
    if process is None and isinstance(type_, DateTime):
        return _iso
    return process


class _Sentinel:
    """Stands in for a caller's value while a statement's parameter plan is worked out."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key


class _Prepared:
    """A statement compiled once for SQLite (qmark style), with its value processors.

    ``params`` turns a caller's dict into the positional tuple by a plan made once per set of
    keys: which position takes which caller value, and which takes the statement's own literal.
    The plan is read off SQLAlchemy's ``construct_params`` run once on placeholders, so it gives
    what that gives; a statement whose parameters have callable defaults keeps calling it.
    """

    def __init__(self, stmt: Any, dialect: Any, column_keys: list[str] | None) -> None:
        compiled = stmt.compile(dialect=dialect, column_keys=column_keys)
        self.compiled = compiled
        self.sql = compiled.string
        self.names = list(compiled.positiontup or [])
        self.bind = {name: _bind_processor(b.type, dialect) for name, b in compiled.binds.items()}
        self._dynamic = any(compiled.binds[name].callable is not None for name in self.names)
        self._plans: dict[tuple[str, ...], list[tuple[str | None, Any, Any]]] = {}
        #: plans with no literal: a C item getter, and the positions that have a processor
        self._fast: dict[tuple[str, ...], tuple[Callable[[dict[str, Any]], tuple[Any, ...]],
                                                list[tuple[int, Any]]]] = {}
        columns = getattr(stmt, "selected_columns", None) if getattr(stmt, "is_select", False) else None
        self.result = ([c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns]
                       if columns is not None else [])
        #: (position, processor) of the result columns that have one
        self._processed = [(i, p) for i, p in enumerate(self.result) if p is not None]

    def _plan(self, keys: tuple[str, ...]) -> list[tuple[str | None, Any, Any]] | None:
        if self._dynamic:
            return None
        plan = self._plans.get(keys)
        if plan is None:
            full = self.compiled.construct_params({k: _Sentinel(k) for k in keys})
            plan = []
            for name in self.names:
                value = full[name]
                if isinstance(value, _Sentinel):
                    plan.append((value.key, None, self.bind.get(name)))
                else:  # the statement's own value: processed once
                    process = self.bind.get(name)
                    plan.append((None, process(value) if process is not None and value is not None else value,
                                 None))
            self._plans[keys] = plan
        return plan

    def params(self, values: dict[str, Any]) -> tuple[Any, ...]:
        keys = tuple(values)
        fast = self._fast.get(keys)
        if fast is not None:  # every position takes a caller value: picked in C, then processed
            getter, processed = fast
            if not processed:
                return getter(values)  # type: ignore[no-any-return]
            out = list(getter(values))
            for i, process in processed:
                if out[i] is not None:
                    out[i] = process(out[i])
            return tuple(out)
        plan = self._plan(keys)
        if plan is None:
            return self._params_slow(values)
        if plan and all(key is not None for key, _, _ in plan):
            wanted = [key for key, _, _ in plan]
            getter = itemgetter(*wanted) if len(wanted) > 1 else (lambda v, k=wanted[0]: (v[k],))
            self._fast[keys] = (getter, [(i, p) for i, (_, _, p) in enumerate(plan) if p is not None])
            return self.params(values)
        out = []
        for key, literal, process in plan:
            if key is None:
                out.append(literal)
            else:
                value = values[key]
                out.append(process(value) if process is not None and value is not None else value)
        return tuple(out)

    def _params_slow(self, values: dict[str, Any]) -> tuple[Any, ...]:
        full = self.compiled.construct_params(values)  # adds the statement's own literal values
        out = []
        for name in self.names:
            value = full[name]
            process = self.bind.get(name)
            out.append(process(value) if process is not None and value is not None else value)
        return tuple(out)

    def row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if not self._processed:
            return tuple(raw)
        out = list(raw)
        for i, process in self._processed:
            out[i] = process(out[i])
        return tuple(out)


class SQLiteExecutor:
    __slots__ = ("_cache", "_dialect", "cur")

    def __init__(self, cursor: Any, cache: dict[Any, _Prepared], dialect: Any) -> None:
        self.cur = cursor
        self._cache = cache
        self._dialect = dialect

    def _prep(self, stmt: Any, params: dict[str, Any]) -> _Prepared:
        return _prepared(self._cache, self._dialect, stmt, params)

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
            if len(rows) == 1:
                self.cur.execute(prep.sql, prep.params(rows[0]))
            else:
                self.cur.executemany(prep.sql, [prep.params(r) for r in rows])

    def run_positional(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        """Rows made ready by :meth:`SQLiteRaw.positional` (before the transaction began)."""
        self.cur.executemany(sql, rows)


def _prepared(cache: dict[Any, _Prepared], dialect: Any, stmt: Any, params: dict[str, Any]) -> _Prepared:
    keys = tuple(sorted(params)) if getattr(stmt, "is_insert", False) else None
    # keyed on the statement itself (not its id(), which a new statement could reuse once the
    # old one is gone); the hot path runs module-level statements, so the cache stays small
    key = (stmt, keys)
    prep = cache.get(key)
    if prep is None:
        prep = cache[key] = _Prepared(stmt, dialect, list(keys) if keys else None)
    return prep


#: idle SQLite connections kept open for the next transaction (more are opened when threads need
#: them at once, and closed again after use)
IDLE_CONNECTIONS = 16


class SQLiteRaw:
    """Transactions on SQLite DBAPI connections of the store's own: a file store keeps up to
    ``IDLE_CONNECTIONS`` idle connections in a LIFO list (taking one is a ``list.pop``, where the
    engine's pool costs ~5 us a checkout); each is opened through the engine, so its connect hook
    (WAL, busy timeout, autocommit mode: BEGIN IMMEDIATE / COMMIT are ours) has run on it. An
    in-memory store is one connection, the engine's, used under the store's lock.

    Errors leave as SQLAlchemy's ``IntegrityError`` / ``DBAPIError``, as the engine raises them.
    """

    def __init__(self, engine: Engine, *, shared: bool = False) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self._cache: dict[Any, _Prepared] = {}
        self._dbapi = engine.dialect.dbapi
        self._shared = engine.raw_connection().dbapi_connection if shared else None
        self._idle: list[Any] = []
        self._closed = False
        ref = weakref.ref(self)
        # a forked child must not use its parent's connections (nor close them under it)
        os.register_at_fork(after_in_child=lambda: (s := ref()) is not None and s._forget())

    def positional(self, stmt: Any, rows: list[dict[str, Any]]) -> tuple[str, list[tuple[Any, ...]]]:
        """(SQL, positional rows) for ``stmt``: the Python work of a write done before the write
        lock is taken (rows of one set of keys)."""
        prep = _prepared(self._cache, self.dialect, stmt, rows[0])
        return prep.sql, [prep.params(r) for r in rows]

    def _forget(self) -> None:
        self._idle = []

    def _checkout(self) -> Any:
        if self._shared is not None:
            return self._shared
        try:
            return self._idle.pop()
        except IndexError:
            fairy = self.engine.raw_connection()
            fairy.detach()  # ours from now on: the engine's pool forgets it
            return fairy.dbapi_connection

    def _checkin(self, conn: Any) -> None:
        if conn is self._shared:
            return
        if not self._closed and len(self._idle) < IDLE_CONNECTIONS:
            self._idle.append(conn)
        else:
            conn.close()

    def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def tx(self, write: bool, guard: Any = None) -> _SQLiteTx:
        """A transaction (``write``: BEGIN IMMEDIATE ... COMMIT) under ``guard`` (a lock, or None)."""
        return _SQLiteTx(self, write, guard)


class _SQLiteTx(SQLiteExecutor):
    """One hot-path transaction: a class rather than nested generators, since every store call
    of a manager passes here. A database failure leaves as :class:`StoreError`; a unique-key
    clash as SQLAlchemy's ``IntegrityError`` (the store turns it into AlreadyExists)."""

    __slots__ = ("_conn", "_guard", "_raw", "_write")

    def __init__(self, raw: SQLiteRaw, write: bool, guard: Any) -> None:
        super().__init__(None, raw._cache, raw.dialect)
        self._raw = raw
        self._write = write
        self._guard = guard
        self._conn: Any = None

    def __enter__(self) -> SQLiteExecutor:
        if self._guard is not None:
            self._guard.acquire()
        try:
            self._conn = self._raw._checkout()
            self.cur = self._conn.cursor()
            if self._write:
                self.cur.execute("BEGIN IMMEDIATE")
        except BaseException as exc:
            self._end(exc)
            raise
        return self  # the transaction is its own executor

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        self._end(exc)

    def _end(self, exc: BaseException | None) -> None:
        """COMMIT (or ROLLBACK after ``exc``), give the connection back, release the guard; a
        DBAPI error (``exc``, or met here) is raised typed."""
        raw, conn, cur = self._raw, self._conn, self.cur
        self._conn = self.cur = None
        dbapi = raw._dbapi
        failure = exc if isinstance(exc, dbapi.Error) else None  # type: ignore[union-attr]
        try:
            if cur is not None:
                try:
                    if self._write and conn.in_transaction:
                        cur.execute("COMMIT" if exc is None else "ROLLBACK")
                except dbapi.Error as e:  # type: ignore[union-attr]
                    failure = failure or e
                finally:
                    cur.close()
            if conn is not None:
                if failure is not None and conn is not raw._shared:
                    # a connection a statement failed on may be left mid-transaction: not reused
                    with contextlib.suppress(dbapi.Error):  # type: ignore[union-attr]
                        conn.close()
                else:
                    raw._checkin(conn)
        finally:
            if self._guard is not None:
                self._guard.release()
        if failure is not None:
            if isinstance(failure, dbapi.IntegrityError):  # type: ignore[union-attr]
                raise IntegrityError("sqlite", None, failure) from failure
            raise StoreError(f"metadata store sqlite failed: {str(failure).strip()}") from DBAPIError(
                "sqlite", None, failure)
