"""Regions (CVM DescribeRegions) and each region's zones (CVM DescribeZones, asked in that region)."""

from __future__ import annotations

from typing import Any

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import RegionZoneHandler
from mcinfra.core.models import RegionZoneInfo, ZoneInfo, ZoneStatus
from mcinfra.drivers.tencent.client import TencentClient

STATE = {"AVAILABLE": ZoneStatus.AVAILABLE, "UNAVAILABLE": ZoneStatus.UNAVAILABLE}


def zone_info(z: Any) -> ZoneInfo:
    return ZoneInfo(name=z.Zone, display_name=z.ZoneName or z.Zone,
                    status=STATE.get(z.ZoneState, ZoneStatus.NOT_SUPPORTED), extra={"zone_id": z.ZoneId})


def region_info(r: Any, zones: list[Any]) -> RegionZoneInfo:
    return RegionZoneInfo(name=r.Region, display_name=r.RegionName or r.Region,
                          zones=[zone_info(z) for z in zones], extra={"state": r.RegionState})


class TencentRegionZoneHandler(RegionZoneHandler):
    def __init__(self, api: TencentClient) -> None:
        self.api = api

    def _zones(self, region: str) -> list[Any]:
        return list(self.api.call("cvm", "DescribeZones", {}, idempotent=True, region=region).ZoneSet or [])

    def list(self) -> list[RegionZoneInfo]:
        regions = self.api.call("cvm", "DescribeRegions", {}, idempotent=True).RegionSet or []
        # an unavailable region answers DescribeZones with UnsupportedRegion: list it without zones
        return [region_info(r, self._zones(r.Region) if r.RegionState == "AVAILABLE" else []) for r in regions]

    def get(self, name: str) -> RegionZoneInfo:
        regions = self.api.call("cvm", "DescribeRegions", {}, idempotent=True).RegionSet or []
        for r in regions:
            if r.Region == name:
                return region_info(r, self._zones(name) if r.RegionState == "AVAILABLE" else [])
        raise NotFound(f"[tencent] region {name!r} not found")
