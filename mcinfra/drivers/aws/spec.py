"""Instance types as VM specs."""

from __future__ import annotations

from typing import Any

from mcinfra.core.handlers import SpecHandler
from mcinfra.core.models import GpuInfo, SpecInfo
from mcinfra.drivers.aws.client import AwsClient


def spec_info(t: dict[str, Any], region: str) -> SpecInfo:
    proc = t.get("ProcessorInfo", {})
    archs = proc.get("SupportedArchitectures") or ["x86_64"]
    gpus = [
        GpuInfo(
            count=g.get("Count", 0),
            manufacturer=g.get("Manufacturer", ""),
            model=g.get("Name", ""),
            memory_gb=round(g.get("MemoryInfo", {}).get("SizeInMiB", 0) / 1024, 2) or None,
        )
        for g in t.get("GpuInfo", {}).get("Gpus", [])
    ]
    return SpecInfo(
        name=t["InstanceType"],
        region=region,
        vcpus=t.get("VCpuInfo", {}).get("DefaultVCpus", 0),
        clock_ghz=proc.get("SustainedClockSpeedInGhz"),
        memory_mib=t.get("MemoryInfo", {}).get("SizeInMiB", 0),
        disk_gb=t.get("InstanceStorageInfo", {}).get("TotalSizeInGB"),
        gpus=gpus,
        architecture="x86_32" if archs[0] == "i386" else archs[0],
        extra={
            "architectures": archs,
            "current_generation": t.get("CurrentGeneration"),
            "hibernation_supported": t.get("HibernationSupported"),
            "network_performance": t.get("NetworkInfo", {}).get("NetworkPerformance"),
        },
    )


class AwsSpecHandler(SpecHandler):
    def __init__(self, client: AwsClient) -> None:
        self.api = client

    def list(self) -> list[SpecInfo]:
        return [
            spec_info(t, self.api.region)
            for t in self.api.pages(
                "ec2", "describe_instance_types", "InstanceTypes", what="instance types", MaxResults=100
            )
        ]

    def get(self, name: str) -> SpecInfo:
        # An unknown type is a validation error at AWS, not a NotFound code.
        found = self.api.describe("ec2", "describe_instance_types", "InstanceTypes", what=f"spec {name!r}",
                                not_found_codes=("InvalidInstanceType", "InvalidParameterValue"), InstanceTypes=[name])
        return spec_info(found, self.api.region)
