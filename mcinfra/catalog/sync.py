"""Catalog sync: pull images, specs and prices through the drivers into the store.

Work is planned as partitions — (connection, region, kind) — and run a region at a time (one
driver session per region, its kinds in turn) on a bounded thread pool. Each partition is
written in one transaction (see :mod:`mcinfra.store.catalog_store`), so an interruption leaves
every partition either as before or fully synced; the run's resume marker in the partitions
table lets the next sync skip what the interrupted run finished.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mcinfra.catalog import normalize as norm
from mcinfra.catalog.models import KINDS, PartitionOutcome, SyncReport
from mcinfra.core.errors import McInfraError, Unsupported
from mcinfra.core.models import ImageInfo, PriceInfo, SpecInfo

if TYPE_CHECKING:
    from mcinfra.core.connection import Connection
    from mcinfra.core.infra import Infra
    from mcinfra.store.catalog_store import CatalogStore

log = logging.getLogger("mcinfra.catalog")

#: the driver capability each catalog kind needs
CAPABILITY = {"images": "image", "specs": "spec", "prices": "price"}
SyncProgress = Callable[[PartitionOutcome], None]


@dataclass(frozen=True)
class RegionJob:
    """One region of one connection to sync: ``region`` None is the connection's own."""

    connection: str
    provider: str
    region: str | None
    label: str
    kinds: tuple[str, ...]


# ------------------------------------------------------------------ rows from driver models
def image_row(i: ImageInfo) -> dict[str, Any]:
    name = i.name or i.iid.system_id
    family, version = norm.os_of(name, i.os_distribution, i.os_platform)
    return {"image_id": i.iid.system_id or i.name, "name": name, "os_family": family,
            "os_version": version, "arch": norm.arch_of(i.os_architecture, name),
            "platform": i.os_platform, "distribution": i.os_distribution, "rank_key": norm.rank_key(name)}


def spec_row(s: SpecInfo) -> dict[str, Any]:
    gpu, gpus = norm.gpu_of(s)
    return {"spec_id": s.name, "vcpus": s.vcpus, "memory_gb": norm.memory_gb(s.memory_mib),
            "arch": norm.arch_of(s.architecture) or s.architecture, "gpu": gpu, "gpu_count": gpus,
            "listed_price_usd": s.price_per_hour}


def price_row(p: PriceInfo) -> dict[str, Any]:
    return {"spec_id": p.spec, "zone": p.zone or "", "price_usd": norm.to_usd(p.price_per_hour, p.currency),
            "price": p.price_per_hour, "currency": p.currency.upper(), "source": p.source}


def _list(cloud: Connection, kind: str) -> list[dict[str, Any]]:
    if kind == "images":
        return [image_row(i) for i in cloud.images.list()]
    if kind == "specs":
        return [spec_row(s) for s in cloud.specs.list()]
    return [price_row(p) for p in cloud.prices.list()]


