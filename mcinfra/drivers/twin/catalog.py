"""The twin's catalogs. A twin VM runs the host's userland: an image is a label it carries.

The twin costs nothing to run, but it publishes a fixed, documented price table (docs/twin.md)
so that price-aware code (catalog search, "cheapest spec") can be exercised against it: a
spec's price is ``vCPUs * PRICE_PER_VCPU_HOUR + GiB * PRICE_PER_GIB_HOUR`` in USD.
"""

from __future__ import annotations

import platform

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import ImageHandler, PriceHandler, RegionZoneHandler, SpecHandler
from mcinfra.core.models import IID, ImageInfo, PriceInfo, RegionZoneInfo, SpecInfo, ZoneInfo

ROOT_DISK_GB = 10
#: Regions listed besides the connection's own; any region name works (the state is per name).
KNOWN_REGIONS = ("twin-1", "twin-2")
ZONE_SUFFIXES = ("a", "b", "c")

IMAGES = {
    "ubuntu-22.04": "Ubuntu 22.04 LTS (label: runs the host's userland)",
    "ubuntu-24.04": "Ubuntu 24.04 LTS (label: runs the host's userland)",
    "debian-12": "Debian 12 (label: runs the host's userland)",
}

#: name -> (vCPUs, memory MiB); not enforced: every VM shares the host's CPUs and memory.
SPECS = {
    "twin.nano": (1, 512),
    "twin.small": (1, 2048),
    "twin.medium": (2, 4096),
    "twin.large": (2, 8192),
}

#: the twin's price table (USD per hour), derived from each spec's size; see docs/twin.md
PRICE_PER_VCPU_HOUR = 0.01
PRICE_PER_GIB_HOUR = 0.005
PRICE_SOURCE = "twin-table"


def price_of(name: str) -> float:
    """The twin's fixed on-demand price of a spec (USD per hour)."""
    vcpus, mem = SPECS[name]
    return round(vcpus * PRICE_PER_VCPU_HOUR + mem / 1024 * PRICE_PER_GIB_HOUR, 6)


def zones_of(region: str) -> list[str]:
    return [f"{region}-{s}" for s in ZONE_SUFFIXES]


def find_image(name: str) -> ImageInfo:
    if name not in IMAGES:
        raise NotFound(f"twin image {name!r} not found; images: {', '.join(sorted(IMAGES))}")
    return ImageInfo(
        iid=IID(name_id=name, system_id=name),
        name=name,
        os_architecture=platform.machine() or "x86_64",
        os_platform="Linux/UNIX",
        os_distribution=IMAGES[name],
        os_disk_type="local",
        os_disk_size_gb=ROOT_DISK_GB,
    )


def find_spec(name: str, region: str = "") -> SpecInfo:
    if name not in SPECS:
        raise NotFound(f"twin spec {name!r} not found; specs: {', '.join(sorted(SPECS))}")
    vcpus, mem = SPECS[name]
    return SpecInfo(
        name=name,
        region=region,
        vcpus=vcpus,
        memory_mib=mem,
        disk_gb=ROOT_DISK_GB,
        architecture=platform.machine() or "x86_64",
        price_per_hour=price_of(name),
    )


class TwinRegionZoneHandler(RegionZoneHandler):
    def __init__(self, region: str) -> None:
        self.region = region

    def list(self) -> list[RegionZoneInfo]:
        names = dict.fromkeys([self.region, *KNOWN_REGIONS])
        return [
            RegionZoneInfo(
                name=r,
                display_name=f"Twin {r}",
                zones=[ZoneInfo(name=z, display_name=z) for z in zones_of(r)],
            )
            for r in names
        ]


class TwinImageHandler(ImageHandler):
    def list(self) -> list[ImageInfo]:
        return [find_image(n) for n in IMAGES]

    def get(self, name: str) -> ImageInfo:
        return find_image(name)


class TwinSpecHandler(SpecHandler):
    def __init__(self, region: str) -> None:
        self.region = region

    def list(self) -> list[SpecInfo]:
        return [find_spec(n, self.region) for n in SPECS]

    def get(self, name: str) -> SpecInfo:
        return find_spec(name, self.region)


class TwinPriceHandler(PriceHandler):
    """The twin's fixed price table, the same in every twin region."""

    def __init__(self, region: str) -> None:
        self.region = region

    def _price(self, name: str) -> PriceInfo:
        vcpus, mem = SPECS[name]
        return PriceInfo(spec=name, region=self.region, price_per_hour=price_of(name), currency="USD",
                         source=PRICE_SOURCE, extra={"vcpus": vcpus, "memory_mib": mem})

    def list(self) -> list[PriceInfo]:
        return [self._price(n) for n in SPECS]

    def get(self, name: str) -> PriceInfo:
        if name not in SPECS:
            raise NotFound(f"twin has no price for spec {name!r}; specs: {', '.join(sorted(SPECS))}")
        return self._price(name)
