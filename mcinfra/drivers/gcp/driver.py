"""The GCP driver plugin and its session. google.cloud.compute_v1 takes ~2 s to import, so it is
imported only by :meth:`GcpDriver.connect` (through the client), never here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from mcinfra.core.handlers import (
    Capabilities,
    CloudDriver,
    DriverSession,
    KeyPairHandler,
    NameRules,
    NLBHandler,
    SessionInfo,
)
from mcinfra.drivers.kit import ClientSession

if TYPE_CHECKING:
    from mcinfra.drivers.gcp.client import GcpClient
    from mcinfra.drivers.gcp.image import GcpImageHandler
    from mcinfra.drivers.gcp.options import GcpOptions
    from mcinfra.drivers.gcp.vm import GcpVMHandler


class GcpSession(ClientSession):
    """One GCP connection: its client and its handlers (images and VMs kept: they cache zones)."""

    HANDLERS: ClassVar[Mapping[str, str]] = {
        "vpcs": "mcinfra.drivers.gcp.vpc:GcpVPCHandler",
        "security_groups": "mcinfra.drivers.gcp.security_group:GcpSecurityGroupHandler",
        "region_zones": "mcinfra.drivers.gcp.region_zone:GcpRegionZoneHandler",
        "specs": "mcinfra.drivers.gcp.spec:GcpSpecHandler",
    }

    def __init__(self, info: SessionInfo, options: GcpOptions, client: GcpClient) -> None:
        super().__init__(info, client)
        from mcinfra.drivers.gcp.image import GcpImageHandler
        from mcinfra.drivers.gcp.vm import GcpVMHandler

        self.options = options
        self._images = GcpImageHandler(client)
        self._vms = GcpVMHandler(client, self._images)

    def keypairs(self) -> KeyPairHandler:
        from mcinfra.drivers.gcp.keypair import GcpKeyPairHandler

        return GcpKeyPairHandler(self.options.key_type)

    def vms(self) -> GcpVMHandler:
        return self._vms

    def nlbs(self) -> NLBHandler:
        from mcinfra.drivers.gcp.nlb import GcpNLBHandler

        return GcpNLBHandler(self.client, self._vms)

    def images(self) -> GcpImageHandler:
        return self._images


class GcpDriver(CloudDriver):
    provider = "gcp"
    extra = "gcp"
    requires = ("google.cloud.compute_v1", "google.oauth2.service_account")

    def capabilities(self) -> Capabilities:
        return Capabilities(
            zone_based=True,
            vpc_cidr=True,
            keypair_objects=False,
            name_rules=NameRules(max_length=63, lowercase=True, separator="-"),
        )

    def connect(self, info: SessionInfo) -> DriverSession:

        self.require_installed()
        from mcinfra.drivers.gcp.options import GcpOptions

        options = GcpOptions.parse(self.provider, info.options)  # bad options fail before the SDK loads
        from mcinfra.drivers.gcp.client import GcpClient

        return GcpSession(info, options, GcpClient(info, options))
