"""Instance types: ECS ``DescribeInstanceTypes`` (paged by NextToken/MaxResults)."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import InvalidRequest
from mcinfra.core.handlers import SpecHandler
from mcinfra.core.models import SpecInfo
from mcinfra.drivers.alibaba.client import PROVIDER, AliClient
from mcinfra.drivers.kit import describe_one


def spec_info(t: Any) -> SpecInfo:
    return SpecInfo(
        name=t.instance_type_id,
        vcpus=t.cpu_core_count or 0,
        memory_mib=round((t.memory_size or 0) * 1024),
        extra={"family": t.instance_type_family, "architecture": t.cpu_architecture, "gpus": t.gpuamount or 0},
    )


class AliSpecHandler(SpecHandler):
    def __init__(self, client: AliClient) -> None:
        self.c = client

    def list(self) -> list[SpecInfo]:
        return [
            spec_info(t)
            for t in self.c.token_pages("ecs", "DescribeInstanceTypes", lambda b: b.instance_types.instance_type)
        ]

    def get(self, name: str) -> SpecInfo:
        if not name or not name.strip():
            raise InvalidRequest("spec name must not be empty", field="name")
        found = self.c.token_pages(
            "ecs", "DescribeInstanceTypes", lambda b: b.instance_types.instance_type, instance_types=[name]
        )
        return spec_info(describe_one((t for t in found if t.instance_type_id == name), f"[{PROVIDER}] spec {name!r}"))
