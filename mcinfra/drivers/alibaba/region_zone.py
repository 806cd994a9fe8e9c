"""Regions and zones: ECS ``DescribeRegions`` and ``DescribeZones`` (zones per region)."""

from __future__ import annotations

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import RegionZoneHandler
from mcinfra.core.models import RegionZoneInfo, ZoneInfo
from mcinfra.drivers.alibaba.client import PROVIDER, AliClient


class AliRegionZoneHandler(RegionZoneHandler):
    def __init__(self, api: AliClient) -> None:
        self.api = api

    def _zones(self, region: str) -> list[ZoneInfo]:
        body = self.api.read("ecs", "DescribeZones", region_id=region, verbose=False)
        return [
            ZoneInfo(name=z.zone_id, display_name=z.local_name or z.zone_id)
            for z in (body.zones.zone or [] if body.zones else [])
        ]

    def _regions(self) -> list[tuple[str, str]]:
        body = self.api.read("ecs", "DescribeRegions")
        return [(r.region_id, r.local_name or r.region_id) for r in (body.regions.region or [] if body.regions else [])]

    def list(self) -> list[RegionZoneInfo]:
        return [RegionZoneInfo(name=r, display_name=n, zones=self._zones(r)) for r, n in self._regions()]

    def get(self, name: str) -> RegionZoneInfo:
        for region, display in self._regions():
            if region == name:
                return RegionZoneInfo(name=region, display_name=display, zones=self._zones(region))
        raise NotFound(f"[{PROVIDER}] region {name!r} not found")
