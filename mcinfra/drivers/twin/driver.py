"""TwinDriver: a real local cloud on Linux network namespaces (see docs/twin.md).

Connection options: :class:`mcinfra.drivers.twin.options.TwinOptions`.
"""

from __future__ import annotations

from mcinfra.core.handlers import (
    Capabilities,
    CloudDriver,
    DriverSession,
    ImageHandler,
    KeyPairHandler,
    NameRules,
    NLBHandler,
    PriceHandler,
    RegionZoneHandler,
    SecurityGroupHandler,
    SessionInfo,
    SpecHandler,
    VMHandler,
    VPCHandler,
)
from mcinfra.drivers.twin.options import TwinOptions

DEFAULT_REGION = "twin-1"


class TwinSession(DriverSession):
    def __init__(self, info: SessionInfo, options: TwinOptions) -> None:
        super().__init__(info)
        from mcinfra.drivers.twin.state import Region

        self.options = options
        self.region = Region(info.region or DEFAULT_REGION, options.state_dir)
        self.zone = info.zone or f"{self.region.name}-a"

    def vpcs(self) -> VPCHandler:
        from mcinfra.drivers.twin.vpc import TwinVPCHandler

        return TwinVPCHandler(self.region, self.zone)

    def security_groups(self) -> SecurityGroupHandler:
        from mcinfra.drivers.twin.security_group import TwinSecurityGroupHandler

        return TwinSecurityGroupHandler(self.region)

    def keypairs(self) -> KeyPairHandler:
        from mcinfra.drivers.twin.keypair import TwinKeyPairHandler

        return TwinKeyPairHandler(self.region)

    def vms(self) -> VMHandler:
        from mcinfra.drivers.twin.vm import TwinVMHandler

        return TwinVMHandler(self.region, self.zone, self.options)

    def nlbs(self) -> NLBHandler:
        from mcinfra.drivers.twin.nlb import TwinNLBHandler

        return TwinNLBHandler(self.region)

    def region_zones(self) -> RegionZoneHandler:
        from mcinfra.drivers.twin.catalog import TwinRegionZoneHandler

        return TwinRegionZoneHandler(self.region.name)

    def images(self) -> ImageHandler:
        from mcinfra.drivers.twin.catalog import TwinImageHandler

        return TwinImageHandler()

    def specs(self) -> SpecHandler:
        from mcinfra.drivers.twin.catalog import TwinSpecHandler

        return TwinSpecHandler(self.region.name)

    def prices(self) -> PriceHandler:
        from mcinfra.drivers.twin.catalog import TwinPriceHandler

        return TwinPriceHandler(self.region.name)


class TwinDriver(CloudDriver):
    provider = "twin"
    extra = ""  # no pip extra: it needs root and Debian's iproute2, nftables, openssh-server

    def capabilities(self) -> Capabilities:
        # interface names (15 chars) carry only a prefix and an index, so names are free-form
        return Capabilities(kinds=Capabilities().kinds | {"price"},
                            name_rules=NameRules(max_length=63, lowercase=True),
                            nlb_scopes=frozenset({"REGION", "GLOBAL"}))

    def check_installed(self) -> str | None:
        from mcinfra.drivers.twin.netns import missing_tools

        missing = missing_tools()
        return f"the twin needs {', '.join(missing)}" if missing else None

    def connect(self, info: SessionInfo) -> TwinSession:
        self.require_installed()
        return TwinSession(info, TwinOptions.parse(self.provider, info.options))
