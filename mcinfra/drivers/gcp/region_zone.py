"""Regions and their zones; zone status UP/DOWN -> Available/Unavailable."""

from __future__ import annotations

from mcinfra.core.handlers import RegionZoneHandler
from mcinfra.core.models import RegionZoneInfo, ZoneInfo, ZoneStatus
from mcinfra.drivers.gcp.client import GcpClient, last

_STATUS = {"UP": ZoneStatus.AVAILABLE, "DOWN": ZoneStatus.UNAVAILABLE}


class GcpRegionZoneHandler(RegionZoneHandler):
    def __init__(self, api: GcpClient) -> None:
        self.api = api

    def list(self) -> list[RegionZoneInfo]:
        api = self.api
        zones = {z.name: z for z in api.call("ZonesClient", "list", idempotent=True, project=api.project)}
        out = []
        for region in api.call("RegionsClient", "list", idempotent=True, project=api.project):
            infos = []
            for link in region.zones:
                z = zones.get(last(link))
                status = _STATUS.get(z.status, ZoneStatus.NOT_SUPPORTED) if z else ZoneStatus.NOT_SUPPORTED
                infos.append(ZoneInfo(name=last(link), display_name=last(link), status=status))
            out.append(
                RegionZoneInfo(
                    name=region.name,
                    display_name=region.description or region.name,
                    zones=infos,
                    extra={"status": region.status},
                )
            )
        return out
