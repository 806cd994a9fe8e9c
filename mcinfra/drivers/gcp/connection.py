"""One GCP connection: the session and its handlers (made on first use)."""

from __future__ import annotations

from mcinfra.core.handlers import DriverSession, SessionInfo
from mcinfra.drivers.gcp.client import GcpClient
from mcinfra.drivers.gcp.image import GcpImageHandler
from mcinfra.drivers.gcp.keypair import GcpKeyPairHandler
from mcinfra.drivers.gcp.nlb import GcpNLBHandler
from mcinfra.drivers.gcp.region_zone import GcpRegionZoneHandler
from mcinfra.drivers.gcp.security_group import GcpSecurityGroupHandler
from mcinfra.drivers.gcp.spec import GcpSpecHandler
from mcinfra.drivers.gcp.vm import GcpVMHandler
from mcinfra.drivers.gcp.vpc import GcpVPCHandler


class GcpSession(DriverSession):
    def __init__(self, info: SessionInfo) -> None:
        super().__init__(info)
        self.client = GcpClient(info)
        self._keypairs = GcpKeyPairHandler(str(info.options.get("key_type", "ed25519")))
        self._images = GcpImageHandler(self.client)
        self._vms = GcpVMHandler(self.client, self._images)

    def vpcs(self) -> GcpVPCHandler:
        return GcpVPCHandler(self.client)

    def security_groups(self) -> GcpSecurityGroupHandler:
        return GcpSecurityGroupHandler(self.client)

    def keypairs(self) -> GcpKeyPairHandler:
        return self._keypairs

    def vms(self) -> GcpVMHandler:
        return self._vms

    def nlbs(self) -> GcpNLBHandler:
        return GcpNLBHandler(self.client, self._vms)

    def region_zones(self) -> GcpRegionZoneHandler:
        return GcpRegionZoneHandler(self.client)

    def images(self) -> GcpImageHandler:
        return self._images

    def specs(self) -> GcpSpecHandler:
        return GcpSpecHandler(self.client)

    def close(self) -> None:
        self.client.close()
