"""The image/spec/price catalog: ``infra.catalog`` (see docs/catalog.md).

``sync`` pulls every connection's images, specs and prices through the drivers into the store;
``images.search`` / ``specs.search`` answer from the store in milliseconds; ``status`` lists the
partitions and how old each is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mcinfra.catalog.models import (
    KINDS,
    CatalogResult,
    ImageRow,
    Partition,
    PartitionOutcome,
    SpecRow,
    SyncReport,
)
from mcinfra.catalog.search import ImageCatalog, SpecCatalog, flag, max_age_of, text_filter
from mcinfra.catalog.sync import RegionJob, SyncEngine
from mcinfra.core import validation as v
from mcinfra.core.display import ResultList
from mcinfra.core.errors import InvalidRequest, NotFound
from mcinfra.store.catalog_store import CatalogStore

if TYPE_CHECKING:
    from mcinfra.core.infra import Infra

__all__ = ["Catalog", "CatalogResult", "ImageRow", "Partition", "PartitionOutcome", "SpecRow", "SyncReport"]

MAX_CONCURRENCY = 64


class Catalog:
    """``infra.catalog``: sync, search and freshness of the image/spec/price catalog."""

    def __init__(self, infra: Infra) -> None:
        self._infra = infra
        self.store = CatalogStore(infra.store)
        self.images = ImageCatalog(self)
        self.specs = SpecCatalog(self)

    def __repr__(self) -> str:
        return f"<Catalog store={self._infra.store!r}>"

    # ------------------------------------------------------------------ sync
    def sync(self, connections: list[str] | tuple[str, ...] | None = None, *,
             kinds: str | tuple[str, ...] | list[str] = KINDS, regions: list[str] | tuple[str, ...] | str | None = None,
             concurrency: int = 4, progress: Callable[[PartitionOutcome], None] | bool | None = None,
             max_age: float | timedelta | None = None, resume: bool = True) -> SyncReport:
        """Pull images, specs and prices of ``connections`` (default: every connection) into the
        store. ``regions``: None (each connection's own region), a list of CSP regions (the
        connections' credential in each; every connection must then be of one provider), or
        "all" (every region the connection's region list names). ``concurrency`` regions at
        once; ``progress``: a callback per partition, or True for a progress bar; ``max_age``:
        skip partitions synced less than that many seconds ago; ``resume``: skip what an
        interrupted earlier sync finished. A region or kind that fails is recorded in the report
        (and ``status()``) while the others are synced."""
        names = self._connection_names(connections)
        kinds = self._kinds(kinds)
        regions = self._regions(regions, names)
        concurrency = v.count(concurrency, "concurrency", maximum=MAX_CONCURRENCY)
        if progress is not None and not isinstance(progress, bool) and not callable(progress):
            raise InvalidRequest("progress must be a callback, True, False or None", field="progress")
        age, resume = max_age_of(max_age), flag(resume, "resume")
        jobs = self._plan(names, kinds, regions)
        if age is not None:
            fresh = self._fresh(age)
            jobs = [RegionJob(j.connection, j.provider, j.region, j.label,
                              tuple(k for k in j.kinds if (j.connection, j.label, k) not in fresh)) for j in jobs]
            jobs = [j for j in jobs if j.kinds]
        return SyncEngine(self._infra, self.store).run(jobs, concurrency=concurrency, resume=resume,
                                                        progress=progress)

    def status(self, *, connection: str | None = None, kind: str | None = None) -> list[Partition]:
        """Every synced (connection, region, kind) with when, how long, how many rows and how it ended."""
        connection = self.connection_filter(connection)
        if kind is not None and kind not in KINDS:
            raise InvalidRequest(f"kind must be one of {KINDS} or None, not {kind!r}", field="kind")
        rows = self.store.partitions(kinds=[kind] if kind else None, connection=connection)
        return ResultList(Partition(**{k: r[k] for k in Partition.model_fields}) for r in rows)

    # ------------------------------------------------------------------ helpers (also used by search)
    def provider_filter(self, provider: Any) -> str | None:
        if provider is None:
            return None
        known = self._infra.registry.providers_names()
        if not isinstance(provider, str) or provider not in known:
            raise InvalidRequest(f"unknown provider {provider!r}; known: {', '.join(sorted(known))}",
                                 field="provider")
        return provider

    def connection_filter(self, connection: Any) -> str | None:
        return None if connection is None else v.name(connection, "connection")

    def synced_map(self, kinds: tuple[str, ...], rows: list[dict[str, Any]]) -> dict[tuple[str, str, str], datetime]:
        """When each partition behind ``rows`` was last synced (only their connections are read)."""
        if not rows:
            return {}
        return {(p["connection"], p["region"], p["kind"]): p["synced_at"]
                for p in self.store.partitions(kinds=kinds, connections={r["connection"] for r in rows})
                if p["synced_at"] is not None}

    def refresh(self, kinds: tuple[str, ...], max_age: float, *, provider: str | None, region: str | None,
                connection: str | None) -> SyncReport | None:
        """Re-sync the partitions of ``kinds`` older than ``max_age`` seconds (and the matching
        connections' own region when none was ever synced) before a search answers."""
        cutoff = datetime.now(UTC) - timedelta(seconds=max_age)
        parts = self.store.partitions(kinds=kinds, provider=provider, region=region, connection=connection)
        if not parts:
            names = [c["name"] for c in self._infra.store.connections()
                     if (connection is None or c["name"] == connection)
                     and (provider is None or c["provider"] == provider)]
            return self.sync(names, kinds=kinds) if names else None
        stale: dict[str, set[str]] = {}
        for p in parts:
            if p["status"] != "unsupported" and (p["synced_at"] is None or p["synced_at"] < cutoff):
                stale.setdefault(p["connection"], set()).add(p["region"])
        report = SyncReport()
        for name, labels in stale.items():
            own = self._own_label(self._infra.store.connection(name))
            jobs_regions = sorted(labels - {own})
            if own in labels:
                report.partitions += self.sync([name], kinds=kinds).partitions
            if jobs_regions:
                report.partitions += self.sync([name], kinds=kinds, regions=jobs_regions).partitions
        return report

    # ------------------------------------------------------------------ planning
    def _connection_names(self, connections: Any) -> list[str]:
        known = {c["name"]: c for c in self._infra.store.connections()}
        if connections is None:
            return sorted(known)
        if isinstance(connections, str):
            connections = [connections]
        names = v.names(connections, "connections")
        missing = [n for n in names if n not in known]
        if missing:
            raise InvalidRequest(f"connections {missing} do not exist (add them with infra.connections.add)",
                                 field="connections")
        return names

    @staticmethod
    def _kinds(kinds: Any) -> tuple[str, ...]:
        if isinstance(kinds, str):
            kinds = [k.strip() for k in kinds.split(",") if k.strip()]
        if not isinstance(kinds, list | tuple) or not kinds or not all(isinstance(k, str) for k in kinds):
            raise InvalidRequest(f"kinds must name some of {KINDS}, not {kinds!r}", field="kinds")
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise InvalidRequest(f"unknown kinds {bad}; kinds are {KINDS}", field="kinds")
        return tuple(dict.fromkeys(kinds))

    def _regions(self, regions: Any, names: list[str]) -> list[str] | str | None:
        if regions is None or regions == "all":
            return regions
        if isinstance(regions, str):
            regions = [regions]
        if not isinstance(regions, list | tuple) or not regions:
            raise InvalidRequest(f"regions must be None, 'all' or a list of CSP regions, not {regions!r}",
                                 field="regions")
        out = [text_filter(r, "regions") for r in regions]
        providers = {self._infra.store.connection(n)["provider"] for n in names}
        if len(providers) > 1:
            raise InvalidRequest(f"regions name CSP regions of one provider; the connections are of "
                                 f"{sorted(providers)}: sync each provider on its own", field="regions")
        return [r for r in dict.fromkeys(out) if r]

    def _own_label(self, cfg: dict[str, Any]) -> str:
        """The partition name of a connection's own region: its CSP region, or 'default' for a
        connection without one (the driver's default region)."""
        if cfg["region"]:
            try:
                return str(self._infra.store.region(cfg["region"])["region"])
            except NotFound:
                pass
        return "default"

    def _plan(self, names: list[str], kinds: tuple[str, ...], regions: list[str] | str | None) -> list[RegionJob]:
        jobs: list[RegionJob] = []
        for name in names:
            cfg = self._infra.store.connection(name)
            own = self._own_label(cfg)
            wanted: list[str]
            if regions is None:
                wanted = [own]
            elif regions == "all":
                wanted = [r.name for r in self._infra.connect(name).region_zones.list()]
            else:
                wanted = list(regions)
            for label in wanted:
                jobs.append(RegionJob(name, cfg["provider"], None if label == own else label, label, kinds))
        return jobs

    def _fresh(self, max_age: float) -> set[tuple[str, str, str]]:
        cutoff = datetime.now(UTC) - timedelta(seconds=max_age)
        return {(p["connection"], p["region"], p["kind"]) for p in self.store.partitions()
                if p["status"] == "ok" and p["synced_at"] is not None and p["synced_at"] >= cutoff}
