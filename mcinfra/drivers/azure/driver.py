"""The Azure driver and its session. The azure-mgmt SDKs are imported only by :meth:`AzureDriver.connect`
(through the handler modules), never when this module is imported."""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from typing import TYPE_CHECKING, ClassVar

from mcinfra.core.handlers import (
    Capabilities,
    CloudDriver,
    DriverSession,
    ImageHandler,
    NameRules,
    NLBHandler,
    SessionInfo,
    VMHandler,
)
from mcinfra.drivers.kit import ClientSession

if TYPE_CHECKING:
    from mcinfra.drivers.azure.client import AzureClient

#: the azure extra's distributions; looked up by metadata, which imports none of them
DISTRIBUTIONS = ("azure-mgmt-compute", "azure-mgmt-network", "azure-mgmt-resource",
                 "azure-mgmt-resource-subscriptions", "azure-identity")


class AzureDriver(CloudDriver):
    provider = "azure"
    extra = "azure"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            zone_based=False,  # VNets and subnets are regional; a VM may pick zone 1, 2 or 3
            vpc_cidr=True,
            keypair_objects=True,
            # 64 for VNets and Linux VMs; a VM's and an NLB's parts add up to 7 characters ("-osdisk")
            name_rules=NameRules(max_length=64, max_length_by_kind={"vm": 57, "nlb": 57}, lowercase=True,
                                 separator="-"),
        )

    def check_installed(self) -> str | None:
        for dist in DISTRIBUTIONS:
            try:
                importlib.metadata.distribution(dist)
            except importlib.metadata.PackageNotFoundError:
                return f"{dist} is not installed"
        return None

    def connect(self, info: SessionInfo) -> DriverSession:
        from mcinfra.drivers.azure.options import AzureOptions

        options = AzureOptions.parse(self.provider, info.options)  # bad options fail before any SDK work
        self.require_installed()
        from mcinfra.drivers.azure.client import AzureClient

        return AzureSession(info, AzureClient(info, options))


class AzureSession(ClientSession):
    """One Azure connection; images and VMs are kept per session (the VM handler resolves images
    through the same handler, and the NLB handler through the VM handler)."""

    HANDLERS: ClassVar[Mapping[str, str]] = {
        "vpcs": "mcinfra.drivers.azure.vpc:AzureVPCHandler",
        "security_groups": "mcinfra.drivers.azure.security_group:AzureSecurityGroupHandler",
        "keypairs": "mcinfra.drivers.azure.keypair:AzureKeyPairHandler",
        "region_zones": "mcinfra.drivers.azure.region_zone:AzureRegionZoneHandler",
        "specs": "mcinfra.drivers.azure.spec:AzureSpecHandler",
    }

    def __init__(self, info: SessionInfo, client: AzureClient) -> None:
        super().__init__(info, client)
        from mcinfra.drivers.azure.image import AzureImageHandler
        from mcinfra.drivers.azure.vm import AzureVMHandler

        self._images = AzureImageHandler(client)
        self._vms = AzureVMHandler(client, self._images)

    def vms(self) -> VMHandler:
        return self._vms

    def nlbs(self) -> NLBHandler:
        from mcinfra.drivers.azure.nlb import AzureNLBHandler

        return AzureNLBHandler(self.client, self._vms)

    def images(self) -> ImageHandler:
        return self._images

