"""The Store: engine set-up, migrations, and the few statements the managers' hot path needs.

Every method is one short transaction in SQLAlchemy Core (the ORM classes in ``tables`` define
the schema; Core keeps create/get/delete at a fraction of a millisecond). SQLite runs in WAL
mode; writes in one process are serialised by a lock so threads never meet SQLITE_BUSY, and
write transactions start with BEGIN IMMEDIATE so several processes wait on busy_timeout
instead of failing on a lock upgrade.

PostgreSQL (``postgresql+psycopg://``) is the shared store of several processes or hosts: the
same schema and statements, a connection pool sized for threads, migrations serialised across
processes by an advisory lock, and a lost server surfacing as :class:`StoreError` (never a
fallback to a local store).
"""

from __future__ import annotations

import atexit
import fcntl
import functools
import logging
import os
import re
import threading
import weakref
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Connection,
    Engine,
    and_,
    bindparam,
    create_engine,
    delete,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as SATimeoutError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from mcinfra.core.crashpoint import crash_point
from mcinfra.core.errors import AlreadyExists, InUse, NotFound, StoreError
from mcinfra.core.models import Kind, subnet_ref
from mcinfra.store.executors import Executor, SAExecutor, SQLiteRaw
from mcinfra.store.secrets import SecretBox, load_key
from mcinfra.store.tables import CallRow, ConnectionRow, CredentialRow, IIDRow, RefRow, RegionRow, utcnow

log = logging.getLogger("mcinfra.store")
HOME_ENV = "MCINFRA_HOME"
HISTORY_FLUSH_AT = 200
#: PostgreSQL pool: steady connections, plus overflow for bursts of threads
PG_POOL_SIZE = 10
PG_MAX_OVERFLOW = 40
#: advisory lock id serialising migrations (a fixed id in the SP-Lock id space: sharing it with
#: a lock key's hash could only make that key wait for a migration)
MIGRATION_LOCK_ID = 0x6D63696E6672610


#: one Alembic migration at a time in this process (Alembic's context is process-global)
_MIGRATION_LOCK = threading.Lock()

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
_REVISION = re.compile(r'^(down_)?revision\s*=\s*["\']?([\w-]+|None)["\']?', re.M)


@functools.cache
def migration_head() -> str:
    """The newest migration's revision id, read from the files (the one no other revises)."""
    revisions, revised = set(), set()
    for path in MIGRATIONS.glob("*.py"):
        for down, rev in _REVISION.findall(path.read_text()):
            (revised if down else revisions).add(rev)
    heads = revisions - revised
    if len(heads) != 1:
        raise StoreError(f"migrations must form one line; heads found: {sorted(heads)}")
    return heads.pop()


def default_home() -> Path:
    return Path(os.environ.get(HOME_ENV) or Path.home() / ".mcinfra")


@dataclass(frozen=True)
class IIDRecord:
    id: int
    connection: str
    kind: str
    owner: str
    name_id: str
    system_id: str
    csp_name: str
    state: str
    zone: str | None
    created_at: datetime
    extra: dict[str, Any]

    @property
    def ref_name(self) -> str:
        """How references name this resource (a subnet by ``vpc/subnet``)."""
        return subnet_ref(self.owner, self.name_id) if self.kind == Kind.SUBNET else self.name_id

    @property
    def label(self) -> str:
        """connection/kind/[owner/]name, for reports."""
        return f"{self.connection}/{self.kind}/{self.ref_name}"


_IID_COLS = [IIDRow.__table__.c[f] for f in IIDRecord.__dataclass_fields__]
T_IID = IIDRow.__table__
T_REF = RefRow.__table__
T_CALL = CallRow.__table__

# The hot path's statements, built once: building and cache-keying a statement per call cost
# more than running it.
_P = bindparam
_GET_IID = select(*_IID_COLS).where(and_(
    T_IID.c.connection == _P("connection"), T_IID.c.kind == _P("kind"), T_IID.c.owner == _P("owner"),
    T_IID.c.name_id == _P("name_id")))
_GET_IID_BY_ID = select(*_IID_COLS).where(T_IID.c.id == _P("row_id"))
_INSERT_IID = insert(T_IID)
_INSERT_REF = insert(T_REF)
_INSERT_CALL = insert(T_CALL)
_FINISH = update(T_IID).where(T_IID.c.id == _P("row_id")).values(
    system_id=_P("system_id"), state="ready", zone=func.coalesce(_P("zone"), T_IID.c.zone))
