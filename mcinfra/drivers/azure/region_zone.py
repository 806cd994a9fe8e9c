"""Regions = the subscription's locations (``subscriptions.list_locations``); zones are the
logical availability zones ``1``, ``2``, ``3`` of a location's ``availabilityZoneMappings``
(a location without zones has none)."""

from __future__ import annotations

from typing import Any

from mcinfra.core.handlers import RegionZoneHandler
from mcinfra.core.models import RegionZoneInfo, ZoneInfo
from mcinfra.drivers.azure.client import AzureClient, text


def region_info(loc: Any) -> RegionZoneInfo:
    mappings = loc.availability_zone_mappings or []
    zones = sorted({m.logical_zone for m in mappings if m.logical_zone})
    physical = {m.logical_zone: m.physical_zone for m in mappings}
    return RegionZoneInfo(name=loc.name, display_name=loc.display_name or loc.name,
                          zones=[ZoneInfo(name=z, display_name=physical.get(z) or z) for z in zones],
                          extra={"regional_display_name": loc.regional_display_name or ""})


class AzureRegionZoneHandler(RegionZoneHandler):
    def __init__(self, api: AzureClient) -> None:
        self.api = api

    def list(self) -> list[RegionZoneInfo]:
        locs = self.api.call("subscriptions", "subscriptions.list_locations", self.api.subscription, idempotent=True)
        return [region_info(loc) for loc in locs if text(getattr(loc, "type", None)) != "EdgeZone"]
