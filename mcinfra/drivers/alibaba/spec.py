"""Instance types: ECS ``DescribeInstanceTypes`` (paged by NextToken/MaxResults), with the zones
of the connection's region that have each in stock (``DescribeAvailableResource``) in
``extra["zones"]``."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InvalidRequest
from mcinfra.core.handlers import SpecHandler
from mcinfra.core.models import SpecInfo
from mcinfra.drivers.alibaba.client import PROVIDER, AliClient
from mcinfra.drivers.kit import describe_one


def spec_info(t: Any, zones: list[str] | None = None) -> SpecInfo:
    return SpecInfo(
        name=t.instance_type_id,
        vcpus=t.cpu_core_count or 0,
        memory_mib=round((t.memory_size or 0) * 1024),
        extra={
            "family": t.instance_type_family,
            "architecture": t.cpu_architecture,
            "gpus": t.gpuamount or 0,
            "zones": zones or [],
        },
    )


def zones_with_stock(body: Any) -> dict[str, list[str]]:
    """instance type -> zones where ``DescribeAvailableResource`` says it is Available."""
    out: dict[str, list[str]] = {}
    for zone in (body.available_zones.available_zone or []) if body.available_zones else []:
        for resource in (zone.available_resources.available_resource or []) if zone.available_resources else []:
            for supported in (
                (resource.supported_resources.supported_resource or []) if resource.supported_resources else []
            ):
                if supported.status == "Available":
                    out.setdefault(supported.value, []).append(zone.zone_id)
    return out


class AliSpecHandler(SpecHandler):
    def __init__(self, api: AliClient) -> None:
        self.api = api

    def _stock(self, instance_type: str | None = None) -> dict[str, list[str]]:
        fields: dict[str, Any] = {
            "region_id": self.api.region,
            "destination_resource": "InstanceType",
            "instance_charge_type": "PostPaid",
        }
        if instance_type:
            fields["instance_type"] = instance_type
        return zones_with_stock(self.api.read("ecs", "DescribeAvailableResource", **fields))

    def list(self) -> list[SpecInfo]:
        stock = self._stock()
        return [
            spec_info(t, stock.get(t.instance_type_id))
            for t in self.api.token_pages("ecs", "DescribeInstanceTypes", lambda b: b.instance_types.instance_type)
        ]

    def get(self, name: str) -> SpecInfo:
        if not name or not name.strip():
            raise InvalidRequest("spec name must not be empty", field="name")
        found = self.api.token_pages(
            "ecs", "DescribeInstanceTypes", lambda b: b.instance_types.instance_type, instance_types=[name]
        )
        spec = describe_one((t for t in found if t.instance_type_id == name), f"[{PROVIDER}] spec {name!r}")
        return spec_info(spec, self._stock(name).get(name))
