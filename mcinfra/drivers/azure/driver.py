"""The Azure driver class. The azure-mgmt SDKs are imported only by :meth:`AzureDriver.connect`."""

from __future__ import annotations

import importlib.util

from mcinfra.core.handlers import Capabilities, CloudConnection, CloudDriver, ConnectionInfo, NameRules

MODULES = ("azure.mgmt.compute", "azure.mgmt.network", "azure.mgmt.resource.resources",
           "azure.mgmt.resource.subscriptions", "azure.identity")


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
        for module in MODULES:
            try:
                if importlib.util.find_spec(module) is None:
                    return f"{module} is not installed"
            except ModuleNotFoundError:
                return f"{module} is not installed"
        return None

    def connect(self, info: ConnectionInfo) -> CloudConnection:
        from mcinfra.core.errors import DriverNotInstalled

        missing = self.check_installed()
        if missing:
            raise DriverNotInstalled(self.provider, self.extra, missing)
        from mcinfra.drivers.azure.connection import AzureConnection

        return AzureConnection(info)
