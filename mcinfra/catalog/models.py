"""What the catalog returns: typed rows, result lists that say how old their data is, and the
sync report."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mcinfra.core.display import ResultList

KINDS = ("images", "specs", "prices")
PartitionState = Literal["ok", "error", "unsupported", "running", "skipped"]


class CatalogRow(BaseModel):
    """Where a catalog row comes from. ``id`` is what ``cloud.vms.start`` takes (the row itself
    works too: the VM manager reads its ``id`` and checks its ``connection``/``provider``)."""

    model_config = ConfigDict(frozen=True)
    provider: str
    region: str
    connection: str
    id: str
    name: str
    arch: str = ""
    synced_at: datetime
    gone_at: datetime | None = None


class ImageRow(CatalogRow):
    kind: Literal["image"] = "image"
    os_family: str = ""
    os_version: str = ""
    platform: str = ""
    distribution: str = ""


class SpecRow(CatalogRow):
    kind: Literal["spec"] = "spec"
    vcpus: int
    memory_gb: float
    gpu: str = ""
    gpu_count: int = 0
    #: per hour in USD (converted when the CSP prices in another currency); None: no price known
    price: float | None = None
    currency: str = "USD"
    #: the price as the CSP published it
    original_price: float | None = None
    original_currency: str | None = None
    price_source: str = ""


class CatalogResult(ResultList):  # type: ignore[type-arg]
    """Search results, best first, with how fresh the data behind them is."""

    def __init__(self, rows: Any = (), *, oldest_synced_at: datetime | None = None) -> None:
        super().__init__(rows)
        #: the oldest sync of any partition the search looked at (None: nothing synced)
        self.oldest_synced_at = oldest_synced_at

    @property
    def age_s(self) -> float | None:
        """Seconds since :attr:`oldest_synced_at`."""
        if self.oldest_synced_at is None:
            return None
        return (datetime.now(UTC) - self.oldest_synced_at).total_seconds()


class _PartitionKey(BaseModel):
    """A (connection, region, kind) of the catalog and where its sync stands."""

    connection: str
    provider: str
    region: str
    kind: str
    status: PartitionState
    error: str | None = None


class Partition(_PartitionKey):
    """One (connection, region, kind) of the catalog and how its last sync went."""

    synced_at: datetime | None = None
    duration_s: float | None = None
    row_count: int = 0
    written: int = 0

    @property
    def age_s(self) -> float | None:
        return None if self.synced_at is None else (datetime.now(UTC) - self.synced_at).total_seconds()


class PartitionOutcome(_PartitionKey):
    """What one sync did to one partition."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    gone: int = 0
    duration_s: float = 0.0

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.gone


class SyncReport(BaseModel):
    partitions: list[PartitionOutcome] = Field(default_factory=list)
    #: True when this run finished partitions an interrupted run had left
    resumed: bool = False
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        """No partition failed (unsupported and skipped ones are not failures)."""
        return all(p.status != "error" for p in self.partitions)

    @property
    def errors(self) -> dict[str, str]:
        return {f"{p.connection}/{p.region}/{p.kind}": p.error or "" for p in self.partitions
                if p.status == "error"}

    @property
    def written(self) -> int:
        return sum(p.written for p in self.partitions)
