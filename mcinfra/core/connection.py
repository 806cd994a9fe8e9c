"""A connection: one (provider, credential, region) with a manager per resource kind."""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from functools import cached_property
from typing import TYPE_CHECKING, Any

from mcinfra.core import validation as v
from mcinfra.core.cache import CacheStats, ConnectionCache
from mcinfra.core.calls import CallGate
from mcinfra.core.display import ItemProgress, progress_bar
from mcinfra.core.errors import InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import Capabilities, DriverSession
from mcinfra.core.managers.catalog import ImageManager, PriceManager, RegionZoneManager, SpecManager
from mcinfra.core.managers.context import Handlers, ManagerContext
from mcinfra.core.managers.keypair import KeyPairManager
from mcinfra.core.managers.nlb import NLBManager
from mcinfra.core.managers.security_group import SecurityGroupManager
from mcinfra.core.managers.vm import VMManager
from mcinfra.core.managers.vpc import VPCManager
from mcinfra.core.models import DestroyReport, Kind, ReconcileReport

if TYPE_CHECKING:
    from mcinfra.core.managers.base import ResourceManager
    from mcinfra.splock import SPLock
    from mcinfra.store import Store

log = logging.getLogger("mcinfra")

#: destroy_all's order: what depends on others goes first; kinds in one group go in parallel
DESTROY_ORDER = ((Kind.NLB,), (Kind.VM,), (Kind.KEYPAIR, Kind.SECURITY_GROUP), (Kind.VPC,))


