"""Machine types of the connection's zone -> SpecInfo."""

from __future__ import annotations

from typing import Any

from mcinfra.core.handlers import SpecHandler
from mcinfra.core.models import GpuInfo, SpecInfo
from mcinfra.drivers.gcp.client import GcpClient, last


def _gpu(accel: Any) -> GpuInfo:
    model = accel.guest_accelerator_type
    return GpuInfo(count=accel.guest_accelerator_count, manufacturer="NVIDIA" if "nvidia" in model else "", model=model)


class GcpSpecHandler(SpecHandler):
    def __init__(self, api: GcpClient) -> None:
        self.api = api

    def _info(self, mt: Any) -> SpecInfo:
        arch = (mt.architecture or "").lower()
        return SpecInfo(
            name=mt.name,
            region=self.api.region,
            vcpus=mt.guest_cpus,
            memory_mib=mt.memory_mb,
            disk_gb=None,
            gpus=[_gpu(a) for a in mt.accelerators],
            architecture="arm64" if arch == "arm64" else "x86_64",
            extra={"zone": last(mt.zone), "shared_cpu": mt.is_shared_cpu, "description": mt.description},
        )

    def list(self) -> list[SpecInfo]:
        api = self.api
        return [
            self._info(mt)
            for mt in api.call("MachineTypesClient", "list", idempotent=True, project=api.project, zone=api.zone)
        ]

    def get(self, name: str) -> SpecInfo:
        api = self.api
        return self._info(
            api.call(
                "MachineTypesClient",
                "get",
                idempotent=True,
                project=api.project,
                zone=api.zone,
                machine_type=name,
            )
        )
