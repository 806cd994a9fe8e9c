"""The OpenStack driver plugin. openstacksdk is imported only when a connection is made."""

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
    from mcinfra.drivers.openstack.client import OpenStackClient


class OpenStackSession(DriverSession):
    def __init__(self, info: SessionInfo, client: OpenStackClient) -> None:
        super().__init__(info)
        self.client = client

    def vpcs(self) -> VPCHandler:
        from mcinfra.drivers.openstack.vpc import OpenStackVPCHandler

        return OpenStackVPCHandler(self.client)

    def security_groups(self) -> SecurityGroupHandler:
        from mcinfra.drivers.openstack.security_group import OpenStackSecurityGroupHandler

        return OpenStackSecurityGroupHandler(self.client)

    def keypairs(self) -> KeyPairHandler:
        from mcinfra.drivers.openstack.keypair import OpenStackKeyPairHandler

        return OpenStackKeyPairHandler(self.client)

    def vms(self) -> VMHandler:
        from mcinfra.drivers.openstack.vm import OpenStackVMHandler

        return OpenStackVMHandler(self.client)

    def nlbs(self) -> NLBHandler:
        from mcinfra.drivers.openstack.nlb import OpenStackNLBHandler

        return OpenStackNLBHandler(self.client)

    def region_zones(self) -> RegionZoneHandler:
        from mcinfra.drivers.openstack.region_zone import OpenStackRegionZoneHandler

        return OpenStackRegionZoneHandler(self.client)

    def images(self) -> ImageHandler:
        from mcinfra.drivers.openstack.image import OpenStackImageHandler

        return OpenStackImageHandler(self.client)

    def specs(self) -> SpecHandler:
        from mcinfra.drivers.openstack.spec import OpenStackSpecHandler

        return OpenStackSpecHandler(self.client)

    def close(self) -> None:
        self.client.close()


class OpenStackDriver(CloudDriver):
    provider = "openstack"
    extra = "openstack"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            zone_based=True,
            vpc_cidr=True,
            keypair_objects=True,
            # Nova derives the VM's hostname from its name (63 characters of [a-z0-9-]); Neutron,
            # Octavia and Nova key pairs take 255, key pairs only [a-zA-Z0-9 _-]
            name_rules=NameRules(max_length=63, max_length_by_kind={"keypair": 255}, lowercase=True, separator="-"),
        )

    def check_installed(self) -> str | None:
        if importlib.util.find_spec("openstack") is None:
            return "the openstacksdk package is not installed"
        return None

    def connect(self, info: SessionInfo) -> DriverSession:
        from mcinfra.core.errors import DriverNotInstalled
        from mcinfra.drivers.openstack.options import OpenStackOptions

        options = OpenStackOptions.parse(self.provider, info.options)
        missing = self.check_installed()
        if missing:
            raise DriverNotInstalled(self.provider, self.extra, missing)
        from mcinfra.drivers.openstack.client import OpenStackClient

        return OpenStackSession(info, OpenStackClient(info, options))