_FINISH_EXTRA = _FINISH.values(extra=_P("extra"))
_DELETE_IID = delete(T_IID).where(T_IID.c.id == _P("row_id"))
_SET_STATE = update(T_IID).where(T_IID.c.id == _P("row_id")).values(state=_P("state"))
_DELETE_SUBNETS = delete(T_IID).where(and_(
    T_IID.c.connection == _P("connection"), T_IID.c.kind == Kind.SUBNET.value, T_IID.c.owner == _P("owner")))
_DROP_REFS = delete(T_REF).where(and_(
    T_REF.c.connection == _P("connection"), T_REF.c.from_kind == _P("kind"), T_REF.c.from_name == _P("name")))
_REFERRERS = select(T_REF.c.from_kind, T_REF.c.from_name).where(and_(
    T_REF.c.connection == _P("connection"), T_REF.c.to_kind == _P("kind"), T_REF.c.to_name == _P("name")))
_NAME_OF_ID = select(T_IID.c.system_id, T_IID.c.name_id).where(and_(
    T_IID.c.connection == _P("connection"), T_IID.c.kind == _P("kind"), T_IID.c.system_id == _P("system_id")))
_NAMES_OF_IDS = select(T_IID.c.system_id, T_IID.c.name_id).where(and_(
    T_IID.c.connection == _P("connection"), T_IID.c.kind == _P("kind"),
    T_IID.c.system_id.in_(_P("system_ids", expanding=True))))


def _record(row: Any) -> IIDRecord:
    return IIDRecord(*row)


def _reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip()


