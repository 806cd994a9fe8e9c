"""The Tencent Cloud driver class. The SDK is imported only by :meth:`TencentDriver.connect`."""

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

#: the split SDK packages the "tencent" extra installs (never the 400 MB monolith)
SDK_MODULES = ("tencentcloud.common", "tencentcloud.cvm.v20170312", "tencentcloud.vpc.v20170312",
               "tencentcloud.clb.v20180317")
#: Tencent's name rules: VPC/subnet/SG/CLB names 1-60 characters, key pair names 1-25 letters,
#: digits and '_' (so '_' joins words and the suffix), instance names up to 128 (60 kept)
NAME_RULES = NameRules(max_length=60, max_length_by_kind={"keypair": 25}, lowercase=False, separator="_")


class TencentDriver(CloudDriver):
    provider = "tencent"
    extra = "tencent"
    requires = SDK_MODULES

    def capabilities(self) -> Capabilities:
        return Capabilities(zone_based=True, vpc_cidr=True, keypair_objects=True, name_rules=NAME_RULES)

    def connect(self, info: SessionInfo) -> DriverSession:
        from mcinfra.drivers.tencent.options import TencentOptions

        options = TencentOptions.parse(self.provider, info.options)  # bad options fail before the SDK loads
        self.require_installed()
        from mcinfra.drivers.tencent.client import TencentClient

        return TencentSession(info, TencentClient(info, options))


class TencentSession(ClientSession):
    """One connection's handlers, sharing one :class:`TencentClient` (its SDK clients and retry policy)."""

    HANDLERS: ClassVar[Mapping[str, str]] = {
        "vpcs": "mcinfra.drivers.tencent.vpc:TencentVPCHandler",
        "security_groups": "mcinfra.drivers.tencent.security_group:TencentSecurityGroupHandler",
        "keypairs": "mcinfra.drivers.tencent.keypair:TencentKeyPairHandler",
        "vms": "mcinfra.drivers.tencent.vm:TencentVMHandler",
        "nlbs": "mcinfra.drivers.tencent.nlb:TencentNLBHandler",
        "region_zones": "mcinfra.drivers.tencent.region_zone:TencentRegionZoneHandler",
        "images": "mcinfra.drivers.tencent.image:TencentImageHandler",
        "specs": "mcinfra.drivers.tencent.spec:TencentSpecHandler",
    }
