"""VM specs = the VM sizes offered in the connection's location (``virtual_machine_sizes.list``)."""

from __future__ import annotations

import re
from typing import Any

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import SpecHandler
from mcinfra.core.models import SpecInfo
from mcinfra.drivers.azure.client import AzureClient

#: Ampere (arm64) sizes carry a 'p' among the letters after the vCPU count: Standard_D2ps_v5, Standard_E4pds_v5
ARM_SIZE = re.compile(r"^Standard_[A-Z]+\d+[a-z]*p[a-z]*_", re.IGNORECASE)


def spec_info(size: Any, region: str) -> SpecInfo:
    return SpecInfo(name=size.name, region=region, vcpus=size.number_of_cores, memory_mib=size.memory_in_mb,
                    disk_gb=(size.resource_disk_size_in_mb or 0) // 1024 or None,
                    architecture="arm64" if ARM_SIZE.match(size.name) else "x86_64",
                    extra={"max_data_disk_count": size.max_data_disk_count,
                           "os_disk_size_mb": size.os_disk_size_in_mb})


class AzureSpecHandler(SpecHandler):
    def __init__(self, api: AzureClient) -> None:
        self.api = api

    def list(self) -> list[SpecInfo]:
        sizes = self.api.call("compute", "virtual_machine_sizes.list", self.api.location, idempotent=True)
        return [spec_info(s, self.api.location) for s in sizes]

    def get(self, name: str) -> SpecInfo:
        for spec in self.list():
            if spec.name.lower() == name.lower():
                return spec
        raise NotFound(f"VM size {name!r} is not offered in {self.api.location}")
