"""The Alibaba Cloud driver plugin. The alibabacloud-* SDKs are imported only when a
connection is made (``AlibabaDriver.connect``), never by ``import mcinfra``."""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING

from mcinfra.core.handlers import (
    Capabilities,
    CloudDriver,
    DriverSession,
    ImageHandler,
    KeyPairHandler,
    NameRules,
    NLBHandler,
    RegionZoneHandler,
    SecurityGroupHandler,
    SessionInfo,
    SpecHandler,
    VMHandler,
    VPCHandler,
)

if TYPE_CHECKING:
    from mcinfra.drivers.alibaba.client import AliClient

#: the SDK modules the driver needs (all from the 'alibaba' extra)
SDK_MODULES = (
    "alibabacloud_tea_openapi",
    "alibabacloud_ecs20140526",
    "alibabacloud_vpc20160428",
    "alibabacloud_nlb20220430",
)


class AlibabaSession(DriverSession):
    def __init__(self, info: SessionInfo, client: AliClient) -> None:
        super().__init__(info)
        self.client = client

    def vpcs(self) -> VPCHandler:
        from mcinfra.drivers.alibaba.vpc import AliVPCHandler

        return AliVPCHandler(self.client)

    def security_groups(self) -> SecurityGroupHandler:
        from mcinfra.drivers.alibaba.security_group import AliSecurityGroupHandler

        return AliSecurityGroupHandler(self.client)

    def keypairs(self) -> KeyPairHandler:
        from mcinfra.drivers.alibaba.keypair import AliKeyPairHandler

        return AliKeyPairHandler(self.client)

    def vms(self) -> VMHandler:
        from mcinfra.drivers.alibaba.vm import AliVMHandler

        return AliVMHandler(self.client)

    def nlbs(self) -> NLBHandler:
        from mcinfra.drivers.alibaba.nlb import AliNLBHandler

        return AliNLBHandler(self.client)

    def region_zones(self) -> RegionZoneHandler:
        from mcinfra.drivers.alibaba.region_zone import AliRegionZoneHandler

        return AliRegionZoneHandler(self.client)

    def images(self) -> ImageHandler:
        from mcinfra.drivers.alibaba.image import AliImageHandler

        return AliImageHandler(self.client)

    def specs(self) -> SpecHandler:
        from mcinfra.drivers.alibaba.spec import AliSpecHandler

        return AliSpecHandler(self.client)

    def close(self) -> None:
        self.client.close()


class AlibabaDriver(CloudDriver):
    provider = "alibaba"
    extra = "alibaba"

    def capabilities(self) -> Capabilities:
        # ECS/VPC/NLB names: 2-128 characters, starting with a letter; letters, digits, '.', '_',
        # '-' (':' for some kinds). The core's "<name>-<suffix>" in lower case fits every kind.
        return Capabilities(
            zone_based=True,
            vpc_cidr=True,
            keypair_objects=True,
            name_rules=NameRules(max_length=128, lowercase=True, separator="-"),
        )

    def check_installed(self) -> str | None:
        for module in SDK_MODULES:
            try:
                if importlib.util.find_spec(module) is None:
                    return f"{module} is not installed"
            except ModuleNotFoundError:
                return f"{module} is not installed"
        return None

    def connect(self, info: SessionInfo) -> DriverSession:
        from mcinfra.core.errors import DriverNotInstalled
        from mcinfra.drivers.alibaba.options import AlibabaOptions

        options = AlibabaOptions.parse(self.provider, info.options)  # bad options fail before any SDK import
        missing = self.check_installed()
        if missing:
            raise DriverNotInstalled(self.provider, self.extra, missing)
        from mcinfra.drivers.alibaba.client import AliClient

        return AlibabaSession(info, AliClient(info, options))
