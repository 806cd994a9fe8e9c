"""``Infra``: the entry point. Holds the store, the locks and the driver registry."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, SecretStr

from mcinfra.core import validation as v
from mcinfra.core.cache import CachePolicy, ConnectionCache, ReadCache
from mcinfra.core.calls import CallGate
from mcinfra.core.connection import Connection
from mcinfra.core.display import ResultList
from mcinfra.core.errors import InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.core.models import CallRecord, ReconcileReport
from mcinfra.drivers.loader import DriverRegistry, ProviderInfo
from mcinfra.splock import LockInfo, SPLock
from mcinfra.store import Store

if TYPE_CHECKING:
    from mcinfra.catalog import Catalog
    from mcinfra.core.batch import BatchPlan
    from mcinfra.core.batch_results import BatchResult

log = logging.getLogger("mcinfra")
#: the most records one history() call returns
HISTORY_LIMIT = 1_000_000_000


class CredentialInfo(BaseModel):
    """A stored credential as shown to users: key names only, never values."""

    name: str
    provider: str
    keys: list[str]
    created_at: datetime | None = None


class RegionInfo(BaseModel):
    name: str
    provider: str
    region: str
    zone: str | None = None
    extra: dict[str, Any] = {}


#: the key of a connection's stored options that holds its read-cache policy (mcinfra's, never
#: passed to the driver, whose options reject unknown keys)
CACHE_OPTION = "cache"
#: connect()'s "leave the read-cache policy as it is"
_KEEP: Any = object()


class ConnectionConfig(BaseModel):
    name: str
    provider: str
    credential: str | None = None
    region: str | None = None
    options: dict[str, Any] = {}
    #: the default read-cache policy of the connection (call type -> TTL seconds); None: no cache
    cache: dict[str, Any] | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> ConnectionConfig:
        options = dict(row["options"] or {})
        cache = options.pop(CACHE_OPTION, None)
        return cls(name=row["name"], provider=row["provider"], credential=row["credential"], region=row["region"],
                   options=options, cache=cache)


class _Config:
    def __init__(self, infra: Infra) -> None:
        self._infra = infra
        self._store = infra.store

    def _provider(self, provider: Any) -> str:
        if not isinstance(provider, str) or provider not in self._infra.registry.providers_names():
            known = ", ".join(sorted(self._infra.registry.providers_names()))
            raise InvalidRequest(f"unknown provider {provider!r}; known: {known}", field="provider")
        return provider


class Credentials(_Config):
    def add(self, name: str, *, provider: str, keys: dict[str, str]) -> CredentialInfo:
        name, provider = v.name(name), self._provider(provider)
        if not isinstance(keys, dict) or not keys or not all(
                isinstance(k, str) and k and isinstance(val, str | SecretStr) for k, val in keys.items()):
            raise InvalidRequest("keys must be a non-empty mapping of names to string values", field="keys")
        plain = {k: val.get_secret_value() if isinstance(val, SecretStr) else val for k, val in keys.items()}
        self._store.add_credential(name, provider, plain)
        return self.get(name)

    def get(self, name: str) -> CredentialInfo:
        name = v.name(name)
        for c in self._store.credentials():
            if c["name"] == name:
                return CredentialInfo(**c)
        raise NotFound(f"credential {name!r} does not exist")

    def list(self) -> list[CredentialInfo]:
        return [CredentialInfo(**c) for c in self._store.credentials()]

    def delete(self, name: str) -> None:
        self._store.delete_config("credential", v.name(name))


class Regions(_Config):
    def add(self, name: str, *, provider: str, region: str, zone: str | None = None,
            extra: dict[str, Any] | None = None) -> RegionInfo:
        name, provider = v.name(name), self._provider(provider)
        if not isinstance(region, str) or not region.strip():
            raise InvalidRequest("region must be a non-empty CSP region name", field="region")
        if zone is not None and (not isinstance(zone, str) or not zone.strip()):
            raise InvalidRequest("zone must be a non-empty CSP zone name or None", field="zone")
        extra = v.document(extra, "extra")
        self._store.add_region(name, provider, region.strip(), zone.strip() if zone else None, extra)
        return self.get(name)

    def get(self, name: str) -> RegionInfo:
        return RegionInfo(**{k: val for k, val in self._store.region(v.name(name)).items() if k != "id"})

    def list(self) -> list[RegionInfo]:
        return [RegionInfo(**{k: val for k, val in r.items() if k != "id"}) for r in self._store.regions()]

    def delete(self, name: str) -> None:
        self._store.delete_config("region", v.name(name))


class Connections(_Config):
    def add(self, name: str, *, provider: str | None = None, credential: str | None = None,
            region: str | None = None, options: dict[str, Any] | None = None,
            cache: CachePolicy | dict[str, Any] | None = None) -> ConnectionConfig:
        """Add a connection. ``cache``: its default read-cache policy (call type -> TTL seconds,
        e.g. ``{"vm.status": 5, "image.list": 3600}``), applied when a process first connects."""
        name = v.name(name)
        credential, region = v.optional_name(credential, "credential"), v.optional_name(region, "region")
        if provider is not None:
            provider = self._provider(provider)
        options = v.document(options, "options")
        if cache is not None and CACHE_OPTION in options:
            raise InvalidRequest("give the cache policy once: cache=... or options['cache']", field="cache")
        policy = CachePolicy.parse(cache if cache is not None else options.pop(CACHE_OPTION, None))
        if policy is not None:
            options = {**options, CACHE_OPTION: policy.as_config()}
        providers = set()
        if credential is not None:
            providers.add(self._store.credential(credential)[0])
        if region is not None:
            providers.add(self._store.region(region)["provider"])
        if provider is not None:
            providers.add(provider)
        if len(providers) != 1:
            msg = ("give a provider, credential or region" if not providers
                   else f"credential, region and provider disagree: {sorted(providers)}")
            raise InvalidRequest(msg, field="provider")
        self._store.add_connection(name, providers.pop(), credential, region, options)
        return self.get(name)

    def get(self, name: str) -> ConnectionConfig:
        return ConnectionConfig.from_row(self._store.connection(v.name(name)))

    def list(self) -> list[ConnectionConfig]:
        return [ConnectionConfig.from_row(r) for r in self._store.connections()]

    def delete(self, name: str) -> None:
        self._store.delete_config("connection", v.name(name))


class Locks:
    def __init__(self, splock: SPLock) -> None:
        self.splock = splock

    def hold(self, writes: Any = (), reads: Any = (), timeout: float | None = -1.0) -> Any:
        return self.splock.hold(writes=writes, reads=reads, timeout=timeout)

    @property
    def backend(self) -> str:
        """'local' (this process only) or 'postgres' (every process sharing the store)."""
        return "local" if self.splock.backend is None else "postgres"

    def info(self) -> list[LockInfo]:
        """Held (and waited-for) lock keys with their holders and waiters; with PostgreSQL locks,
        those of every process (read from pg_locks)."""
        return self.splock.info()

    def close(self) -> None:
        self.splock.close()


class Infra:
    """mcinfra's entry point.

    ``Infra()`` opens the embedded SQLite store at ``$MCINFRA_HOME/mcinfra.db`` (default
    ``~/.mcinfra``); any SQLAlchemy URL works (``sqlite:///:memory:`` for tests,
    ``postgresql+psycopg://...`` shared by many processes).

    ``locks``: "local" (in-process SP-Lock) or "postgres" (PostgreSQL advisory locks on the
    store's server, shared by every process and host); default: "postgres" exactly when the
    store is PostgreSQL.
    """

    def __init__(self, url: str | None = None, *, home: str | Path | None = None,
                 lock_timeout: float | None = 600.0, coarse_locks: bool = False,
                 registry: DriverRegistry | None = None, locks: str | None = None) -> None:
        if locks not in (None, "local", "postgres"):
            raise InvalidRequest(f"locks must be 'local' or 'postgres', not {locks!r}", field="locks")
        if lock_timeout is not None:
            lock_timeout = v.seconds(lock_timeout, "lock_timeout", maximum=7 * 86_400.0)
        coarse_locks = v.flag(coarse_locks, "coarse_locks")
        if url is not None and not isinstance(url, str):
            raise InvalidRequest(f"url must be a SQLAlchemy URL string or None, not {url!r}", field="url")
        self.store = Store(url, home=Path(home) if home else None)
        if locks is None:
            locks = "postgres" if self.store.is_postgres else "local"
        if locks == "postgres" and not self.store.is_postgres:
            self.store.close()
            raise InvalidRequest("locks='postgres' needs a PostgreSQL store URL", field="locks")
        backend = None
        if locks == "postgres":
            from mcinfra.splock.postgres import PostgresLocks

            backend = PostgresLocks(self.store.url)
        self.locks = Locks(SPLock(coarse=coarse_locks, timeout=lock_timeout, backend=backend))
        self.registry = registry or DriverRegistry()
        self.credentials = Credentials(self)
        self.regions = Regions(self)
        self.connections = Connections(self)
        self._connections: dict[str, Connection] = {}
        self._connect_lock = threading.Lock()
        #: every connection's read cache in this process (docs/batch.md, "The read cache")
        self.cache = ReadCache()

    def __repr__(self) -> str:
        return f"<Infra store={self.store!r}>"

    def __enter__(self) -> Infra:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()
        self.cache.clear()
        self.locks.close()
        self.store.close()

    def providers(self) -> list[ProviderInfo]:
        """Every known provider, installed or not, with its status."""
        return self.registry.providers()

    def connect(self, name: str, *, cache: Any = _KEEP) -> Connection:
        """The named connection (made once per Infra and reused).

        ``cache``: the read-cache policy of this connection name in this process — a mapping of
        call types to TTL seconds (``{"vm.status": 5, "vm.list": 10, "image.list": 3600}``), a
        :class:`CachePolicy`, or None (no caching); it replaces the policy of every Connection
        object of the name. Omitted: the policy stays as it is (at first connect: the
        connection config's ``cache``; none given: no caching)."""
        name = v.name(name, "connection")
        policy = cache if cache is _KEEP else CachePolicy.parse(cache)
        conn = self._connections.get(name)
        if conn is None:
            with self._connect_lock:
                if name not in self._connections:
                    self._connections[name] = self._open(name)
                conn = self._connections[name]
        if policy is not _KEEP:
            self.cache.connection(name).configure(policy)
        return conn

    def open(self, name: str, *, region: str) -> Connection:
        """A new Connection (not shared, not cached: close it) for the named connection's
        credential and options in another CSP ``region`` (no zone), e.g. to sync the catalog
        of every region with one credential."""
        name = v.name(name, "connection")
        if not isinstance(region, str) or not region.strip():
            raise InvalidRequest("region must be a non-empty CSP region name", field="region")
        return self._open(name, region=region.strip())

    @property
    def catalog(self) -> Catalog:
        """The image/spec/price catalog (``mcinfra.catalog.Catalog``), made on first use. The core's
        one lazy edge to an add-on (docs/architecture.md): importing the core never loads it."""
        cat: Catalog | None = self.__dict__.get("_catalog")
        if cat is None:
            from mcinfra.catalog import Catalog

            cat = self.__dict__.setdefault("_catalog", Catalog(self))
        return cat

    def _open(self, name: str, region: str | None = None) -> Connection:
        cfg = self._store_connection(name)
        driver = self.registry.get(cfg["provider"])
        keys: dict[str, str] = {}
        if cfg["credential"]:
            keys = self.store.credential(cfg["credential"])[1]
        zone = None
        other_region = region is not None
        if region is None and cfg["region"]:
            r = self.store.region(cfg["region"])
            region, zone = r["region"], r["zone"]
        options = dict(cfg["options"] or {})
        stored_policy = options.pop(CACHE_OPTION, None)  # mcinfra's, not the driver's
        info = SessionInfo(name=name, provider=cfg["provider"], region=region, zone=zone,
                              credentials={k: SecretStr(val) for k, val in keys.items()}, options=options)
        gate = CallGate(self.store, name, cfg["provider"], list(keys.values()))
        session = gate.run("connection", "connect", name, driver.connect, info)
        cache: ConnectionCache | None = None
        if not other_region:  # the read cache holds the connection's own region's answers only
            cache = self.cache.connection(name)
            if stored_policy is not None and not cache.configured:
                cache.configure(CachePolicy.parse(stored_policy))
        return Connection(name, cfg["provider"], session, driver.capabilities(), gate, zone, self.store,
                          self.locks.splock, cache, region=region)

    def _store_connection(self, name: str) -> dict[str, Any]:
        try:
            return self.store.connection(name)
        except NotFound:
            raise NotFound(f"connection {name!r} does not exist (add it with infra.connections.add)") from None

    def reconcile(self, *, connection: str | None = None) -> ReconcileReport:
        """Finish (the CSP has the resource) or roll back (it does not) every pending IID row
        left by a crash between a CSP call and the store write, and close every row a crash left
        marked deleting (see docs/reliability.md)."""
        connection = v.optional_name(connection, "connection")
        report = ReconcileReport()
        pending = self.store.unsettled(connection)
        for name in dict.fromkeys(rec.connection for rec in pending):
            try:
                conn = self.connect(name)
            except McInfraError as exc:
                report.failed.update({rec.label: str(exc) for rec in pending if rec.connection == name})
                continue
            conn.reconcile(report)
        return report

    def batch(self, items: Any, *, concurrency: int | dict[str, int] = 16, max_workers: int | None = None,
              progress: Any = None, rollback_on_failure: bool = False, cancel: Any = None,
              ordered: bool = True) -> BatchResult:
        """Many single calls on any connections as one batch: ``items`` are
        ``(connection, op, args)`` tuples, ``BatchOp``s or mappings, ``op`` one of "vpcs.create",
        "security_groups.create", "keypairs.create", "vms.start", "nlbs.create", "vms.suspend",
        "vms.resume", "vms.reboot", "vms.terminate", "<kind>.delete" ("vm.start" works too), and
        ``args`` the single call's keyword arguments with ``name`` (or its request model).

        Every item is checked first (``InvalidBatchRequest`` naming ``items[i].<field>``). With
        ``ordered`` (default) creates run VPCs -> SGs/key pairs -> VMs -> NLBs, then VM control
        calls, then deletes the other way round; within a step items run at once, at most
        ``concurrency`` per connection (an int, or connection -> int) and ``max_workers``
        threads in all. See docs/batch.md for results, cancellation and rollback."""
        from mcinfra.core.batch import run_batch

        return run_batch(self, items, concurrency=concurrency, max_workers=max_workers, progress=progress,
                         rollback_on_failure=rollback_on_failure, cancel=cancel, ordered=ordered)

    def batch_plan(self) -> BatchPlan:
        """A batch built item by item: ``infra.batch_plan().add("aws-1", "vms.start", name=...).run()``."""
        from mcinfra.core.batch import BatchPlan

        return BatchPlan(self)

    def history(self, *, connection: str | None = None, kind: str | None = None, operation: str | None = None,
                since: datetime | None = None, ok: bool | None = None, limit: int = 100) -> list[CallRecord]:
        """The most recent handler calls (oldest first), filtered as asked."""
        connection = v.optional_name(connection, "connection")
        kind, operation = v.optional_text(kind, "kind"), v.optional_text(operation, "operation")
        since, ok = v.optional_datetime(since, "since"), v.optional_flag(ok, "ok")
        limit = v.count(limit, "limit", maximum=HISTORY_LIMIT)
        rows = self.store.history(connection=connection, kind=kind, operation=operation, since=since, ok=ok,
                                  limit=limit)
        return ResultList(CallRecord(**r) for r in rows)
