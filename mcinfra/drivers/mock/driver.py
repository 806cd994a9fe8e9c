"""The mock driver: every handler, a seeded catalog, injectable latency and faults."""

from __future__ import annotations

from mcinfra.core.handlers import (
    Capabilities,
    CloudDriver,
    DriverSession,
    ImageHandler,
    KeyPairHandler,
    NLBHandler,
    PriceHandler,
    RegionZoneHandler,
    SecurityGroupHandler,
    SessionInfo,
    SpecHandler,
    VMHandler,
    VPCHandler,
)
from mcinfra.drivers.mock.catalog import MockImages, MockPrices, MockRegionZones, MockSpecs
from mcinfra.drivers.mock.client import MockClient
from mcinfra.drivers.mock.options import MockOptions


class MockSession(DriverSession):
    def __init__(self, info: SessionInfo, client: MockClient) -> None:
        super().__init__(info)
        self.client = client
        self.region = client.region
        self.zone = client.zone

    def vpcs(self) -> VPCHandler:
        from mcinfra.drivers.mock.vpc import MockVPCs

        return MockVPCs(self.client)

    def security_groups(self) -> SecurityGroupHandler:
        from mcinfra.drivers.mock.security_group import MockSecurityGroups

        return MockSecurityGroups(self.client)

    def keypairs(self) -> KeyPairHandler:
        from mcinfra.drivers.mock.keypair import MockKeyPairs

        return MockKeyPairs(self.client)

    def vms(self) -> VMHandler:
        from mcinfra.drivers.mock.vm import MockVMs

        return MockVMs(self.client)

    def nlbs(self) -> NLBHandler:
        from mcinfra.drivers.mock.nlb import MockNLBs

        return MockNLBs(self.client)

    def region_zones(self) -> RegionZoneHandler:
        return MockRegionZones()

    def images(self) -> ImageHandler:
        return MockImages(behaviour=self.client.behaviour)

    def specs(self) -> SpecHandler:
        return MockSpecs(self.region, self.client.behaviour)

    def prices(self) -> PriceHandler:
        return MockPrices(self.region, self.client.behaviour)


class MockDriver(CloudDriver):
    provider = "mock"
    extra = ""

    def capabilities(self) -> Capabilities:
        return Capabilities(kinds=Capabilities().kinds | {"price"}, nlb_scopes=frozenset({"REGION", "GLOBAL"}))

    def connect(self, info: SessionInfo) -> DriverSession:
        options = MockOptions.parse(self.provider, info.options)
        return MockSession(info, MockClient(info, options))
