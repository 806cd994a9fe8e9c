"""The GCP driver class. google.cloud.compute_v1 takes ~2 s to import, so it is imported only
by :meth:`GcpDriver.connect` (through the connection's modules), never here."""

from __future__ import annotations

import importlib.util

from mcinfra.core.handlers import Capabilities, CloudDriver, DriverSession, NameRules, SessionInfo


class GcpDriver(CloudDriver):
    provider = "gcp"
    extra = "gcp"

    def capabilities(self) -> Capabilities:
        return Capabilities(
            zone_based=True,
            vpc_cidr=True,
            keypair_objects=False,
            name_rules=NameRules(max_length=63, lowercase=True, separator="-"),
        )

    def check_installed(self) -> str | None:
        for module in ("google.cloud.compute_v1", "google.oauth2.service_account"):
            try:
                if importlib.util.find_spec(module) is None:
                    return f"{module} is not installed"
            except ModuleNotFoundError:
                return f"{module} is not installed"
        return None

    def connect(self, info: SessionInfo) -> DriverSession:
        from mcinfra.core.errors import DriverNotInstalled

        missing = self.check_installed()
        if missing:
            raise DriverNotInstalled(self.provider, self.extra, missing)
        from mcinfra.drivers.gcp.connection import GcpSession

        return GcpSession(info)