class Store:
    def __init__(self, url: str | None = None, *, home: Path | None = None) -> None:
        self.home = Path(home) if home else default_home()
        if url is None:
            self.home.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{self.home / 'mcinfra.db'}"
        self.url = make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.is_memory = self.is_sqlite and self.url.database in (None, "", ":memory:")
        self.is_postgres = self.url.get_backend_name() == "postgresql"
        # SQLite takes one writer at a time; in-memory SQLite is one shared connection.
        self._serial: Any = threading.RLock() if self.is_sqlite else None
        try:
            self.engine = self._make_engine()
            self._migrate()
            self._raw = SQLiteRaw(self.engine, shared=self.is_memory) if self.is_sqlite else None
        except (OSError, DBAPIError, SATimeoutError, KeyError) as exc:
            raise StoreError(f"cannot open the metadata store {self!r}: {exc!r}") from exc
        if self.is_memory:
            key_dir = None
        elif self.is_sqlite:
            key_dir = Path(self.url.database or ".").resolve().parent
        else:
            key_dir = self.home
        self.secrets = SecretBox(load_key(key_dir))
        self._calls: list[dict[str, Any]] = []
        self._calls_lock = threading.Lock()
        ref = weakref.ref(self)
        atexit.register(lambda: (s := ref()) is not None and s.flush_history())

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    # ------------------------------------------------------------------ engine
    def _make_engine(self) -> Engine:
        if self.is_postgres:
            # No pre-ping (it costs a round trip per transaction): a transaction that meets a
            # connection the server dropped raises StoreError, and SQLAlchemy then discards every
            # pooled connection made before, so the next call reconnects. An unreachable server
            # raises at connect, which _tx also turns into StoreError.
            defaults = {"connect_timeout": 10, "application_name": "mcinfra-store", "keepalives": 1,
                        "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3}
            return create_engine(
                self.url, pool_size=PG_POOL_SIZE, max_overflow=PG_MAX_OVERFLOW, pool_timeout=30,
                pool_recycle=3600,
                connect_args={k: v for k, v in defaults.items() if k not in self.url.query},  # URL wins
            )
        if not self.is_sqlite:
            return create_engine(self.url, pool_size=10, max_overflow=20, pool_pre_ping=True)
        if self.is_memory:
            engine = create_engine(
                "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False},
                pool_reset_on_return=None,
            )
        else:
            Path(self.url.database or "").parent.mkdir(parents=True, exist_ok=True)
            # transactions are always explicit (the DBAPI runs in autocommit mode), so the pool
            # need not roll back every connection it gets back
            engine = create_engine(
                self.url, connect_args={"check_same_thread": False, "timeout": 60}, pool_size=8,
                pool_reset_on_return=None,
            )

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # transactions are begun by _on_begin
            cur = dbapi_conn.cursor()
            if not self.is_memory:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # a lone read needs no transaction of its own (each statement is atomic)
            if conn.info.get("write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine

    def _migrate(self) -> None:
        if self._schema_version() == migration_head():
            return  # importing Alembic costs more than the rest of opening the store
        # Alembic's ``context`` and ``op`` are process-global: one migration at a time in this
        # process, whatever the store; SQLite files are also locked across processes (a flock
        # on ``<db>.migrate.lock``; PostgreSQL uses an advisory lock below). The whole upgrade
        # is one transaction, so a store is never stamped with a version whose tables are missing.
        with _MIGRATION_LOCK, self._migration_file_lock():
            if self._schema_version() == migration_head():
                return  # another thread or process migrated it meanwhile
            from alembic import command
            from alembic.config import Config

            cfg = Config()
            cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
            with self._guard(), self.engine.connect() as conn:
                conn.info["write"] = True
                if self.is_postgres:
                    # processes starting together: one migrates, the others wait and find it done
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")
                conn.commit()

    @contextmanager
    def _migration_file_lock(self) -> Iterator[None]:
        if not self.is_sqlite or self.is_memory:
            yield
            return
        with open(f"{Path(self.url.database or '').resolve()}.migrate.lock", "a") as lockf:
            fcntl.flock(lockf, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lockf, fcntl.LOCK_UN)

    def _schema_version(self) -> str | None:
        try:
            with self.engine.connect() as conn:
                return conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except DBAPIError:
            return None  # a new database: no version table yet

    def _guard(self) -> Any:
        return self._serial if self._serial is not None else nullcontext()

    def _guard_for(self, write: bool) -> Any:
        return self._guard() if (write or self.is_memory) else nullcontext()

    @contextmanager
    def _typed_errors(self) -> Iterator[None]:
        """A database failure leaves the store as StoreError; a unique-key clash stays
        IntegrityError for the caller to turn into AlreadyExists."""
        try:
            yield
        except IntegrityError:
            raise
        except (DBAPIError, SATimeoutError) as exc:
            raise StoreError(f"metadata store {self.url.get_backend_name()} failed: {_reason(exc)}") from exc

    @contextmanager
    def _tx(self, write: bool = False) -> Iterator[Connection]:
        with self._typed_errors(), self._guard_for(write), self.engine.connect() as conn:
            conn.info["write"] = write
            with conn.begin():
                yield conn

    def _prepared_tx(self, write: bool = False) -> AbstractContextManager[Executor]:
        """A transaction for the managers' per-call statements (see executors.py)."""
        if self._raw is None:
            return self._sa_prepared_tx(write)
        return self._raw.tx(write, self._serial if (write or self.is_memory) else None)

    @contextmanager
    def _sa_prepared_tx(self, write: bool) -> Iterator[Executor]:
        with self._tx(write) as conn:
            yield SAExecutor(conn)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """An ORM session in one write transaction, committed on success (for CLADNet and other add-ons)."""
        with self._tx(write=True) as conn, Session(bind=conn, expire_on_commit=False) as session:
            yield session
            session.flush()

    def close(self) -> None:
        self.flush_history()
        if self._raw is not None:
            self._raw.close()
        self.engine.dispose()

    # ------------------------------------------------------------------ credentials / regions / connections
    def add_credential(self, name: str, provider: str, keys: dict[str, str]) -> None:
        self._insert_unique(CredentialRow, "credential", name, provider=provider, secret=self.secrets.seal(keys))

    def credential(self, name: str) -> tuple[str, dict[str, str]]:
        """(provider, decrypted key/values)."""
        with self._tx() as c:
            row = c.execute(
                select(CredentialRow.provider, CredentialRow.secret).where(CredentialRow.name == name)
            ).first()
        if row is None:
            raise NotFound(f"credential {name!r} does not exist")
        return row.provider, self.secrets.open(row.secret)

    def credentials(self) -> list[dict[str, Any]]:
        with self._tx() as c:
            rows = c.execute(select(CredentialRow).order_by(CredentialRow.name)).all()
        return [
            {"name": r.name, "provider": r.provider, "keys": sorted(self.secrets.open(r.secret)),
             "created_at": r.created_at}
            for r in rows
        ]

    def add_region(self, name: str, provider: str, region: str, zone: str | None, extra: dict[str, Any]) -> None:
        self._insert_unique(RegionRow, "region", name, provider=provider, region=region, zone=zone, extra=extra)

    def region(self, name: str) -> dict[str, Any]:
        return self._get_config(RegionRow, "region", name)

    def regions(self) -> list[dict[str, Any]]:
        return self._list_config(RegionRow)

    def add_connection(
        self, name: str, provider: str, credential: str | None, region: str | None, options: dict[str, Any]
    ) -> None:
        self._insert_unique(
            ConnectionRow, "connection", name, provider=provider, credential=credential, region=region,
            options=options,
        )

    def connection(self, name: str) -> dict[str, Any]:
        return self._get_config(ConnectionRow, "connection", name)

    def connections(self) -> list[dict[str, Any]]:
        return self._list_config(ConnectionRow)

    def delete_config(self, what: str, name: str) -> None:
        table = {"credential": CredentialRow, "region": RegionRow, "connection": ConnectionRow}[what]
        with self._tx(write=True) as c:
            users: list[str] = []
            if what in ("credential", "region"):
                col = ConnectionRow.credential if what == "credential" else ConnectionRow.region
                users = list(c.execute(select(ConnectionRow.name).where(col == name)).scalars())
            else:
                users = list(
                    c.execute(select(IIDRow.kind, IIDRow.name_id).where(IIDRow.connection == name).limit(5)).all()
                )
            if users:
                raise InUse(f"{what} {name!r} is used by {users}")
            if c.execute(delete(table).where(table.name == name)).rowcount == 0:
                raise NotFound(f"{what} {name!r} does not exist")

    def _insert_unique(self, table: Any, what: str, name: str, **values: Any) -> None:
        try:
            with self._tx(write=True) as c:
                c.execute(insert(table).values(name=name, **values))
        except IntegrityError as exc:
            raise AlreadyExists(f"{what} {name!r} already exists") from exc

    def _get_config(self, table: Any, what: str, name: str) -> dict[str, Any]:
        with self._tx() as c:
            row = c.execute(select(table).where(table.name == name)).mappings().first()
        if row is None:
            raise NotFound(f"{what} {name!r} does not exist")
        return dict(row)

    def _list_config(self, table: Any) -> list[dict[str, Any]]:
        with self._tx() as c:
            return [dict(r) for r in c.execute(select(table).order_by(table.name)).mappings()]

    # ------------------------------------------------------------------ IIDs
    def reserve(
        self,
        connection: str,
        kind: str,
        name: str,
        csp_name: str,
        *,
        owner: str = "",
        zone: str | None = None,
        refs: Iterable[tuple[str, str]] = (),
        extra: dict[str, Any] | None = None,
    ) -> int:
        """Write a pending row (and its references) for a name, or raise AlreadyExists."""
        try:
            with self._prepared_tx(write=True) as tx:
                row_id = tx.insert(_INSERT_IID, {
                    "connection": connection, "kind": kind, "owner": owner, "name_id": name, "system_id": "",
                    "csp_name": csp_name, "state": "pending", "zone": zone, "created_at": utcnow(),
                    "extra": extra or {},
                })
                self._add_refs(tx, connection, kind, name, refs)
        except IntegrityError as exc:
            where = f" in VPC {owner!r}" if owner else ""
            raise AlreadyExists(f"{kind} {name!r} already exists{where} in connection {connection!r}") from exc
        return row_id

    def finish(self, row_id: int, system_id: str, *, zone: str | None = None,
               extra: dict[str, Any] | None = None, children: tuple[str, list[dict[str, Any]]] | None = None
               ) -> None:
        """Mark a pending row ready with its CSP id. ``children``: (kind, rows) inserted ready in
        the same transaction (a new VPC's subnets), so a crash leaves all of them or none."""
        params = {"row_id": row_id, "system_id": system_id, "zone": zone}
        try:
            with self._logged_write() as tx:
                if extra is None:
                    tx.run(_FINISH, params)
                else:
                    tx.run(_FINISH_EXTRA, {**params, "extra": extra})
                if children and children[1]:
                    row = tx.one(_GET_IID_BY_ID, {"row_id": row_id})
                    if row is not None:
                        kind, rows = children
                        tx.run(_INSERT_IID, [self._ready_row(_record(row).connection, kind, r) for r in rows])
                crash_point("store.finish:in-transaction")
        except IntegrityError as exc:
            raise AlreadyExists(f"CSP id {system_id!r} is already mapped under another name") from exc

    def set_state(self, row_id: int, state: str, *, expect: str) -> bool:
        """Move a row from state ``expect`` to ``state`` ('ready' <-> 'deleting'); False when the
        row is not (or no longer) in state ``expect``."""
        with self._prepared_tx(write=True) as tx:
            row = tx.one(_GET_IID_BY_ID, {"row_id": row_id})
            if row is None or _record(row).state != expect:
                return False
            tx.run(_SET_STATE, {"row_id": row_id, "state": state})
            return True

    def unsettled(self, connection: str | None = None) -> list[IIDRecord]:
        """Rows a crash may have left between a CSP call and the store write: 'pending' (a create)
        and 'deleting' (a delete), oldest first."""
        q = select(*_IID_COLS).where(T_IID.c.state.in_(("pending", "deleting")))
        if connection is not None:
            q = q.where(T_IID.c.connection == connection)
        with self._tx() as c:
            return [_record(r) for r in c.execute(q.order_by(T_IID.c.id))]

    @staticmethod
    def _ready_row(connection: str, kind: str, r: dict[str, Any]) -> dict[str, Any]:
        return {"connection": connection, "kind": kind, "owner": "", "zone": None, "extra": {},
                "state": "ready", "created_at": utcnow(), **r}

    def add_ready(self, connection: str, kind: str, rows: list[dict[str, Any]], *,
                  refs: dict[str, list[tuple[str, str]]] | None = None) -> None:
        """Insert finished rows at once (subnets of a new VPC, registered resources)."""
        if not rows:
            return
        try:
            with self._prepared_tx(write=True) as tx:
                tx.run(_INSERT_IID, [self._ready_row(connection, kind, r) for r in rows])
                for name, r in (refs or {}).items():
                    self._add_refs(tx, connection, kind, name, r)
        except IntegrityError as exc:
            raise AlreadyExists(f"a {kind} of {[r['name_id'] for r in rows]} (or its CSP id) is already mapped in "
                                f"{connection!r}") from exc

    def drop(self, row_id: int, record: IIDRecord | None = None) -> None:
        """Delete a row and the references it holds (and, for a VPC, its subnets)."""
        with self._logged_write() as tx:
            if record is None:
                row = tx.one(_GET_IID_BY_ID, {"row_id": row_id})
                if row is None:
                    return
                record = _record(row)
            r = record
            tx.run(_DELETE_IID, {"row_id": row_id})
            self._drop_refs(tx, r.connection, r.kind, r.ref_name)
            if r.kind == Kind.VPC:
                tx.run(_DELETE_SUBNETS, {"connection": r.connection, "owner": r.name_id})

    def by_id(self, row_id: int) -> IIDRecord | None:
        with self._prepared_tx() as tx:
            row = tx.one(_GET_IID_BY_ID, {"row_id": row_id})
        return _record(row) if row else None

    def get(self, connection: str, kind: str, name: str, owner: str = "") -> IIDRecord | None:
        with self._prepared_tx() as tx:
            row = tx.one(_GET_IID, {"connection": connection, "kind": kind, "owner": owner, "name_id": name})
        return _record(row) if row else None

    def list(self, connection: str | None, kind: str | None = None, *, owner: str | None = None,
             state: str | None = None) -> list[IIDRecord]:
        q = select(*_IID_COLS)
        if connection is not None:
            q = q.where(T_IID.c.connection == connection)
        if kind is not None:
            q = q.where(T_IID.c.kind == kind)
        if owner is not None:
            q = q.where(T_IID.c.owner == owner)
        if state is not None:
            q = q.where(T_IID.c.state == state)
        with self._tx() as c:
            return [_record(r) for r in c.execute(q.order_by(T_IID.c.id))]

    def names_for(self, connection: str, kind: str, system_ids: Iterable[str]) -> dict[str, str]:
        """system_id -> user name for the ids the store maps (subnets: 'name')."""
        ids = list({s for s in system_ids if s})
        if not ids:
            return {}
        if len(ids) == 1:
            with self._prepared_tx() as tx:
                rows = tx.all(_NAME_OF_ID, {"connection": connection, "kind": kind, "system_id": ids[0]})
        else:
            with self._tx() as c:  # an expanding IN: SQLAlchemy renders it per call
                rows = [tuple(r) for r in c.execute(
                    _NAMES_OF_IDS, {"connection": connection, "kind": kind, "system_ids": ids})]
        return {sid: name for sid, name in rows}

    # ------------------------------------------------------------------ references
    def referrers(self, connection: str, kind: str, name: str) -> list[tuple[str, str]]:
        """(kind, name) of every resource that references this one."""
        with self._prepared_tx() as tx:
            return [(k, n) for k, n in tx.all(_REFERRERS, {"connection": connection, "kind": kind, "name": name})]

    def set_refs(self, connection: str, kind: str, name: str, refs: Iterable[tuple[str, str]]) -> None:
        with self._prepared_tx(write=True) as tx:
            self._drop_refs(tx, connection, kind, name)
            self._add_refs(tx, connection, kind, name, refs)

    @staticmethod
    def _add_refs(tx: Executor, connection: str, kind: str, name: str, refs: Iterable[tuple[str, str]]) -> None:
        rows = [{"connection": connection, "from_kind": kind, "from_name": name, "to_kind": k, "to_name": n}
                for k, n in dict.fromkeys(refs)]
        if rows:
            tx.run(_INSERT_REF, rows)

    @staticmethod
    def _drop_refs(tx: Executor, connection: str, kind: str, name: str) -> None:
        tx.run(_DROP_REFS, {"connection": connection, "kind": kind, "name": name})

    # ------------------------------------------------------------------ call history
    # Records are buffered in memory and reach the table (a) with the next row change that
    # follows a CSP call (``finish``, ``drop``: ``_logged_write``), so the record of a create or
    # delete is durable with the row it changed; (b) at once when the call failed; (c) every
    # HISTORY_FLUSH_AT records, on ``history()``, ``close()`` and at exit. A kill -9 can lose only
    # the records of calls that succeeded without changing a row (reads: get, list, status)
    # since the last write, and the record of a call still in flight.
    def record_call(self, **row: Any) -> None:
        with self._calls_lock:
            self._calls.append(row)
            due = len(self._calls) >= HISTORY_FLUSH_AT or not row.get("ok", True)
        if due:
            try:
                self.flush_history()
            except StoreError as exc:  # never fail the call being recorded: the records wait
                log.warning("call history not written yet (%s); kept for the next write", exc)

    @contextmanager
    def _logged_write(self) -> Iterator[Executor]:
        """A hot-path write transaction that also writes the buffered call records (put back
        when the transaction fails)."""
        with self._calls_lock:
            rows, self._calls = self._calls, []
        try:
            # on SQLite the rows are made ready before the write lock: its holders keep it short
            ready = self._raw.positional(_INSERT_CALL, rows) if rows and self._raw is not None else None
            with self._prepared_tx(write=True) as tx:
                yield tx
                if ready is not None:
                    tx.run_positional(*ready)  # type: ignore[attr-defined]
                elif rows:
                    tx.run(_INSERT_CALL, rows)
        except BaseException:
            if rows:
                with self._calls_lock:
                    self._calls[:0] = rows
            raise

    def flush_history(self) -> None:
        with self._calls_lock:
            rows, self._calls = self._calls, []
        if rows:
            try:
                with self._prepared_tx(write=True) as tx:
                    tx.run(_INSERT_CALL, rows)
            except BaseException:
                with self._calls_lock:  # kept for the next flush rather than lost
                    self._calls[:0] = rows
                raise

    def history(self, *, connection: str | None = None, kind: str | None = None, operation: str | None = None,
                since: datetime | None = None, ok: bool | None = None, limit: int = 100) -> list[dict[str, Any]]:
        self.flush_history()
        q = select(T_CALL)
        for col, value in (("connection", connection), ("kind", kind), ("operation", operation), ("ok", ok)):
            if value is not None:
                q = q.where(T_CALL.c[col] == value)
        if since is not None:
            q = q.where(T_CALL.c.at >= since)
        with self._tx() as c:
            rows = c.execute(q.order_by(T_CALL.c.id.desc()).limit(limit)).mappings().all()
        out = []
        for r in reversed(rows):
            d = dict(r)
            d.pop("id")
            if d["at"].tzinfo is None:  # SQLite drops the zone; the value was written in UTC
                d["at"] = d["at"].replace(tzinfo=UTC)
            out.append(d)
        return out
