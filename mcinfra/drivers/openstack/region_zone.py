"""Regions from Keystone; zones from Nova's availability zones (of the connected region)."""

from __future__ import annotations

from mcinfra.core.handlers import RegionZoneHandler
from mcinfra.core.models import RegionZoneInfo, ZoneInfo, ZoneStatus
from mcinfra.drivers.openstack.client import OpenStackClient


class OpenStackRegionZoneHandler(RegionZoneHandler):
    def __init__(self, client: OpenStackClient) -> None:
        self.client = client

    def list(self) -> list[RegionZoneInfo]:
        regions = self.client.list("regions", self.client.identity.regions)
        # Nova answers for the region the connection is in; other regions' zones need their endpoint
        zones = [
            ZoneInfo(
                name=z.name,
                display_name=z.name,
                status=ZoneStatus.AVAILABLE if (z.state or {}).get("available") else ZoneStatus.UNAVAILABLE,
            )
            for z in self.client.list("availability zones", self.client.compute.availability_zones)
        ]
        return [
            RegionZoneInfo(
                name=r.id,
                display_name=r.description or r.id,
                zones=zones if r.id == self.client.region else [],
                extra={"parent_region_id": r.parent_region_id},
            )
            for r in regions
        ]
