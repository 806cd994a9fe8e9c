"""The Alibaba Cloud driver plugin. The alibabacloud-* SDKs are imported only when a
connection is made (``AlibabaDriver.connect``), never by ``import mcinfra``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from mcinfra.core.handlers import (
    Capabilities,
    CloudDriver,
    DriverSession,
    NameRules,
    SessionInfo,
)
from mcinfra.drivers.kit import ClientSession

#: the SDK modules the driver needs (all from the 'alibaba' extra)
SDK_MODULES = (
    "alibabacloud_tea_openapi",
    "alibabacloud_ecs20140526",
    "alibabacloud_vpc20160428",
    "alibabacloud_nlb20220430",
)


class AlibabaSession(ClientSession):
    HANDLERS: ClassVar[Mapping[str, str]] = {
        "vpcs": "mcinfra.drivers.alibaba.vpc:AliVPCHandler",
        "security_groups": "mcinfra.drivers.alibaba.security_group:AliSecurityGroupHandler",
        "keypairs": "mcinfra.drivers.alibaba.keypair:AliKeyPairHandler",
        "vms": "mcinfra.drivers.alibaba.vm:AliVMHandler",
        "nlbs": "mcinfra.drivers.alibaba.nlb:AliNLBHandler",
        "region_zones": "mcinfra.drivers.alibaba.region_zone:AliRegionZoneHandler",
        "images": "mcinfra.drivers.alibaba.image:AliImageHandler",
        "specs": "mcinfra.drivers.alibaba.spec:AliSpecHandler",
    }


class AlibabaDriver(CloudDriver):
    provider = "alibaba"
    extra = "alibaba"
    requires = SDK_MODULES

    def capabilities(self) -> Capabilities:
        # ECS/VPC/NLB names: 2-128 characters, starting with a letter; letters, digits, '.', '_',
        # '-' (':' for some kinds). The core's "<name>-<suffix>" in lower case fits every kind.
        return Capabilities(
            zone_based=True,
            vpc_cidr=True,
            keypair_objects=True,
            name_rules=NameRules(max_length=128, lowercase=True, separator="-"),
        )

    def connect(self, info: SessionInfo) -> DriverSession:
        from mcinfra.drivers.alibaba.options import AlibabaOptions

        options = AlibabaOptions.parse(self.provider, info.options)  # bad options fail before any SDK import
        self.require_installed()
        from mcinfra.drivers.alibaba.client import AliClient

        return AlibabaSession(info, AliClient(info, options))
