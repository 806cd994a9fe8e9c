"""Regions and their availability zones, with each zone's status."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from mcinfra.core.handlers import RegionZoneHandler
from mcinfra.core.models import RegionZoneInfo, ZoneInfo, ZoneStatus
from mcinfra.drivers.aws.client import AwsClient

_ZONE_STATUS = {
    "available": ZoneStatus.AVAILABLE,
    "impaired": ZoneStatus.UNAVAILABLE,
    "unavailable": ZoneStatus.UNAVAILABLE,
    "information": ZoneStatus.AVAILABLE,
}


class AwsRegionZoneHandler(RegionZoneHandler):
    def __init__(self, client: AwsClient) -> None:
        self.api = client

    def _zones(self, region: str) -> list[ZoneInfo]:
        azs = self.api.call("ec2", "describe_availability_zones", what=f"region {region} zones", region=region)[
            "AvailabilityZones"
        ]
        return [
            ZoneInfo(
                name=z["ZoneName"],
                display_name=z["ZoneName"],
                status=_ZONE_STATUS.get(z.get("State", ""), ZoneStatus.NOT_SUPPORTED),
                extra={"zone_id": z.get("ZoneId"), "zone_type": z.get("ZoneType")},
            )
            for z in azs
        ]

    def _info(self, r: dict[str, Any]) -> RegionZoneInfo:
        name = r["RegionName"]
        opt_in = r.get("OptInStatus", "opt-in-not-required")
        # A region the account has not opted into answers AuthFailure for its zones.
        zones = self._zones(name) if opt_in != "not-opted-in" else []
        return RegionZoneInfo(
            name=name,
            display_name=name,
            zones=zones,
            extra={"endpoint": r.get("Endpoint"), "opt_in_status": opt_in},
        )

    def list(self) -> list[RegionZoneInfo]:
        regions = self.api.call("ec2", "describe_regions", what="regions")["Regions"]
        # One zone call per region (~30): run them side by side.
        with ThreadPoolExecutor(max_workers=8) as pool:
            return sorted(pool.map(self._info, regions), key=lambda r: r.name)

    def get(self, name: str) -> RegionZoneInfo:
        found = self.api.describe("ec2", "describe_regions", "Regions", what=f"region {name!r}",
                                not_found_codes=("InvalidParameterValue", "InvalidRegion"),
                                RegionNames=[name], AllRegions=True)
        return self._info(found)
