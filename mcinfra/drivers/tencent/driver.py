"""The Tencent Cloud driver class. The SDK is imported only by :meth:`TencentDriver.connect`."""

from __future__ import annotations

import importlib.util
from pathlib import Path
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
    from mcinfra.drivers.tencent.client import TencentClient

#: the split SDK packages the "tencent" extra installs (never the 400 MB monolith)
SDK_MODULES = ("tencentcloud.common", "tencentcloud.cvm.v20170312", "tencentcloud.vpc.v20170312",
               "tencentcloud.clb.v20180317")
#: Tencent's name rules: VPC/subnet/SG/CLB names 1-60 characters, key pair names 1-25 letters,
#: digits and '_' (so '_' joins words and the suffix), instance names up to 128 (60 kept)
NAME_RULES = NameRules(max_length=60, max_length_by_kind={"keypair": 25}, lowercase=False, separator="_")


class TencentDriver(CloudDriver):
    provider = "tencent"
    extra = "tencent"

    def capabilities(self) -> Capabilities:
        return Capabilities(zone_based=True, vpc_cidr=True, keypair_objects=True, name_rules=NAME_RULES)

    def check_installed(self) -> str | None:
        # look for the packages' folders: find_spec of a submodule would import its parents
        spec = importlib.util.find_spec("tencentcloud")
        roots = [Path(p) for p in (spec.submodule_search_locations or [])] if spec else []
        for module in SDK_MODULES:
            relative = Path(*module.split(".")[1:]) / "__init__.py"
            if not any((root / relative).is_file() for root in roots):
                return f"{module} is not installed"
        return None

    def connect(self, info: SessionInfo) -> DriverSession:
        from mcinfra.core.errors import DriverNotInstalled
        from mcinfra.drivers.tencent.options import TencentOptions

        options = TencentOptions.parse(self.provider, info.options)  # bad options fail before the SDK loads
        missing = self.check_installed()
        if missing:
            raise DriverNotInstalled(self.provider, self.extra, missing)
        from mcinfra.drivers.tencent.client import TencentClient

        return TencentSession(info, TencentClient(info, options))


class TencentSession(DriverSession):
    """One connection's handlers, sharing one :class:`TencentClient` (its SDK clients and retry policy)."""

    def __init__(self, info: SessionInfo, client: TencentClient) -> None:
        super().__init__(info)
        self.client = client

    def vpcs(self) -> VPCHandler:
        from mcinfra.drivers.tencent.vpc import TencentVPCHandler

        return TencentVPCHandler(self.client)

    def security_groups(self) -> SecurityGroupHandler:
        from mcinfra.drivers.tencent.security_group import TencentSecurityGroupHandler

        return TencentSecurityGroupHandler(self.client)

    def keypairs(self) -> KeyPairHandler:
        from mcinfra.drivers.tencent.keypair import TencentKeyPairHandler

        return TencentKeyPairHandler(self.client)

    def vms(self) -> VMHandler:
        from mcinfra.drivers.tencent.vm import TencentVMHandler

        return TencentVMHandler(self.client)

    def nlbs(self) -> NLBHandler:
        from mcinfra.drivers.tencent.nlb import TencentNLBHandler

        return TencentNLBHandler(self.client)

    def region_zones(self) -> RegionZoneHandler:
        from mcinfra.drivers.tencent.region_zone import TencentRegionZoneHandler

        return TencentRegionZoneHandler(self.client)

    def images(self) -> ImageHandler:
        from mcinfra.drivers.tencent.image import TencentImageHandler

        return TencentImageHandler(self.client)

    def specs(self) -> SpecHandler:
        from mcinfra.drivers.tencent.spec import TencentSpecHandler

        return TencentSpecHandler(self.client)

    def close(self) -> None:
        self.client.close()
