"""The OpenStack driver plugin. openstacksdk is imported only when a connection is made."""

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


class OpenStackSession(ClientSession):
    HANDLERS: ClassVar[Mapping[str, str]] = {
        "vpcs": "mcinfra.drivers.openstack.vpc:OpenStackVPCHandler",
        "security_groups": "mcinfra.drivers.openstack.security_group:OpenStackSecurityGroupHandler",
        "keypairs": "mcinfra.drivers.openstack.keypair:OpenStackKeyPairHandler",
        "vms": "mcinfra.drivers.openstack.vm:OpenStackVMHandler",
        "nlbs": "mcinfra.drivers.openstack.nlb:OpenStackNLBHandler",
        "region_zones": "mcinfra.drivers.openstack.region_zone:OpenStackRegionZoneHandler",
        "images": "mcinfra.drivers.openstack.image:OpenStackImageHandler",
        "specs": "mcinfra.drivers.openstack.spec:OpenStackSpecHandler",
    }


class OpenStackDriver(CloudDriver):
    provider = "openstack"
    extra = "openstack"
    requires = ("openstack",)

    def capabilities(self) -> Capabilities:
        return Capabilities(
            zone_based=True,
            vpc_cidr=True,
            keypair_objects=True,
            # Nova derives the VM's hostname from its name (63 characters of [a-z0-9-]); Neutron,
            # Octavia and Nova key pairs take 255, key pairs only [a-zA-Z0-9 _-]
            name_rules=NameRules(max_length=63, max_length_by_kind={"keypair": 255}, lowercase=True, separator="-"),
        )

    def connect(self, info: SessionInfo) -> DriverSession:
        from mcinfra.drivers.openstack.options import OpenStackOptions

        options = OpenStackOptions.parse(self.provider, info.options)
        self.require_installed()
        from mcinfra.drivers.openstack.client import OpenStackClient

        return OpenStackSession(info, OpenStackClient(info, options))
