"""The twin's catalogs. A twin VM runs the host's userland: an image is a label it carries."""

from __future__ import annotations

import platform

from mcinfra.core.errors import NotFound
from mcinfra.core.handlers import ImageHandler, RegionZoneHandler, SpecHandler
from mcinfra.core.models import IID, ImageInfo, RegionZoneInfo, SpecInfo, ZoneInfo

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
        price_per_hour=0.0,
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