class Connection:
    """The user's side of one connection: a manager per kind over the driver's session."""

    def __init__(self, name: str, provider: str, session: DriverSession, capabilities: Capabilities,
                 gate: CallGate, zone: str | None, store: Store, locks: SPLock,
                 cache: ConnectionCache | None = None, *, region: str | None = None) -> None:
        self.name = name
        self.provider = provider
        #: the CSP region the session was opened for (None: the driver's default)
        self.region = region
        self.capabilities = capabilities
        self.zone = zone
        self._session = session
        self._store = store
        self._locks = locks
        #: the driver's handlers, typed per kind (``cloud.handlers.vpc``), for calls below the managers
        self.handlers = Handlers(session, gate)
        #: the read cache of this connection name (shared by every Connection of the name in one
        #: Infra); off unless a policy was given (see docs/batch.md, "The read cache")
        self.cache = cache if cache is not None else ConnectionCache(name, time.monotonic)
        self._ctx = ManagerContext(
            connection=name, provider=provider, zone=zone, capabilities=capabilities, gate=gate,
            handlers=self.handlers, store=store, locks=locks, cache=self.cache,
        )

    def __repr__(self) -> str:
        return f"<Connection {self.name!r} provider={self.provider!r}>"

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._session.close()

    def cache_stats(self) -> CacheStats:
        """Hits, misses and invalidations of this connection's read cache."""
        return self.cache.stats()

    @cached_property
    def vpcs(self) -> VPCManager:
        return VPCManager(self._ctx)

    @cached_property
    def security_groups(self) -> SecurityGroupManager:
        return SecurityGroupManager(self._ctx)

    @cached_property
    def keypairs(self) -> KeyPairManager:
        return KeyPairManager(self._ctx)

    @cached_property
    def vms(self) -> VMManager:
        return VMManager(self._ctx)

    @cached_property
    def nlbs(self) -> NLBManager:
        return NLBManager(self._ctx)

    @cached_property
    def region_zones(self) -> RegionZoneManager:
        return RegionZoneManager(self._ctx)

    @cached_property
    def images(self) -> ImageManager:
        return ImageManager(self._ctx)

    @cached_property
    def specs(self) -> SpecManager:
        return SpecManager(self._ctx)

    @cached_property
    def prices(self) -> PriceManager:
        return PriceManager(self._ctx)

    def manager(self, kind: Kind | str) -> ResourceManager[Any, Any]:
        """The manager of a stored kind (a subnet's is the VPCs')."""
        if kind not in (Kind.VPC, Kind.SUBNET, Kind.SECURITY_GROUP, Kind.KEYPAIR, Kind.VM, Kind.NLB):
            raise InvalidRequest(f"kind must be a stored resource kind, not {kind!r}", field="kind")
        managers: dict[str, ResourceManager[Any, Any]] = {
            Kind.VPC: self.vpcs, Kind.SUBNET: self.vpcs, Kind.SECURITY_GROUP: self.security_groups,
            Kind.KEYPAIR: self.keypairs, Kind.VM: self.vms, Kind.NLB: self.nlbs,
        }
        return managers[kind]

    def reconcile(self, report: ReconcileReport | None = None) -> ReconcileReport:
        """Settle every row of this connection a crash left between a CSP call and the store
        write: a pending row is finished (the CSP has the resource) or rolled back (it does not);
        a deleting row is dropped once the resource is gone (deleted again if the CSP still
        has it)."""
        report = report or ReconcileReport()
        for rec in self._store.unsettled(self.name):
            # a subnet is created and removed under its VPC's write lock
            lock = (self.name, Kind.VPC, rec.owner) if rec.kind == Kind.SUBNET else (self.name, rec.kind, rec.name_id)
            try:
                with self._locks.hold(writes=[lock]):
                    fresh = self._store.get(self.name, rec.kind, rec.name_id, rec.owner)
                    if fresh is None or fresh.id != rec.id or fresh.state != rec.state:
                        continue  # the call that wrote it has finished meanwhile
                    if fresh.state == "pending":
                        done = self.manager(rec.kind).reconcile_pending(fresh)
                        (report.finished if done else report.rolled_back).append(rec.label)
                    else:
                        present = self.manager(rec.kind).reconcile_deleting(fresh)
                        (report.deleted if present else report.forgotten).append(rec.label)
            except McInfraError as exc:
                report.failed[rec.label] = str(exc)
        return report

    def destroy_all(self, *, rounds: int = 10, pause: float = 1.0, workers: int = 8,
                    progress: ItemProgress | bool | None = None) -> DestroyReport:
        """Delete everything the store maps for this connection, NLB -> VM -> key/SG -> VPC,
        retrying what fails for up to ``rounds`` rounds (``pause`` seconds apart, ``workers``
        deletes at once). ``progress``: a callback ``(kind, name, error or None)`` per attempt,
        or ``True`` for a progress bar."""
        rounds = v.count(rounds, "rounds", maximum=1000)
        pause = v.seconds(pause, "pause", allow_zero=True, maximum=3600.0)
        workers = v.count(workers, "workers", maximum=256)
        if progress is not None and not isinstance(progress, bool) and not callable(progress):
            raise InvalidRequest("progress must be a callback, True, False or None", field="progress")
        self.reconcile()
        deleted: dict[str, list[str]] = {}
        last_error: dict[tuple[str, str], str] = {}
        total = sum(1 for group in DESTROY_ORDER for k in group for r in self._store.list(self.name, k)
                    if r.state != "pending")
        with (progress_bar(progress, total, f"destroy {self.name}") as report_item,
              ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"destroy-{self.name}") as pool):
            for group in DESTROY_ORDER:
                for attempt in range(rounds):
                    todo = [(k, r.name_id) for k in group for r in self._store.list(self.name, k)
                            if r.state != "pending"]
                    failed = 0
                    for key, err in zip(todo, pool.map(self._destroy_one, todo), strict=True):
                        report_item(key[0], key[1], err)
                        if err is None:
                            deleted.setdefault(key[0], []).append(key[1])
                        else:
                            last_error[key] = err
                            failed += 1
                    if not failed:
                        break
                    if attempt + 1 < rounds:
                        time.sleep(pause)
        remaining: dict[str, dict[str, str]] = {}
        for kind in (k for group in DESTROY_ORDER for k in group):
            for r in self._store.list(self.name, kind):
                remaining.setdefault(kind, {})[r.name_id] = last_error.get((kind, r.name_id), "not deleted")
        return DestroyReport(all_destroyed=not remaining, deleted=deleted, remaining=remaining)

    def _destroy_one(self, item: tuple[str, str]) -> str | None:
        kind, name = item
        try:
            self.manager(kind).delete(name)
        except NotFound:
            return None
        except McInfraError as exc:
            return str(exc)
        return None
