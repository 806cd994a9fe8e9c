"""VM specs = Nova flavors (by name or id)."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import SpecHandler
from mcinfra.core.models import SpecInfo
from mcinfra.drivers.openstack.client import OpenStackClient


def spec_info(flavor: Any, region: str) -> SpecInfo:
    return SpecInfo(
        name=flavor.name,
        region=region,
        vcpus=flavor.vcpus,
        memory_mib=flavor.ram,
        disk_gb=flavor.disk,
        extra={
            "id": flavor.id,
            "is_public": flavor.is_public,
            "ephemeral_gb": flavor.ephemeral,
            "swap_mb": flavor.swap or 0,
        },
    )


class OpenStackSpecHandler(SpecHandler):
    def __init__(self, client: OpenStackClient) -> None:
        self.client = client

    def flavors(self) -> list[Any]:
        return self.client.list("flavors", self.client.compute.flavors)

    def list(self) -> list[SpecInfo]:
        return [spec_info(f, self.client.region) for f in self.flavors()]

    def find(self, name: str) -> Any:
        for f in self.flavors():
            if name in (f.name, f.id):
                return f
        raise NotFound(f"[openstack] flavor {name!r} not found")

    def get(self, name: str) -> SpecInfo:
        return spec_info(self.find(name), self.client.region)
