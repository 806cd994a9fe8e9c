"""VM specs = CVM instance types of the connection's region: CPU/memory/GPU from
DescribeInstanceTypeConfigs, price and sale status from DescribeZoneInstanceConfigInfos
(pay-as-you-go). A type is listed once, with the zones that sell it."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import SpecHandler
from mcinfra.core.models import GpuInfo, SpecInfo
from mcinfra.drivers.tencent.client import TencentClient


def spec_info(t: Any, region: str, zones: list[str], price: float | None, gpu_type: str = "") -> SpecInfo:
    gpus = [GpuInfo(count=int(t.GPU or t.GpuCount or 0), model=gpu_type)] if (t.GPU or t.GpuCount) else []
    return SpecInfo(
        name=t.InstanceType,
        region=region,
        vcpus=int(t.CPU),
        memory_mib=int(t.Memory) * 1024,
        gpus=gpus,
        price_per_hour=price,
        extra={"family": t.InstanceFamily, "zones": zones},
    )


class TencentSpecHandler(SpecHandler):
    def __init__(self, api: TencentClient) -> None:
        self.api = api

    def _specs(self, name: str | None = None) -> list[SpecInfo]:
        api = self.api
        params = {"Filters": [{"Name": "instance-type", "Values": [name]}]} if name else {}
        configs = api.call("cvm", "DescribeInstanceTypeConfigs", params, idempotent=True).InstanceTypeConfigSet or []
        charge = {"Name": "instance-charge-type", "Values": [api.options.instance_charge_type]}
        quota_params = {"Filters": [charge, *params.get("Filters", [])]}
        quota = api.call("cvm", "DescribeZoneInstanceConfigInfos", quota_params,
                       idempotent=True).InstanceTypeQuotaSet or []
        price = {q.InstanceType: q.Price.UnitPrice for q in quota if q.Price and q.Price.UnitPrice is not None}
        zones: dict[str, list[str]] = {}
        first: dict[str, Any] = {}
        for t in configs:
            zones.setdefault(t.InstanceType, []).append(t.Zone)
            first.setdefault(t.InstanceType, t)
        return [spec_info(t, api.region, sorted(zones[n]), price.get(n), t.GpuType or "") for n, t in first.items()]

    def list(self) -> list[SpecInfo]:
        return self._specs()

    def get(self, name: str) -> SpecInfo:
        for spec in self._specs(name):
            if spec.name == name:
                return spec
        raise NotFound(f"[tencent] instance type {name!r} not found in region {self.api.region}")
