"""One Azure connection: the session and its handlers."""

from __future__ import annotations

from mcinfra.core.handlers import CloudConnection, ConnectionInfo
from mcinfra.drivers.azure.client import AzureClient
from mcinfra.drivers.azure.image import AzureImageHandler
from mcinfra.drivers.azure.keypair import AzureKeyPairHandler
from mcinfra.drivers.azure.nlb import AzureNLBHandler
from mcinfra.drivers.azure.options import AzureOptions
from mcinfra.drivers.azure.region_zone import AzureRegionZoneHandler
from mcinfra.drivers.azure.security_group import AzureSecurityGroupHandler
from mcinfra.drivers.azure.spec import AzureSpecHandler
from mcinfra.drivers.azure.vm import AzureVMHandler
from mcinfra.drivers.azure.vpc import AzureVPCHandler


class AzureConnection(CloudConnection):
    def __init__(self, info: ConnectionInfo) -> None:
        super().__init__(info)
        self.client = AzureClient(info, AzureOptions.parse(dict(info.options)))
        self._images = AzureImageHandler(self.client)
        self._vms = AzureVMHandler(self.client, self._images)

    def vpcs(self) -> AzureVPCHandler:
        return AzureVPCHandler(self.client)

    def security_groups(self) -> AzureSecurityGroupHandler:
        return AzureSecurityGroupHandler(self.client)

    def keypairs(self) -> AzureKeyPairHandler:
        return AzureKeyPairHandler(self.client)

    def vms(self) -> AzureVMHandler:
        return self._vms

    def nlbs(self) -> AzureNLBHandler:
        return AzureNLBHandler(self.client, self._vms)

    def region_zones(self) -> AzureRegionZoneHandler:
        return AzureRegionZoneHandler(self.client)

    def images(self) -> AzureImageHandler:
        return self._images

    def specs(self) -> AzureSpecHandler:
        return AzureSpecHandler(self.client)

    def close(self) -> None:
        self.client.close()