# ------------------------------------------------------------------ the engine
class SyncEngine:
    def __init__(self, infra: Infra, store: CatalogStore) -> None:
        self.infra = infra
        self.store = store
        #: set on an interruption: workers start no further partition
        self._stop = threading.Event()

    def run(self, jobs: Sequence[RegionJob], *, concurrency: int, resume: bool,
            progress: SyncProgress | bool | None) -> SyncReport:
        started = time.monotonic()
        keys = [(j.connection, j.provider, j.label, k) for j in jobs for k in j.kinds]
        run_id, done, interrupted = self.store.begin_run(keys, resume=resume)
        report = SyncReport(resumed=bool(interrupted and resume and done))
        with _progress(progress, len(keys)) as tell:
            pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="catalog-sync")
            try:
                futures = [pool.submit(self._region, j, done, tell) for j in jobs]
                for fut in futures:
                    report.partitions.extend(fut.result())
            except BaseException:
                # an interruption: leave the run marker, so the next sync resumes it
                self._stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
            pool.shutdown(wait=True)
        self.store.end_run(run_id)
        self.store.after_sync(sum(p.written for p in report.partitions))
        report.duration_s = time.monotonic() - started
        return report

    def _region(self, job: RegionJob, done: set[tuple[str, str, str]], tell: SyncProgress) -> list[PartitionOutcome]:
        try:
            return self._region_kinds(job, done, tell)
        except BaseException:
            self._stop.set()  # an interruption (not a cloud's error): the run stops here
            raise

    def _region_kinds(self, job: RegionJob, done: set[tuple[str, str, str]], tell: SyncProgress
                      ) -> list[PartitionOutcome]:
        outcomes: list[PartitionOutcome] = []
        todo = [k for k in job.kinds if (job.connection, job.label, k) not in done]
        for k in job.kinds:
            if k not in todo:
                out = self._outcome(job, k, "skipped")
                outcomes.append(out)
                tell(out)
        if not todo or self._stop.is_set():
            return outcomes
        with ExitStack() as stack:
            try:
                cloud = stack.enter_context(self._session(job))
            except McInfraError as exc:
                for k in todo:
                    out = self._finish(job, k, "error", 0.0, error=f"cannot connect: {exc}")
                    outcomes.append(out)
                    tell(out)
                return outcomes
            for k in todo:
                if self._stop.is_set():
                    break
                out = self._partition(cloud, job, k)
                outcomes.append(out)
                tell(out)
        return outcomes

    @contextmanager
    def _session(self, job: RegionJob) -> Iterator[Connection]:
        if job.region is None:
            yield self.infra.connect(job.connection)  # shared and cached: not closed here
            return
        cloud = self.infra.open(job.connection, region=job.region)
        try:
            yield cloud
        finally:
            cloud.close()

    def _partition(self, cloud: Connection, job: RegionJob, kind: str) -> PartitionOutcome:
        t0 = time.monotonic()
        if CAPABILITY[kind] not in cloud.capabilities.kinds:
            return self._finish(job, kind, "unsupported", time.monotonic() - t0,
                                error=f"driver {job.provider!r} has no {CAPABILITY[kind]} capability")
        try:
            rows = _list(cloud, kind)
        except Unsupported as exc:
            return self._finish(job, kind, "unsupported", time.monotonic() - t0, error=str(exc))
        except McInfraError as exc:
            return self._finish(job, kind, "error", time.monotonic() - t0, error=str(exc))
        now = datetime.now(UTC)
        counts = self.store.sync_rows(kind, job.connection, job.provider, job.label, rows, now)
        out = self._outcome(job, kind, "ok", rows=counts.rows, inserted=counts.inserted, updated=counts.updated,
                            gone=counts.gone, duration_s=time.monotonic() - t0)
        self.store.finish_partition(job.connection, job.label, kind, status="ok", error=None, synced_at=now,
                                    duration_s=out.duration_s, row_count=counts.rows, written=out.written)
        return out

    def _finish(self, job: RegionJob, kind: str, status: str, duration: float, *, error: str) -> PartitionOutcome:
        if status == "error":
            log.warning("catalog sync %s/%s/%s failed: %s", job.connection, job.label, kind, error)
        self.store.finish_partition(job.connection, job.label, kind, status=status, error=error, synced_at=None,
                                    duration_s=duration, row_count=0, written=0)
        return self._outcome(job, kind, status, error=error, duration_s=duration)

    @staticmethod
    def _outcome(job: RegionJob, kind: str, status: Any, **fields: Any) -> PartitionOutcome:
        return PartitionOutcome(connection=job.connection, provider=job.provider, region=job.label, kind=kind,
                                status=status, **fields)


@contextmanager
def _progress(progress: SyncProgress | bool | None, total: int) -> Iterator[SyncProgress]:
    if progress is None or progress is False:
        yield lambda out: None
    elif callable(progress):
        yield progress
    else:
        from mcinfra.core.display import rich_bar

        with rich_bar("catalog sync", total) as step:
            yield lambda out: step(f"{out.connection}/{out.region}/{out.kind} {out.status}", True)


__all__ = ["CAPABILITY", "KINDS", "RegionJob", "SyncEngine", "image_row", "price_row", "spec_row"]
