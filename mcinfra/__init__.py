"""mcinfra: one Python API over many clouds' infrastructure.

    import mcinfra
    infra = mcinfra.Infra()
    cloud = infra.connect("mock-1")
    cloud.vpcs.create("vpc-01", cidr="10.0.0.0/16", subnets=[mcinfra.SubnetReq(name="sn-01", cidr="10.0.1.0/24")])

``Infra`` (and the store, locks and drivers behind it) is imported on first use, so
``import mcinfra`` stays fast and needs no cloud SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcinfra.core.batch_requests import (
    DeleteReq,
    KeyPairCreateReq,
    NLBCreateReq,
    SecurityGroupCreateReq,
    TerminateReq,
    VMControlReq,
    VMStartReq,
    VPCCreateReq,
)
from mcinfra.core.batch_results import (
    BatchError,
    BatchInterrupted,
    BatchItem,
    BatchResult,
    CancelToken,
    InvalidBatchRequest,
    ItemStatus,
)
from mcinfra.core.errors import (
    AlreadyExists,
    CloudError,
    DriverConflict,
    DriverNotInstalled,
    InUse,
    InvalidRequest,
    LockTimeout,
    McInfraError,
    NotFound,
    StoreError,
    Unsupported,
)
from mcinfra.core.models import (
    IID,
    CallRecord,
    DestroyReport,
    GpuInfo,
    HealthChecker,
    HealthInfo,
    ImageInfo,
    KeyPairInfo,
    ListAll,
    Listener,
    NLBInfo,
    PriceInfo,
    ReconcileReport,
    RegionZoneInfo,
    SecurityGroupInfo,
    SecurityRule,
    SpecInfo,
    SubnetInfo,
    SubnetReq,
    VMGroup,
    VMInfo,
    VMStatus,
    VPCInfo,
    ZoneInfo,
    ZoneStatus,
)

if TYPE_CHECKING:
    from mcinfra.core.cache import CachePolicy, CacheStats
    from mcinfra.core.connection import Connection
    from mcinfra.core.infra import Infra

__version__ = "0.1.0"

_LAZY = {"Infra": "mcinfra.core.infra", "Connection": "mcinfra.core.connection",
         "CachePolicy": "mcinfra.core.cache", "CacheStats": "mcinfra.core.cache",
         "BatchOp": "mcinfra.core.batch", "BatchPlan": "mcinfra.core.batch"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mcinfra' has no attribute {name!r}")


__all__ = [
    "IID",
    "AlreadyExists",
    "BatchError",
    "BatchInterrupted",
    "BatchItem",
    "BatchOp",
    "BatchPlan",
    "BatchResult",
    "CachePolicy",
    "CacheStats",
    "CallRecord",
    "CancelToken",
    "CloudError",
    "Connection",
    "DeleteReq",
    "DestroyReport",
    "DriverConflict",
    "DriverNotInstalled",
    "GpuInfo",
    "HealthChecker",
    "HealthInfo",
    "ImageInfo",
    "InUse",
    "Infra",
    "InvalidBatchRequest",
    "InvalidRequest",
    "ItemStatus",
    "KeyPairCreateReq",
    "KeyPairInfo",
    "ListAll",
    "Listener",
    "LockTimeout",
    "McInfraError",
    "NLBCreateReq",
    "NLBInfo",
    "NotFound",
    "PriceInfo",
    "ReconcileReport",
    "RegionZoneInfo",
    "SecurityGroupCreateReq",
    "SecurityGroupInfo",
    "SecurityRule",
    "SpecInfo",
    "StoreError",
    "SubnetInfo",
    "SubnetReq",
    "TerminateReq",
    "Unsupported",
    "VMControlReq",
    "VMGroup",
    "VMInfo",
    "VMStartReq",
    "VMStatus",
    "VPCCreateReq",
    "VPCInfo",
    "ZoneInfo",
    "ZoneStatus",
]
